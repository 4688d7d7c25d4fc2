#!/usr/bin/env bash
# Fetch the released Go binaries the tests and benchmarks run: esbuild from
# npm, one release per Go toolchain generation (GO-INTERNALS.md), into
# .cache/testbins/esbuild-<version>/esbuild. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${GOSCOPE_TESTBINS:-$PWD/.cache/testbins}
mkdir -p "$dir"

# npm package@version  -> Go release it was built with
ESBUILD=(
	"esbuild-linux-64@0.5.26"          # go1.14.2 (pclntab 1.2 format)
	"esbuild-linux-64@0.11.23"         # go1.16.3
	"esbuild-linux-64@0.13.15"         # go1.17.2
	"@esbuild/linux-x64@0.17.19"       # go1.20.4
	"@esbuild/linux-x64@0.22.0"        # go1.22.4
	"@esbuild/linux-x64@0.23.1"        # go1.22.5
	"@esbuild/linux-x64@0.25.12"       # go1.23.12
	"@esbuild/linux-x64@0.27.7"        # go1.25.7 (no build info)
	"@esbuild/linux-x64@0.28.2"        # go1.26.5 (no build info)
)

for pkg in "${ESBUILD[@]}"; do
	ver=${pkg##*@}
	out="$dir/esbuild-$ver"
	[ -x "$out/esbuild" ] && continue
	tmp=$(mktemp -d)
	(cd "$tmp" && npm pack -q "$pkg" >/dev/null 2>&1 && tar xzf ./*.tgz) || {
		echo "testbins: npm pack $pkg failed" >&2
		rm -rf "$tmp"
		exit 1
	}
	mkdir -p "$out"
	mv "$tmp/package/bin/esbuild" "$out/esbuild"
	rm -rf "$tmp"
	echo "testbins: $out/esbuild"
done
