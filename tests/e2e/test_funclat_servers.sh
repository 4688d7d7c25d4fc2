#!/usr/bin/env bash
# test_funclat_servers: `goscope funclat` on released, stripped Go servers:
# esbuild --serve built with Go 1.17 to 1.26 (scripts/testbins.sh) and
# Debian's caddy (Go 1.19, cgo), with probes on their HTTP handlers while a
# client sends a known number of requests.
#
# Truths: the client's own count of requests, each answered 200 with the
# served file's exact content (tests/e2e/http_count.py). Per server: the
# handler functions (net/http.serverHandler.ServeHTTP and the server's own
# handler) are counted exactly once per request and every call is timed
# (none unwound); esbuild's net/http.(*conn).serve once per connection (a
# new connection per request); caddy also carries probes on every
# net/http.(*conn) method, and the same probes stay on for 10 s of wrk
# (wrk's own count of responses, none non-2xx, no socket error). Every
# response stays correct while probed, and the server still serves after
# goscope detaches.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/funclat_lib.sh"

BODY="goscope funclat e2e"
mkdir -p "$TMP/www"
printf '%s' "$BODY" >"$TMP/www/index.html"
HTTPC() { "$PYTHON" "$E2E_DIR/http_count.py" "$@"; }

# probe_round NAME PID URL N THREADS CLIENT_OPTS PATTERNS...: goscope
# funclat --json around exactly N requests; checks the client and the
# counts of the first two patterns (= N each); stores goscope's JSON in
# $TMP/NAME.json.
probe_round() {
	local name=$1 pid=$2 url=$3 n=$4 threads=$5 copts=$6 out
	shift 6
	out=$TMP/$name.json
	if ! gs_start "$out" -p "$pid" --json "$@"; then
		fail "$name: goscope funclat did not start: $(tail -2 "$out.err")"
		return 1
	fi
	check_v "$name: $n requests all answered right while probed" HTTPC "$url" "$n" "$threads" "$BODY" $copts
	gs_stop
	expect_eq "$name: goscope exit status" "$GS_RC" 0
	"$PYTHON" - "$out" "$n" "$1" "$2" <<'PY' && pass "$name: $1 and $2 counted and timed $n times, none unwound" || fail "$name: counts"
import sys, jstream
path, n, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = {}
for o in jstream.load(path):
    if o.get("type") == "func":
        rows[o["func"]] = o
ok = True
for pat in names:
    import fnmatch
    hits = [r for f, r in rows.items() if f == pat or fnmatch.fnmatchcase(f, pat)]
    if len(hits) != 1:
        print(f"  {pat}: {len(hits)} rows"); ok = False; continue
    r = hits[0]
    print(f"  {r['func']}: count {r['count']} timed {r['timed']} unwound {r['unwound']} p50 {r['p50_us']} us")
    ok = ok and r["count"] == n and r["timed"] == n and r["unwound"] == 0
sys.exit(0 if ok else 1)
PY
}

tested=0
for v in 0.13.15 0.17.19 0.22.0 0.25.12 0.27.7 0.28.2; do
	es=$TESTBINS/esbuild-$v/esbuild
	[ -x "$es" ] || continue
	tested=$((tested + 1))
	gover=$("$GOSCOPE" info "$es" 2>/dev/null | sed -n 's/^go version: *\(go[0-9.]*\).*/\1/p')
	port=$(free_port)
	spawn "$TMP/es$v.out" "$TMP/es$v.err" "$es" --serve="127.0.0.1:$port" --servedir="$TMP/www"
	pid=$SPAWN_PID
	if ! wait_port 127.0.0.1 "$port" "$pid"; then
		fail "esbuild $v not serving: $(tail -2 "$TMP/es$v.err")"
		continue
	fi
	url=http://127.0.0.1:$port/index.html
	probe_round "esbuild-$v ($gover)" "$pid" "$url" 40 2 --close \
		net/http.serverHandler.ServeHTTP '*.(*apiHandler).ServeHTTP' 'net/http.(*conn).serve'
	check "esbuild-$v: (*conn).serve once per connection (40)" \
		"$PYTHON" -c 'import sys,jstream; r=[o for o in jstream.load(sys.argv[1]) if o.get("func")=="net/http.(*conn).serve"]; sys.exit(0 if r and r[0]["count"]==40 else 1)' \
		"$TMP/esbuild-$v ($gover).json"
	check "esbuild-$v: still serving after goscope detached" HTTPC "$url" 5 1 "$BODY"
	kill "$pid"
done
[ $tested -gt 0 ] || log "no esbuild test binaries (scripts/testbins.sh): esbuild skipped"

if [ -x /usr/bin/caddy ]; then
	port=$(free_port)
	spawn "$TMP/caddy.out" "$TMP/caddy.err" env HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home" \
		XDG_DATA_HOME="$TMP/home" /usr/bin/caddy file-server --listen "127.0.0.1:$port" --root "$TMP/www"
	caddy=$SPAWN_PID
	if wait_port 127.0.0.1 "$port" "$caddy"; then
		url=http://127.0.0.1:$port/index.html
		probe_round caddy "$caddy" "$url" 2000 4 "" \
			net/http.serverHandler.ServeHTTP '*/fileserver.(*FileServer).ServeHTTP' 'net/http.(*conn).*'
		# Under wrk for 10 s with the same probes: no error, no non-2xx
		# response, and the handler counted once per request wrk completed
		# (plus at most one in flight per connection when wrk stops).
		if command -v wrk >/dev/null && gs_start "$TMP/wrk.json" -p "$caddy" --json \
			net/http.serverHandler.ServeHTTP 'net/http.(*conn).*'; then
			wrk -t2 -c16 -d10s "$url" >"$TMP/wrk.txt" 2>&1
			gs_stop
			reqs=$(awk '/requests in/ { print $1 }' "$TMP/wrk.txt")
			count=$("$PYTHON" -c 'import sys,jstream; print([o for o in jstream.load(sys.argv[1]) if o.get("func")=="net/http.serverHandler.ServeHTTP"][0]["count"])' "$TMP/wrk.json")
			if [ -n "$reqs" ] && ! grep -qE 'Non-2xx|Socket errors' "$TMP/wrk.txt" &&
				[ "$count" -ge "$reqs" ] && [ "$count" -le $((reqs + 16)) ]; then
				pass "caddy under wrk 10 s: $reqs responses, all 2xx, no socket error; ServeHTTP counted $count"
			else
				fail "caddy under wrk: $reqs requests, ServeHTTP $count: $(grep -E 'Non-2xx|Socket|requests in' "$TMP/wrk.txt")"
			fi
		fi
		# A pattern without the package path: the full name is suggested.
		"$GOSCOPE" funclat -p "$caddy" 'fileserver.(*FileServer).ServeHTTP' >/dev/null 2>"$TMP/nomatch.err"
		rc=$?
		if [ $rc -eq 1 ] && grep -qF "closest: github.com/caddyserver/caddy/v2/modules/caddyhttp/fileserver.(*FileServer).ServeHTTP," "$TMP/nomatch.err" &&
			grep -qF "try '*fileserver.(*FileServer).ServeHTTP'" "$TMP/nomatch.err"; then
			pass "caddy: a pattern without its package path: the full name suggested, with '*'"
		else
			fail "caddy: pattern without package path: exit $rc: $(cat "$TMP/nomatch.err")"
		fi
		check "caddy: still serving after goscope detached" HTTPC "$url" 20 2 "$BODY"
	else
		fail "caddy not serving: $(tail -2 "$TMP/caddy.err")"
	fi
else
	log "no /usr/bin/caddy: caddy skipped"
fi
finish
