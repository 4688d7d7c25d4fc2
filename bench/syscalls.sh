#!/usr/bin/env bash
# Overhead of `goscope syscalls` on a saturated Go HTTP server, against the
# untraced server and against peers, all measured in the same run:
#
#   baseline    the server alone under wrk
#   goscope     goscope syscalls -p PID (default view: sampled, the
#               tracepoints attached 10% of the time in 100 ms windows;
#               per-syscall counts, errnos and latency histograms aggregated
#               in the kernel, scaled)
#   goscope --exact   the same attached all the time (every call)
#   goscope --duty 20 (with BENCH_DUTY20=1) attached 20% of the time
#   syscount    libbpf-tools syscount -L -p PID (counts and total latency
#               per syscall, in the kernel)
#   bpftrace    bench/syscalls.bt PID (per-syscall counts, errors and a
#               latency histogram, in the kernel)
#   perf trace  perf trace -s -p PID (every call streamed to user space)
#   strace      strace -c -f -p PID (ptrace: two stops per call)
#
# Rounds alternate the modes so that drift hits them alike; the median
# requests/s of each mode is reported with its ratio to the baseline's
# median and the median of its ratios to the baseline of the same round
# (steadier when the machine's speed drifts between rounds), the
# tracer's own CPU time (from /proc/PID/stat) per second of tracing, and
# the system calls the tracer reported per request wrk completed (a tool
# that saw nothing costs nothing: this column shows which ones did the
# work; a round where a tracer reported none is left out of its figures and
# counted), and the requests completed per CPU second the server used
# (steadier than req/s on a shared machine: a tracer's cost in the server's
# own syscalls shows there; its cost in wrk's and other processes' calls
# does not) and per CPU second of the server and wrk together (wrk's from
# /usr/bin/time: the host-wide slow path on wrk's calls shows there too;
# on a quiet machine, where server and wrk share the 2 cores, saturated
# throughput follows it). perf trace and strace (slow, known) run only with
# BENCH_SLOW_TRACERS=1. For the in-kernel tracers (goscope, syscount, bpftrace) the
# cost of their BPF programs is measured directly too, with run-time
# statistics on (BPF_ENABLE_STATS, as kernel.bpf_stats_enabled=1) during
# wrk: the CPU they take (cores) and the average run in ns (two runs per
# system call of every task on the host: the traced server's calls, and
# the other processes' calls each program rejects). Environment:
# BENCH_ROUNDS (3), BENCH_SECS (8), BENCH_CONNS (64).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bench_http 18091 3 8

# calls_seen MODE FILE: the system calls the tracer's report counts.
calls_seen() {
	case $1 in
	goscope*) awk -F'"count":' 'NF > 1 { split($2, a, ","); s += a[1] } END { print s + 0 }' "$2" ;;
	syscount) awk 'f && $2 ~ /^[0-9]+$/ { s += $2 } /^SYSCALL/ { f = 1 } END { print s + 0 }' "$2" ;;
	bpftrace) awk -F': ' '/^@calls\[/ { s += $2 } END { print s + 0 }' "$2" ;;
	perftrace) awk '$1 ~ /^[a-z_0-9]+$/ && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { s += $2 }
		END { print s + 0 }' "$2" ;;
	strace) awk '$NF == "total" { print $4 + 0; f = 1 } END { if (!f) print 0 }' "$2" ;;
	*) echo 0 ;;
	esac
}

# wait_attached MODE PID ERRFILE OUTFILE: until the tracer has attached
# (goscope's ready line, strace says so, bpftrace's BEGIN probe prints a
# line; the others hold two BPF links or perf events), at most 30 s.
# Tracers take from 0.1 s to several seconds to start on a busy machine;
# wrk must not start before.
wait_attached() {
	local n=300
	while [ $n -gt 0 ] && kill -0 "$2" 2>/dev/null; do
		if [ "$1" = goscope ]; then
			grep -q '^goscope: tracing' "$3" 2>/dev/null && return 0
		elif [ "$1" = strace ]; then
			grep -q attached "$3" 2>/dev/null && return 0
		elif [ "$1" = bpftrace ]; then
			grep -q '^tracing pid' "$4" 2>/dev/null && return 0
		elif [ "$(ls -l "/proc/$2/fd" 2>/dev/null | grep -cE 'bpf_link|perf_event')" -ge 2 ]; then
			return 0
		fi
		sleep 0.1
		n=$((n - 1))
	done
	echo "bench: $1 did not attach: $(head -2 "$3")" >&2
}

# stop_tracer PID: SIGINT (the tracers print their report on it), again
# if it was lost, then SIGTERM and SIGKILL; waits for it.
stop_tracer() {
	local sig n
	for sig in INT INT TERM KILL; do
		kill "-$sig" "$1" 2>/dev/null || break
		for n in $(seq 100); do
			kill -0 "$1" 2>/dev/null || break 2
			sleep 0.1
		done
	done
	wait "$1" 2>/dev/null || true
}

# run_mode NAME ROUND: one wrk run with NAME's tracer attached; prints
# req/s, the tracer's CPU seconds per second and the calls it reported
# per request.
run_mode() {
	local mode=$1 out=$work/$1.$2.out tr="" rps reqs cpu0=0 cpu1=0 wrkout bc="" bpf="- - -" s0 s1

	case $mode in
	baseline) ;;
	goscope) "$GOSCOPE" syscalls -p "$srv" --json >"$out" 2>"$out.err" & tr=$! ;;
	goscope_exact) "$GOSCOPE" syscalls -p "$srv" --exact --json >"$out" 2>"$out.err" & tr=$! ;;
	goscope_d20) "$GOSCOPE" syscalls -p "$srv" --duty 20 --json >"$out" 2>"$out.err" & tr=$! ;;
	syscount) syscount -L -T 400 -p "$srv" >"$out" 2>"$out.err" & tr=$! ;;
	bpftrace) bpftrace bench/syscalls.bt "$srv" >"$out" 2>"$out.err" & tr=$! ;;
	perftrace) perf trace -s -p "$srv" -o "$out" >/dev/null 2>"$out.err" & tr=$! ;;
	strace) strace -c -f -p "$srv" -o "$out" 2>"$out.err" & tr=$! ;;
	esac
	[ -n "$tr" ] && wait_attached "$mode" "$tr" "$out.err" "$out"
	sleep 1
	[ -n "$tr" ] && cpu0=$(cpu_secs "$tr")
	case $mode in
	goscope | goscope_exact | goscope_d20 | syscount | bpftrace)
		bench_bpf_cost "$tr" $((SECS - 1)) >"$out.bpf" &
		bc=$!
		;;
	esac
	s0=$(cpu_secs "$srv")
	wrkout=$(bench_wrk /usr/bin/time -f '%U %S' -o "$out.wrktime")
	if [ -n "$bc" ]; then
		wait "$bc" || true
		bpf=$(cat "$out.bpf")
	fi
	s1=$(cpu_secs "$srv")
	rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$wrkout")
	reqs=$(awk '/requests in/ { print $1 }' <<<"$wrkout")
	if [ -n "$tr" ]; then
		cpu1=$(cpu_secs "$tr")
		stop_tracer "$tr"
	fi
	echo "${rps:-0} $(bench_cores "$cpu0" "$cpu1") \
$(awk -v c="$( [ -n "$tr" ] && calls_seen "$mode" "$out" || echo 0)" -v r="${reqs:-0}" \
		'BEGIN { printf "%.1f", (r > 0 ? c / r : 0) }') $bpf \
$(awk -v r="${reqs:-0}" -v a="$s0" -v b="$s1" 'BEGIN { printf "%.0f", (b > a ? r / (b - a) : 0) }') \
$(awk -v r="${reqs:-0}" -v a="$s0" -v b="$s1" -v w="$(awk '{ print $1 + $2 }' "$out.wrktime" 2>/dev/null || echo 0)" \
		'BEGIN { printf "%.0f", (b - a + w > 0 ? r / (b - a + w) : 0) }')"
}

modes=(baseline goscope goscope_exact)
[ -n "${BENCH_DUTY20:-}" ] && modes+=(goscope_d20)
command -v syscount >/dev/null && modes+=(syscount)
command -v bpftrace >/dev/null && modes+=(bpftrace)
if [ -n "${BENCH_SLOW_TRACERS:-}" ]; then
	command -v perf >/dev/null && modes+=(perftrace)
	command -v strace >/dev/null && modes+=(strace)
fi
declare -A rps cpu calls ratio blind bcores bnsrun rpc rpcr rpw rpwr
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$ROUNDS"); do
	for m in "${modes[@]}"; do
		read -r q c n bc bruns bns pc pw < <(run_mode "$m" "$r")
		[ "$m" = baseline ] && b=$q && bpc=$pc && bpw=$pw
		echo "round $r $m: $q req/s, tracer CPU $c s/s, $n calls reported per request, BPF $bc cores $bruns runs/s $bns ns/run, $pc req per server CPU s, $pw per server+wrk CPU s ($(uptime | sed 's/.*load/load/'))" >&2
		# A tracer that reported no call did not trace (perf trace -p,
		# sometimes, on this kernel): the round says nothing about its cost.
		if [ "$m" != baseline ] && [ "$n" = 0.0 ]; then
			blind[$m]=$((${blind[$m]:-0} + 1))
			continue
		fi
		rps[$m]="${rps[$m]:-} $q"
		cpu[$m]="${cpu[$m]:-} $c"
		calls[$m]="${calls[$m]:-} $n"
		if [ "$bc" != - ]; then
			bcores[$m]="${bcores[$m]:-} $bc"
			bnsrun[$m]="${bnsrun[$m]:-} $bns"
		fi
		ratio[$m]="${ratio[$m]:-} $(bench_ratio "$q" "$b")"
		rpc[$m]="${rpc[$m]:-} $pc"
		rpcr[$m]="${rpcr[$m]:-} $(bench_ratio "$pc" "$bpc")"
		rpw[$m]="${rpw[$m]:-} $pw"
		rpwr[$m]="${rpwr[$m]:-} $(bench_ratio "$pw" "$bpw")"
	done
done

base=$(bench_median ${rps[baseline]})
bench_http_heading "median requests/s. Load average before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg)."
{
	printf 'mode\treq/s:\tvs untraced:\tvs untraced, same round:\treq per server CPU s:\tvs untraced, same round:\treq per CPU s, server + wrk:\tvs untraced, same round:\ttracer CPU (cores):\tBPF (cores):\tBPF ns/run:\tcalls seen per request:\trounds:\n'
	for m in "${modes[@]}"; do
		if [ -z "${rps[$m]:-}" ]; then
			printf '%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t0.0\t0 of %s (saw no calls)\n' "$m" "$ROUNDS"
			continue
		fi
		med=$(bench_median ${rps[$m]})
		rr=$(bench_median ${ratio[$m]})
		c=$(bench_median ${cpu[$m]})
		n=$(bench_median ${calls[$m]})
		name=$(bench_syscalls_name "$m")
		bcm=-
		bnm=-
		[ -n "${bcores[$m]:-}" ] && bcm=$(bench_median ${bcores[$m]}) && bnm=$(bench_median ${bnsrun[$m]})
		printf '%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$med" \
			"$(bench_pct "$med" "$base")" \
			"$(bench_pct "$rr" 1)" \
			"$(bench_median ${rpc[$m]})" \
			"$(bench_pct "$(bench_median ${rpcr[$m]})" 1)" \
			"$(bench_median ${rpw[$m]})" \
			"$(bench_pct "$(bench_median ${rpwr[$m]})" 1)" \
			"$([ "$m" = baseline ] && echo - || echo "$c")" "$bcm" "$bnm" \
			"$([ "$m" = baseline ] && echo - || echo "$n")" \
			"$((ROUNDS - ${blind[$m]:-0}))$([ -n "${blind[$m]:-}" ] && echo " (${blind[$m]} saw no calls)")"
	done
} | bench_table
