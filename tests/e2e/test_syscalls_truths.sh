#!/usr/bin/env bash
# test_syscalls_truths: what `goscope syscalls` got wrong (issue #16),
# each against the program's own truth.
#
# Target: tests/go/syscalldiet (go1.19, static).
# 1. Go dials are non-blocking: connect(2) returns EINPROGRESS and the
#    outcome comes from getsockopt(SO_ERROR). N net.Dial calls to a closed
#    port are N connects failed with ECONNREFUSED — the program's own count
#    of dials whose error is ECONNREFUSED (errors.Is) — in the default view
#    (per-CPU array), with -e, and --by goid on the program's goroutine.
# 2. The runtime's own waits (goroutine 0: idle threads, the network
#    poller, sysmon) are apart from the program's: in a program whose one
#    busy goroutine only loops on time.Sleep (the runtime's timers wake it;
#    GOGC=off: no forced GC) every futex/nanosleep/epoll wait is
#    runtime_idle; K nanosleep(2) calls from the program's goroutine are K
#    calls outside goroutine 0 (its parameter), on its goroutine id with
#    --by goid, and the text table lists them before the runtime's section.
# 3. Stacks deeper than what the text shows (64 frames) say "(N frames
#    elided)" and keep the root (the goroutine's function, as the complete
#    JSON stack of the same call has it); a recursion of D calls
#    shows D+1 frames of it in JSON; deeper than the capture limit (127
#    frames) the event is marked stack_truncated and the text says
#    "(deeper frames not captured)".
# 4. In a pid namespace (unshare --pid --fork --mount-proc: the program is
#    pid 1 there), goscope run inside it (nsenter) with -p 1 counts the
#    program's calls (its parameters), not the host's pid 1's.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/syscalls_lib.sh"

need_go
diet_build || die "go build syscalldiet"

# 1. connect's outcome
N=5
Q=$(free_port)
diet_start dial -open 0 -missing 0 -refused 0 -sleeps 0 -forbid "127.0.0.1:$Q" -forbidden $N -dial net
i=0
for args in "" "-e connect,getsockopt" "--by goid"; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	if diet_round "$TMP/dial$i.json" -d 3 --json $args; then
		expect_eq "net.Dial x$N to a closed port: the program saw ECONNREFUSED each time" "$DIET_DIAL_REFUSED" $N
		key=()
		[ "$args" = "--by goid" ] && key=(--key goid --id "$DIET_GOID" --others-ok)
		check_v "syscalls --json $args: connect=$N, $N errors, ECONNREFUSED:$N (the outcome read at getsockopt(SO_ERROR), not EINPROGRESS)" \
			SCCHECK counts "$TMP/dial$i.json" "${key[@]}" connect=$N "connect!$N" connect:ECONNREFUSED=$N ||
			log "rows: $(grep -E '"(connect|getsockopt)"|summary' "$TMP/dial$i.json" | head -5)"
	else
		fail "syscalls $args around one dial run (exit $GS_RC)"
	fi
done

# 2. the runtime's waits apart from the program's
K=7
GOGC=off diet_start idle -open 0 -missing 0 -refused 0 -sleeps 0 -nanosleeps $K -ticker 10ms
"$GOSCOPE" syscalls -p "$DIET_PID" -d 2 --json >"$TMP/idle.json" 2>"$TMP/idle.err"
expect_eq "idle program, 2 s: exit status" "$?" 0
check_v "idle program (one goroutine in time.Sleep(10ms) loops): every futex/nanosleep/epoll wait is the runtime's (runtime_idle)" \
	SCCHECK idle "$TMP/idle.json" --waits-idle futex,nanosleep,epoll_pwait,epoll_wait,sched_yield
if diet_round "$TMP/nano.json" -d 3 --json; then
	check_v "$K nanosleep(2) from the program's goroutine: $K calls outside goroutine 0" \
		SCCHECK idle "$TMP/nano.json" --user nanosleep=$K
else
	fail "syscalls --json around one nanosleep run (exit $GS_RC)"
fi
if diet_round "$TMP/nano.goid.json" -d 3 --json --by goid; then
	check_v "--by goid: the $K nanosleeps on goroutine $DIET_GOID" \
		SCCHECK counts "$TMP/nano.goid.json" --key goid --id "$DIET_GOID" --others-ok nanosleep=$K
else
	fail "syscalls --by goid around one nanosleep run (exit $GS_RC)"
fi
if diet_round "$TMP/nano.txt" -d 3; then
	# the first nanosleep row is the program's, above the runtime's section
	got=$(awk '/^runtime, goroutine 0/ { rt = NR } $1 == "nanosleep" && !n { n = $2; at = NR }
		END { print n + 0, (rt && at > rt) ? "below" : "above" }' "$TMP/nano.txt")
	expect_eq "text: first nanosleep row (count, place against the runtime's section)" "$got" "$K above"
else
	fail "syscalls (text) around one nanosleep run (exit $GS_RC)"
fi
kill "$DIET_PID"

# 3. deep stacks
for D in 100 200; do
	diet_start "deep$D" -open 0 -missing 0 -refused 0 -sleeps 0 -deep $D -sleep-ms 25
	trunc=()
	[ $D = 200 ] && trunc=(--truncated)
	if diet_round "$TMP/deep$D.json" -d 3 --json --slow 20 -e clock_nanosleep; then
		want=$((D + 1))
		[ $D = 200 ] && want=125 # 127 captured: the syscall stub, syscall.Syscall6, 125 of the recursion
		check_v "recursion of $D: $want main.deepSleep frames in JSON${trunc:+, marked stack_truncated}" \
			SCCHECK deep "$TMP/deep$D.json" --syscall clock_nanosleep --func main.deepSleep \
			--frames $want "${trunc[@]}"
		# frames captured, and the root one (the goroutine's function)
		read -r nf root < <("$PYTHON" -c 'import json,sys
st = [o["stack"] for o in map(json.loads, open(sys.argv[1])) if o.get("event") == "slow"][0]
print(len(st), st[-1].split(" ")[0])' "$TMP/deep$D.json" 2>/dev/null || echo 0 -)
	else
		fail "syscalls --slow around a recursion of $D (exit $GS_RC)"
	fi
	if diet_round "$TMP/deep$D.txt" -d 3 --slow 20 -e clock_nanosleep; then
		if [ $D = 100 ]; then
			check_v "recursion of $D (text): '($((nf - 64)) frames elided)' ($nf frames), root $root kept" \
				SCCHECK deeptext "$TMP/deep$D.txt" --syscall clock_nanosleep --elided $((nf - 64)) \
				--last "$root"
		else
			check_v "recursion of $D (text): ends with '(deeper frames not captured)'" \
				SCCHECK deeptext "$TMP/deep$D.txt" --syscall clock_nanosleep --truncated
		fi
	else
		fail "syscalls --slow (text) around a recursion of $D (exit $GS_RC)"
	fi
	kill "$DIET_PID"
done

# 4. a pid namespace
if command -v unshare >/dev/null && command -v nsenter >/dev/null; then
	spawn "$TMP/ns.out" "$TMP/ns.err" unshare --pid --fork --mount-proc \
		"$TMP/syscalldiet" -open 9 -missing 3 -refused 0 -sleeps 2 -sleep-ms 5
	ushare=$SPAWN_PID
	wait_line "$TMP/ns.out" '^syscalldiet: ready' "$ushare" 30 || die "syscalldiet in a pid namespace never ready"
	nspid=$(sed -n 's/^syscalldiet: ready pid=\([0-9]*\).*/\1/p' "$TMP/ns.out")
	hostpid=$(pgrep -P "$ushare" | head -1)
	log "syscalldiet: pid $nspid in its namespace, $hostpid on the host"
	nsenter --target "$hostpid" --pid --mount -- "$GOSCOPE" syscalls -p "$nspid" --exact -d 4 --json \
		>"$TMP/ns.json" 2>"$TMP/ns.json.err" &
	gs=$!
	if gs_wait_attached "$gs" "$TMP/ns.json.err"; then
		kill -USR1 "$hostpid"
		wait_line "$TMP/ns.out" '^syscalldiet: done round=1 ' "$hostpid" 30 || fail "the diet did not finish"
		wait "$gs"
		expect_eq "syscalls -p $nspid inside the namespace: exit status" "$?" 0
		check_v "pid namespace: -p $nspid counts the program's calls (openat 12, ENOENT 3, clock_nanosleep 2), not the host's pid $nspid's" \
			SCCHECK counts "$TMP/ns.json" openat=12 openat:ENOENT=3 clock_nanosleep=2
		pids=$("$PYTHON" -c 'import json,sys
print(",".join(sorted({str(o["pid"]) for o in map(json.loads, open(sys.argv[1])) if "pid" in o})))' "$TMP/ns.json")
		expect_eq "pid namespace: rows carry the namespace's pid" "$pids" "$nspid"
	else
		wait "$gs"
		fail "goscope in the pid namespace never attached: $(head -3 "$TMP/ns.json.err")"
	fi
	# the namespace's init outlives unshare when unshare is killed: stop it here
	kill "$hostpid" 2>/dev/null
else
	log "no unshare/nsenter: pid namespace check not run"
fi

finish
