#!/usr/bin/env bash
# test_cpu_pprof: `goscope cpu` against the program's own CPU profile.
# tests/go/cpuburn -alloc (spinning, write(2), allocating: mallocgc and GC
# mark work on other threads) writes a runtime/pprof profile at 500 Hz for
# a window opened by SIGUSR1 while goscope samples it at 499 Hz.
#
# Truth: `go tool pprof -top` of the program's profile (runtime.asyncPreempt
# hidden: it is the preemption signal landing, the time belongs to its
# caller). goscope's samples are folded by user leaf (the kernel frames of a
# system call belong to the Go frame that made it, which is where Go's
# SIGPROF lands). The top 10 functions' flat shares agree within 5 points
# (or 3 standard deviations of two samplings, if a busy machine left the
# program so few samples that this is wider).
# And `perf record` of the same window (cpuburn keeps its symbol table):
# the top 10 symbols of `perf report --no-children`, kernel ones included,
# within 5 points of goscope's flat shares.
. "$(dirname "$0")/lib.sh"
need_go

go_build "$TMP/cpuburn" cpuburn || die "cannot build tests/go/cpuburn"
spawn "$TMP/burn.out" "$TMP/burn.err" "$TMP/cpuburn" -alloc -secs 10 -hz 500 -prof "$TMP/own.pprof"
burn=$SPAWN_PID
wait_line "$TMP/burn.out" "ready" "$burn" || die "cpuburn did not start: $(cat "$TMP/burn.err")"

"$GOSCOPE" cpu -p "$burn" -d 10 -F 499 --json >"$TMP/gs.json" 2>"$TMP/gs.err" &
gs=$!
wait_line "$TMP/gs.err" "^goscope: tracing" "$gs" 30 || die "goscope cpu did not start: $(cat "$TMP/gs.err")"
kill -USR1 "$burn"
# perf record of the same window, where perf is (cpuburn keeps its symbol
# table, so perf names its Go functions itself).
perf=""
if command -v perf >/dev/null; then
	perf record -q -F 499 -p "$burn" -o "$TMP/perf.data" -- sleep 9 >/dev/null 2>"$TMP/perf.err" &
	perf=$!
fi
wait "$gs"
expect_eq "cpu -d 10 -F 499 --json: exit status" "$?" 0
wait_line "$TMP/burn.out" "^window" "$burn" 15 || die "cpuburn wrote no profile"
go tool pprof -top -hide='^runtime\.asyncPreempt$' "$TMP/own.pprof" >"$TMP/own.top" 2>"$TMP/own.err" ||
	die "go tool pprof cannot read the program's profile: $(head -3 "$TMP/own.err")"
check_v "top 10 functions' flat shares within 5 points (or 3 sd) of runtime/pprof's" \
	"$PYTHON" "$E2E_DIR/cpu_check.py" pprof "$TMP/gs.json" "$TMP/own.top" 500
if [ -n "$perf" ]; then
	wait "$perf"
	perf report -i "$TMP/perf.data" --stdio --no-children --sort sym -q -n >"$TMP/perf.txt" 2>/dev/null
	check_v "perf record of the same window: top 10 symbols' flat shares within 5 points (or 3 sd)" \
		"$PYTHON" "$E2E_DIR/cpu_check.py" perf "$TMP/gs.json" "$TMP/perf.txt"
fi
check_v "GC work is seen: mallocgc and the GC's share in the summary" "$PYTHON" -c '
import sys, jstream
s = [x for x in jstream.load(sys.argv[1]) if x["type"] == "summary"][0]
print("mallocgc %.1f%%, GC %.1f%%, on g0 %.1f%%" % (s["mallocgc_pct"], s["gc_pct"], s["on_g0_pct"]))
sys.exit(0 if s["mallocgc_pct"] > 0 and s["gc_pct"] > 0 else 1)' "$TMP/gs.json"

finish
