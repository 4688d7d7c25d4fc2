#!/usr/bin/env bash
# test_why_fault: `goscope why` names major page faults (a mapped file
# evicted from the page cache from outside) as the cause of slow calls, and
# its figure agrees with the handler's own page-read time and fault count.
#
# Setup: tests/go/whysvc maps a 64 MiB file (on disk, written here) with
# MADV_RANDOM; its handler reads one byte of each of 32 pages (at a position
# moving per request) and then drops its own page table entries for them; a
# python loop outside evicts the file from the page cache every 10 ms
# (posix_fadvise DONTNEED), so the reads are major faults; and the service
# is in a cgroup v1 blkio child limiting its reads of the disk to 1000/s (a
# slow disk: on this VM a virtio read is mostly guest CPU, ~100 us a fault,
# which why rightly counts as on_cpu). One client worker, closed loop, 8 s.
# Truth: majflt of /proc/SVC/stat over the load, and the handler's own
# records: its page-read time, the major faults of its thread during them
# (getrusage RUSAGE_THREAD) and the thread's CPU time and run-queue wait
# during them (/proc/thread-self/schedstat, goroutine locked to it).
# Checks (why --func main.work --slow 25 --json, why_check.py): top
# major_fault for >= 90% of slow calls, first in the verdict,
# explained_share >= 0.8, parts add up, calls match the service's requests,
# why's top agrees with the service's own biggest part; major_fault within
# [0.85, 1.1] x the reads' time asleep (wall - CPU - run queue), <= 1.05 x
# their whole time + 1 ms and >= 0.6 x it; major_fault only in calls whose
# reads took major faults.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"
. "$E2E_DIR/why_lib.sh"

SLOW=${WHY_FAULT_SLOW:-25}
PAGES=${WHY_FAULT_PAGES:-32}
wl_build
wl_data 64
wl_start SVC "$TMP/svc.out" "$TMP/svc.err" env GOMAXPROCS=2 "$TMP/whysvc" -burn 1 -file "$WL_DATA" -pages "$PAGES"
wl_dropper "$WL_DATA" 0.01
IOPS=${WHY_FAULT_IOPS:-1000}
[ "$IOPS" -gt 0 ] && wl_blkio_iops "$SVC_PID" "$IOPS" "$WL_DATA"
wl_truth0() { proc_majflt mf0 "$SVC_PID"; }
wl_truth1() { proc_majflt mf1 "$SVC_PID"; }
wl_run "$SLOW" 8 "http://$SVC_ADDR/work" --func main.work
log "majflt +$((mf1 - mf0))"
wl_check fault --slow "$SLOW" --truth majflt=$((mf1 - mf0))
wl_finish
