# why_lib.sh: the setups shared by tests/e2e/test_why_*.sh (source it after
# lib.sh and health_lib.sh): the whysvc service (tests/go/whysvc), its
# downstream and load client, `goscope why` started and waited for, and the
# causes injected from outside the service: a cgroup v1 CPU quota, CPU hogs
# pinned to its CPU, a page cache dropper, a lossy link in network
# namespaces. Every setup is undone at exit (wl_cleanup, after lib.sh's
# _cleanup has killed the spawned processes).
#
# The run of one cause (wl_run): `goscope why -p SVC ... --slow MS -d D
# --json` (when goscope has the command and WHY_SETUP_ONLY is not set),
# then the test's wl_truth0, the load client (one worker, closed loop, its
# own record of every request), the test's wl_truth1, the service's own
# records (/admin/stats). why_check.py compares them.

WL_CLEANUPS=()
wl_cleanup() {
	local i
	for ((i = ${#WL_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${WL_CLEANUPS[i]}" 2>/dev/null
	done
	return 0
}
trap '_cleanup; wl_cleanup' EXIT

WHYCHECK() { "$PYTHON" "$E2E_DIR/why_check.py" "$@"; }

# wl_have_why: goscope lists the why command (and WHY_SETUP_ONLY is unset).
wl_have_why() {
	[ -z "${WHY_SETUP_ONLY:-}" ] || return 1
	"$GOSCOPE" --help 2>/dev/null | awk '/^commands:/ { on = 1; next } on && /^$/ { exit }
		on && /^  [a-z]/ { print $1 }' | grep -qx why
}

wl_build() {
	need_go
	go_build "$TMP/whysvc" whysvc >"$TMP/build-whysvc.log" 2>&1 ||
		die "go build whysvc: $(tail -5 "$TMP/build-whysvc.log")"
}

# wl_start NAME OUT ERR CMD...: spawn a whysvc (server or downstream) and
# wait for its ready line; sets NAME_PID (the process: CMD may be a chain of
# exec wrappers such as ip netns exec, taskset, env), NAME_ADDR, NAME_MONO.
wl_start() {
	local name=$1 out=$2 err=$3 line
	shift 3
	spawn "$out" "$err" "$@"
	wait_line "$out" '^whysvc: ready' "$SPAWN_PID" 60 || die "$name never ready: $(tail -3 "$err")"
	line=$(grep -m1 '^whysvc: ready' "$out")
	printf -v "${name}_PID" %s "$(sed -n 's/.* pid \([0-9]*\) .*/\1/p' <<<"$line")"
	printf -v "${name}_ADDR" %s "$(sed -n 's/.* addr \([^ ]*\) .*/\1/p' <<<"$line")"
	printf -v "${name}_MONO" %s "$(sed -n 's/.* mono_ns \([0-9]*\).*/\1/p' <<<"$line")"
	log "$name: $line"
}

# SVC_EXEC: the wrapper that runs a command where the service's address is
# reachable (ip netns exec NS when the service is in a namespace).
SVC_EXEC=()

# wl_get PATH: GET http://SVC_ADDR/PATH (body on stdout).
wl_get() {
	"${SVC_EXEC[@]}" curl -sf --max-time 30 "http://$SVC_ADDR/$1"
}

# wl_data MIB: a data file of MIB MiB on a disk-backed filesystem (its pages
# can be evicted and read back: not tmpfs); its path in WL_DATA.
wl_data() {
	local dir=$TMP
	case $(stat -f -c %T "$dir" 2>/dev/null) in
	tmpfs | ramfs)
		dir=$(mktemp -d /var/tmp/goscope-why.XXXXXX) || skip "no disk-backed scratch dir"
		WL_CLEANUPS+=("rm -rf '$dir'")
		;;
	esac
	WL_DATA=$dir/data
	dd if=/dev/urandom of="$WL_DATA" bs=1M count="$1" conv=fsync status=none || die "cannot write $WL_DATA"
}

# wl_cgroup QUOTA_US PERIOD_US: a cgroup v1 cpu controller child with that
# quota (path in WL_CG); removed at exit (its processes killed first).
wl_cgroup() {
	local root rel
	root=$(awk '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == "cpu") { print $2; exit } }' /proc/mounts)
	[ -n "$root" ] || skip "no cgroup v1 cpu controller mounted"
	rel=$(awk -F: '{ n = split($2, c, ","); for (i = 1; i <= n; i++) if (c[i] == "cpu") print $3 }' /proc/self/cgroup)
	WL_CG=$root${rel%/}/goscope-why-$$
	mkdir "$WL_CG" || skip "cannot create $WL_CG"
	WL_CLEANUPS+=("wl_cgroup_rm '$WL_CG'")
	echo "$2" >"$WL_CG/cpu.cfs_period_us" && echo "$1" >"$WL_CG/cpu.cfs_quota_us" ||
		die "cannot set the quota of $WL_CG"
}

wl_cgroup_rm() {
	local p
	for p in $(cat "$1/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	for _ in $(seq 50); do
		rmdir "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "  WARN  could not remove $1" >&2
}

# wl_blkio_iops PID IOPS FILE: the process PID in a cgroup v1 blkio child
# whose reads of FILE's block device are limited to IOPS per second (a
# slow disk: a page fault's read waits in the block layer, its thread
# asleep); removed at exit. Skips the test without blkio throttling.
wl_blkio_iops() {
	local root dev cg
	root=$(awk '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == "blkio") { print $2; exit } }' /proc/mounts)
	[ -n "$root" ] && [ -e "$root/blkio.throttle.read_iops_device" ] || skip "no cgroup v1 blkio throttling"
	dev=$(stat -c '%d' "$3") || die "stat $3"
	dev="$((dev >> 8)):$((dev & 255))"
	# a partition's device: throttle its disk
	if [ -e "/sys/dev/block/$dev/partition" ]; then
		dev=$(cat "/sys/dev/block/$dev/../dev")
	fi
	cg=$root/goscope-why-$$
	mkdir "$cg" || skip "cannot create $cg"
	WL_CLEANUPS+=("wl_cgroup_rm '$cg'")
	echo "$dev $2" >"$cg/blkio.throttle.read_iops_device" || skip "cannot throttle device $dev in $cg"
	echo "$1" >"$cg/cgroup.procs" || die "cannot move $1 into $cg"
	log "blkio cgroup $cg: reads of $dev limited to $2/s"
}

# wl_cg_throttled VAR: the cgroup's cpu.stat throttled_time (ns) and, in
# VAR_n, nr_throttled (builtins only).
wl_cg_throttled() {
	local -n _o=$1 _n=${1}_n
	local k v
	_o=0 _n=0
	while read -r k v; do
		case $k in
		throttled_time) _o=$v ;;
		nr_throttled) _n=$v ;;
		esac
	done <"$WL_CG/cpu.stat"
}

# wl_hogs CPU N: N busy loops pinned to CPU (killed at exit).
wl_hogs() {
	local i
	for ((i = 0; i < $2; i++)); do
		spawn /dev/null /dev/null taskset -c "$1" bash -c 'while :; do :; done'
	done
}

# wl_dropper FILE INTERVAL_S: evicts FILE's pages from the page cache every
# INTERVAL_S seconds (posix_fadvise DONTNEED; pages mapped at that moment
# stay).
wl_dropper() {
	spawn "$TMP/dropper.out" "$TMP/dropper.err" "$PYTHON" -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
while True:
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    time.sleep(float(sys.argv[2]))' "$1" "$2"
}

# wl_netns PCT PORT: two network namespaces, the service's WL_NSC and the
# downstream's WL_NSS, joined by a veth pair on 10.252.0.0/30 (service
# 10.252.0.1, downstream 10.252.0.2), nftables in the downstream's dropping
# PCT% of the packets to TCP port PORT at input. Deleted at exit.
wl_netns() {
	local pct=$1 port=$2 vc=gwy$$c vs=gwy$$s
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
	command -v nft >/dev/null || skip "no nft"
	WL_NSC=goscope-why-$$-c
	WL_NSS=goscope-why-$$-s
	ip netns add "$WL_NSC" 2>"$TMP/ns.err" || skip "cannot create a network namespace: $(cat "$TMP/ns.err")"
	WL_CLEANUPS+=("ip netns del '$WL_NSC'")
	ip netns add "$WL_NSS" || die "ip netns add $WL_NSS"
	WL_CLEANUPS+=("ip netns del '$WL_NSS'")
	ip link add "$vc" type veth peer name "$vs" || die "ip link add veth"
	WL_CLEANUPS+=("ip link del '$vc'")
	ip link set "$vc" netns "$WL_NSC" && ip link set "$vs" netns "$WL_NSS" || die "moving the veth ends"
	ip -n "$WL_NSC" addr add 10.252.0.1/30 dev "$vc" && ip -n "$WL_NSS" addr add 10.252.0.2/30 dev "$vs" ||
		die "addresses"
	ip -n "$WL_NSC" link set lo up && ip -n "$WL_NSS" link set lo up || die "lo up"
	ip -n "$WL_NSC" link set "$vc" up && ip -n "$WL_NSS" link set "$vs" up || die "veth up"
	ip netns exec "$WL_NSS" nft -f - <<NFT 2>"$TMP/nft.err" || skip "nftables: cannot add the drop rule: $(cat "$TMP/nft.err")"
table inet goscope_why {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport $port numgen random mod 100 < $pct drop
	}
}
NFT
	WL_CLEANUPS+=("ip netns exec '$WL_NSS' nft delete table inet goscope_why")
}

# wl_why OUT ARGS...: `goscope why ARGS` in the background, stdout to OUT,
# stderr to OUT.err; waits for its ready line. WHY_PID.
wl_why() {
	local out=$1
	shift
	spawn "$out" "$out.err" "$GOSCOPE" why "$@"
	WHY_PID=$SPAWN_PID
	GS_ERR=$out.err
	gs_wait_ready "$WHY_PID" 60 || die "goscope why never ready: $(tail -5 "$out.err")"
}

# wl_run SLOW_MS LOAD_S URL WHY_ARGS...: one measured run. With why: goscope
# why -p SVC_PID WHY_ARGS --slow SLOW_MS -d (LOAD_S + 4) --json, ready line
# waited for. Then wl_truth0 (defined by the test), the load client for
# LOAD_S seconds on URL (one worker; LOAD_EXEC wraps it), wl_truth1, then
# goscope's exit and the service's records. Sets WHY_JSON ("" without why).
# WL_UNTIL_N=N: the load goes on past LOAD_S (WL_MAX_S at most, default 60)
# until N requests took >= SLOW_MS by the service's clock, for a setup whose
# slow requests are rare; goscope why then runs with -d (WL_MAX_S + 4) and
# is stopped with SIGINT (Ctrl-C) once the load is done.
LOAD_EXEC=()
wl_run() {
	local slow=$1 secs=$2 url=$3
	shift 3
	local why_d=$((secs + 4)) until=()
	if [ -n "${WL_UNTIL_N:-}" ]; then
		why_d=$((${WL_MAX_S:-60} + 4))
		until=(-until-n "$WL_UNTIL_N" -until-slow "$slow" -max-duration "${WL_MAX_S:-60}")
	fi
	WHY_JSON=
	[ -n "${SVC_ADDR:-}" ] && { wl_get admin/reset >/dev/null || die "cannot reset the service's records"; }
	if wl_have_why; then
		WHY_JSON=$TMP/why.json
		wl_why "$WHY_JSON" -p "$SVC_PID" "$@" --slow "$slow" -d "$why_d" --json
	else
		log "goscope has no why command (or WHY_SETUP_ONLY): the setup and its truths only"
	fi
	schedstat_ns WL_RD0 "$SVC_PID"
	wl_truth0
	"${LOAD_EXEC[@]}" "$TMP/whysvc" -mode load -url "$url" -c 1 -duration "$secs" "${until[@]}" -out "$TMP/load.jsonl" \
		>"$TMP/load.out" 2>"$TMP/load.err" || die "load client: $(tail -3 "$TMP/load.err")"
	wl_truth1
	schedstat_ns WL_RD1 "$SVC_PID"
	log "$(grep 'load done' "$TMP/load.out")"
	if [ -n "$WHY_JSON" ]; then
		if [ -n "${WL_UNTIL_N:-}" ]; then
			sleep 1 # the last calls' events read, as -d's slack gives the others
			kill -INT "$WHY_PID" 2>/dev/null
		fi
		gs_wait "$WHY_PID" $((why_d + 60))
		gs_expect_ok "goscope why $* --slow $slow --json" "$WHY_JSON.err"
	fi
	if [ -n "${SVC_ADDR:-}" ]; then
		wl_get admin/stats >"$TMP/stats.json" || die "cannot read the service's records"
	fi
}

# wl_check CAUSE ARGS...: why_check.py on this run (as one check, its lines
# shown); ARGS: --truth NAME=VALUE ... and the like.
wl_check() {
	local cause=$1 a=()
	shift
	[ -s "$TMP/stats.json" ] && a+=(--stats "$TMP/stats.json")
	[ -n "$WHY_JSON" ] && a+=(--why "$WHY_JSON")
	if [ -n "${WHY_KEEP:-}" ]; then # keep the run's files (why_check.py can be rerun on them)
		mkdir -p "$WHY_KEEP/$TEST_NAME-$cause" && cp -r "$TMP"/*.json* "$TMP"/*.err "$TMP"/*.out "$WHY_KEEP/$TEST_NAME-$cause/" 2>/dev/null
	fi
	check_v "why $cause: setup${WHY_JSON:+ and goscope why} against the truths" \
		WHYCHECK "$cause" --client "$TMP/load.jsonl" "${a[@]}" --truth all_run_delay_us=$(((WL_RD1 - WL_RD0) / 1000)) "$@"
}

# wl_finish: finish, or without goscope why and with every setup check
# passed, skip (the runner's SKIP: the command is not there to test).
wl_finish() {
	if [ -z "$WHY_JSON" ] && [ "$_failures" = 0 ]; then
		skip "no goscope why: the setups and their truths checked only ($_checks checks passed)"
	fi
	finish
}
