#!/usr/bin/env bash
# test_http_status: `goscope http` counts each route's requests by response
# status code, read at the RET of net/http.serverHandler.ServeHTTP from the
# *net/http.response (offsets from DWARF, or the per-release table, checked
# on every response).
#
# Truth: the client's own record of the status of every response it got
# (tests/e2e/http_routes_load.py, "codes").
# - tests/go/httproutes (Go 1.19, DWARF): GET /code/200 x120, /code/404 x40,
#   /code/500 x25, one route /mix with 30 x 200, 20 x 404, 10 x 500
#   (?c=N), /slowcode/503 x5 (each also a --slow event with status 503),
#   and /empty x30 (the handler writes nothing: goscope says "none", the
#   client got net/http's 200). Per route the counts are exactly the
#   client's; no response fails the layout check (status_bad 0), nothing
#   "unknown". Then the same binary stripped (-s -w: the table's offsets).
# - the same server over TLS: 20 GET /code/404 over HTTP/2 (curl --http2:
#   net/http's HTTP/2 writer is not a *http.response: "unknown", never a
#   number) and 10 GET /code/500 over HTTP/1.1 (500), curl's own record.
# - esbuild --serve built with Go 1.17 ... 1.26 (stripped: the table): 30
#   GET /index.html (200) and 10 GET /missing.html (404), exact.
# - Debian's caddy (Go 1.19, stripped): 60 x 200 and 20 x 404, exact.
# - Debian's prometheus (stripped; its handlers wrap the writer below
#   serverHandler): 40 GET /-/healthy (200), 10 GET /api/v1/nothing (404),
#   10 GET /api/v1/query with no query (400), exact.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/funclat_lib.sh"
LOAD() { "$PYTHON" "$E2E_DIR/http_routes_load.py" "$@"; }

http_start() {
	local out=$1
	shift
	"$GOSCOPE" http "$@" >"$out" 2>"$out.err" &
	GS_PID=$!
	wait_line "$out.err" '^goscope: tracing' "$GS_PID" 60
}

# compare NAME GOSCOPE_JSON CLIENT_JSON: per route (method, path without
# the query), goscope's status counts equal the client's codes ("none" is
# the client's 200); status_bad 0 and no "unknown".
compare() {
	check_v "$1: status counts per route = the client's" "$PYTHON" - "$2" "$3" <<'PY'
import json, sys, jstream
objs = jstream.load(sys.argv[1])
client = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
want = {}
for key, e in client.items():
    route = key.split("?")[0]
    d = want.setdefault(route, {})
    for c, n in e["codes"].items():
        d[c] = d.get(c, 0) + n
got = {}
for o in objs:
    if o.get("type") == "route":
        d = got.setdefault(f"{o['method']} {o['path']}", {})
        for c, n in o["status"].items():
            d[c] = d.get(c, 0) + n
summ = [o for o in objs if o.get("type") == "summary"][-1]
ok = True
for route in sorted(set(want) | set(got)):
    w, g = want.get(route, {}), dict(got.get(route, {}))
    if "none" in g:  # the handler wrote nothing: net/http sent 200
        g["200"] = g.get("200", 0) + g.pop("none")
    good = w == g
    print(("ok   " if good else "BAD  ") + f"{route}: goscope {got.get(route)} client {w}")
    ok = ok and good
print(f"status_bad {summ['status_bad']} status_drops {summ['status_drops']}")
sys.exit(0 if ok and summ["status_bad"] == 0 and summ["status_drops"] == 0 else 1)
PY
}

need_go
go_build "$TMP/httproutes" httproutes || die "go build tests/go/httproutes"
go_build "$TMP/httproutes-stripped" httproutes -ldflags='-s -w' ||
	die "go build -ldflags='-s -w' tests/go/httproutes"
for bin in httproutes httproutes-stripped; do
	spawn "$TMP/$bin.out" "$TMP/$bin.srv.err" "$TMP/$bin"
	hr=$SPAWN_PID
	wait_line "$TMP/$bin.out" '^httproutes: listening' "$hr" 30 || die "$bin did not start"
	addr=$(sed -n 's/^httproutes: listening on //p' "$TMP/$bin.out")
	if http_start "$TMP/$bin.json" -p "$hr" --json --routes 50 --slow 15; then
		src=$(grep -o 'status codes: [a-z ]*' "$TMP/$bin.json.err")
		want=dwarf
		[ "$bin" = httproutes-stripped ] && want=table
		case $src in
		*"$want"*) pass "$bin: $src" ;;
		*) fail "$bin: '$src' (want $want)" ;;
		esac
		LOAD "http://$addr" GET:/code/200:120:code 'GET:/code/404:40:*' 'GET:/code/500:25:*' \
			'GET:/mix?c=200:30:*' 'GET:/mix?c=404:20:*' 'GET:/mix?c=500:10:*' \
			'GET:/slowcode/503:5:*' 'GET:/empty:30:*' >"$TMP/$bin.client" &&
			pass "$bin: the client got every response: $(cat "$TMP/$bin.client")" ||
			fail "$bin: the client: $(cat "$TMP/$bin.client")"
		gs_stop
		expect_eq "$bin: goscope http exit status" "$GS_RC" 0
		compare "$bin" "$TMP/$bin.json" "$TMP/$bin.client"
		check_v "$bin: --slow 15: the 5 /slowcode/503 requests with status 503" "$PYTHON" -c '
import sys, jstream
ev = [o for o in jstream.load(sys.argv[1]) if o.get("type") == "slow" and o["path"] == "/slowcode/503"]
print([e["status"] for e in ev])
sys.exit(0 if len(ev) == 5 and all(e["status"] == "503" for e in ev) else 1)' "$TMP/$bin.json"
	else
		fail "$bin: goscope http did not start: $(tail -3 "$TMP/$bin.json.err")"
	fi
	kill -0 "$hr" 2>/dev/null && pass "$bin survived" || fail "$bin died"
	kill "$hr" 2>/dev/null
done

spawn "$TMP/tls.out" "$TMP/tls.err" "$TMP/httproutes" -tls
tp=$SPAWN_PID
wait_line "$TMP/tls.out" '^httproutes: tls on' "$tp" 30 || die "httproutes -tls did not start"
taddr=$(sed -n 's/^httproutes: tls on //p' "$TMP/tls.out")
if http_start "$TMP/tls.json" -p "$tp" --json; then
	# N requests for PATH on one connection, each body thrown away (-o per URL).
	urls() { for _ in $(seq "$1"); do printf -- '-o /dev/null https://%s%s\n' "$taddr" "$2"; done; }
	# shellcheck disable=SC2046 # words on purpose
	curl -sk --http2 -w '%{http_version} %{http_code}\n' $(urls 20 /code/404) >"$TMP/h2.codes"
	# shellcheck disable=SC2046
	curl -sk --http1.1 -w '%{http_version} %{http_code}\n' $(urls 10 /code/500) >"$TMP/h1.codes"
	gs_stop
	expect_eq "tls: goscope http exit status" "$GS_RC" 0
	expect_eq "curl: 20 HTTP/2 responses 404" "$(grep -c '^2 404$' "$TMP/h2.codes")" 20
	expect_eq "curl: 10 HTTP/1.1 responses 500" "$(grep -c '^1.1 500$' "$TMP/h1.codes")" 10
	check_v "tls: HTTP/2 requests counted with status unknown, HTTP/1.1 ones with 500" "$PYTHON" -c '
import sys, jstream
rows = {o["method"] + " " + o["path"]: (o["count"], o["status"]) for o in jstream.load(sys.argv[1]) if o.get("type") == "route"}
print(rows)
sys.exit(0 if rows == {"GET /code/404": (20, {"unknown": 20}), "GET /code/500": (10, {"500": 10})} else 1)' "$TMP/tls.json"
else
	fail "tls: goscope http did not start: $(tail -3 "$TMP/tls.json.err")"
fi
kill "$tp" 2>/dev/null

mkdir -p "$TMP/www"
printf 'goscope http status e2e' >"$TMP/www/index.html"
for v in 0.13.15 0.14.49 0.17.19 0.22.0 0.23.1 0.25.12 0.27.7 0.28.2; do
	es=$TESTBINS/esbuild-$v/esbuild
	[ -x "$es" ] || continue
	gover=$("$GOSCOPE" info "$es" 2>/dev/null | sed -n 's/^go version: *\(go[0-9.]*\).*/\1/p')
	port=$(free_port)
	spawn "$TMP/es$v.out" "$TMP/es$v.err" "$es" --serve="127.0.0.1:$port" --servedir="$TMP/www"
	pid=$SPAWN_PID
	if ! wait_port 127.0.0.1 "$port" "$pid"; then
		fail "esbuild $v not serving: $(tail -2 "$TMP/es$v.err")"
		continue
	fi
	name="esbuild-$v ($gover)"
	if http_start "$TMP/es$v.json" -p "$pid" --json; then
		LOAD "http://127.0.0.1:$port" 'GET:/index.html:30:*' 'GET:/missing.html:10:*' >"$TMP/es$v.client"
		gs_stop
		expect_eq "$name: goscope http exit status" "$GS_RC" 0
		compare "$name" "$TMP/es$v.json" "$TMP/es$v.client"
	else
		fail "$name: goscope http did not start: $(tail -3 "$TMP/es$v.json.err")"
	fi
	kill "$pid" 2>/dev/null
done

if [ -x /usr/bin/caddy ]; then
	port=$(free_port)
	spawn "$TMP/caddy.out" "$TMP/caddy.err" env HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home" \
		XDG_DATA_HOME="$TMP/home" /usr/bin/caddy file-server --listen "127.0.0.1:$port" --root "$TMP/www"
	caddy=$SPAWN_PID
	if wait_port 127.0.0.1 "$port" "$caddy" && http_start "$TMP/caddy.json" -p "$caddy" --json; then
		LOAD "http://127.0.0.1:$port" 'GET:/index.html:60:*' 'GET:/missing:20:*' >"$TMP/caddy.client"
		gs_stop
		expect_eq "caddy: goscope http exit status" "$GS_RC" 0
		compare caddy "$TMP/caddy.json" "$TMP/caddy.client"
	else
		fail "caddy or goscope http did not start: $(tail -2 "$TMP/caddy.err" "$TMP/caddy.json.err" 2>/dev/null)"
	fi
fi
if [ -x /usr/bin/prometheus ]; then
	printf 'global:\n  scrape_interval: 1h\n' >"$TMP/prom.yml"
	port=$(free_port)
	spawn "$TMP/prom.out" "$TMP/prom.err" /usr/bin/prometheus --config.file="$TMP/prom.yml" \
		--storage.tsdb.path="$TMP/promdata" --web.listen-address="127.0.0.1:$port"
	prom=$SPAWN_PID
	if wait_port 127.0.0.1 "$port" "$prom" 60 && http_start "$TMP/prom.json" -p "$prom" --json; then
		LOAD "http://127.0.0.1:$port" 'GET:/-/healthy:40:*' 'GET:/api/v1/nothing:10:*' \
			'GET:/api/v1/query:10:*' >"$TMP/prom.client"
		gs_stop
		expect_eq "prometheus: goscope http exit status" "$GS_RC" 0
		compare prometheus "$TMP/prom.json" "$TMP/prom.client"
	else
		fail "prometheus or goscope http did not start: $(tail -2 "$TMP/prom.err" "$TMP/prom.json.err" 2>/dev/null)"
	fi
fi
finish
