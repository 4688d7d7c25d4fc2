#!/usr/bin/env bash
# Symbolization (pclntab): how fast goscope turns pcs into function and
# file:line, measured against `go tool addr2line` in the same run.
#
#   1. build/bench/bench_symbolize on each binary: gobin_open time and
#      lookups/s of pclntab_addr2line and pclntab_symbolize, on uniform
#      random pcs (cache-unfriendly) and on a hot set (tracing-like);
#   2. the hot-set size swept on the largest binary (the symbolize cache);
#   3. end to end, `goscope addr2line BIN < addrs` against
#      `go tool addr2line BIN < addrs'` on the same addresses, outputs
#      compared byte for byte.
#
# Go <= 1.21's go tool addr2line takes textStart from the .text section,
# which is runtime.text - 0x100 on cgo binaries (golang/go#65232), so it is
# fed every address plus shift = .text address - runtime.text; its answers
# are then the same functions and lines as goscope's for the unshifted ones.
#
# Environment: BENCH_BINARIES (candidates, the largest BENCH_MAXBINS are
# used), BENCH_SIZES (address counts), BENCH_REPS and BENCH_REPS_1M
# (end-to-end runs per tool, median kept), BENCH_LOOKUPS (library lookups
# a pass), GOSCOPE and BENCH_SYMBOLIZE (tools to use instead of building).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

custom=${GOSCOPE:-}${BENCH_SYMBOLIZE:-}
GOSCOPE=${GOSCOPE:-./goscope}
BENCH=${BENCH_SYMBOLIZE:-build/bench/bench_symbolize}
CANDIDATES=${BENCH_BINARIES:-/usr/bin/hugo /usr/bin/caddy /usr/bin/etcd}
MAXBINS=${BENCH_MAXBINS:-3}
SIZES=${BENCH_SIZES:-0 100000 1000000}
REPS=${BENCH_REPS:-5}
REPS_1M=${BENCH_REPS_1M:-3}
LOOKUPS=${BENCH_LOOKUPS:-1000000}
HOT=${BENCH_HOT:-2048}
SWEEP=${BENCH_HOT_SWEEP:-256 1024 4096 16384}

# Build the default tools (a no-op under `make bench`); given paths are used as they are.
[ -n "$custom" ] || make -s --no-print-directory goscope build/bench/bench_symbolize >&2

# The largest existing candidates first.
mapfile -t bins < <(for b in $CANDIDATES; do
	[ -f "$b" ] && printf '%s\t%s\n' "$(stat -c %s "$b")" "$b"
done | sort -rn | head -n "$MAXBINS" | cut -f2)
if [ ${#bins[@]} -eq 0 ]; then
	echo "symbolize: none of the binaries exist: $CANDIDATES" >&2
	echo "(caddy and etcd-server come with scripts/deps.sh; apt-get install hugo adds the largest)" >&2
	exit 1
fi
gotool=1
if ! command -v go >/dev/null 2>&1; then
	echo "symbolize: no go toolchain: end-to-end comparison skipped" >&2
	gotool=0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/goscope-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

bench_machine
echo "Go toolchain: $(go env GOVERSION 2>/dev/null || echo none); goscope at $(git describe --always --dirty 2>/dev/null || echo '?')"
echo

# 1. The library.
echo "### Library: bench_symbolize ($LOOKUPS lookups a pass, median of 3 passes; gobin_open median of 9)"
echo
{
	printf 'binary\tGo\tfuncs:\ttext MiB:\tgobin_open ms:\taddr2line uniform/s:\taddr2line hot/s:\tsymbolize uniform/s:\tsymbolize hot/s:\tsym hot/uniform:\tframes/pc:\n'
	for b in "${bins[@]}"; do
		IFS=$'\t' read -r _ funcs text open _ a2lu symu a2lh symh fru _ \
			< <("$BENCH" -t -n "$LOOKUPS" -H "$HOT" "$b") || true
		[ -n "${fru:-}" ] || { echo "symbolize: bench_symbolize failed on $b" >&2; exit 1; }
		gov=$("$GOSCOPE" info --json "$b" | sed -n 's/.*"go_version":"\([^"]*\)".*/\1/p')
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(basename "$b")" "$gov" "$funcs" \
			"$(awk -v t="$text" 'BEGIN { printf "%.1f", t / 1048576 }')" "$open" \
			"$(bench_rate "$a2lu")" "$(bench_rate "$a2lh")" \
			"$(bench_rate "$symu")" "$(bench_rate "$symh")" \
			"$(awk -v a="$symh" -v b="$symu" 'BEGIN { printf "%.1fx", a / b }')" "$fru"
	done
} | bench_table
echo
echo "uniform: pcs uniform over the text range; hot: $HOT distinct pcs (uniform over the"
echo "text), half the lookups on a quarter of them. Rates are lookups/s."
echo

# 2. Hot-set size against the symbolize cache, on the largest binary.
big=${bins[0]}
sweep_n=$((LOOKUPS / 2))
echo "### Symbolize cache: hot-set size swept on $(basename "$big") ($sweep_n lookups a pass)"
echo
{
	printf 'hot pcs:\tsymbolize uniform/s:\tsymbolize hot/s:\thot/uniform:\n'
	for h in $SWEEP; do
		IFS=$'\t' read -r _ _ _ _ _ _ symu _ symh _ _ \
			< <("$BENCH" -t -o 1 -n "$sweep_n" -H "$h" "$big")
		printf '%s\t%s\t%s\t%s\n' "$h" "$(bench_rate "$symu")" "$(bench_rate "$symh")" \
			"$(awk -v a="$symh" -v b="$symu" 'BEGIN { printf "%.1fx", a / b }')"
	done
} | bench_table
echo

[ "$gotool" = 1 ] || exit 0

# 3. End to end against go tool addr2line.
echo "### End to end: goscope addr2line vs go tool addr2line (wall time, median of $REPS runs; $REPS_1M at 1M)"
echo
rc=0
notes=()
rows=$tmp/rows
printf 'binary\taddresses:\tgoscope s:\tgo tool s:\tspeedup:\tgoscope lookups/s:\tgo tool lookups/s:\toutputs\n' >"$rows"
for b in "${bins[@]}"; do
	rt=$("$GOSCOPE" info --json "$b" | sed -n 's/.*"text":"\(0x[0-9a-fA-F]*\)".*/\1/p')
	st=$(readelf -SW "$b" | sed -n 's/.* \.text  *PROGBITS  *\([0-9a-fA-F]*\) .*/\1/p')
	if [ -z "$rt" ] || [ -z "$st" ]; then
		echo "symbolize: $b: cannot read runtime.text or the .text section" >&2
		rc=1
		continue
	fi
	delta=$((16#$st - rt))
	notes+=("$(basename "$b") $(printf '%s0x%x' "$([ "$delta" -lt 0 ] && echo -)" "${delta#-}")")
	for n in $SIZES; do
		"$BENCH" --gen "$n" "$b" >"$tmp/a"
		"$BENCH" --gen "$n" --shift "$delta" "$b" >"$tmp/g"
		reps=$REPS
		[ "$n" -lt 1000000 ] || reps=$REPS_1M
		gs=() gt=()
		for ((i = 0; i < reps; i++)); do
			# Interleaved, so a slow spell of the machine hits both.
			bench_timed "$tmp/a" "$tmp/out.goscope" "$GOSCOPE" addr2line "$b"
			gs+=("$BENCH_SECS")
			bench_timed "$tmp/g" "$tmp/out.go" go tool addr2line "$b"
			gt+=("$BENCH_SECS")
		done
		if cmp -s "$tmp/out.goscope" "$tmp/out.go"; then
			same=identical
		else
			same="DIFFER ($(cmp "$tmp/out.goscope" "$tmp/out.go" 2>&1 | head -n 1))"
			rc=1
		fi
		mg=$(bench_median "${gs[@]}")
		mt=$(bench_median "${gt[@]}")
		label=$n
		[ "$n" -ne 0 ] || label="0 (load)"
		printf '%s\t%s\t%.3f\t%.3f\t%s\t%s\t%s\t%s\n' "$(basename "$b")" "$label" "$mg" "$mt" \
			"$(awk -v a="$mt" -v b="$mg" 'BEGIN { printf "%.1fx", a / b }')" \
			"$([ "$n" -eq 0 ] && echo - || bench_rate "$(awk -v n="$n" -v t="$mg" 'BEGIN { print n / t }')")" \
			"$([ "$n" -eq 0 ] && echo - || bench_rate "$(awk -v n="$n" -v t="$mt" 'BEGIN { print n / t }')")" \
			"$same" >>"$rows"
	done
done
bench_table <"$rows"
echo
echo "speedup = go tool time / goscope time (goal: >= 10x). Addresses uniform over the"
echo "text range; both tools read them from a file and write to a file. go tool was fed"
echo "address + shift, shift = .text address - runtime.text (golang/go#65232):"
echo "$(IFS=,; echo "${notes[*]}" | sed 's/,/, /g')."
exit $rc
