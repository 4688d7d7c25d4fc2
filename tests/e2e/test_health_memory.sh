#!/usr/bin/env bash
# test_health_memory: `goscope health`'s memory figures are the process's
# own: its resident memory, and its memory cgroup's use and limit only when
# the process has a memory cgroup of its own (the root cgroup's figures are
# the whole machine's).
#
# Target: tests/go/healthspin -g 1, stopped (SIGSTOP) so that its memory
# does not move between goscope's read and the test's.
# Truth: /proc/PID/status VmRSS, /proc/PID/cgroup, and the cgroup's own
# files (memory.usage_in_bytes and memory.limit_in_bytes in v1,
# memory.current and memory.max in v2):
# - rss_bytes within 5% of VmRSS, and the text's "RSS N MiB" the same;
# - as started, memory_cgroup is the memory line of /proc/PID/cgroup; if
#   that is the root ("/"), memory_bytes and memory_limit_bytes are null
#   and the text says "no cgroup limit" instead of a figure;
# - moved into a child memory cgroup of the test's own with a 1 GiB limit:
#   memory_cgroup is the child, memory_limit_bytes exactly 1 GiB,
#   memory_bytes within 10% (or 1 MiB) of the child's usage, and the text
#   shows "cgroup memory N MiB of 1024.0 MiB".
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"

need_go
health_go_build healthspin

CG=
cg_cleanup() {
	[ -n "$CG" ] && [ -d "$CG" ] || return 0
	local p
	for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	for _ in $(seq 50); do
		rmdir "$CG" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "  WARN  could not remove $CG" >&2
}
trap '_cleanup; cg_cleanup' EXIT

spawn "$TMP/s.out" "$TMP/s.err" "$TMP/healthspin" -g 1
pid=$SPAWN_PID
wait_line "$TMP/s.out" '^healthspin: ready' "$pid" 60 || die "healthspin never ready: $(tail -3 "$TMP/s.err")"
kill -STOP "$pid"

# memcg_of PID: the memory cgroup of PID (v1 memory line, else the v2 line).
memcg_of() {
	local v1 v2
	v1=$(awk -F: '{ n = split($2, c, ","); for (i = 1; i <= n; i++) if (c[i] == "memory") print $3 }' "/proc/$1/cgroup")
	v2=$(awk -F: '$1 == "0" && $2 == "" { print $3 }' "/proc/$1/cgroup")
	echo "${v1:-$v2}"
}

# health_once TAG: one 1 s window of the target, JSON and text.
health_once() {
	gs_health "$TMP/$1.json" "$TMP/$1.jerr" -p "$pid" -d 1 --json
	gs_wait "$GS_PID" 60
	gs_expect_ok "$1: health --json" "$TMP/$1.jerr"
	gs_health "$TMP/$1.txt" "$TMP/$1.terr" -p "$pid" -d 1
	gs_wait "$GS_PID" 60
	gs_expect_ok "$1: health (text)" "$TMP/$1.terr"
	MEMLINE=$(grep '^  memory ' "$TMP/$1.txt")
	log "$1: $MEMLINE"
}

# --- as started: RSS, and the cgroup the process is in ---------------------------------
health_once start
rss_kb=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status")
rss_bytes= memory_cgroup= memory_bytes= memory_limit_bytes=
eval "$(jvars "$TMP/start.json" -1 rss_bytes memory_cgroup memory_bytes memory_limit_bytes)"
within "rss_bytes vs VmRSS of /proc/$pid/status" "$rss_bytes" $((rss_kb * 1024)) 5
txt_mib=$(sed -n 's/.*, RSS \([0-9.]*\) MiB.*/\1/p' <<<"$MEMLINE")
within "text: RSS MiB vs VmRSS" "${txt_mib:-0}" "$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')" 5
memcg=$(memcg_of "$pid")
expect_eq "memory_cgroup is the memory line of /proc/$pid/cgroup" "$memory_cgroup" "$memcg"
if [ "$memcg" = / ]; then
	expect_eq "root memory cgroup: memory_bytes" "$memory_bytes" null
	expect_eq "root memory cgroup: memory_limit_bytes" "$memory_limit_bytes" null
	case $MEMLINE in
	*"no cgroup limit"*) pass "root memory cgroup: the text says no cgroup limit" ;;
	*) fail "root memory cgroup: text: $MEMLINE" ;;
	esac
	case $MEMLINE in
	*"cgroup memory"*) fail "root memory cgroup: the machine's figure shown as the process's: $MEMLINE" ;;
	esac
else
	log "the target starts in memory cgroup $memcg (not the root: its null case is not seen here; unit/test_verdict and cgroup_read's mem_root cover it)"
	[ "$memory_bytes" != null ] && pass "own memory cgroup: memory_bytes $memory_bytes" ||
		fail "own memory cgroup $memcg: memory_bytes null"
fi

# --- a child memory cgroup with a limit -----------------------------------------------------
v1root=$(awk '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == "memory") { print $2; exit } }' /proc/mounts)
v2root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
name=goscope-test-mem-$$
LIMIT=$((1024 * 1024 * 1024))
if [ -n "$v1root" ]; then
	rel=$(memcg_of $$)
	rel=${rel%/}
	CG=$v1root$rel/$name
	mkdir "$CG" 2>/dev/null || { CG=; skip "cannot create a v1 memory cgroup under $v1root$rel"; }
	echo "$LIMIT" >"$CG/memory.limit_in_bytes" || die "cannot set $CG/memory.limit_in_bytes"
	usage_file=$CG/memory.usage_in_bytes
elif [ -n "$v2root" ] && grep -qw memory "$v2root/cgroup.controllers" 2>/dev/null; then
	CG=$v2root/$name
	mkdir "$CG" 2>/dev/null || { CG=; skip "cannot create a v2 cgroup under $v2root"; }
	echo "$LIMIT" >"$CG/memory.max" || die "cannot write $CG/memory.max"
	usage_file=$CG/memory.current
else
	skip "no memory controller"
fi
kill -CONT "$pid"
echo "$pid" >"$CG/cgroup.procs" || die "cannot move $pid into $CG"
hl_sleep 0.5 # new allocations are charged to the child from now
kill -STOP "$pid"
health_once child
usage=$(cat "$usage_file")
eval "$(jvars "$TMP/child.json" -1 memory_cgroup memory_bytes memory_limit_bytes)"
expect_eq "child: memory_cgroup" "$memory_cgroup" "$(memcg_of "$pid")"
expect_eq "child: memory_limit_bytes" "$memory_limit_bytes" "$LIMIT"
awk -v g="$memory_bytes" -v w="$usage" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= 0.1 * w || d <= 1048576) }' &&
	pass "child: memory_bytes $memory_bytes vs the cgroup's usage $usage" ||
	fail "child: memory_bytes $memory_bytes vs the cgroup's usage $usage"
case $MEMLINE in
*"cgroup memory "*" MiB of 1024.0 MiB"*) pass "child: text shows the cgroup's use of its 1 GiB limit" ;;
*) fail "child: text: $MEMLINE" ;;
esac
kill -CONT "$pid"
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
finish
