# health_lib.sh: helpers shared by tests/e2e/test_health_*.sh (source it
# after lib.sh). The kernel's own counters the tests compare goscope health
# with, waiting for goscope's window to open, and tolerance checks.

# gs_health OUT ERR ARGS...: start `goscope health ARGS` in the background
# (killed on exit like any spawn); its PID in GS_PID, its stderr file in
# GS_ERR (where gs_wait_ready looks for the ready line).
gs_health() {
	local out=$1 err=$2
	shift 2
	spawn "$out" "$err" "$GOSCOPE" health "$@"
	GS_PID=$SPAWN_PID
	GS_ERR=$err
}

# hl_sleep SECONDS: sleep without forking (read -t on a FIFO nobody
# writes), so that polling loops keep their pace on a loaded machine.
mkfifo "$TMP/.hl_sleep"
exec {HL_SLEEP_FD}<>"$TMP/.hl_sleep"
hl_sleep() {
	read -r -t "$1" -u "$HL_SLEEP_FD" _ 2>/dev/null
	return 0
}

# gs_wait PID SECONDS: wait for goscope (a child of this shell) to exit,
# polling /proc every 10 ms; after SECONDS it is killed (TERM, then KILL).
# Its exit status in WAIT_STATUS (non-zero on timeout).
gs_wait() {
	local pid=$1 n=$(($2 * 100)) st
	while [ $n -gt 0 ]; do
		st=Z
		read -r _ _ st _ 2>/dev/null <"/proc/$pid/stat"
		[ "$st" = Z ] && break
		hl_sleep 0.01
		n=$((n - 1))
	done
	if [ $n -le 0 ]; then
		kill -TERM "$pid" 2>/dev/null
		hl_sleep 5
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	WAIT_STATUS=$?
	[ $n -gt 0 ] || WAIT_STATUS=124
	return 0
}

# gs_expect_ok DESC ERRFILE: goscope (gs_wait, gs_stop) exited 0; else a
# failure showing the start of its stderr.
gs_expect_ok() {
	if [ "$WAIT_STATUS" = 0 ]; then
		pass "$1: exit status 0"
	else
		fail "$1: exit status $WAIT_STATUS: $(head -c 600 "$2")"
	fi
}

# gs_wait_ready PID [SECONDS]: until goscope's window is open: it prints
# its ready line ("goscope: tracing N process(es) ...") on stderr (GS_ERR,
# set by gs_health) once the BPF programs are attached and every target's
# first snapshot is taken. False if PID exits first or time runs out.
gs_wait_ready() {
	local pid=$1 n=$((${2:-60} * 100))
	while ! grep -q '^goscope: tracing ' "$GS_ERR" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || return 1
		[ $n -gt 0 ] || return 1
		hl_sleep 0.01
		n=$((n - 1))
	done
}

# gs_wait_output FILE PID [SECONDS]: until goscope's report is in FILE:
# it prints it right after its closing snapshot (the window's end) and
# only then detaches, which can take a while. False if PID exits without
# output or time runs out.
gs_wait_output() {
	local file=$1 pid=$2 n=$((${3:-60} * 100))
	while [ ! -s "$file" ]; do
		kill -0 "$pid" 2>/dev/null || [ -s "$file" ] || return 1
		[ $n -gt 0 ] || return 1
		hl_sleep 0.01
		n=$((n - 1))
	done
}

# gs_stop PID [SECONDS]: end goscope's window now (SIGINT, as Ctrl-C) and
# wait for it to print its report and exit (gs_wait); status in WAIT_STATUS.
gs_stop() {
	kill -INT "$1" 2>/dev/null
	gs_wait "$1" "${2:-30}"
}

# The readers below use shell builtins only and store into the variable
# named first: a fork can take 100s of ms on a loaded machine, and their
# reads must fall close to goscope's window boundaries.

# proc_majflt VAR PID: majflt of /proc/PID/stat (field 12).
proc_majflt() {
	local -n _out=$1
	local line f
	_out=0
	read -r line 2>/dev/null <"/proc/$2/stat" || return 1
	read -r -a f <<<"${line##*) }"
	_out=${f[9]}
}

# schedstat_ns VAR PID: the sum of run_delay (ns spent waiting on a run
# queue) over the threads of PID, /proc/PID/task/*/schedstat field 2.
schedstat_ns() {
	local -n _out=$1
	local t run delay rest
	_out=0
	for t in /proc/"$2"/task/*/schedstat; do
		read -r run delay rest 2>/dev/null <"$t" && _out=$((_out + delay))
	done
}

# fd_count VAR PID: entries of /proc/PID/fd.
fd_count() {
	local -n _out=$1
	local fds=(/proc/"$2"/fd/*)
	_out=${#fds[@]}
	[ -e "${fds[0]}" ] || _out=0
}

# net_counter VAR PID NAME...: the sum of the named SNMP counters
# ("Tcp:RetransSegs", "TcpExt:TCPRcvQDrop") of the network namespace of
# PID: /proc/PID/net/snmp and netstat, a line of names then one of values
# per section.
net_counter() {
	local -n _out=$1
	local pid=$2 f i n
	local -a hdr val
	local -A want=()
	shift 2
	for n in "$@"; do want[$n]=1; done
	_out=0
	for f in snmp netstat; do
		while read -r -a hdr && read -r -a val; do
			for ((i = 1; i < ${#hdr[@]}; i++)); do
				[ -n "${want[${hdr[0]}${hdr[i]}]:-}" ] && _out=$((_out + val[i]))
			done
		done <"/proc/$pid/net/$f"
	done
}

# within DESC GOT WANT PCT: pass if GOT is within PCT percent of WANT
# (WANT > 0), showing both and the difference.
within() {
	local desc=$1 got=$2 want=$3 pct=$4 msg
	msg=$(awk -v g="$got" -v w="$want" -v p="$pct" 'BEGIN {
		if (w + 0 <= 0) { printf "want %s is not > 0", w; exit 1 }
		d = 100 * (g - w) / w
		printf "%s vs %s (%+.1f%%, limit %s%%)", g, w, d, p
		exit (d <= p && d >= -p) ? 0 : 1 }')
	if [ $? -eq 0 ]; then
		pass "$desc: $msg"
	else
		fail "$desc: $msg"
	fi
}

# jget FILE KEY [INDEX]: KEY of the JSON object number INDEX (0-based,
# default the last) of a stream of objects (goscope --json prints one per
# process and interval); nested keys as a.b. Objects print as JSON.
jget() {
	"$PYTHON" - "$@" <<'EOF'
import json, sys
import jstream
objs = jstream.load(sys.argv[1])
idx = int(sys.argv[3]) if len(sys.argv) > 3 else -1
v = objs[idx] if objs else {}
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
if isinstance(v, (dict, list)):
    print(json.dumps(v, sort_keys=True))
elif isinstance(v, bool) or v is None:
    print(json.dumps(v))
else:
    print(v)
EOF
}

# jvars FILE SEL KEY...: shell assignments KEY='value' (dots of nested keys
# become _) of one JSON object of FILE, SEL being its index (-1: the last)
# or pid=N (the object of pid N); one python run for many keys:
#   eval "$(jvars "$TMP/j.json" -1 major_faults verdicts.memory)"
jvars() {
	"$PYTHON" - "$@" <<'EOF'
import json, shlex, sys
import jstream
objs = jstream.load(sys.argv[1])
sel = sys.argv[2]
if sel.startswith("pid="):
    o = next((x for x in objs if str(x.get("pid")) == sel[4:]), {})
else:
    o = objs[int(sel)] if objs else {}
for key in sys.argv[3:]:
    v = o
    for k in key.split("."):
        v = v.get(k) if isinstance(v, dict) else None
    if isinstance(v, (dict, list)):
        v = json.dumps(v, sort_keys=True)
    elif isinstance(v, bool) or v is None:
        v = json.dumps(v)
    print("%s=%s" % (key.replace(".", "_"), shlex.quote(str(v))))
EOF
}

# jcount FILE: how many JSON objects FILE holds.
jcount() {
	"$PYTHON" - "$1" <<'EOF'
import sys
import jstream
print(len(jstream.load(sys.argv[1])))
EOF
}

# health_go_build NAME: build tests/go/NAME to $TMP/NAME (die on failure).
health_go_build() {
	go_build "$TMP/$1" "$1" >"$TMP/build-$1.log" 2>&1 ||
		die "go build $1: $(tail -5 "$TMP/build-$1.log")"
}

# lossy_link TAG NET: two network namespaces, client NSC and server NSS,
# joined by a veth pair on NET.0/30 (client NET.1, server NET.2), with an
# nftables table (inet goscope_test) in the server's dropping 2% of the
# packets to TCP port 5001 at input. Sets NSC, NSS; everything is deleted
# at exit. Skips the test when namespaces or nftables are unavailable.
lossy_link() {
	local tag=$1 net=$2
	NSC=goscope-$tag-$$-c
	NSS=goscope-$tag-$$-s
	LL_VC=g${tag:0:3}c$$
	LL_VS=g${tag:0:3}s$$
	trap '_cleanup; lossy_link_cleanup' EXIT
	ip netns add "$NSC" 2>"$TMP/ns.err" || skip "cannot create a network namespace: $(cat "$TMP/ns.err")"
	ip netns add "$NSS" || die "ip netns add $NSS"
	ip link add "$LL_VC" type veth peer name "$LL_VS" || die "ip link add veth"
	ip link set "$LL_VC" netns "$NSC" && ip link set "$LL_VS" netns "$NSS" || die "moving the veth ends"
	ip -n "$NSC" addr add "$net.1/30" dev "$LL_VC" && ip -n "$NSS" addr add "$net.2/30" dev "$LL_VS" ||
		die "addresses"
	ip -n "$NSC" link set lo up && ip -n "$NSS" link set lo up || die "lo up"
	ip -n "$NSC" link set "$LL_VC" up && ip -n "$NSS" link set "$LL_VS" up || die "veth up"
	ip netns exec "$NSS" nft -f - <<'NFT' 2>"$TMP/nft.err" || skip "nftables: cannot add the drop rule: $(cat "$TMP/nft.err")"
table inet goscope_test {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 5001 numgen random mod 1000 < 20 drop
	}
}
NFT
}

lossy_link_cleanup() {
	ip netns exec "$NSS" nft delete table inet goscope_test 2>/dev/null
	ip netns del "$NSC" 2>/dev/null
	ip netns del "$NSS" 2>/dev/null
	ip link del "$LL_VC" 2>/dev/null
	return 0
}
