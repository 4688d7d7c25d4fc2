#!/usr/bin/env bash
# test_cpu_multi: two processes in one `goscope cpu` (-p A -p B): each
# sample is symbolized with its own binary. tests/go/cpuburn spends its CPU
# in main.spinA/spinB and write(2), tests/go/cgospin in the C function
# cspin: in -f folded every line starts with "exe_(pid)" and cpuburn's
# functions appear only under cpuburn's pid, cspin only under cgospin's;
# the pprof profile (one mapping per binary) opens in `go tool pprof` with
# both; JSON goroutine rows carry their pid.
. "$(dirname "$0")/lib.sh"
need_go
command -v gcc >/dev/null || skip "no gcc (cgo)"

go_build "$TMP/cpuburn" cpuburn || die "cannot build tests/go/cpuburn"
CGO_ENABLED=1 go_build "$TMP/cgospin" cgospin || die "cannot build tests/go/cgospin"
spawn "$TMP/burn.out" "$TMP/burn.err" "$TMP/cpuburn"
burn=$SPAWN_PID
spawn "$TMP/cgo.out" "$TMP/cgo.err" "$TMP/cgospin"
cgo=$SPAWN_PID
wait_line "$TMP/burn.out" ready "$burn" || die "cpuburn did not start"
wait_line "$TMP/cgo.out" ready "$cgo" || die "cgospin did not start"

"$GOSCOPE" cpu -p "$burn" -p "$cgo" -d 3 -F 299 -f folded >"$TMP/folded" 2>"$TMP/folded.err"
expect_eq "cpu -p A -p B -f folded: exit status" "$?" 0
check "the ready line names both processes" grep -q "tracing 2 processes (pid $burn cpuburn, $cgo cgospin)" "$TMP/folded.err"
check_v "each line under its exe_(pid); cpuburn's functions under cpuburn, cspin under cgospin" \
	"$PYTHON" - "$TMP/folded" "$burn" "$cgo" <<'PY'
import sys
path, burn, cgo = sys.argv[1], sys.argv[2], sys.argv[3]
roots, bad, n = {}, [], 0
for line in open(path):
    fr = line.rsplit(" ", 1)[0].split(";")
    n += 1
    roots[fr[0]] = roots.get(fr[0], 0) + 1
    if fr[0] not in ("cpuburn_(%s)" % burn, "cgospin_(%s)" % cgo):
        bad.append(fr[0])
    if "main.spinA" in fr and fr[0] != "cpuburn_(%s)" % burn:
        bad.append("spinA under " + fr[0])
    if "cspin" in fr and fr[0] != "cgospin_(%s)" % cgo:
        bad.append("cspin under " + fr[0])
print("%d lines, roots %s" % (n, roots), bad[:3])
both = len([r for r in roots if r.endswith("(%s)" % burn) or r.endswith("(%s)" % cgo)]) == 2
sys.exit(0 if n and both and not bad else 1)
PY

"$GOSCOPE" cpu -p "$burn" -p "$cgo" -d 2 -F 299 -f pprof -o "$TMP/cpu.pb.gz" 2>"$TMP/pprof.err"
expect_eq "cpu -p A -p B -f pprof: exit status" "$?" 0
go tool pprof -top "$TMP/cpu.pb.gz" >"$TMP/top" 2>&1
check "go tool pprof -top: main.spinA and cspin" sh -c "grep -q 'main.spinA$' '$TMP/top' && grep -q ' cspin$' '$TMP/top'"

"$GOSCOPE" cpu -p "$burn" -p "$cgo" -d 2 --json >"$TMP/j" 2>/dev/null
check_v "JSON goroutine rows: main goroutine of each pid" "$PYTHON" -c '
import sys, jstream
g = [(x["pid"], x["goid"]) for x in jstream.load(sys.argv[1]) if x["type"] == "goroutine"]
print(g[:6])
sys.exit(0 if (int(sys.argv[2]), 1) in g and (int(sys.argv[3]), 1) in g else 1)' "$TMP/j" "$burn" "$cgo"

finish
