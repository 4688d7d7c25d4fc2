#!/usr/bin/env bash
# test_cpu_released: `goscope cpu` on released, stripped Go binaries:
# esbuild built with Go 1.17 to 1.26 (scripts/testbins.sh) rebuilding a
# generated 300-module project in --watch mode while its files change, and
# Debian's caddy (Go 1.19, cgo) serving a file under wrk.
#
# Truth for "every frame symbolized": the executable's own segments, read
# by elfmini.py (not goscope): no frame may be a bare hex address inside
# them, and goscope's own count of pcs in Go text without a function is 0.
# Stacks are deep (median >= 4 frames: the frame-pointer walk goes through),
# the programs' own packages are in them, and the targets keep running.
. "$(dirname "$0")/lib.sh"
CHECK() { "$PYTHON" "$E2E_DIR/cpu_check.py" "$@"; }

# gen_project DIR: 300 modules importing each other, 20 functions each.
gen_project() {
	rm -rf "$1" && mkdir -p "$1/src"
	"$PYTHON" - "$1/src" <<'PY'
import sys
d, n = sys.argv[1], 300
for i in range(n):
    with open("%s/m%d.js" % (d, i), "w") as f:
        if i + 1 < n:
            f.write("import { f%d } from './m%d.js';\n" % (i + 1, i + 1))
        for k in range(20):
            f.write("export function g%d_%d(a, b) { const o = { x: a + %d, y: [b, a, %d], s: `m%d ${a}` };"
                    " return JSON.stringify(o).length + (a > b ? a - b : b - a); }\n" % (i, k, k, i, i))
        f.write("export function f%d(x) { return g%d_0(x, %d) + g%d_1(x, 1); }\n" % (i, i, i, i))
with open("%s/entry.js" % d, "w") as f:
    for i in range(n):
        f.write("import { f%d } from './m%d.js';\n" % (i, i))
    f.write("console.log(" + "+".join("f%d(1)" % i for i in range(n)) + ");\n")
PY
}

# edit_project DIR SECONDS: rewrite every module (atomically) every 50 ms.
edit_project() {
	"$PYTHON" - "$1/src" "$2" <<'PY'
import os, sys, time
d, end = sys.argv[1], time.time() + float(sys.argv[2])
files = [os.path.join(d, f) for f in os.listdir(d) if f.startswith("m")]
base = {f: open(f).read() for f in files}
k = 0
while time.time() < end:
    k += 1
    for f in files:
        with open(f + ".tmp", "w") as fp:
            fp.write(base[f] + "export const rev = %d;\n" % k)
        os.replace(f + ".tmp", f)
    time.sleep(0.05)
PY
}

nes=0
for v in 0.13.15 0.17.19 0.22.0 0.25.12 0.27.7 0.28.2; do
	es=$TESTBINS/esbuild-$v/esbuild
	[ -x "$es" ] || continue
	nes=$((nes + 1))
	gover=$("$GOSCOPE" info "$es" 2>/dev/null | sed -n 's/^go version: *\(go[0-9.]*\).*/\1/p')
	proj=$TMP/proj-$v
	gen_project "$proj"
	spawn "$TMP/es-$v.out" "$TMP/es-$v.err" "$es" "$proj/src/entry.js" --bundle --minify \
		--outfile="$proj/out.js" --watch
	pid=$SPAWN_PID
	if ! wait_line "$TMP/es-$v.err" "build finished|watching" "$pid" 30; then
		fail "esbuild $v --watch did not start: $(tail -3 "$TMP/es-$v.err")"
		continue
	fi
	"$GOSCOPE" cpu -p "$pid" -d 4 -F 299 --json >"$TMP/es-$v.json" 2>"$TMP/es-$v.gs.err" &
	gs=$!
	wait_line "$TMP/es-$v.gs.err" "^goscope: tracing" "$gs" 30 ||
		{ fail "goscope cpu on esbuild $v did not start: $(cat "$TMP/es-$v.gs.err")"; continue; }
	edit_project "$proj" 4.5
	wait "$gs"
	expect_eq "esbuild $v ($gover) --watch: cpu -d 4 --json exit status" "$?" 0
	check_v "esbuild $v ($gover): no hex frame in the executable, deep stacks" \
		CHECK nohex "$TMP/es-$v.json" "$es" "$pid" 20
	check "esbuild $v: its own parser and printer in the stacks" \
		grep -q 'github.com/evanw/esbuild/internal/js_' "$TMP/es-$v.json"
	kill -0 "$pid" 2>/dev/null && pass "esbuild $v still running" || fail "esbuild $v died"
	kill "$pid" 2>/dev/null
done
[ "$nes" -gt 0 ] || log "no esbuild in $TESTBINS (scripts/testbins.sh): skipped"

if [ -x /usr/bin/caddy ] && command -v wrk >/dev/null; then
	mkdir -p "$TMP/www" "$TMP/home"
	head -c 20000 /dev/urandom | base64 >"$TMP/www/index.html"
	port=$(free_port)
	spawn "$TMP/caddy.out" "$TMP/caddy.err" env HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home" \
		XDG_DATA_HOME="$TMP/home" /usr/bin/caddy file-server --listen "127.0.0.1:$port" --root "$TMP/www"
	caddy=$SPAWN_PID
	wait_port 127.0.0.1 "$port" "$caddy" || die "caddy not serving on $port: $(tail -3 "$TMP/caddy.err")"
	"$GOSCOPE" cpu -p "$caddy" -d 4 --json >"$TMP/caddy.json" 2>"$TMP/caddy.gs.err" &
	gs=$!
	wait_line "$TMP/caddy.gs.err" "^goscope: tracing" "$gs" 30 || die "goscope cpu on caddy did not start"
	wrk -t1 -c8 -d5s "http://127.0.0.1:$port/" >"$TMP/wrk.out" 2>&1
	wait "$gs"
	expect_eq "caddy under wrk: cpu -d 4 --json exit status" "$?" 0
	check_v "caddy (go1.19, cgo): no hex frame in the executable, deep stacks" \
		CHECK nohex "$TMP/caddy.json" /usr/bin/caddy "$caddy" 50
	check "caddy: net/http serving and kernel TCP frames in the stacks" \
		sh -c "grep -q 'net/http.(\*conn).serve' '$TMP/caddy.json' && grep -q 'tcp_sendmsg.* \[k\]' '$TMP/caddy.json'"
	body=$(curl -fsS --max-time 10 "http://127.0.0.1:$port/" 2>/dev/null | head -c 10)
	[ -n "$body" ] && pass "caddy still serves" || fail "caddy does not serve after goscope"
else
	log "no caddy or wrk: caddy part skipped"
fi

finish
