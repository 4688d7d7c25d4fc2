#!/usr/bin/env bash
# goscope benchmarks: bench/run.sh [SECTION...]
#
# Each section is a script bench/<section>.sh (bench/lib.sh holds the
# helpers they share). With no SECTION every section runs, in name order;
# `make bench` does that. `bench/run.sh symbolize` runs bench/symbolize.sh.
# A section prints its tables on stdout, in Markdown, and exits non-zero if
# a check it makes (identical outputs, ...) fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bench_sections() {
	local f name

	for f in bench/*.sh; do
		name=$(basename "$f" .sh)
		[ "$name" = run ] || [ "$name" = lib ] || echo "$name"
	done
}

if [ $# -eq 0 ]; then
	mapfile -t sections < <(bench_sections)
else
	sections=("$@")
fi

rc=0
for s in "${sections[@]}"; do
	if [ "$s" = run ] || [ "$s" = lib ] || [ ! -f "bench/$s.sh" ]; then
		echo "bench: no section '$s' (have: $(bench_sections | tr '\n' ' '))" >&2
		exit 2
	fi
	echo "## $s"
	echo
	bash "bench/$s.sh" || rc=1
	echo
done
exit $rc
