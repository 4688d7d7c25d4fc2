# syscalls_lib.sh: helpers shared by tests/e2e/test_syscalls_*.sh (source it
# after lib.sh). They drive tests/go/syscalldiet, which makes a known set of
# system calls each time it gets SIGUSR1 (see its header).

SCCHECK() { "$PYTHON" "$E2E_DIR/syscalls_check.py" "$@"; }

# gs_wait_attached PID ERRFILE [SECONDS]: until the goscope process PID has
# printed its ready line ("goscope: tracing ...") on its stderr, ERRFILE:
# printed once its programs are attached and its targets are in the
# kernel's filter. False if it exits first or time runs out.
gs_wait_attached() {
	wait_line "$2" '^goscope: tracing ' "$1" "${3:-30}"
}

# diet_build: build tests/go/syscalldiet (static, CGO_ENABLED=0) into
# $TMP/syscalldiet.
diet_build() {
	CGO_ENABLED=0 go_build "$TMP/syscalldiet" syscalldiet
}

# diet_start NAME ARGS...: spawn $TMP/syscalldiet ARGS (output in
# $TMP/NAME.out) and wait for its ready line. Sets DIET_PID, DIET_GOID,
# DIET_TID, DIET_FIFO, DIET_OUT and DIET_ROUND=0.
diet_start() {
	local name=$1 line
	shift
	DIET_OUT=$TMP/$name.out
	spawn "$DIET_OUT" "$TMP/$name.err" "$TMP/syscalldiet" "$@"
	DIET_PID=$SPAWN_PID
	wait_line "$DIET_OUT" '^syscalldiet: ready' "$DIET_PID" 30 ||
		die "syscalldiet $* never ready: $(tail -3 "$TMP/$name.err")"
	line=$(grep '^syscalldiet: ready' "$DIET_OUT")
	DIET_GOID=$(sed -n 's/.* goid=\([0-9]*\).*/\1/p' <<<"$line")
	DIET_TID=$(sed -n 's/.* tid=\([0-9]*\).*/\1/p' <<<"$line")
	DIET_FIFO=$(sed -n 's/.* fifo=\([^ ]*\).*/\1/p' <<<"$line")
	DIET_ROUND=0
}

# diet_trigger [USR2]: one run of the diet (SIGUSR2: with -short-ms
# sleeps); waits for its done line and sets DIET_SLEEPS (the program's own
# durations of its sleeps, us, a,b,c), DIET_HELPER (the helper
# goroutine's id) and DIET_DIAL_REFUSED (its net.Dial calls refused).
diet_trigger() {
	local line
	DIET_ROUND=$((DIET_ROUND + 1))
	kill "-${1:-USR1}" "$DIET_PID"
	wait_line "$DIET_OUT" "^syscalldiet: done round=$DIET_ROUND " "$DIET_PID" 60 || return 1
	line=$(grep "^syscalldiet: done round=$DIET_ROUND " "$DIET_OUT")
	DIET_SLEEPS=$(sed -n 's/.* sleeps_us=\([0-9.,]*\).*/\1/p' <<<"$line")
	DIET_HELPER=$(sed -n 's/.* helper_goid=\([0-9]*\).*/\1/p' <<<"$line")
	DIET_DIAL_REFUSED=$(sed -n 's/.* dial_refused=\([0-9]*\).*/\1/p' <<<"$line")
}

# diet_round OUT ARGS...: `goscope syscalls -p $DIET_PID ARGS` (stdout to
# OUT, stderr to OUT.err) around exactly one run of the diet: started, seen
# attached, the diet triggered and finished, then goscope left to end (ARGS
# should hold -d). Sets GS_RC; false if goscope ended before the diet did
# (the counts would be short) or never attached. With --exact: the diet is
# one burst, which the default (sampled) view sees whole, in part or not
# at all; exact counts are compared with exact truths (test_syscalls_sampled
# checks the sampled view on steady programs).
diet_round() {
	local out=$1 gs
	shift
	rm -f "$out.err" # a ready line left by an earlier run must not count
	"$GOSCOPE" syscalls -p "$DIET_PID" --exact "$@" >"$out" 2>"$out.err" &
	gs=$!
	if ! gs_wait_attached "$gs" "$out.err"; then
		wait "$gs"
		GS_RC=$?
		log "goscope syscalls $* never attached (exit $GS_RC): $(head -3 "$out.err")"
		return 1
	fi
	if ! diet_trigger; then
		wait "$gs"
		GS_RC=$?
		log "the diet did not finish"
		return 1
	fi
	if ! kill -0 "$gs" 2>/dev/null; then
		wait "$gs"
		GS_RC=$?
		log "goscope syscalls $* ended before the diet did (machine too slow for -d?)"
		return 1
	fi
	wait "$gs"
	GS_RC=$?
	return 0
}

# strace_start OUT: `strace -f -c -p $DIET_PID` (every thread), summary to
# OUT; waits until it has attached. Sets STRACE_PID.
strace_start() {
	local out=$1 n=300
	strace -f -c -o "$out" -p "$DIET_PID" 2>"$out.err" &
	STRACE_PID=$!
	until grep -q 'attached' "$out.err" 2>/dev/null; do
		n=$((n - 1))
		[ $n -gt 0 ] && kill -0 "$STRACE_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	sleep 0.3
}

# strace_stop OUT: detach strace (it writes its summary); false if none.
strace_stop() {
	kill -INT "$STRACE_PID" 2>/dev/null
	wait "$STRACE_PID" # 130: strace detached on SIGINT
	grep -q '^% time' "$1"
}
