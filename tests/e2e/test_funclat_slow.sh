#!/usr/bin/env bash
# test_funclat_slow: `goscope funclat --slow MS [--args]` streams each slow
# call as it happens: function, goroutine, duration, arguments and the
# caller's Go stack.
#
# Target: tests/go/funclat; its round calls main.slowArg(12345, 678+i)
# through main.slowCaller 5 times, 30 ms each (a time.Sleep: never
# shorter), on a goroutine whose id the program prints from its own
# runtime.Stack header. Truths: exactly 5 slow events for main.slowArg,
# each >= 30 ms, on that goroutine, first argument register 12345 (RAX on
# amd64: Go's register ABI), the stack starting at main.slowArg with
# main.slowCaller as its caller; main.sleep5 (5 ms) probed in the same run
# gives an event only for a call that took 20 ms (a busy machine): every
# event is at least 20 ms long. The text form says the same.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/funclat_lib.sh"

fl_prog_start -tiny 200 -recur 2 -boom 2 -goexit 1

# round OUT ARGS...: goscope funclat ARGS around one round of the program.
round() {
	local out=$1 before
	shift
	before=$(grep -c '^funclat: round done' "$FL_OUT")
	gs_start "$out" -p "$FL_PID" "$@" || return 1
	kill -USR1 "$FL_PID"
	local n=600
	while [ "$(grep -c '^funclat: round done' "$FL_OUT")" -le "$before" ] && [ $n -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	gs_stop
}

if round "$TMP/slow.json" --json --slow 20 --args main.slowArg main.sleep5; then
	expect_eq "funclat --slow 20 --args --json: exit status" "$GS_RC" 0
	goid=$(sed -n 's/^funclat: slow goroutine \([0-9]*\)$/\1/p' "$FL_OUT" | tail -1)
	check_v "--slow: 5 events of main.slowArg >= 30 ms, goroutine $goid, RAX 12345, called by main.slowCaller" \
		FLCHECK slow "$TMP/slow.json" --func main.slowArg --count 5 --min-us 30000 --goid "$goid" \
		--args 12345 --caller main.slowCaller
	check_v "--slow: every event at least 20 ms (main.sleep5's too, when the machine made one that slow)" \
		FLCHECK slowmin "$TMP/slow.json" 20000
	check_v "--slow: the counts still include every call" FLCHECK count "$TMP/slow.json" main.slowArg=5
else
	fail "goscope funclat --slow did not start: $(tail -3 "$TMP/slow.json.err")"
fi

if round "$TMP/slow.txt" --slow 20 main.slowArg; then
	expect_eq "funclat --slow 20 (text): exit status" "$GS_RC" 0
	n=$(grep -cE '^slow main\.slowArg [0-9.]+ms: pid [0-9]+ tid [0-9]+ goroutine [0-9]+$' "$TMP/slow.txt")
	expect_eq "--slow (text): 'slow main.slowArg ...' lines" "$n" 5
	grep -qE '^ +main\.slowCaller ' "$TMP/slow.txt" && pass "--slow (text): main.slowCaller on the stack" ||
		fail "--slow (text): no main.slowCaller frame: $(head -6 "$TMP/slow.txt")"
fi
finish
