#!/usr/bin/env bash
# test_offcpu_lifecycle: `goscope offcpu` over the life of a trace and on
# bad input.
#
# Target: tests/go/blockers (go1.19), whose main.blockSleep goroutine sleeps
# for the whole run: whatever window goscope reports on, that goroutine's
# [sleep] total must be the window (within 15%) — the truth each report is
# checked against.
# - target exits mid-trace (SIGKILL 3 s into -d 8): goscope exits 0, prints
#   the report (header says the pid "exited during the trace", blockSleep
#   row = the window, and the window <= the time the test let the target
#   live), and stderr says the pid exited;
# - Ctrl-C (SIGINT 2 s into a trace without -d): the report is printed,
#   exit 0, the target is alive, not stopped, and still answers
#   (`goscope goroutines` reads it, its blockers still parked);
# - -i 1 -d 3: exactly 3 reports (top and folded), each with blockSleep =
#   its own window;
# - no -p: every Go process is traced; the folded lines carry the
#   "exe (pid)" first frame, and blockers's stacks are there as
#   "blockers (PID);...;main.blockSleep;...;[sleep]";
# - bad input — a non-Go process, a pid that does not exist, a kernel
#   thread (pid 2), -f pprof without -o, an unknown -f, -d -1, an older Go
#   target (esbuild 0.11.23 is go1.16.3: needs Go >= 1.17), and a non-root
#   user (setpriv to 65534) tracing a root process: exactly one line on
#   stderr starting "goscope: " that names the problem, a non-zero exit
#   below 128 (no crash; sanitizer builds would add lines).
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/blockers" blockers || die "go build blockers"
report() { "$PYTHON" "$E2E_DIR/offcpu_report.py" "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

start_blockers() {
	spawn "$TMP/b$1.out" "$TMP/b$1.err" "$TMP/blockers"
	BPID=$SPAWN_PID
	wait_line "$TMP/b$1.out" '^blockers: ready' "$BPID" 60 ||
		die "blockers never ready: $(tail -3 "$TMP/b$1.err")"
}

# sleep_row FILE: check -f top report FILE: its blockSleep [sleep] total is
# its header's window within 15%. Prints the numbers.
sleep_row() {
	"$PYTHON" - "$1" <<'EOF'
import sys
sys.path.insert(0, __import__("os").environ["E2E_DIR"])
import offcpu_report as r
el, rows = r.parse_top(sys.argv[1])
mine = [x for x in rows if "main.blockSleep" in x["funcs"] and x["reason"] == "sleep"]
if el is None or len(mine) != 1:
    print("window %s, %d blockSleep rows" % (el, len(mine)))
    sys.exit(1)
t = mine[0]["total_us"] / 1e6
print("window %.2f s, main.blockSleep [sleep] %.3f s (%+.1f%%)" % (el, t, 100 * (t - el) / el))
sys.exit(0 if el > 0 and abs(t - el) <= 0.15 * el else 1)
EOF
}
export E2E_DIR

# --- the target exits mid-trace ---------------------------------------------
start_blockers 1
t0=$(now_ms)
spawn "$TMP/exit.out" "$TMP/exit.err" "$GOSCOPE" offcpu -p "$BPID" -d 8 -n 100
gpid=$SPAWN_PID
wait_line "$TMP/exit.err" '^goscope: tracing' "$gpid" 30 || die "offcpu never ready: $(cat "$TMP/exit.err")"
sleep 3
kill -KILL "$BPID"
lived=$(($(now_ms) - t0))
wait_exit "$BPID" 10
if wait_exit "$gpid" 30; then
	expect_eq "target killed mid-trace: goscope exit status" "$WAIT_STATUS" 0
	grep -q "pid $BPID .*exited during the trace" "$TMP/exit.out" &&
		pass "report header: pid $BPID exited during the trace" ||
		fail "report header lacks 'exited during the trace': $(head -3 "$TMP/exit.out")"
	grep -qE "^goscope: (offcpu: )?pid $BPID .*exited" "$TMP/exit.err" &&
		pass "stderr: $(grep -E "^goscope: (offcpu: )?pid $BPID" "$TMP/exit.err")" ||
		fail "stderr does not say pid $BPID exited: $(head -3 "$TMP/exit.err")"
	check_v "the report has what was collected: blockSleep = the window" sleep_row "$TMP/exit.out"
	el=$(sed -n 's/^goscope offcpu: .*, \([0-9.]*\) s, .*/\1/p' "$TMP/exit.out")
	awk -v e="$el" -v l="$lived" 'BEGIN { exit !(e > 0 && e * 1000 <= l + 100) }' &&
		pass "window $el s <= the $lived ms the target lived after goscope started" ||
		fail "window '$el' s, but the target lived $lived ms after goscope started"
else
	fail "goscope still running 30 s after its target was killed"
fi

# --- Ctrl-C -------------------------------------------------------------------
start_blockers 2
spawn "$TMP/int.out" "$TMP/int.err" "$GOSCOPE" offcpu -p "$BPID" -n 100
gpid=$SPAWN_PID
wait_line "$TMP/int.err" '^goscope: tracing' "$gpid" 30 || die "offcpu never ready: $(cat "$TMP/int.err")"
sleep 2
kill -INT "$gpid"
if wait_exit "$gpid" 30; then
	expect_eq "Ctrl-C: goscope exit status" "$WAIT_STATUS" 0
	check_v "Ctrl-C: the report is printed, blockSleep = the window" sleep_row "$TMP/int.out"
	state=$(awk '{print $3}' "/proc/$BPID/stat" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != T ] && [ "$state" != t ] && [ "$state" != Z ] &&
		pass "Ctrl-C: target alive and not stopped (state $state)" ||
		fail "Ctrl-C: target state '$state'"
	"$GOSCOPE" goroutines "$BPID" >"$TMP/int.gr" 2>&1 &&
		grep -q '^main.blockSleep' "$TMP/int.gr" &&
		pass "Ctrl-C: target still readable, blockSleep still parked" ||
		fail "Ctrl-C: goroutines after detach: $(head -3 "$TMP/int.gr")"
else
	fail "Ctrl-C: goscope still running 30 s after SIGINT"
fi

# --- -i 1 -d 3 ----------------------------------------------------------------
"$GOSCOPE" offcpu -p "$BPID" -i 1 -d 3 -n 100 >"$TMP/iv.top" 2>"$TMP/iv.err"
expect_eq "-i 1 -d 3: exit status" "$?" 0
expect_eq "-i 1 -d 3 -f top: reports" "$(grep -c '^goscope offcpu:' "$TMP/iv.top")" 3
awk -v dir="$TMP" '/^goscope offcpu:/ { n++ } n { print > (dir "/iv." n) }' "$TMP/iv.top"
for i in 1 2 3; do
	if [ -f "$TMP/iv.$i" ]; then
		check_v "-i 1 -d 3: report $i: blockSleep = its window" sleep_row "$TMP/iv.$i"
	else
		fail "-i 1 -d 3: no report $i"
	fi
done
"$GOSCOPE" offcpu -p "$BPID" -i 1 -d 3 -f folded >"$TMP/iv.folded" 2>"$TMP/iv.ferr"
expect_eq "-i 1 -d 3 -f folded: exit status" "$?" 0
expect_eq "-i 1 -d 3 -f folded: reports (blockSleep lines)" \
	"$(grep -c '^main\.blockSleep;.*\[sleep\] [0-9]*$' "$TMP/iv.folded")" 3

# --- no -p: every Go process --------------------------------------------------
"$GOSCOPE" offcpu -d 2 -f folded >"$TMP/all" 2>"$TMP/all.err"
expect_eq "no -p: exit status" "$?" 0
n=$(grep -c . "$TMP/all")
k=$(grep -cE '^[^;]+ \([0-9]+\);' "$TMP/all")
[ "$n" -gt 0 ] && [ "$n" = "$k" ] && pass "no -p: all $n lines start with 'exe (pid)'" ||
	fail "no -p: $k of $n lines start with 'exe (pid)'"
grep -qE "^blockers \($BPID\);(.*;)?main\.blockSleep;.*;\[sleep\] [0-9]+$" "$TMP/all" &&
	pass "no -p: $(grep -E "^blockers \($BPID\);.*main\.blockSleep" "$TMP/all" | cut -c1-100)..." ||
	fail "no -p: no 'blockers ($BPID);...main.blockSleep...[sleep]' line"
if [ -s "$TMP/all.err" ]; then log "no -p stderr: $(head -3 "$TMP/all.err" | tr '\n' ' ')"; fi

# --- bad input ----------------------------------------------------------------
# bad DESC REGEX CMD...: one 'goscope: ' line on stderr matching REGEX, exit
# status in 1..127.
bad() {
	local desc=$1 re=$2 rc lines
	shift 2
	timeout 60 "$@" >"$TMP/bad.out" 2>"$TMP/bad.err"
	rc=$?
	lines=$(grep -c '' "$TMP/bad.err")
	if [ $rc -ge 1 ] && [ $rc -lt 124 ] && [ "$lines" = 1 ] &&
		grep -qE "^goscope: .*($re)" "$TMP/bad.err"; then
		pass "$desc: exit $rc, $(cat "$TMP/bad.err")"
	else
		fail "$desc: exit $rc, $lines stderr lines (want 1 'goscope: ' line matching /$re/):"
		head -5 "$TMP/bad.err" | sed 's/^/        /'
	fi
}

spawn "$TMP/sleep.out" "$TMP/sleep.err" sleep 600
spid=$SPAWN_PID
for _ in $(seq 50); do [ "$(readlink "/proc/$spid/exe")" != "$(readlink -f "$BASH")" ] && break; sleep 0.1; done
nopid=999999
while [ -e "/proc/$nopid" ]; do nopid=$((nopid + 1)); done
bad "offcpu -p <sleep(1)>" "not a Go program" "$GOSCOPE" offcpu -p "$spid" -d 1
bad "offcpu -p $nopid" "no such process" "$GOSCOPE" offcpu -p "$nopid" -d 1
bad "offcpu -p 2 (kthreadd)" "kernel thread" "$GOSCOPE" offcpu -p 2 -d 1
bad "offcpu -f pprof without -o" "-o" "$GOSCOPE" offcpu -p "$BPID" -d 1 -f pprof
bad "offcpu -f bogus" "-f bogus: must be one of top, folded, pprof" "$GOSCOPE" offcpu -p "$BPID" -d 1 -f bogus
bad "offcpu -d -1" "-d -1: must be" "$GOSCOPE" offcpu -p "$BPID" -d -1
bad "goroutines $nopid" "no such process" "$GOSCOPE" goroutines "$nopid"
bad "goroutines 2 (kthreadd)" "kernel thread" "$GOSCOPE" goroutines 2
bad "goroutines <sleep(1)>" "not a Go program" "$GOSCOPE" goroutines "$spid"

old=$TESTBINS/esbuild-0.11.23/esbuild
if [ -x "$old" ]; then
	spawn "$TMP/old.out" "$TMP/old.err" "$old"
	opid=$SPAWN_PID
	if wait_read_stdin "$opid" 30; then
		bad "offcpu -p <esbuild 0.11.23, go1.16.3>" "1\\.17" "$GOSCOPE" offcpu -p "$opid" -d 1
		bad "goroutines <esbuild 0.11.23, go1.16.3>" "1\\.17" "$GOSCOPE" goroutines "$opid"
	else
		fail "esbuild 0.11.23 never waited on stdin"
	fi
else
	log "no esbuild 0.11.23 in $TESTBINS: the Go < 1.17 case not run"
fi

if ! command -v setpriv >/dev/null; then
	log "no setpriv: the non-root case not run"
elif [ "$(id -u)" != 0 ]; then
	log "not root: the non-root case not run"
elif ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$GOSCOPE"; then
	log "user 65534 cannot run $GOSCOPE: the non-root case not run"
else
	bad "offcpu as uid 65534 on a root process" "[Pp]ermission|CAP_SYS_PTRACE" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$GOSCOPE" offcpu -p "$BPID" -d 1
	bad "goroutines as uid 65534 on a root process" "[Pp]ermission|CAP_SYS_PTRACE" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$GOSCOPE" goroutines "$BPID"
fi

kill -0 "$BPID" 2>/dev/null && pass "blockers alive after all of it" || fail "blockers died"
finish
