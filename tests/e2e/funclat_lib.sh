# funclat_lib.sh: shared by tests/e2e/test_funclat_*.sh (source after lib.sh).

FLCHECK() { "$PYTHON" "$E2E_DIR/funclat_check.py" "$@"; }

# fl_spawn_rt OUT ERR CMD...: spawn a program that times itself.
# Its clock and goscope's time the same calls, but not from the same
# instants: goscope's are taken in the probes' traps, and the return from a
# trap is where the kernel preempts a thread that used its share (a
# CPU-bound call is often preempted there, after goscope's timestamp,
# before the program's). On a busy machine the two then differ by the
# run-queue wait, so the program runs at the lowest real-time priority (it
# sleeps most of the time), niced up where chrt is not allowed.
fl_spawn_rt() {
	local out=$1 err=$2
	shift 2
	if chrt -r 1 true 2>/dev/null; then
		spawn "$out" "$err" chrt -r 1 "$@"
	else
		spawn "$out" "$err" nice -n -10 "$@"
	fi
}

# fl_prog_start: build and start tests/go/funclat; sets FL_PID, FL_OUT.
fl_prog_start() {
	need_go
	go_build "$TMP/flprog" funclat || die "go build tests/go/funclat"
	FL_OUT=$TMP/flprog.out
	fl_spawn_rt "$FL_OUT" "$TMP/flprog.err" "$TMP/flprog" "$@"
	FL_PID=$SPAWN_PID
	wait_line "$FL_OUT" '^funclat: ready' "$FL_PID" 30 || die "funclat program did not start"
}

# gs_start OUT ARGS...: goscope funclat ARGS in the background, stdout to
# OUT, stderr to OUT.err; waits for the ready line. Sets GS_PID; false if
# goscope ended first.
gs_start() {
	local out=$1
	shift
	"$GOSCOPE" funclat "$@" >"$out" 2>"$out.err" &
	GS_PID=$!
	wait_line "$out.err" '^goscope: tracing' "$GS_PID" 60
}

# gs_stop: Ctrl-C goscope; its exit status in GS_RC.
gs_stop() {
	kill -INT "$GS_PID" 2>/dev/null
	wait "$GS_PID"
	GS_RC=$?
}
