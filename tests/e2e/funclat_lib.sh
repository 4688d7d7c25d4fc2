# funclat_lib.sh: shared by tests/e2e/test_funclat_*.sh (source after lib.sh).

FLCHECK() { "$PYTHON" "$E2E_DIR/funclat_check.py" "$@"; }

# fl_prog_start: build and start tests/go/funclat; sets FL_PID, FL_OUT.
fl_prog_start() {
	need_go
	go_build "$TMP/flprog" funclat || die "go build tests/go/funclat"
	FL_OUT=$TMP/flprog.out
	# Niced up: the program's own clock and goscope's see the same calls;
	# on a busy machine the scheduling delays around them should be small.
	spawn "$FL_OUT" "$TMP/flprog.err" nice -n -10 "$TMP/flprog" "$@"
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
