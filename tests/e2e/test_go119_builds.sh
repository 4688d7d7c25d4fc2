#!/usr/bin/env bash
# test_go119_builds: goscope on tests/go/blockers built by Debian's go1.19
# in the ways programs get built: default, CGO_ENABLED=0, -buildmode=pie, a
# real cgo file (-tags goscope_cgo, externally linked), -trimpath,
# -ldflags='-s -w', and PIE and cgo with -s -w; plus tests/go/hello (pure
# Go, no net) default and -buildmode=pie.
#
# Truths, each independent of goscope:
#   go_version, main_path, main_module/version, settings  `go version -m`
#   pie      ELF type DYN (readelf -h)
#   static   no PT_INTERP (readelf -l)
#   stripped no .symtab (readelf -S)
#   dwarf    .debug_info or .zdebug_info present (readelf -S)
#   cgo      runtime/cgo linked in: `go tool nm` of the binary, or of its
#            unstripped twin for -s -w builds (-s -w drops symbols and DWARF,
#            not code). Measured with go1.19.8 here: importing net with
#            cgo enabled (the default, gcc is installed) links runtime/cgo,
#            so the *default* blockers build is a cgo program too (internally
#            linked); only CGO_ENABLED=0 is not. -buildmode=pie does NOT
#            link runtime/cgo by itself on linux/amd64 (internal linking):
#            hello built as a PIE has none, though it has a PT_INTERP and
#            `go version -m` says CGO_ENABLED=1.
#   offsets  offsets_source is "dwarf" with DWARF, "table" without, and
#            both give the same offsets (twin builds: Go 1.19's table must
#            equal what DWARF says).
#   text     runtime.text from `go tool nm` (a2lcompare.py), then
#   addr2line agreement with `go tool addr2line`: 2000 random addresses in
#            .text and 900 function boundaries, 100%
#   live     `goscope addr2line -i PID` (run-time addresses, PIE bias) vs
#            the process's own SIGQUIT traceback (tracedump.py), every frame;
#            `goscope info --json PID` load_bias vs AT_ENTRY - e_entry.
. "$(dirname "$0")/lib.sh"
need_go
command -v readelf >/dev/null || skip "no readelf"

# name | package | environment | go build flags (;-separated) | unstripped twin
VARIANTS=(
	"default|blockers|||"
	"nocgo|blockers|CGO_ENABLED=0||"
	"pie|blockers||-buildmode=pie|"
	"cgo|blockers||-tags=goscope_cgo|"
	"trimpath|blockers||-trimpath|"
	"sw|blockers||-ldflags=-s -w|default"
	"piesw|blockers||-buildmode=pie;-ldflags=-s -w|pie"
	"cgosw|blockers||-tags=goscope_cgo;-ldflags=-s -w|cgo"
	"hello|hello|||"
	"hellopie|hello||-buildmode=pie|"
)
LIVE="default nocgo pie cgo piesw cgosw"
BLOCKERS="main.blockChanRecv main.blockSelect main.blockMutex main.blockSleep
	main.blockNetRead main.blockPipeRead main.recvOne main.lockIt main.sleepLong"

B=$TMP/bin
mkdir -p "$B"
declare -A TWIN

# --- build ---------------------------------------------------------------------
for v in "${VARIANTS[@]}"; do
	IFS='|' read -r name pkg envs flags twin <<<"$v"
	IFS=';' read -ra args <<<"$flags"
	TWIN[$name]=$twin
	if ! (
		# shellcheck disable=SC2086,SC2163 # envs is "VAR=value ..."
		[ -z "$envs" ] || export $envs
		go_build "$B/$name" "$pkg" "${args[@]}"
	) >"$TMP/build-$name.log" 2>&1; then
		fail "build $name: $(tail -5 "$TMP/build-$name.log")"
		continue
	fi
	log "built $name: ${envs:+$envs }go build ${args[*]:+${args[*]} }./$pkg"
done

# --- truths --------------------------------------------------------------------
# (grep reads captured output: `cmd | grep -q` fails under pipefail when
# grep exits before cmd has written everything.)
has_section() { grep -qE "[[:space:]]($2)[[:space:]]" <<<"$(readelf -SW "$1" 2>/dev/null)"; }
truth_cgo() {
	local bin=$1
	[ -n "${TWIN[$2]}" ] && bin=$B/${TWIN[$2]}
	if grep -q ' runtime/cgo\.' <<<"$(go tool nm "$bin" 2>/dev/null)"; then
		echo true
	else
		echo false
	fi
}
# buildinfo_json BIN: go version -m as {"path","mod","modver","settings"}.
buildinfo_json() {
	go version -m "$1" | "$PYTHON" -c '
import json, sys
r = {"path": None, "mod": None, "modver": None, "settings": {}}
for l in sys.stdin:
    f = l.rstrip("\n").split("\t")
    if len(f) < 3: continue
    if f[1] == "path": r["path"] = f[2]
    elif f[1] == "mod": r["mod"], r["modver"] = f[2], f[3]
    elif f[1] == "build":
        k, _, v = f[2].partition("=")
        r["settings"][k] = v
print(json.dumps(r, sort_keys=True))'
}
jq_() { "$PYTHON" -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(json.dumps(v, sort_keys=True) if isinstance(v,(dict,list)) or v is None or isinstance(v,bool) else v)' "$1" "$2"; }

for v in "${VARIANTS[@]}"; do
	name=${v%%|*}
	bin=$B/$name
	[ -x "$bin" ] || continue
	log "$name:"
	if ! "$GOSCOPE" info --json "$bin" >"$TMP/$name.json" 2>"$TMP/$name.err"; then
		fail "$name: goscope info: $(cat "$TMP/$name.err")"
		continue
	fi
	j=$TMP/$name.json
	bi=$(buildinfo_json "$bin")

	expect_eq "$name: go_version" "$(json_get "$j" go_version)" "$(go version "$bin" | awk '{print $2}')"
	if grep -qE 'Type:[[:space:]]+DYN' <<<"$(readelf -h "$bin")"; then t=true; else t=false; fi
	expect_eq "$name: pie" "$(json_get "$j" pie)" "$t"
	if grep -q INTERP <<<"$(readelf -lW "$bin")"; then t=false; else t=true; fi
	expect_eq "$name: static" "$(json_get "$j" static)" "$t"
	if has_section "$bin" '\.symtab'; then t=false; else t=true; fi
	expect_eq "$name: stripped" "$(json_get "$j" stripped)" "$t"
	if has_section "$bin" '\.z?debug_info'; then dw=true; else dw=false; fi
	expect_eq "$name: dwarf" "$(json_get "$j" dwarf)" "$dw"
	expect_eq "$name: cgo" "$(json_get "$j" cgo)" "$(truth_cgo "$bin" "$name")"
	expect_eq "$name: main_path" "$(json_get "$j" main_path)" "$(jq_ "$bi" path)"
	expect_eq "$name: main_module" "$(json_get "$j" main_module)" "$(jq_ "$bi" mod)"
	expect_eq "$name: main_version" "$(json_get "$j" main_version)" "$(jq_ "$bi" modver)"
	expect_eq "$name: settings" "$(json_get "$j" settings)" "$(jq_ "$bi" settings)"
	if [ "$name" = trimpath ]; then
		expect_eq "$name: settings -trimpath" \
			"$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["settings"].get("-trimpath"))' "$j")" true
	fi
	if [ "$dw" = true ]; then t=dwarf; else t=table; fi
	expect_eq "$name: offsets_source" "$(json_get "$j" offsets_source)" "$t"
	twin=${TWIN[$name]}
	if [ -n "$twin" ] && [ -f "$TMP/$twin.json" ]; then
		expect_eq "$name: offsets (table) equal $twin's (DWARF)" \
			"$(json_get "$j" offsets)" "$(json_get "$TMP/$twin.json" offsets)"
	fi
	check_v "$name: addr2line agrees with go tool addr2line (2000 random, 900 boundaries)" \
		a2lcompare --goscope "$GOSCOPE" --binary "$bin" -n 2000 --seed 7 \
		--min-agree 100 --entries 300 --prologue
done

# --- live processes: goscope on the PID vs the runtime's SIGQUIT dump ----------
for name in $LIVE; do
	bin=$B/$name
	[ -x "$bin" ] || continue
	expect=()
	for f in $BLOCKERS; do expect+=(--expect "$f"); done
	case $name in cgo*) expect+=(--expect main.blockCgoSleep) ;; esac
	spawn "$TMP/live-$name.out" "$TMP/live-$name.err" env GOTRACEBACK=system "$bin"
	pid=$SPAWN_PID
	if ! wait_line "$TMP/live-$name.out" '^blockers: ready' "$pid" 60; then
		fail "$name: blockers not ready: $(tail -3 "$TMP/live-$name.err")"
		continue
	fi
	if "$GOSCOPE" info --json "$pid" >"$TMP/live-$name.json" 2>"$TMP/live-$name.ierr"; then
		expect_eq "$name (pid): load_bias" "$(json_get "$TMP/live-$name.json" load_bias)" \
			"$("$PYTHON" "$E2E_DIR/elfmini.py" bias "$pid")"
	else
		fail "$name (pid): goscope info: $(cat "$TMP/live-$name.ierr")"
	fi
	check_v "$name (pid $pid): addr2line -i matches every frame of the SIGQUIT dump" \
		tracedump check --goscope "$GOSCOPE" --pid "$pid" --dump "$TMP/live-$name.err" \
		--min-frames 30 "${expect[@]}"
done
finish
