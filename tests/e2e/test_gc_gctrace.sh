#!/usr/bin/env bash
# test_gc_gctrace: every GC cycle `goscope gc` reports is the runtime's own,
# checked against GODEBUG=gctrace=1 of the same run.
#
# Target: tests/go/gcload (go1.19) with GOGC=50 and one worker pausing
# 20 ms every 2 MB: tens of cycles a second. goscope gc --json -d 3; then
# gc_check.py: each reported cycle carries a number gctrace printed, none
# missing between the first and the last, the sweep termination /
# concurrent mark / mark termination clock within 20% or 100 us of
# gctrace's, heap at start, end of mark, live and the goal within 1 MB,
# GOMAXPROCS equal, and the cycle forced by runtime.GC() (SIGUSR1 mid-trace)
# labelled forced exactly where gctrace says "(forced)". Twice: the binary with DWARF and symbols (offsets from
# DWARF), and stripped (-s -w: the Go 1.19 table, runtime.work and
# runtime.gcController found by decoding gcMarkTermination). Then the same
# check on Debian's etcd (stripped, go1.19.8) under GOGC=10, while a loop
# of curl puts (3 KB values) makes it allocate.
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/gcload" gcload || die "go build gcload"
go_build "$TMP/gcload-stripped" gcload -ldflags="-s -w" || die "go build gcload stripped"

run_one() {
	local bin=$1 label=$2
	spawn "$TMP/$label.out" "$TMP/$label.trace" env GOGC=50 GODEBUG=gctrace=1 \
		"$bin" -workers 1 -pause 20ms -heapprof "$TMP/$label.prof"
	local pid=$SPAWN_PID gs
	wait_line "$TMP/$label.out" '^gcload: ready' "$pid" 60 || die "$label never ready"
	"$GOSCOPE" gc -p "$pid" -d 3 --json >"$TMP/$label.json" 2>"$TMP/$label.err" &
	gs=$!
	wait_line "$TMP/$label.err" '^goscope: tracing' "$gs" 60 || die "$label: goscope never ready"
	sleep 1
	kill -USR1 "$pid" # runtime.GC(): a forced cycle
	wait "$gs"
	expect_eq "$label: goscope gc -d 3 --json exit status" "$?" 0
	sleep 0.3 # the last cycle's gctrace line
	check_v "$label: every cycle in gctrace with the same number, phases, heap, goal and procs" \
		"$PYTHON" "$E2E_DIR/gc_check.py" gctrace "$TMP/$label.trace" "$TMP/$label.json"
	check "$label: a summary with a verdict" \
		grep -q '"event":"summary".*"verdict"' "$TMP/$label.json"
	kill "$pid"
}

run_one "$TMP/gcload" dwarf
run_one "$TMP/gcload-stripped" stripped
check "stripped: no figure said to be unmeasured" \
	bash -c "! grep -q 'not measured' '$TMP/stripped.err'"

if command -v etcd >/dev/null && command -v curl >/dev/null; then
	cport=$(free_port)
	pport=$(free_port)
	spawn "$TMP/etcd.out" "$TMP/etcd.trace" env GOGC=10 GODEBUG=gctrace=1 etcd \
		--data-dir "$TMP/etcd" --listen-client-urls "http://127.0.0.1:$cport" \
		--advertise-client-urls "http://127.0.0.1:$cport" \
		--listen-peer-urls "http://127.0.0.1:$pport" \
		--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
		--initial-cluster "default=http://127.0.0.1:$pport" \
		--logger zap --log-outputs stdout # stderr: gctrace's lines alone, not cut by logs
	ep=$SPAWN_PID
	wait_port 127.0.0.1 "$cport" "$ep" || die "etcd not serving"
	"$GOSCOPE" gc -p "$ep" -d 5 --json >"$TMP/etcd.json" 2>"$TMP/etcd.err" &
	gs=$!
	wait_line "$TMP/etcd.err" '^goscope: tracing' "$gs" 60 || die "goscope gc never ready on etcd"
	val=$(head -c 3000 /dev/urandom | base64 -w0)
	i=0
	while kill -0 "$gs" 2>/dev/null; do
		curl -s --max-time 5 -o /dev/null -X POST "http://127.0.0.1:$cport/v3/kv/put" \
			-d "{\"key\":\"$(printf k%d $i | base64)\",\"value\":\"$val\"}" || true
		i=$((i + 1))
	done
	wait "$gs"
	expect_eq "etcd (Debian, stripped go1.19.8): goscope gc -d 5 --json exit status ($i puts)" "$?" 0
	sleep 0.3
	check_v "etcd: every cycle in gctrace with the same number, phases, heap, goal and procs" \
		"$PYTHON" "$E2E_DIR/gc_check.py" gctrace "$TMP/etcd.trace" "$TMP/etcd.json" --min-cycles 3
	kill "$ep"
else
	log "no etcd or curl: the Debian etcd case skipped"
fi
finish
