#!/usr/bin/env bash
# Overhead of `goscope funclat` on a saturated Go HTTP server
# (bench/go/httpserver under wrk), against the untraced server and against
# bpftrace, all in the same run:
#
#   baseline        the server alone under wrk
#   goscope hot     goscope funclat -p PID main.main.func1: the request
#                   handler, one call per request (entry + RET probes,
#                   each call timed into a histogram in the kernel)
#   bpftrace hot    a bpftrace uprobe on the same function's entry, counting
#                   calls (entry only: bpftrace can only time a function
#                   with a uretprobe, which crashes Go programs)
#   goscope cold    goscope funclat -p PID net/http.Error: a function the
#                   server never calls (probes in place, never hit)
#   why hot / cold  goscope why --func (the same functions) --slow 1000: the
#                   funclat probes plus why's own cost (scheduler
#                   tracepoints for every context switch of the machine,
#                   the goroutines inside a call read every millisecond)
#
# Rounds alternate the modes; reported: median requests/s, its ratio to the
# untraced median and the median of the per-round ratios, the server's own
# CPU time per request (utime + stime from /proc: the probes' traps are
# charged to it; unlike requests/s this barely depends on what else the
# machine runs), the calls each tracer counted per request wrk completed
# (the hot ones should see ~1), goscope's own estimate of what its probes
# cost the target (from its summary line), and the tracer's own CPU. Environment: BENCH_ROUNDS (3),
# BENCH_SECS (8), BENCH_CONNS (64).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

HOT=main.main.func1
COLD=net/http.Error

bench_http 18093 3 8

# run_mode MODE ROUND: one wrk run; prints req/s, calls counted per
# request, goscope's estimated CPU share in the target (or -), tracer CPU.
run_mode() {
	local mode=$1 out=$work/$1.$2.out tr="" rps reqs calls=0 est=- cpu0=0 cpu1=0 wrkout n s0 s1

	case $mode in
	baseline) ;;
	goscope-hot) "$GOSCOPE" funclat -p "$srv" --json "$HOT" >"$out" 2>"$out.err" & tr=$! ;;
	goscope-cold) "$GOSCOPE" funclat -p "$srv" --json "$COLD" >"$out" 2>"$out.err" & tr=$! ;;
	why-hot) "$GOSCOPE" why -p "$srv" --func "$HOT" --slow 1000 --json >"$out" 2>"$out.err" & tr=$! ;;
	why-cold) "$GOSCOPE" why -p "$srv" --func "$COLD" --slow 1000 --json >"$out" 2>"$out.err" & tr=$! ;;
	bpftrace-hot) bpftrace -e "BEGIN { printf(\"tracing\\n\"); }
uprobe:$work/httpserver:$HOT /pid == $srv/ { @calls = count(); }" >"$out" 2>"$out.err" & tr=$! ;;
	esac
	if [ -n "$tr" ]; then
		for n in $(seq 300); do
			grep -qE '^goscope: tracing|^tracing' "$out.err" "$out" 2>/dev/null && break
			sleep 0.1
		done
	fi
	sleep 1
	[ -n "$tr" ] && cpu0=$(cpu_secs "$tr")
	s0=$(cpu_secs "$srv")
	wrkout=$(bench_wrk)
	s1=$(cpu_secs "$srv")
	rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$wrkout")
	reqs=$(awk '/requests in/ { print $1 }' <<<"$wrkout")
	if [ -n "$tr" ]; then
		cpu1=$(cpu_secs "$tr")
		kill -INT "$tr"
		wait "$tr" 2>/dev/null || true
		tr=""
		case $mode in
		goscope-*)
			calls=$(sed -n 's/.*"type":"func".*"count":\([0-9]*\).*/\1/p' "$out" | head -1)
			est=$(sed -n 's/.*"est_cpu_cores":\([0-9.e-]*\).*/\1/p' "$out" | tail -1) ;;
		bpftrace-hot) calls=$(awk -F': ' '/^@calls/ { print $2 }' "$out") ;;
		esac
	fi
	echo "${rps:-0} $(awk -v c="${calls:-0}" -v r="${reqs:-0}" 'BEGIN { printf "%.2f", (r > 0 ? c / r : 0) }') \
${est:--} $(bench_cores "$cpu0" "$cpu1") \
$(awk -v a="$s0" -v b="$s1" -v r="${reqs:-0}" 'BEGIN { printf "%.1f", (r > 0 ? 1e6 * (b - a) / r : 0) }')"
}

modes=(baseline goscope-hot goscope-cold why-hot why-cold)
command -v bpftrace >/dev/null && modes+=(bpftrace-hot)
declare -A rps ratio calls ests cpu srvus
for r in $(seq "$ROUNDS"); do
	for m in "${modes[@]}"; do
		read -r q c e u us < <(run_mode "$m" "$r")
		[ "$m" = baseline ] && b=$q
		echo "round $r $m: $q req/s, $c calls counted per request, est $e, tracer CPU $u, server CPU $us us/request ($(uptime | sed 's/.*load/load/'))" >&2
		rps[$m]="${rps[$m]:-} $q"
		calls[$m]="${calls[$m]:-} $c"
		ests[$m]="${ests[$m]:-} $e"
		cpu[$m]="${cpu[$m]:-} $u"
		srvus[$m]="${srvus[$m]:-} $us"
		ratio[$m]="${ratio[$m]:-} $(bench_ratio "$q" "$b")"
	done
done

base=$(bench_median ${rps[baseline]})
bench_http_heading
{
	printf 'mode\treq/s:\tvs untraced:\tvs untraced, same round:\tserver CPU per request (us):\tcalls counted per request:\tgoscope estimate (cores):\ttracer CPU (cores):\n'
	for m in "${modes[@]}"; do
		med=$(bench_median ${rps[$m]})
		case $m in
		baseline) name="untraced" ;;
		goscope-hot) name="goscope funclat, hot handler ($HOT)" ;;
		goscope-cold) name="goscope funclat, cold function ($COLD)" ;;
		why-hot) name="goscope why --func (hot handler), --slow 1000" ;;
		why-cold) name="goscope why --func (cold function), --slow 1000" ;;
		bpftrace-hot) name="bpftrace uprobe, hot handler entry only (count)" ;;
		esac
		e=-
		case $m in goscope-*) e=$(printf '%.3f' "$(bench_median ${ests[$m]})") ;; esac
		printf '%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$med" \
			"$(bench_pct "$med" "$base")" \
			"$(bench_pct "$(bench_median ${ratio[$m]})" 1)" \
			"$(bench_median ${srvus[$m]})" \
			"$(case $m in baseline | why-*) echo - ;; *) bench_median ${calls[$m]} ;; esac)" "$e" \
			"$([ "$m" = baseline ] && echo - || bench_median ${cpu[$m]})"
	done
} | bench_table
