#!/usr/bin/env bash
# test_funclat_cost: goscope funclat reports its own cost and warns when
# its probes take a real share of the target's CPU.
#
# Target: tests/go/funclat -hot, one goroutine calling main.hotFn (two
# instructions) in a tight loop. Probing it turns every call into two
# breakpoint traps. Truths: the report's own counts (probe hits = 2 x
# calls within 2%, as each call passes its entry and its one RET; the
# probes are attached one after the other) and the target's
# CPU time from /proc/PID/stat while traced (the traps are charged to it):
# the warning line is printed, once, and the program survives; with
# --sample 10 every call is still counted and one in 10 (+-1 point) timed;
# probing a
# function the program never calls in the same setting gives no warning.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/funclat_lib.sh"

fl_prog_start -hot
"$GOSCOPE" funclat -p "$FL_PID" -d 3 --json main.hotFn >"$TMP/hot.json" 2>"$TMP/hot.err"
expect_eq "funclat on a hot function: exit status" "$?" 0
n=$(grep -c 'warning: .* probe hits/s take about [0-9]*% of the target.s CPU time' "$TMP/hot.err")
expect_eq "one cost warning on stderr" "$n" 1
grep warning "$TMP/hot.err" | sed 's/^/        /'
check_v "probe hits = 2 x calls, and the estimate is the hits at the per-hit cost" "$PYTHON" - "$TMP/hot.json" <<'PY'
import sys, jstream
objs = jstream.load(sys.argv[1])
f = [o for o in objs if o.get("type") == "func"][0]
s = [o for o in objs if o.get("type") == "summary"][0]
print(f"calls {f['count']}, probe hits {s['probe_hits']} ({s['hits_per_s']:.0f}/s), estimate {s['est_cpu_cores']:.2f} CPU")
# The hit counter and the call counts are read a moment apart while the
# loop runs, and the entry probe is attached a moment before the RET's:
# tens to thousands of calls at this rate on a busy machine: 2%.
ok = abs(s["probe_hits"] - 2 * f["count"]) <= max(2, 0.02 * s["probe_hits"]) and s["probe_hits"] > 1000
ok = ok and abs(s["est_cpu_cores"] - s["hits_per_s"] * 15e-6) < 0.01
sys.exit(0 if ok else 1)
PY
"$GOSCOPE" funclat -p "$FL_PID" -d 2 --json --sample 10 main.hotFn >"$TMP/sample.json" 2>"$TMP/sample.err"
check_v "--sample 10: every call counted, about one in 10 timed (per-CPU counters)" "$PYTHON" - "$TMP/sample.json" <<'PY'
import sys, jstream
objs = jstream.load(sys.argv[1])
f = [o for o in objs if o.get("type") == "func"][0]
s = [o for o in objs if o.get("type") == "summary"][0]
share = f["timed"] / f["count"] if f["count"] else 0
print(f"calls {f['count']}, timed {f['timed']} ({100 * share:.1f}%), probe hits {s['probe_hits']}, sample {s['sample']}")
ok = abs(s["probe_hits"] - 2 * f["count"]) <= max(2, 0.02 * s["probe_hits"])
sys.exit(0 if ok and 0.09 <= share <= 0.11 and s["sample"] == 10 else 1)
PY
"$GOSCOPE" funclat -p "$FL_PID" -d 2 main.spinForever main.goexiter >"$TMP/cold.txt" 2>"$TMP/cold.err"
if grep -q warning "$TMP/cold.err"; then
	fail "a warning for a function never called: $(grep warning "$TMP/cold.err")"
else
	pass "no warning for a function never called"
fi
kill -0 "$FL_PID" 2>/dev/null && pass "the program survived" || fail "the program died"
finish
