#!/usr/bin/env bash
# The wait-reason table goscope reads out of a binary (runtime.waitReasonStrings,
# found in .data by its first entries) is exactly the runtime's own:
#  - for Go 1.19 programs, against the waitReasonStrings literal in the
#    toolchain's source (runtime/runtime2.go), entry by entry, on a default,
#    a PIE and a stripped (-s -w) build;
#  - for Debian's caddy (stripped go1.19.8), the same list;
#  - for every esbuild release (Go 1.17-1.26), the table starts with the
#    entries that have been stable since Go 1.12 and names the reasons the
#    offcpu tests rely on ("IO wait", "chan receive", "select", "sleep").
. "$(dirname "$0")/lib.sh"
need_go

src="$(go env GOROOT)/src/runtime/runtime2.go"
[ -f "$src" ] || skip "no Go runtime source at $src"
# The literal: waitReasonX: "text", in declaration order.
"$PYTHON" - "$src" >"$TMP/truth.json" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
body = text[text.index("var waitReasonStrings = [...]string{"):]
body = body[:body.index("\n}")]
order = re.findall(r"^\s*(waitReason\w+)\s*:\s*\"([^\"]*)\"", body, re.M)
# Index by the iota order of the waitReason constants.
consts = text[text.index("waitReasonZero "):]
consts = consts[:consts.index("\n)")]
names = re.findall(r"^\s*(waitReason\w+)", consts, re.M)
strings = dict(order)
print(json.dumps([strings.get(n, "") for n in names]))
PY

for variant in default pie stripped; do
	case $variant in
	default) go_build "$TMP/blockers-$variant" blockers ;;
	pie) go_build "$TMP/blockers-$variant" blockers -buildmode=pie ;;
	stripped) go_build "$TMP/blockers-$variant" blockers -ldflags='-s -w' ;;
	esac || die "go build ($variant) failed"
	"$GOSCOPE" info --json "$TMP/blockers-$variant" >"$TMP/$variant.json" ||
		die "goscope info failed on the $variant build"
	got=$(json_get "$TMP/$variant.json" wait_reasons)
	want=$("$PYTHON" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True))' "$TMP/truth.json")
	if [ "$got" == "$want" ]; then
		pass "go1.19 $variant build: $(echo "$got" | "$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)))') wait reasons equal runtime2.go's"
	else
		fail "go1.19 $variant build: wait reasons differ"
		log "got:  $got"
		log "want: $want"
	fi
done

if [ -x /usr/bin/caddy ]; then
	"$GOSCOPE" info --json /usr/bin/caddy >"$TMP/caddy.json"
	expect_eq "caddy (stripped go1.19.8) wait reasons" \
		"$(json_get "$TMP/caddy.json" wait_reasons)" \
		"$("$PYTHON" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True))' "$TMP/truth.json")"
fi

for bin in "$TESTBINS"/esbuild-*/esbuild; do
	[ -x "$bin" ] || continue
	ver=$(basename "$(dirname "$bin")")
	"$GOSCOPE" info --json "$bin" >"$TMP/$ver.json" || { fail "$ver: info failed"; continue; }
	[ "$(json_get "$TMP/$ver.json" traceable)" == true ] || continue
	check "$ver ($(json_get "$TMP/$ver.json" go_version)): runtime's wait reasons" \
		"$PYTHON" -c '
import json, sys
w = json.load(open(sys.argv[1]))["wait_reasons"]
assert len(w) >= 20, "only %d reasons" % len(w)
assert w[0] == "" and w[1] == "GC assist marking" and w[2] == "IO wait", w[:3]
for r in ("chan receive", "chan send", "select", "sleep", "semacquire", "GC worker (idle)"):
    assert r in w, "missing %r in %r" % (r, w)
' "$TMP/$ver.json"
done
finish
