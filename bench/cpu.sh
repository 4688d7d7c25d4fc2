#!/usr/bin/env bash
# Overhead of `goscope cpu` on a saturated Go HTTP server, against the
# untraced server and against `perf record -g` at the same frequency, all
# measured in the same run:
#
#   baseline      the server alone under wrk
#   goscope       goscope cpu -p PID (99 Hz per CPU, user + kernel stacks)
#   goscope499    goscope cpu -p PID -F 499
#   perf          perf record -g -F 99 -p PID (frame-pointer call graphs)
#
# Rounds alternate the modes so that drift hits them alike; the median
# requests/s of each mode is reported with its ratio to the baseline, the
# requests per CPU-second of the server (its own utime+stime over the run:
# what a request costs the server, which holds when other jobs take the
# machine's CPUs and requests/s swings 2x between runs), the
# tracer's own CPU per second (from /proc/PID/stat; perf's includes
# writing perf.data, not `perf report`), and for goscope the BPF program's
# average run time per sample (kernel.bpf_stats_enabled, bpftool).
# Environment: BENCH_ROUNDS (3), BENCH_SECS (8), BENCH_CONNS (64).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bench_http 18091 3 8

# prog_ns: average ns per run of the cpu_sample BPF program now loaded ("-" if unknown).
prog_ns() {
	bpftool prog show name cpu_sample 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) { if ($i == "run_time_ns") t = $(i + 1); if ($i == "run_cnt") c = $(i + 1) } }
		     END { if (c > 0) printf "%.0f", t / c; else print "-" }'
}

# run_mode NAME: one wrk run with NAME's tracer attached; prints req/s, the
# tracer's CPU seconds per second and the BPF program's ns per run.
run_mode() {
	local mode=$1 tr="" rps cpu0=0 cpu1=0 ns="-" s0 s1 total

	case $mode in
	baseline) ;;
	goscope) "$GOSCOPE" cpu -p "$srv" -f folded -o /dev/null 2>/dev/null & tr=$! ;;
	goscope499) "$GOSCOPE" cpu -p "$srv" -F 499 -f folded -o /dev/null 2>/dev/null & tr=$! ;;
	perf) perf record -q -g -F 99 -p "$srv" -o "$work/perf.data" >/dev/null 2>&1 & tr=$! ;;
	esac
	sleep 2 # attach
	[ -n "$tr" ] && cpu0=$(cpu_secs "$tr")
	s0=$(cpu_secs "$srv")
	read -r rps total < <(bench_wrk |
		awk '/^Requests\/sec/ { r = $2 } / requests in / { n = $1 } END { print r + 0, n + 0 }')
	s1=$(cpu_secs "$srv")
	if [ -n "$tr" ]; then
		cpu1=$(cpu_secs "$tr")
		case $mode in goscope*) ns=$(prog_ns) ;; esac
		kill -INT "$tr" 2>/dev/null
		wait "$tr" 2>/dev/null || true
	fi
	echo "${rps:-0} $(bench_cores "$cpu0" "$cpu1") $ns" \
		"$(awk -v n="$total" -v a="$s0" -v b="$s1" 'BEGIN { printf "%.0f", (b > a ? n / (b - a) : 0) }')"
}

stats0=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null || true
modes=(baseline goscope goscope499)
command -v perf >/dev/null && modes+=(perf)
declare -A rps cpu nsr rpc
for r in $(seq "$ROUNDS"); do
	for m in "${modes[@]}"; do
		read -r q c n e < <(run_mode "$m")
		rps[$m]="${rps[$m]:-} $q"
		cpu[$m]="${cpu[$m]:-} $c"
		rpc[$m]="${rpc[$m]:-} $e"
		[ "$n" != "-" ] && nsr[$m]="${nsr[$m]:-} $n"
		echo "round $r $m: $q req/s, $e req per server CPU-s, tracer CPU $c s/s, BPF $n ns/run" >&2
	done
done
sysctl -qw kernel.bpf_stats_enabled="$stats0" 2>/dev/null || true

base=$(bench_median ${rps[baseline]})
base_rpc=$(bench_median ${rpc[baseline]})
bench_http_heading
{
	printf 'mode\treq/s:\tvs untraced:\treq per server CPU-s:\tvs untraced:\ttracer CPU (cores):\tBPF ns/sample:\n'
	for m in "${modes[@]}"; do
		med=$(bench_median ${rps[$m]})
		mrpc=$(bench_median ${rpc[$m]})
		c=$(bench_median ${cpu[$m]})
		n=-
		[ -n "${nsr[$m]:-}" ] && n=$(bench_median ${nsr[$m]})
		case $m in
		baseline) name="untraced" ;;
		goscope) name="goscope cpu (99 Hz, default)" ;;
		goscope499) name="goscope cpu -F 499" ;;
		perf) name="perf record -g -F 99 -p" ;;
		esac
		printf '%s\t%.0f\t%s\t%.0f\t%s\t%s\t%s\n' "$name" "$med" \
			"$(bench_pct "$med" "$base")" \
			"$mrpc" "$(bench_pct "$mrpc" "$base_rpc")" \
			"$([ "$m" = baseline ] && echo - || echo "$c")" "$n"
	done
} | bench_table
