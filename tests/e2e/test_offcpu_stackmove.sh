#!/usr/bin/env bash
# test_offcpu_stackmove: a goroutine parked once is one wait, even when
# the runtime moves its stack while it waits.
#
# Target: tests/go/stackmove (go1.19): one goroutine grows its stack past
# 1 MB, returns and parks on a channel in main.parkHere; once goscope is
# tracing, the program runs runtime.GC() every 20 ms, and each GC halves
# the parked goroutine's stack (a copy to a new address: every saved sp
# changes). After the trace the goroutine is woken and reports whether
# the address of one of its locals changed while it was parked (the truth
# that the stack moved) and the number of GCs.
# Checks (--json): the rows through main.parkHere are one, [chan receive],
# waits 1, goroutines 1, total_us >= 85% of the window (it waited all of
# it), and the program says its stack moved.
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/stackmove" stackmove || die "go build stackmove"
spawn "$TMP/s.out" "$TMP/s.err" "$TMP/stackmove"
pid=$SPAWN_PID
wait_line "$TMP/s.out" '^stackmove: ready' "$pid" 30 || die "stackmove never ready: $(tail -3 "$TMP/s.err")"

spawn "$TMP/json" "$TMP/g.err" "$GOSCOPE" offcpu -p "$pid" -d 4 --json
gpid=$SPAWN_PID
wait_line "$TMP/g.err" '^goscope: tracing' "$gpid" 30 || die "offcpu never ready: $(cat "$TMP/g.err")"
kill -USR1 "$pid" # GCs from now on
wait_exit "$gpid" 60 || die "offcpu did not finish"
expect_eq "offcpu -d 4 --json: exit status" "$WAIT_STATUS" 0
kill -USR2 "$pid"
wait_line "$TMP/s.out" '^stackmove: gcs' "$pid" 20 || die "stackmove did not wake: $(tail -3 "$TMP/s.err")"
log "$(grep -E '^stackmove: (woke|gcs)' "$TMP/s.out" | tr '\n' ' ')"
grep -q '^stackmove: woke moved=true' "$TMP/s.out" &&
	pass "truth: the parked goroutine's stack moved while it waited" ||
	fail "truth: its stack did not move ($(grep '^stackmove:' "$TMP/s.out" | tr '\n' ' ')): the test proves nothing"

check_v "the wait in main.parkHere is one row: 1 wait, 1 goroutine, [chan receive], >= 85% of the window" \
	"$PYTHON" -c '
import sys
from jstream import load
rows = [o for o in load(sys.argv[1]) if "stack" in o and
        any(f.startswith("main.parkHere ") for f in o["stack"])]
summ = [o for o in load(sys.argv[1]) if o.get("event") == "summary"]
win = summ[-1]["seconds"] * 1e6 if summ else 0
for r in rows:
    print("%s waits %d goroutines %d total_us %d (window %.0f us)" %
          (r["reason"], r["waits"], r["goroutines"], r["total_us"], win))
ok = (len(rows) == 1 and rows[0]["waits"] == 1 and rows[0]["goroutines"] == 1 and
      rows[0]["reason"] == "chan receive" and rows[0]["total_us"] >= 0.85 * win > 0)
sys.exit(0 if ok else 1)' "$TMP/json"
finish
