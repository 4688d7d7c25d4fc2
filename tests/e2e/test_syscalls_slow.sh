#!/usr/bin/env bash
# test_syscalls_slow: `goscope syscalls --slow MS` reports each slow call as
# it happens, with its duration, goroutine, thread, Go stack and path.
#
# Target: tests/go/syscalldiet (go1.19, static): per SIGUSR1, S
# clock_nanosleep of 25 ms in main.doSleeps, and one openat of a FIFO for
# reading in main.doFifo that blocks until a writer goroutine opens the FIFO
# 30 ms later (with open(2), so it is not an openat). Truths:
# - S slow clock_nanosleep events, each at least 25 ms (the kernel does not
#   return early), from the goroutine id the program read from its own
#   runtime.Stack header and the thread it got from gettid, with
#   main.doSleeps on the stack;
# - exactly one slow openat: the FIFO's path (printed by the program), at
#   least 25 ms, main.doFifo on the stack; the fast openats (the program's
#   N opens of /etc/passwd) are not reported;
# - the text output says the same ("slow clock_nanosleep 25.1ms: pid P tid T
#   goroutine G, result 0" and the stack): the goroutine is the program's,
#   and the result clock_nanosleep's own (0), not glued to the goroutine id.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/syscalls_lib.sh"

need_go
diet_build || die "go build syscalldiet"

S=12 SLEEP_MS=25
diet_start slow -open 20 -missing 2 -refused 1 -sleeps $S -sleep-ms $SLEEP_MS -fifo-ms 30
[ -p "$DIET_FIFO" ] || die "no FIFO at '$DIET_FIFO'"
log "syscalldiet pid $DIET_PID goroutine $DIET_GOID thread $DIET_TID fifo $DIET_FIFO"

if diet_round "$TMP/slow.json" -d 4 --json --slow 20; then
	expect_eq "syscalls --slow 20 --json: exit status" "$GS_RC" 0
	check_v "--slow: $S clock_nanosleep events >= $SLEEP_MS ms, goroutine $DIET_GOID, thread $DIET_TID, main.doSleeps" \
		SCCHECK slow "$TMP/slow.json" --syscall clock_nanosleep --count $S \
		--min-us $((SLEEP_MS * 1000)) --goid "$DIET_GOID" --tid "$DIET_TID" --func main.doSleeps
	check_v "--slow: one openat event, the FIFO's path, >= 25 ms, goroutine $DIET_GOID, main.doFifo" \
		SCCHECK slow "$TMP/slow.json" --syscall openat --count 1 --min-us 25000 \
		--goid "$DIET_GOID" --tid "$DIET_TID" --func main.doFifo --path "$DIET_FIFO"
	check_v "--slow: the counts still include every call (openat 23: 20 + 2 + FIFO)" \
		SCCHECK counts "$TMP/slow.json" openat=23 openat:ENOENT=2 clock_nanosleep=$S connect=1
else
	fail "syscalls --slow 20 --json around one diet run (exit $GS_RC)"
fi

if diet_round "$TMP/slow.txt" -d 4 --slow 20 -e clock_nanosleep,openat; then
	expect_eq "syscalls --slow 20 (text): exit status" "$GS_RC" 0
	check_v "--slow (text): $S 'slow clock_nanosleep' lines with goroutine, thread and main.doSleeps" \
		SCCHECK slowtext "$TMP/slow.txt" --syscall clock_nanosleep --count $S --min-ms $SLEEP_MS \
		--goid "$DIET_GOID" --tid "$DIET_TID" --func main.doSleeps --ret 0
	if grep -qxF "    path: $DIET_FIFO" "$TMP/slow.txt"; then
		pass "--slow (text): the slow openat shows 'path: $DIET_FIFO'"
	else
		fail "--slow (text): no 'path: $DIET_FIFO' line"
	fi
else
	fail "syscalls --slow 20 (text) around one diet run (exit $GS_RC)"
fi

finish
