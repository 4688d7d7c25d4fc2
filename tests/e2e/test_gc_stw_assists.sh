#!/usr/bin/env bash
# test_gc_stw_assists: stop-the-world pauses other than the GC's, with the
# release's reason, and mark assists on the stacks of the goroutines that
# allocate.
#
# Pauses. tests/go/gcload -memstats 50ms -memlog calls runtime.ReadMemStats
# (a stop-the-world pause named "read mem stats" in Go 1.19: m.preemptoff)
# every 50 ms and prints each call's CLOCK_MONOTONIC start and end. Every
# call made between the first and the last GC cycle goscope gc --json -d 3
# reports has its "read mem stats" pause starting inside the call, every
# such pause is one of the program's calls, with stopping >= 0 and stopped
# > 0; and there are two GC pauses per cycle (+-2).
# Assists. With GOGC=5 and 4 workers allocating without pause, the
# goroutines are drafted into mark assists: assists are reported, mostly
# (>50% of the time) on stacks through main.worker, by more than one
# goroutine; the goroutines' assist times add up to gctrace's assist CPU
# (the A of "A+B/C/D ms cpu") summed over the cycles goscope reports,
# within 20%, and the probe-timed rounds are not less than that (they hold
# the probes' own cost, which goscope takes out: see README).
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/gcload" gcload || die "go build gcload"

spawn "$TMP/s.out" "$TMP/s.err" env GOGC=50 "$TMP/gcload" -workers 1 -pause 20ms \
	-memstats 50ms -memlog
pid=$SPAWN_PID
wait_line "$TMP/s.out" '^gcload: ready' "$pid" 60 || die "gcload never ready"
"$GOSCOPE" gc -p "$pid" -d 3 --json >"$TMP/stw.json" 2>"$TMP/stw.err"
expect_eq "gc -d 3 --json: exit status" "$?" 0
sleep 0.2
check_v "\"read mem stats\" pauses: one per ReadMemStats call of the program, inside it; GC pauses two per cycle" \
	"$PYTHON" -c "
import sys
from jstream import load
o = load('$TMP/stw.json')
stw = [x for x in o if x.get('event') == 'stw' and x['reason'] == 'read mem stats']
cyc = [x['start_ns'] for x in o if x.get('event') == 'cycle']
s = [x for x in o if x.get('event') == 'summary'][0]
calls = [tuple(map(int, l.split()[2:5])) for l in open('$TMP/s.out') if l.startswith('gcload: readmemstats')]
lo, hi = min(cyc), max(cyc)
inwin = [c for c in calls if lo <= c[1] and c[2] <= hi]
missed = [c for c in inwin if not any(c[1] <= e['start_ns'] <= c[2] for e in stw)]
foreign = [e for e in stw if not any(c[1] <= e['start_ns'] <= c[2] for c in calls)]
bad = [x for x in stw if x['stopped_us'] <= 0 or x['stopping_us'] < 0]
print('%d calls in the window, %d missed; %d pauses, %d not a call; %d cycles, %d GC pauses' % (len(inwin), len(missed), len(stw), len(foreign), len(cyc), s['gc_pauses']))
sys.exit(0 if len(inwin) >= 10 and not missed and not foreign and not bad and abs(s['gc_pauses'] - 2 * s['cycles']) <= 2 else 1)"
kill "$pid"

spawn "$TMP/a.out" "$TMP/a.trace" env GOGC=5 GODEBUG=gctrace=1 "$TMP/gcload" -workers 4 -live 16
pid=$SPAWN_PID
wait_line "$TMP/a.out" '^gcload: ready' "$pid" 60 || die "gcload never ready"
"$GOSCOPE" gc -p "$pid" -d 3 --json >"$TMP/assist.json" 2>"$TMP/assist.err"
expect_eq "GOGC=5: gc -d 3 --json: exit status" "$?" 0
sleep 0.3 # the last cycle's gctrace line
check_v "assists on the stacks through main.worker" \
	"$PYTHON" "$E2E_DIR/gc_check.py" assists "$TMP/assist.json" main.worker
check_v "assist time vs gctrace's assist CPU over the same cycles (within 20%)" \
	"$PYTHON" "$E2E_DIR/gc_check.py" assist-cpu "$TMP/a.trace" "$TMP/assist.json"
kill "$pid"
finish
