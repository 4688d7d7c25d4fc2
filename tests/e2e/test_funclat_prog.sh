#!/usr/bin/env bash
# test_funclat_prog: `goscope funclat` against a Go program that times its
# own functions (tests/go/funclat, time.Since around every call) over the
# same span.
#
# Truths: the program's own counts and medians of the calls that ended in
# the span between SIGUSR1 and SIGUSR2, sent right after goscope's ready
# line and right before its Ctrl-C: call rates within 15% and medians
# within 10% (or 300 us) for main.sleep5 (5 ms sleep), main.nested40 (two
# nested 20 ms sleeps), main.burn3 (3 ms of CPU) and main.deep2 (2 ms at
# recursion depth 200, the stack grown and copied while the call is in
# flight). The round the program runs once: exact counts for main.tiny
# (20000 calls, thousands a second), main.recur (200 x 21 nested calls),
# main.boom (100 calls, 50 panic: counted as unwound, the other 50 timed)
# and main.goexiter (10 goroutines ending in runtime.Goexit: all unwound).
# No drops. The program survives, its own results stay right (it checks
# them and prints WRONG otherwise) and it keeps answering afterwards.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/funclat_lib.sh"

fl_prog_start
log "funclat program pid $FL_PID"
PATS=(main.sleep5 main.nested40 main.inner20 main.burn3 main.deep2 main.tiny main.recur
	main.boom main.goexiter)
if gs_start "$TMP/gs.json" -p "$FL_PID" --json "${PATS[@]}"; then
	kill -USR1 "$FL_PID"
	wait_line "$FL_OUT" '^funclat: round done' "$FL_PID" 120 || fail "the round did not finish"
	kill -USR2 "$FL_PID"
	gs_stop
	expect_eq "funclat --json: exit status" "$GS_RC" 0
	wait_line "$FL_OUT" '^funclat: truth' "$FL_PID" 10 || fail "no truth line"
	grep -q "9 functions" "$TMP/gs.json.err" && pass "9 functions matched and said so before attaching" ||
		fail "no '9 functions' line: $(head -2 "$TMP/gs.json.err")"
	check_v "rates, medians, exact counts, unwound calls vs the program's own" \
		FLCHECK prog "$TMP/gs.json" "$FL_OUT"
else
	fail "goscope funclat did not start: $(tail -3 "$TMP/gs.json.err")"
fi

# Text output, --hist, -i: one table per interval.
if gs_start "$TMP/gs.txt" -p "$FL_PID" -i 1 -d 2.5 --hist main.sleep5; then
	wait "$GS_PID"
	GS_RC=$?
	expect_eq "funclat -i 1 -d 2.5 --hist: exit status" "$GS_RC" 0
	n=$(grep -c '^main.sleep5 ' "$TMP/gs.txt")
	[ "$n" -ge 2 ] && pass "-i 1: $n tables" || fail "-i 1: $n tables"
	grep -qE '^ +[0-9.]+ms \.\. +[0-9.]+ms +[0-9]+ \|#+' "$TMP/gs.txt" && pass "--hist rows" ||
		fail "no --hist rows: $(head -5 "$TMP/gs.txt")"
fi

if grep -q WRONG "$FL_OUT"; then
	fail "the program computed a wrong result while traced: $(grep WRONG "$FL_OUT" | head -2)"
else
	pass "the program's own results stayed right"
fi
kill -USR2 "$FL_PID"
if wait_line "$FL_OUT" '^funclat: truth .*truth' "$FL_PID" 1 || [ "$(grep -c '^funclat: truth' "$FL_OUT")" -ge 2 ]; then
	pass "the program is alive and answering after goscope detached"
else
	fail "the program did not answer after goscope detached"
fi
finish
