#!/usr/bin/env bash
# test_why_retrans: `goscope why --http` flags TCP retransmits on the
# sockets a slow request used (packet loss on its downstream link), with the
# wait they cause named io_wait, and counts them as the kernel does.
#
# Setup: two network namespaces joined by a veth pair on 10.252.0.0/30: the
# service (tests/go/whysvc, and its load client) in one, its downstream
# (whysvc -mode downstream, no delay) on 10.252.0.2:5002 in the other, where
# nftables drops 20% of the packets to port 5002 at input: the service's
# request segments are lost and retransmitted after an RTO (>= 200 ms). One
# client worker, closed loop, 10 s. Truth: Tcp RetransSegs of the service's
# namespace (/proc/SVC/net/snmp, what nstat shows there: only the service
# has sockets in it) over the load; the handler's own clock around the
# downstream call.
# Checks (why --http --slow 150 --json, why_check.py): top io_wait for >=
# 90% of slow calls, first in the verdict, explained_share >= 0.8, parts add
# up, calls match the service's requests; >= 90% of slow calls carry
# tcp_retransmits > 0; their sum <= the RetransSegs delta + 2 and >= 0.5 x it
# (retransmits outside slow calls: a FIN's, a SYN's on a new connection).
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"
. "$E2E_DIR/why_lib.sh"

SLOW=150
command -v ip >/dev/null || skip "no ip"
wl_build
wl_netns 20 5002
wl_start DS "$TMP/ds.out" "$TMP/ds.err" ip netns exec "$WL_NSS" "$TMP/whysvc" -mode downstream -addr 10.252.0.2:5002
wl_start SVC "$TMP/svc.out" "$TMP/svc.err" ip netns exec "$WL_NSC" env GOMAXPROCS=2 "$TMP/whysvc" -burn 1 \
	-downstream 10.252.0.2:5002
SVC_EXEC=(ip netns exec "$WL_NSC")
LOAD_EXEC=(ip netns exec "$WL_NSC")
wl_truth0() { net_counter rt0 "$SVC_PID" Tcp:RetransSegs; }
wl_truth1() { net_counter rt1 "$SVC_PID" Tcp:RetransSegs; }
wl_run $SLOW 10 "http://$SVC_ADDR/work" --http
log "service netns: RetransSegs +$((rt1 - rt0))"
wl_check retrans --slow $SLOW --truth retrans_segs=$((rt1 - rt0)) --route "GET /work"
wl_finish
