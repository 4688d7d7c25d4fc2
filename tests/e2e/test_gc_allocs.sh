#!/usr/bin/env bash
# test_gc_allocs: `goscope gc --allocs` sees the runtime's own sampled
# allocations with their Go stacks, in the right proportions.
#
# Target: tests/go/gcload (go1.19): its workers allocate 8 KiB blocks, 3 at
# main.allocA for every 1 at main.allocB, so allocA has 75% of the bytes.
# Checks: -f folded gives allocA 75% +- 10 points of the bytes under the
# two; -f pprof -o FILE is a profile `go tool pprof` opens, with sample
# types alloc_objects/alloc_space, whose alloc_space share for allocA is
# 75% +- 10 and within 10 points of the program's own runtime/pprof
# "allocs" profile (written on SIGUSR1).
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/gcload" gcload || die "go build gcload"
spawn "$TMP/g.out" "$TMP/g.err" env GOGC=50 "$TMP/gcload" -workers 2 -pause 5ms \
	-heapprof "$TMP/runtime.prof"
pid=$SPAWN_PID
wait_line "$TMP/g.out" '^gcload: ready' "$pid" 60 || die "gcload never ready"

"$GOSCOPE" gc -p "$pid" -d 3 -f folded >"$TMP/allocs.folded" 2>"$TMP/folded.err"
expect_eq "gc -d 3 -f folded: exit status" "$?" 0
check_v "folded: main.allocA has 75% of the sampled bytes (+-10 points)" \
	"$PYTHON" "$E2E_DIR/gc_check.py" ratio "$TMP/allocs.folded" main.allocA main.allocB 75
check "folded: stacks start at the allocating function (no runtime leaf)" \
	bash -c "! grep -q 'runtime\\.' '$TMP/allocs.folded'"

"$GOSCOPE" gc -p "$pid" -d 3 -f pprof -o "$TMP/allocs.pb.gz" 2>"$TMP/pprof.err"
expect_eq "gc -d 3 -f pprof -o FILE: exit status" "$?" 0
kill -USR1 "$pid"
wait_line "$TMP/g.out" '^gcload: heapprof written' "$pid" 20 || die "no runtime/pprof profile"

# share FILE: allocA's percentage of alloc_space in go tool pprof -top.
share() {
	go tool pprof -top -sample_index=alloc_space "$1" 2>/dev/null | "$PYTHON" -c '
import re, sys
v = {}
for line in sys.stdin:
    f = line.split()
    if len(f) >= 6 and f[-1] in ("main.allocA", "main.allocB"):
        m = re.match(r"([\d.]+)([kMG]?B)", f[3])
        v[f[-1]] = float(m.group(1)) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[m.group(2)]
a, b = v.get("main.allocA", 0), v.get("main.allocB", 0)
print("%.1f" % (100 * a / (a + b)) if a + b else "none")'
}
ours=$(share "$TMP/allocs.pb.gz")
theirs=$(share "$TMP/runtime.prof")
check "pprof: go tool pprof opens it, types alloc_objects and alloc_space" \
	bash -c "go tool pprof -raw '$TMP/allocs.pb.gz' 2>/dev/null | grep -q 'alloc_objects/count alloc_space/bytes'"
check_v "pprof: allocA ${ours}% of alloc_space, runtime/pprof ${theirs}%: both 75 +- 10, within 10 points" \
	"$PYTHON" -c "
import sys
o, t = float('$ours'), float('$theirs')
sys.exit(0 if abs(o - 75) <= 10 and abs(t - 75) <= 10 and abs(o - t) <= 10 else 1)"
finish
