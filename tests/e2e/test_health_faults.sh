#!/usr/bin/env bash
# test_health_faults: `goscope health` counts a Go program's major page
# faults as the kernel does, and names the Go function taking them.
#
# Target: tests/go/healthfault, which maps a 32 MiB file (written and
# fsynced here) with MADV_RANDOM (no read-around: one major fault per page)
# and, on each SIGUSR1, drops the mapping's pages (madvise MADV_DONTNEED,
# then posix_fadvise DONTNEED evicts them from the page cache) and reads one
# byte of every page in main.touchPages.
# Truth: majflt of /proc/PID/stat, read after goscope's window has opened
# (gs_wait_ready) and after the pass has ended; the program is idle
# otherwise, so that delta is exactly the window's major faults. A warm-up
# pass first checks the faults really are major (else the filesystem keeps
# the pages, e.g. tmpfs: skip).
# Checks (--json, one pass in the window, ended by SIGINT):
# - major_faults (the perf software event BPF program's count) within 10%
#   of the majflt delta, and equal to goscope's own major_faults_proc;
# - the memory verdict is bad (> 100 major faults/s);
# text output, another pass:
# - "N major faults" within 10% of the delta, and the top faulting stack
#   has main.touchPages (healthfault/main.go) as its first frame, with
#   >= 90% of the pass's faults.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"

need_go
health_go_build healthfault
MIB=32

# A filesystem whose pages can be evicted and read back (not tmpfs).
datadir=$TMP
case $(stat -f -c %T "$datadir" 2>/dev/null) in
tmpfs | ramfs) datadir=$(mktemp -d /var/tmp/goscope-faults.XXXXXX) || skip "no disk-backed scratch dir" ;;
esac
cleanup_data() { [ "$datadir" != "$TMP" ] && rm -rf "$datadir"; }
trap 'cleanup_data; _cleanup' EXIT
dd if=/dev/urandom of="$datadir/data" bs=1M count=$MIB conv=fsync status=none ||
	die "cannot write $MIB MiB to $datadir"

spawn "$TMP/f.out" "$TMP/f.err" "$TMP/healthfault" "$datadir/data"
pid=$SPAWN_PID
wait_line "$TMP/f.out" '^healthfault: ready' "$pid" 60 || die "healthfault never ready: $(tail -3 "$TMP/f.err")"
pages=$(sed -n 's/^healthfault: ready pid [0-9]* pages \([0-9]*\)$/\1/p' "$TMP/f.out")

# pass N: trigger pass N and wait for it; its majflt (the program's own
# count) in PASS_MAJFLT.
pass_n() {
	kill -USR1 "$pid"
	wait_line "$TMP/f.out" "^healthfault: pass $1 " "$pid" 300 || die "pass $1 never ended: $(tail -3 "$TMP/f.err")"
	PASS_MAJFLT=$(sed -n "s/^healthfault: pass $1 pages [0-9]* majflt \([0-9]*\)$/\1/p" "$TMP/f.out")
}

pass_n 1
[ "$PASS_MAJFLT" -ge $((pages * 9 / 10)) ] ||
	skip "warm-up pass: only $PASS_MAJFLT major faults for $pages pages ($(stat -f -c %T "$datadir") keeps them cached)"
log "warm-up pass: $PASS_MAJFLT major faults for $pages pages"

# --- JSON: counts ------------------------------------------------------------
gs_health "$TMP/j.json" "$TMP/j.err" -p "$pid" -d 300 --json
gs_wait_ready "$GS_PID" 60 || die "goscope health never started: $(cat "$TMP/j.err")"
proc_majflt m0 "$pid"
pass_n 2
proc_majflt m1 "$pid"
gs_stop "$GS_PID" 30 || die "goscope health did not stop on SIGINT"
gs_expect_ok "health --json" "$TMP/j.err"
truth=$((m1 - m0))
log "window: majflt delta $truth (the program counted $PASS_MAJFLT), goscope $(jget "$TMP/j.json" seconds) s"
[ "$truth" -ge $((pages * 8 / 10)) ] || fail "the pass took only $truth major faults of $pages pages"
bpf=$(jget "$TMP/j.json" major_faults)
procf=$(jget "$TMP/j.json" major_faults_proc)
within "major_faults (BPF perf event) vs /proc/PID/stat majflt delta" "$bpf" "$truth" 10
expect_eq "major_faults (BPF) equals goscope's major_faults_proc" "$bpf" "$procf"
secs=$(jget "$TMP/j.json" seconds)
if awk -v n="$truth" -v s="$secs" 'BEGIN { exit !(n / s > 150) }'; then
	expect_eq "memory verdict at $(awk -v n="$truth" -v s="$secs" 'BEGIN { printf "%.0f", n / s }') major faults/s" \
		"$(jget "$TMP/j.json" verdicts.memory)" bad
else
	log "only $truth faults in $secs s: memory verdict not checked"
fi

# --- text: count and the faulting Go function -------------------------------------
gs_health "$TMP/t.out" "$TMP/t.err" -p "$pid" -d 300
gs_wait_ready "$GS_PID" 60 || die "goscope health never started: $(cat "$TMP/t.err")"
proc_majflt m0 "$pid"
pass_n 3
proc_majflt m1 "$pid"
gs_stop "$GS_PID" 30 || die "goscope health did not stop on SIGINT"
gs_expect_ok "health (text)" "$TMP/t.err"
truth=$((m1 - m0))
sed 's/^/        | /' "$TMP/t.out"
n=$(sed -n 's/^  memory .* \([0-9][0-9]*\) major faults,.*/\1/p' "$TMP/t.out")
within "text: major faults vs majflt delta" "${n:-0}" "$truth" 10
top=$(sed -n 's/^ *top faulting stack (\([0-9]*\) faults):$/\1/p' "$TMP/t.out")
frame1=$(grep -A1 'top faulting stack' "$TMP/t.out" | tail -n 1 | awk '{ print $1, $2 }')
if [[ $frame1 == "main.touchPages "*healthfault/main.go:* ]]; then
	pass "text: top faulting stack starts in main.touchPages: $frame1"
else
	fail "text: top faulting stack's first frame is '$frame1', want main.touchPages (healthfault/main.go)"
fi
[ -n "$top" ] && [ "$top" -ge $((truth * 9 / 10)) ] &&
	pass "text: the top stack has $top of the window's $truth faults (>= 90%)" ||
	fail "text: the top stack has ${top:-no} faults of the window's $truth"
if grep -q 'major-fault' "$TMP/t.out" "$TMP/t.err"; then
	fail "text: major faults not traced by BPF: $(grep -h 'not measured' "$TMP/t.out" "$TMP/t.err")"
fi
grep -q '^ *main\.main ' "$TMP/t.out" &&
	pass "text: the stack goes on to main.main" || fail "text: no main.main frame under main.touchPages"

kill -0 "$pid" 2>/dev/null && pass "healthfault still running" || fail "healthfault died: $(tail -3 "$TMP/f.err")"
finish
