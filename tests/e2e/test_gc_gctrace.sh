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
# GOMAXPROCS equal. Twice: the binary with DWARF and symbols (offsets from
# DWARF), and stripped (-s -w: the Go 1.19 table, runtime.work and
# runtime.gcController found by decoding gcMarkTermination).
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/gcload" gcload || die "go build gcload"
go_build "$TMP/gcload-stripped" gcload -ldflags="-s -w" || die "go build gcload stripped"

run_one() {
	local bin=$1 label=$2
	spawn "$TMP/$label.out" "$TMP/$label.trace" env GOGC=50 GODEBUG=gctrace=1 \
		"$bin" -workers 1 -pause 20ms
	local pid=$SPAWN_PID
	wait_line "$TMP/$label.out" '^gcload: ready' "$pid" 60 || die "$label never ready"
	"$GOSCOPE" gc -p "$pid" -d 3 --json >"$TMP/$label.json" 2>"$TMP/$label.err"
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
finish
