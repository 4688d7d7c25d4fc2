#!/usr/bin/env bash
# Build the fuzzers' seed corpora.
#
#   tests/fuzz/make_corpus.sh          small seeds -> tests/fuzz/corpus/fuzz_<target>/
#   tests/fuzz/make_corpus.sh --big    and whole binaries and full tables
#                                      -> build-fuzz/corpus/fuzz_<target>/
#
# (The text fuzzers' seeds come from make_text_corpus.sh, run at the end.)
# Small seeds are committed (each < 200 KB, all < 3 MB): synthetic inputs
# from gen_seeds.c, sections cut from Go binaries built here with the local
# toolchain (.go.buildinfo, the head of .gopclntab), tiny C programs whose
# DWARF describes runtime.g/m/gobuf, and truncated copies. The big ones are
# regenerated whenever needed and never committed. Without go, objcopy or
# the released test binaries (scripts/testbins.sh), those seeds are skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

big=0
[ "${1:-}" = "--big" ] && big=1

small=$root/tests/fuzz/corpus
large=$root/build-fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
targets=(fuzz_elf fuzz_pclntab fuzz_buildinfo fuzz_dwarf fuzz_gobin)
for t in "${targets[@]}"; do
	mkdir -p "$small/$t"
	[ $big = 1 ] && mkdir -p "$large/$t"
done
MAX_SEED=$((200 * 1024))
HEAD=$((96 * 1024)) # bytes of a real .gopclntab kept in a committed seed

have() { command -v "$1" >/dev/null 2>&1; }

# section FILE NAME OUT: one section's bytes, or nothing if it is absent.
section() {
	objcopy -O binary --only-section="$2" "$1" "$3" 2>/dev/null && [ -s "$3" ] ||
		{ rm -f "$3"; return 1; }
}

# Copy the first N bytes of SRC to DST (committed seeds stay small).
head_of() { head -c "$3" "$1" >"$2"; }

# 1. Synthetic seeds.
cc -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$tmp/gen_seeds" \
	tests/fuzz/gen_seeds.c
"$tmp/gen_seeds" "$small"

# Truncated copies of a few synthetic images (headers cut, tables cut).
for f in "$small"/fuzz_gobin/syn-go120-exe "$small"/fuzz_gobin/syn-go116-pie; do
	n=$(stat -c %s "$f")
	for cut in 64 200 $((n / 2)) $((n - 100)); do
		head_of "$f" "$small/fuzz_elf/$(basename "$f")-cut$cut" "$cut"
	done
done
for f in "$small"/fuzz_pclntab/syn-go120-p8-q1 "$small"/fuzz_pclntab/syn-go12-p8-q1; do
	n=$(stat -c %s "$f")
	head_of "$f" "$f-cut$((n / 2))" $((n / 2))
done

# 2. Go programs built here: the unit tests' fixture source, in variants.
if have go && have objcopy; then
	src=tests/unit/fixtures/hello
	build() { # NAME ENV... -- FLAGS...
		local name=$1
		shift
		local env=()
		while [ "$1" != "--" ]; do env+=("$1"); shift; done
		shift
		(cd "$src" && env CGO_ENABLED=0 GOFLAGS=-mod=mod GOPROXY=off "${env[@]}" \
			go build -buildvcs=false "$@" -o "$tmp/$name" .)
	}
	build amd64 --
	build stripped -- -ldflags='-s -w'
	build pie -- -buildmode=pie
	build arm64 GOARCH=arm64 --
	build 386 GOARCH=386 --
	build trimpath -- -trimpath
	for v in amd64 stripped pie arm64 386 trimpath; do
		bin=$tmp/$v
		for s in .gopclntab .data.rel.ro.gopclntab; do
			if section "$bin" "$s" "$tmp/$v.pcln"; then
				head_of "$tmp/$v.pcln" "$small/fuzz_pclntab/go119-$v" $HEAD
				[ $big = 1 ] && cp "$tmp/$v.pcln" "$large/fuzz_pclntab/go119-$v"
				break
			fi
		done
		section "$bin" .go.buildinfo "$small/fuzz_buildinfo/go119-$v.buildinfo" || true
		if [ $big = 1 ]; then
			for t in elf gobin buildinfo; do cp "$bin" "$large/fuzz_$t/go119-$v"; done
			[ $v != stripped ] && cp "$bin" "$large/fuzz_dwarf/go119-$v"
		fi
	done
	# Headers and the start of the file only: sections lost, segments kept.
	head_of "$tmp/amd64" "$small/fuzz_elf/go119-head" 4096
	head_of "$tmp/stripped" "$small/fuzz_gobin/go119-head64k" 65536
else
	echo "make_corpus: no go or objcopy: skipping seeds from Go builds" >&2
fi

# 3. Released binaries (other Go versions and pclntab formats).
bins=$root/.cache/testbins
if have objcopy && [ -d "$bins" ]; then
	for dir in "$bins"/esbuild-*; do
		bin=$dir/esbuild
		[ -x "$bin" ] || continue
		v=${dir##*/}
		# One committed table head per format generation (1.2, 1.16, 1.17,
		# 1.20, 1.23, 1.26 with textStart 0); all of them in the big corpus.
		if section "$bin" .gopclntab "$tmp/$v.pcln"; then
			case $v in
			*-0.5.26 | *-0.11.23 | *-0.13.15 | *-0.17.19 | *-0.25.12 | *-0.28.2)
				head_of "$tmp/$v.pcln" "$small/fuzz_pclntab/$v" $HEAD ;;
			esac
			[ $big = 1 ] && cp "$tmp/$v.pcln" "$large/fuzz_pclntab/$v"
		fi
		section "$bin" .go.buildinfo "$small/fuzz_buildinfo/$v.buildinfo" || true
		if [ $big = 1 ]; then
			# Whole 8-11 MB binaries are slow to fuzz: only the formats the
			# Go 1.19 builds above do not cover, and those without build info.
			case $v in
			*-0.5.26 | *-0.11.23 | *-0.28.2) cp "$bin" "$large/fuzz_gobin/$v" ;;
			esac
			case $v in
			*-0.13.15 | *-0.27.7 | *-0.28.2) cp "$bin" "$large/fuzz_buildinfo/$v" ;;
			esac
		fi
	done
	[ $big = 1 ] && [ -x "$bins/esbuild-0.5.26/esbuild" ] &&
		cp "$bins/esbuild-0.5.26/esbuild" "$large/fuzz_dwarf/esbuild-0.5.26-zdebug"
fi

# 4. Tiny C programs: plain ELF shapes, and DWARF naming runtime.g, .m,
#    .gobuf (C cannot spell the dot: the names are patched in .debug_str).
if have cc; then
	cat >"$tmp/tiny.c" <<'EOF'
struct runtimeXstack { unsigned long lo, hi; };
struct runtimeXgobuf { unsigned long sp, pc, g, ctxt, ret, lr, bp; };
struct runtimeXg {
	struct runtimeXstack stack;
	unsigned long stackguard0, stackguard1, _panic, _defer;
	void *m;
	struct runtimeXgobuf sched;
	unsigned long syscallsp, syscallpc, stktopsp, param;
	unsigned int atomicstatus, stackLock;
	unsigned long goid, schedlink, waitsince;
	unsigned char waitreason;
};
struct runtimeXm {
	struct runtimeXg *g0;
	struct runtimeXgobuf morebuf;
	unsigned long divmod, procid, gsignal[12];
	struct runtimeXg *curg;
};
struct runtimeXg g;
struct runtimeXm m;
struct runtimeXgobuf b;
int main(void) { return (int)(g.goid + m.procid + b.sp); }
EOF
	cc -O1 -o "$small/fuzz_elf/c-dyn" "$tmp/tiny.c"
	cc -O1 -no-pie -o "$small/fuzz_elf/c-nopie" "$tmp/tiny.c"
	strip -o "$small/fuzz_elf/c-stripped" "$small/fuzz_elf/c-dyn" 2>/dev/null || true
	patch_names() { # rename runtimeX* to runtime.* (same length, NUL-terminated)
		perl -pi -e 's/runtimeX(g|m|gobuf|stack)\0/runtime.$1\0/g' "$1"
	}
	for dw in 4 5; do
		out=$small/fuzz_dwarf/c-dwarf$dw
		cc -O0 -g -gdwarf-$dw -fno-eliminate-unused-debug-types -o "$out" "$tmp/tiny.c"
		patch_names "$out"
	done
	if have objcopy; then
		objcopy --compress-debug-sections=zlib "$small/fuzz_dwarf/c-dwarf4" \
			"$small/fuzz_dwarf/c-dwarf4-zlib"
		objcopy --compress-debug-sections=zlib-gnu "$small/fuzz_dwarf/c-dwarf4" \
			"$small/fuzz_dwarf/c-dwarf4-zdebug" 2>/dev/null || true
	fi
	head_of "$small/fuzz_dwarf/c-dwarf4" "$small/fuzz_dwarf/c-dwarf4-cut" \
		$(($(stat -c %s "$small/fuzz_dwarf/c-dwarf4") * 3 / 4))
fi

# 5. Text seeds: /proc files, rules, command lines.
tests/fuzz/make_text_corpus.sh

# Committed seeds must stay small.
bad=0
total=0
for f in "$small"/*/*; do
	n=$(stat -c %s "$f")
	total=$((total + n))
	if [ "$n" -gt $MAX_SEED ]; then
		echo "make_corpus: $f is $n bytes (> $MAX_SEED)" >&2
		bad=1
	fi
done
echo "make_corpus: $(ls "$small"/*/* | wc -l) small seeds, $((total / 1024)) KB in $small"
[ $big = 1 ] && echo "make_corpus: $(ls "$large"/*/* | wc -l) big seeds in $large"
[ $total -le $((3 * 1024 * 1024)) ] || { echo "make_corpus: small seeds exceed 3 MB" >&2; bad=1; }
exit $bad
