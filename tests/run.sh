#!/usr/bin/env bash
# shellcheck disable=SC2046 # $(unit_names) and the like are meant to split
# tests/run.sh: goscope's one test command (`make test`, scripts/test.sh, CI).
#
# Stages, in order:
#   build   make; make unit                                  (always)
#   unit    every build/tests/test_* (cmocka)                 (always)
#   e2e     every tests/e2e/test_*.sh with GOSCOPE=<binary under test> and
#           TESTBINS=<.cache/testbins>; exit 0 pass, 77 skip, else fail
#   fuzz    make fuzz; each build-fuzz/fuzz_X for 20 s on tests/fuzz/corpus/
#           fuzz_X (read-only: new inputs go to a scratch dir)   (not --quick)
#   san     make SAN=1 all unit; the unit and e2e stages again under
#           ASan+UBSan (build-san/)                              (not --quick)
# Each test prints PASS/FAIL/SKIP as it ends (a failure shows the tail of
# its log; every log is kept in build/test-logs/). The last line is always
#   goscope tests: N passed, M failed, K skipped
# and the exit status is non-zero iff M > 0.
#
# Options: --quick (no fuzz, no sanitizers), --only PATTERN (run only the
# tests whose name, e.g. "e2e/test_bad_input" or "unit/test_pclntab",
# contains PATTERN; shell glob characters allowed). The build always runs.
#
# Released Go binaries the e2e tests need are fetched by scripts/testbins.sh
# when .cache/testbins is missing (scripts/deps.sh does it on a new machine).
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD

QUICK=0
ONLY=
usage() { sed -n '3,/^set -u/p' "$ROOT/tests/run.sh" | sed -e '$d' -e 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--only) [ $# -ge 2 ] || { echo "run.sh: --only needs a PATTERN" >&2; exit 2; }
		ONLY=$2; shift ;;
	--only=*) ONLY=${1#--only=} ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done

TEST_TIMEOUT=${GOSCOPE_TEST_TIMEOUT:-900}  # seconds per test
FUZZ_TIME=${GOSCOPE_FUZZ_TIME:-20}         # seconds per fuzzer
JOBS=$(nproc 2>/dev/null || echo 2)
LOGS=$ROOT/build/test-logs
TESTBINS=$ROOT/.cache/testbins
export PYTHONDONTWRITEBYTECODE=1

NPASS=0 NFAIL=0 NSKIP=0
FAILED=()
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/goscope-run.XXXXXX")
chmod 755 "$SCRATCH" # tests run the snapshot binary as other users too
trap 'rm -rf "$SCRATCH"' EXIT
rm -rf "$LOGS"
mkdir -p "$LOGS"

selected() { [ -z "$ONLY" ] || [[ $1 == *$ONLY* ]]; }

# report NAME STATUS SECONDS LOG: one result line, counted.
report() {
	local name=$1 status=$2 secs=$3 log=$4 why=
	case $status in
	PASS) NPASS=$((NPASS + 1)) ;;
	SKIP) NSKIP=$((NSKIP + 1))
		why=$(grep -m1 -E '^ *SKIP' "$log" 2>/dev/null | sed -e 's/^ *SKIP *//')
		[ -n "$why" ] && why=" - $why" ;;
	FAIL) NFAIL=$((NFAIL + 1))
		FAILED+=("$name") ;;
	esac
	printf '%-4s  %-44s %4ss%s\n' "$status" "$name" "$secs" "$why"
	if [ "$status" = FAIL ]; then
		# The failed checks of an e2e test (FAIL) and their failed
		# sub-checks (BAD), then how the log ends.
		if grep -qE '^ *(FAIL|BAD) ' "$log"; then
			grep -E '^ *(FAIL|BAD) ' "$log" | head -n 20 | sed 's/^/      | /'
			echo "      | ..."
			tail -n 8 "$log" | sed 's/^/      | /'
		else
			tail -n 40 "$log" | sed 's/^/      | /'
		fi
		echo "      (full log: ${log#"$ROOT"/})"
	fi
}

# run_test NAME CMD...: run CMD with a timeout, log to build/test-logs/NAME.log.
run_test() {
	local name=$1 log start rc status
	shift
	selected "$name" || return 0
	log=$LOGS/$name.log
	mkdir -p "$(dirname "$log")"
	start=$SECONDS
	timeout --kill-after=10 "$TEST_TIMEOUT" "$@" </dev/null >"$log" 2>&1
	rc=$?
	case $rc in
	0) status=PASS ;;
	77) status=SKIP ;;
	124 | 137) status=FAIL; echo "run.sh: timed out after ${TEST_TIMEOUT}s" >>"$log" ;;
	*) status=FAIL; echo "run.sh: exit status $rc" >>"$log" ;;
	esac
	report "$name" "$status" $((SECONDS - start)) "$log"
}

# step NAME CMD...: a build step; counted like a test. False if it failed.
step() {
	local name=$1 log start rc
	shift
	log=$LOGS/$name.log
	mkdir -p "$(dirname "$log")"
	start=$SECONDS
	"$@" </dev/null >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		report "$name" PASS $((SECONDS - start)) "$log"
	else
		report "$name" FAIL $((SECONDS - start)) "$log"
	fi
	return $rc
}

summary() {
	echo
	[ ${#FAILED[@]} -gt 0 ] && echo "failed: ${FAILED[*]}"
	echo "goscope tests: $NPASS passed, $NFAIL failed, $NSKIP skipped"
	[ "$NFAIL" -eq 0 ] && exit 0
	exit 1
}

# any_selected PREFIX NAME...: is PREFIX+NAME selected for any NAME?
any_selected() {
	local prefix=$1 n
	shift
	for n in "$@"; do
		selected "$prefix$n" && return 0
	done
	return 1
}

# Test names a stage would run, from the sources (so that a stale binary of
# a deleted test does not run, and one that failed to build is reported).
unit_names() { local f; for f in tests/unit/test_*.c; do [ -f "$f" ] && basename "$f" .c; done; }
e2e_names() { local f; for f in tests/e2e/test_*.sh; do [ -f "$f" ] && basename "$f" .sh; done; }
fuzz_names() { local f; for f in tests/fuzz/fuzz_*.c; do [ -f "$f" ] && basename "$f" .c; done; }

# unit_stage DIR PREFIX: the cmocka binary DIR/tests/test_X of every
# tests/unit/test_X.c (one that was not built fails).
unit_stage() {
	local dir=$1 prefix=$2 n name log
	for n in $(unit_names); do
		name=${prefix}unit/$n
		if [ -x "$dir/tests/$n" ]; then
			run_test "$name" "$dir/tests/$n"
		elif selected "$name"; then
			log=$LOGS/$name.log
			mkdir -p "$(dirname "$log")"
			echo "$dir/tests/$n was not built (see the build step's log)" >"$log"
			report "$name" FAIL 0 "$log"
		fi
	done
	[ -n "$(unit_names)" ] || echo "      (no unit tests in tests/unit)"
}

# e2e_stage BINARY PREFIX: every tests/e2e/test_*.sh against a snapshot of
# BINARY (a concurrent `make` in this tree cannot swap it mid-run).
e2e_stage() {
	local bin=$1 prefix=$2 snap t n=0
	snap=$SCRATCH/${prefix%/}bin
	mkdir -p "$snap"
	chmod 755 "$snap"
	cp "$bin" "$snap/goscope"
	for t in "$ROOT"/tests/e2e/test_*.sh; do
		[ -f "$t" ] || continue
		n=$((n + 1))
		run_test "${prefix}e2e/$(basename "$t" .sh)" \
			env GOSCOPE="$snap/goscope" TESTBINS="$TESTBINS" bash "$t"
	done
	[ $n -gt 0 ] || echo "      (no tests in tests/e2e)"
}

fuzz_stage() {
	local f name corpus work
	compgen -G "tests/fuzz/fuzz_*.c" >/dev/null || { echo "      (no fuzzers)"; return; }
	any_selected fuzz/ $(fuzz_names) || return
	step fuzz/build make -j"$JOBS" fuzz || return
	for f in build-fuzz/fuzz_*; do
		[ -x "$f" ] || continue
		name=$(basename "$f")
		corpus=()
		[ -d "tests/fuzz/corpus/$name" ] && corpus=("tests/fuzz/corpus/$name")
		work=$SCRATCH/corpus-$name
		mkdir -p "$work" "$LOGS/fuzz"
		run_test "fuzz/$name" env ASAN_OPTIONS=detect_leaks=1 \
			UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			"$f" -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=4096 \
			-error_exitcode=1 -timeout_exitcode=1 \
			-print_final_stats=1 -artifact_prefix="$LOGS/fuzz/$name-" \
			"$work" "${corpus[@]}"
	done
}

# --- build -------------------------------------------------------------------
quick_note=
[ "$QUICK" -eq 1 ] && quick_note=" (quick: no fuzz, no sanitizers)"
echo "goscope tests in $ROOT$quick_note${ONLY:+ (only *$ONLY*)}"
step build/make make -j"$JOBS" || summary
[ -n "$(unit_names)" ] && step build/unit make -j"$JOBS" unit
if [ ! -d "$TESTBINS" ] || [ -z "$(ls -A "$TESTBINS" 2>/dev/null)" ] ||
	[ -n "$(GOSCOPE_TESTBINS=$TESTBINS scripts/testbins.sh --missing 2>/dev/null)" ]; then
	step build/testbins scripts/testbins.sh ||
		echo "      (tests that need released Go binaries will skip)"
fi

# --- unit, e2e -----------------------------------------------------------------
unit_stage build ""
e2e_stage "$ROOT/goscope" ""

if [ "$QUICK" -eq 0 ]; then
	# --- fuzz ------------------------------------------------------------------
	fuzz_stage

	# --- sanitizers --------------------------------------------------------------
	export ASAN_OPTIONS=detect_leaks=1
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	if any_selected san/unit/ $(unit_names) || any_selected san/e2e/ $(e2e_names); then
		if step san/build make -j"$JOBS" SAN=1 all; then
			if [ -n "$(unit_names)" ] && any_selected san/unit/ $(unit_names); then
				step san/build-unit make -j"$JOBS" SAN=1 unit
				unit_stage build-san san/
			fi
			e2e_stage "$ROOT/build-san/goscope" san/
		fi
	fi
fi
summary
