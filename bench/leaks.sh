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

ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECS:-8}
CONNS=${BENCH_CONNS:-64}
PORT=${BENCH_PORT:-18091}
GOSCOPE=${GOSCOPE:-./goscope}

bench_setup

bench_serve "$PORT"

# run_mode NAME: one wrk run with NAME's tracer attached; prints req/s and
# the tracer's CPU seconds per second.
run_mode() {
	local mode=$1 tr="" rps cpu0=0 cpu1=0

	case $mode in
	baseline) ;;
	leaks) "$GOSCOPE" leaks -p "$srv" -o /dev/null 2>"$work/tracer.err" & tr=$! ;;
	contention) "$GOSCOPE" contention -p "$srv" -o /dev/null 2>"$work/tracer.err" & tr=$! ;;
	contention99) "$GOSCOPE" contention -p "$srv" -F 99 -o /dev/null 2>"$work/tracer.err" & tr=$! ;;
	holders) "$GOSCOPE" contention -p "$srv" --holders -o /dev/null 2>"$work/tracer.err" & tr=$! ;;
	esac
	sleep 2 # attach
	[ -n "$tr" ] && cpu0=$(cpu_secs "$tr")
	rps=$(wrk -t2 -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:$PORT/" 2>/dev/null |
		awk '/^Requests\/sec/ { print $2 }')
	if [ -n "$tr" ]; then
		cpu1=$(cpu_secs "$tr")
		if ! kill -INT "$tr" 2>/dev/null; then
			echo "$mode: goscope ended early: $(head -3 "$work/tracer.err")" >&2
		fi
		wait "$tr" 2>/dev/null || true
	fi
	echo "${rps:-0} $(awk -v a="$cpu0" -v b="$cpu1" -v s="$SECS" 'BEGIN { printf "%.3f", (b - a) / s }')"
}

modes=(baseline leaks contention contention99 holders)
declare -A rps cpu
for r in $(seq "$ROUNDS"); do
	for m in "${modes[@]}"; do
		read -r q c < <(run_mode "$m")
		rps[$m]="${rps[$m]:-} $q"
		cpu[$m]="${cpu[$m]:-} $c"
		echo "round $r $m: $q req/s, tracer CPU $c s/s" >&2
	done
done

base=$(bench_median ${rps[baseline]})
bench_machine
echo
echo "Go HTTP server (Go 1.19, bench/go/httpserver) saturated by wrk -t2 -c$CONNS, ${SECS} s per run, $ROUNDS rounds; median requests/s."
echo
{
	printf 'mode\treq/s:\tvs untraced:\ttracer CPU (cores):\n'
	for m in "${modes[@]}"; do
		med=$(bench_median ${rps[$m]})
		c=$(bench_median ${cpu[$m]})
		case $m in
		baseline) name="untraced" ;;
		leaks) name="goscope leaks (2 Hz, default)" ;;
		contention) name="goscope contention (49 Hz, default)" ;;
		contention99) name="goscope contention -F 99" ;;
		holders) name="goscope contention --holders" ;;
		esac
		printf '%s\t%.0f\t%s\t%s\n' "$name" "$med" \
			"$(awk -v a="$med" -v b="$base" 'BEGIN { printf "%.1f%%", (b > 0 ? 100 * a / b : 0) }')" \
			"$([ "$m" = baseline ] && echo - || echo "$c")"
	done
} | bench_table
