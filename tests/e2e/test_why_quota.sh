#!/usr/bin/env bash
# test_why_quota: `goscope why` names a cgroup CPU quota as the cause of
# slow calls, and its cfs_throttled figure agrees with the cgroup's own
# throttled time.
#
# Setup: tests/go/whysvc (GOMAXPROCS 2, handler main.work: 4 ms of CPU work,
# a mutex for a moment, 16 KiB of allocations) in a cgroup v1 cpu child
# with a quota of 10 ms per 100 ms: about two requests run, then the process
# is throttled for the rest of the period (up to 90 ms), and the request in
# flight waits; --slow 50 keeps the calls a busy machine's run queue alone
# makes slow (tens of ms) out. One client worker, closed
# loop, 8 s. Truth: throttled_time of the cgroup's cpu.stat over the load
# (read before the client starts and after it ends), and the service's own
# per-request records (its slow requests spend their time in their CPU work,
# the step a quota stretches).
# Checks (why -p SVC --func main.work --slow 50 --json, tests/e2e/why_check.py):
# top cfs_throttled for >= 90% of slow calls; first in the verdict;
# explained_share >= 0.8; parts add up; every call is a request of the
# service's record and none of its slow ones is missing; the calls'
# cfs_throttled sum <= 1.1 x throttled_time delta + 5 ms (calls do not
# overlap: one worker) and >= 0.5 x it (nearly every throttled period stops
# a request in flight; throttled_time counts each CPU with queued tasks; the
# service's own clock puts 0.7 of it in its slow requests on a quiet
# machine); runq <= 1.1 x the run_delay delta of the service's threads.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"
. "$E2E_DIR/why_lib.sh"

SLOW=50
wl_build
wl_cgroup 10000 100000
log "cgroup $WL_CG: quota 10000 us per 100000 us"
wl_start SVC "$TMP/svc.out" "$TMP/svc.err" env GOMAXPROCS=2 "$TMP/whysvc" -burn "${WHY_QUOTA_BURN:-4}" -alloc 16
echo "$SVC_PID" >"$WL_CG/cgroup.procs" || die "cannot move $SVC_PID into $WL_CG"

wl_truth0() { wl_cg_throttled thr0; }
wl_truth1() { wl_cg_throttled thr1; }
wl_run $SLOW 8 "http://$SVC_ADDR/work" --func main.work
log "cpu.stat: throttled_time +$(((thr1 - thr0) / 1000)) us, nr_throttled +$((thr1_n - thr0_n))"
wl_check quota --slow $SLOW --truth throttled_us=$(((thr1 - thr0) / 1000)) --truth nr_throttled=$((thr1_n - thr0_n))
wl_finish
