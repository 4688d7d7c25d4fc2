#!/usr/bin/env bash
# test_contention_contend: `goscope contention` on tests/go/contend (go1.19):
# 8 goroutines contending for main.hotMu (each holds it ~5 ms), main.coldMu
# locked by one goroutine only, and 4 senders blocked on a full channel of
# capacity 3.
#
# Truth: the program's own clock: every goroutine times its hotMu.Lock()
# calls and its blocked send (waits in progress included), printed on
# SIGUSR1 right after goscope's ready line and right after it returns.
# Checks: the hot mutex comes first, is a mutex named main.hotMu with >= 6
# waiters at most; its wait time per second within 15% of the program's;
# the full channel has exactly 4 senders, capacity 3, length 3, not
# closed, and wait per second within 15% of the program's (4 s/s);
# coldMu never appears; main.rw (2 readers waiting while a writer holds it)
# is an rwmutex with 2 waiters and main.wg (Wait on a WaitGroup never done)
# a waitgroup with 1, both named by .symtab at the object's own address
# (derived from the semaphore's); the 3 goroutines in cond.Wait (never
# signalled) are one cond group at their call site, main.condWaiter.
# --holders: hotMu is released (Unlock with a waiter) by main.contender as
# often as the program completes Lock calls (15%), rw by main.rwWriter. -f pprof opens in `go tool pprof -top` with
# main.contender in it; -f folded has the hot mutex as a leaf.
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/contend" contend || die "go build contend"
spawn "$TMP/contend.out" "$TMP/contend.err" "$TMP/contend"
pid=$SPAWN_PID
wait_line "$TMP/contend.out" '^contend: ready' "$pid" 60 || die "contend never ready: $(tail -3 "$TMP/contend.err")"

# --- JSON over 5 s, against the program's own clock --------------------------------
"$GOSCOPE" contention -p "$pid" -d 5 --json >"$TMP/ct.json" 2>"$TMP/ct.err" &
gs=$!
if wait_line "$TMP/ct.err" '^goscope: tracing' "$gs" 30; then
	kill -USR1 "$pid"
	wait "$gs"
	rc=$?
	kill -USR1 "$pid"
	expect_eq "contention --json exit status" "$rc" 0
	wait_line "$TMP/contend.out" '"seq":2' "$pid" 10 || fail "no second truth line"
	check_v "hot mutex first (>= 6 waiters, main.hotMu), full chan: 4 senders, cap 3, len 3; waits within 15% of the program's; main.rw, main.wg" \
		"$PYTHON" - "$TMP/ct.json" "$TMP/contend.out" <<'PY'
import json, sys, jstream
objs = jstream.load(sys.argv[1])
truth = [json.loads(l.split(" ", 2)[2]) for l in open(sys.argv[2]) if l.startswith("contend: truth")]
t1, t2 = truth[0], truth[1]
span = (t2["mono_ns"] - t1["mono_ns"]) / 1e9
summ = [o for o in objs if o["type"] == "summary"][0]
ob = [o for o in objs if o["type"] == "object"]
win = summ["window_s"]
bad = 0
hot = ob[0]
print("first object: %s %s %s waiters_max %d mean %.2f" % (hot["kind"], hot["addr"], hot["name"],
      hot["waiters_max"], hot["waiters_mean"]))
if hot["kind"] != "mutex" or hot["name"] != "main.hotMu" or hot["waiters_max"] < 6:
    bad += 1
    print("  FAIL: want the mutex main.hotMu with >= 6 waiters first")
rate_g = hot["wait_us"] / 1e6 / win
rate_t = (t2["hot_ns"] - t1["hot_ns"]) / 1e9 / span
print("hotMu: goscope %.3f s waited per s (%.2f s window), program %.3f (%.2f s): %+.1f%%" %
      (rate_g, win, rate_t, span, 100 * (rate_g / rate_t - 1)))
if abs(rate_g / rate_t - 1) > 0.15:
    bad += 1
    print("  FAIL: off by more than 15%")
ch = [o for o in ob if o["kind"] == "chan" and o["chan"].get("senders_max") == 4]
if len(ch) != 1:
    print("FAIL: %d channels with 4 senders" % len(ch))
    sys.exit(1)
c = ch[0]
print("full chan %s: senders %d receivers %d cap %s len %s closed %s waiters_max %d" % (
      c["addr"], c["chan"]["senders_max"], c["chan"]["receivers_max"], c["chan"].get("cap"),
      c["chan"].get("len"), c["chan"].get("closed"), c["waiters_max"]))
if (c["waiters_max"], c["chan"].get("cap"), c["chan"].get("len"), c["chan"].get("closed"),
        t2["chan_cap"], t2["chan_len"]) != (4, 3, 3, False, 3, 3):
    bad += 1
    print("  FAIL: want 4 waiters, cap 3, len 3, open")
rate_g = c["wait_us"] / 1e6 / win
rate_t = (t2["chan_ns"] - t1["chan_ns"]) / 1e9 / span
print("chan: goscope %.3f s waited per s, program %.3f: %+.1f%%" % (rate_g, rate_t, 100 * (rate_g / rate_t - 1)))
if abs(rate_g / rate_t - 1) > 0.15:
    bad += 1
    print("  FAIL: off by more than 15%")
if c["stack"][0].split()[0] != "main.sender":
    bad += 1
    print("  FAIL: chan stack %s" % c["stack"][:2])
if any(o.get("name") == "main.coldMu" for o in ob):
    bad += 1
    print("  FAIL: the uncontended main.coldMu is listed")
rwo = [o for o in ob if o.get("name") == "main.rw"]
wgo = [o for o in ob if o.get("name") == "main.wg"]
print("main.rw: %s; main.wg: %s" % (
      ["%s waiters_max %d" % (o["kind"], o["waiters_max"]) for o in rwo],
      ["%s waiters_max %d" % (o["kind"], o["waiters_max"]) for o in wgo]))
if len(rwo) != 1 or rwo[0]["kind"] != "rwmutex" or rwo[0]["waiters_max"] != 2:
    bad += 1
    print("  FAIL: want main.rw as one rwmutex with its 2 readers waiting")
if len(wgo) != 1 or wgo[0]["kind"] != "waitgroup" or wgo[0]["waiters_max"] != 1:
    bad += 1
    print("  FAIL: want main.wg as a waitgroup with 1 waiter")
co = [o for o in ob if o["kind"] == "cond"]
print("cond: %s" % ["%s waiters_max %d" % (o["site"], o["waiters_max"]) for o in co])
if len(co) != 1 or co[0]["waiters_max"] != 3 or not co[0]["site"].startswith("main.condWaiter "):
    bad += 1
    print("  FAIL: want one cond group of 3 waiters at main.condWaiter")
if not any(f.split()[0] == "main.contender" for f in hot["stack"]):
    bad += 1
    print("  FAIL: hot mutex stack %s" % hot["stack"])
sys.exit(1 if bad else 0)
PY
else
	fail "goscope contention never ready: $(head -3 "$TMP/ct.err")"
fi

# --- --holders: who releases hotMu and rw, against the program's Lock count ----------
"$GOSCOPE" contention -p "$pid" -d 3 --json --holders >"$TMP/ho.json" 2>"$TMP/ho.err" &
gs=$!
if wait_line "$TMP/ho.err" '^goscope: tracing' "$gs" 30; then
	kill -USR1 "$pid"
	wait "$gs"
	rc=$?
	kill -USR1 "$pid"
	expect_eq "contention --holders exit status" "$rc" 0
	wait_line "$TMP/contend.out" '"seq":4' "$pid" 10 || fail "no fourth truth line"
	check_v "--holders: hotMu released by main.contender (Unlock) as often as the program locks it (15%); rw by main.rwWriter" \
		"$PYTHON" - "$TMP/ho.json" "$TMP/contend.out" <<'PY'
import json, sys, jstream
objs = jstream.load(sys.argv[1])
truth = [json.loads(l.split(" ", 2)[2]) for l in open(sys.argv[2]) if l.startswith("contend: truth")]
t1, t2 = truth[2], truth[3]
span = (t2["mono_ns"] - t1["mono_ns"]) / 1e9
win = [o for o in objs if o["type"] == "summary"][0]["window_s"]
ob = {o.get("name"): o for o in objs if o["type"] == "object"}
hot, rw = ob["main.hotMu"], ob["main.rw"]
rate_g = hot.get("releases", 0) / win
rate_t = (t2["hot_n"] - t1["hot_n"]) / span
print("hotMu releases with a waiter: %.1f/s; the program's Lock calls: %.1f/s (%+.1f%%)" %
      (rate_g, rate_t, 100 * (rate_g / rate_t - 1)))
rel = hot.get("released_by", [])
print("hotMu released by: %s" % [r["stack"][:3] for r in rel])
print("rw released by: %s" % [r["stack"][:2] for r in rw.get("released_by", [])])
ok = abs(rate_g / rate_t - 1) <= 0.15
ok &= any(any(f.split()[0] == "main.contender" for f in r["stack"]) for r in rel)
ok &= any(any(f.split()[0] == "main.rwWriter" for f in r["stack"]) for r in rw.get("released_by", []))
sys.exit(0 if ok else 1)
PY
else
	fail "goscope contention --holders never ready: $(head -3 "$TMP/ho.err")"
fi

# --- pprof, folded, top ---------------------------------------------------------------
"$GOSCOPE" contention -p "$pid" -d 2 -f pprof -o "$TMP/ct.pb.gz" 2>"$TMP/pprof.err"
expect_eq "contention -f pprof exit status" "$?" 0
if go tool pprof -top -sample_index=delay "$TMP/ct.pb.gz" >"$TMP/pprof.top" 2>"$TMP/pprof.toperr"; then
	check "go tool pprof -top opens the profile: main.contender, delay in it" \
		grep -q 'main.contender' "$TMP/pprof.top"
	go tool pprof -raw "$TMP/ct.pb.gz" 2>/dev/null | grep -q 'contentions/count delay/nanoseconds' &&
		pass "sample types contentions/count, delay/nanoseconds" ||
		fail "sample types: $(go tool pprof -raw "$TMP/ct.pb.gz" 2>&1 | head -3)"
else
	fail "go tool pprof -top: $(head -3 "$TMP/pprof.toperr")"
fi
"$GOSCOPE" contention -p "$pid" -d 1 -f folded >"$TMP/ct.folded" 2>/dev/null
check "folded: main.contender;...;[mutex ... main.hotMu] N" \
	grep -qE 'main\.contender;.*\[mutex 0x[0-9a-f]+ main\.hotMu\] [0-9]+$' "$TMP/ct.folded"
"$GOSCOPE" contention -p "$pid" -d 1 >"$TMP/ct.txt" 2>/dev/null
check "top: first object is mutex main.hotMu" \
	awk '/^ *WAIT /{getline; exit ($0 ~ /mutex 0x[0-9a-f]+ main.hotMu/) ? 0 : 1}' "$TMP/ct.txt"
"$GOSCOPE" contention -p "$pid" -d 2.1 -i 1 >"$TMP/ct_i.txt" 2>/dev/null
expect_eq "contention -d 2.1 -i 1: reports" "$(grep -c '^goscope contention:' "$TMP/ct_i.txt")" 3
check "each full interval report has the hot mutex first" awk '
	/^ *WAIT / { getline; n++; if ($0 ~ /main.hotMu/) ok++ }
	END { exit (n == 3 && ok >= 2) ? 0 : 1 }' "$TMP/ct_i.txt"
"$GOSCOPE" contention -p "$pid" -f pprof >/dev/null 2>"$TMP/bad.err"
expect_eq "-f pprof without -o: exit 2" "$?" 2
finish
