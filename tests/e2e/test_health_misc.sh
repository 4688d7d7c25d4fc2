#!/usr/bin/env bash
# test_health_misc: `goscope health`'s command line and life cycle.
#
# - Bad input (a PID that no longer exists, a non-Go process, -d 0, -d x,
#   -i 0.05 (below the shared minimum 0.1), -p abc, an unknown option, an option without its argument, an
#   argument without -p): exactly one line on stderr starting with
#   "goscope: ", nothing on stdout, an exit status in 1..127.
# - A target that exits mid-window (tests/go/healthspin killed 0.5 s after
#   goscope's ready line, health -d 20): goscope says "pid N (...) exited; reporting what was collected"
#   on stderr, ends early (it has nothing left to watch) and exits 0 with
#   the report, marked "(exited)" in text, one object in JSON with
#   "exited": true; its fds are not shown as a count ("-1 open" was): the
#   text says the process exited, JSON has fd_count, fd_kinds and
#   rss_bytes null.
# - --json -i 1 -d 3: exactly 3 objects, each ~1 s long, interval_end
#   (wall clock) ~1 s apart, the keys the report promises (pid, runq_delay_us,
#   runq_p99_us, runq_delay_schedstat_us, cfs_periods,
#   cfs_throttled_periods, cfs_throttled_us, cfs_quota_us, gomaxprocs,
#   tcp_retransmits, tcp_rcvq_drops, tcp_listen_overflows, tcp_drop_reasons,
#   tcp_state_changes, major_faults, major_faults_proc, direct_reclaim_us,
#   oom_kills, fd_count, fd_growth_per_s, fd_leak_suspected, fd_kinds,
#   verdicts, rss_bytes) of the right JSON types, and pid the target's;
#   stderr holds the ready line alone.
# Truth: the contract above; the target's PID and life time.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"

need_go
health_go_build healthspin

# --- bad input ------------------------------------------------------------------------
# expect_error DESC ARGS...: `goscope health ARGS` fails by the contract.
expect_error() {
	local desc=$1 rc n why=
	shift
	"$GOSCOPE" health "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	n=$(wc -l <"$TMP/err")
	if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then
		why="exit status $rc"
	elif [ "$n" -ne 1 ]; then
		why="$n lines on stderr: $(head -c 400 "$TMP/err")"
	elif ! grep -q '^goscope: ' "$TMP/err"; then
		why="stderr does not start with 'goscope: ': $(cat "$TMP/err")"
	elif [ -s "$TMP/out" ]; then
		why="stdout not empty: $(head -c 200 "$TMP/out")"
	fi
	if [ -z "$why" ]; then
		pass "$desc: exit $rc, $(cat "$TMP/err")"
	else
		fail "$desc: $why"
	fi
}

sleep 0.01 &
gone=$!
wait "$gone"
while [ -d "/proc/$gone" ]; do gone=$((gone + 1)); done # not reused meanwhile
expect_error "no such pid ($gone)" -p "$gone" -d 1
spawn "$TMP/sleep.out" "$TMP/sleep.err" sleep 300
expect_error "a non-Go process (sleep, pid $SPAWN_PID)" -p "$SPAWN_PID" -d 1
if grep -q 'not a Go program' "$TMP/err"; then pass "non-Go: the message says so"; else fail "non-Go: $(cat "$TMP/err")"; fi
spawn "$TMP/s.out" "$TMP/s.err" "$TMP/healthspin" -g 1
spin=$SPAWN_PID
wait_line "$TMP/s.out" '^healthspin: ready' "$spin" 60 || die "healthspin never ready: $(tail -3 "$TMP/s.err")"
expect_error "-d 0" -p "$spin" -d 0
expect_error "-d x" -p "$spin" -d x
expect_error "-d -1" -p "$spin" -d -1
expect_error "-i 0.05" -p "$spin" -i 0.05 -d 1
expect_error "-p abc" -p abc -d 1
expect_error "unknown option --bogus" -p "$spin" --bogus
expect_error "unknown option -x" -p "$spin" -x
expect_error "-d without its argument" -p "$spin" -d
expect_error "an argument without -p" "$spin"
kill -STOP "$spin" # idle for the rest

# --- a target that exits mid-window ---------------------------------------------------------
for fmt in text json; do
	args=()
	[ $fmt = json ] && args=(--json)
	spawn "$TMP/e.out" "$TMP/e.err" "$TMP/healthspin" -g 1
	epid=$SPAWN_PID
	wait_line "$TMP/e.out" '^healthspin: ready' "$epid" 60 || die "healthspin never ready"
	gs_health "$TMP/x.$fmt" "$TMP/x.err" -p "$epid" -d 20 "${args[@]}"
	gs_wait_ready "$GS_PID" 60 || die "$fmt: goscope health never started: $(cat "$TMP/x.err")"
	hl_sleep 0.5
	kill -KILL "$epid" # exits mid-window, whatever goscope's start-up took
	t0=$EPOCHREALTIME
	gs_wait "$GS_PID" 60
	took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	gs_expect_ok "$fmt: target exits mid-window" "$TMP/x.err"
	grep -qE "^goscope: health: pid $epid \(.*healthspin\) exited; reporting what was collected$" "$TMP/x.err" &&
		pass "$fmt: stderr says pid $epid exited" ||
		fail "$fmt: stderr: $(cat "$TMP/x.err")"
	awk -v t="$took" 'BEGIN { exit !(t < 15) }' && pass "$fmt: ended early (${took} s after the exit, of -d 20)" ||
		fail "$fmt: took $took s, -d 20 (should end when its only target is gone)"
	if [ $fmt = text ]; then
		head -n 1 "$TMP/x.text" | grep -qE "^goscope health: pid $epid .* \(exited\)$" &&
			pass "text: the report is marked (exited)" || fail "text: report: $(head -n 3 "$TMP/x.text")"
		grep -q '^  scheduler ' "$TMP/x.text" && grep -q '^  fds ' "$TMP/x.text" &&
			pass "text: the report has its sections" || fail "text: incomplete report: $(cat "$TMP/x.text")"
		line=$(grep '^  fds ' "$TMP/x.text")
		case $line in
		*"-1 open"* | *" open ("*) fail "text: an exited process's fds shown as a count: $line" ;;
		*"the process exited"*) pass "text: fds say the process exited: $line" ;;
		*) fail "text: fds line: $line" ;;
		esac
	else
		expect_eq "json: one object" "$(jcount "$TMP/x.json")" 1
		exited= fd_count= fd_kinds= rss_bytes= pid=
		eval "$(jvars "$TMP/x.json" -1 pid exited fd_count fd_kinds rss_bytes)"
		expect_eq "json: its pid" "$pid" "$epid"
		expect_eq "json: exited" "$exited" true
		expect_eq "json: fd_count of an exited process" "$fd_count" null
		expect_eq "json: fd_kinds of an exited process" "$fd_kinds" null
		expect_eq "json: rss_bytes of an exited process" "$rss_bytes" null
	fi
done

# --- --json -i 1 -d 3 ----------------------------------------------------------------------
kill -CONT "$spin"
gs_health "$TMP/i.json" "$TMP/i.err" -p "$spin" --json -i 1 -d 3
gs_wait "$GS_PID" 60
gs_expect_ok "--json -i 1 -d 3" "$TMP/i.err"
[ "$(grep -vc '^goscope: tracing 1 process (pid' "$TMP/i.err")" = 0 ] ||
	fail "--json -i 1 -d 3: stderr: $(cat "$TMP/i.err")"
check_v "--json -i 1 -d 3: 3 objects, ~1 s each, the promised keys and types" \
	"$PYTHON" - "$TMP/i.json" "$spin" <<'EOF'
import sys
import jstream
pid = int(sys.argv[2])
objs = jstream.load(sys.argv[1])
num = (int, float)
keys = {
    "pid": int, "runq_delay_us": num, "runq_p99_us": num, "runq_delay_schedstat_us": num,
    "cfs_periods": int, "cfs_throttled_periods": int, "cfs_throttled_us": int,
    "cfs_quota_us": int, "gomaxprocs": int, "tcp_retransmits": int, "tcp_rcvq_drops": int,
    "tcp_listen_overflows": int, "tcp_drop_reasons": dict, "tcp_state_changes": int,
    "major_faults": int, "major_faults_proc": int, "direct_reclaim_us": num,
    "oom_kills": int, "fd_count": int, "fd_growth_per_s": num, "fd_leak_suspected": bool,
    "fd_kinds": dict, "verdicts": dict, "seconds": num, "interval_end": num,
    "rss_bytes": int, "exited": bool,
}
bad = []
if len(objs) != 3:
    bad.append("%d objects, want 3" % len(objs))
for n, o in enumerate(objs):
    for k, t in keys.items():
        if k not in o:
            bad.append("object %d: no key %s" % (n, k))
        elif not isinstance(o[k], t) or (t is not bool and isinstance(o[k], bool)):
            bad.append("object %d: %s=%r is not %s" % (n, k, o[k], t))
    if o.get("pid") != pid:
        bad.append("object %d: pid %r, want %d" % (n, o.get("pid"), pid))
    if not 0.5 <= o.get("seconds", 0) <= 2.5:
        bad.append("object %d: seconds %r, want ~1" % (n, o.get("seconds")))
    v = o.get("verdicts", {})
    for k in ("scheduler", "cpu_quota", "tcp", "memory", "fds"):
        if v.get(k) not in ("ok", "warn", "bad"):
            bad.append("object %d: verdicts.%s=%r" % (n, k, v.get(k)))
    if set(o.get("fd_kinds", {})) != {"socket", "file", "pipe", "anon"}:
        bad.append("object %d: fd_kinds %r" % (n, o.get("fd_kinds")))
total = sum(o.get("seconds", 0) for o in objs)
if not 2.8 <= total <= 4.5:
    bad.append("the 3 windows add up to %.2f s, want ~3" % total)
for b in bad:
    print(b)
print("%d objects: seconds %s" % (len(objs), [round(o.get("seconds", 0), 2) for o in objs]))
sys.exit(1 if bad else 0)
EOF

# interval_end: when each interval ended (wall clock), ~1 s apart.
check_v "--json -i 1 -d 3: interval_end increases by ~1 s (sub-second resolution)" \
	"$PYTHON" - "$TMP/i.json" <<'EOF'
import json, sys
import jstream
text = open(sys.argv[1]).read()
objs = jstream.load(sys.argv[1])
ends = [o.get("interval_end", 0) for o in objs]
raw = [l.strip() for l in text.split(",") if '"interval_end"' in l]
print("interval_end: %s (as printed: %s)" % (ends, raw))
steps = [b - a for a, b in zip(ends, ends[1:])]
sys.exit(0 if steps and all(0.5 <= d <= 2.5 for d in steps) else 1)
EOF

kill -0 "$spin" 2>/dev/null && pass "healthspin still running" || fail "healthspin died"
finish
