#!/usr/bin/env bash
# test_leaks_leaky: `goscope leaks` on tests/go/leaky (go1.19), which leaks
# 10 goroutines a second at one site (leakLoop -> leakOne, parked in chan
# send) and keeps a steady pool of 50 parked workers at another
# (startPool -> worker, chan receive).
#
# Truth: the program's own rate (a time.Ticker of 100 ms) and the runtime's
# SIGQUIT dump of the same process (GOTRACEBACK=system) sent right after
# goscope returns, grouped by "created by". Checks: the leaking site is the
# one suspect, growing 10/s +-20%; the pool is 50 goroutines and no
# suspect; goroutines per creation site equal the dump's (the leaking site
# may have grown meanwhile: up to 30 more); the text report lists the
# suspect first with its stack; -i gives one report per interval; bad
# input gives one goscope: line and exit 2 or 1.
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/leaky" leaky || die "go build leaky"

spawn "$TMP/leaky.out" "$TMP/leaky.err" env GOTRACEBACK=system "$TMP/leaky"
pid=$SPAWN_PID
wait_line "$TMP/leaky.out" '^leaky: ready' "$pid" 60 || die "leaky never ready: $(tail -3 "$TMP/leaky.err")"

# --- JSON, 6 s, then the runtime's own dump -------------------------------------
"$GOSCOPE" leaks -p "$pid" -d 6 --json >"$TMP/leaks.json" 2>"$TMP/leaks.err"
rc=$?
kill -QUIT "$pid"
expect_eq "goscope leaks --json exit status" "$rc" 0
grep -q '^goscope: tracing 1 process' "$TMP/leaks.err" && pass "ready line on stderr" ||
	fail "no ready line: $(head -3 "$TMP/leaks.err")"
wait_exit "$pid" 30 || fail "leaky still alive 30 s after SIGQUIT"
check_v "groups vs the SIGQUIT dump; leakLoop a suspect at 10/s, the pool of 50 not" \
	"$PYTHON" "$E2E_DIR/leaks_check.py" --json "$TMP/leaks.json" --dump "$TMP/leaky.err" \
	--growing main.leakLoop:30 --suspect main.leakLoop:10:0.2 \
	--not-suspect main.startPool:50
check "summary: 1 suspect, wait_since first_seen" "$PYTHON" -c '
import sys, jstream
o = jstream.load(sys.argv[1])
s = [x for x in o if x["type"] == "summary"][0]
g = [x for x in o if x["type"] == "group" and x["suspect"]]
assert s["suspects"] == 1, s
assert g[0]["reason"] == "chan send", g[0]
assert g[0]["stack"][0].startswith("main.leakOne "), g[0]["stack"]
assert g[0]["wait_objects"] >= g[0]["count"] - 2, g[0]
assert all(x["wait_since"] == "first_seen" for x in o if x["type"] == "group")
pool = [x for x in o if x["type"] == "group" and x["created_by"] == "main.startPool"][0]
assert pool["wait_object"] and pool["wait_objects"] == 1, pool
assert pool["oldest_wait_s"] >= 5.5 and pool["wait_lower_bound"], pool
' "$TMP/leaks.json"

# --- text, with -i ------------------------------------------------------------------
spawn "$TMP/leaky2.out" "$TMP/leaky2.err" "$TMP/leaky"
pid=$SPAWN_PID
wait_line "$TMP/leaky2.out" '^leaky: ready' "$pid" 60 || die "leaky never ready"
"$GOSCOPE" leaks -p "$pid" -d 4.2 -i 2 >"$TMP/leaks.txt" 2>"$TMP/leaks2.err"
expect_eq "goscope leaks -i 2 exit status" "$?" 0
expect_eq "reports printed (-d 4.2 -i 2)" "$(grep -c '^goscope leaks:' "$TMP/leaks.txt")" 3
check "text: the suspect first, created by main.leakLoop, stack main.leakOne" awk '
	/^SUSPECTS/ { s = 1; next }
	s == 1 && /created by main.leakLoop/ { c = 1 }
	s == 1 && c && /main.leakOne/ { ok = 1 }
	/^OTHER GROUPS/ { s = 0 }
	END { exit ok ? 0 : 1 }' "$TMP/leaks.txt"
check "text: grew in 2 successive intervals" grep -q 'grew in 2 successive intervals' "$TMP/leaks.txt"

# --- bad input: one goscope: line, exit 2 (option) or 1 (target); leaky runs on ----------
"$GOSCOPE" leaks -F 0 >/dev/null 2>"$TMP/bad1.err"
expect_eq "leaks -F 0: exit 2" "$?" 2
"$GOSCOPE" leaks -p 999999 -d 1 >/dev/null 2>"$TMP/bad2.err"
expect_eq "leaks -p 999999: exit 1" "$?" 1
"$GOSCOPE" leaks -p $$ -d 1 >/dev/null 2>"$TMP/bad3.err"
expect_eq "leaks -p <bash>: exit 1" "$?" 1
for f in bad1 bad2 bad3; do
	expect_eq "$f: one line starting goscope:" "$(wc -l <"$TMP/$f.err")/$(cut -c1-8 "$TMP/$f.err")" "1/goscope:"
done
kill -0 "$pid" 2>/dev/null && pass "leaky still running" || fail "leaky died"
finish
