#!/usr/bin/env bash
# test_agent_http_restart: the agent's HTTP metrics over server restarts.
# An always-on agent sees processes come and go: a departed process's
# probe slots and routes are freed once read and reused by the next one
# (collect/funclat.c, recycle), which must then start from zero.
#
# Three rounds, each a new tests/go/httproutes process (the agent finds it
# by rediscovery), sent a different known mix (client's record): the
# scrape then shows, for the new pid, exactly that round's requests per
# route and status, the request histogram's _count the same, and no series
# of the pids before it.
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/httproutes" httproutes || die "go build tests/go/httproutes"
aport=$(free_port)
spawn "$TMP/a.out" "$TMP/a.err" "$GOSCOPE" agent --listen "127.0.0.1:$aport" --interval 1 \
	--exe httproutes --collectors health --http
apid=$SPAWN_PID
wait_ready "$TMP/a.err" "$apid" 60 || die "agent not ready: $(tail -3 "$TMP/a.err")"
wait_port 127.0.0.1 "$aport" "$apid" 30 || die "agent not serving"
scrape() { curl -sf --max-time 5 "http://127.0.0.1:$aport/metrics"; }

old=""
for round in 1 2 3; do
	spawn "$TMP/hr$round.out" "$TMP/hr$round.err" "$TMP/httproutes"
	hr=$SPAWN_PID
	wait_line "$TMP/hr$round.out" '^httproutes: listening' "$hr" 30 || die "httproutes $round did not start"
	addr=$(sed -n 's/^httproutes: listening on //p' "$TMP/hr$round.out")
	# Taken (and probed) once the agent renders a series of it.
	for _ in $(seq 100); do
		scrape 2>/dev/null | grep -q "^goscope_open_fds{pid=\"$hr\"" && break
		sleep 0.1
	done
	"$PYTHON" "$E2E_DIR/http_routes_load.py" "http://$addr" "GET:/code/200:$((round * 10)):code" \
		"GET:/code/404:$((round * 3)):*" "GET:/mix?c=500:$round:*" >"$TMP/client$round.json" ||
		fail "round $round: the client: $(cat "$TMP/client$round.json")"
	sleep 2.5
	scrape >"$TMP/page$round" || die "GET /metrics failed"
	check_v "round $round (pid $hr): the agent's counts = this round's requests, nothing of earlier pids" \
		"$PYTHON" - "$TMP/page$round" "$hr" "$TMP/client$round.json" "$old" <<'PY'
import json, re, sys
page, pid, old = open(sys.argv[1]).read(), sys.argv[2], sys.argv[4].split()
client = json.loads(open(sys.argv[3]).read().strip().splitlines()[-1])
want, got, cnt = {}, {}, {}
for key, e in client.items():
    d = want.setdefault(key.split("?")[0], {})
    for c, n in e["codes"].items():
        d[c] = d.get(c, 0) + n
stale = 0
for line in page.splitlines():
    m = re.match(r'^(goscope_http_\w+)\{(.*)\} (\S+)$', line)
    if not m:
        continue
    l = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
    if l["pid"] in old:
        stale += 1
    if l["pid"] != pid:
        continue
    r = f"{l['method']} {l['route']}"
    if m.group(1) == "goscope_http_requests_total":
        got.setdefault(r, {})[l["status"]] = int(float(m.group(3)))
    elif m.group(1) == "goscope_http_request_duration_seconds_count":
        cnt[r] = int(float(m.group(3)))
print(f"agent {got}\nclient {want}\n_count {cnt}; series of earlier pids: {stale}")
ok = got == want and cnt == {r: sum(d.values()) for r, d in want.items()} and stale == 0
sys.exit(0 if ok else 1)
PY
	kill "$hr"
	wait_exit "$hr" 10
	old="$old $hr"
	sleep 2.5 # the agent notices, reads the last window, frees the slot
done
kill -0 "$apid" && pass "the agent is still serving" || fail "the agent died"
finish
