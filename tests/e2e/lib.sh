# lib.sh: shared helpers for tests/e2e/test_*.sh (source it first).
#
# A test prints one line per check and ends with `finish`: exit 0 if every
# check passed, 1 if any failed; `skip` exits 77 (the runner's SKIP). The
# environment from tests/run.sh: GOSCOPE (absolute path of the binary under
# test) and TESTBINS (released Go binaries, scripts/testbins.sh); both
# default to this checkout's, so a test also runs on its own:
#   GOSCOPE=$PWD/build-san/goscope tests/e2e/test_bad_input.sh
#
# Processes a test starts with `spawn` are killed on exit (by PID), and the
# scratch directory $TMP is removed.
#
# Python helpers (run with $PYTHON): tracedump.py (goscope vs the runtime's
# SIGQUIT traceback), a2lcompare.py (goscope vs go tool addr2line),
# agent_page.py (`page`: the agent's /metrics page and JSON lines),
# corrupt.py (damaged binaries), elfmini.py (ELF and pclntab facts for all
# of them, independent of goscope).

set -u -o pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
GOSCOPE=${GOSCOPE:-$ROOT/goscope}
TESTBINS=${TESTBINS:-$ROOT/.cache/testbins}
TEST_NAME=$(basename "$0" .sh)
export PYTHONDONTWRITEBYTECODE=1
# The inline Python of the tests imports the helpers of this directory.
export PYTHONPATH="$E2E_DIR${PYTHONPATH:+:$PYTHONPATH}"
# Debian's python3 (deps.sh) first: wrappers such as pyenv shims add ~0.5 s
# per call.
if [ -z "${PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/goscope-$TEST_NAME.XXXXXX")
_failures=0
_checks=0
_bg_pids=()

# --- results ---------------------------------------------------------------

log()  { printf '  %s\n' "$*"; }
pass() { _checks=$((_checks + 1)); printf '  ok    %s\n' "$*"; }
fail() { _checks=$((_checks + 1)); _failures=$((_failures + 1)); printf '  FAIL  %s\n' "$*"; }
die()  { printf '  FAIL  %s\n' "$*"; exit 1; }
skip() { printf '  SKIP  %s\n' "$*"; exit 77; }

# check DESC CMD...: pass if CMD succeeds, else fail (CMD's output shown).
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$desc"
	else
		fail "$desc"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/        /'
	fi
}

# check_v DESC CMD...: same, and CMD's output is shown either way (numbers).
check_v() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		pass "$desc"
	else
		fail "$desc"
	fi
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/        /'
	return $rc
}

# expect_eq DESC GOT WANT
expect_eq() {
	if [ "$2" == "$3" ]; then
		pass "$1: $2"
	else
		fail "$1: got '$2', want '$3'"
	fi
}

finish() {
	if [ "$_failures" -gt 0 ]; then
		echo "$TEST_NAME: $_failures of $_checks checks failed"
		exit 1
	fi
	echo "$TEST_NAME: $_checks checks passed"
	exit 0
}

# --- processes ---------------------------------------------------------------

_cleanup() {
	local p
	for p in "${_bg_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${_bg_pids[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

# spawn OUT ERR CMD...: start CMD in the background with stdout to OUT,
# stderr to ERR and stdin a FIFO this shell keeps open (esbuild serves only
# while its stdin is open). Sets SPAWN_PID; the process is killed on exit.
spawn() {
	local out=$1 err=$2 fifo fd
	shift 2
	fifo=$(mktemp -u "$TMP/stdin.XXXXXX")
	mkfifo "$fifo"
	exec {fd}<>"$fifo"
	"$@" <"$fifo" >"$out" 2>"$err" &
	SPAWN_PID=$!
	_bg_pids+=("$SPAWN_PID")
}

# wait_exit PID [SECONDS]: wait for a spawned process to exit; its status
# in WAIT_STATUS. False on timeout.
wait_exit() {
	local pid=$1 n=$((${2:-20} * 10))
	while [ $n -gt 0 ] && [ -d "/proc/$pid" ] &&
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
		sleep 0.1
		n=$((n - 1))
	done
	[ $n -gt 0 ] || return 1
	wait "$pid" 2>/dev/null
	# shellcheck disable=SC2034 # for the caller
	WAIT_STATUS=$?
}

# wait_line FILE REGEX PID [SECONDS]: until FILE has a line matching REGEX;
# false if PID dies or time runs out.
wait_line() {
	local file=$1 re=$2 pid=$3 n=$((${4:-30} * 10))
	while ! grep -qE "$re" "$file" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || return 1
		[ $n -gt 0 ] || return 1
		sleep 0.1
		n=$((n - 1))
	done
}

# wait_ready ERRFILE PID [SECONDS]: until goscope (PID, its stderr going
# to ERRFILE) has printed its ready line "goscope: tracing N process(es)
# ...": collection has started. False if goscope died first or time runs
# out (default 30 s); its stderr so far is shown then.
wait_ready() {
	local err=$1 pid=$2 secs=${3:-30}
	wait_line "$err" '^goscope: tracing ' "$pid" "$secs" && return 0
	if kill -0 "$pid" 2>/dev/null; then
		log "goscope (pid $pid): no ready line after ${secs}s; its stderr:"
	else
		log "goscope (pid $pid) exited before its ready line; its stderr:"
	fi
	tail -n 20 "$err" 2>/dev/null | sed 's/^/        /'
	return 1
}

# wait_port HOST PORT PID [SECONDS]: until a TCP connect succeeds.
wait_port() {
	local host=$1 port=$2 pid=$3 n=$((${4:-30} * 10))
	until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || return 1
		[ $n -gt 0 ] || return 1
		sleep 0.1
		n=$((n - 1))
	done
}

# wait_read_stdin PID [SECONDS]: until a thread of PID sits in read(0, ...),
# i.e. the program is up and waiting for input (/proc/PID/task/*/syscall).
wait_read_stdin() {
	local pid=$1 n=$((${2:-30} * 10)) t nr fd
	while [ $n -gt 0 ]; do
		kill -0 "$pid" 2>/dev/null || return 1
		for t in /proc/"$pid"/task/*/syscall; do
			read -r nr fd _ <"$t" 2>/dev/null || continue
			[ "$nr" = 0 ] && [ "$fd" = 0x0 ] && return 0
		done
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# free_port: a TCP port free on 127.0.0.1 right now.
free_port() {
	"$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- Go ---------------------------------------------------------------------

# need_go: skip the test unless Debian's go toolchain is there.
need_go() {
	command -v go >/dev/null 2>&1 || skip "no go toolchain"
}

# go_build OUT PKG [GO BUILD FLAGS...]: build ./PKG of tests/go (module
# goscope.test, stdlib only) into OUT, offline, with the build cache under
# .cache/. Environment variables (CGO_ENABLED=0 ...) may be set by the
# caller: `CGO_ENABLED=0 go_build ...`.
go_build() {
	local out=$1 pkg=$2
	shift 2
	(
		cd "$ROOT/tests/go" &&
			GOCACHE="$ROOT/.cache/gocache" GOPATH="$ROOT/.cache/gopath" \
			GOPROXY=off GOFLAGS=-buildvcs=false GO111MODULE=on GOWORK=off \
			go build -o "$out" "$@" "./$pkg"
	)
}

# Pretty names for the e2e python helpers.
tracedump() { "$PYTHON" "$E2E_DIR/tracedump.py" "$@"; }
a2lcompare() { "$PYTHON" "$E2E_DIR/a2lcompare.py" "$@"; }
page() { "$PYTHON" "$E2E_DIR/agent_page.py" "$@"; } # the agent's page, JSON lines, dashboard

# json_get FILE KEY: a top-level value of a JSON file, printed as JSON for
# objects/arrays, else as text (true/false/null lower case).
json_get() {
	"$PYTHON" -c '
import json, sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
if isinstance(v, (dict, list)): print(json.dumps(v, sort_keys=True))
elif isinstance(v, bool) or v is None: print(json.dumps(v))
else: print(v)' "$1" "$2"
}

[ -x "$GOSCOPE" ] || die "GOSCOPE=$GOSCOPE is not an executable"
