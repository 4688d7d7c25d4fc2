#!/usr/bin/env bash
# test_gc_esbuild: `goscope gc` on released, stripped Go binaries (esbuild
# built with Go 1.17, 1.18, 1.20, 1.22, 1.23, 1.25 and 1.26, buf built with
# Go 1.21 and tsgo with Go 1.24; scripts/testbins.sh), against
# GODEBUG=gctrace=1 of the same run.
#
# esbuild --serve bundles a generated project of 2000 modules with GOGC=5;
# each request after a change to a module rebuilds it, and each build
# collects a few times. These binaries have no DWARF: goscope finds
# runtime.work and runtime.gcController by decoding gcMarkTermination with
# the per-release table (src/gobin/goruntime.c, measured on these same
# binaries against gctrace), and reads the runtime's own figures: every
# cycle it reports is in gctrace with the same number (none missing), the
# same phases (20% or 100 us), heap start/end/live and goal (1 MB), CPU
# split (assist, background, idle, to gctrace's rounding) and P count; no
# figure is said to be unmeasured; before Go 1.21 the pauses' reasons are
# read from m.preemptoff (its offset in the table), from Go 1.21 named from
# the binary's own stwReasonStrings: esbuild stops the world only for its
# GC, so every pause is one of a cycle's two, none other and none unnamed.
# The target keeps running afterwards.
#
# No esbuild was built with Go 1.21 or 1.24: buf 1.28.1 (go1.21.4) builds a
# generated tree of 150 .proto files and tsgo 7.0.0-dev.20250707.2
# (go1.24.4) type-checks a generated project of 800 .ts files, GOGC=5 both;
# each one-shot run is stopped (SIGSTOP) as soon as it is the Go program,
# goscope attaches, the run goes on to its end (exit 0) and goscope ends
# with it: the same checks against gctrace (neither stops the world for
# anything but its GC either).
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
for spec in 0.13.15:go1.17 0.14.49:go1.18 0.17.19:go1.20 0.22.0:go1.22 0.25.12:go1.23 0.27.7:go1.25 0.28.2:go1.26; do
	ver=${spec%%:*} go=${spec#*:}
	ES=$TESTBINS/esbuild-$ver/esbuild
	[ -x "$ES" ] || { log "no $ES (scripts/testbins.sh): skipped"; continue; }
	ran=$((ran + 1))
	port=$(free_port)
	# esbuild resolves the entry from its working directory.
	cd "$TMP/proj" || die "cd"
	spawn "$TMP/$ver.out" "$TMP/$ver.trace" env GOGC=5 GODEBUG=gctrace=1 \
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
	check_v "esbuild $ver ($go): every cycle in gctrace: number, phases, heap, goal, CPU split, procs" \
		"$PYTHON" "$E2E_DIR/gc_check.py" gctrace "$TMP/$ver.trace" "$TMP/$ver.json" --min-cycles 3
	check "esbuild $ver ($go): heap figures and CPU split measured" \
		bash -c "! grep -q 'heap figures\\|CPU split\\|heap goal' '$TMP/$ver.err'"
	if [ "${go#go1.}" -lt 21 ]; then
		check "esbuild $ver ($go): pause reasons read from m.preemptoff (no note)" \
			bash -c "! grep -q 'reasons of pauses other than the GC.s not named' '$TMP/$ver.err'"
	fi
	check_v "esbuild $ver ($go): two GC pauses per cycle, none other, none unnamed" \
		"$PYTHON" "$E2E_DIR/gc_check.py" pauses "$TMP/$ver.json"
	if [ "${go#go1.}" -ge 21 ]; then
		check "esbuild $ver ($go): pause reasons named from the binary's stwReasonStrings" \
			bash -c "! grep -q 'pause reasons shown as numbers' '$TMP/$ver.err'"
	fi
	check "esbuild $ver ($go): still running after goscope detached" kill -0 "$es"
	kill "$es"
done
# oneshot NAME GO DIR BIN ARGS...: BIN run in DIR with gctrace, held while
# goscope attaches, then to its end; goscope's cycles against gctrace.
oneshot() {
	local name=$1 go=$2 dir=$3 bin=$4 pid gs n=500
	shift 3
	[ -x "$bin" ] || { log "no $bin (scripts/testbins.sh): skipped"; return; }
	ran=$((ran + 1))
	cd "$dir" || die "cd $dir"
	spawn "$TMP/$name.out" "$TMP/$name.trace" env GOGC=5 GODEBUG=gctrace=1 "$@"
	pid=$SPAWN_PID
	cd - >/dev/null || die "cd -"
	# spawn's shell execs env, env execs the program: stop it as that.
	while [ "$(readlink "/proc/$pid/exe")" != "$(readlink -f "$bin")" ] && [ $n -gt 0 ]; do
		sleep 0.01
		n=$((n - 1))
	done
	kill -STOP "$pid"
	"$GOSCOPE" gc -p "$pid" -d 300 --json >"$TMP/$name.json" 2>"$TMP/$name.err" &
	gs=$!
	if ! wait_ready "$TMP/$name.err" "$gs" 60; then
		kill -CONT "$pid"
		fail "$name ($go): goscope never ready"
		return
	fi
	kill -CONT "$pid"
	wait_exit "$pid" 240 || { fail "$name ($go): still running after 240 s"; return; }
	expect_eq "$name ($go): ran to its end under goscope (exit status)" "$WAIT_STATUS" 0
	wait "$gs"
	expect_eq "$name ($go): goscope gc --json exit status, ended with its target" "$?" 0
	check_v "$name ($go): every cycle in gctrace: number, phases, heap, goal, CPU split, procs" \
		"$PYTHON" "$E2E_DIR/gc_check.py" gctrace "$TMP/$name.trace" "$TMP/$name.json" --min-cycles 3
	check "$name ($go): heap figures and CPU split measured" \
		bash -c "! grep -q 'heap figures\\|CPU split\\|heap goal' '$TMP/$name.err'"
	check "$name ($go): pause reasons named from the binary's stwReasonStrings" \
		bash -c "! grep -q 'pause reasons shown as numbers' '$TMP/$name.err'"
	check_v "$name ($go): two GC pauses per cycle, none other, none unnamed" \
		"$PYTHON" "$E2E_DIR/gc_check.py" pauses "$TMP/$name.json"
}

mkdir -p "$TMP/pb" "$TMP/ts/src"
"$PYTHON" - "$TMP/pb" "$TMP/ts" <<'PY'
import sys
pb, ts = sys.argv[1], sys.argv[2]
n = 150
for i in range(n):
    deps = [j for j in (2 * i + 1, 2 * i + 2) if j < n]
    s = 'syntax = "proto3";\npackage p%d;\n' % i
    s += "".join('import "m%d.proto";\n' % j for j in deps)
    for k in range(20):
        s += "message M%d {\n" % k
        s += "".join("  string f%d = %d;\n" % (f, f + 1) for f in range(20))
        s += "".join("  p%d.M%d r%d = %d;\n" % (j, k, x, 100 + x) for x, j in enumerate(deps))
        s += "}\n"
    open("%s/m%d.proto" % (pb, i), "w").write(s)
n = 800
for i in range(n):
    deps = [j for j in (2 * i + 1, 2 * i + 2) if j < n]
    s = "".join('import { C%d, f%d } from "./m%d";\n' % (j, j, j) for j in deps)
    s += "export interface I%d { a: number; b: string; c: Array<I%d | undefined>; }\n" % (i, i)
    s += "export class C%d implements I%d {\n  a = %d; b = \"x%d\"; c: Array<I%d | undefined> = [];\n" % (i, i, i, i, i)
    s += "".join("  m%d<T extends { a: number }>(x: T, y: Record<string, T>): T | number { return x.a > %d ? x : Object.keys(y).length + this.a; }\n" % (k, k) for k in range(15))
    s += "}\nexport function f%d(x: number): number {\n  let s = %d;\n" % (i, i)
    s += "".join("  s += f%d(x - 1) + new C%d().a;\n" % (j, j) for j in deps)
    s += "  return s;\n}\n"
    open("%s/src/m%d.ts" % (ts, i), "w").write(s)
open(ts + "/tsconfig.json", "w").write('{"compilerOptions": {"strict": true, "noEmit": true, "target": "es2020", "module": "esnext", "moduleResolution": "bundler"}, "include": ["src"]}\n')
PY
BUF=$TESTBINS/buf-1.28.1/buf
TSGO=$TESTBINS/tsgo-7.0.0-dev.20250707.2/tsgo
oneshot buf-1.28.1 go1.21 "$TMP/pb" "$BUF" build . -o /dev/null
oneshot tsgo go1.24 "$TMP/ts" "$TSGO" -p .
[ -x "$TSGO" ] && check "tsgo (go1.24): the generated project type-checks clean (no output)" \
	bash -c "[ ! -s '$TMP/tsgo.out' ]"

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
