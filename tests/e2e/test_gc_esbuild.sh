#!/usr/bin/env bash
# test_gc_esbuild: `goscope gc` on released, stripped Go binaries (esbuild
# built with Go 1.17, 1.20, 1.23, 1.25 and 1.26; scripts/testbins.sh),
# against GODEBUG=gctrace=1 of the same run.
#
# esbuild --serve bundles a generated project of 2000 modules; each request
# after a change to a module rebuilds it, and each build collects a few
# times. These binaries have no DWARF and their runtime.work layout is not
# in goscope's table (only Go 1.19's is verified), so goscope says which
# figures it cannot measure (heap, CPU split), reads the cycle number from
# runtime.work.cycles (found by decoding runtime.gcWaitOnMark) and times the
# phases with the pause probes: the cycles it reports must be consecutive
# gctrace cycles with the same numbers (none missing) whose sweep
# termination, concurrent mark and mark termination agree within 20% or
# 100 us (200 us for the pauses), GOMAXPROCS is gctrace's P count (runtime.gomaxprocs
# decoded from runtime.GOMAXPROCS); from Go 1.21 the pauses' reasons are
# named from the binary's own stwReasonStrings (the GC's two are told
# apart by them). The target keeps running afterwards.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || skip "no curl"

mkdir -p "$TMP/proj/src"
"$PYTHON" - "$TMP/proj/src" <<'PY'
import sys
d, n = sys.argv[1], 2000
for i in range(n):
    deps = [j for j in (2 * i + 1, 2 * i + 2) if j < n]
    imp = "".join('import {f%d} from "./m%d.js";\n' % (j, j) for j in deps)
    calls = " + ".join("f%d(x - 1)" % j for j in deps) or "0"
    body = "export function f%d(x) { let s = %d; for (let k = 0; k < x; k++) s += k * %d; return s + %s; }\n" % (i, i, i, calls)
    body += "export const data%d = %r;\n" % (i, ["item %d %d" % (i, k) for k in range(20)])
    open("%s/m%d.js" % (d, i), "w").write(imp + body)
open(d + "/entry.js", "w").write('import {f0} from "./m0.js";\nconsole.log(f0(3));\n')
PY

ran=0
for spec in 0.13.15:go1.17 0.17.19:go1.20 0.25.12:go1.23 0.27.7:go1.25 0.28.2:go1.26; do
	ver=${spec%%:*} go=${spec#*:}
	ES=$TESTBINS/esbuild-$ver/esbuild
	[ -x "$ES" ] || { log "no $ES (scripts/testbins.sh): skipped"; continue; }
	ran=$((ran + 1))
	port=$(free_port)
	# esbuild resolves the entry from its working directory.
	cd "$TMP/proj" || die "cd"
	spawn "$TMP/$ver.out" "$TMP/$ver.trace" env GODEBUG=gctrace=1 \
		"$ES" src/entry.js --bundle --outdir=out --serve="127.0.0.1:$port"
	es=$SPAWN_PID
	cd - >/dev/null || die "cd -"
	wait_port 127.0.0.1 "$port" "$es" || { fail "esbuild $ver not serving"; continue; }
	"$GOSCOPE" gc -p "$es" -d 8 --json >"$TMP/$ver.json" 2>"$TMP/$ver.err" &
	gs=$!
	wait_line "$TMP/$ver.err" '^goscope: tracing' "$gs" 60 || { fail "$ver: goscope never ready: $(cat "$TMP/$ver.err")"; continue; }
	n=0
	while kill -0 "$gs" 2>/dev/null; do
		echo "export const z_${ver//./_}_$n = $n;" >>"$TMP/proj/src/m1999.js"
		curl -fs --max-time 20 -o /dev/null "http://127.0.0.1:$port/entry.js" || true
		n=$((n + 1))
	done
	wait "$gs"
	expect_eq "esbuild $ver ($go): goscope gc -d 8 --json exit status ($n rebuilds)" "$?" 0
	sleep 0.3
	check_v "esbuild $ver ($go): cycles are consecutive gctrace cycles with the same phases" \
		"$PYTHON" "$E2E_DIR/gc_check.py" timed "$TMP/$ver.trace" "$TMP/$ver.json" --min-cycles 3
	check "esbuild $ver ($go): the unmeasured figures are named" \
		grep -q 'heap figures and CPU split not measured' "$TMP/$ver.err"
	if [ "${go#go1.}" -ge 21 ]; then
		check "esbuild $ver ($go): pause reasons named from the binary's stwReasonStrings" \
			bash -c "! grep -q 'pause reasons shown as numbers' '$TMP/$ver.err'"
	fi
	check "esbuild $ver ($go): still running after goscope detached" kill -0 "$es"
	kill "$es"
done
# Go 1.16 (esbuild 0.11.23): one line saying why, exit 1, target untouched.
ES=$TESTBINS/esbuild-0.11.23/esbuild
if [ -x "$ES" ]; then
	port=$(free_port)
	spawn "$TMP/old.out" "$TMP/old.err" "$ES" --serve="127.0.0.1:$port"
	es=$SPAWN_PID
	wait_port 127.0.0.1 "$port" "$es" || die "esbuild 0.11.23 not serving"
	"$GOSCOPE" gc -p "$es" -d 1 >"$TMP/old.gs" 2>"$TMP/old.gserr"
	expect_eq "esbuild 0.11.23 (go1.16): exit status" "$?" 1
	check "esbuild 0.11.23 (go1.16): one line naming Go 1.17" \
		bash -c "[ \$(wc -l <'$TMP/old.gserr') = 1 ] && grep -q '^goscope: gc: .*needs Go 1.17 or newer' '$TMP/old.gserr'"
	check "esbuild 0.11.23: still running" kill -0 "$es"
fi
[ $ran -gt 0 ] || skip "no esbuild test binaries"
finish
