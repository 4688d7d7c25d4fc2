#!/usr/bin/env bash
# test_why_downstream: `goscope why --http` names a slow downstream (the
# handler waiting on its socket: io_wait) as the cause of slow requests, and
# its figure agrees with the downstream's own timing.
#
# Setup: tests/go/whysvc -mode downstream -delay 40 (GET /d takes 40 ms by
# its own clock, which it records per request) and the service calling it
# from its handler over a kept-alive connection read on the handler's
# goroutine. One client worker, closed loop, 8 s: every request is slow.
# Truth: the downstream's records, the handler's own clock around the call.
# Checks (why --http --slow 25 --json, why_check.py): every call's route is
# "GET /work"; top io_wait for >= 90% of slow calls, first in the verdict,
# explained_share >= 0.8, parts add up, calls match the service's requests;
# io_wait within [0.95, 1.1] x the downstream's own time for those calls
# (+1 ms a call: loopback and wake-up), and per call >= 0.9 x it - 0.5 ms
# for >= 90% of calls. --perfetto: a call slice per slow call on its
# goroutine's track (start, wall_us), its state slices summing to its parts.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"
. "$E2E_DIR/why_lib.sh"

SLOW=25
wl_build
wl_start DS "$TMP/ds.out" "$TMP/ds.err" "$TMP/whysvc" -mode downstream -delay 40
wl_start SVC "$TMP/svc.out" "$TMP/svc.err" env GOMAXPROCS=2 "$TMP/whysvc" -burn 1 -downstream "$DS_ADDR"
wl_truth0() { :; }
wl_truth1() { curl -sf "http://$DS_ADDR/stats" >"$TMP/ds.json" || die "cannot read the downstream's records"; }
wl_run $SLOW 8 "http://$SVC_ADDR/work" --http --perfetto "$TMP/why.perfetto.json"
wl_check downstream --slow $SLOW --dstats "$TMP/ds.json" --route "GET /work" ${WHY_JSON:+--perfetto "$TMP/why.perfetto.json"}
wl_finish
