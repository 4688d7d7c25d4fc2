#!/usr/bin/env bash
# test_why_runq: `goscope why` names the kernel's run queue (CPU hogs on the
# service's CPU) as the cause of slow calls, and its runq figure agrees with
# the service threads' schedstat run_delay.
#
# Setup: tests/go/whysvc (GOMAXPROCS 1, handler main.work with 5 ms of CPU
# work) pinned to the last CPU with taskset, with three busy loops pinned to
# the same CPU: each request's CPU work shares that CPU four ways. The load
# client runs on CPU 0. One client worker, closed loop, 8 s. Truth: the sum
# of run_delay (field 2 of /proc/SVC/task/*/schedstat) over the load, and
# the service's own records (slow requests spend their time in their CPU
# work).
# Checks (why --func main.work --slow 10 --json, why_check.py): top runq for
# >= 90% of slow calls, first in the verdict, explained_share >= 0.8, parts
# add up, calls match the service's requests; the calls' runq sum <= 1.1 x
# the run_delay delta + 5 ms (a call's runq is its thread's run-queue wait)
# and >= 0.25 x it (the handler's thread waits most, ~half of it: other
# threads of the service, sysmon and the netpoller, wait too, outside
# calls); >= 0.8 x the handler thread's own run-queue wait in its steps.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"
. "$E2E_DIR/why_lib.sh"

SLOW=10
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
command -v taskset >/dev/null || skip "no taskset"
cpu=$(($(nproc) - 1))
wl_build
wl_start SVC "$TMP/svc.out" "$TMP/svc.err" env GOMAXPROCS=1 taskset -c "$cpu" "$TMP/whysvc" -burn 5
wl_hogs "$cpu" "${WHY_RUNQ_HOGS:-3}"
LOAD_EXEC=(taskset -c 0)
sleep 0.5

wl_truth0() { schedstat_ns rd0 "$SVC_PID"; }
wl_truth1() { schedstat_ns rd1 "$SVC_PID"; }
wl_run $SLOW 8 "http://$SVC_ADDR/work" --func main.work
log "schedstat: run_delay +$(((rd1 - rd0) / 1000)) us over the service's threads"
wl_check runq --slow $SLOW --truth run_delay_us=$(((rd1 - rd0) / 1000))
wl_finish
