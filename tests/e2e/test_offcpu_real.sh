#!/usr/bin/env bash
# test_offcpu_real: `goscope offcpu` on real, stripped Go servers under
# load: it sees their HTTP goroutines waiting for the network, names the
# waits with the release's own wait reasons, and the servers keep serving.
#
# (a) Debian's caddy (go1.19.8, cgo, externally linked) `file-server` under
#     wrk (1 thread, 8 connections, 5 s); goscope offcpu -d 3 -f folded in
#     the middle. Truths: a keep-alive HTTP/1.1 connection goroutine of
#     net/http waits for its next request in a network read, so there must be
#     a stack through net/http.(*conn).serve ending in [IO wait]; wrk's own
#     report shows no socket error and no non-2xx answer; after goscope
#     detaches, curl gets the file back byte for byte and caddy is alive.
# (b) esbuild --serve, every release from npm built with Go 1.17 to 1.26
#     (0.13.15 .. 0.28.2: runtime offsets and wait-reason tables differ per
#     release), with a little keep-alive load (offcpu_load.py) during
#     offcpu -d 2 -f folded. Truths: a stack with a net/http frame ends in
#     [IO wait] (the accept loop and idle connections); every reason is
#     "runnable", "syscall: NAME" or a string of the binary itself (its
#     wait-reason table); after the trace the server still answers; then the
#     runtime's own SIGQUIT dump gives the main goroutine (main.main) and the
#     accept loop (net/http.(*Server).Serve) the reason goscope saw them in
#     for most of the trace (runnable aside: under load the accept loop runs).
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || skip "no curl"
report() { "$PYTHON" "$E2E_DIR/offcpu_report.py" "$@"; }

mkdir -p "$TMP/www"
head -c 6000 /dev/urandom | base64 >"$TMP/www/index.html"

# --- (a) caddy under wrk ----------------------------------------------------
if ! command -v caddy >/dev/null; then
	log "no caddy: part (a) not run"
elif ! command -v wrk >/dev/null; then
	log "no wrk: part (a) not run"
else
	port=$(free_port)
	mkdir -p "$TMP/caddyhome"
	spawn "$TMP/caddy.out" "$TMP/caddy.err" env HOME="$TMP/caddyhome" \
		XDG_DATA_HOME="$TMP/caddyhome" XDG_CONFIG_HOME="$TMP/caddyhome" \
		caddy file-server --listen "127.0.0.1:$port" --root "$TMP/www"
	cpid=$SPAWN_PID
	if ! wait_port 127.0.0.1 "$port" "$cpid" 30; then
		fail "caddy: not serving on $port: $(tail -3 "$TMP/caddy.err")"
	else
		spawn "$TMP/wrk.out" "$TMP/wrk.err" wrk -t1 -c8 -d5s "http://127.0.0.1:$port/index.html"
		wpid=$SPAWN_PID
		sleep 1
		"$GOSCOPE" offcpu -p "$cpid" -d 3 -f folded >"$TMP/caddy.folded" 2>"$TMP/caddy.gserr"
		expect_eq "caddy: offcpu -d 3 -f folded under wrk: exit status" "$?" 0
		wait_exit "$wpid" 30 || fail "wrk did not finish"
		log "wrk: $(grep -E 'requests in|Requests/sec' "$TMP/wrk.out" | tr -s ' ' | tr '\n' ';')"
		if grep -qE '^ *[0-9]+ requests in' "$TMP/wrk.out" &&
			! grep -qE 'Socket errors|Non-2xx' "$TMP/wrk.out"; then
			pass "caddy: wrk saw no socket errors and no non-2xx answers"
		else
			fail "caddy: wrk: $(grep -E 'requests in|Socket errors|Non-2xx' "$TMP/wrk.out" | tr '\n' ';') $(head -2 "$TMP/wrk.err")"
		fi
		n=$(report lines "$TMP/caddy.folded" --frame 'net/http.(*conn).serve' --reason 'IO wait' | grep -c .)
		us=$(report sum "$TMP/caddy.folded" --frame 'net/http.(*conn).serve' --reason 'IO wait')
		if [ "$n" -gt 0 ]; then
			pass "caddy: $n stack(s) through net/http.(*conn).serve end in [IO wait] ($us us)"
			report lines "$TMP/caddy.folded" --frame 'net/http.(*conn).serve' --reason 'IO wait' |
				head -1 | sed 's/^/        /'
		else
			fail "caddy: no stack through net/http.(*conn).serve ending in [IO wait]"
			head -5 "$TMP/caddy.folded" | sed 's/^/        /'
		fi
		check_v "caddy: every reason is runnable, syscall: NAME or one of the binary's own" \
			report vocab "$TMP/caddy.folded" /usr/bin/caddy
		curl -fsS --max-time 10 -o "$TMP/got.html" "http://127.0.0.1:$port/index.html" &&
			cmp -s "$TMP/got.html" "$TMP/www/index.html" &&
			pass "caddy: still serves the file after goscope detached" ||
			fail "caddy: no correct answer after goscope detached"
		kill -0 "$cpid" 2>/dev/null && pass "caddy: alive" || fail "caddy: died"
		kill "$cpid"
		wait_exit "$cpid" 10
	fi
fi

# --- (b) esbuild --serve, Go 1.17 .. 1.26 -----------------------------------
ESBUILDS=(0.13.15 0.14.49 0.17.19 0.22.0 0.23.1 0.25.12 0.27.7 0.28.2)
n=0
for ver in "${ESBUILDS[@]}"; do
	bin=$TESTBINS/esbuild-$ver/esbuild
	if [ ! -x "$bin" ]; then
		log "esbuild $ver: not in $TESTBINS (scripts/testbins.sh)"
		continue
	fi
	n=$((n + 1))
	l=esbuild-$ver
	port=$(free_port)
	spawn "$TMP/$l.out" "$TMP/$l.err" env GOTRACEBACK=system \
		"$bin" --serve="127.0.0.1:$port" --servedir="$TMP/www"
	pid=$SPAWN_PID
	if ! wait_port 127.0.0.1 "$port" "$pid" 30; then
		fail "$l: not serving on $port: $(tail -3 "$TMP/$l.err")"
		continue
	fi
	spawn "$TMP/$l.load" "$TMP/$l.loaderr" "$PYTHON" "$E2E_DIR/offcpu_load.py" \
		"http://127.0.0.1:$port/index.html" 3 0.01
	lpid=$SPAWN_PID
	sleep 0.3
	"$GOSCOPE" offcpu -p "$pid" -d 2 -f folded >"$TMP/$l.folded" 2>"$TMP/$l.gserr"
	expect_eq "$l: offcpu -d 2 -f folded under load: exit status" "$?" 0
	wait_exit "$lpid" 30
	[ "${WAIT_STATUS:-1}" = 0 ] && pass "$l: load: $(cat "$TMP/$l.load")" ||
		fail "$l: load: $(cat "$TMP/$l.load" "$TMP/$l.loaderr" | head -3)"
	k=$(grep -E '(^|;)net/http\.[^;]*;.*\[IO wait\] [0-9]+$' "$TMP/$l.folded" | grep -c .)
	if [ "$k" -gt 0 ]; then
		pass "$l: $k stack(s) with net/http frames end in [IO wait]"
	else
		fail "$l: no net/http stack in [IO wait]"
		head -5 "$TMP/$l.folded" | sed 's/^/        /'
	fi
	check_v "$l: every reason is runnable, syscall: NAME or one of the binary's own" \
		report vocab "$TMP/$l.folded" "$bin"
	body=$(curl -fsS --max-time 10 "http://127.0.0.1:$port/index.html" | md5sum)
	expect_eq "$l: still serves after goscope detached" "$body" "$(md5sum <"$TMP/www/index.html")"
	kill -QUIT "$pid"
	if wait_exit "$pid" 30; then
		check_v "$l: reasons of the main goroutine and the accept loop equal the runtime's dump" \
			report dumpmatch "$TMP/$l.folded" "$TMP/$l.err" --func main.main \
			--func 'net/http.(*Server).Serve'
	else
		fail "$l: alive 30 s after SIGQUIT"
	fi
done
[ $n -gt 0 ] || log "no esbuild >= 0.13.15 in $TESTBINS: part (b) not run"
finish
