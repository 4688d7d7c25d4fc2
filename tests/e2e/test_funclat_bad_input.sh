#!/usr/bin/env bash
# test_funclat_bad_input: `goscope funclat` refuses what it cannot do with
# one "goscope:" line and exit 2 (usage) or 1 (the target), and the target
# keeps running.
#
# Target: tests/go/funclat (main.inlinedAdd is inlined at its only call
# site; main.spinForever never returns: no RET). Truths: the names in the
# binary (goscope funcs, itself checked against go tool nm).
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/funclat_lib.sh"

fl_prog_start

# bad WANT_RC REGEX ARGS...: goscope funclat ARGS fails with WANT_RC and
# exactly one stderr line matching REGEX.
bad() {
	local want=$1 re=$2 rc
	shift 2
	"$GOSCOPE" "${BAD_CMD:-funclat}" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -eq "$want" ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -qE "^goscope: $re" "$TMP/err"; then
		pass "${BAD_CMD:-funclat} $*: exit $rc: $(cat "$TMP/err")"
	else
		fail "${BAD_CMD:-funclat} $*: exit $rc (want $want), stderr: $(head -3 "$TMP/err")"
	fi
}

P=$FL_PID
bad 1 "funclat: pid $P \(flprog\): 'main.sleep' matches no function of flprog; closest: main.sleep5" \
	-p "$P" -d 1 main.sleep
bad 1 "funclat: .*main.inlinedAdd is inlined at every call site" -p "$P" -d 1 main.inlinedAdd
bad 1 "funclat: .*main.spinForever has no RET" -p "$P" -d 1 main.spinForever
bad 1 "funclat: .*match [0-9]+ functions \(more than --max-funcs 64" -p "$P" -d 1 'main.*' 'runtime.*'
bad 1 "funclat: .*match [0-9]+ functions \(more than --max-funcs 3" -p "$P" -d 1 --max-funcs 3 'main.*'
bad 2 "funclat: give at least one PATTERN" -p "$P"
bad 2 "funclat: give the process with -p PID" main.sleep5
bad 2 "funclat: --args goes with --slow" -p "$P" --args main.sleep5
bad 2 "funclat: --max-funcs 0: must be" -p "$P" --max-funcs 0 main.sleep5
bad 2 "funclat: --sample x" -p "$P" --sample x main.sleep5
bad 1 "funclat: .*no such process" -p 4194000 main.sleep5
bad 2 "funclat: -p 999999999: not a pid" -p 999999999 main.sleep5
bad 1 "funclat: .*not a Go program" -p $$ main.sleep5

# goscope http on a program without net/http, on Go 1.16 (stack arguments).
BAD_CMD=http bad 1 "http: pid $P \(flprog\): flprog serves no HTTP with net/http \(it has no net/http.serverHandler.ServeHTTP\)" \
	-p "$P" -d 1
BAD_CMD=http bad 2 "http: give the process with -p PID" -d 1
BAD_CMD=http bad 2 "http: unexpected argument|http: .*main.sleep5" -p "$P" main.sleep5
ES16=$TESTBINS/esbuild-0.11.23/esbuild
if [ -x "$ES16" ]; then
	port=$(free_port)
	spawn "$TMP/es.out" "$TMP/es.err" "$ES16" --serve="127.0.0.1:$port"
	es=$SPAWN_PID
	if wait_port 127.0.0.1 "$port" "$es"; then
		"$GOSCOPE" http -p "$es" -d 1 >"$TMP/out" 2>"$TMP/err"
		rc=$?
		if [ $rc -eq 1 ] && grep -qE "^goscope: http: .*built with go1\.16.*needs Go >= 1\.17" "$TMP/err"; then
			pass "http on esbuild 0.11.23 (Go 1.16): exit 1: $(cat "$TMP/err")"
		else
			fail "http on esbuild 0.11.23 (Go 1.16): exit $rc: $(head -2 "$TMP/err")"
		fi
	fi
fi

# A pattern list where one function has no RET: it is skipped, the rest traced.
"$GOSCOPE" funclat -p "$P" -d 1 main.sleep5 main.spinForever >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "1 matched function without a RET skipped" "$TMP/err" &&
	grep -q '^main.sleep5 ' "$TMP/out"; then
	pass "main.sleep5 + main.spinForever: the one without a RET skipped and said so"
else
	fail "main.sleep5 + main.spinForever: exit $rc: $(head -3 "$TMP/err")"
fi
kill -0 "$P" 2>/dev/null && pass "the target is still running" || fail "the target died"
finish
