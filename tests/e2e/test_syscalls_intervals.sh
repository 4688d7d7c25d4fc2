#!/usr/bin/env bash
# test_syscalls_intervals: with -i, each report holds that interval's calls
# only — counts, percentiles and max — and says when the interval ended.
#
# Target: tests/go/syscalldiet (go1.19, static). `goscope syscalls -i 1
# --json -e clock_nanosleep` watches two runs of the diet in different
# intervals: S sleeps of 25 ms (SIGUSR1), then, once an interval has been
# reported after it, S sleeps of 2 ms (SIGUSR2). Truths: the program's
# parameters (S calls per run, each run's calls in its own intervals) and
# its own clock around each sleep: the max of an interval of the 2 ms run
# is at most the longest 2 ms sleep the program measured (not a 25 ms
# sleep from an earlier interval); interval_end is one distinct, increasing
# time per interval. The text output prints one table per interval too.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/syscalls_lib.sh"

need_go
diet_build || die "go build syscalldiet"

S=10
diet_start iv -open 0 -missing 0 -refused 0 -sleeps $S -sleep-ms 25 -short-ms 2

# summaries FILE: how many interval reports FILE has.
summaries() { grep -c '"event":"summary"' "$1" 2>/dev/null || true; }
# wait_summaries FILE N: until FILE has more than N reports.
wait_summaries() {
	local n=100
	while [ "$(summaries "$1")" -le "$2" ] && [ $n -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	[ $n -gt 0 ]
}

out=$TMP/iv.json
"$GOSCOPE" syscalls -p "$DIET_PID" --exact -i 1 --json -e clock_nanosleep >"$out" 2>"$out.err" &
gs=$!
gs_wait_attached "$gs" "$out.err" || die "goscope -i 1 never attached: $(head -3 "$out.err")"
diet_trigger USR1 || die "first run did not finish"
long=$DIET_SLEEPS
k=$(summaries "$out")
wait_summaries "$out" "$k" || die "no interval report after the first run"
split=$(summaries "$out")
diet_trigger USR2 || die "second run did not finish"
short=$DIET_SLEEPS
wait_summaries "$out" "$(summaries "$out")" || die "no interval report after the second run"
kill -INT "$gs"
wait "$gs"
expect_eq "syscalls -i 1 --json, stopped by SIGINT: exit status" "$?" 0
check_v "-i 1: $S calls of 25 ms in intervals 1-$split, $S of 2 ms after; each interval's max its own; distinct interval_end" \
	SCCHECK ivdiet "$out" --split "$split" --count $S --long-us "$long" --short-us "$short" \
	--long-req-us 25000

# text: one table per interval
"$GOSCOPE" syscalls -p "$DIET_PID" --exact -i 1 -d 3 -e clock_nanosleep >"$TMP/iv.txt" 2>"$TMP/iv.txt.err" &
gs=$!
gs_wait_attached "$gs" "$TMP/iv.txt.err" || die "goscope -i 1 -d 3 never attached"
diet_trigger USR1 || die "third run did not finish"
wait "$gs"
expect_eq "syscalls -i 1 -d 3 (text): exit status" "$?" 0
n=$(grep -c '^goscope syscalls: ' "$TMP/iv.txt")
if [ "$n" -ge 3 ] && [ "$n" -le 4 ]; then
	pass "-i 1 -d 3 (text): $n reports"
else
	fail "-i 1 -d 3 (text): $n reports, want 3 (or 4)"
fi
total=$(awk '$1 == "clock_nanosleep" { s += $2 } END { print s + 0 }' "$TMP/iv.txt")
expect_eq "-i 1 -d 3 (text): clock_nanosleep COUNT over the reports" "$total" $S

# A window with no call at all (the diet is not triggered; the runtime
# never calls clock_nanosleep): an empty report, exit 0.
"$GOSCOPE" syscalls -p "$DIET_PID" -d 1 -e clock_nanosleep >"$TMP/none.txt" 2>"$TMP/none.err"
rc=$?
if [ $rc -eq 0 ] && grep -q '^(no system calls seen)$' "$TMP/none.txt"; then
	pass "no calls in the window: '(no system calls seen)', exit 0"
else
	fail "no calls in the window: exit $rc, stdout: $(tail -2 "$TMP/none.txt"), stderr: $(head -2 "$TMP/none.err")"
fi
"$GOSCOPE" syscalls -p "$DIET_PID" -d 1 --json -e clock_nanosleep >"$TMP/none.json" 2>"$TMP/none.jerr"
rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c . "$TMP/none.json")" -eq 1 ] && grep -q '"event":"summary"' "$TMP/none.json"; then
	pass "no calls in the window (--json): only the summary object, exit 0"
else
	fail "no calls in the window (--json): exit $rc, stdout: $(head -c 300 "$TMP/none.json"), stderr: $(head -2 "$TMP/none.jerr")"
fi

finish
