#!/usr/bin/env bash
# Run libFuzzer targets over their seed corpora.
#
#   tests/fuzz/run.sh [--big] [SECONDS] [TARGET...]   default: 60 s, all targets
#
# TARGET is elf, pclntab, buildinfo, dwarf, gobin, proc, netrules or opts
# (build-fuzz/fuzz_TARGET).
# By default inputs are capped at 256 KB (fast: hundreds to thousands of
# runs a second) over the committed seeds, tests/fuzz/corpus/fuzz_TARGET/.
# With --big, the generated whole binaries and full tables of
# build-fuzz/corpus/fuzz_TARGET/ (tests/fuzz/make_corpus.sh --big, run on
# first use) join in, up to 12 MB: slow, but every real layout is there.
# New inputs go to build-fuzz/work/fuzz_TARGET/, crashes to
# build-fuzz/artifacts/fuzz_TARGET/. (tests/run.sh runs each for 20 s on
# the committed seeds.)
set -euo pipefail
cd "$(dirname "$0")/../.."

big=0
if [ "${1:-}" = "--big" ]; then
	big=1
	shift
fi
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(elf pclntab buildinfo dwarf gobin proc netrules opts)

make -s fuzz
if [ $big = 1 ] && [ ! -d build-fuzz/corpus ]; then
	tests/fuzz/make_corpus.sh --big
fi

rc=0
for t in "${targets[@]}"; do
	t=fuzz_${t#fuzz_}
	corpora=("tests/fuzz/corpus/$t")
	maxlen=$((256 << 10))
	if [ $big = 1 ]; then
		corpora+=("build-fuzz/corpus/$t")
		maxlen=$((12 << 20)) # whole binaries
	fi
	work=build-fuzz/work/$t
	art=build-fuzz/artifacts/$t/
	mkdir -p "$work" "$art"
	echo "fuzz: $t for ${secs}s"
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	"build-fuzz/$t" -max_total_time="$secs" -max_len=$maxlen -timeout=30 \
		-rss_limit_mb=4096 -artifact_prefix="$art" -print_final_stats=1 \
		"$work" "${corpora[@]}" || rc=1
done
exit $rc
