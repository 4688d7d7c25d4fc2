#!/usr/bin/env bash
# test_http_routes: `goscope http -p PID` counts and times requests per
# route (method and URL path) on a Go 1.19 net/http server and on caddy.
#
# Target 1: tests/go/httproutes, which times each request itself
# (time.Since in a middleware in front of its mux). Truths: the client's
# own record of what it sent and got (tests/e2e/http_routes_load.py) and
# the server's own counts and medians: per route the request count exact
# (GET /fast 200, GET /sleep5 60, POST /sleep5 20, 30 distinct GET
# /sleep20/N: with --routes 5 the 5 busiest shown and the rest in one row
# whose count is the remainder), medians within 10% (or 300 us) of the
# server's own; the 3 GET /panic requests (the handler panics, net/http
# recovers) counted as unwound, not timed. --slow 15: exactly the 30
# /sleep20/ requests, each with its path.
# Target 2: Debian's caddy serving a file: 300 GET /index.html (200, the
# file's content) and 50 GET /missing (404), counted exactly per route.
# Target 3: Debian's prometheus (no scrape job): 100 GET /-/healthy and 50
# GET /api/v1/status/buildinfo, counted exactly per route.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/funclat_lib.sh"
LOAD() { "$PYTHON" "$E2E_DIR/http_routes_load.py" "$@"; }

need_go
go_build "$TMP/httproutes" httproutes || die "go build tests/go/httproutes"
fl_spawn_rt "$TMP/hr.out" "$TMP/hr.err" "$TMP/httproutes"
hr=$SPAWN_PID
wait_line "$TMP/hr.out" '^httproutes: listening' "$hr" 30 || die "httproutes did not start"
addr=$(sed -n 's/^httproutes: listening on //p' "$TMP/hr.out")

# http_start OUT ARGS...: goscope http ARGS in the background (ready line waited for).
http_start() {
	local out=$1
	shift
	"$GOSCOPE" http "$@" >"$out" 2>"$out.err" &
	GS_PID=$!
	wait_line "$out.err" '^goscope: tracing' "$GS_PID" 60
}

if http_start "$TMP/routes.json" -p "$hr" --json --routes 5 --slow 15; then
	check_v "the client: every response right while traced" \
		LOAD "http://$addr" GET:/fast:200:fast GET:/sleep5:60:sleep5 POST:/sleep5:20:sleep5 \
		'GET:/sleep20/*:30:sleep20' 'GET:/panic:3:!'
	gs_stop
	expect_eq "goscope http --json: exit status" "$GS_RC" 0
	kill -USR2 "$hr"
	wait_line "$TMP/hr.out" '^httproutes: truth' "$hr" 10 || fail "no truth line"
	check_v "per-route counts exact, medians vs the server's own, /panic unwound, --routes 5 + rest, --slow" \
		"$PYTHON" - "$TMP/routes.json" "$TMP/hr.out" <<'PY'
import json, sys, jstream
objs = jstream.load(sys.argv[1])
truth = None
for line in open(sys.argv[2]):
    if line.startswith("httproutes: truth "):
        truth = json.loads(line[len("httproutes: truth "):])
rows = {f"{o['method']} {o['path']}": o for o in objs if o.get("type") == "route"}
summ = [o for o in objs if o.get("type") == "summary"][-1]
slow = [o for o in objs if o.get("type") == "slow"]
ok = True
def chk(cond, msg):
    global ok
    print(("ok   " if cond else "BAD  ") + msg)
    ok = ok and cond
for key, n in (("GET /fast", 200), ("GET /sleep5", 60), ("POST /sleep5", 20)):
    r, t = rows.get(key), truth.get(key)
    chk(r is not None and r["count"] == n == t["n"], f"{key}: {r and r['count']} requests, server {t['n']}, sent {n}")
    if r:
        tol = max(0.10 * t["p50_us"], 300)
        chk(abs(r["p50_us"] - t["p50_us"]) <= tol, f"{key}: p50 {r['p50_us']:.0f} us vs the server's {t['p50_us']:.0f} us")
s20 = [k for k in rows if k.startswith("GET /sleep20/")]
other = rows.get(" (other routes)")
shown = sum(rows[k]["count"] for k in s20)
chk(len(rows) == 6 and other is not None, f"--routes 5: {len(rows)} rows (5 + the rest)")
total_truth = sum(v["n"] for k, v in truth.items())
chk(summ["requests"] == total_truth == 310, f"requests {summ['requests']}, server {total_truth}, sent 310 (+3 panics)")
chk(other is not None and other["count"] == summ["requests"] - sum(r["count"] for k, r in rows.items() if k != " (other routes)"),
    f"the rest row: {other and other['count']} requests")
chk(summ["routes"] == 33, f"routes seen: {summ['routes']} (3 + 30 distinct /sleep20/N)")
chk(summ["unwound"] == 3, f"unwound (panicking handler): {summ['unwound']}")
# Every /sleep20/N request is slow; on a busy machine a 5 ms one may be too.
s20ev = sorted(e["path"] for e in slow if e["path"].startswith("/sleep20/"))
chk(len(s20ev) == 30 and len(set(s20ev)) == 30 and all(e["dur_us"] >= 15000 for e in slow) and
    all(f"{e['method']} {e['path']}" in truth for e in slow),
    f"--slow 15: {len(s20ev)} events for the 30 /sleep20/N requests, one each, all >= 15 ms "
    f"({len(slow) - len(s20ev)} other slow requests)")
chk(summ["drops"] == 0, f"drops {summ['drops']}")
sys.exit(0 if ok else 1)
PY
else
	fail "goscope http did not start: $(tail -3 "$TMP/routes.json.err")"
fi
kill -0 "$hr" 2>/dev/null && pass "httproutes survived" || fail "httproutes died"

if [ -x /usr/bin/caddy ]; then
	mkdir -p "$TMP/www"
	printf 'goscope http e2e' >"$TMP/www/index.html"
	port=$(free_port)
	spawn "$TMP/caddy.out" "$TMP/caddy.err" env HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home" \
		XDG_DATA_HOME="$TMP/home" /usr/bin/caddy file-server --listen "127.0.0.1:$port" --root "$TMP/www"
	caddy=$SPAWN_PID
	if wait_port 127.0.0.1 "$port" "$caddy" && http_start "$TMP/caddy.json" -p "$caddy" --json; then
		check_v "caddy: every response right while traced" \
			LOAD "http://127.0.0.1:$port" 'GET:/index.html:300:goscope http e2e' GET:/missing:50
		gs_stop
		expect_eq "goscope http -p caddy: exit status" "$GS_RC" 0
		check "caddy: GET /index.html 300 and GET /missing 50, nothing else" "$PYTHON" -c '
import sys, jstream
rows = {o["method"] + " " + o["path"]: o["count"] for o in jstream.load(sys.argv[1]) if o.get("type") == "route"}
print(rows)
sys.exit(0 if rows == {"GET /index.html": 300, "GET /missing": 50} else 1)' "$TMP/caddy.json"
	else
		fail "caddy or goscope http did not start: $(tail -2 "$TMP/caddy.err" "$TMP/caddy.json.err" 2>/dev/null)"
	fi
fi

if [ -x /usr/bin/prometheus ]; then
	# No scrape job: the only requests are the client's.
	printf 'global:\n  scrape_interval: 1h\n' >"$TMP/prom.yml"
	port=$(free_port)
	spawn "$TMP/prom.out" "$TMP/prom.err" /usr/bin/prometheus --config.file="$TMP/prom.yml" \
		--storage.tsdb.path="$TMP/promdata" --web.listen-address="127.0.0.1:$port"
	prom=$SPAWN_PID
	if wait_port 127.0.0.1 "$port" "$prom" && http_start "$TMP/prom.json" -p "$prom" --json; then
		check_v "prometheus: every response right while traced" \
			LOAD "http://127.0.0.1:$port" GET:/-/healthy:100 GET:/api/v1/status/buildinfo:50
		gs_stop
		expect_eq "goscope http -p prometheus: exit status" "$GS_RC" 0
		check "prometheus: GET /-/healthy 100 and GET /api/v1/status/buildinfo 50, nothing else" "$PYTHON" -c '
import sys, jstream
rows = {o["method"] + " " + o["path"]: o["count"] for o in jstream.load(sys.argv[1]) if o.get("type") == "route"}
print(rows)
sys.exit(0 if rows == {"GET /-/healthy": 100, "GET /api/v1/status/buildinfo": 50} else 1)' "$TMP/prom.json"
	else
		fail "prometheus or goscope http did not start: $(tail -2 "$TMP/prom.err" "$TMP/prom.json.err" 2>/dev/null)"
	fi
fi
finish
