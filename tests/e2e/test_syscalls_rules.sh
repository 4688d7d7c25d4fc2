#!/usr/bin/env bash
# test_syscalls_rules: `goscope syscalls --rules FILE` raises one alert per
# connect attempt to an address the rules do not allow — with the address,
# the goroutine and the Go stack of the caller — and none for allowed ones;
# bad rules files, -e lists and targets are rejected with one line.
#
# Target: tests/go/syscalldiet (go1.19, static): per SIGUSR1, 4 connects to
# 127.0.0.1:P from main.connectAllowed, then 3 to 127.0.0.2:Q from
# main.connectForbidden. Rules: `allow connect 127.0.0.1 port P`. Truths:
# the program's parameters (3 forbidden attempts, 4 allowed), its own
# goroutine id (runtime.Stack) and function names, in three ways of
# connecting:
# - blocking connect(2) to a listening address (connect returns 0);
# - Go's net.Dial (non-blocking socket: connect returns EINPROGRESS, the
#   result comes later through SO_ERROR — how every Go program connects);
# - blocking connect(2) to a closed port (ECONNREFUSED): the attempt is what
#   the rules forbid, whatever its outcome.
# Rejections: each malformed file gives exactly one line
# `goscope: FILE:LINE: ...` naming the right line, nothing on stdout and a
# non-zero exit; likewise an unknown -e syscall, a pid that does not exist,
# a process that is not Go, and a kernel thread.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/syscalls_lib.sh"

need_go
diet_build || die "go build syscalldiet"

P=$(free_port)
Q=$(free_port)
RULES=$TMP/net.rules
printf '# only the local service\nallow connect 127.0.0.1 port %s   # P\n' "$P" >"$RULES"
FORBID=127.0.0.2:$Q

for mode in raw net refused; do
	args=(-open 0 -missing 0 -refused 0 -sleeps 0 -allow "127.0.0.1:$P" -allowed 4
		-forbid "$FORBID" -forbidden 3)
	case $mode in
	raw) args+=(-serve -dial raw) what="blocking connect(2), accepted" ;;
	net) args+=(-serve -dial net) what="net.Dial (EINPROGRESS)" ;;
	refused) args+=(-dial raw) what="blocking connect(2), refused" ;;
	esac
	diet_start "diet-$mode" "${args[@]}"
	if diet_round "$TMP/$mode.json" -d 3 --json --rules "$RULES"; then
		expect_eq "$what: syscalls --rules --json: exit status" "$GS_RC" 0
		check_v "$what: 3 alerts to $FORBID, goroutine $DIET_GOID, main.connectForbidden on the stack, none from main.connectAllowed" \
			SCCHECK alerts "$TMP/$mode.json" --count 3 --addr "$FORBID" --goid "$DIET_GOID" \
			--func main.connectForbidden --not-func main.connectAllowed
		check_v "$what: the 7 connects are counted" SCCHECK counts "$TMP/$mode.json" connect=7
	else
		fail "$what: syscalls --rules --json around one run (exit $GS_RC)"
	fi
	if [ $mode = raw ]; then
		if diet_round "$TMP/$mode.txt" -d 3 --rules "$RULES" -e connect; then
			expect_eq "$what: syscalls --rules (text): exit status" "$GS_RC" 0
			check_v "$what: 3 'ALERT connect to $FORBID not allowed by $RULES' lines with main.connectForbidden; 'alerts: 3'" \
				SCCHECK alertstext "$TMP/$mode.txt" --count 3 --addr "$FORBID" --rules "$RULES" \
				--func main.connectForbidden
		else
			fail "$what: syscalls --rules (text) around one run (exit $GS_RC)"
		fi
	fi
	kill "$DIET_PID" # frees the ports for the next mode
	wait_exit "$DIET_PID" 10 || die "syscalldiet ($mode) does not exit on SIGTERM"
done

# rate rules: the diet's 15 openats (10 + 5 missing) in a 2 s window are
# 7.5/s: over 2/s (one alert for the window), under 1000/s (none).
diet_start diet-rate -open 10 -missing 5 -refused 0 -sleeps 4
for lim in 2 1000; do
	printf 'rate openat %s/s\n' $lim >"$TMP/rate.rules"
	want=$([ $lim = 2 ] && echo 1 || echo 0)
	if diet_round "$TMP/rate$lim.json" -d 2 --json --rules "$TMP/rate.rules"; then
		got=$("$PYTHON" -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if "\"alert\"" in l]
print(len([e for e in ev if e.get("rule") == "rate" and e.get("syscall") == "openat"]),
      " ".join("%.1f/s" % e.get("rate_per_s", 0) for e in ev))' "$TMP/rate$lim.json")
		expect_eq "rate openat $lim/s: rate alerts (and rates seen)" "${got%% *}" "$want"
		[ -n "${got#* }" ] && log "alert rates: ${got#* }"
	else
		fail "rate openat $lim/s: syscalls --rules around one run (exit $GS_RC)"
	fi
done

# --- rejections: one line on stderr, nothing on stdout, non-zero exit -------

# rejected DESC REGEX GOSCOPE-ARGS...
rejected() {
	local desc=$1 re=$2 rc
	shift 2
	"$GOSCOPE" "$@" >"$TMP/rej.out" 2>"$TMP/rej.err"
	rc=$?
	if [ $rc -ne 0 ] && [ ! -s "$TMP/rej.out" ] && [ "$(wc -l <"$TMP/rej.err")" -eq 1 ] &&
		grep -qE "$re" "$TMP/rej.err"; then
		pass "$desc: exit $rc, '$(cat "$TMP/rej.err")'"
	else
		fail "$desc: exit $rc, stdout $(wc -c <"$TMP/rej.out") bytes, stderr: $(head -c 400 "$TMP/rej.err")"
	fi
}

pid=$DIET_PID
# bad_rules DESC LINE WHY CONTENT: the file is rejected at LINE with WHY.
bad_rules() {
	local f=$TMP/bad-$RANDOM.rules
	printf '%b' "$4" >"$f"
	rejected "rules: $1" "^goscope: syscalls: ${f//./\\.}:$2: .*$3" syscalls -p "$pid" -d 1 --rules "$f"
}
bad_rules "bad CIDR (/33)" 2 "bad address" '# comment\nallow connect 10.0.0.0/33 port 80\n'
bad_rules "bad address" 1 "bad address" 'allow connect 10.0.0.300 port 80\n'
bad_rules "unknown verb" 3 "unknown verb" '\n\nallow dial 10.0.0.0/8 port 80\n'
bad_rules "unknown rule" 1 "unknown rule" 'deny connect any\n'
bad_rules "bad port (70000)" 1 "bad port" 'allow connect 10.0.0.0/8 port 70000\n'
bad_rules "bad port range (80-70)" 1 "bad port" 'allow connect any port 80-70\n'
bad_rules "signed port (+80)" 1 "bad port" 'allow connect any port +80\n'
bad_rules "missing port for listen" 2 "needs 'port" 'allow listen port 8080\nallow listen\n'
bad_rules "bad rate (no /s)" 1 "bad rate" 'rate openat 10\n'
bad_rules "bad rate (0/s)" 1 "bad rate" 'rate openat 0/s\n'
bad_rules "bad rate (nan/s)" 1 "bad rate" 'rate openat nan/s\n'
bad_rules "unknown syscall in a rate" 1 "unknown syscall" 'rate nosuchcall 5/s\n'
rejected "rules: a file that does not exist" "^goscope: syscalls: $TMP/none\\.rules: No such file" \
	syscalls -p "$pid" -d 1 --rules "$TMP/none.rules"
rejected "-e with an unknown syscall" "^goscope: syscalls: -e openat,nosuchcall: unknown syscall or group 'nosuchcall'" \
	syscalls -p "$pid" -d 1 -e openat,nosuchcall
rejected "-e with an unknown group" "^goscope: syscalls: -e disk: unknown syscall or group 'disk'" \
	syscalls -p "$pid" -d 1 -e disk
rejected "-e with no name" "^goscope: syscalls: -e ,: empty syscall list ','" \
	syscalls -p "$pid" -d 1 -e ,

nopid=4000000
while [ -e "/proc/$nopid" ]; do nopid=$((nopid + 1)); done
rejected "a pid that does not exist" "^goscope: syscalls: no such process: $nopid\$" syscalls -p $nopid -d 1
spawn "$TMP/sleep.out" "$TMP/sleep.err" sleep 600
rejected "a process that is not Go (sleep)" "^goscope: syscalls: pid $SPAWN_PID .*not a Go program" \
	syscalls -p "$SPAWN_PID" -d 1
kthread=""
for d in /proc/[0-9]*; do
	p=${d#/proc/}
	[ "$p" -gt 1 ] || continue
	# PF_KTHREAD (0x00200000) in the flags field of /proc/PID/stat
	flags=$(awk '{ sub(/^.*\) /, ""); print $7 }' "$d/stat" 2>/dev/null) || continue
	if [ -n "$flags" ] && [ $((flags & 0x00200000)) -ne 0 ]; then
		kthread=$p
		break
	fi
done
if [ -n "$kthread" ]; then
	rejected "a kernel thread (pid $kthread)" "^goscope: syscalls: pid $kthread .*kernel thread" \
		syscalls -p "$kthread" -d 1
else
	log "no kernel thread visible in /proc: kernel-thread check not run"
fi

finish
