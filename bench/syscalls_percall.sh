#!/usr/bin/env bash
# What one traced system call costs the traced thread, by tracer: a Go
# program (bench/go/sysloop) calls getppid(2) in a loop on one thread and
# reports its thread's on-CPU ns per call (/proc/thread-self/schedstat:
# the scheduler's own accounting, so time spent waiting for a CPU on a
# busy machine is not counted; throughput ratios are, which is why this
# figure holds where bench/syscalls.sh's do not). The tracers' work runs
# in the thread's own syscall path: tracepoint slow path + BPF programs.
#
#   untraced    sysloop alone
#   goscope     goscope syscalls -p PID (default: sampled, attached 10% of
#               the time; per-CPU array by syscall number; the figures in
#               bench/RESULTS.md of 2026-11-30 06:07 were taken at 20%)
#   goscope --exact   the same attached all the time
#   goscope --by goid   (per-CPU hash keyed by goroutine, goid read per call)
#   goscope, another target / --exact, another target: goscope traces a
#               stopped copy of sysloop, not this one: the host-wide cost
#               every process pays while the tracepoints are attached (the
#               syscall slow path and the programs' rejection), all the time
#               with --exact, 10% of the time by default
#   syscount    libbpf-tools syscount -L -p PID
#   bpftrace    bench/syscalls.bt PID
#   goscope (BENCH_GOSCOPE_BASE)  another goscope binary, when set (the
#               version before a change)
#
# Each mode in turn per round; per mode the median over rounds of the
# mean of 10 reports (200k calls each; 200 for the sampled modes, ~10 s
# of ~20 windows) taken after the tracer is ready,
# and the cost over untraced. Environment: BENCH_ROUNDS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

ROUNDS=${BENCH_ROUNDS:-3}

bench_goscope
GOPROXY=off bench_go_build sysloop
"$work/sysloop" >"$work/loop.out" &
srv=$!
# the other target: a copy of sysloop, stopped (a Go process that makes no call)
"$work/sysloop" >/dev/null &
other=$!
sleep 0.5
kill -STOP "$other"
tr=""
cleanup() {
	[ -n "$tr" ] && kill -INT "$tr" 2>/dev/null
	kill "$srv" 2>/dev/null
	kill -KILL "$other" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# ready MODE PID ERRFILE OUTFILE: until the tracer has attached (at most 30 s).
ready() {
	local n=300
	while [ $n -gt 0 ] && kill -0 "$2" 2>/dev/null; do
		case $1 in
		goscope_base) sleep 2 && return 0 ;; # older versions print no ready line
		goscope*) grep -q '^goscope: tracing' "$3" 2>/dev/null && return 0 ;;
		bpftrace) grep -q '^tracing pid' "$4" 2>/dev/null && return 0 ;;
		*) [ "$(ls -l "/proc/$2/fd" 2>/dev/null | grep -cE 'bpf_link|perf_event')" -ge 2 ] && return 0 ;;
		esac
		sleep 0.1
		n=$((n - 1))
	done
	echo "bench: $1 did not attach: $(head -2 "$3")" >&2
	return 1
}

# one MODE: the mean ns/call of 10 reports with MODE's tracer attached.
one() {
	local mode=$1 out=$work/tr.out l0 n=600 k
	tr=""
	case $mode in
	untraced) ;;
	goscope) "$GOSCOPE" syscalls -p "$srv" >"$out" 2>"$out.err" & tr=$! ;;
	goscope_exact) "$GOSCOPE" syscalls -p "$srv" --exact >"$out" 2>"$out.err" & tr=$! ;;
	goscope_other) "$GOSCOPE" syscalls -p "$other" >"$out" 2>"$out.err" & tr=$! ;;
	goscope_exact_other) "$GOSCOPE" syscalls -p "$other" --exact >"$out" 2>"$out.err" & tr=$! ;;
	goscope_goid) "$GOSCOPE" syscalls -p "$srv" --exact --by goid >"$out" 2>"$out.err" & tr=$! ;;
	goscope_base) "$BASE" syscalls -p "$srv" >"$out" 2>"$out.err" & tr=$! ;;
	syscount) syscount -L -p "$srv" >"$out" 2>"$out.err" & tr=$! ;;
	bpftrace) bpftrace bench/syscalls.bt "$srv" >"$out" 2>"$out.err" & tr=$! ;;
	esac
	[ -n "$tr" ] && { ready "$mode" "$tr" "$out.err" "$out" || { echo 0; return; }; }
	# sampled: reports (~50 ms each) over ~10 s, about 20 windows
	case $mode in goscope | goscope_other) k=200 ;; *) k=10 ;; esac
	l0=$(wc -l <"$work/loop.out")
	while [ "$(wc -l <"$work/loop.out")" -lt $((l0 + k + 2)) ] && [ $n -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	if [ -n "$tr" ]; then
		kill -INT "$tr" 2>/dev/null
		wait "$tr" 2>/dev/null || true
		tr=""
	fi
	# skip the first two (the round may have started before the attach)
	# the mean, not the median: with the default (sampled) view a report
	# falls in or out of a window, and the cost is the average over time
	sed -n "$((l0 + 3)),$((l0 + k + 2))p" "$work/loop.out" | sed 's/.*ns_per_call=//' |
		awk '{ s += $1; n++ } END { printf "%.1f", n ? s / n : 0 }'
}

modes=(untraced goscope goscope_exact goscope_goid goscope_other goscope_exact_other)
BASE=${BENCH_GOSCOPE_BASE:-}
if [ -n "$BASE" ]; then
	cp "$BASE" "$work/goscope-base"
	BASE=$work/goscope-base
	modes+=(goscope_base)
fi
command -v syscount >/dev/null && modes+=(syscount)
command -v bpftrace >/dev/null && modes+=(bpftrace)
declare -A ns
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$ROUNDS"); do
	for m in "${modes[@]}"; do
		v=$(one "$m")
		echo "round $r $m: $v ns/call ($(uptime | sed 's/.*load/load/'))" >&2
		ns[$m]="${ns[$m]:-} $v"
	done
done
base=$(bench_median ${ns[untraced]})
bench_machine
echo
echo "getppid(2) in a loop on one thread (bench/go/sysloop, Go 1.19), the thread's on-CPU ns per call; median of $ROUNDS rounds. Load average before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
{
	printf 'mode\tns per call:\tcost of tracing (ns per call):\trounds (ns per call):\n'
	for m in "${modes[@]}"; do
		med=$(bench_median ${ns[$m]})
		name=$(bench_syscalls_name "$m")
		printf '%s\t%.1f\t%s\t%s\n' "$name" "$med" \
			"$([ "$m" = untraced ] && echo - || awk -v a="$med" -v b="$base" 'BEGIN { printf "%.0f", a - b }')" \
			"$(echo ${ns[$m]})"
	done
} | bench_table
