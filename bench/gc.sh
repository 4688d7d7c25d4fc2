#!/usr/bin/env bash
# Cost of `goscope gc` on a saturated Go HTTP server (bench/go/httpserver,
# which allocates per request, so the GC runs), against the untraced
# server in the same run:
#
#   baseline    the server alone under wrk
#   gc          goscope gc -p PID --json (cycles, pauses, assists)
#   gc+allocs   goscope gc -p PID --json --allocs (+ sampled allocations)
#
# Rounds alternate the modes; the median requests/s of each mode, its
# ratio to the baseline (overall and same round), the GC cycles goscope
# reported per second, and the cost per cycle: the probes that fired per
# cycle and the BPF time per cycle (kernel.bpf_stats_enabled: run_time_ns
# of goscope's gc programs; the uprobe trap around each hit is not in it),
# and the server's extra CPU per cycle (its CPU seconds per request against
# the baseline's, times requests, over cycles: traps included).
# Environment: BENCH_ROUNDS (3), BENCH_SECS (8), BENCH_CONNS (64).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bench_http 18093 3 8
prev_stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null || true

# bpf_gc_stats: "run_cnt run_time_ns" summed over the loaded gc_* programs.
bpf_gc_stats() {
	bpftool prog show -j 2>/dev/null | "${PYTHON:-python3}" -c '
import json, sys
c = t = 0
for p in json.load(sys.stdin):
    if p.get("name", "").startswith("gc_"):
        c += p.get("run_cnt", 0); t += p.get("run_time_ns", 0)
print(c, t)'
}

# run_mode NAME: one wrk run; prints req/s, requests, server CPU s, cycles,
# probe hits, BPF ns.
run_mode() {
	local mode=$1 out=$work/$1.out tr="" wrkout rps reqs cyc=0 s0 s1 c0 c1

	case $mode in
	baseline) ;;
	gc) "$GOSCOPE" gc -p "$srv" --json >"$out" 2>"$out.err" & tr=$! ;;
	allocs) "$GOSCOPE" gc -p "$srv" --json --allocs >"$out" 2>"$out.err" & tr=$! ;;
	esac
	if [ -n "$tr" ]; then
		for _ in $(seq 300); do
			grep -q '^goscope: tracing' "$out.err" 2>/dev/null && break
			sleep 0.1
		done
	fi
	sleep 1
	s0=$(bpf_gc_stats)
	c0=$(cpu_secs "$srv")
	wrkout=$(bench_wrk)
	c1=$(cpu_secs "$srv")
	s1=$(bpf_gc_stats)
	rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$wrkout")
	reqs=$(awk '/requests in/ { print $1 }' <<<"$wrkout")
	if [ -n "$tr" ]; then
		kill -INT "$tr" 2>/dev/null
		wait "$tr" 2>/dev/null || true
		cyc=$(grep -c '"event":"cycle"' "$out" || true)
	fi
	echo "${rps:-0} ${reqs:-0} $(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }') $cyc $s0 $s1"
}

modes=(baseline gc allocs)
declare -A rps ratio cps hits bpfns cpucyc
for r in $(seq "$ROUNDS"); do
	for m in "${modes[@]}"; do
		read -r q n cpu cyc h0 t0 h1 t1 < <(run_mode "$m")
		if [ "$m" = baseline ]; then
			b=$q
			bcpu=$(awk -v c="$cpu" -v n="$n" 'BEGIN { print (n > 0 ? c / n : 0) }')
		fi
		echo "round $r $m: $q req/s, $cyc cycles, $((h1 - h0)) probe hits, server CPU $cpu s ($(uptime | sed 's/.*load/load/'))" >&2
		rps[$m]="${rps[$m]:-} $q"
		ratio[$m]="${ratio[$m]:-} $(bench_ratio "$q" "$b")"
		[ "$m" = baseline ] && continue
		# Cycles seen over the whole trace; the wrk window is most of it.
		cps[$m]="${cps[$m]:-} $(awk -v c="$cyc" -v s="$SECS" 'BEGIN { printf "%.1f", c / (s + 1) }')"
		wc=$(awk -v c="$cyc" -v s="$SECS" 'BEGIN { printf "%.3f", c * s / (s + 1) }')
		hits[$m]="${hits[$m]:-} $(awk -v h=$((h1 - h0)) -v c="$wc" 'BEGIN { printf "%.1f", (c > 0 ? h / c : 0) }')"
		bpfns[$m]="${bpfns[$m]:-} $(awk -v t=$((t1 - t0)) -v c="$wc" 'BEGIN { printf "%.0f", (c > 0 ? t / c : 0) }')"
		cpucyc[$m]="${cpucyc[$m]:-} $(awk -v c="$cpu" -v n="$n" -v bc="$bcpu" -v k="$wc" \
			'BEGIN { printf "%.0f", (k > 0 ? (c - bc * n) / k * 1e6 : 0) }')"
	done
done
sysctl -qw kernel.bpf_stats_enabled="$prev_stats" 2>/dev/null || true

base=$(bench_median ${rps[baseline]})
bench_http_heading "medians."
{
	printf 'mode\treq/s:\tvs untraced:\tvs untraced, same round:\tGC cycles/s:\tprobe hits per cycle:\tBPF time per cycle:\tserver CPU per cycle (us):\n'
	for m in "${modes[@]}"; do
		med=$(bench_median ${rps[$m]})
		rr=$(bench_median ${ratio[$m]})
		case $m in
		baseline) name="untraced" ;;
		gc) name="goscope gc -p --json" ;;
		allocs) name="goscope gc -p --json --allocs" ;;
		esac
		if [ "$m" = baseline ]; then
			printf '%s\t%.0f\t100.0%%\t100.0%%\t-\t-\t-\t-\n' "$name" "$med"
			continue
		fi
		printf '%s\t%.0f\t%s\t%s\t%s\t%s\t%s ns\t%s\n' "$name" "$med" \
			"$(bench_pct "$med" "$base")" \
			"$(bench_pct "$rr" 1)" \
			"$(bench_median ${cps[$m]})" "$(bench_median ${hits[$m]})" \
			"$(bench_median ${bpfns[$m]})" "$(bench_median ${cpucyc[$m]})"
	done
} | bench_table
