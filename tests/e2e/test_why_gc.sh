#!/usr/bin/env bash
# test_why_gc: `goscope why` names the garbage collector (an allocation storm
# in another goroutine under a small GOGC: mark assists and stop-the-world
# pauses) as the cause of slow calls, within what gctrace says happened.
#
# Setup: tests/go/whysvc under GOGC=10, GODEBUG=gctrace=1, GOMAXPROCS 2;
# /admin/alloc?on=1 starts a goroutine keeping a live heap of 128 MiB of
# pointerful nodes (a fixed base and slots pointing into it) and replacing
# 256 KiB of slots per round (garbage and pointer writes), sleeping 5 ms
# between rounds: GC runs nearly all the time. The handler allocates 2 MiB
# per request (in 1 KiB pieces; "a little" does not make a handler assist
# enough to be slow). Not on a locked thread by default (WHY_GC_LOCKALLOC=true
# locks it, so that the step's thread CPU time and run-queue wait are known
# from /proc/thread-self/schedstat): a locked goroutine parked in an assist
# wait is woken through its own M, whose run-queue wait before the goroutine
# runs again belongs to no goroutine in the kernel's view (why sees the
# goroutine still waiting), and real handlers are not locked. Not locked,
# the step records the run-queue wait of all the service's threads during it
# (an upper bound of the handler's own).
# One client worker, closed loop, 12 s and on until 12 requests took >= 50 ms
# by the service's clock (60 s at most): they are rare (7-14 in 12 s). Truth: gctrace's lines (each
# cycle's start, its STW and mark clock times, its assist CPU), aligned on
# CLOCK_MONOTONIC by the service's start; the allocation step's schedstat.
# Checks (why --func main.work --slow 50 --json, why_check.py): top
# gc_assist or gc_stw for >= 90% of slow calls, first in the verdict,
# explained_share >= 0.8, parts add up, calls match the service's requests,
# why's top agrees with the service's own cut (gc = the allocation step
# minus its run-queue wait) where that is clear, runq >= 0.8 x the steps'
# run-queue wait; gc_stw over the calls <= 1.1 x gctrace's STW clock + 1 ms,
# gc_assist <= 1.1 x its mark clock + 1 ms (calls do not overlap: one
# worker); no call has more GC time than its overlap with gctrace's cycles
# (+-2 ms, +1 ms). On a saturated machine the assist work waits for CPUs:
# the kernel's run-queue wait (the truth) can then be the larger part: a
# call named runq/runnable counts as right when the service's threads
# waited in run queues during its steps at least as long as why's GC part.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"
. "$E2E_DIR/why_lib.sh"

SLOW=${WHY_GC_SLOW:-50}
GOGC_V=${WHY_GC_GOGC:-10}
LIVE=${WHY_GC_LIVE:-128}
CHUNK=${WHY_GC_CHUNK:-256}
SLEEPUS=${WHY_GC_SLEEP:-5000}
ALLOC=${WHY_GC_ALLOC:-2048}
BURN=${WHY_GC_BURN:-0.5}
LOCKALLOC=${WHY_GC_LOCKALLOC:-false}
wl_build
wl_start SVC "$TMP/svc.out" "$TMP/svc.err" nice -n -10 env GOGC="$GOGC_V" GODEBUG=gctrace=1 GOMAXPROCS=2 \
	"$TMP/whysvc" -burn "$BURN" -alloc "$ALLOC" -lock-alloc="$LOCKALLOC"
wl_get "admin/alloc?on=1&live=$LIVE&chunk=$CHUNK&sleep=$SLEEPUS&copy=${WHY_GC_COPY:-0}" >/dev/null || die "cannot start the storm"
sleep 2 # its live heap built
wl_truth0() { :; }
wl_truth1() { :; }
WL_UNTIL_N=${WHY_GC_UNTIL:-12} wl_run "$SLOW" "${WHY_GC_SECS:-12}" "http://$SVC_ADDR/work" --func main.work
wl_get 'admin/alloc?on=0' >/dev/null
log "gctrace: $(grep -c '^gc ' "$TMP/svc.err") cycles since the start"
wl_check gc --slow "$SLOW" --gctrace "$TMP/svc.err" --svc-mono "$SVC_MONO"
wl_finish
