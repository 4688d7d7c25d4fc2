#!/usr/bin/env bash
# test_health_runq: `goscope health` measures each process's run-queue
# delay (time its threads spent runnable but waiting for a CPU) as the
# kernel's scheduler statistics do.
#
# Targets: three tests/go/healthspin, GOMAXPROCS=4 with 4 goroutines
# spinning each, pinned together to 2 CPUs (taskset): 12 busy threads on 2
# CPUs, so each waits most of the time. All three are traced in one run
# (goscope health -p A -p B -p C -d 6 --json: one object per process).
# Truth: the sum of run_delay (field 2 of /proc/PID/task/*/schedstat) over
# the process's threads:
# - runq_delay_us (BPF: sched_wakeup/sched_switch) within 15% of
#   runq_delay_schedstat_us, the schedstat delta goscope itself took at its
#   window's boundaries;
# - and within 15% of the schedstat delta this test reads after the window
#   opened (gs_wait_ready) and when goscope printed its report, compared as
#   rates (per second of each window) since the two windows differ by a few
#   tens of ms at each end;
# - the scheduler verdict is bad (> 10% of the window waiting), and the
#   waits were seen on at least 4 threads.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"

need_go
health_go_build healthspin
DUR=6

pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	pin=(taskset -c 0,1)
fi
pids=()
for i in 1 2 3; do
	spawn "$TMP/s$i.out" "$TMP/s$i.err" env GOMAXPROCS=4 "${pin[@]}" "$TMP/healthspin" -g 4
	pids+=("$SPAWN_PID")
done
for i in 1 2 3; do
	wait_line "$TMP/s$i.out" '^healthspin: ready' "${pids[$((i - 1))]}" 60 ||
		die "healthspin $i never ready: $(tail -3 "$TMP/s$i.err")"
done
sleep 1 # past the start-up
# This shell (and goscope, its child) above the 12 spinners, so that the
# test reads /proc on time and its helpers are not starved.
renice -n -10 -p $$ >/dev/null 2>&1 || log "renice failed: the test's own reads may lag"

gs_health "$TMP/j.json" "$TMP/j.err" -p "${pids[0]}" -p "${pids[1]}" -p "${pids[2]}" -d "$DUR" --json
gs_wait_ready "$GS_PID" 60 || die "goscope health never started: $(cat "$TMP/j.err")"
t0=$EPOCHREALTIME
s0=()
for p in "${pids[@]}"; do
	schedstat_ns v "$p"
	s0+=("$v")
done
gs_wait_output "$TMP/j.json" "$GS_PID" $((DUR + 60)) || die "goscope health -d $DUR printed nothing: $(cat "$TMP/j.err")"
s1=()
for p in "${pids[@]}"; do
	schedstat_ns v "$p"
	s1+=("$v")
done
t1=$EPOCHREALTIME
gs_wait "$GS_PID" 60
kill -STOP "${pids[@]}" # the analysis needs no contention
gs_expect_ok "health -d $DUR --json" "$TMP/j.err"
expect_eq "health: one JSON object per process" "$(jcount "$TMP/j.json")" 3

ext_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
for i in 0 1 2; do
	p=${pids[$i]}
	runq_delay_us= runq_delay_schedstat_us= seconds= verdicts_scheduler= runq_waits=
	eval "$(jvars "$TMP/j.json" "pid=$p" runq_delay_us runq_delay_schedstat_us seconds \
		verdicts.scheduler runq_waits)"
	[ "$seconds" != None ] || { fail "no JSON object for pid $p"; continue; }
	ext_us=$(awk -v a="${s0[$i]}" -v b="${s1[$i]}" 'BEGIN { printf "%.0f", (b - a) / 1000 }')
	log "pid $p: goscope ${seconds}s runq_delay_us $runq_delay_us, its schedstat $runq_delay_schedstat_us; test ${ext_secs}s schedstat $ext_us us"
	within "pid $p: runq_delay_us vs goscope's own schedstat delta (same window)" \
		"$runq_delay_us" "$runq_delay_schedstat_us" 15
	rate_bpf=$(awk -v u="$runq_delay_us" -v s="$seconds" 'BEGIN { printf "%.0f", u / s }')
	rate_ext=$(awk -v u="$ext_us" -v s="$ext_secs" 'BEGIN { printf "%.0f", u / s }')
	within "pid $p: run-queue delay us/s vs the schedstat delta read around the window" \
		"$rate_bpf" "$rate_ext" 15
	expect_eq "pid $p: scheduler verdict" "$verdicts_scheduler" bad
	[ "${runq_waits:-0}" -gt 100 ] && pass "pid $p: $runq_waits run-queue waits" ||
		fail "pid $p: only ${runq_waits:-0} run-queue waits"
done
kill -CONT "${pids[@]}"

# The text report names the most delayed threads.
gs_health "$TMP/t.out" "$TMP/t.err" -p "${pids[0]}" -d 2
gs_wait "$GS_PID" 60
gs_expect_ok "health -d 2 (text)" "$TMP/t.err"
sed 's/^/        | /' "$TMP/t.out"
n=$(sed -n 's/^  scheduler .* over \([0-9]*\) threads.*/\1/p' "$TMP/t.out")
[ "${n:-0}" -ge 4 ] && pass "text: run-queue waits over $n threads (4 spinning goroutines)" ||
	fail "text: waits over ${n:-?} threads, want >= 4"
tids=$(sed -n 's/^ *most delayed threads: //p' "$TMP/t.out" | grep -o 'tid [0-9]*' | awk '{ print $2 }')
ok=1
for t in $tids; do [ -d "/proc/${pids[0]}/task/$t" ] || ok=0; done
[ -n "$tids" ] && [ $ok = 1 ] && pass "text: the most delayed threads ($(echo $tids)) are threads of pid ${pids[0]}" ||
	fail "text: most delayed threads '$(echo $tids)' are not all threads of ${pids[0]}"

kill -STOP "${pids[@]}"
for p in "${pids[@]}"; do
	kill -0 "$p" 2>/dev/null || fail "healthspin $p died"
done
finish
