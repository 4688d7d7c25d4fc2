#!/usr/bin/env bash
# `goscope agent` over time, next to a saturated Go HTTP server: a soak too
# long for the test suite. The agent runs with the shipped dist/agent.conf
# (interval 5 s, all collectors, 2 goroutine snapshots/s) on a loopback port.
#
#   1. throughput: the server (bench/go/httpserver) under wrk, untraced and
#      with the agent running, alternating rounds (BENCH_ROUNDS of
#      BENCH_RUN_SECS each); median requests/s of each and their ratio, and
#      the agent's CPU during its rounds;
#   2. soak: the agent for BENCH_SECS (default 600) while wrk keeps the
#      server saturated and short-lived Go processes come and go (another
#      httpserver started every BENCH_CHURN s, each killed 3 * BENCH_CHURN s
#      later); /metrics scraped every BENCH_SCRAPE s with curl. Recorded per
#      scrape: success (HTTP 200 and a complete page), latency, the agent's
#      RSS, CPU time and open fds (from /proc), goscope_tracked_processes,
#      its dropped-event counters, and pids still exported more than
#      interval + discovery + 5 s after their process was killed (stale).
#
#   3. memory: the agent's RSS (and anonymous part) with 0, then
#      BENCH_MEM_STEPS (8 16 32) idle httpserver processes tracked (--exe
#      httpserver, 12 s per step), then 12 s after they all exited; first
#      with every process running the same file (one shared reader), then
#      each running its own copy (a distinct executable each).
#
# Prints Markdown: the machine and load, the throughput table, the soak by
# minute and its summary, the memory table. Exits non-zero if a scrape
# failed or a stale pid was seen. Environment: BENCH_PARTS ("throughput
# soak memory"), BENCH_SECS (600), BENCH_ROUNDS (3), BENCH_RUN_SECS (8),
# BENCH_CONNS (64), BENCH_SCRAPE (5), BENCH_CHURN (3), BENCH_MEM_STEPS
# ("8 16 32"), BENCH_PORT (18091), GOSCOPE (./goscope), BENCH_AGENT_ARGS
# (more agent options for the throughput and soak parts, e.g.
# --syscalls-exact; shown in the table).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

PARTS=" ${BENCH_PARTS:-throughput soak memory} "
SECS=${BENCH_SECS:-600}
MEM_STEPS=${BENCH_MEM_STEPS:-8 16 32}
ROUNDS=${BENCH_ROUNDS:-3}
RUN_SECS=${BENCH_RUN_SECS:-8}
CONNS=${BENCH_CONNS:-64}
SCRAPE=${BENCH_SCRAPE:-5}
CHURN=${BENCH_CHURN:-3}
PORT=${BENCH_PORT:-18091}
GOSCOPE=${GOSCOPE:-./goscope}
CONF=dist/agent.conf
INTERVAL=$(sed -n 's/^interval *= *\([0-9.]*\).*/\1/p' "$CONF")
INTERVAL=${INTERVAL:-5}

bench_setup

srv="" agent="" wrkpid=""
declare -A churn_kill=() # pid -> when to kill it (s since the soak start)
declare -A killed=()     # pid -> EPOCHSECONDS it was killed
declare -A churned=()    # pid -> 1 for every short-lived process started
declare -A seen=()       # pid -> 1 once it was on a page
cleanup() {
	local p
	for p in $wrkpid $agent $srv "${!churn_kill[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
nfds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# start_agent PORT: the agent with the shipped config, on PORT; sets agent
# and, in seconds, first_page: from the start to the first complete /metrics
# (until its first collection the agent serves an empty page).
start_agent() {
	local t0=$EPOCHREALTIME

	# shellcheck disable=SC2086 # BENCH_AGENT_ARGS: options, split on purpose
	"$GOSCOPE" agent --config "$CONF" ${BENCH_AGENT_ARGS:-} --listen "127.0.0.1:$1" \
		2>"$work/agent.err" >/dev/null &
	agent=$!
	for _ in $(seq 300); do
		if curl -sf "http://127.0.0.1:$1/metrics" 2>/dev/null | grep -q '^goscope_scrapes_total '; then
			first_page=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
			return 0
		fi
		sleep 0.1
	done
	echo "agent did not start: $(cat "$work/agent.err")" >&2
	exit 1
}
stop_agent() {
	kill -INT "$agent" 2>/dev/null || true
	wait "$agent" 2>/dev/null || true
	agent=""
}

load_now() { cut -d' ' -f1-3 /proc/loadavg; }
load_start=$(load_now)

"$work/httpserver" -addr "127.0.0.1:$PORT" 2>/dev/null &
srv=$!
bench_wait_http "$PORT" || true

# --- 1. throughput, alternating ------------------------------------------------
run_wrk() {
	wrk -t2 -c"$CONNS" -d"${RUN_SECS}s" "http://127.0.0.1:$PORT/" 2>/dev/null |
		awk '/^Requests\/sec/ { print $2 }'
}
part() { [[ $PARTS == *" $1 "* ]]; }
rps_base=() rps_agent=() cpu_agent=()
part throughput || ROUNDS=0
for r in $(seq "$ROUNDS"); do
	q=$(run_wrk)
	rps_base+=("${q:-0}")
	echo "round $r untraced: ${q:-0} req/s" >&2
	aport=$(free_port)
	start_agent "$aport"
	sleep $((${INTERVAL%.*} + 1)) # discovery, first collection
	c0=$(cpu_secs "$agent")
	q=$(run_wrk)
	c1=$(cpu_secs "$agent")
	stop_agent
	c=$(awk -v a="$c0" -v b="$c1" -v s="$RUN_SECS" 'BEGIN { printf "%.3f", (b - a) / s }')
	rps_agent+=("${q:-0}")
	cpu_agent+=("$c")
	echo "round $r agent: ${q:-0} req/s, agent CPU $c cores" >&2
done

# --- 2. soak ------------------------------------------------------------------------
soak() {
	aport=$(free_port)
	start_agent "$aport"
	wrk -t2 -c"$CONNS" -d"$((SECS + 5))s" "http://127.0.0.1:$PORT/" >"$work/wrk-soak" 2>&1 &
	wrkpid=$!
	samples=$work/samples
	printf 't\tok\tcode\tms\trss_kb\tcpu_s\ttracked\tfds\thealth_maps\tdropped\tstale\tbytes\tload1\n' >"$samples"
	t0=$SECONDS
	next_scrape=0 next_churn=0 nchurn=0
	echo "soak: ${SECS} s, agent pid $agent on :$aport, load $(load_now)" >&2
	while [ $((SECONDS - t0)) -lt "$SECS" ]; do
		now=$((SECONDS - t0))
		if [ "$now" -ge "$next_churn" ]; then
			"$work/httpserver" -addr 127.0.0.1:0 >/dev/null 2>&1 &
			churn_kill[$!]=$((now + 3 * CHURN))
			churned[$!]=1
			unset "killed[$!]" "seen[$!]" # a pid used again
			nchurn=$((nchurn + 1))
			next_churn=$((next_churn + CHURN))
		fi
		for p in "${!churn_kill[@]}"; do
			if [ "${churn_kill[$p]}" -le "$now" ]; then
				kill "$p" 2>/dev/null || true
				wait "$p" 2>/dev/null || true
				killed[$p]=$EPOCHSECONDS
				unset "churn_kill[$p]"
			fi
		done
		if [ "$now" -ge "$next_scrape" ]; then
			next_scrape=$((next_scrape + SCRAPE))
			rm -f "$work/page"
			res=$(curl -s -o "$work/page" -w '%{http_code} %{time_total}' --max-time "$SCRAPE" \
				"http://127.0.0.1:$aport/metrics" 2>/dev/null || true)
			code=${res%% *}
			ms=$(awk -v t="${res##* }" 'BEGIN { printf "%.1f", t * 1000 }')
			ok=0 tracked=- hmaps=- dropped=- stale=0 bytes=0
			if [ "$code" = 200 ] && grep -q '^goscope_scrapes_total ' "$work/page"; then
				ok=1
				bytes=$(wc -c <"$work/page")
				tracked=$(awk '/^goscope_tracked_processes / { print $2 }' "$work/page")
				hmaps=$(awk '/^goscope_dropped_events_total\{source="health_maps"\}/ { print $2 }' "$work/page")
				dropped=$(awk '/^goscope_dropped_events_total\{/ { s += $2 } END { print s + 0 }' "$work/page")
				for p in $(grep -o 'pid="[0-9]*"' "$work/page" | sort -u | tr -dc '0-9\n'); do
					[ -n "${churned[$p]:-}" ] && seen[$p]=1
					k=${killed[$p]:-}
					if [ -n "$k" ] && [ ! -d "/proc/$p" ] &&
						[ $((EPOCHSECONDS - k)) -gt $((${INTERVAL%.*} + 2 + 5)) ]; then
						stale=$((stale + 1))
					fi
				done
			fi
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$now" "$ok" "${code:-000}" "$ms" \
				"$(rss_kb "$agent")" "$(cpu_secs "$agent")" "$tracked" "$(nfds "$agent")" "$hmaps" \
				"$dropped" "$stale" "$bytes" "$(cut -d' ' -f1 /proc/loadavg)" >>"$samples"
			[ $((now % 60)) -lt "$SCRAPE" ] && echo "soak ${now}s: $(tail -n 1 "$samples")" >&2
		fi
		sleep 0.5
	done
	soak_secs=$((SECONDS - t0))
	load_soak_end=$(load_now)
	kill -INT "$wrkpid" 2>/dev/null || true
	wait "$wrkpid" 2>/dev/null || true
	wrkpid=""
	soak_rps=$(awk '/^Requests\/sec/ { print $2 }' "$work/wrk-soak")
	alive=$(kill -0 "$agent" 2>/dev/null && echo yes || echo no)
	stop_agent
}
samples=$work/samples nok=0 ntot=0 stale=0 alive=yes first_page=-
part soak && soak

# --- 3. memory ------------------------------------------------------------------------
mem_rows=$work/mem
mem_rss() { awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } END { printf "%.1f\t%.1f", r / 1024, a / 1024 }' \
	"/proc/$1/status"; }
mem_tracked() { curl -s --max-time 5 "http://127.0.0.1:$1/metrics" | awk '/^goscope_tracked_processes / { print $2 }'; }
memory() {
	local mport pids=() n cycle bin i

	mport=$(free_port)
	"$GOSCOPE" agent --config "$CONF" --listen "127.0.0.1:$mport" --exe httpserver \
		2>"$work/agent-mem.err" >/dev/null &
	agent=$!
	sleep $((${INTERVAL%.*} + 2))
	printf 'executables	httpserver processes:	tracked:	agent RSS MiB:	of it anonymous MiB:
' >"$mem_rows"
	printf -- '-	0 (+ the bench server)	%s	%s
' "$(mem_tracked "$mport")" "$(mem_rss "$agent")" >>"$mem_rows"
	# First every process runs the same file, then each its own copy (a
	# distinct inode: a distinct executable to the agent).
	for cycle in "one binary" "a copy each"; do
		i=0
		for n in $MEM_STEPS; do
			while [ ${#pids[@]} -lt "$n" ]; do
				bin=$work/httpserver
				if [ "$cycle" != "one binary" ]; then
					i=$((i + 1))
					mkdir -p "$work/copy$i"
					cp "$work/httpserver" "$work/copy$i/httpserver"
					bin=$work/copy$i/httpserver
				fi
				"$bin" -addr 127.0.0.1:0 >/dev/null 2>&1 &
				pids+=($!)
			done
			sleep 12
			printf '%s\t%s\t%s\t%s\n' "$cycle" "$n" "$(mem_tracked "$mport")" "$(mem_rss "$agent")" >>"$mem_rows"
			echo "memory: $(tail -n 1 "$mem_rows")" >&2
		done
		kill "${pids[@]}" 2>/dev/null || true
		wait "${pids[@]}" 2>/dev/null || true
		pids=()
		sleep 12
		printf '%s\t0 (all exited)\t%s\t%s\n' "$cycle" "$(mem_tracked "$mport")" "$(mem_rss "$agent")" >>"$mem_rows"
	done
	stop_agent
}
part memory && memory

# --- report -----------------------------------------------------------------------------
bench_machine
echo
echo "Load average (1, 5, 15 min): $load_start at the start${load_soak_end:+, $load_soak_end at the end of the soak}, $(load_now) at the end."
echo
if part throughput; then
b=$(bench_median "${rps_base[@]}")
g=$(bench_median "${rps_agent[@]}")
ratio=$(awk -v a="$g" -v b="$b" 'BEGIN { printf "%.1f%%", (b > 0 ? 100 * a / b : 0) }')
echo "### Throughput: Go HTTP server under wrk -t2 -c$CONNS, ${RUN_SECS} s runs, $ROUNDS rounds alternating; median"
echo
ratios=()
for i in "${!rps_base[@]}"; do
	ratios+=("$(awk -v a="${rps_agent[i]}" -v b="${rps_base[i]}" 'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }')")
done
same=$(awk -v r="$(bench_median "${ratios[@]}")" 'BEGIN { printf "%.1f%%", 100 * r }')
{
	printf 'mode\treq/s:\tvs untraced:\tmedian of per-round ratios:\tagent CPU (cores):\truns (req/s)\n'
	printf 'untraced\t%.0f\t100.0%%\t100.0%%\t-\t%s\n' "$b" "${rps_base[*]}"
	printf 'goscope agent (%s)\t%.0f\t%s\t%s\t%s\t%s\n' "$CONF${BENCH_AGENT_ARGS:+ $BENCH_AGENT_ARGS}" "$g" "$ratio" "$same" \
		"$(bench_median "${cpu_agent[@]}")" "${rps_agent[*]}"
} | bench_table
echo
fi
if part soak; then
echo "### Soak: ${soak_secs} s, /metrics every ${SCRAPE} s, a short-lived Go process every ${CHURN} s ($nchurn in all), wrk throughout (${soak_rps:-?} req/s)"
echo
awk -F'\t' -v scrape="$SCRAPE" 'NR > 1 {
	m = int($1 / 60)
	n[m]++; ok[m] += $2
	if (!(m in rmin) || $5 < rmin[m]) rmin[m] = $5
	if ($5 > rmax[m]) rmax[m] = $5
	if (!(m in c0)) { c0[m] = $6; t0[m] = $1 }
	c1[m] = $6; t1[m] = $1
	if ($4 > msmax[m]) msmax[m] = $4
	ms[m] += $4
	if ($7 != "-") { tr[m] = $7 }
	fd[m] = $8; hm[m] = $9; st[m] += $11; ld[m] += $13
	if (m > last) last = m
	if (NR == 2) { pc = $6; pt = $1 }
}
END {
	print "minute:\tscrapes ok:\tscrape ms avg:\tscrape ms max:\tRSS MiB min-max:\tagent CPU (cores):\ttracked:\tagent fds:\thealth_maps drops:\tstale pids:\tload avg:"
	for (m = 0; m <= last; m++) {
		if (!(m in n)) continue
		# CPU over the minute: from the last sample of the previous minute.
		cpu = (t1[m] > pt) ? (c1[m] - pc) / (t1[m] - pt) : 0
		pc = c1[m]; pt = t1[m]
		printf "%d\t%d/%d\t%.1f\t%.1f\t%.1f-%.1f\t%.3f\t%s\t%s\t%s\t%d\t%.1f\n", m + 1, ok[m], n[m],
			ms[m] / n[m], msmax[m], rmin[m] / 1024, rmax[m] / 1024, cpu, tr[m], fd[m], hm[m], st[m],
			ld[m] / n[m]
	}
}' "$samples" | bench_table
echo
read -r nok ntot rmin rmax rfirst rlast cpu stale fd0 fd1 < <(awk -F'\t' 'NR > 1 {
	n++; ok += $2; st += $11
	if (n == 1) { rmin = $5; c0 = $6; t0 = $1; r0 = $5; f0 = $8 }
	if ($5 < rmin) rmin = $5
	if ($5 > rmax) rmax = $5
	c1 = $6; t1 = $1; r1 = $5; f1 = $8
} END { printf "%d %d %.1f %.1f %.1f %.1f %.3f %d %d %d\n", ok, n, rmin / 1024, rmax / 1024,
	r0 / 1024, r1 / 1024, (t1 > t0 ? (c1 - c0) / (t1 - t0) : 0), st, f0, f1 }' "$samples")
{
	printf 'soak summary\tvalue\n'
	printf 'scrapes ok / total\t%s / %s\n' "$nok" "$ntot"
	printf 'agent RSS min / max (MiB)\t%s / %s\n' "$rmin" "$rmax"
	printf 'agent RSS first / last scrape (MiB)\t%s / %s\n' "$rfirst" "$rlast"
	printf 'agent CPU over the soak (cores)\t%s\n' "$cpu"
	printf 'agent open fds first / last\t%s / %s\n' "$fd0" "$fd1"
	printf 'stale pids seen (exported > %s s after exit)\t%s\n' "$((${INTERVAL%.*} + 7))" "$stale"
	printf 'short-lived processes seen on a page\t%s of %s\n' "${#seen[@]}" "$nchurn"
	printf 'agent alive at the end\t%s\n' "$alive"
	printf 'agent start to first complete /metrics (s)\t%s\n' "$first_page"
	printf 'dropped events at the end (by source)\t%s\n' "$(grep '^goscope_dropped_events_total{' "$work/page" 2>/dev/null |
		sed -e 's/^goscope_dropped_events_total{source="\([a-z_]*\)"} /\1=/' | grep -v '=0$' | tr '\n' ' ' ||
		echo none)"
	part throughput &&
		printf 'throughput with the agent / untraced (medians; per round)\t%s; %s\n' "$ratio" "$same"
} | bench_table
cp "$samples" "${BENCH_SAMPLES:-/dev/null}" 2>/dev/null || true
echo
fi
if part memory; then
	echo "### Memory: the agent ($CONF, --exe httpserver) with idle bench/go/httpserver processes ($(du -k "$work/httpserver" | cut -f1) KiB binary), ${MEM_STEPS// /, } of them, 12 s a step; all running one file, then each its own copy"
	echo
	bench_table <"$mem_rows"
fi
[ "$nok" = "$ntot" ] && [ "$stale" = 0 ] && [ "$alive" = yes ]
