#!/usr/bin/env bash
# test_cpu_shares: `goscope cpu` on tests/go/cpuburn, whose one locked
# thread splits its CPU by design 60% main.burnA, 20% main.burnB, 20%
# write(2) of 64 KiB to a tmpfs file, and measures each phase itself with
# its thread CPU clock over a window that SIGUSR1 opens (the truth).
#
# Checks: cumulative shares within 7 points of the program's own (at
# -F 499: enough samples on a busy machine, where the program may get a
# fifth of a core; 3 sd of the sampling if even that leaves too few); the
# write samples carry kernel frames of the write path, innermost first;
# the leaf fix-up (spinA/spinB have no frame: without it their caller is
# skipped); folded output root first with _[k] kernel frames at the leaf
# end; -f pprof opens in `go tool pprof` with thread and goid labels;
# --goid, --func and --no-kernel select what they say; bad options.
. "$(dirname "$0")/lib.sh"
need_go

go_build "$TMP/cpuburn" cpuburn || die "cannot build tests/go/cpuburn"
spawn "$TMP/burn.out" "$TMP/burn.err" "$TMP/cpuburn" -secs 6
burn=$SPAWN_PID
wait_line "$TMP/burn.out" "ready" "$burn" || die "cpuburn did not start: $(cat "$TMP/burn.err")"
CHECK() { "$PYTHON" "$E2E_DIR/cpu_check.py" "$@"; }

# gs_run OUT ERR ARGS...: goscope cpu -p cpuburn ARGS in the background
# until its ready line; its pid in GS.
gs_run() {
	local out=$1 err=$2
	shift 2
	"$GOSCOPE" cpu -p "$burn" "$@" >"$out" 2>"$err" &
	GS=$!
	wait_line "$err" "^goscope: tracing" "$GS" 30
}

gs_run "$TMP/shares.json" "$TMP/shares.err" -d 8 -F 499 --json || die "goscope cpu did not start: $(cat "$TMP/shares.err")"
kill -USR1 "$burn"
wait "$GS"
expect_eq "cpu -d 8 -F 499 --json: exit status" "$?" 0
wait_line "$TMP/burn.out" "^window" "$burn" 10 || fail "cpuburn printed no window line"
check_v "shares within 7 points of the program's thread CPU clock; write path in the kernel; leaf fix-up" \
	CHECK shares "$TMP/shares.json" "$(grep '^window' "$TMP/burn.out" | tail -1)"

gs_run "$TMP/folded" "$TMP/folded.err" -d 3 -f folded || fail "cpu -f folded did not start"
wait "$GS"
check_v "-f folded: root first, kernel frames last with _[k]" CHECK folded "$TMP/folded"
check "-f folded: runtime.main;main.main;main.burnA;main.spinA" \
	grep -qE '^runtime\.main;main\.main;main\.burnA;main\.spinA [0-9]+$' "$TMP/folded"
check "-f folded: ...;main.writes;...;ksys_write_[k];..." \
	grep -qE '^runtime\.main;main\.main;main\.writes;.*syscall\.Syscall6?;.*ksys_write_\[k\]' "$TMP/folded"

gs_run /dev/null "$TMP/pprof.err" -d 3 -f pprof -o "$TMP/cpu.pb.gz" || fail "cpu -f pprof did not start"
wait "$GS"
expect_eq "-f pprof -o: exit status" "$?" 0
go tool pprof -top "$TMP/cpu.pb.gz" >"$TMP/pprof.top" 2>&1
check "go tool pprof -top opens it: main.spinA among the functions" grep -q 'main\.spinA$' "$TMP/pprof.top"
check "go tool pprof: sample types samples/count and cpu/nanoseconds" \
	sh -c "go tool pprof -raw '$TMP/cpu.pb.gz' 2>/dev/null | grep -q 'samples/count cpu/nanoseconds'"
go tool pprof -tags "$TMP/cpu.pb.gz" >"$TMP/pprof.tags" 2>&1
check "go tool pprof -tags: thread and goid labels" sh -c "grep -q 'thread:' '$TMP/pprof.tags' && grep -q 'goid:' '$TMP/pprof.tags'"

# --goid 1: main (goroutine 1) runs every phase.
gs_run "$TMP/goid.json" "$TMP/goid.err" -d 2 --goid 1 --json || fail "cpu --goid did not start"
wait "$GS"
# (Work on the system stack for goroutine 1 counts as its, on g0: the walk
# there ends at the system stack's root on Go 1.19.)
check_v "--goid 1: samples, every stack under main.main (or on g0 for it)" "$PYTHON" -c '
import sys, jstream
o = jstream.load(sys.argv[1])
st = [x for x in o if x["type"] == "stack"]
n = sum(x["samples"] for x in st)
bad = [x["stack"][:3] for x in st if not x["on_g0"] and
       not any(f.startswith("main.main ") for f in x["stack"])]
print("%d samples, %d stacks not under main.main" % (n, len(bad)), bad[:2])
sys.exit(0 if n > 0 and not bad else 1)' "$TMP/goid.json"
gs_run "$TMP/goid0.json" "$TMP/goid0.err" -d 1 --goid 999999 --json || fail "cpu --goid 999999 did not start"
wait "$GS"
expect_eq "--goid 999999 (no such goroutine): samples" "$(json_get <(tail -1 "$TMP/goid0.json") samples)" 0

gs_run "$TMP/func.json" "$TMP/func.err" -d 2 --func main.burnB --json || fail "cpu --func did not start"
wait "$GS"
check_v "--func main.burnB: every stack has main.burnB, fewer samples than in all" "$PYTHON" -c '
import sys, jstream
o = jstream.load(sys.argv[1])
st = [x for x in o if x["type"] == "stack"]
s = [x for x in o if x["type"] == "summary"][0]
bad = [x for x in st if not any(f.startswith("main.burnB ") for f in x["stack"])]
print("%d of %d samples kept; %d stacks without main.burnB" % (s["samples"], s["samples_all"], len(bad)))
sys.exit(0 if st and not bad and s["samples"] < s["samples_all"] else 1)' "$TMP/func.json"

gs_run "$TMP/nok.json" "$TMP/nok.err" -d 2 --no-kernel --json || fail "cpu --no-kernel did not start"
wait "$GS"
check_v "--no-kernel: no kernel frames; write samples end in the Go syscall frame" "$PYTHON" -c '
import sys, jstream
o = jstream.load(sys.argv[1])
st = [x for x in o if x["type"] == "stack"]
k = sum(1 for x in st for f in x["stack"] if f.endswith(" [k]"))
sc = sum(x["samples"] for x in st if x["stack"] and "Syscall" in x["stack"][0])
print("%d kernel frames, %d samples with a Syscall leaf" % (k, sc))
sys.exit(0 if k == 0 and sc > 0 else 1)' "$TMP/nok.json"

# Bad input: one goscope line, exit 2 (options) or 1 (target).
"$GOSCOPE" cpu -p "$burn" -F 0 -d 1 >/dev/null 2>"$TMP/bad1"
expect_eq "-F 0: exit 2" "$?" 2
check "-F 0: one goscope: cpu: line" grep -q '^goscope: cpu: .*-F' "$TMP/bad1"
"$GOSCOPE" cpu -p "$burn" -f pprof -d 1 >/dev/null 2>"$TMP/bad2"
expect_eq "-f pprof without -o: exit 2" "$?" 2
"$GOSCOPE" cpu -p $$ -d 1 >/dev/null 2>"$TMP/bad3"
expect_eq "-p (a shell, not Go): exit 1" "$?" 1
check "-p not Go: one line" test "$(wc -l <"$TMP/bad3")" -eq 1
kill -0 "$burn" 2>/dev/null
expect_eq "cpuburn still running" "$?" 0

finish
