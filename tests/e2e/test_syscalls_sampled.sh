#!/usr/bin/env bash
# test_syscalls_sampled: the default view of `goscope syscalls` is sampled
# (the raw_syscalls tracepoints attached during 100 ms windows, one at a
# random offset in each 1 s period: 10% of the time; counts scaled by
# wall / attached time); checked against the program's own counts, with
# the tolerances the method guarantees, and --exact against the same
# counts exactly.
#
# Target: tests/go/syscallrate (go1.19, static): on one thread, in a loop,
# openat(2) of a file, close(2), openat(2) of a missing file (ENOENT),
# clock_nanosleep(2) of 1 ms; on another, pselect6(2) of 120 ms (longer
# than a window). It counts its own calls; its snapshots (SIGUSR1), taken
# once goscope is ready and once it has exited, bracket goscope's window
# (give or take the 0.1 s the test takes to see the ready line).
#
# Tolerances of the sampled view, for a program whose rate is steady: the
# estimate is unbiased (random window placement: no periodic behaviour
# lines up with the windows); its error is the Poisson noise of the calls
# seen (>= 1000 here: < 3%) plus the rate's variation between windows over
# sqrt(windows) (10 windows: a rate that swings by 50% between windows on a
# busy machine gives ~16%). Checked:
#   - attached 7.5-15% of the time (10% asked; goscope woken late on a busy
#     machine makes a window longer, never shorter);
#   - every row: count = count_seen x scale (to rounding), marked estimate,
#     few_seen iff seen fewer than 10 times;
#   - openat, close, clock_nanosleep within 25% of the program's counts;
#     openat's ENOENT share within 0.1 of the program's (0.5);
#   - clock_nanosleep p50 within 15% (+ the histogram's 1/32) of the
#     program's own median: calls much shorter than a window are timed
#     with a weight of W / (W - L) ~ 1;
#   - pselect6 (120 ms > the 100 ms window; ~8 seen in 10 s at 10%: none
#     with probability 3e-4): seen, counted as untimed, its p50 at least
#     the window; the text (--duty 50, 3 s: ~12 seen) shows ">100ms".
# --exact: each count within 1% + 0.3 s of calls of the program's.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/syscalls_lib.sh"

need_go
CGO_ENABLED=0 go_build "$TMP/syscallrate" syscallrate || die "go build syscallrate"
spawn "$TMP/rate.out" "$TMP/rate.err" "$TMP/syscallrate" -short-ms 1 -long-ms 120
RP=$SPAWN_PID
wait_line "$TMP/rate.out" '^syscallrate: ready' "$RP" 30 || die "syscallrate never ready"

# snap: a snapshot of the program's counts; sets SNAP (the line).
nsnap=0
snap() {
	nsnap=$((nsnap + 1))
	kill -USR1 "$RP"
	wait_line "$TMP/rate.out" "^syscallrate: snap n=$nsnap " "$RP" 10 || return 1
	SNAP=$(grep "^syscallrate: snap n=$nsnap " "$TMP/rate.out")
}
# field LINE KEY
field() { sed -n "s/.* $2=\\([0-9.]*\\).*/\\1/p" <<<"$1"; }

# around OUT ARGS...: goscope syscalls -p $RP ARGS, snapshots at its ready
# line and after its exit; sets TRUTH (the differences) and SHORT_P50.
around() {
	local out=$1 gs a b k t=""
	shift
	"$GOSCOPE" syscalls -p "$RP" "$@" >"$out" 2>"$out.err" &
	gs=$!
	gs_wait_attached "$gs" "$out.err" || { wait "$gs"; return 1; }
	snap || return 1
	a=$SNAP
	wait "$gs"
	GS_RC=$?
	snap || return 1
	b=$SNAP
	for k in openat enoent close clock_nanosleep pselect6; do
		t="$t${t:+,}$k=$(($(field "$b" $k) - $(field "$a" $k)))"
	done
	TRUTH=$t
	SHORT_P50=$(field "$b" short_p50_us)
}

if around "$TMP/s.json" -d 10 --json; then
	expect_eq "syscalls -d 10 --json (default, sampled): exit status" "$GS_RC" 0
	check_v "sampled: estimates against the program's counts ($TRUTH) and its clock_nanosleep p50 ($SHORT_P50 us)" \
		SCCHECK sampled "$TMP/s.json" --truth "$TRUTH" --short-p50-us "$SHORT_P50" --tol 0.25 --duty 0.10
else
	fail "syscalls --json around the program (sampled) never attached: $(head -3 "$TMP/s.json.err")"
fi

if around "$TMP/e.json" -d 4 --exact --json; then
	expect_eq "syscalls -d 4 --exact --json: exit status" "$GS_RC" 0
	check_v "--exact: counts against the program's ($TRUTH)" \
		SCCHECK sampled "$TMP/e.json" --truth "$TRUTH" --exact --secs 4 --slop-s 0.3
else
	fail "syscalls --exact around the program never attached: $(head -3 "$TMP/e.json.err")"
fi

if around "$TMP/s.txt" -d 3 --duty 50; then
	expect_eq "syscalls -d 3 --duty 50 (text, sampled): exit status" "$GS_RC" 0
	if grep -q '^sampled: tracepoints attached [0-9.]*% of the time' "$TMP/s.txt"; then
		pass "text: the header says it is sampled: $(grep '^sampled:' "$TMP/s.txt" | cut -c1-120)..."
	else
		fail "text: no 'sampled:' line: $(head -4 "$TMP/s.txt")"
	fi
	l=$(awk '$1 == "pselect6"' "$TMP/s.txt")
	if grep -qE '>100(\.0+)?ms' <<<"$l"; then
		pass "text: pselect6 (120 ms calls) reads '>100ms': $l"
	else
		fail "text: pselect6 row without '>100ms': '$l'"
	fi
else
	fail "syscalls (text) around the program never attached"
fi

# --slow and --rules see every call: not sampled
"$GOSCOPE" syscalls -p "$RP" -d 1 --json --slow 1000 -e pselect6 >"$TMP/slow.json" 2>"$TMP/slow.err"
if grep -q '"method":"exact"' "$TMP/slow.json"; then
	pass "--slow implies --exact (summary method exact)"
else
	fail "--slow: $(tail -1 "$TMP/slow.json")"
fi
kill "$RP"
finish
