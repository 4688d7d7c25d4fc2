#!/usr/bin/env bash
# Overhead of `goscope health` on a saturated Go HTTP server, against the
# untraced server, measured in the same run:
#
#   baseline    the server alone under wrk
#   goscope     goscope health -p PID -d 1000 (one report at the end, after
#               SIGINT): sched_wakeup/sched_switch on every context switch
#               of the machine, TCP retransmit/drop/state tracepoints, the
#               major-fault perf event, /proc/PID/fd every 250 ms
#   goscope -i  the same with a JSON report every second (-i 1 --json)
#
# Rounds alternate the modes so that drift hits them alike, each round
# starting with the next mode (no mode always first or last); the median
# requests/s of each mode is reported with its ratio to the baseline's
# median and the median of its ratios to the baseline of the same round
# (steadier when the machine's speed drifts between rounds), the tracer's
# own CPU time (from /proc/PID/stat) per second of tracing, and the CPU its
# BPF programs take in the kernel (run-time statistics, bench_bpf_cost): the
# overhead measured directly, whatever the machine's noise. Goal:
# >= 95% of the untraced throughput. The load average before and after,
# and the baseline's spread, say how noisy the machine was.
# Environment: BENCH_ROUNDS (9), BENCH_SECS (6), BENCH_CONNS (64).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bench_http 18092 9 6

# run_mode NAME: one wrk run with NAME's tracer attached; prints req/s and
# the tracer's CPU seconds per second.
run_mode() {
	local mode=$1 rps cpu0=0 cpu1=0 bpf bc

	tr=""
	case $mode in
	baseline) ;;
	goscope) "$GOSCOPE" health -p "$srv" -d 1000 >/dev/null 2>"$work/err" & tr=$! ;;
	goscope_i) "$GOSCOPE" health -p "$srv" -d 1000 -i 1 --json >/dev/null 2>"$work/err" & tr=$! ;;
	esac
	sleep 2 # attach
	if [ -n "$tr" ] && ! kill -0 "$tr" 2>/dev/null; then
		echo "bench: goscope health exited: $(cat "$work/err")" >&2
		exit 1
	fi
	[ -n "$tr" ] && cpu0=$(cpu_secs "$tr")
	bpf="- -"
	bc=""
	if [ -n "$tr" ]; then
		bench_bpf_cost "$tr" $((SECS - 1)) >"$work/bpf" &
		bc=$!
	fi
	rps=$(bench_wrk | awk '/^Requests\/sec/ { print $2 }')
	if [ -n "$bc" ]; then
		wait "$bc" || true
		bpf=$(cut -d' ' -f1-2 "$work/bpf") # cores runs/s (not ns/run)
	fi
	if [ -n "$tr" ]; then
		cpu1=$(cpu_secs "$tr")
		kill -INT "$tr" 2>/dev/null
		wait "$tr" 2>/dev/null || true
		tr=""
	fi
	echo "${rps:-0} $(bench_cores "$cpu0" "$cpu1") $bpf"
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
modes=(baseline goscope goscope_i)
declare -A rps cpu ratio bcpu bev
declare -A round
for r in $(seq "$ROUNDS"); do
	# each round starts with another mode: no mode always runs first or last
	for i in $(seq 0 $((${#modes[@]} - 1))); do
		m=${modes[$(((i + r - 1) % ${#modes[@]}))]}
		read -r q c bc be < <(run_mode "$m")
		round[$m]=$q
		rps[$m]="${rps[$m]:-} $q"
		cpu[$m]="${cpu[$m]:-} $c"
		bcpu[$m]="${bcpu[$m]:-} $bc"
		bev[$m]="${bev[$m]:-} $be"
		echo "round $r $m: $q req/s, tracer CPU $c s/s, BPF $bc cores $be runs/s" >&2
	done
	for m in "${modes[@]}"; do
		ratio[$m]="${ratio[$m]:-} $(bench_ratio "${round[$m]}" "${round[baseline]}")"
	done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

base=$(bench_median ${rps[baseline]})
bench_http_heading
{
	printf 'mode\treq/s:\tvs untraced:\tmedian of per-round ratios:\ttracer CPU (cores):\tBPF in kernel (cores):\tBPF runs/s:\n'
	for m in "${modes[@]}"; do
		med=$(bench_median ${rps[$m]})
		c=$(bench_median ${cpu[$m]})
		rr=$(bench_median ${ratio[$m]})
		bc=-
		be=-
		if [ "$m" != baseline ]; then
			bc=$(bench_median ${bcpu[$m]})
			be=$(bench_rate "$(bench_median ${bev[$m]})")
		fi
		case $m in
		baseline) name="untraced" ;;
		goscope) name="goscope health -p PID -d N" ;;
		goscope_i) name="goscope health -p PID -d N -i 1 --json" ;;
		esac
		printf '%s\t%.0f\t%s\t%s\t%s\t%s\t%s\n' "$name" "$med" \
			"$(bench_pct "$med" "$base")" \
			"$(bench_pct "$rr" 1)" \
			"$([ "$m" = baseline ] && echo - || echo "$c")" "$bc" "$be"
	done
} | bench_table
echo
echo "Untraced runs: $(echo ${rps[baseline]} | tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f..%.0f req/s (spread %.1f%% of the median)", v[1], v[NR], 100 * (v[NR] - v[1]) / v[int((NR + 1) / 2)] }'); load average $load0 before, $load1 after."
