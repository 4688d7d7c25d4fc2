#!/usr/bin/env bash
# test_agent_prometheus: `goscope agent` measured through a real Prometheus
# server (Debian's prometheus, scrape_interval 1 s, its own config, TSDB in
# $TMP, loopback port) scraping it, against truths from the programs
# themselves and from the runtime:
# - the agent runs with --syscalls-exact (every call traced: this checks the
#   counts end to end; the sampled default's estimates are checked against
#   the same truth in test_agent_sampled, over enough windows);
# - tests/go/opener opens a file 100 times a second (paced, and it logs its
#   own count): rate(goscope_syscalls_total{syscall="openat"}[10s]) in
#   Prometheus equals the opener's own rate within 10% (median over the
#   window); histogram_quantile over goscope_syscall_duration_seconds_bucket
#   gives a number;
# - tests/go/blockers parks goroutines forever in known states: the rate of
#   goscope_goroutine_blocked_seconds_total for each of chan receive,
#   select, sleep, IO wait, semacquire (Go 1.19's names) equals the number
#   of goroutines the runtime's own SIGQUIT dump shows in that state (1
#   goroutine-second per second each) within 15%, and all reasons together
#   equal all its goroutines; goscope_goroutines equals the count of
#   `goscope goroutines PID` +-2;
# - every goscope_ series Prometheus stored has only bounded labels (pid,
#   exe, go_version, syscall, errno, reason, le, source: no goroutine ids,
#   stacks or addresses); per-process ones carry pid, exe and go_version,
#   and exe / go_version are the truth (`go version BIN`);
# - the agent's own page parses strictly (and passes `promtool check
#   metrics`), histograms are consistent with the counters, and its pids
#   are exactly the Go processes of /proc (independent ELF check) that had
#   time to be discovered; goscope_tracked_processes equals the number of
#   pids at every scrape;
# - a process started after the agent appears in Prometheus within 8 s
#   (discovery every 2 s + collection 1 s + scrape 1 s); one that exits
#   leaves the agent's page within 6 s, and Prometheus' instant query
#   returns nothing for it right after (stale markers, not the 5 min
#   lookback);
# - up == 1 at every scrape, none slower than the 1 s timeout;
# - every PromQL expression of dist/grafana-dashboard.json runs and returns
#   data;
# - executables named with a quote, backslash and newline, with a UTF-8
#   character cut by the 63-byte exe label, or with bytes that are not
#   UTF-8: the page stays valid (UTF-8, escaped; promtool), Prometheus keeps
#   accepting every scrape and stores the names (invalid bytes as '?').
. "$(dirname "$0")/lib.sh"

need_go
command -v prometheus >/dev/null 2>&1 || skip "no prometheus (apt-get install prometheus, scripts/deps.sh)"
go_build "$TMP/opener" opener || die "go build opener"
go_build "$TMP/blockers" blockers || die "go build blockers"
gover=$(go version "$TMP/opener" | awk '{ print $2 }')

prom() { "$PYTHON" "$E2E_DIR/agent_prom.py" --prom "http://127.0.0.1:$pport" "$@"; }
now() { printf '%s\n' "$EPOCHREALTIME"; }
agent_page() { curl -sf --max-time 10 "http://127.0.0.1:$aport/metrics" >"$1"; }

# Programs with known behaviour, started before the agent.
spawn "$TMP/b.out" "$TMP/b.err" env GOTRACEBACK=system "$TMP/blockers"
bpid=$SPAWN_PID
spawn "$TMP/o.out" "$TMP/o.err" "$TMP/opener" -rate 100
opid=$SPAWN_PID
wait_line "$TMP/b.out" '^blockers: ready' "$bpid" 60 || die "blockers never ready: $(tail -3 "$TMP/b.err")"
wait_line "$TMP/o.out" '^opener: t=' "$opid" 30 || die "opener not running: $(tail -3 "$TMP/o.err")"

aport=$(free_port)
spawn "$TMP/agent.out" "$TMP/agent.err" "$GOSCOPE" agent --listen "127.0.0.1:$aport" --interval 1 \
	--offcpu-freq 5 --syscalls-exact
apid=$SPAWN_PID
wait_port 127.0.0.1 "$aport" "$apid" 30 || die "agent not serving on $aport: $(tail -3 "$TMP/agent.err")"
t0=$(now)

pport=$(free_port)
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: goscope
    static_configs:
      - targets: ['127.0.0.1:$aport']
EOF
spawn "$TMP/prom.out" "$TMP/prom.err" prometheus --config.file="$TMP/prometheus.yml" \
	--storage.tsdb.path="$TMP/tsdb" --web.listen-address="127.0.0.1:$pport" --log.level=warn
ppid=$SPAWN_PID
wait_port 127.0.0.1 "$pport" "$ppid" 60 || die "prometheus not serving: $(tail -3 "$TMP/prom.err")"
for _ in $(seq 300); do
	curl -sf "http://127.0.0.1:$pport/-/ready" >/dev/null 2>&1 && break
	sleep 0.1
done
log "agent pid $apid on :$aport, prometheus pid $ppid on :$pport; opener $opid, blockers $bpid"

secs=$(prom wait "goscope_syscalls_total{pid=\"$opid\",syscall=\"openat\"}" --timeout 30) ||
	die "the opener's openat series never reached Prometheus: $secs"
t_first=$(now)
log "opener's openat series in Prometheus $secs s after Prometheus was up"
# 10 s for the first full [10s] window, then 12 evaluation steps.
sleep 22
t1=$(now)
from=$(awk -v t="$t_first" 'BEGIN { printf "%.3f", t + 10.5 }')

# --- syscalls: rate and histogram ---------------------------------------------
check_v "openat rate of the opener = its own count (100/s) within 10%" \
	prom rate "rate(goscope_syscalls_total{syscall=\"openat\",pid=\"$opid\"}[10s])" \
	--from "$from" --to "$t1" --truth-log "$TMP/o.out" --tol 0.10
for qq in 0.5 0.99; do
	v=$(prom value "histogram_quantile($qq, rate(goscope_syscall_duration_seconds_bucket{pid=\"$opid\",syscall=\"openat\"}[10s]))")
	if awk -v v="$v" 'BEGIN { exit !(v + 0 > 0 && v + 0 <= 5) }'; then
		pass "histogram_quantile($qq) of the opener's openat durations: $v s"
	else
		fail "histogram_quantile($qq) of the opener's openat durations: '$v'"
	fi
done

# --- goroutines -----------------------------------------------------------------
g_prom=$(prom value "sum(goscope_goroutines{pid=\"$bpid\"})")
g_gs=$("$GOSCOPE" goroutines "$bpid" 2>"$TMP/gor.err" | grep -c '^goroutine ')
if [ -n "$g_prom" ] && [ "$g_gs" -gt 0 ] && [ $((g_prom - g_gs)) -le 2 ] && [ $((g_gs - g_prom)) -le 2 ]; then
	pass "goscope_goroutines of blockers $g_prom = goscope goroutines $g_gs (+-2)"
else
	fail "goscope_goroutines of blockers '$g_prom', goscope goroutines '$g_gs' $(head -2 "$TMP/gor.err")"
fi

# --- labels, the page, /proc ------------------------------------------------------
check_v "labels of every goscope_ series in Prometheus" \
	prom labels --from "$t0" --to "$t1" --pid "$opid=opener=$gover" --pid "$bpid=blockers=$gover"
agent_page "$TMP/page1" || fail "GET /metrics failed"
fetched=$(now)
check_v "the agent's /metrics page" \
	page page "$TMP/page1" --pid "$opid=opener=$gover" --pid "$bpid=blockers=$gover"
if command -v promtool >/dev/null 2>&1; then
	check "promtool check metrics accepts the page" sh -c "promtool check metrics <'$TMP/page1'"
fi
# Other Go processes come and go on a shared machine: a few pages, if need be.
procs_ok=0
for try in 1 2 3 4 5; do
	agent_page "$TMP/page2"
	fetched=$(now)
	if page procs "$TMP/page2" --fetched "$fetched" >"$TMP/procs.out" 2>&1; then
		procs_ok=1
		break
	fi
	sleep 1
done
[ $procs_ok = 1 ] && pass "the page's pids = the Go processes in /proc (page $try)" ||
	fail "the page's pids != the Go processes in /proc (5 pages)"
sed 's/^/        /' "$TMP/procs.out"

# --- a process that starts, then exits -----------------------------------------------
spawn "$TMP/late.out" "$TMP/late.err" "$TMP/opener" -rate 20
lpid=$SPAWN_PID
wait_line "$TMP/late.out" '^opener: pid=' "$lpid" 30 || die "late opener not running"
if secs=$(prom wait "goscope_goroutines{pid=\"$lpid\"}" --timeout 15) &&
	awk -v s="$secs" 'BEGIN { exit !(s <= 8) }'; then
	pass "a process started after the agent is in Prometheus after $secs s (<= 8)"
else
	fail "a process started after the agent: not in Prometheus within 8 s ($secs)"
fi
sleep 2
kill -TERM "$lpid"
wait_exit "$lpid" 10 || fail "late opener did not exit"
t_exit=$EPOCHREALTIME
gone=0
for _ in $(seq 100); do
	agent_page "$TMP/page3" && ! grep -q "pid=\"$lpid\"" "$TMP/page3" && { gone=1; break; }
	sleep 0.1
done
secs=$(awk -v a="$t_exit" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
if [ $gone = 1 ] && awk -v s="$secs" 'BEGIN { exit !(s <= 6) }'; then
	pass "the exited process left the agent's page after $secs s (<= 6)"
else
	fail "the exited process is still on the agent's page after $secs s"
fi
if secs=$(prom wait "count({__name__=~\"goscope_.+\",pid=\"$lpid\"})" --absent --timeout 10); then
	pass "Prometheus returns none of its series $secs s later (stale, not 5 min of lookback)"
else
	fail "Prometheus still returns the exited process's series: $secs"
fi
n=$(prom value "count_over_time(goscope_open_fds{pid=\"$lpid\"}[2m])")
[ "${n:-0}" -gt 0 ] 2>/dev/null && pass "... though it stored $n scrapes of it before" ||
	fail "Prometheus never stored the late process's series ('$n')"

# --- every scrape, tracked processes, the dashboard ---------------------------------------
t2=$(now)
check_v "scrapes from the start to now" prom scrapes --from "$t0" --to "$t2"
check_v "goscope_tracked_processes at every step" prom tracked --from "$t0" --to "$t2"
agent_page "$TMP/page4" || fail "GET /metrics failed"
page dashboard "$ROOT/dist/grafana-dashboard.json" "$TMP/page4" --exprs "$TMP/dash.exprs" \
	>"$TMP/dash.out" 2>&1
check_v "every expression of the Grafana dashboard returns data" prom exprs "$TMP/dash.exprs"

# --- blocking reasons, against the runtime's own dump ---------------------------------------
kill -QUIT "$bpid"
wait_exit "$bpid" 30 || die "blockers alive after SIGQUIT"
check_v "blocked goroutine-seconds per second by reason = goroutines so blocked (runtime dump)" \
	prom reasons --pid "$bpid" --dump "$TMP/b.err" --from "$from" --to "$t1" --tol 0.15 \
	--reason "chan receive" --reason select --reason sleep --reason "IO wait" --reason semacquire

# --- executables with awkward names --------------------------------------------------------
# A quote, a backslash and a newline (escaped in label values); a name
# whose 63-byte cut splits a UTF-8 character; bytes that are not UTF-8.
# Prometheus refuses a whole scrape over one label value that is not UTF-8.
mkdir -p "$TMP/names"
n1=$(printf 'q"b\\s\nnl')
n2=$(printf '%062d\xc3\xa9' 0 | tr 0 a)
n3=$(printf 'bad\xff\xfeutf')
wpids=()
for n in "$n1" "$n2" "$n3"; do
	cp "$TMP/opener" "$TMP/names/$n"
	spawn /dev/null /dev/null "$TMP/names/$n" -rate 5
	wpids+=("$SPAWN_PID")
done
for p in "${wpids[@]}"; do
	secs=$(prom wait "goscope_goroutines{pid=\"$p\"}" --timeout 15) ||
		fail "process $p with an awkward name never reached Prometheus"
done
agent_page "$TMP/page5" || fail "GET /metrics failed"
check_v "the page with awkward executable names" page page "$TMP/page5" \
	--pid "${wpids[0]}=$n1=$gover" --pid "${wpids[1]}=$(printf '%062d?' 0 | tr 0 a)=$gover" \
	--pid "${wpids[2]}=bad??utf=$gover"
if command -v promtool >/dev/null 2>&1; then
	check "promtool check metrics accepts it" sh -c "promtool check metrics <'$TMP/page5'"
fi
t3=$(now)
sleep 6
check_v "Prometheus stored them with their names (label escaping), every scrape still up" \
	prom labels --from "$t3" --to "$(now)" --pid "${wpids[0]}=$n1=$gover" \
	--pid "${wpids[1]}=$(printf '%062d?' 0 | tr 0 a)=$gover" --pid "${wpids[2]}=bad??utf=$gover"
check_v "scrapes with awkward names" prom scrapes --from "$t3" --to "$(now)"

kill -0 "$apid" 2>/dev/null && pass "the agent is still running" || fail "the agent died: $(tail -3 "$TMP/agent.err")"
kill -TERM "$apid"
wait_exit "$apid" 20 || fail "the agent did not stop on SIGTERM"
expect_eq "SIGTERM after all that: exit status" "${WAIT_STATUS:-timeout}" 0
if [ "$(tail -n 1 "$TMP/agent.err")" = "goscope: agent stopping" ] &&
	! grep -qE 'Sanitizer|runtime error|ERROR' "$TMP/agent.err"; then
	pass "stderr ends with 'goscope: agent stopping', no sanitizer report ($(wc -l <"$TMP/agent.err") lines)"
else
	fail "agent stderr: $(head -c 800 "$TMP/agent.err")"
fi
finish
