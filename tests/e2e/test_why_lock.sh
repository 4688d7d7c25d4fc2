#!/usr/bin/env bash
# test_why_lock: `goscope why` names a mutex held by another goroutine as the
# cause of slow calls, and its lock figure agrees with the holder's own
# timing.
#
# Setup: tests/go/whysvc; /admin/hold?ms=50&gap=30 starts a goroutine that
# takes the handler's sync.Mutex for 50 ms every 80 ms and records each hold
# (CLOCK_MONOTONIC, its own clock). One client worker, closed loop, 8 s.
# Truth: the holds, and the handler's own clock around its Lock() (slow
# requests spend >= 80% of their time waiting for it).
# Checks (why --func main.work --slow 25 --json, why_check.py): top lock for
# >= 90% of slow calls, first in the verdict, explained_share >= 0.8, parts
# add up, calls match the service's requests; per call, lock <= the call's
# overlap with the holds + 1 ms; over the calls, lock >= 0.8 x their
# overlap with the holds (the rest of a call is its own few ms of work) and
# <= the time held in the window + 1 ms.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"
. "$E2E_DIR/why_lib.sh"

SLOW=25
wl_build
wl_start SVC "$TMP/svc.out" "$TMP/svc.err" env GOMAXPROCS=2 "$TMP/whysvc" -burn 1
wl_truth0() { wl_get 'admin/hold?ms=50&gap=30' >/dev/null || die "cannot start the holder"; }
wl_truth1() { wl_get 'admin/hold?ms=0' >/dev/null; }
wl_run $SLOW 8 "http://$SVC_ADDR/work" --func main.work
wl_check lock --slow $SLOW
wl_finish
