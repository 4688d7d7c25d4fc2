#!/usr/bin/env bash
# test_health_tcp: `goscope health` counts a process's TCP retransmits and
# receive-queue drops as the kernel's SNMP counters of its network
# namespace do, and gives them to the process owning the socket.
#
# Setup: two network namespaces (client, server) joined by a veth pair on
# 10.250.0.0/30; in the server's, an nftables table (inet goscope_test)
# drops 2% of the packets to port 5001 at input. tests/go/healthtcp client
# streams to healthtcp server on 5001: the client (the sender) retransmits
# what was dropped. It is the only process with sockets in its namespace.
# Truth: Tcp RetransSegs of /proc/CLIENT/net/snmp (nstat TcpRetransSegs in
# that namespace), read after goscope's window opened (gs_wait_ready) and
# when it printed its report (gs_wait_output).
# - health -p CLIENT -d 5 --json: tcp_retransmits within 15% of the
#   RetransSegs delta (which counts segments: a retransmitted TSO/GSO skb
#   counts as its segments), tcp verdict warn; text: the connection with the
#   most retransmits is the client's, 10.250.0.1:PORT -> 10.250.0.2:5001
#   ESTABLISHED.
# Receive-queue drops: a second client opens 8 connections to a server on
# 5002 (no nft rule) which, on SIGUSR1 inside goscope's window, stops
# reading them and shrinks their SO_RCVBUF to the minimum: the data the
# advertised window still lets in finds no room. Truth: TcpExt TCPRcvQDrop
# + TCPOFODrop (drop reason PROTO_MEM) + TCPBacklogDrop (SOCKET_BACKLOG) of
# /proc/SERVER/net/netstat over the window; checked only when the kernel
# counted some:
# - health -p SERVER -d 4 --json: tcp_rcvq_drops within 15% of that sum,
#   tcp_drop_reasons.PROTO_MEM of TCPRcvQDrop + TCPOFODrop and
#   SOCKET_BACKLOG of TCPBacklogDrop; tcp verdict bad.
# The namespaces (with the veth pair and the nft table) are deleted at exit.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, nftables)"
for c in ip nft; do
	command -v "$c" >/dev/null || skip "no $c"
done
need_go
health_go_build healthtcp

lossy_link tcp 10.250.0

# --- retransmits: the sender, against RetransSegs ------------------------------------------
spawn "$TMP/srv.out" "$TMP/srv.err" ip netns exec "$NSS" "$TMP/healthtcp" server -addr 10.250.0.2:5001
srv=$SPAWN_PID
wait_line "$TMP/srv.out" '^healthtcp: ready' "$srv" 60 || die "server never ready: $(tail -3 "$TMP/srv.err")"
spawn "$TMP/cli.out" "$TMP/cli.err" ip netns exec "$NSC" "$TMP/healthtcp" client -addr 10.250.0.2:5001
cli=$SPAWN_PID
wait_line "$TMP/cli.out" '^healthtcp: ready' "$cli" 60 || die "client never ready: $(tail -3 "$TMP/cli.err")"
lport=$(sed -n 's/^healthtcp: ready client pid [0-9]* local 10\.250\.0\.1:\([0-9]*\) .*/\1/p' "$TMP/cli.out")
sleep 1

gs_health "$TMP/r.json" "$TMP/r.err" -p "$cli" -d 5 --json
gs_wait_ready "$GS_PID" 60 || die "goscope health never started: $(cat "$TMP/r.err")"
net_counter r0 "$cli" Tcp:RetransSegs
gs_wait_output "$TMP/r.json" "$GS_PID" 60 || die "goscope health -d 5 printed nothing: $(cat "$TMP/r.err")"
net_counter r1 "$cli" Tcp:RetransSegs
gs_wait "$GS_PID" 60
gs_expect_ok "retransmits: health -p CLIENT -d 5 --json" "$TMP/r.err"
eval "$(jvars "$TMP/r.json" -1 tcp_retransmits verdicts.tcp tcp_rcvq_drops seconds)"
log "client netns: RetransSegs +$((r1 - r0)); goscope (${seconds}s): tcp_retransmits $tcp_retransmits"
[ $((r1 - r0)) -ge 20 ] || fail "only $((r1 - r0)) retransmitted segments in the window: the nft rule did not bite"
within "tcp_retransmits vs the client netns' Tcp RetransSegs delta" "$tcp_retransmits" $((r1 - r0)) 15
expect_eq "retransmits: tcp verdict" "$verdicts_tcp" warn

gs_health "$TMP/r.txt" "$TMP/r.txterr" -p "$cli" -d 2
gs_wait "$GS_PID" 60
gs_expect_ok "retransmits: health -d 2 (text)" "$TMP/r.txterr"
sed -n '/^  tcp /,/^  memory /p' "$TMP/r.txt" | sed '$d' | sed 's/^/        | /'
top=$(sed -n 's/^ *most retransmits: //p' "$TMP/r.txt")
[[ $top == "10.250.0.1:$lport -> 10.250.0.2:5001 ESTABLISHED ("*")" ]] &&
	pass "text: most retransmits: $top" || fail "text: most retransmits: '$top', want 10.250.0.1:$lport -> 10.250.0.2:5001 ESTABLISHED"
kill "$cli" "$srv" 2>/dev/null

# --- receive-queue drops: the receiver, against TCPRcvQDrop & co ----------------------------
spawn "$TMP/srv2.out" "$TMP/srv2.err" ip netns exec "$NSS" "$TMP/healthtcp" server -addr 10.250.0.2:5002
srv2=$SPAWN_PID
wait_line "$TMP/srv2.out" '^healthtcp: ready' "$srv2" 60 || die "server 2 never ready: $(tail -3 "$TMP/srv2.err")"
spawn "$TMP/cli2.out" "$TMP/cli2.err" ip netns exec "$NSC" "$TMP/healthtcp" client -addr 10.250.0.2:5002 -conns 8
cli2=$SPAWN_PID
wait_line "$TMP/cli2.out" '^healthtcp: ready' "$cli2" 60 || die "client 2 never ready: $(tail -3 "$TMP/cli2.err")"
sleep 1 # windows open wide

gs_health "$TMP/q.json" "$TMP/q.err" -p "$srv2" -d 4 --json
gs_wait_ready "$GS_PID" 60 || die "goscope health never started: $(cat "$TMP/q.err")"
net_counter m0 "$srv2" TcpExt:TCPRcvQDrop TcpExt:TCPOFODrop
net_counter b0 "$srv2" TcpExt:TCPBacklogDrop
kill -USR1 "$srv2"
gs_wait_output "$TMP/q.json" "$GS_PID" 60 || die "goscope health -d 4 printed nothing: $(cat "$TMP/q.err")"
net_counter m1 "$srv2" TcpExt:TCPRcvQDrop TcpExt:TCPOFODrop
net_counter b1 "$srv2" TcpExt:TCPBacklogDrop
gs_wait "$GS_PID" 60
gs_expect_ok "rcvq drops: health -p SERVER -d 4 --json" "$TMP/q.err"
grep -q '^healthtcp: stalled' "$TMP/srv2.out" || fail "the server never stalled its connections"
eval "$(jvars "$TMP/q.json" -1 tcp_rcvq_drops tcp_drop_reasons.PROTO_MEM tcp_drop_reasons.SOCKET_BACKLOG \
	tcp_drop_reasons verdicts.tcp)"
log "server netns: TCPRcvQDrop+TCPOFODrop +$((m1 - m0)), TCPBacklogDrop +$((b1 - b0)); goscope: tcp_rcvq_drops $tcp_rcvq_drops, reasons $tcp_drop_reasons"
if [ $((m1 - m0 + b1 - b0)) -gt 0 ]; then
	within "tcp_rcvq_drops vs TCPRcvQDrop+TCPOFODrop+TCPBacklogDrop delta" "$tcp_rcvq_drops" $((m1 - m0 + b1 - b0)) 15
	if [ $((m1 - m0)) -gt 0 ]; then
		within "drop reason PROTO_MEM vs TCPRcvQDrop+TCPOFODrop delta" "${tcp_drop_reasons_PROTO_MEM/None/0}" $((m1 - m0)) 15
	fi
	if [ $((b1 - b0)) -gt 0 ]; then
		within "drop reason SOCKET_BACKLOG vs TCPBacklogDrop delta" "${tcp_drop_reasons_SOCKET_BACKLOG/None/0}" $((b1 - b0)) 15
	fi
	expect_eq "rcvq drops: tcp verdict" "$verdicts_tcp" bad
else
	log "the kernel counted no receive-queue drops in the window: not checked"
fi

finish
