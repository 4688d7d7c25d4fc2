#!/usr/bin/env bash
# test_why_fault: `goscope why` names major page faults (a mapped file
# evicted from the page cache from outside) as the cause of slow calls, and
# its figure agrees with the handler's own page-read time and fault count.
#
# Setup: tests/go/whysvc maps a 64 MiB file (on disk, written here) with
# MADV_RANDOM; its handler reads one byte of each of 256 pages (at a
# position moving per request) and then drops its own page table entries
# for them; a python loop outside evicts the file from the page cache every
# 10 ms (posix_fadvise DONTNEED), so the reads are major faults. One client
# worker, closed loop, 8 s. Truth: majflt of /proc/SVC/stat over the load,
# and the handler's own records: its page-read time and the major faults of
# its thread during them (getrusage RUSAGE_THREAD, goroutine locked to it).
# Checks (why --func main.work --slow SLOW --json, why_check.py): top
# major_fault for >= 90% of slow calls, first in the verdict,
# explained_share >= 0.8, parts add up, calls match the service's requests;
# major_fault <= 1.05 x the reads' own time in those calls + 1 ms and >= 0.6
# x it (the reads' other time: their CPU and their thread's run-queue
# waits); major_fault only in calls whose reads took major faults.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"
. "$E2E_DIR/why_lib.sh"

SLOW=${WHY_FAULT_SLOW:-15}
PAGES=${WHY_FAULT_PAGES:-256}
wl_build
wl_data 64
wl_start SVC "$TMP/svc.out" "$TMP/svc.err" env GOMAXPROCS=2 "$TMP/whysvc" -burn 1 -file "$WL_DATA" -pages "$PAGES"
wl_dropper "$WL_DATA" 0.01
wl_truth0() { proc_majflt mf0 "$SVC_PID"; }
wl_truth1() { proc_majflt mf1 "$SVC_PID"; }
wl_run "$SLOW" 8 "http://$SVC_ADDR/work" --func main.work
log "majflt +$((mf1 - mf0))"
wl_check fault --slow "$SLOW" --truth majflt=$((mf1 - mf0))
wl_finish
