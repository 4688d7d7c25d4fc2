#!/usr/bin/env bash
# Overhead of `goscope leaks` and `goscope contention` on a saturated Go
# HTTP server, against the untraced server, all measured in the same run
# (the pattern of bench/offcpu.sh):
#
#   baseline          the server alone under wrk
#   leaks             goscope leaks -p PID (default: 2 snapshots a second)
#   contention        goscope contention -p PID (default: 49 snapshots a second)
#   contention -F 99  twice that
#   contention --holders  with the release uprobe (sync.runtime_Semrelease)
#
# Rounds alternate the modes so that drift hits them alike; the median
# requests/s of each mode is reported with its ratio to the baseline, and
# the tracer's own CPU time (from /proc/PID/stat) per second of tracing.
# Environment: BENCH_ROUNDS (3), BENCH_SECS (8), BENCH_CONNS (64).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

bench_http 18091 3 8

# run_mode NAME: one wrk run with NAME's tracer attached; prints req/s and
# the tracer's CPU seconds per second.
run_mode() {
	local mode=$1 tr=""

	case $mode in
	baseline) ;;
	leaks) "$GOSCOPE" leaks -p "$srv" -o /dev/null 2>"$work/tracer.err" & tr=$! ;;
	contention) "$GOSCOPE" contention -p "$srv" -o /dev/null 2>"$work/tracer.err" & tr=$! ;;
	contention99) "$GOSCOPE" contention -p "$srv" -F 99 -o /dev/null 2>"$work/tracer.err" & tr=$! ;;
	holders) "$GOSCOPE" contention -p "$srv" --holders -o /dev/null 2>"$work/tracer.err" & tr=$! ;;
	esac
	bench_wrk_traced "$mode" "$tr" "$work/tracer.err"
}

# mode_name NAME: NAME's row in the table.
mode_name() {
	case $1 in
	baseline) echo "untraced" ;;
	leaks) echo "goscope leaks (2 Hz, default)" ;;
	contention) echo "goscope contention (49 Hz, default)" ;;
	contention99) echo "goscope contention -F 99" ;;
	holders) echo "goscope contention --holders" ;;
	esac
}

bench_overhead run_mode mode_name baseline leaks contention contention99 holders
