#!/usr/bin/env bash
# test_offcpu_periodic: for goroutines that block part of the time, the
# time `goscope offcpu` attributes to each blocking call is the time the
# program itself measured in it; and the filters do what they say.
#
# Target: tests/go/periodic (go1.19). Its goroutines block for a known
# share of their time in functions of their own: main.waitSleep
# (time.Sleep ~40 ms, then ~10 ms of CPU: ~75% blocked), main.waitChan
# (a channel fed every 100 ms: ~100%), main.waitMutex (a mutex another
# goroutine holds ~30 ms out of ~60: ~45%). Truth: the program times every
# call with the wall clock and prints its cumulative blocked time on
# SIGUSR1; sampled before and after the trace, this gives each pattern's
# blocked fraction f, and goscope's total on stacks through the function
# (any reason: parked or runnable after its wake-up) must be f x the
# window (-d 6) within 15%. The same for the mutex holder's two sleeps,
# main.holdSleep (~30 ms, mutex held) and main.restSleep (~30 ms): twins
# whose time.Sleep parks at the same pc and sp, told apart only by their
# caller, with microseconds of running between them.
# Filters, at 199 Hz so that every ~40 ms sleep is seen as one wait:
# - without filter (-f top): the main.waitSleep [sleep] rows (two call
#   paths) have P50 in 25..55 ms (the sleeps are drawn from 30..50 ms) and
#   WAITS within 15% of the calls the program made per second x the window;
# - --min-wait 200: the sleeps (30..50 ms) and mutex waits (<= 38 ms) are
#   gone, main's wait for a signal (the whole window) stays, and no row
#   left has a median wait under the threshold;
# - --reason sleep: every leaf contains "sleep", main.waitSleep is there,
#   main.waitChan and main.waitMutex are not;
# - --goid G (the chan goroutine's id, printed by the program): every stack
#   is that goroutine's (through main.chanLoop), blocked ~the whole window;
# - --stack main.waitMutex: every stack has that frame, and there is one.
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/periodic" periodic || die "go build periodic"

spawn "$TMP/p.out" "$TMP/p.err" "$TMP/periodic"
pid=$SPAWN_PID
wait_line "$TMP/p.out" '^periodic: ready' "$pid" 60 || die "periodic never ready: $(tail -3 "$TMP/p.err")"
goids=$(sed -n 's/^periodic: goids //p' "$TMP/p.out")
goid_of() { "$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$goids" "$1"; }
sleep 0.5 # let the patterns settle

seq=0
# truth: the program's cumulative blocked times, as one JSON line in TRUTH.
truth() {
	seq=$((seq + 1))
	kill -USR1 "$pid"
	wait_line "$TMP/p.out" "^periodic: truth .*\"seq\":${seq}[,}]" "$pid" 20 ||
		die "periodic printed no truth line $seq"
	TRUTH=$(sed -n "s/^periodic: truth \(.*\"seq\":${seq}[,}].*\)/\1/p" "$TMP/p.out")
}
report() { "$PYTHON" "$E2E_DIR/offcpu_report.py" "$@"; }
# The sampler at a higher priority: a wait is measured to one interval as
# the sampler achieves it, and on a loaded machine (load 20+ on 2 cores) an
# ordinary process gets the CPU a few times a second — the header's
# "longest gap" says so. The target keeps its own priority.
offcpu() { nice -n -10 "$GOSCOPE" offcpu "$@"; }

# --- accuracy against the program's own measurement -----------------------
truth
t0=$TRUTH
offcpu -p "$pid" -d 6 -f folded >"$TMP/folded" 2>"$TMP/folded.err"
rc=$?
truth
t1=$TRUTH
expect_eq "offcpu -d 6 -f folded: exit status" "$rc" 0
check_v "blocked time per pattern within 15% of the program's own measurement" \
	report truth "$TMP/folded" --t0 "$t0" --t1 "$t1" --window-us 6000000 \
	--pattern sleep=main.waitSleep --pattern chan=main.waitChan --pattern mutex=main.waitMutex
check_v "holder: its sleeps in main.holdSleep and main.restSleep (same pc/sp, other caller) each get their own time" \
	report truth "$TMP/folded" --t0 "$t0" --t1 "$t1" --window-us 6000000 \
	--pattern hold=main.holdSleep --pattern rest=main.restSleep

# --- waits and percentiles, then --min-wait (199 Hz) ----------------------
truth
t0=$TRUTH
offcpu -p "$pid" -d 3 -F 199 -n 100 >"$TMP/top" 2>"$TMP/top.err"
rc=$?
truth
t1=$TRUTH
expect_eq "offcpu -d 3 -F 199 -f top: exit status" "$rc" 0
# calls to waitSleep per second, times the window
nsleep=$("$PYTHON" -c 'import json,sys; a,b=json.loads(sys.argv[1]),json.loads(sys.argv[2]); print(3e9*(b["sleep_n"]-a["sleep_n"])/(b["mono_ns"]-a["mono_ns"]))' "$t0" "$t1")
check_v "-f top: main.waitSleep [sleep] waits of 30..50 ms, as many as the program slept" \
	report row "$TMP/top" --func main.waitSleep --reason sleep --p50-ms 25:55 --waits "$nsleep"

offcpu -p "$pid" -d 3 -F 199 -n 100 --min-wait 200 >"$TMP/minwait" 2>"$TMP/minwait.err"
expect_eq "offcpu --min-wait 200: exit status" "$?" 0
# A sampler held off the CPU for G ms credits a wait first seen after the
# gap with all of it: with G + 50 >= 200 (a loaded machine), waits up to
# G + 50 ms may stay.
check_v "--min-wait 200: no sleep wait of main.waitSleep left (30..50 ms each; or none over the sampler's longest gap + 50 ms)" \
	report row "$TMP/minwait" --func main.waitSleep --reason sleep --absent \
	--unless-gap-ms 50 --threshold-ms 200
check_v "--min-wait 200: no mutex wait of main.waitMutex left (<= 38 ms each; or none over the longest gap + 50 ms)" \
	report row "$TMP/minwait" --func main.waitMutex --reason semacquire --absent \
	--unless-gap-ms 50 --threshold-ms 200
check_v "--min-wait 200: main's wait for a signal (the whole window) stays, 3 s +-15%" \
	report row "$TMP/minwait" --func main.main --reason "chan receive" --min-total-us 2550000
check_v "--min-wait 200: every row left has P50 >= 180 ms" report minp50 "$TMP/minwait" 180

# --- --reason -------------------------------------------------------------
offcpu -p "$pid" -d 2 -f folded --reason sleep >"$TMP/reason" 2>"$TMP/reason.err"
expect_eq "offcpu --reason sleep: exit status" "$?" 0
n_all=$(grep -c . "$TMP/reason")
n_sleep=$(grep -cE ';\[[^]]*sleep[^]]*\] [0-9]+$' "$TMP/reason")
if [ "$n_all" -gt 0 ] && [ "$n_all" = "$n_sleep" ]; then
	pass "--reason sleep: all $n_all stacks end in a reason containing 'sleep'"
else
	fail "--reason sleep: $n_sleep of $n_all stacks have a 'sleep' reason"
	grep -vE ';\[[^]]*sleep[^]]*\] [0-9]+$' "$TMP/reason" | head -5 | sed 's/^/        /'
fi
[ "$(report sum "$TMP/reason" --frame main.waitSleep --reason sleep)" -gt 0 ] &&
	pass "--reason sleep: main.waitSleep [sleep] is there" ||
	fail "--reason sleep: main.waitSleep [sleep] missing"
expect_eq "--reason sleep: time under main.waitChan or main.waitMutex" \
	"$(($(report sum "$TMP/reason" --frame main.waitChan) + $(report sum "$TMP/reason" --frame main.waitMutex)))" 0

# --- --goid ---------------------------------------------------------------
g=$(goid_of chan)
offcpu -p "$pid" -d 2 -f folded --goid "$g" >"$TMP/goid" 2>"$TMP/goid.err"
expect_eq "offcpu --goid $g: exit status" "$?" 0
n_all=$(grep -c . "$TMP/goid")
n_mine=$(report lines "$TMP/goid" --frame main.chanLoop | grep -c .)
if [ "$n_all" -gt 0 ] && [ "$n_all" = "$n_mine" ]; then
	pass "--goid $g: all $n_all stacks are the chan goroutine's (through main.chanLoop)"
else
	fail "--goid $g: $n_mine of $n_all stacks through main.chanLoop"
	head -5 "$TMP/goid" | sed 's/^/        /'
fi
us=$(report sum "$TMP/goid" --frame main.waitChan)
[ "$us" -ge 1700000 ] && [ "$us" -le 2300000 ] &&
	pass "--goid $g: main.waitChan blocked $us us of the 2 s window (truth ~100%, +-15%)" ||
	fail "--goid $g: main.waitChan blocked $us us, want 2 s +-15%"
g2=$(goid_of sleep)
offcpu -p "$pid" -d 1 -f folded --goid "$g2" >"$TMP/goid2" 2>"$TMP/goid2.err"
n_all=$(grep -c . "$TMP/goid2")
n_mine=$(report lines "$TMP/goid2" --frame main.sleepLoop | grep -c .)
[ "$n_all" -gt 0 ] && [ "$n_all" = "$n_mine" ] &&
	pass "--goid $g2: all $n_all stacks are the sleep goroutine's" ||
	fail "--goid $g2: $n_mine of $n_all stacks through main.sleepLoop"

# --- --stack --------------------------------------------------------------
offcpu -p "$pid" -d 2 -f folded --stack main.waitMutex >"$TMP/stack" 2>"$TMP/stack.err"
expect_eq "offcpu --stack main.waitMutex: exit status" "$?" 0
n_all=$(grep -c . "$TMP/stack")
n_mine=$(grep -c 'main\.waitMutex' "$TMP/stack")
if [ "$n_all" -gt 0 ] && [ "$n_all" = "$n_mine" ]; then
	pass "--stack main.waitMutex: all $n_all stacks have the frame"
else
	fail "--stack main.waitMutex: $n_mine of $n_all stacks have it"
	head -5 "$TMP/stack" | sed 's/^/        /'
fi

kill -0 "$pid" 2>/dev/null && pass "periodic still running after the traces" ||
	fail "periodic died: $(tail -3 "$TMP/p.err")"
finish
