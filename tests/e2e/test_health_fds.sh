#!/usr/bin/env bash
# test_health_fds: `goscope health` counts a process's file descriptors as
# /proc/PID/fd does, measures their growth rate and suspects a leak only
# when there is one.
#
# Targets: tests/go/healthfd -mode leak (opens /dev/null every 20 ms on a
# wall-clock schedule and keeps it: 50 fds/s; SIGUSR1 pauses it) and
# -mode churn (opens and closes /dev/null every 20 ms: flat count).
# Truth: the entries of /proc/PID/fd, counted after goscope's window opened
# (gs_wait_ready) and when it printed its report (gs_wait_output), and the
# program's known rate.
# Checks:
# - leaking, --json -d 4: fd_growth_per_s within 15% of 50/s and of the
#   /proc count's growth over the window; fd_count between the two /proc
#   counts; fd_leak_suspected true, fds verdict warn; fd_kinds.file has
#   the leaked files; text: "only grew: leak suspected";
# - paused (count constant), --json -d 2: fd_count equals the /proc count
#   (+-2), fd_leak_suspected false, growth ~0;
# - churning, --json -d 3: fd_leak_suspected false, |growth| < 2/s, fds
#   verdict ok.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"

need_go
health_go_build healthfd

spawn "$TMP/l.out" "$TMP/l.err" "$TMP/healthfd" -mode leak
pid=$SPAWN_PID
wait_line "$TMP/l.out" '^healthfd: ready' "$pid" 60 || die "healthfd never ready: $(tail -3 "$TMP/l.err")"
sleep 0.5

# --- leaking: rate, count, suspicion --------------------------------------------------
gs_health "$TMP/j.json" "$TMP/j.err" -p "$pid" -d 4 --json
gs_wait_ready "$GS_PID" 60 || die "goscope health never started: $(cat "$TMP/j.err")"
fd_count c0 "$pid"
t0=$EPOCHREALTIME
gs_wait_output "$TMP/j.json" "$GS_PID" 60 || die "goscope health -d 4 printed nothing: $(cat "$TMP/j.err")"
fd_count c1 "$pid"
t1=$EPOCHREALTIME
gs_wait "$GS_PID" 60
gs_expect_ok "leak: health -d 4 --json" "$TMP/j.err"
eval "$(jvars "$TMP/j.json" -1 fd_count fd_growth_per_s fd_leak_suspected verdicts.fds fd_kinds.file seconds)"
ext_rate=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.1f", (b - a) / (e - s) }')
log "/proc/$pid/fd: $c0 -> $c1 in $(awk -v s="$t0" -v e="$t1" 'BEGIN { printf "%.2f", e - s }') s ($ext_rate/s); goscope (${seconds}s): fd_count $fd_count, growth $fd_growth_per_s/s"
within "leak: fd_growth_per_s vs the program's 50/s" "$fd_growth_per_s" 50 15
within "leak: fd_growth_per_s vs /proc/PID/fd growth over the window" "$fd_growth_per_s" "$ext_rate" 15
[ "$fd_count" -ge "$c0" ] && [ "$fd_count" -le "$c1" ] &&
	pass "leak: fd_count $fd_count between the /proc counts at the window's start ($c0) and end ($c1)" ||
	fail "leak: fd_count $fd_count not in [$c0, $c1]"
expect_eq "leak: fd_leak_suspected" "$fd_leak_suspected" true
expect_eq "leak: fds verdict" "$verdicts_fds" warn
[ "$fd_kinds_file" -ge $((c1 - c0)) ] && pass "leak: fd_kinds.file $fd_kinds_file counts the leaked /dev/null files" ||
	fail "leak: fd_kinds.file $fd_kinds_file < the $((c1 - c0)) leaked in the window"

gs_health "$TMP/t.out" "$TMP/t.err" -p "$pid" -d 2
gs_wait "$GS_PID" 60
gs_expect_ok "leak: health -d 2 (text)" "$TMP/t.err"
line=$(grep '^  fds ' "$TMP/t.out")
log "$line"
[[ $line == "  fds        warn "*"/s over the window, only grew: leak suspected; "* ]] &&
	pass "text: fds warn, leak suspected" || fail "text: fds line: $line"

# --- paused: exact count, no suspicion ------------------------------------------------------
kill -USR1 "$pid"
wait_line "$TMP/l.out" '^healthfd: paused' "$pid" 20 || die "healthfd did not pause"
sleep 0.2
gs_health "$TMP/p.json" "$TMP/p.err" -p "$pid" -d 2 --json
gs_wait "$GS_PID" 60
gs_expect_ok "paused: health -d 2 --json" "$TMP/p.err"
fd_count n "$pid"
eval "$(jvars "$TMP/p.json" -1 fd_count fd_growth_per_s fd_leak_suspected)"
d=$((fd_count - n))
[ "${d#-}" -le 2 ] && pass "paused: fd_count $fd_count = /proc/$pid/fd count $n (+-2)" ||
	fail "paused: fd_count $fd_count, /proc/$pid/fd has $n"
expect_eq "paused: fd_leak_suspected" "$fd_leak_suspected" false
awk -v g="$fd_growth_per_s" 'BEGIN { exit !(g < 1 && g > -1) }' &&
	pass "paused: fd_growth_per_s $fd_growth_per_s ~ 0" || fail "paused: fd_growth_per_s $fd_growth_per_s, want ~0"

# --- churning: a flat count is no leak -------------------------------------------------
spawn "$TMP/c.out" "$TMP/c.err" "$TMP/healthfd" -mode churn
cpid=$SPAWN_PID
wait_line "$TMP/c.out" '^healthfd: ready' "$cpid" 60 || die "healthfd -mode churn never ready: $(tail -3 "$TMP/c.err")"
sleep 0.5
gs_health "$TMP/c.json" "$TMP/c.err2" -p "$cpid" -d 3 --json
gs_wait "$GS_PID" 60
gs_expect_ok "churn: health -d 3 --json" "$TMP/c.err2"
eval "$(jvars "$TMP/c.json" -1 fd_count fd_growth_per_s fd_leak_suspected verdicts.fds)"
fd_count n "$cpid"
log "churn: fd_count $fd_count, growth $fd_growth_per_s/s (/proc now: $n)"
expect_eq "churn: fd_leak_suspected" "$fd_leak_suspected" false
expect_eq "churn: fds verdict" "$verdicts_fds" ok
awk -v g="$fd_growth_per_s" 'BEGIN { exit !(g < 2 && g > -2) }' &&
	pass "churn: |fd_growth_per_s| $fd_growth_per_s < 2" || fail "churn: fd_growth_per_s $fd_growth_per_s"

kill -0 "$pid" 2>/dev/null && kill -0 "$cpid" 2>/dev/null && pass "both healthfd still running" ||
	fail "healthfd died: $(tail -3 "$TMP/l.err" "$TMP/c.err")"
finish
