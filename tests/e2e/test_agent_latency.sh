#!/usr/bin/env bash
# test_agent_latency: the agent's function and HTTP request metrics, set in
# its configuration file (`funclat = PATTERNS`, `http = true`).
#
# Targets: tests/go/funclat, whose round (SIGUSR1) makes exactly 20000
# main.tiny calls, 200 x 21 main.recur calls, 100 main.boom calls of which
# 50 panic (unwound), and 10 goroutines ending in runtime.Goexit inside
# main.goexiter (unwound), while main.sleep5 (5 ms sleeps) runs all along;
# and tests/go/httproutes answering a known mix of statuses, the client
# recording each (tests/e2e/http_routes_load.py).
# Checked on the scrape after the round, against those counts:
# - goscope_func_calls_total{func} exact for main.tiny, main.recur,
#   main.boom; goscope_func_unwound_total 50 for main.boom and 10 for
#   main.goexiter; the duration histogram's +Inf bucket and _count equal
#   the timed calls (main.tiny 20000), buckets never decrease, and
#   main.sleep5's calls fall between le=0.005 and le=0.05 (5 ms sleeps);
# - goscope_http_requests_total{method,route,status} equal to the client's
#   codes per route ("none": the handler wrote nothing, the client got
#   200); the request histogram's _count the route's requests, the 20 ms
#   /slowcode/503 requests above le=0.01;
# - goscope_probe_hits_total{collector} at least two hits per call/request;
# - the JSON lines (json_lines) carry the same counts per process;
# - funclat-max-funcs: a process matching more functions is left out (said
#   on stderr, no series), and the agent keeps serving;
# - the cost warning: main.hotFn called in a tight loop (-hot) with its
#   probes on costs the program most of its CPU: the agent says so on
#   stderr within its 10 s check, and goscope_probe_cpu_seconds_total is
#   the hits at 15 us each.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/funclat_lib.sh"

fl_prog_start
go_build "$TMP/httproutes" httproutes || die "go build tests/go/httproutes"
spawn "$TMP/hr.out" "$TMP/hr.err" "$TMP/httproutes"
hr=$SPAWN_PID
wait_line "$TMP/hr.out" '^httproutes: listening' "$hr" 30 || die "httproutes did not start"
addr=$(sed -n 's/^httproutes: listening on //p' "$TMP/hr.out")

aport=$(free_port)
cat >"$TMP/agent.conf" <<CONF
# test_agent_latency
listen = 127.0.0.1:$aport
interval = 1
exe = flprog, httproutes
collectors = health
funclat = main.tiny main.recur main.boom main.goexiter main.sleep5
http = true
json_lines = $TMP/agent.jsonl
CONF
spawn "$TMP/a.out" "$TMP/a.err" "$GOSCOPE" agent --config "$TMP/agent.conf"
apid=$SPAWN_PID
wait_ready "$TMP/a.err" "$apid" 60 || die "agent not ready: $(tail -3 "$TMP/a.err")"
wait_port 127.0.0.1 "$aport" "$apid" 30 || die "agent not serving"
scrape() { curl -sf --max-time 5 "http://127.0.0.1:$aport/metrics"; }

kill -USR1 "$FL_PID"
LOAD() { "$PYTHON" "$E2E_DIR/http_routes_load.py" "$@"; }
LOAD "http://$addr" GET:/code/200:120:code 'GET:/code/404:40:*' 'GET:/code/500:25:*' \
	'GET:/mix?c=200:30:*' 'GET:/mix?c=404:20:*' 'GET:/mix?c=500:10:*' \
	'GET:/slowcode/503:5:*' 'GET:/empty:30:*' >"$TMP/client.json" &&
	pass "the client got every response" || fail "the client: $(cat "$TMP/client.json")"
wait_line "$FL_OUT" '^funclat: round done' "$FL_PID" 120 || fail "the round did not finish"
sleep 3 # two intervals: the last calls and the Goexit sweep are in
scrape >"$TMP/page" || die "GET /metrics failed"

check_v "function metrics vs the program's own counts" "$PYTHON" - "$TMP/page" "$FL_PID" <<'PY'
import re, sys
page, pid = open(sys.argv[1]).read(), sys.argv[2]
def series(name):
    out = []
    for line in page.splitlines():
        m = re.match(r'^' + re.escape(name) + r'\{(.*)\} (\S+)$', line)
        if m:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
            if labels.get("pid") == pid:
                out.append((labels, float(m.group(2))))
    return out
def one(name, **want):
    v = [x for l, x in series(name) if all(l.get(k) == w for k, w in want.items())]
    return v[0] if len(v) == 1 else None
ok = True
def chk(cond, msg):
    global ok
    print(("ok   " if cond else "BAD  ") + msg)
    ok = ok and bool(cond)
for f, n in (("main.tiny", 20000), ("main.recur", 4200), ("main.boom", 100)):
    c = one("goscope_func_calls_total", func=f)
    chk(c == n, f"goscope_func_calls_total{{func={f}}} {c} (program: {n})")
for f, n in (("main.boom", 50), ("main.goexiter", 10), ("main.tiny", 0)):
    u = one("goscope_func_unwound_total", func=f)
    chk(u == n, f"goscope_func_unwound_total{{func={f}}} {u} (program: {n})")
for f, timed in (("main.tiny", 20000), ("main.recur", 4200), ("main.boom", 50)):
    b = sorted(((float(l["le"]) if l["le"] != "+Inf" else float("inf")), x)
               for l, x in series("goscope_func_duration_seconds_bucket") if l.get("func") == f)
    cnt = one("goscope_func_duration_seconds_count", func=f)
    mono = all(b[i][1] <= b[i + 1][1] for i in range(len(b) - 1))
    chk(b and b[-1][0] == float("inf") and b[-1][1] == cnt == timed and mono,
        f"{f}: histogram +Inf {b and b[-1][1]} = _count {cnt} = {timed} timed calls, buckets non-decreasing {mono}")
b = {l["le"]: x for l, x in series("goscope_func_duration_seconds_bucket") if l.get("func") == "main.sleep5"}
cnt = one("goscope_func_duration_seconds_count", func="main.sleep5")
chk(cnt and cnt > 20 and b.get("0.005", -1) <= 0.02 * cnt and b.get("0.05", 0) >= 0.9 * cnt,
    f"main.sleep5: {cnt} calls, le=0.005 {b.get('0.005')}, le=0.05 {b.get('0.05')} (5 ms sleeps)")
s = one("goscope_func_duration_seconds_sum", func="main.sleep5")
chk(cnt and s and 0.004 <= s / cnt <= 0.05, f"main.sleep5: mean {s and cnt and s / cnt:.4f} s")
sys.exit(0 if ok else 1)
PY

check_v "HTTP metrics vs the client's own record" "$PYTHON" - "$TMP/page" "$hr" "$TMP/client.json" <<'PY'
import json, re, sys
page, pid = open(sys.argv[1]).read(), sys.argv[2]
client = json.loads(open(sys.argv[3]).read().strip().splitlines()[-1])
def series(name):
    out = []
    for line in page.splitlines():
        m = re.match(r'^' + re.escape(name) + r'\{(.*)\} (\S+)$', line)
        if m:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
            if labels.get("pid") == pid:
                out.append((labels, float(m.group(2))))
    return out
want = {}
for key, e in client.items():
    route = key.split("?")[0]
    d = want.setdefault(route, {})
    for c, n in e["codes"].items():
        d[c] = d.get(c, 0) + n
got = {}
for l, x in series("goscope_http_requests_total"):
    d = got.setdefault(f"{l['method']} {l['route']}", {})
    st = "200" if l["status"] == "none" else l["status"]
    d[st] = d.get(st, 0) + int(x)
ok = True
for r in sorted(set(want) | set(got)):
    good = want.get(r) == got.get(r)
    print(("ok   " if good else "BAD  ") + f"{r}: agent {got.get(r)} client {want.get(r)}")
    ok = ok and good
cnt = {f"{l['method']} {l['route']}": x for l, x in series("goscope_http_request_duration_seconds_count")}
for r, d in want.items():
    good = cnt.get(r) == sum(d.values())
    print(("ok   " if good else "BAD  ") + f"{r}: histogram _count {cnt.get(r)}")
    ok = ok and good
b = {l["le"]: x for l, x in series("goscope_http_request_duration_seconds_bucket") if l["route"] == "/slowcode/503"}
good = b.get("0.01") == 0 and b.get("+Inf") == 5
print(("ok   " if good else "BAD  ") + f"/slowcode/503 (20 ms): le=0.01 {b.get('0.01')}, +Inf {b.get('+Inf')}")
sys.exit(0 if ok and good else 1)
PY

check_v "JSON lines: the same counts in the last object of each process" "$PYTHON" - "$TMP/agent.jsonl" "$FL_PID" "$hr" <<'PY'
import json, sys
last = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    last[str(o["pid"])] = o
f, h = last[sys.argv[2]], last[sys.argv[3]]
fn = f["funcs"]
print({k: (v["calls"], v["unwound"]) for k, v in fn.items()})
print({k: v["status"] for k, v in h["http"].items()})
ok = (fn["main.tiny"]["calls"] == 20000 and fn["main.boom"]["unwound"] == 50 and
      fn["main.boom"]["timed"] == 50 and h["http"]["GET /mix"]["status"] == {"200": 30, "404": 20, "500": 10} and
      h["http"]["GET /empty"]["status"] == {"none": 30} and h["http"]["GET /code/500"]["requests"] == 25)
sys.exit(0 if ok else 1)
PY

hits() { awk -v c="$2" 'index($0, "goscope_probe_hits_total{collector=\"" c "\"}") == 1 { print $2 }' "$1"; }
h=$(hits "$TMP/page" funclat)
awk -v h="$h" 'BEGIN { exit !(h >= 2 * (20000 + 4200 + 100)) }' &&
	pass "goscope_probe_hits_total{collector=funclat} $h (>= 2 per call)" || fail "funclat probe hits '$h'"
h=$(hits "$TMP/page" http)
awk -v h="$h" 'BEGIN { exit !(h >= 2 * 280) }' &&
	pass "goscope_probe_hits_total{collector=http} $h (>= 2 per request)" || fail "http probe hits '$h'"
kill -0 "$FL_PID" && kill -0 "$hr" && pass "both targets alive" || fail "a target died"
kill -INT "$apid"
wait_exit "$apid" 20 || fail "agent did not stop"

# The bound: 'main.*' matches more than 4 functions of the program.
aport=$(free_port)
spawn "$TMP/b.out" "$TMP/b.err" "$GOSCOPE" agent --listen "127.0.0.1:$aport" --interval 1 \
	--exe flprog --collectors health --funclat 'main.*' --funclat-max-funcs 4
bpid=$SPAWN_PID
wait_ready "$TMP/b.err" "$bpid" 60 || die "agent 2 not ready: $(tail -3 "$TMP/b.err")"
wait_port 127.0.0.1 "$aport" "$bpid" 30 || die "agent 2 not serving"
sleep 1.5
curl -sf --max-time 5 "http://127.0.0.1:$aport/metrics" >"$TMP/page2" || fail "agent 2: GET /metrics"
grep -q "pid $FL_PID (flprog) left out: .*more than" "$TMP/b.err" &&
	pass "--funclat-max-funcs 4: the process is left out: $(grep 'left out' "$TMP/b.err" | head -1)" ||
	fail "no 'left out' line: $(cat "$TMP/b.err")"
grep -q "^goscope_func_calls_total{pid=\"$FL_PID\"" "$TMP/page2" &&
	fail "series of a process left out" || pass "no goscope_func_calls_total series for it"
# (another test's flprog on the host may be tracked too)
grep -q "^goscope_open_fds{pid=\"$FL_PID\"" "$TMP/page2" && pass "still tracked by the other collectors" ||
	fail "tracked: $(grep '^goscope_tracked_processes' "$TMP/page2"); no goscope_open_fds for $FL_PID"
kill -INT "$bpid"
wait_exit "$bpid" 20 || fail "agent 2 did not stop"

# The cost warning, on a hot function.
kill "$FL_PID"
wait_exit "$FL_PID" 10
fl_prog_start -hot
aport=$(free_port)
spawn "$TMP/c.out" "$TMP/c.err" "$GOSCOPE" agent --listen "127.0.0.1:$aport" --interval 1 \
	--exe flprog --collectors health --funclat main.hotFn
cpid=$SPAWN_PID
wait_ready "$TMP/c.err" "$cpid" 60 || die "agent 3 not ready: $(tail -3 "$TMP/c.err")"
if wait_line "$TMP/c.err" 'agent: funclat: warning: .* probe hits/s take about [0-9]+% of the target.s CPU time' "$cpid" 30; then
	pass "hot function: $(grep warning "$TMP/c.err" | head -1)"
else
	fail "no cost warning: $(tail -3 "$TMP/c.err")"
fi
curl -sf --max-time 5 "http://127.0.0.1:$aport/metrics" >"$TMP/page3" || fail "agent 3: GET /metrics"
check_v "goscope_probe_cpu_seconds_total = hits x 15 us; hits ~ 2 per call" "$PYTHON" - "$TMP/page3" "$FL_PID" <<'PY'
import re, sys
page, pid = open(sys.argv[1]).read(), sys.argv[2]
hits = float(re.search(r'^goscope_probe_hits_total\{collector="funclat"\} (\S+)$', page, re.M).group(1))
cpu = float(re.search(r'^goscope_probe_cpu_seconds_total\{collector="funclat"\} (\S+)$', page, re.M).group(1))
calls = float(re.search(r'^goscope_func_calls_total\{pid="' + pid + r'".*func="main.hotFn"\} (\S+)$', page, re.M).group(1))
print(f"hits {hits:.0f} cpu {cpu:.3f} s calls {calls:.0f}")
# Hits and calls are read at different instants of a loop making ~70k hits/s:
# on a busy machine the reader can be descheduled between the two reads for
# a good part of a second, so the ratio is checked loosely (exits counted:
# well above one hit per call; never more than two).
ok = (abs(cpu - hits * 15e-6) <= 1e-6 * max(1, hits) and calls > 1000
      and 1.6 * calls <= hits <= 2 * calls * 1.2 + 10)
sys.exit(0 if ok else 1)
PY
kill -0 "$FL_PID" && pass "the hot program survived" || fail "the hot program died"
finish
