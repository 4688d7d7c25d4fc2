#!/usr/bin/env bash
# test_syscalls_esbuild: `goscope syscalls` on a released, stripped Go 1.26
# binary — esbuild 0.28.2 --serve (scripts/testbins.sh) under curl load —
# reads goroutine ids right (the goid offset of Go 1.26's runtime.g) and
# prints one set of JSON rows per interval with -i.
#
# Truths: `goscope goroutines PID` (itself checked against the runtime's
# SIGQUIT dump by test_goroutines_sigquit/test_sigquit_esbuild) names the
# goroutine in net.(*TCPListener).Accept: --by goid must put every accept4
# on that id; each curl is a new connection served by new goroutines, so
# reads and writes come from many distinct non-zero ids. -i 1 -d 3 --json:
# every row carries interval_end, about 1 s apart, at least 2 intervals.
# esbuild keeps serving afterwards.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/syscalls_lib.sh"

ESBUILD=$TESTBINS/esbuild-0.28.2/esbuild
[ -x "$ESBUILD" ] || skip "no $ESBUILD (run scripts/testbins.sh)"
command -v curl >/dev/null || skip "no curl"

mkdir -p "$TMP/www"
echo "goscope esbuild e2e" >"$TMP/www/index.html"
gover=$("$GOSCOPE" info "$ESBUILD" 2>/dev/null | sed -n 's/^go version: *\(go[0-9.]*\).*/\1/p')
expect_eq "esbuild 0.28.2 is built with Go 1.26" "${gover%.*}" go1.26
port=$(free_port)
spawn "$TMP/esbuild.out" "$TMP/esbuild.err" "$ESBUILD" --serve="127.0.0.1:$port" --servedir="$TMP/www"
es=$SPAWN_PID
wait_port 127.0.0.1 "$port" "$es" || die "esbuild not serving on $port: $(tail -3 "$TMP/esbuild.err")"
URL=http://127.0.0.1:$port/index.html

# curl_load SECONDS: one new connection per request, sequentially.
curl_load() {
	local end=$((SECONDS + $1)) n=0
	while [ $SECONDS -lt $end ]; do
		curl -fsS --max-time 5 -o /dev/null "$URL" && n=$((n + 1))
	done
	echo "$n"
}

# under_load OUT ARGS...: goscope syscalls -p esbuild ARGS while curl runs
# (2 s for -d 4, longer with -i); sets GS_RC and REQS.
under_load() {
	local out=$1 gs
	shift
	"$GOSCOPE" syscalls -p "$es" "$@" >"$out" 2>"$out.err" &
	gs=$!
	gs_wait_attached "$gs" "$out.err" || { wait "$gs"; GS_RC=$?; REQS=0; return 1; }
	REQS=$(curl_load 2)
	wait "$gs"
	GS_RC=$?
}

under_load "$TMP/goid.json" -d 4 --exact --by goid --json
expect_eq "syscalls --by goid --json on esbuild: exit status ($REQS curl requests)" "$GS_RC" 0
"$GOSCOPE" goroutines "$es" >"$TMP/goroutines" 2>"$TMP/goroutines.err" ||
	fail "goscope goroutines esbuild: $(head -3 "$TMP/goroutines.err")"
min=$((REQS / 2))
[ $min -gt 20 ] && min=20
check_v "--by goid: accept4 from the goroutine in net.(*TCPListener).Accept; reads/writes from >= $min goroutines" \
	SCCHECK goids "$TMP/goid.json" --goroutines "$TMP/goroutines" --min-goroutines "$min"

"$GOSCOPE" syscalls -p "$es" -i 1 -d 3 --json >"$TMP/int.json" 2>"$TMP/int.err" &
gs=$!
curl_load 4 >/dev/null
wait "$gs"
expect_eq "syscalls -i 1 -d 3 --json: exit status" "$?" 0
check_v "-i 1 -d 3 --json: rows with interval_end, >= 2 intervals about 1 s apart" \
	SCCHECK intervals "$TMP/int.json" --min 2

body=$(curl -fsS --max-time 10 "$URL" 2>&1)
expect_eq "esbuild still serves after goscope detached" "$body" "goscope esbuild e2e"

finish
