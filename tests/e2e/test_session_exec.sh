#!/usr/bin/env bash
# test_session_exec: a traced process that execs (#16 item 7), for every
# tracing command built on the session.
#
# Target: tests/go/execer, which parks a goroutine in main.phaseOneWait,
# then execs either itself ("two": a new image with a goroutine in
# main.phaseTwoWait and 100 openat calls a second) or /bin/sleep (not Go).
# The truths: the program's own phases (it says when each is ready), and
# /proc/PID/exe.
# - offcpu across an exec into Go: stderr says the pid exec'd and goscope
#   follows it; the report has the new image's phaseTwoWait [sleep] stack,
#   and the old image's phaseOneWait stack too (collected before the exec);
# - syscalls across the same exec: openat calls of the new image counted
#   (>= 100 a second for the time after the exec, within what the method
#   guarantees: at least half of the program's own rate);
# - offcpu across an exec into /bin/sleep: stderr says it cannot be traced,
#   goscope ends (no Go target left) with exit 0 and a report.
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/execer" execer || die "go build execer"

start_execer() { # SECS NEXT
	spawn "$TMP/x.out" "$TMP/x.err" "$TMP/execer" one "$1" "$2"
	XPID=$SPAWN_PID
	wait_line "$TMP/x.out" '^execer: one ready' "$XPID" 60 || die "execer never ready"
}

# --- offcpu follows an exec into Go ------------------------------------------
start_execer 2 two
"$GOSCOPE" offcpu -p "$XPID" -d 5 -f folded >"$TMP/oc.out" 2>"$TMP/oc.err"
rc=$?
expect_eq "offcpu across exec: exit status" "$rc" 0
grep -qE "^goscope: offcpu: pid $XPID .*exec'd .*following it" "$TMP/oc.err" &&
	pass "offcpu: stderr says it follows the exec: $(grep "exec'd" "$TMP/oc.err")" ||
	fail "offcpu: stderr does not say it follows the exec: $(head -5 "$TMP/oc.err")"
grep -q 'main.phaseTwoWait' "$TMP/oc.out" &&
	pass "offcpu: the new image's main.phaseTwoWait is in the report" ||
	fail "offcpu: no main.phaseTwoWait in: $(head -5 "$TMP/oc.out")"
grep -q 'main.phaseOneWait' "$TMP/oc.out" &&
	pass "offcpu: the old image's main.phaseOneWait (before the exec) is in the report" ||
	fail "offcpu: no main.phaseOneWait in: $(head -5 "$TMP/oc.out")"
kill "$XPID" 2>/dev/null

# --- syscalls follows the same exec ---------------------------------------------
start_execer 1 two
"$GOSCOPE" syscalls -p "$XPID" -d 4 --json -e openat >"$TMP/sc.out" 2>"$TMP/sc.err"
rc=$?
expect_eq "syscalls across exec: exit status" "$rc" 0
n=$("$PYTHON" -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get("syscall") == "openat":
        n += o.get("count", 0)
print(n)' "$TMP/sc.out")
# 3 s after the exec at 100 a second: at least half of that.
[ "${n:-0}" -ge 150 ] && pass "syscalls: $n openat calls of the new image counted (>= 150)" ||
	fail "syscalls: $n openat calls counted after the exec (want >= 150): $(head -3 "$TMP/sc.out")"
grep -qE "^goscope: syscalls: pid $XPID .*exec'd" "$TMP/sc.err" &&
	pass "syscalls: stderr says the pid exec'd" ||
	fail "syscalls: stderr does not say the pid exec'd: $(head -5 "$TMP/sc.err")"
kill "$XPID" 2>/dev/null

# --- offcpu when the new image is not Go ------------------------------------------
start_execer 1.5 sleep
timeout 30 "$GOSCOPE" offcpu -p "$XPID" -d 20 >"$TMP/os.out" 2>"$TMP/os.err"
rc=$?
expect_eq "offcpu, exec into /bin/sleep: exit status" "$rc" 0
grep -qE "^goscope: offcpu: pid $XPID .*exec'd .*cannot be traced" "$TMP/os.err" &&
	pass "offcpu: stderr: $(grep "exec'd" "$TMP/os.err")" ||
	fail "offcpu: stderr does not say the new image cannot be traced: $(head -5 "$TMP/os.err")"
grep -q '^goscope offcpu:' "$TMP/os.out" && pass "offcpu: the report of what was collected is printed" ||
	fail "offcpu: no report: $(head -3 "$TMP/os.out")"
[ "$(readlink "/proc/$XPID/exe" 2>/dev/null)" = /usr/bin/sleep ] ||
	[ "$(readlink "/proc/$XPID/exe" 2>/dev/null)" = /bin/sleep ] &&
	pass "the target runs /bin/sleep now" || log "target exe: $(readlink "/proc/$XPID/exe" 2>/dev/null)"

finish
