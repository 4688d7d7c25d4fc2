#!/usr/bin/env bash
# test_syscalls_diet: `goscope syscalls` counts, errnos, latencies and
# attributions (goroutine, thread) are exact on a program whose system calls
# are known.
#
# Target: tests/go/syscalldiet (go1.19, static). Each SIGUSR1 it makes, from
# one goroutine locked to one thread: N openat of an existing file, K openat
# of a missing one (ENOENT), M socket + blocking connect to a closed
# loopback port (ECONNREFUSED from connect(2) itself) and S clock_nanosleep
# of 25 ms — syscalls the Go runtime never makes on its own (it sleeps with
# nanosleep/futex/epoll; checked below with strace, whose counts equal the
# diet's). Truths:
# - the diet's parameters: counts openat N+K, socket M, connect M,
#   clock_nanosleep S exactly; errors and errnos ENOENT:K, ECONNREFUSED:M;
#   -e keeps exactly the syscalls asked for, with the same counts;
# - `strace -f -c -p PID` watching the same run: same calls and errors per
#   syscall (a call a signal interrupts counts twice for both, once failed
#   with the kernel's ERESTART* code: the count checks allow for that);
# - the program's own clock around each sleep: p50/p99/max at most 15% above the
#   request (25 ms) and of what the program measured (which also counts its own
#   time around the call), max at least 25 ms,
#   p50/p99 at least 25 ms less the histogram's resolution (1/32);
# - the exact kernel durations of the same sleeps (--slow 0 events, one per
#   call): p50 and p99 within 1/32 of the exact nearest-rank quantiles, max
#   equal;
# - the program's goroutine id ("goroutine N" from runtime.Stack) and thread
#   id (gettid): --by goid and --by tid put every diet call on them alone,
#   and a helper goroutine's failing openats on its own goid row, each row
#   with its own errnos.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/syscalls_lib.sh"

need_go
command -v strace >/dev/null || skip "no strace"
diet_build || die "go build syscalldiet"

N=40 K=7 M=4 S=20 SLEEP_MS=25
DIET=(openat=$((N + K)) "openat!$K" openat:ENOENT=$K socket=$M "socket!0" connect=$M "connect!$M"
	connect:ECONNREFUSED=$M clock_nanosleep=$S "clock_nanosleep!0")
DIET_SYSCALLS=openat,socket,connect,clock_nanosleep

diet_start diet -open $N -missing $K -refused $M -sleeps $S -sleep-ms $SLEEP_MS
log "syscalldiet pid $DIET_PID goroutine $DIET_GOID thread $DIET_TID"

# 1. whole process, JSON
if diet_round "$TMP/all.json" -d 4 --json; then
	expect_eq "syscalls -d 4 --json: exit status" "$GS_RC" 0
	check_v "--json: counts N+K, M, M, S; errors and errnos ENOENT:$K ECONNREFUSED:$M" \
		SCCHECK counts "$TMP/all.json" "${DIET[@]}"
	check_v "--json: clock_nanosleep p50/p99/max within 15% of $SLEEP_MS ms and of the program's clock" \
		SCCHECK latency "$TMP/all.json" --syscall clock_nanosleep --req-us $((SLEEP_MS * 1000)) \
		--truth-us "$DIET_SLEEPS"
	# p50 is a bucket midpoint: with every call in the upper half of one
	# bucket (25.0-25.17 ms here) it is below all of them (24.64 ms) and
	# below the requested 25 ms. Where the calls land depends on the
	# machine's timer slack, so this is shown, not checked.
	SCCHECK latency "$TMP/all.json" --syscall clock_nanosleep --req-us $((SLEEP_MS * 1000)) \
		--truth-us "$DIET_SLEEPS" --strict 2>&1 | grep MISMATCH | sed 's/^MISMATCH/note:/' |
		while read -r l; do log "$l"; done
	check_v "--json: errnos of each row add up to its errors" SCCHECK errnos "$TMP/all.json"
else
	fail "syscalls -d 4 --json around one diet run (exit $GS_RC)"
fi

# 2. -e: only the syscalls asked for, same counts; strace -f -c -p watches
# the same run; --slow 0 streams every one of these calls with its exact
# duration, the truth for the histogram's quantiles
strace_start "$TMP/strace.c" || fail "strace -f -c -p $DIET_PID: $(head -3 "$TMP/strace.c.err")"
if diet_round "$TMP/e.json" -d 4 --json -e "$DIET_SYSCALLS" --slow 0; then
	expect_eq "syscalls -e $DIET_SYSCALLS --slow 0: exit status" "$GS_RC" 0
	check_v "-e $DIET_SYSCALLS: nothing else, same counts and errnos" \
		SCCHECK counts "$TMP/e.json" --only "$DIET_SYSCALLS" "${DIET[@]}"
	# (strace's stops make the program's own clock no truth for this run)
	check_v "--slow 0: clock_nanosleep p50/p99 within 1/32 of the exact quantiles of the same calls (one event each), max equal" \
		SCCHECK latency "$TMP/e.json" --syscall clock_nanosleep --req-us $((SLEEP_MS * 1000)) --events
	if strace_stop "$TMP/strace.c"; then
		check_v "strace -f -c -p on the same run: same calls and errors for $DIET_SYSCALLS" \
			SCCHECK strace "$TMP/strace.c" "$TMP/e.json" --syscalls "$DIET_SYSCALLS"
	else
		fail "strace -f -c -p $DIET_PID gave no summary: $(head -3 "$TMP/strace.c.err")"
	fi
else
	strace_stop "$TMP/strace.c"
	fail "syscalls -e around one diet run (exit $GS_RC)"
fi

# 3. the table
if diet_round "$TMP/table" -d 4 -e "$DIET_SYSCALLS,net"; then
	expect_eq "syscalls (table): exit status" "$GS_RC" 0
	check_v "table: COUNT, ERRORS and ERRNOS of the diet's rows" \
		SCCHECK table "$TMP/table" "openat=$((N + K))/$K/ENOENT:$K" "socket=$M/0" \
		"connect=$M/$M/ECONNREFUSED:$M" "clock_nanosleep=$S/0"
else
	fail "syscalls (table) around one diet run (exit $GS_RC)"
fi

# 5. --by goid: every diet call on the program's goroutine
if diet_round "$TMP/goid.json" -d 4 --json --by goid; then
	expect_eq "syscalls --by goid: exit status" "$GS_RC" 0
	check_v "--by goid: the diet's calls all on goroutine $DIET_GOID (runtime.Stack's)" \
		SCCHECK counts "$TMP/goid.json" --key goid --id "$DIET_GOID" "${DIET[@]}"
else
	fail "syscalls --by goid around one diet run (exit $GS_RC)"
fi

# 6. --by tid: every diet call on the program's thread
if diet_round "$TMP/tid.json" -d 4 --json --by tid -e "$DIET_SYSCALLS"; then
	expect_eq "syscalls --by tid: exit status" "$GS_RC" 0
	check_v "--by tid: the diet's calls all on thread $DIET_TID (gettid)" \
		SCCHECK counts "$TMP/tid.json" --key tid --id "$DIET_TID" "${DIET[@]}"
else
	fail "syscalls --by tid around one diet run (exit $GS_RC)"
fi

# 7. two goroutines failing the same syscall: one row each, each row's own
# errnos (a helper goroutine makes H more ENOENT openats).
H=3
diet_start helper -open 2 -missing 1 -refused 0 -sleeps 0 -helper-missing $H
if diet_round "$TMP/helper.json" -d 3 --json --by goid -e openat; then
	expect_eq "syscalls --by goid (helper): exit status" "$GS_RC" 0
	check_v "--by goid: goroutine $DIET_GOID's openat row: 3 calls, 1 ENOENT" \
		SCCHECK counts "$TMP/helper.json" --key goid --id "$DIET_GOID" --others-ok openat=3 "openat!1" openat:ENOENT=1
	check_v "--by goid: helper goroutine $DIET_HELPER's openat row: $H calls, $H ENOENT" \
		SCCHECK counts "$TMP/helper.json" --key goid --id "$DIET_HELPER" --others-ok openat=$H "openat!$H" \
		openat:ENOENT=$H
	check_v "--by goid: errnos of each row add up to its errors" SCCHECK errnos "$TMP/helper.json"
else
	fail "syscalls --by goid around one helper run (exit $GS_RC)"
fi

# 8. a call a signal handler interrupts: SIGURG to the diet's thread 10 ms
# into its first sleep; clock_nanosleep fails with EINTR (a handler ran) and
# the program sleeps again. goscope and strace -f -c watch the same run.
diet_start intr -open 0 -missing 0 -refused 0 -sleeps 4 -interrupt-ms 10
strace_start "$TMP/intr.strace" || fail "strace -f -c -p $DIET_PID: $(head -3 "$TMP/intr.strace.err")"
if diet_round "$TMP/intr.json" -d 3 --json -e clock_nanosleep; then
	strace_stop "$TMP/intr.strace"
	eintr=$(sed -n "s/.*done round=1 .* eintr=\([0-9]*\).*/\1/p" "$DIET_OUT")
	expect_eq "the program saw its sleep interrupted (EINTR) once" "$eintr" 1
	check_v "interrupted sleep: goscope and strace -f -c (same run) count the same calls and errors" \
		SCCHECK strace "$TMP/intr.strace" "$TMP/intr.json" --syscalls clock_nanosleep
	check_v "interrupted sleep: 5 calls, 1 error, named as the program saw it (EINTR) or as the kernel's restart code (ERESTART_RESTARTBLOCK)" \
		SCCHECK counts "$TMP/intr.json" clock_nanosleep=5 "clock_nanosleep!1" \
		"clock_nanosleep:EINTR|ERESTART_RESTARTBLOCK=1"
else
	strace_stop "$TMP/intr.strace"
	fail "syscalls -e clock_nanosleep around one interrupted run (exit $GS_RC)"
fi

finish
