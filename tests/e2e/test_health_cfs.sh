#!/usr/bin/env bash
# test_health_cfs: `goscope health` reports a process's CFS quota
# throttling as the cgroup's own cpu.stat does, and flags a GOMAXPROCS
# above the quota.
#
# Setup: a cgroup of the cpu controller with a 20% quota (v1: a child of
# this shell's cgroup in the cpu hierarchy, cpu.cfs_quota_us 20000 and
# cpu.cfs_period_us 100000; v2 when the cpu controller is on the unified
# hierarchy: a child of its root with cpu.max "20000 100000"; +cpu is
# written to the root's cgroup.subtree_control if missing, and left), and
# tests/go/healthspin (4 spinning goroutines, default GOMAXPROCS: the
# machine's CPUs) moved into it: throttled nearly every period.
# Truth: nr_periods, nr_throttled and throttled_time (v1, ns) or
# throttled_usec (v2) of the cgroup's cpu.stat, read after goscope's window
# opened (gs_wait_ready) and when it printed its report (gs_wait_output).
# Checks (health -d 5 --json): cfs_periods, cfs_throttled_periods and
# cfs_throttled_us within 10% of the cpu.stat deltas; cfs_quota_us 20000,
# cfs_period_us 100000, the cgroup and its version; the cpu_quota verdict is
# bad (more than 10% of periods throttled); gomaxprocs is the program's
# GOMAXPROCS. Text: "quota 0.20 CPUs" and, when GOMAXPROCS > 1, "GOMAXPROCS
# N exceeds the quota's CPUs". The cgroup is removed at exit.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"

need_go
health_go_build healthspin
DUR=5

# --- the cgroup ---------------------------------------------------------------------
CG=
cg_cleanup() {
	[ -n "$CG" ] && [ -d "$CG" ] || return 0
	local p
	# anything still inside (the spinner if _cleanup could not end it)
	for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	for _ in $(seq 50); do
		rmdir "$CG" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "  WARN  could not remove $CG" >&2
}
trap '_cleanup; cg_cleanup' EXIT

v1root=$(awk '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == "cpu") { print $2; exit } }' /proc/mounts)
v2root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
name=goscope-test-cfs-$$
if [ -n "$v1root" ]; then
	CGV=1
	rel=$(awk -F: '{ n = split($2, c, ","); for (i = 1; i <= n; i++) if (c[i] == "cpu") print $3 }' /proc/self/cgroup)
	rel=${rel%/}
	CG=$v1root$rel/$name
	mkdir "$CG" 2>/dev/null || { CG=; skip "cannot create a v1 cpu cgroup under $v1root$rel"; }
	echo 100000 >"$CG/cpu.cfs_period_us" && echo 20000 >"$CG/cpu.cfs_quota_us" ||
		die "cannot set the quota of $CG"
elif [ -n "$v2root" ] && grep -qw cpu "$v2root/cgroup.controllers" 2>/dev/null; then
	CGV=2
	rel=
	grep -qw cpu "$v2root/cgroup.subtree_control" ||
		echo +cpu >"$v2root/cgroup.subtree_control" ||
		skip "cannot enable the cpu controller in $v2root/cgroup.subtree_control"
	CG=$v2root/$name
	mkdir "$CG" 2>/dev/null || { CG=; skip "cannot create a v2 cgroup under $v2root"; }
	echo "20000 100000" >"$CG/cpu.max" || die "cannot write $CG/cpu.max"
else
	skip "no cpu controller (v1 mount, or cpu in the v2 root's cgroup.controllers)"
fi
log "cgroup v$CGV: $CG"

# cg_stat: the cgroup's nr_periods, nr_throttled and throttled time (us),
# into PER, THR and THR_US (builtins only: no fork between the window's
# boundary and the read).
cg_stat() {
	local k v
	PER=0 THR=0 THR_US=0
	while read -r k v; do
		case $k in
		nr_periods) PER=$v ;;
		nr_throttled) THR=$v ;;
		throttled_time) THR_US=$((v / 1000)) ;; # v1: ns
		throttled_usec) THR_US=$v ;;            # v2
		esac
	done <"$CG/cpu.stat"
}

# --- the throttled program -----------------------------------------------------------
spawn "$TMP/s.out" "$TMP/s.err" "$TMP/healthspin" -g 4
pid=$SPAWN_PID
wait_line "$TMP/s.out" '^healthspin: ready' "$pid" 60 || die "healthspin never ready: $(tail -3 "$TMP/s.err")"
gmp=$(sed -n 's/^healthspin: ready pid [0-9]* gomaxprocs \([0-9]*\)$/\1/p' "$TMP/s.out")
echo "$pid" >"$CG/cgroup.procs" || die "cannot move pid $pid into $CG"
# Throttling under way: on a busy machine 4 spinners may take a while to
# use 20 ms of CPU within one period.
for _ in $(seq 100); do
	sleep 0.1
	cg_stat
	[ "$THR" -gt 0 ] && break
done
[ "$THR" -gt 0 ] || die "not throttled after 10 s in $CG: $(tr '\n' ' ' <"$CG/cpu.stat")"

gs_health "$TMP/j.json" "$TMP/j.err" -p "$pid" -d "$DUR" --json
gs_wait_ready "$GS_PID" 60 || die "goscope health never started: $(cat "$TMP/j.err")"
cg_stat
per0=$PER thr0=$THR us0=$THR_US
gs_wait_output "$TMP/j.json" "$GS_PID" $((DUR + 60)) || die "goscope health -d $DUR printed nothing: $(cat "$TMP/j.err")"
cg_stat
per1=$PER thr1=$THR us1=$THR_US
gs_wait "$GS_PID" 60
gs_expect_ok "health -d $DUR --json" "$TMP/j.err"
log "cpu.stat deltas: $((per1 - per0)) periods, $((thr1 - thr0)) throttled, $((us1 - us0)) us throttled"

eval "$(jvars "$TMP/j.json" -1 cfs_periods cfs_throttled_periods cfs_throttled_us cfs_quota_us \
	cfs_period_us cgroup cgroup_version gomaxprocs verdicts.cpu_quota seconds)"
log "goscope (${seconds}s): $cfs_periods periods, $cfs_throttled_periods throttled, $cfs_throttled_us us throttled"
within "cfs_throttled_periods vs cpu.stat nr_throttled delta" "$cfs_throttled_periods" $((thr1 - thr0)) 10
within "cfs_throttled_us vs cpu.stat throttled time delta" "$cfs_throttled_us" $((us1 - us0)) 10
within "cfs_periods vs cpu.stat nr_periods delta" "$cfs_periods" $((per1 - per0)) 10
expect_eq "cfs_quota_us" "$cfs_quota_us" 20000
expect_eq "cfs_period_us" "$cfs_period_us" 100000
expect_eq "cgroup_version" "$cgroup_version" "$CGV"
expect_eq "cgroup" "$cgroup" "$rel/$name"
expect_eq "cpu_quota verdict ($cfs_throttled_periods of $cfs_periods periods throttled)" "$verdicts_cpu_quota" bad
expect_eq "gomaxprocs (the program's runtime.GOMAXPROCS(0))" "$gomaxprocs" "$gmp"

# --- text ----------------------------------------------------------------------------
gs_health "$TMP/t.out" "$TMP/t.err" -p "$pid" -d 2
gs_wait "$GS_PID" 60
gs_expect_ok "health -d 2 (text)" "$TMP/t.err"
sed 's/^/        | /' "$TMP/t.out"
line=$(grep '^  cpu quota ' "$TMP/t.out")
[[ $line == *"cgroup v$CGV $rel/$name: quota 0.20 CPUs (20000/100000 us); throttled "* ]] &&
	pass "text: cgroup v$CGV, quota 0.20 CPUs" || fail "text: cpu quota line: $line"
[[ $line == "  cpu quota  bad "* ]] && pass "text: cpu quota verdict bad" || fail "text: cpu quota verdict: $line"
if [ "$gmp" -gt 1 ]; then
	[[ $line == *"; GOMAXPROCS $gmp exceeds the quota's CPUs" ]] &&
		pass "text: GOMAXPROCS $gmp exceeds the 0.2-CPU quota" ||
		fail "text: no 'GOMAXPROCS $gmp exceeds the quota's CPUs' in: $line"
else
	log "GOMAXPROCS is 1: not above the quota's one CPU"
fi

kill -0 "$pid" 2>/dev/null && pass "healthspin still running" || fail "healthspin died: $(tail -3 "$TMP/s.err")"
finish
