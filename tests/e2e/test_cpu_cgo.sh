#!/usr/bin/env bash
# test_cpu_cgo: native frames. tests/go/cgospin spends its CPU in a C
# function, cspin, called in a loop from main.spinLoop through cgo. Built
# twice: as is (cspin in .symtab) and with -ldflags=-s (no .symtab: the
# name must come from .dynsym, where the external linker puts it); readelf
# says which tables each build has. Truth: the program's design (all of
# its CPU is in cspin), nm for the symbol, the Go caller in the source.
# Checks: the user leaf of >= 90% of samples is cspin, the Go frames that called
# it follow (the walk crosses runtime.asmcgocall), cgo calls run on g0.
. "$(dirname "$0")/lib.sh"
need_go
command -v gcc >/dev/null || skip "no gcc (cgo)"
command -v readelf >/dev/null || skip "no readelf"

CGO_ENABLED=1 go_build "$TMP/cgospin" cgospin || die "cannot build tests/go/cgospin"
CGO_ENABLED=1 go_build "$TMP/cgospin-s" cgospin -ldflags=-s || die "cannot build cgospin -ldflags=-s"
check "cgospin has cspin in .symtab (nm)" sh -c "nm '$TMP/cgospin' | grep -qw 'T cspin'"
check "cgospin-s has no .symtab (readelf)" sh -c "! readelf -S '$TMP/cgospin-s' | grep -q '\.symtab'"
check "cgospin-s has cspin in .dynsym (readelf)" sh -c "readelf --dyn-syms -W '$TMP/cgospin-s' | grep -qw cspin"

for b in cgospin cgospin-s; do
	spawn "$TMP/$b.out" "$TMP/$b.err" "$TMP/$b"
	pid=$SPAWN_PID
	wait_line "$TMP/$b.out" ready "$pid" || die "$b did not start"
	"$GOSCOPE" cpu -p "$pid" -d 3 -F 299 --json >"$TMP/$b.json" 2>"$TMP/$b.gs.err"
	expect_eq "$b: cpu -d 3 --json exit status" "$?" 0
	check_v "$b: leaf cspin, then main._Cfunc_cspin and main.spinLoop, on g0" "$PYTHON" -c '
import sys, jstream
o = jstream.load(sys.argv[1])
st = [x for x in o if x["type"] == "stack"]
n = sum(x["samples"] for x in st)
# The user leaf: after the kernel frames of an interrupt that landed there.
user = lambda x: x["stack"][x["kernel_frames"]:]
leaf = sum(x["samples"] for x in st if user(x) and user(x)[0] == "cspin")
fr = lambda s: [f.split(" ")[0] for f in s]
caller = sum(x["samples"] for x in st if user(x) and user(x)[0] == "cspin"
             and "main._Cfunc_cspin" in fr(x["stack"]) and "main.spinLoop" in fr(x["stack"]))
g0 = sum(x["samples"] for x in st if x["on_g0"])
print("%d samples: leaf cspin %d, with its Go callers %d, on g0 %d" % (n, leaf, caller, g0))
sys.exit(0 if n >= 20 and leaf >= 0.9 * n and caller >= 0.9 * leaf and g0 >= 0.9 * n else 1)' "$TMP/$b.json"
	kill "$pid"
done

finish
