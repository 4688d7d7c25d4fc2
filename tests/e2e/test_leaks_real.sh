#!/usr/bin/env bash
# test_leaks_real: `goscope leaks` on released, stripped Go binaries
# without DWARF — esbuild --serve built with Go 1.17 to 1.26, Debian's caddy
# and prometheus (Go 1.19) — where g.gopc and g.waiting come from the
# per-release table (checked live: g.startpc must be a function entry).
#
# Truth: each program's own SIGQUIT dump (GOTRACEBACK=system), sent right
# after goscope returns (caddy: see below): goroutines per "created by"
# site must be equal
# (prometheus starts short-lived goroutines: a slack of 3 per site). Idle
# servers have no suspect. Every goroutine parked in chan send/receive
# has a channel (g.waiting's sudog points back to its g).
. "$(dirname "$0")/lib.sh"

# run_one LABEL PID ERR SLACK: goscope leaks, SIGQUIT, compare.
run_one() {
	local label=$1 pid=$2 err=$3 slack=$4 rc
	"$GOSCOPE" leaks -p "$pid" -d 2 --json >"$TMP/$label.json" 2>"$TMP/$label.gerr"
	rc=$?
	kill -QUIT "$pid"
	if [ $rc -ne 0 ]; then
		fail "$label: goscope leaks exit $rc: $(head -3 "$TMP/$label.gerr")"
		return
	fi
	wait_exit "$pid" 30 || fail "$label: still alive 30 s after SIGQUIT"
	check_v "$label: goroutines per creation site = its SIGQUIT dump's; no suspect" \
		"$PYTHON" "$E2E_DIR/leaks_check.py" --json "$TMP/$label.json" --dump "$err" \
		--slack "$slack"
	# g.waiting -> sudog (whose g points back) -> hchan, per release.
	check "$label: every goroutine parked on a channel has its channel" "$PYTHON" -c '
import sys, jstream
for o in jstream.load(sys.argv[1]):
    if o["type"] == "group" and o["reason"] in ("chan receive", "chan send"):
        assert o["wait_objects"] >= 1, o
' "$TMP/$label.json"
}

ESBUILDS=(0.13.15 0.14.49 0.17.19 0.22.0 0.23.1 0.25.12 0.27.7 0.28.2)
mkdir -p "$TMP/www" "$TMP/home"
echo "goscope e2e" >"$TMP/www/index.html"
n=0
for ver in "${ESBUILDS[@]}"; do
	bin=$TESTBINS/esbuild-$ver/esbuild
	[ -x "$bin" ] || { log "esbuild $ver: not in $TESTBINS"; continue; }
	n=$((n + 1))
	label=esbuild-$ver
	port=$(free_port)
	spawn "$TMP/$label.out" "$TMP/$label.err" env GOTRACEBACK=system \
		"$bin" --serve="127.0.0.1:$port" --servedir="$TMP/www"
	pid=$SPAWN_PID
	wait_port 127.0.0.1 "$port" "$pid" || { fail "$label: not serving"; continue; }
	command -v curl >/dev/null && curl -fsS --max-time 10 "http://127.0.0.1:$port/index.html" >/dev/null
	sleep 1.5 # esbuild's rebuild goroutine sleeps ~250 ms then exits
	run_one "$label" "$pid" "$TMP/$label.err" 0
done
[ $n -gt 0 ] || log "no esbuild in $TESTBINS: esbuild part not run"

# caddy traps SIGQUIT (a quick exit): its truth is the same traceback served
# by its admin endpoint, /debug/pprof/goroutine?debug=2 (runtime.Stack of
# every goroutine but the runtime's own), which adds the goroutines serving
# that request (slack 1 per site).
if [ -x /usr/bin/caddy ] && command -v curl >/dev/null; then
	port=$(free_port)
	admin=$(free_port)
	printf '{\n\tadmin 127.0.0.1:%s\n}\nhttp://127.0.0.1:%s {\n\troot * %s\n\tfile_server\n}\n' \
		"$admin" "$port" "$TMP/www" >"$TMP/Caddyfile"
	spawn "$TMP/caddy.out" "$TMP/caddy.err" env HOME="$TMP/home" \
		XDG_CONFIG_HOME="$TMP/home" XDG_DATA_HOME="$TMP/home" \
		/usr/bin/caddy run --config "$TMP/Caddyfile" --adapter caddyfile
	pid=$SPAWN_PID
	if wait_port 127.0.0.1 "$port" "$pid" && wait_port 127.0.0.1 "$admin" "$pid"; then
		curl -fsS --max-time 10 "http://127.0.0.1:$port/index.html" >/dev/null
		sleep 1
		if "$GOSCOPE" leaks -p "$pid" -d 2 --json >"$TMP/caddy.json" 2>"$TMP/caddy.gerr"; then
			curl -fsS --max-time 10 "http://127.0.0.1:$admin/debug/pprof/goroutine?debug=2" \
				>"$TMP/caddy.dump"
			check_v "caddy: goroutines per creation site = its own traceback's (debug=2); no suspect" \
				"$PYTHON" "$E2E_DIR/leaks_check.py" --json "$TMP/caddy.json" \
				--dump "$TMP/caddy.dump" --slack 1 --user-only
		else
			fail "caddy: goscope leaks failed: $(head -3 "$TMP/caddy.gerr")"
		fi
	else
		fail "caddy not serving: $(tail -3 "$TMP/caddy.err")"
	fi
else
	log "no /usr/bin/caddy or curl"
fi

if [ -x /usr/bin/prometheus ]; then
	port=$(free_port)
	printf 'global:\n  scrape_interval: 1h\nscrape_configs: []\n' >"$TMP/prom.yml"
	spawn "$TMP/prom.out" "$TMP/prom.err" env GOTRACEBACK=system /usr/bin/prometheus \
		--config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/promdata" \
		--web.listen-address="127.0.0.1:$port"
	pid=$SPAWN_PID
	if wait_port 127.0.0.1 "$port" "$pid" 60; then
		sleep 3
		run_one prometheus "$pid" "$TMP/prom.err" 3
	else
		fail "prometheus not serving: $(tail -3 "$TMP/prom.err")"
	fi
else
	log "no /usr/bin/prometheus"
fi
finish
