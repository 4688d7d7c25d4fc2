#!/usr/bin/env bash
# test_why_bad_input: `goscope why` refuses what it cannot do with one
# "goscope:" line and exit 2 (usage, bad values) or 1 (the target), and the
# target keeps running. (The generic bad options and values of every command
# are test_bad_options.sh's.)
#
# Targets: tests/go/whysvc (net/http, main.work), tests/go/periodic (no
# net/http), this shell (not Go), a pid that does not exist, and esbuild
# 0.11.23 (Go 1.16: no register ABI, --http needs Go >= 1.17) when the
# released binaries are there.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"
. "$E2E_DIR/why_lib.sh"

wl_build
go_build "$TMP/periodic" periodic >"$TMP/build-periodic.log" 2>&1 || die "go build periodic: $(tail -3 "$TMP/build-periodic.log")"
wl_start SVC "$TMP/svc.out" "$TMP/svc.err" "$TMP/whysvc" -burn 0.1
spawn "$TMP/per.out" "$TMP/per.err" "$TMP/periodic"
per=$SPAWN_PID
wait_line "$TMP/per.out" '^periodic: ready' "$per" 60 || die "periodic never ready: $(tail -3 "$TMP/per.err")"

# bad WANT_RC REGEX ARGS...: goscope why ARGS fails with WANT_RC, nothing on
# stdout and exactly one stderr line matching REGEX.
bad() {
	local want=$1 re=$2 rc
	shift 2
	timeout --kill-after=5 30 "$GOSCOPE" why "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -eq "$want" ] && [ ! -s "$TMP/out" ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] &&
		grep -qE "^goscope: why: $re" "$TMP/err"; then
		pass "why $*: exit $rc: $(cat "$TMP/err")"
	else
		fail "why $*: exit $rc (want $want), stdout $(wc -l <"$TMP/out") lines, stderr: $(head -3 "$TMP/err" | tr '\n' '|')"
	fi
}

P=$SVC_PID
bad 2 "give --func PATTERN or --http" -p "$P" --slow 10
bad 2 "give --func or --http, not both" -p "$P" --func main.work --http --slow 10
bad 2 "give --slow MS" -p "$P" --http
bad 2 "give the process with -p PID" --http --slow 10
bad 2 "--slow 0: must be" -p "$P" --http --slow 0
bad 2 "--slow -1: must be" -p "$P" --http --slow -1
bad 2 "--slow abc: not a number" -p "$P" --http --slow abc
bad 2 "--slow nan" -p "$P" --http --slow nan
bad 2 "--slow inf" -p "$P" --http --slow inf
bad 2 "--route goes with --http" -p "$P" --func main.work --route /x --slow 10
bad 2 "--tick 0: must be" -p "$P" --http --slow 10 --tick 0
bad 2 "--perfetto $TMP/no/such/dir/t.json: No such file or directory" -p "$P" --http --slow 10 --perfetto "$TMP/no/such/dir/t.json"
bad 1 "pid $P \(whysvc\): 'main.nosuch' matches no function of whysvc; closest: " -p "$P" --func main.nosuch --slow 10 -d 1
bad 1 "no such process: 4194000" -p 4194000 --http --slow 10
bad 1 "pid $$ .*not a Go program" -p $$ --http --slow 10
bad 1 "pid $per \(periodic\): .*(net/http|ServeHTTP)" -p "$per" --http --slow 10 -d 1

ES16=$TESTBINS/esbuild-0.11.23/esbuild
if [ -x "$ES16" ]; then
	port=$(free_port)
	spawn "$TMP/es.out" "$TMP/es.err" "$ES16" --serve="127.0.0.1:$port"
	es=$SPAWN_PID
	if wait_port 127.0.0.1 "$port" "$es"; then
		bad 1 "pid $es \(esbuild\): Go 1\.16 is older than 1\.17" -p "$es" --http --slow 10 -d 1
	else
		fail "esbuild 0.11.23 --serve did not start: $(tail -2 "$TMP/es.err")"
	fi
else
	log "no $ES16: the Go 1.16 case skipped"
fi

# Good input after all that: a short run on the service, and the targets alive.
"$GOSCOPE" why -p "$P" --func main.work --slow 1000 -d 1 --json >"$TMP/ok.json" 2>"$TMP/ok.err"
rc=$?
if [ $rc -eq 0 ] && grep -q '"event":"verdict"' "$TMP/ok.json" && grep -q '^goscope: tracing ' "$TMP/ok.err"; then
	pass "why -p SVC --func main.work --slow 1000 -d 1 --json: exit 0, ready line, a verdict"
else
	fail "why on the service: exit $rc: $(head -3 "$TMP/ok.err" | tr '\n' '|') $(head -c 300 "$TMP/ok.json")"
fi
kill -0 "$P" 2>/dev/null && pass "whysvc still running" || fail "whysvc died"
kill -0 "$per" 2>/dev/null && pass "periodic still running" || fail "periodic died"
finish
