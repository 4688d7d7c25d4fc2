#!/usr/bin/env bash
# test_agent_goroutines: the agent's goroutine metrics (#14):
# goscope_goroutines{state} and goscope_goroutine_growth{created_by}.
#
# Target: tests/go/leaky, which leaks 10 goroutines a second from
# main.leakLoop (its own 100 ms ticker is the truth) and keeps a steady pool
# of 50 parked workers started by main.startPool.
# - goscope_goroutine_growth{created_by="main.leakLoop"} is 10/s within 20%
#   on two consecutive intervals (the method: least squares over the
#   interval's snapshots);
# - main.startPool is not exported as growing (|growth| < 1/s, or absent:
#   only sites that moved are exported), and at most 5 sites per process;
# - the states add up to the goroutine count of `goscope goroutines` read
#   right after the scrape (within what 10/s adds in the interval and until
#   the dump, + 5), and "waiting"
#   holds at least the pool's 50 and the leaked ones.
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/leaky" leaky || die "go build leaky"
spawn "$TMP/l.out" "$TMP/l.err" "$TMP/leaky"
lpid=$SPAWN_PID
wait_line "$TMP/l.out" '^leaky: ready' "$lpid" 60 || die "leaky never ready"

aport=$(free_port)
spawn "$TMP/a.out" "$TMP/a.err" "$GOSCOPE" agent --listen "127.0.0.1:$aport" --interval 2 \
	--exe leaky --collectors offcpu
apid=$SPAWN_PID
wait_ready "$TMP/a.err" "$apid" 60 || die "agent not ready: $(tail -3 "$TMP/a.err")"
wait_port 127.0.0.1 "$aport" "$apid" 30 || die "agent not serving"

scrape() { curl -sf --max-time 5 "http://127.0.0.1:$aport/metrics"; }
growth() { awk -v p="$lpid" -v s="$2" 'index($0, "goscope_goroutine_growth{pid=\"" p "\"") == 1 &&
	index($0, "created_by=\"" s "\"") { print $2 }' "$1"; }

sleep 5 # two intervals after the first page
for k in 1 2; do
	scrape >"$TMP/page$k" || die "GET /metrics failed"
	g=$(growth "$TMP/page$k" main.leakLoop)
	awk -v g="$g" 'BEGIN { exit !(g != "" && g >= 8 && g <= 12) }' &&
		pass "scrape $k: growth of main.leakLoop $g/s (program: 10/s, +-20%)" ||
		fail "scrape $k: growth of main.leakLoop '$g' (want 10/s +-20%)"
	p=$(growth "$TMP/page$k" main.startPool)
	awk -v g="$p" 'BEGIN { exit !(g == "" || (g > -1 && g < 1)) }' &&
		pass "scrape $k: the steady pool main.startPool is not growing ('${p:-absent}')" ||
		fail "scrape $k: main.startPool growth '$p'"
	n=$(grep -c "^goscope_goroutine_growth{pid=\"$lpid\"" "$TMP/page$k")
	[ "$n" -le 5 ] && pass "scrape $k: $n creation sites exported (<= 5)" ||
		fail "scrape $k: $n creation sites exported (want <= 5)"
	sleep 2
done

t0=$EPOCHREALTIME
scrape >"$TMP/page" || die "GET /metrics failed"
"$GOSCOPE" goroutines "$lpid" >"$TMP/gr" 2>"$TMP/gr.err"
t1=$EPOCHREALTIME
total=$(awk -v p="$lpid" 'index($0, "goscope_goroutines{pid=\"" p "\"") == 1 { s += $2 } END { print s + 0 }' "$TMP/page")
waiting=$(awk -v p="$lpid" 'index($0, "goscope_goroutines{pid=\"" p "\"") == 1 && /state="waiting"/ { print $2 }' "$TMP/page")
dump=$(grep -c '^goroutine ' "$TMP/gr")
# The page is up to one interval (2 s) older than the scrape, and the dump
# is taken up to t1 - t0 after it: 10 leaked goroutines a second in between.
d=$((dump - total))
dmax=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", 10 * (2 + b - a) + 5.999 }')
[ "$d" -ge -2 ] && [ "$d" -le "$dmax" ] &&
	pass "states add up to $total; goscope goroutines counts $dump just after (+$d: <= $dmax, 10/s over the 2 s interval and the $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s to the dump)" ||
	fail "states add up to $total, goscope goroutines counts $dump (+$d, want -2..$dmax)"
[ "${waiting:-0}" -ge 50 ] && pass "waiting: $waiting (>= the pool's 50)" || fail "waiting: '$waiting'"

finish
