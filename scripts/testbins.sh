#!/usr/bin/env bash
# Fetch the released Go binaries the tests and benchmarks run: esbuild from
# npm, one release per Go toolchain generation (GO-INTERNALS.md), into
# .cache/testbins/esbuild-<version>/esbuild; for the Go releases no esbuild
# was built with, another stripped Go program from npm (buf, tsgo) into
# .cache/testbins/<name>-<version>/. Idempotent. --missing: only print the
# packages not fetched yet (nothing: all there).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${GOSCOPE_TESTBINS:-$PWD/.cache/testbins}
mkdir -p "$dir"

# npm package@version  -> Go release it was built with
ESBUILD=(
	"esbuild-linux-64@0.5.26"          # go1.14.2 (pclntab 1.2 format)
	"esbuild-linux-64@0.11.23"         # go1.16.3
	"esbuild-linux-64@0.13.15"         # go1.17.2
	"esbuild-linux-64@0.14.49"         # go1.18.3
	"@esbuild/linux-x64@0.17.19"       # go1.20.4
	"@esbuild/linux-x64@0.22.0"        # go1.22.4
	"@esbuild/linux-x64@0.23.1"        # go1.22.5
	"@esbuild/linux-x64@0.25.12"       # go1.23.12
	"@esbuild/linux-x64@0.27.7"        # go1.25.7 (no build info)
	"@esbuild/linux-x64@0.28.2"        # go1.26.5 (no build info)
)

# Go 1.21 and 1.24 (esbuild went from 1.20 to 1.22 and from 1.23 to 1.25):
# package@version:what to take from the package:where under testbins.
OTHERS=(
	"@bufbuild/buf-linux-x64@1.28.1:bin/buf:buf-1.28.1/buf"    # go1.21.4
	# tsgo (TypeScript 7 preview) with the lib*.d.ts files it reads beside it
	"@typescript/native-preview-linux-x64@7.0.0-dev.20250707.2:lib:tsgo-7.0.0-dev.20250707.2" # go1.24.4
)

missing=0
[ "${1:-}" = --missing ] && missing=1

# fetch PKG FROM TO: package/FROM of the npm package PKG to $dir/TO.
fetch() {
	local pkg=$1 from=$2 to=$3 tmp
	[ -e "$dir/$to" ] && return 0
	if [ $missing -eq 1 ]; then
		echo "$pkg"
		return 0
	fi
	tmp=$(mktemp -d)
	(cd "$tmp" && npm pack -q "$pkg" >/dev/null 2>&1 && tar xzf ./*.tgz) || {
		echo "testbins: npm pack $pkg failed" >&2
		rm -rf "$tmp"
		exit 1
	}
	mkdir -p "$(dirname "$dir/$to")"
	mv "$tmp/package/$from" "$dir/$to"
	rm -rf "$tmp"
	echo "testbins: $dir/$to"
}

for pkg in "${ESBUILD[@]}"; do
	fetch "$pkg" bin/esbuild "esbuild-${pkg##*@}/esbuild"
done
for spec in "${OTHERS[@]}"; do
	IFS=: read -r pkg from to <<<"$spec"
	fetch "$pkg" "$from" "$to"
done
