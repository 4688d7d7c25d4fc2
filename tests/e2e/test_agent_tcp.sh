#!/usr/bin/env bash
# test_agent_tcp: `goscope agent`'s TCP retransmit counter against the
# kernel's, and the sweeping of its host-wide BPF TCP map.
#
# Setup (as test_health_tcp.sh, on its own subnet 10.250.1.0/30): two network
# namespaces (client, server) joined by a veth pair; in the server's, an
# nftables table (inet goscope_test) drops 2% of the packets to port 5001
# at input. tests/go/healthtcp client streams to healthtcp server on 5001:
# the client retransmits what was dropped. The agent runs in the root
# namespace: goscope agent --interval 1 --collectors health --exe healthtcp
# (it sees the processes of every namespace).
#
# Retransmits. The agent's page changes at each collection (every 1 s: it
# sweeps the BPF map, renders, then swaps the page in). To synchronise, the
# test takes the current page, polls /metrics every 20 ms until the page
# differs (ignoring goscope_scrapes_total): a collection just happened; only
# then it reads Tcp RetransSegs of the client's namespace
# (/proc/CLIENT/net/snmp). So the page's value and RetransSegs are taken
# tens of ms apart (up to ~0.2 s on a loaded 2-CPU machine, ~2% of the
# window), not up to a whole interval. Two such moments >= 6 s apart (also
# logged: TCPRetransFail, retransmits that failed to go out, which
# RetransSegs counts and goscope does not; 0 on veth):
# - the delta of goscope_tcp_retransmits_total{pid="CLIENT"} is within 15%
#   of the RetransSegs delta (the client is the only process with sockets
#   in its namespace during that window; both count segments);
# - at every scrape (~every 0.3 s, all through the test) that counter never
#   decreases, and goscope_dropped_events_total{source="health_maps"} is 0.
# Sweeping. A copy of healthtcp named othertcp (so --exe healthtcp does not
# track it) streams to the same server for ~14 s, then is killed. The
# agent's own "tcp" map is found by the map ids in /proc/AGENT/fdinfo
# (bpftool here reports no pids; other agents may run on the host, each
# with a map named "tcp") and dumped with bpftool; keys are socket inodes,
# matched to /proc/PID/fd of othertcp and of the client.
# - while othertcp runs (~14 s; the map dumped every 0.5 s), the map holds
#   entries of its sockets (a stray entry is deleted once sweeps have found
#   it stray for 5 s, and its retransmits keep recreating it), and they
#   are swept while it runs: the count in its entries falls between two
#   dumps at least once (only a sweep deletes them; a new entry starts
#   from 0, and ~0.5 s of retransmits do not make up for the ~5 s an
#   entry lived); othertcp never appears on the page;
# - meanwhile the client's counter grows as its own socket's total_retrans
#   (ss -ti, tcp_info) within 15%: othertcp's retransmits are not given to
#   it;
# - 8 collections (> 5 s) after othertcp is killed (its orphaned sockets have no
#   inode: nothing recreates its entries), the map holds none of its
#   sockets' entries, and no more entries of 10.250.1.0/30 than the client
#   holds sockets (its own are consumed at every collection).
# The namespaces (with the veth pair and the nft table) are deleted at exit.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, nftables, BPF)"
for c in ip nft curl bpftool ss; do
	command -v "$c" >/dev/null || skip "no $c"
done
need_go
health_go_build healthtcp
cp "$TMP/healthtcp" "$TMP/othertcp" || die "cp othertcp"

NET=10.250.1
lossy_link atcp 10.250.1

# --- the agent's page ---------------------------------------------------------------

# scrape FILE: GET /metrics into FILE; every scrape is kept (checked at the
# end: the client's counter never decreases, health_maps drops stay 0).
NSCRAPE=0
scrape() {
	curl -sf --max-time 5 "http://127.0.0.1:$aport/metrics" >"$1" || return 1
	NSCRAPE=$((NSCRAPE + 1))
	cp "$1" "$TMP/scrapes/$(printf '%05d' "$NSCRAPE")"
}

# pval VAR FILE SERIES-PREFIX: the value of the first sample of FILE whose
# line starts with SERIES-PREFIX (empty if none).
pval() {
	local -n _v=$1
	local line
	_v=
	while IFS= read -r line; do
		if [[ $line == "$3"* ]]; then
			_v=${line##* }
			return 0
		fi
	done <"$2"
}

# fresh_page FILE: take the page as it is now, then poll until it differs
# (apart from goscope_scrapes_total): a collection has just completed; FILE
# then holds the new page. False after 5 s.
fresh_page() {
	local file=$1 n=250
	scrape "$TMP/fp.new" || return 1
	grep -v '^goscope_scrapes_total' "$TMP/fp.new" >"$TMP/fp.old"
	while [ $n -gt 0 ]; do
		hl_sleep 0.02
		scrape "$TMP/fp.new" || return 1
		if ! grep -v '^goscope_scrapes_total' "$TMP/fp.new" | cmp -s - "$TMP/fp.old"; then
			cp "$TMP/fp.new" "$file"
			return 0
		fi
		n=$((n - 1))
	done
	return 1
}

# sock_inodes PID: the socket inodes of PID's fds, space separated.
sock_inodes() {
	local f l out=
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		[[ $l == socket:\[*\] ]] && out+="${l:8:-1} "
	done
	printf '%s\n' "${out% }"
}

# tcp_map_id PID: the id of the BPF map named "tcp" among the maps PID holds
# (map_id in /proc/PID/fdinfo; bpftool map show for the names).
tcp_map_id() {
	"$PYTHON" - "$1" <<'EOF'
import glob, json, subprocess, sys
ids = set()
for f in glob.glob("/proc/%s/fdinfo/*" % sys.argv[1]):
    try:
        for line in open(f):
            if line.startswith("map_id:"):
                ids.add(int(line.split()[1]))
    except OSError:
        pass
maps = json.loads(subprocess.run(["bpftool", "map", "show", "-j"], check=True,
                                 capture_output=True, text=True).stdout)
mine = [m["id"] for m in maps if m["id"] in ids and m.get("name") == "tcp"]
if len(mine) != 1:
    sys.exit("maps named tcp among the %d maps of pid %s: %s" % (len(ids), sys.argv[1], mine))
print(mine[0])
EOF
}

# tcp_map MAPID OTHER-INODES CLIENT-INODES: shell assignments counting the
# map's entries: m_total, m_other (keys of othertcp's sockets; m_ocount
# the sum of their counts), m_client (the client's), m_net (IPv4 sockets of $NET.0/30), m_rows (the entries of
# $NET.0/30 and of othertcp's sockets, one per line, for the log).
tcp_map() {
	"$PYTHON" - "$@" "$NET" <<'EOF'
import json, shlex, struct, subprocess, sys
mapid, other, client, net = sys.argv[1], set(sys.argv[2].split()), set(sys.argv[3].split()), sys.argv[4]
dump = json.loads(subprocess.run(["bpftool", "map", "dump", "id", mapid, "-j"], check=True,
                                 capture_output=True, text=True).stdout)
n = {"total": 0, "other": 0, "ocount": 0, "client": 0, "net": 0}
rows = []
for e in dump:
    k = bytes(int(b, 16) for b in e["key"])
    v = bytes(int(b, 16) for b in e["value"])
    ino, kind, sub = struct.unpack_from("<QII", k)
    count, fam, sport, dport = struct.unpack_from("<QHHH", v)
    saddr = ".".join(str(b) for b in v[16:20])
    daddr = ".".join(str(b) for b in v[32:36])
    n["total"] += 1
    mine = fam == 2 and (saddr.startswith(net + ".") or daddr.startswith(net + "."))
    who = "other" if str(ino) in other else "client" if str(ino) in client else ""
    if who:
        n[who] += 1
    if who == "other":
        n["ocount"] += count
    if mine:
        n["net"] += 1
    if mine or who:
        rows.append("ino %d (%s) kind %d state %d count %d %s:%d -> %s:%d" %
                    (ino, who or "?", kind, sub, count, saddr, sport, daddr, dport))
for key, val in n.items():
    print("m_%s=%d" % (key, val))
print("m_rows=%s" % shlex.quote("\n".join(rows)))
EOF
}

# ss_retrans VAR LPORT: total_retrans of the client's socket (ss -ti:
# "retrans:CUR/TOTAL").
ss_retrans() {
	local -n _r=$1
	_r=$(ip netns exec "$NSC" ss -tin "sport = :$2" | sed -n 's/.*retrans:[0-9]*\/\([0-9]*\).*/\1/p' | head -1)
	_r=${_r:-0}
}

mkdir -p "$TMP/scrapes"
aport=$(free_port)
spawn "$TMP/agent.out" "$TMP/agent.err" "$GOSCOPE" agent --listen "127.0.0.1:$aport" --interval 1 \
	--collectors health --exe healthtcp
apid=$SPAWN_PID
wait_port 127.0.0.1 "$aport" "$apid" 30 || die "agent not serving on $aport: $(tail -3 "$TMP/agent.err")"
# The port is bound before the BPF programs load; the first page comes after.
n=0
until curl -sf --max-time 5 "http://127.0.0.1:$aport/metrics" >/dev/null; do
	n=$((n + 1))
	[ $n -lt 300 ] || die "no /metrics page in 30 s: $(tail -3 "$TMP/agent.err")"
	hl_sleep 0.1
done
mapid=$(tcp_map_id "$apid") || die "the agent's tcp map: $mapid"
log "agent pid $apid on :$aport, its tcp map id $mapid"

spawn "$TMP/srv.out" "$TMP/srv.err" ip netns exec "$NSS" "$TMP/healthtcp" server -addr $NET.2:5001
srv=$SPAWN_PID
wait_line "$TMP/srv.out" '^healthtcp: ready' "$srv" 60 || die "server never ready: $(tail -3 "$TMP/srv.err")"
spawn "$TMP/cli.out" "$TMP/cli.err" ip netns exec "$NSC" "$TMP/healthtcp" client -addr $NET.2:5001
cli=$SPAWN_PID
wait_line "$TMP/cli.out" '^healthtcp: ready' "$cli" 60 || die "client never ready: $(tail -3 "$TMP/cli.err")"
lport=$(sed -n "s/^healthtcp: ready client pid [0-9]* local $NET\.1:\([0-9]*\) .*/\1/p" "$TMP/cli.out")
cli_inos=$(sock_inodes "$cli")
log "server pid $srv, client pid $cli ($NET.1:$lport, socket inodes $cli_inos)"
CSERIES="goscope_tcp_retransmits_total{pid=\"$cli\","

# The client on the page (discovery every 2 s), then one more collection.
n=0
until scrape "$TMP/p" && pval g "$TMP/p" "$CSERIES" && [ -n "$g" ]; do
	n=$((n + 1))
	[ $n -lt 100 ] || die "the client's goscope_tcp_retransmits_total never on the page"
	hl_sleep 0.1
done
fresh_page "$TMP/p" || die "the agent's page did not change in 5 s"

# --- retransmits: the agent's counter against RetransSegs -------------------------------
fresh_page "$TMP/p" || die "the agent's page did not change in 5 s"
net_counter r0 "$cli" Tcp:RetransSegs
net_counter f0 "$cli" TcpExt:TCPRetransFail
t0=$EPOCHREALTIME
pval g0 "$TMP/p" "$CSERIES"
while awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 5.5) }'; do
	hl_sleep 0.3
	scrape "$TMP/q" || fail "GET /metrics failed"
done
fresh_page "$TMP/p" || die "the agent's page did not change in 5 s"
net_counter r1 "$cli" Tcp:RetransSegs
net_counter f1 "$cli" TcpExt:TCPRetransFail
t1=$EPOCHREALTIME
pval g1 "$TMP/p" "$CSERIES"
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
log "over ${secs}s: client netns RetransSegs $r0 -> $r1 (+$((r1 - r0))); goscope_tcp_retransmits_total $g0 -> $g1 (+$((g1 - g0))); TCPRetransFail +$((f1 - f0))"
[ $((r1 - r0)) -ge 20 ] || fail "only $((r1 - r0)) retransmitted segments in the window: the nft rule did not bite"
within "goscope_tcp_retransmits_total delta vs the client netns' Tcp RetransSegs delta" \
	$((g1 - g0)) $((r1 - r0)) 15

# --- sweeping: a process the agent does not track ---------------------------------------
spawn "$TMP/oth.out" "$TMP/oth.err" ip netns exec "$NSC" "$TMP/othertcp" client -addr $NET.2:5001
oth=$SPAWN_PID
wait_line "$TMP/oth.out" '^healthtcp: ready' "$oth" 60 || die "othertcp never ready: $(tail -3 "$TMP/oth.err")"
oth_inos=$(sock_inodes "$oth")
oport=$(sed -n "s/^healthtcp: ready client pid [0-9]* local $NET\.1:\([0-9]*\) .*/\1/p" "$TMP/oth.out")
log "othertcp pid $oth (untracked, $NET.1:$oport), socket inodes $oth_inos"
[ -n "$oth_inos" ] || die "othertcp holds no socket"
fresh_page "$TMP/p" || die "the agent's page did not change in 5 s"
ss_retrans s0 "$lport"
pval g0 "$TMP/p" "$CSERIES"
max_other=0 max_ocount=0 seen_oth=0 prev_ocount=0 falls=0
t0=$EPOCHREALTIME
while awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 14) }'; do
	hl_sleep 0.5
	eval "$(tcp_map "$mapid" "$oth_inos" "$cli_inos")" || die "bpftool map dump id $mapid failed"
	log "while othertcp runs: map entries $m_total, of othertcp's sockets $m_other (count $m_ocount), of the client's $m_client, of $NET.0/30 $m_net"
	[ "$m_other" -gt "$max_other" ] && max_other=$m_other
	[ "$m_ocount" -gt "$max_ocount" ] && max_ocount=$m_ocount
	[ "$m_ocount" -lt "$prev_ocount" ] && falls=$((falls + 1))
	prev_ocount=$m_ocount
	scrape "$TMP/q" || fail "GET /metrics failed"
	grep -q "pid=\"$oth\"" "$TMP/q" && seen_oth=1
done
ss_retrans o1 "$oport"
fresh_page "$TMP/p" || die "the agent's page did not change in 5 s"
ss_retrans s1 "$lport"
pval g1 "$TMP/p" "$CSERIES"
if [ "$max_other" -ge 1 ]; then
	pass "while othertcp ran, the agent's map held entries of its sockets (at most $max_other at once)"
else
	fail "while othertcp ran, the agent's map never held an entry of its sockets ($oth_inos)"
fi
# Swept while it ran: a stray entry lives ~5 s (plus a collection); the
# count of othertcp's entries falls when one is deleted.
if [ "$o1" -ge 20 ]; then
	if [ "$falls" -ge 1 ]; then
		pass "its entries were swept while it ran: their count fell $falls time(s) between dumps (at most $max_ocount at once, of its $o1 retransmits, ss -ti)"
	else
		fail "its entries were not swept while it ran: their count never fell (at most $max_ocount, of its $o1 retransmits, ss -ti)"
	fi
else
	log "othertcp retransmitted only $o1 segments: the sweeping of its entries not checked"
fi
[ $seen_oth = 0 ] && pass "othertcp (not --exe) never on the page" || fail "othertcp pid $oth on the page"
log "meanwhile: client socket total_retrans (ss -ti) $s0 -> $s1 (+$((s1 - s0))); goscope_tcp_retransmits_total $g0 -> $g1 (+$((g1 - g0)))"
if [ $((s1 - s0)) -ge 20 ]; then
	within "the client's counter delta vs its socket's total_retrans delta, othertcp streaming too" \
		$((g1 - g0)) $((s1 - s0)) 15
else
	log "only $((s1 - s0)) retransmits on the client's socket meanwhile: not compared"
fi

kill -KILL "$oth"
{ wait_exit "$oth" 10 || fail "othertcp did not exit"; } 2>/dev/null
for _ in 1 2 3 4 5 6 7 8; do
	fresh_page "$TMP/p" || die "the agent's page did not change in 5 s"
done
eval "$(tcp_map "$mapid" "$oth_inos" "$cli_inos")" || die "bpftool map dump id $mapid failed"
log "8 collections after othertcp was killed: map entries $m_total, of othertcp's sockets $m_other, of the client's $m_client, of $NET.0/30 $m_net"
[ -n "$m_rows" ] && printf '%s\n' "$m_rows" | sed 's/^/        /'
expect_eq "entries of othertcp's sockets left in the agent's map" "$m_other" 0
ncli=$(wc -w <<<"$cli_inos")
if [ "$m_net" -le "$ncli" ]; then
	pass "entries of $NET.0/30 left: $m_net <= the client's $ncli socket(s)"
else
	fail "entries of $NET.0/30 left: $m_net > the client's $ncli socket(s)"
fi

# --- every scrape ------------------------------------------------------------------------
prev=0 dec='' drops='' nval=0
for f in "$TMP"/scrapes/*; do
	pval v "$f" "$CSERIES"
	if [ -n "$v" ]; then
		nval=$((nval + 1))
		[ "$v" -lt "$prev" ] && dec+=" $prev->$v(${f##*/})"
		prev=$v
	fi
	pval d "$f" 'goscope_dropped_events_total{source="health_maps"}'
	[ "$d" = 0 ] || drops+=" ${d:-missing}(${f##*/})"
done
if [ -z "$dec" ] && [ "$nval" -gt 10 ]; then
	pass "the client's goscope_tcp_retransmits_total never decreased over $nval scrapes (last $prev)"
else
	fail "the client's counter over $nval scrapes decreased:$dec"
fi
[ -z "$drops" ] && pass "goscope_dropped_events_total{source=\"health_maps\"} 0 at all $NSCRAPE scrapes" ||
	fail "health_maps drops:$drops"

kill -0 "$apid" 2>/dev/null && pass "the agent is still running" || fail "the agent died: $(tail -3 "$TMP/agent.err")"
kill -TERM "$apid"
wait_exit "$apid" 20 || fail "the agent did not stop on SIGTERM"
expect_eq "SIGTERM: exit status" "${WAIT_STATUS:-timeout}" 0
finish
