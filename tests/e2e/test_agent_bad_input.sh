#!/usr/bin/env bash
# test_agent_bad_input: `goscope agent` refuses bad settings with one clear
# line, keeps serving when some process cannot be traced, and stops cleanly.
#
# Truths:
# - a port already taken (this test listens on it first): exactly one
#   stderr line "goscope: cannot listen on ADDR:PORT: Address already in
#   use" (the kernel's EADDRINUSE), a non-zero exit below 128, at once;
# - a malformed --config FILE (unknown key, bad or out-of-range interval,
#   listen without a port / with port 0 or 70000 / with a host name,
#   unknown collector, a line without '=', offcpu_freq, max_processes and
#   syscalls_duty out of range, syscalls_exact not a boolean): exactly one line "goscope: FILE:LINE: ..." naming the line
#   the test wrote the mistake on, non-zero exit, nothing left listening;
#   a missing file and bad options get one "goscope: ..." line too;
# - command-line options override the config file (listen, json_lines,
#   interval, and the exe list is replaced, not extended);
# - untraceable processes: a non-Go executable carrying a fake Go pclntab
#   header (/bin/sleep + objcopy: looks like Go to discovery, cannot be
#   opened as Go) is not exported and is counted once in
#   goscope_dropped_events_total{source="processes_untraceable"}; esbuild
#   0.11.23 (Go 1.16: goroutines not readable, GOBIN_MIN_TRACE_MINOR) is
#   exported with go_version="go1.16.3" and its syscalls (accept4 grows by
#   at least the number of connections curl made: syscalls_exact = true in
#   the config file, every call traced), without goroutine
#   series; meanwhile a Go 1.19 program is fully served (goroutines,
#   openat growing); with --max-processes 1 and two matching processes,
#   one is exported and the other counted once in processes_over_limit;
# - --json-lines -: JSON objects with pid, exe, go_version, syscalls_total
#   whose "time" advances by the interval;
# - SIGTERM and SIGINT: exit status 0, stderr only the "serving" and
#   "stopping" lines (so no sanitizer report either), the port free again.
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/opener" opener || die "go build opener"
gover=$(go version "$TMP/opener" | awk '{ print $2 }')

now() { printf '%s\n' "$EPOCHREALTIME"; }

# one_line DESC RC ERRFILE REGEX: the failure contract.
one_line() {
	local desc=$1 rc=$2 err=$3 re=$4 n
	n=$(wc -l <"$err")
	if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ]; then
		fail "$desc: exit status $rc (want 1..123), stderr: $(head -c 300 "$err")"
	elif [ "$n" -ne 1 ]; then
		fail "$desc: $n lines on stderr: $(head -c 600 "$err")"
	elif ! grep -qE "$re" "$err"; then
		fail "$desc: '$(cat "$err")' does not match /$re/"
	else
		pass "$desc: exit $rc, $(cat "$err")"
	fi
}

# --- a port in use ---------------------------------------------------------------
port=$(free_port)
spawn "$TMP/l.out" "$TMP/l.err" "$PYTHON" -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
print("listening", flush=True); time.sleep(600)' "$port"
lpid=$SPAWN_PID
wait_port 127.0.0.1 "$port" "$lpid" 20 || die "test listener not up"
timeout 20 "$GOSCOPE" agent --listen "127.0.0.1:$port" >"$TMP/out" 2>"$TMP/err"
one_line "--listen on a port in use" $? "$TMP/err" \
	"^goscope: cannot listen on 127\\.0\\.0\\.1:$port: Address already in use\$"
printf 'listen = 127.0.0.1:%s\n' "$port" >"$TMP/inuse.conf"
timeout 20 "$GOSCOPE" agent --config "$TMP/inuse.conf" >"$TMP/out" 2>"$TMP/err"
one_line "config listen on a port in use" $? "$TMP/err" \
	"^goscope: cannot listen on 127\\.0\\.0\\.1:$port: Address already in use\$"
kill "$lpid"

# --- malformed configuration --------------------------------------------------------
# bad_conf DESC LINE: LINE as the third line of an otherwise good file.
bad_conf() {
	local desc=$1 line=$2 f=$TMP/bad.conf p rc
	p=$(free_port)
	printf '# goscope agent, test config\nlisten = 127.0.0.1:%s\n%s\ninterval = 1\n' "$p" "$line" >"$f"
	timeout 20 "$GOSCOPE" agent --config "$f" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	one_line "config: $desc" $rc "$TMP/err" "^goscope: ${f//./\\.}:3: "
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		fail "config: $desc: something listens on $p"
	fi
}
bad_conf "unknown key" "colour = blue"
bad_conf "interval not a number" "interval = fast"
bad_conf "interval 0" "interval = 0"
bad_conf "interval with a unit" "interval = 5s"
bad_conf "listen without port" "listen = 127.0.0.1"
bad_conf "listen with an empty port" "listen = 127.0.0.1:"
bad_conf "listen on port 0" "listen = 127.0.0.1:0"
bad_conf "listen on port 70000" "listen = 127.0.0.1:70000"
bad_conf "listen on a host name" "listen = localhost:9464"
bad_conf "unknown collector" "collectors = syscalls,gpu"
bad_conf "empty collector list" "collectors = ,"
bad_conf "offcpu_freq 1000" "offcpu_freq = 1000"
bad_conf "max_processes 0" "max_processes = 0"
bad_conf "syscalls_duty 0" "syscalls_duty = 0"
bad_conf "syscalls_duty 101" "syscalls_duty = 101"
bad_conf "syscalls_exact maybe" "syscalls_exact = maybe"
bad_conf "a line without '='" "listen 127.0.0.1:9464"

timeout 20 "$GOSCOPE" agent --config "$TMP/nonexistent.conf" >"$TMP/out" 2>"$TMP/err"
one_line "missing config file" $? "$TMP/err" "^goscope: .*nonexistent\\.conf: No such file or directory\$"
timeout 20 "$GOSCOPE" agent --interval abc >"$TMP/out" 2>"$TMP/err"
one_line "--interval abc" $? "$TMP/err" "^goscope: agent: --interval abc: "
timeout 20 "$GOSCOPE" agent --listen 127.0.0.1 >"$TMP/out" 2>"$TMP/err"
one_line "--listen without port" $? "$TMP/err" "^goscope: agent: --listen 127\\.0\\.0\\.1: "
timeout 20 "$GOSCOPE" agent --collectors gpu >"$TMP/out" 2>"$TMP/err"
one_line "--collectors gpu" $? "$TMP/err" "^goscope: agent: --collectors gpu: "
timeout 20 "$GOSCOPE" agent extra-argument >"$TMP/out" 2>"$TMP/err"
one_line "a stray argument" $? "$TMP/err" "^goscope: .*extra-argument"

# --- processes it cannot (fully) trace, and one it can ----------------------------------
# A non-Go program that carries a Go 1.20 pclntab header: discovery takes
# it for Go; opening it as Go fails.
printf '\xf1\xff\xff\xff\x00\x00\x01\x08' >"$TMP/pcl"
head -c 56 /dev/zero >>"$TMP/pcl"
cp /bin/sleep "$TMP/fakego"
objcopy --add-section .gopclntab="$TMP/pcl" "$TMP/fakego" 2>"$TMP/objcopy.err" ||
	die "objcopy: $(cat "$TMP/objcopy.err")"
spawn "$TMP/f.out" "$TMP/f.err" "$TMP/fakego" 600
fpid=$SPAWN_PID
"$GOSCOPE" info "$fpid" >"$TMP/finfo" 2>&1 && die "goscope info takes the fake for a Go program"

ESBUILD=$TESTBINS/esbuild-0.11.23/esbuild
epid=
if [ -x "$ESBUILD" ]; then
	mkdir -p "$TMP/www"
	echo "goscope agent e2e" >"$TMP/www/index.html"
	eport=$(free_port)
	spawn "$TMP/e.out" "$TMP/e.err" "$ESBUILD" --serve="127.0.0.1:$eport" --servedir="$TMP/www"
	epid=$SPAWN_PID
	wait_port 127.0.0.1 "$eport" "$epid" 30 || die "esbuild 0.11.23 not serving: $(tail -3 "$TMP/e.err")"
else
	log "no $ESBUILD (scripts/testbins.sh): the Go 1.16 checks are left out"
fi
spawn "$TMP/o.out" "$TMP/o.err" "$TMP/opener" -rate 50
opid=$SPAWN_PID
wait_line "$TMP/o.out" '^opener: t=' "$opid" 30 || die "opener not running"

# Only these executables (--exe), so that the counts are this test's own.
aport=$(free_port)
jport=$(free_port)
# syscalls_exact: esbuild's accept4 count below is checked call for call.
printf 'listen = 127.0.0.1:%s\njson_lines = %s\ninterval = 1\nexe = opener\nsyscalls_exact = true\n' \
	"$jport" "$TMP/from-config.jsonl" >"$TMP/agent.conf"
t_agent=$(now)
spawn "$TMP/agent.out" "$TMP/agent.err" "$GOSCOPE" agent --config "$TMP/agent.conf" \
	--listen "127.0.0.1:$aport" --json-lines "$TMP/agent.jsonl" --exe fakego,esbuild,opener \
	--offcpu-freq 5
apid=$SPAWN_PID
wait_port 127.0.0.1 "$aport" "$apid" 30 || die "agent not serving on $aport: $(tail -3 "$TMP/agent.err")"
if (exec 3<>"/dev/tcp/127.0.0.1/$jport") 2>/dev/null; then
	fail "--listen on the command line did not override the config's listen"
else
	pass "--listen on the command line overrides the config's listen"
fi
# Discovery runs at start and every 2 s; collection every second.
wait_page() { # wait_page REGEX: until the page has a line matching REGEX
	for _ in $(seq 100); do
		curl -sf --max-time 5 "http://127.0.0.1:$aport/metrics" >"$TMP/page" 2>/dev/null &&
			grep -qE "$1" "$TMP/page" && return 0
		sleep 0.1
	done
	return 1
}
wait_page "goscope_goroutines\\{pid=\"$opid\"" || fail "the opener never appeared on the page"
untr() { awk '/^goscope_dropped_events_total\{source="processes_untraceable"\}/ { print $2 }' "$TMP/page"; }
u1=$(untr)
if [ -n "$epid" ]; then
	curl -sf --max-time 5 "http://127.0.0.1:$aport/metrics" >"$TMP/page_e0"
	acc0=$(awk -v p="$epid" '$0 ~ "^goscope_syscalls_total\\{pid=\"" p "\".*syscall=\"accept4\"" { print $2 }' \
		"$TMP/page_e0")
	for _ in $(seq 20); do
		curl -sf --max-time 5 "http://127.0.0.1:$eport/" >/dev/null || fail "esbuild did not serve"
	done
fi
sleep 7 # three more discovery rounds
curl -sf --max-time 5 "http://127.0.0.1:$aport/metrics" >"$TMP/page" || fail "GET /metrics failed"
u2=$(untr)
check_v "the page, with the Go 1.19 opener fully there" \
	page page "$TMP/page" --pid "$opid=opener=$gover" --no-pid "$fpid"
grep -q "^goscope_goroutines{pid=\"$opid\"" "$TMP/page" &&
	pass "the opener's goroutines are exported" || fail "no goscope_goroutines for the opener"
if [ "$u1" = 1 ] && [ "$u2" = 1 ]; then
	pass "the fake Go program is counted once as processes_untraceable ($u1, then $u2 three discovery rounds later)"
else
	fail "processes_untraceable for one untraceable process: '$u1', then '$u2' three discovery rounds later (want 1 and 1)"
fi
if [ -n "$epid" ]; then
	check_v "esbuild 0.11.23 (Go 1.16) exported with its exe and go_version" \
		page page "$TMP/page" --pid "$epid=esbuild=go1.16.3"
	grep -q "^goscope_goroutines{pid=\"$epid\"" "$TMP/page" &&
		fail "goroutines exported for Go 1.16 (not readable)" ||
		pass "no goroutine series for Go 1.16 (goroutines not readable there)"
	acc1=$(awk -v p="$epid" '$0 ~ "^goscope_syscalls_total\\{pid=\"" p "\".*syscall=\"accept4\"" { print $2 }' \
		"$TMP/page")
	if [ $((${acc1:-0} - ${acc0:-0})) -ge 20 ]; then
		pass "esbuild's accept4 count grew by $((acc1 - ${acc0:-0})) for 20 connections (>= 20)"
	else
		fail "esbuild's accept4 count: '${acc0:-}' then '${acc1:-}', want +20 or more"
	fi
fi
kill -0 "$apid" 2>/dev/null && pass "the agent keeps serving" || fail "the agent died"

# --- JSON lines, clean stops ----------------------------------------------------------------
kill -TERM "$apid"
wait_exit "$apid" 20 || fail "the agent did not stop on SIGTERM"
expect_eq "SIGTERM: exit status" "${WAIT_STATUS:-timeout}" 0
expect_eq "SIGTERM: stderr" "$(grep -v "^goscope: tracing " "$TMP/agent.err")" \
	"goscope: agent serving http://127.0.0.1:$aport/metrics
goscope: agent stopping"
(exec 3<>"/dev/tcp/127.0.0.1/$aport") 2>/dev/null && fail "port $aport still open after exit" ||
	pass "port $aport closed after exit"
[ -s "$TMP/from-config.jsonl" ] && fail "json_lines of the config written though --json-lines overrides it" ||
	pass "--json-lines on the command line overrides the config's json_lines"
check_v "--json-lines FILE" page jsonl "$TMP/agent.jsonl" --pid "$opid=opener=$gover" --interval 1 \
	--t0 "$t_agent" --syscall openat
if [ -n "$epid" ]; then
	n=$(grep -c "\"pid\":$epid," "$TMP/agent.jsonl")
	g=$(grep "\"pid\":$epid," "$TMP/agent.jsonl" | grep -c '"goroutines"')
	[ "$n" -gt 0 ] && [ "$g" = 0 ] && pass "JSON lines of esbuild 0.11.23: $n, none with a goroutine count" ||
		fail "JSON lines of esbuild 0.11.23: $n, $g with a goroutine count (not readable for Go 1.16)"
fi

# --- more Go processes than --max-processes ---------------------------------------------------
cp "$TMP/opener" "$TMP/gsovl"
spawn "$TMP/v1.out" "$TMP/v1.err" "$TMP/gsovl" -rate 5
v1=$SPAWN_PID
spawn "$TMP/v2.out" "$TMP/v2.err" "$TMP/gsovl" -rate 5
v2=$SPAWN_PID
wait_line "$TMP/v2.out" '^opener: pid=' "$v2" 30 && wait_line "$TMP/v1.out" '^opener: pid=' "$v1" 30 ||
	die "gsovl not running"
aport=$(free_port)
spawn "$TMP/m.out" "$TMP/m.err" "$GOSCOPE" agent --listen "127.0.0.1:$aport" --interval 1 \
	--exe gsovl --max-processes 1 --collectors syscalls,health
apid=$SPAWN_PID
wait_port 127.0.0.1 "$aport" "$apid" 30 || die "agent --max-processes 1 not serving"
wait_page '^goscope_tracked_processes 1$' || fail "--max-processes 1: never tracked one process"
sleep 1
curl -sf --max-time 5 "http://127.0.0.1:$aport/metrics" >"$TMP/page"
ovl() { awk '/^goscope_dropped_events_total\{source="processes_over_limit"\}/ { print $2 }' "$TMP/page"; }
o1=$(ovl)
n1=$(grep -c "pid=\"$v1\"" "$TMP/page")
n2=$(grep -c "pid=\"$v2\"" "$TMP/page")
if { [ "$n1" -gt 0 ] && [ "$n2" = 0 ]; } || { [ "$n1" = 0 ] && [ "$n2" -gt 0 ]; }; then
	pass "--max-processes 1 with two matching processes: one exported"
else
	fail "--max-processes 1 with two matching processes: $n1 and $n2 series"
fi
sleep 6 # three more discovery rounds
curl -sf --max-time 5 "http://127.0.0.1:$aport/metrics" >"$TMP/page"
o2=$(ovl)
if [ "$o1" = 1 ] && [ "$o2" = 1 ]; then
	pass "the process over the limit is counted once as processes_over_limit ($o1, then $o2)"
else
	fail "processes_over_limit for one process over the limit: '$o1', then '$o2' three discovery rounds later (want 1 and 1)"
fi
kill -TERM "$apid"
wait_exit "$apid" 20
expect_eq "--max-processes 1: exit status on SIGTERM" "${WAIT_STATUS:-timeout}" 0

# The config's exe list is replaced by --exe, not added to.
aport=$(free_port)
printf 'exe = esbuild,fakego\ninterval = 3\n' >"$TMP/exe.conf"
t_agent=$(now)
spawn "$TMP/j.out" "$TMP/j.err" "$GOSCOPE" agent --listen "127.0.0.1:$aport" --config "$TMP/exe.conf" \
	--interval 1 --json-lines - --exe opener --collectors syscalls
apid=$SPAWN_PID
wait_port 127.0.0.1 "$aport" "$apid" 30 || die "agent --json-lines - not serving"
sleep 6
kill -INT "$apid"
wait_exit "$apid" 20 || fail "the agent did not stop on SIGINT"
expect_eq "SIGINT: exit status" "${WAIT_STATUS:-timeout}" 0
expect_eq "SIGINT: stderr" "$(grep -v "^goscope: tracing " "$TMP/j.err")" \
	"goscope: agent serving http://127.0.0.1:$aport/metrics
goscope: agent stopping"
check_v "--json-lines - (stdout)" page jsonl "$TMP/j.out" --pid "$opid=opener=$gover" --interval 1 \
	--t0 "$t_agent" --syscall openat
others=$(grep -vc '"exe":"opener"' "$TMP/j.out")
expect_eq "--exe opener replaces the config's exe = esbuild,fakego: lines of other executables" "$others" 0
grep -q '"goroutines"' "$TMP/j.out" && fail "--collectors syscalls: JSON lines claim a goroutine count" ||
	pass "--collectors syscalls: no goroutine count in the JSON lines (not measured)"
finish
