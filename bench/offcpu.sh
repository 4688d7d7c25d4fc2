#!/usr/bin/env bash
# Overhead of `goscope offcpu` on a saturated Go HTTP server, against the
# untraced server and against peers, all measured in the same run:
#
#   baseline        the server alone under wrk
#   goscope         goscope offcpu -p PID (default: 49 Hz goroutine snapshots)
#   goscope -F 99   twice the snapshot rate
#   offcputime      libbpf-tools offcputime -p PID (threads only; its Go
#                   stacks end in runtime.schedule/park_m)
#   bpftrace        bench/offcpu.bt, the same off-CPU-by-stack on sched_switch
#
# Rounds alternate the modes so that drift hits them alike; the median
# requests/s of each mode is reported with its ratio to the baseline, and
# the tracer's own CPU time (from /proc/PID/stat) per second of tracing.
# Environment: BENCH_ROUNDS (3), BENCH_SECS (8), BENCH_CONNS (64).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bench_http 18090 3 8

# run_mode NAME: one wrk run with NAME's tracer attached; prints req/s and
# the tracer's CPU seconds per second.
run_mode() {
	local mode=$1 tr=""

	case $mode in
	baseline) ;;
	goscope) "$GOSCOPE" offcpu -p "$srv" -f folded -o /dev/null & tr=$! ;;
	goscope99) "$GOSCOPE" offcpu -p "$srv" -F 99 -f folded -o /dev/null & tr=$! ;;
	offcputime) offcputime -p "$srv" >/dev/null 2>&1 & tr=$! ;;
	bpftrace) bpftrace bench/offcpu.bt "$srv" >/dev/null 2>&1 & tr=$! ;;
	esac
	bench_wrk_traced "$mode" "$tr"
}

# mode_name NAME: NAME's row in the table.
mode_name() {
	case $1 in
	baseline) echo "untraced" ;;
	goscope) echo "goscope offcpu (49 Hz, default)" ;;
	goscope99) echo "goscope offcpu -F 99" ;;
	offcputime) echo "libbpf-tools offcputime -p" ;;
	bpftrace) echo "bpftrace bench/offcpu.bt" ;;
	esac
}

modes=(baseline goscope goscope99)
command -v offcputime >/dev/null && modes+=(offcputime)
command -v bpftrace >/dev/null && modes+=(bpftrace)
bench_overhead run_mode mode_name "${modes[@]}"
