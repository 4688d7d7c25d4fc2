#!/usr/bin/env bash
# test_agent_sampled: `goscope agent`'s syscalls collector is sampled by
# default (raw_syscalls attached 10% of the time, 100 ms windows at random
# offsets in each second) and its counters are estimates of the truth;
# syscalls_exact = true (config file) and --syscalls-duty 100 trace every
# call. Truth: tests/go/opener's own count of its openat(2) calls (paced at
# 1000/s, catching up when late; logged once a second, interpolated).
#
# - default, --interval 0.5 (half the collections see no window: the
#   interval is carried into the next one): the JSON lines' traced seconds
#   grow by 0.1 s per second (+-20%) and by >= 3.3 s over the ~40 s span (~4 s),
#   i.e. >= 33 windows; the estimated openat count over the span (from
#   the opener's second JSON line to its last: whole intervals) equals
#   the opener's own count within 10%. Why 10% holds: a window [a, a+W]
#   sees lambda*W - lambda*(lag(a+W) - lag(a)) calls (lag: how far the
#   paced opener is behind), so the sum over n windows errs by lambda *
#   sum(lag at start - lag at end), mean 0 (windows at random times), sd
#   sqrt(2n) * sigma_lag; relative to lambda*n*W that is sqrt(2/n) *
#   sigma_lag / W = 2.5% for n = 33 and a 10 ms lag spread on a busy machine
#   (plus +-1 call per window of 100: 1%): 10% is about 4 sd (two CPU hogs
#   beside it: -4.6% and +0.7% over 28 windows);
#   goscope_syscalls_sampling_duty on the page is in (0, 0.25] (one
#   collection's share: up to two windows and a late timer in 0.5 s... or
#   one window over a carried 1 s), its HELP says the counts are estimates,
#   and the page's histograms are consistent (+Inf = _count =
#   goscope_syscalls_total, buckets non-decreasing) though sampled;
# - a second opener started mid-interval (--interval 8): its first line's
#   openat estimate (its part of the interval, scaled by that part's own
#   wall / attached time) equals its own count from the line's
#   tracked_since within 30%;
# - syscalls_exact = true: every line's duty is 1, the traced seconds grow
#   with the wall clock (1 +-20%), and the openat count over ~10 s equals the
#   opener's own within 3% (the ends' timing only: lag and stamps, ms);
# - --syscalls-duty 100: the page's duty gauge is 1; --syscalls-duty 0 and
#   150: one "goscope: agent: --syscalls-duty ..." line, exit 2;
# - SIGTERM: exit 0, nothing on stderr but the agent's own lines.
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/opener" opener || die "go build opener"

jl_lines() { # jl_lines FILE PID: JSON lines of PID so far
	grep -c "\"pid\":$2," "$1" 2>/dev/null || true
}
wait_jl() { # wait_jl FILE PID N AGENTPID SECONDS: until PID has N lines
	local n=$((${5} * 10))
	while [ "$(jl_lines "$1" "$2")" -lt "$3" ]; do
		kill -0 "$4" 2>/dev/null || return 1
		[ $n -gt 0 ] || return 1
		sleep 0.1
		n=$((n - 1))
	done
}

spawn "$TMP/o.out" "$TMP/o.err" "$TMP/opener" -rate 1000
opid=$SPAWN_PID
wait_line "$TMP/o.out" '^opener: t=' "$opid" 30 || die "opener not running: $(tail -3 "$TMP/o.err")"

# --- the default: sampled ---------------------------------------------------------
aport=$(free_port)
spawn "$TMP/a.out" "$TMP/a.err" "$GOSCOPE" agent --listen "127.0.0.1:$aport" --interval 0.5 \
	--exe opener --collectors syscalls --json-lines "$TMP/a.jl"
apid=$SPAWN_PID
wait_port 127.0.0.1 "$aport" "$apid" 30 || die "agent not serving: $(tail -3 "$TMP/a.err")"
wait_jl "$TMP/a.jl" "$opid" 2 "$apid" 30 || die "no JSON lines for the opener: $(tail -3 "$TMP/a.err")"
sleep 42
curl -sf --max-time 10 "http://127.0.0.1:$aport/metrics" >"$TMP/page" || fail "GET /metrics failed"
check_v "default (sampled): traced share and openat estimate vs the opener's own count" \
	page sampled "$TMP/a.jl" --pid "$opid" --truth-log "$TMP/o.out" --syscall openat \
	--duty 0.1 --tol 0.10 --min-traced 3.3
duty=$(awk '/^goscope_syscalls_sampling_duty / { print $2 }' "$TMP/page")
if awk -v d="$duty" 'BEGIN { exit !(d > 0 && d <= 0.25) }'; then
	pass "goscope_syscalls_sampling_duty on the page: $duty (in (0, 0.25])"
else
	fail "goscope_syscalls_sampling_duty on the page: '$duty' (want in (0, 0.25])"
fi
grep -q '^# HELP goscope_syscalls_sampling_duty .*estimates' "$TMP/page" &&
	grep -q '^# HELP goscope_syscalls_total .*estimate' "$TMP/page" &&
	pass "HELP of the duty gauge and of goscope_syscalls_total say the counts are estimates" ||
	fail "HELP lines do not say the counts are estimates: $(grep -E '^# HELP goscope_syscalls_(total|sampling)' "$TMP/page")"
check_v "the sampled page (histograms consistent with the counters)" \
	page page "$TMP/page" --pid "$opid=opener=$(go version "$TMP/opener" | awk '{ print $2 }')"
kill -TERM "$apid"
wait_exit "$apid" 20 || fail "the agent did not stop on SIGTERM"
expect_eq "sampled agent: exit status" "${WAIT_STATUS:-timeout}" 0
grep -vqE '^goscope: (agent serving|tracing |agent stopping)' "$TMP/a.err" &&
	fail "sampled agent's stderr: $(grep -vE '^goscope: (agent serving|tracing |agent stopping)' "$TMP/a.err" | head -5)" ||
	pass "sampled agent's stderr: only the serving, tracing and stopping lines (no sanitizer report)"

# --- a process discovered during an interval ----------------------------------------
# --interval 8 (8 windows an interval); a second opener started ~3 s into
# an interval is found by the agent's rediscovery (every 2 s) mid-interval:
# its first line covers only its part of the interval, scaled by that
# part's own wall / attached time (2-5 windows: the tolerance is wide, 30%,
# ~3.5 sd of the pacing lag's error; scaled by the whole interval's ratio,
# the count could be off by the share of windows that fell before it).
aport=$(free_port)
spawn "$TMP/j.out" "$TMP/j.err" "$GOSCOPE" agent --listen "127.0.0.1:$aport" --interval 8 \
	--exe opener --collectors syscalls --json-lines "$TMP/j.jl"
jpid=$SPAWN_PID
wait_port 127.0.0.1 "$aport" "$jpid" 30 || die "agent (--interval 8) not serving: $(tail -3 "$TMP/j.err")"
wait_jl "$TMP/j.jl" "$opid" 1 "$jpid" 30 || die "agent (--interval 8): no line for the first opener"
sleep 3
spawn "$TMP/o2.out" "$TMP/o2.err" "$TMP/opener" -rate 1000
o2pid=$SPAWN_PID
wait_jl "$TMP/j.jl" "$o2pid" 1 "$jpid" 30 || die "agent (--interval 8): no line for the second opener"
check_v "a process found mid-interval: its first line's openat estimate vs its own count since tracked_since" \
	page joined "$TMP/j.jl" --pid "$o2pid" --truth-log "$TMP/o2.out" --syscall openat --interval 8 --tol 0.30
kill -TERM "$jpid" "$o2pid"
wait_exit "$jpid" 20 || fail "the agent (--interval 8) did not stop on SIGTERM"

# --- syscalls_exact = true in the config file -----------------------------------------
printf 'interval = 1\nsyscalls_exact = true\n' >"$TMP/exact.conf"
aport=$(free_port)
spawn "$TMP/x.out" "$TMP/x.err" "$GOSCOPE" agent --config "$TMP/exact.conf" \
	--listen "127.0.0.1:$aport" --exe opener --collectors syscalls --json-lines "$TMP/x.jl"
xpid=$SPAWN_PID
wait_port 127.0.0.1 "$aport" "$xpid" 30 || die "exact agent not serving: $(tail -3 "$TMP/x.err")"
wait_jl "$TMP/x.jl" "$opid" 12 "$xpid" 40 || die "exact agent: too few JSON lines: $(tail -3 "$TMP/x.err")"
check_v "syscalls_exact = true: every call, openat = the opener's own count" \
	page sampled "$TMP/x.jl" --pid "$opid" --truth-log "$TMP/o.out" --syscall openat \
	--duty 1 --tol 0.03
kill -TERM "$xpid"
wait_exit "$xpid" 20 || fail "the exact agent did not stop on SIGTERM"

# --- --syscalls-duty 100, and out of range --------------------------------------------
aport=$(free_port)
spawn "$TMP/h.out" "$TMP/h.err" "$GOSCOPE" agent --syscalls-duty 100 --listen "127.0.0.1:$aport" \
	--exe opener --collectors syscalls --interval 1
hpid=$SPAWN_PID
wait_port 127.0.0.1 "$aport" "$hpid" 30 || die "--syscalls-duty 100 agent not serving"
sleep 1.5
curl -sf --max-time 10 "http://127.0.0.1:$aport/metrics" >"$TMP/page100" || fail "GET /metrics failed"
expect_eq "--syscalls-duty 100: goscope_syscalls_sampling_duty" \
	"$(awk '/^goscope_syscalls_sampling_duty / { print $2 }' "$TMP/page100")" 1
kill -TERM "$hpid"
wait_exit "$hpid" 20 || fail "the agent did not stop on SIGTERM"
for v in 0 150; do
	timeout 20 "$GOSCOPE" agent --syscalls-duty "$v" >"$TMP/bad.out" 2>"$TMP/bad.err"
	rc=$?
	if [ "$rc" = 2 ] && [ "$(wc -l <"$TMP/bad.err")" = 1 ] &&
		grep -q "^goscope: agent: --syscalls-duty $v: must be 1\\.\\.100" "$TMP/bad.err"; then
		pass "--syscalls-duty $v: exit 2, $(cat "$TMP/bad.err")"
	else
		fail "--syscalls-duty $v: exit $rc, $(head -c 300 "$TMP/bad.err")"
	fi
done
finish
