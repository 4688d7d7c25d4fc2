#!/usr/bin/env bash
# test_agent_install: `make install DESTDIR=...` puts the agent's files where
# the systemd unit and the docs say, and what it installs works together.
#
# Truths:
# - the files and modes the Makefile's install target promises: the binary
#   (identical to ./goscope, 0755), the unit, agent.conf and the Grafana
#   dashboard (0644); a second install keeps an edited agent.conf;
# - the unit's ExecStart runs the binary where it was installed (default
#   PREFIX and PREFIX=/usr), and `systemd-analyze verify` (if present)
#   accepts the unit without a word (the ExecStart path pointed at DESTDIR);
# - the installed binary, run with the unit's ExecStart arguments and the
#   installed agent.conf (only --listen moved to a free port), under the
#   unit's CapabilityBoundingSet and NoNewPrivileges (setpriv), serves
#   /metrics with a Go program's goroutines and syscalls; the settings
#   agent.conf shows commented out are accepted too;
# - the dashboard is valid JSON, every metric name in its PromQL is one the
#   running agent exports, and (promtool, if present) every expression
#   parses as PromQL.
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/opener" opener || die "go build opener"

D=$TMP/root
make -s -C "$ROOT" install DESTDIR="$D" >"$TMP/make.out" 2>&1 || die "make install: $(tail -5 "$TMP/make.out")"
pass "make install DESTDIR=$D"
mode() { stat -c %a "$1" 2>/dev/null || echo missing; }
expect_eq "bin/goscope mode" "$(mode "$D/usr/local/bin/goscope")" 755
cmp -s "$D/usr/local/bin/goscope" "$ROOT/goscope" && pass "the installed binary is ./goscope" ||
	fail "the installed binary differs from ./goscope"
UNIT=$D/etc/systemd/system/goscope-agent.service
CONF=$D/etc/goscope/agent.conf
DASH=$D/usr/local/share/goscope/grafana-dashboard.json
expect_eq "goscope-agent.service mode" "$(mode "$UNIT")" 644
expect_eq "agent.conf mode" "$(mode "$CONF")" 644
expect_eq "grafana-dashboard.json mode" "$(mode "$DASH")" 644
cmp -s "$UNIT" "$ROOT/dist/goscope-agent.service" && cmp -s "$CONF" "$ROOT/dist/agent.conf" &&
	cmp -s "$DASH" "$ROOT/dist/grafana-dashboard.json" && pass "unit, agent.conf, dashboard as in dist/" ||
	fail "installed files differ from dist/"
echo "interval = 7 # edited" >>"$CONF"
make -s -C "$ROOT" install DESTDIR="$D" >"$TMP/make2.out" 2>&1 || fail "second make install failed"
grep -q '^interval = 7 # edited' "$CONF" && pass "a second make install keeps the edited agent.conf" ||
	fail "a second make install overwrote the edited agent.conf"
cp "$ROOT/dist/agent.conf" "$CONF"

# ExecStart must run the installed binary.
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
bin=${exec_start%% *}
[ -x "$D$bin" ] && pass "ExecStart runs $bin, which make install installed" ||
	fail "ExecStart runs $bin, not installed under $D"
make -s -C "$ROOT" install DESTDIR="$TMP/root-usr" PREFIX=/usr >"$TMP/make3.out" 2>&1 ||
	fail "make install PREFIX=/usr: $(tail -3 "$TMP/make3.out")"
bin_usr=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$TMP/root-usr/etc/systemd/system/goscope-agent.service")
[ -x "$TMP/root-usr$bin_usr" ] && pass "PREFIX=/usr: ExecStart runs $bin_usr, which make install installed" ||
	fail "PREFIX=/usr: ExecStart runs $bin_usr, but the binary went to /usr/bin/goscope"

if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$TMP/verify"
	sed "s|^ExecStart=$bin|ExecStart=$D$bin|" "$UNIT" >"$TMP/verify/goscope-agent.service"
	if systemd-analyze verify "$TMP/verify/goscope-agent.service" >"$TMP/verify.out" 2>&1 &&
		[ ! -s "$TMP/verify.out" ]; then
		pass "systemd-analyze verify: no complaint"
	else
		fail "systemd-analyze verify: $(head -5 "$TMP/verify.out")"
	fi
else
	log "no systemd-analyze: unit not verified"
fi

# The unit's command line, capabilities and config, for real.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
setpriv_caps=-all
for c in $caps; do
	c=${c#CAP_}
	setpriv_caps+=",+${c,,}"
done
read -r -a args <<<"${exec_start#* }"
for i in "${!args[@]}"; do
	[ "${args[i]}" = /etc/goscope/agent.conf ] && args[i]=$CONF
done
nnp=()
grep -q '^NoNewPrivileges=yes' "$UNIT" && nnp=(--no-new-privs)

spawn "$TMP/o.out" "$TMP/o.err" "$TMP/opener" -rate 50
opid=$SPAWN_PID
wait_line "$TMP/o.out" '^opener: pid=' "$opid" 30 || die "opener not running"
port=$(free_port)
spawn "$TMP/agent.out" "$TMP/agent.err" setpriv --bounding-set "$setpriv_caps" "${nnp[@]}" \
	"$D$bin" "${args[@]}" --listen "127.0.0.1:$port"
apid=$SPAWN_PID
log "setpriv --bounding-set $setpriv_caps ${nnp[*]} $D$bin ${args[*]} --listen 127.0.0.1:$port"
wait_port 127.0.0.1 "$port" "$apid" 30 || die "installed agent not serving: $(tail -3 "$TMP/agent.err")"
# agent.conf: interval 5; discovery at start.
got=0
for _ in $(seq 150); do
	curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" >"$TMP/page" 2>/dev/null &&
		grep -q "^goscope_goroutines{pid=\"$opid\"" "$TMP/page" &&
		grep -q "^goscope_syscalls_total{pid=\"$opid\".*syscall=\"openat\"" "$TMP/page" && { got=1; break; }
	sleep 0.1
done
[ $got = 1 ] && pass "under the unit's capabilities and config: the opener's goroutines and openat exported" ||
	fail "under the unit's capabilities and config: no goroutines/openat for the opener: $(tail -3 "$TMP/agent.err")"
grep -qvE '^goscope: (agent serving|tracing )' "$TMP/agent.err" &&
	fail "stderr of the installed agent: $(grep -vE '^goscope: (agent serving|tracing )' "$TMP/agent.err" | head -3)" ||
	pass "the installed agent says nothing but where it serves"

# The settings agent.conf shows commented out.
sed -e 's/^# \([a-z_]* = \)/\1/' -e "s|^json_lines = .*|json_lines = $TMP/agent.jsonl|" \
	-e 's/^listen = .*/listen = 127.0.0.1:'"$(free_port)"'/' "$CONF" >"$TMP/all.conf"
log "uncommented: $(grep -E '^(exe|cgroup|json_lines) =' "$TMP/all.conf" | tr '\n' ';')"
timeout --preserve-status -s INT 4 "$D$bin" agent --config "$TMP/all.conf" >"$TMP/all.out" 2>"$TMP/all.err"
rc=$?
[ $rc = 0 ] && [ "$(grep -vEc '^goscope: (agent s|tracing )' "$TMP/all.err")" = 0 ] &&
	pass "every setting agent.conf shows commented out is accepted" ||
	fail "agent.conf's commented settings: exit $rc, $(head -3 "$TMP/all.err")"

# The dashboard against what the agent exports.
check_v "the dashboard's metric names are exported by the agent" \
	page dashboard "$DASH" "$TMP/page" --rules "$TMP/dashboard-rules.yml"
if command -v promtool >/dev/null 2>&1; then
	check "promtool check rules: every dashboard expression parses as PromQL" \
		promtool check rules "$TMP/dashboard-rules.yml"
else
	log "no promtool: dashboard PromQL syntax not checked"
fi
finish
