#!/usr/bin/env bash
# test_goroutines_sigquit: `goscope goroutines PID`, read from outside while
# the process runs, is the goroutine dump the Go runtime itself prints.
#
# Truth: the runtime's own dump of the same process (GOTRACEBACK=system,
# SIGQUIT sent right after goscope returns). Targets: tests/go/blockers
# built with Debian's go1.19 (static, -buildmode=pie, and cgo with a
# goroutine in C), and the released, stripped esbuild binaries built with
# Go 1.17 to 1.26 serving HTTP (--serve, after one request). For every
# goroutine id in both (the sets must be equal but for running/runnable
# goroutines), offcpu_gorcheck.py requires the same state / wait reason
# (goscope's "syscall: NAME" is the runtime's "syscall"), the same g
# address where the runtime prints gp= (Go 1.23+), and for every parked or
# in-syscall goroutine (stable: the process is idle) the same stack frame
# by frame: function names, file:line, inlined frames, pc of each physical
# frame (the runtime's goexit and "created by" lines aside). Counts are
# printed per binary.
. "$(dirname "$0")/lib.sh"

need_go

BLOCKERS_FUNCS=(--expect main.blockChanRecv --expect main.blockSelect --expect main.blockMutex
	--expect main.blockSleep --expect main.blockNetRead --expect main.blockPipeRead
	--expect main.recvOne --expect main.lockIt --expect main.sleepLong)

# compare LABEL PID ERR EXTRA_ARGS...: goscope goroutines, then SIGQUIT (the
# dump goes to the target's stderr, ERR), then the comparison.
compare() {
	local label=$1 pid=$2 err=$3 rc
	shift 3
	"$GOSCOPE" goroutines "$pid" >"$TMP/$label.gs" 2>"$TMP/$label.gserr"
	rc=$?
	kill -QUIT "$pid"
	if [ $rc -ne 0 ]; then
		fail "$label: goscope goroutines exit $rc: $(head -3 "$TMP/$label.gserr")"
		return
	fi
	if ! wait_exit "$pid" 30; then
		fail "$label: still alive 30 s after SIGQUIT"
		return
	fi
	expect_eq "$label: exit status after SIGQUIT" "$WAIT_STATUS" 2
	check_v "$label: goscope goroutines equals the runtime's SIGQUIT dump" \
		"$PYTHON" "$E2E_DIR/offcpu_gorcheck.py" "$TMP/$label.gs" "$err" --label "$label" "$@"
}

# --- blockers (go1.19) ---------------------------------------------------------
builds=()
go_build "$TMP/blockers" blockers && builds+=(blockers) || fail "go build blockers"
go_build "$TMP/blockers-pie" blockers -buildmode=pie && builds+=(blockers-pie) ||
	fail "go build -buildmode=pie blockers"
if CGO_ENABLED=1 go_build "$TMP/blockers-cgo" blockers -tags goscope_cgo 2>"$TMP/cgo.err"; then
	builds+=(blockers-cgo)
else
	log "no cgo build (no C compiler?): $(head -2 "$TMP/cgo.err")"
fi

for b in "${builds[@]}"; do
	spawn "$TMP/$b.out" "$TMP/$b.err" env GOTRACEBACK=system "$TMP/$b"
	pid=$SPAWN_PID
	if ! wait_line "$TMP/$b.out" '^blockers: ready' "$pid" 60; then
		fail "$b: never ready: $(tail -3 "$TMP/$b.err")"
		continue
	fi
	extra=()
	[ "$b" = blockers-cgo ] && extra=(--expect main.blockCgoSleep)
	compare "$b" "$pid" "$TMP/$b.err" "${BLOCKERS_FUNCS[@]}" "${extra[@]}" \
		--min-stacks 12
done

# --- esbuild --serve, Go 1.17 .. 1.26 ------------------------------------------
ESBUILDS=(0.13.15 0.14.49 0.17.19 0.22.0 0.23.1 0.25.12 0.27.7 0.28.2)
if ! command -v curl >/dev/null; then
	log "no curl: esbuild part not run"
	finish
fi
mkdir -p "$TMP/www"
echo "goscope e2e" >"$TMP/www/index.html"
n=0
for ver in "${ESBUILDS[@]}"; do
	bin=$TESTBINS/esbuild-$ver/esbuild
	if [ ! -x "$bin" ]; then
		log "esbuild $ver: not in $TESTBINS (scripts/testbins.sh)"
		continue
	fi
	n=$((n + 1))
	label=esbuild-$ver
	port=$(free_port)
	spawn "$TMP/$label.out" "$TMP/$label.err" env GOTRACEBACK=system \
		"$bin" --serve="127.0.0.1:$port" --servedir="$TMP/www"
	pid=$SPAWN_PID
	if ! wait_port 127.0.0.1 "$port" "$pid"; then
		fail "$label: not serving on port $port: $(tail -3 "$TMP/$label.err")"
		continue
	fi
	body=$(curl -fsS --max-time 10 "http://127.0.0.1:$port/index.html")
	expect_eq "$label: served a request" "$body" "goscope e2e"
	# After a build, esbuild starts a goroutine that sleeps ~250 ms
	# (pkg/api (*internalContext).rebuild.func1) and exits: let it go, so
	# that the process is idle when goscope and the runtime look at it.
	sleep 1.5
	compare "$label" "$pid" "$TMP/$label.err" \
		--expect 'net/http.(*Server).Serve' --expect 'internal/poll.(*FD).Accept' \
		--min-stacks 5
done
[ $n -gt 0 ] || log "no esbuild >= 0.13.15 in $TESTBINS: esbuild part not run"
finish
