#!/usr/bin/env bash
# test_agent_gc: the agent's GC metrics (#11) against GODEBUG=gctrace=1 of
# the same program.
#
# Target: tests/go/gcload (GOGC=50, one worker: a few to tens of cycles a
# second; ReadMemStats every 100 ms: a "read mem stats" pause each), its
# stderr (gctrace) and stdout (memlog) stamped line by line with the wall
# clock as they arrive. The agent (--collectors gc, --interval 1) writes
# JSON lines whose "time" is the wall clock after each collection.
# - gc_cycles_total grows, between the first and the last JSON line, by the
#   number of gctrace lines stamped in that span (+-2: a line and its
#   cycle's event fall on both sides of an edge);
# - the heap goal and the live heap of the last line are gctrace's figures
#   (MB, rounded down) of one of the last two cycles before it, within 1 MB;
# - gc_assist_seconds_total grows as gctrace's assist CPU (the A of
#   "A+B/C/D ms cpu") summed over the same cycles, within 10% or 1 ms;
# - stw_pauses_total{"read mem stats"} grows by the program's ReadMemStats
#   calls in the span (+-2); the GC's own pauses, two a cycle;
# - on the /metrics page: goscope_gc_pause_seconds{phase} for the three
#   phases, each with non-decreasing buckets whose +Inf is its _count, the
#   sweep and mark termination counts equal to goscope_gc_cycles_total
#   (+-2), and the exposition well formed (agent_page.py page).
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/gcload" gcload || die "go build gcload"

STAMP='import sys, time
for l in sys.stdin:
    sys.stdout.write("%.6f %s" % (time.time(), l))
    sys.stdout.flush()'
spawn /dev/null /dev/null bash -c 'exec env GOGC=50 GODEBUG=gctrace=1 "$1" -workers 1 -pause 20ms \
	-memstats 100ms -memlog 2> >(exec "$2" -u -c "$3" >"$4") > >(exec "$2" -u -c "$3" >"$5")' \
	_ "$TMP/gcload" "$PYTHON" "$STAMP" "$TMP/trace" "$TMP/out"
gpid=$SPAWN_PID
wait_line "$TMP/out" 'gcload: ready' "$gpid" 60 || die "gcload never ready"

aport=$(free_port)
spawn "$TMP/a.out" "$TMP/a.err" "$GOSCOPE" agent --listen "127.0.0.1:$aport" --interval 1 \
	--exe gcload --collectors gc --json-lines "$TMP/a.jl"
apid=$SPAWN_PID
wait_ready "$TMP/a.err" "$apid" 60 || die "agent not ready: $(tail -3 "$TMP/a.err")"
wait_port 127.0.0.1 "$aport" "$apid" 30 || die "agent not serving"
sleep 8
curl -sf --max-time 5 "http://127.0.0.1:$aport/metrics" >"$TMP/page" || die "GET /metrics failed"
sleep 1.5
kill "$apid"
wait_exit "$apid" 10
sleep 0.3

check_v "the /metrics page is well formed, gcload on it" \
	page page "$TMP/page" --pid "$gpid=gcload=$(go version "$TMP/gcload" | awk '{ print $2 }')"

check_v "JSON lines against gctrace: cycles, heap goal and live, assist CPU, pauses" \
	"$PYTHON" - "$TMP/a.jl" "$TMP/trace" "$TMP/out" "$gpid" <<'EOF'
import json, re, sys
jl, trace, out, pid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
GC = re.compile(r"^gc (\d+) @[\d.]+s \d+%: [\d.+]+ ms clock, ([\d.]+)\+([\d.]+)/[\d.]+/[\d.]+\+[\d.]+ ms cpu, "
                r"(\d+)->(\d+)->(\d+) MB, (\d+) MB goal")
cyc = []
for l in open(trace):
    ts, _, rest = l.partition(" ")
    m = GC.match(rest)
    if m:
        cyc.append((float(ts), int(m.group(1)), float(m.group(3)), int(m.group(6)), int(m.group(7))))
calls = [float(l.split()[0]) for l in open(out) if " gcload: readmemstats " in l]
lines = [o for o in map(json.loads, open(jl)) if o.get("pid") == pid and "gc_cycles_total" in o]
rc = 0
def check(ok, msg):
    global rc
    print(("ok    " if ok else "FAIL  ") + msg)
    rc |= not ok
if len(lines) < 5:
    print("FAIL  only %d JSON lines with gc_cycles_total" % len(lines)); sys.exit(1)
a, b = lines[0], lines[-1]
span = [c for c in cyc if a["time"] < c[0] <= b["time"]]
d = b["gc_cycles_total"] - a["gc_cycles_total"]
check(len(span) >= 10 and abs(d - len(span)) <= 2,
      "gc_cycles_total +%d over %.1f s; gctrace: %d cycles (gc %s..%s)" %
      (d, b["time"] - a["time"], len(span), span[0][1] if span else "-", span[-1][1] if span else "-"))
before = [c for c in cyc if c[0] <= b["time"]][-2:]
hit = [c for c in before if abs(b["gc_heap_goal_bytes"] / 1048576.0 - c[4]) <= 1 and
       abs(b["gc_heap_live_bytes"] / 1048576.0 - c[3]) <= 1]
check(bool(hit), "heap goal %.2f MB, live %.2f MB; gctrace's last cycles: %s" %
      (b["gc_heap_goal_bytes"] / 1048576.0, b["gc_heap_live_bytes"] / 1048576.0,
       ", ".join("gc %d goal %d live %d" % (c[1], c[4], c[3]) for c in before)))
da = (b["gc_assist_seconds_total"] - a["gc_assist_seconds_total"]) * 1e3
ta = sum(c[2] for c in span)
check(abs(da - ta) <= max(0.1 * ta, 1.0), "assist CPU +%.2f ms; gctrace %.2f ms" % (da, ta))
rm = lambda o: o["stw_pauses_total"].get("read mem stats", 0)
dr = rm(b) - rm(a)
tr = len([t for t in calls if a["time"] < t <= b["time"]])
check(tr >= 20 and abs(dr - tr) <= 2, "\"read mem stats\" pauses +%d; the program's calls %d" % (dr, tr))
for r in ("GC sweep termination", "GC mark termination"):
    dg = b["stw_pauses_total"].get(r, 0) - a["stw_pauses_total"].get(r, 0)
    check(abs(dg - len(span)) <= 2, "\"%s\" pauses +%d; gctrace %d cycles" % (r, dg, len(span)))
sys.exit(rc)
EOF

check_v "pause histograms: three phases, buckets in order, +Inf = _count, GC phases = cycles" \
	"$PYTHON" - "$TMP/page" "$gpid" <<'EOF'
import re, sys
page, pid = sys.argv[1], sys.argv[2]
S = re.compile(r'^(goscope_gc_\w+)\{pid="%s",[^}]*?(?:phase="(\w+)")?(?:,le="([^"]+)")?\} (\S+)$' % pid)
h, cycles = {}, None
for l in open(page):
    m = S.match(l)
    if not m:
        continue
    name, ph, le, v = m.group(1), m.group(2), m.group(3), float(m.group(4))
    if name == "goscope_gc_cycles_total":
        cycles = v
    elif name.startswith("goscope_gc_pause_seconds_"):
        x = h.setdefault(ph, {"le": []})
        if le:
            x["le"].append((float(le), v))
        else:
            x[name.rsplit("_", 1)[1]] = v
rc = 0
if sorted(h) != ["mark_termination", "other", "sweep_termination"] or cycles is None:
    print("FAIL  phases %s, cycles %s" % (sorted(h), cycles)); sys.exit(1)
for ph, x in sorted(h.items()):
    les = x["le"]; vals = [v for _, v in les]
    ok = vals == sorted(vals) and les[-1][0] == float("inf") and les[-1][1] == x["count"] and x["sum"] >= 0
    if ph != "other":
        ok = ok and abs(x["count"] - cycles) <= 2
    print("%s  %s: %d pauses, %.3f ms in all (cycles %d)" % ("ok   " if ok else "FAIL ", ph, x["count"], x["sum"] * 1e3, cycles))
    rc |= not ok
sys.exit(rc)
EOF

kill "$gpid"
finish
