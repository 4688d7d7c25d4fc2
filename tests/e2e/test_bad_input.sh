#!/usr/bin/env bash
# test_bad_input: goscope fails cleanly on everything that is not a readable
# Go program, and never crashes on damaged ones.
#
# Contract checked for each bad input: a non-zero exit below 128 (no
# signal), exactly one line on stderr (so no sanitizer report either),
# starting with "goscope: ", and where the cause is known, saying it
# (permission denied, kernel thread, no such process...). Inputs: missing
# file, directory, empty file, text file, /bin/ls, truncated Go binaries,
# zeroed pclntab magic, non-Go / kernel / missing / exited PIDs, a root
# process seen by an unprivileged user (setpriv), bad command lines.
# Damaged pclntabs (random bytes, header, blocks; each esbuild format and a
# go1.19 build) may be read or rejected, but each command must either
# succeed with an empty stderr or fail with the one line.
# Also: Go older than 1.17 (esbuild 0.5.26 go1.14.2, 0.11.23 go1.16.3) is
# read fine and `info` says tracing is not supported because of the release
# (GOBIN_MIN_TRACE_MINOR); 0.13.15 (go1.17.2) is traceable.
. "$(dirname "$0")/lib.sh"

# run_gs CMD...: run goscope; sets RC, OUT (stdout file), ERR (stderr file).
run_gs() {
	OUT=$TMP/out
	ERR=$TMP/err
	"$GOSCOPE" "$@" >"$OUT" 2>"$ERR"
	RC=$?
}

# one_error_line: the stderr contract for a failure; prints why not.
one_error_line() {
	local n
	n=$(wc -l <"$ERR")
	if [ "$RC" -ge 128 ]; then
		echo "killed by signal $((RC - 128))"
	elif [ "$RC" -eq 0 ]; then
		echo "exit 0"
	elif [ "$n" -ne 1 ]; then
		echo "$n lines on stderr: $(head -c 600 "$ERR")"
	elif ! grep -q '^goscope: ' "$ERR"; then
		echo "stderr does not start with 'goscope: ': $(cat "$ERR")"
	fi
}

# expect_error DESC REGEX ARGS...: goscope ARGS fails by the contract and
# its message matches the extended REGEX ('' for any).
expect_error() {
	local desc=$1 re=$2 why
	shift 2
	run_gs "$@"
	why=$(one_error_line)
	if [ -z "$why" ] && [ -n "$re" ] && ! grep -qE "$re" "$ERR"; then
		why="message does not match /$re/: $(cat "$ERR")"
	fi
	if [ -z "$why" ]; then
		pass "$desc: exit $RC, $(cat "$ERR")"
	else
		fail "$desc: $why"
	fi
}

# expect_no_crash DESC ARGS...: success with empty stderr, or the failure
# contract.
expect_no_crash() {
	local desc=$1 why=
	shift
	run_gs "$@"
	if [ "$RC" -eq 0 ]; then
		[ -s "$ERR" ] && why="exit 0 but stderr: $(head -c 600 "$ERR")"
	else
		why=$(one_error_line)
	fi
	if [ -z "$why" ]; then
		return 0
	fi
	fail "$desc: $why"
	return 1
}

# --- a Go binary to damage -----------------------------------------------------
GOBIN=
if command -v go >/dev/null && go_build "$TMP/hello" hello >"$TMP/build.log" 2>&1; then
	GOBIN=$TMP/hello
else
	for b in "$TESTBINS"/esbuild-*/esbuild; do [ -x "$b" ] && GOBIN=$b && break; done
fi
[ -n "$GOBIN" ] || skip "no Go binary to damage (no go toolchain, no testbins)"
log "damaging copies of $GOBIN"

# --- files -----------------------------------------------------------------------
mkdir -p "$TMP/dir"
: >"$TMP/empty"
printf 'this is not\nan ELF file\n' >"$TMP/text"
size=$(stat -c %s "$GOBIN")
head -c 4096 "$GOBIN" >"$TMP/trunc4k"
head -c $((size / 2)) "$GOBIN" >"$TMP/trunchalf"
"$PYTHON" "$E2E_DIR/corrupt.py" magic "$GOBIN" "$TMP/badmagic" >/dev/null

for cmd in info addr2line funcs; do
	a=()
	[ $cmd = addr2line ] && a=(0x401000)
	expect_error "$cmd missing file" 'No such file|not found|does not exist' \
		$cmd "$TMP/nonexistent" "${a[@]}"
done
expect_error "info directory" '' info "$TMP/dir"
expect_error "info empty file" '' info "$TMP/empty"
expect_error "info text file" 'not an ELF' info "$TMP/text"
expect_error "info /bin/ls (ELF, not Go)" 'not a Go program' info /bin/ls
expect_error "info Go binary truncated to 4096 bytes" '' info "$TMP/trunc4k"
expect_error "info Go binary truncated to half" '' info "$TMP/trunchalf"
expect_error "addr2line Go binary truncated to half" '' addr2line "$TMP/trunchalf" 0x401000
expect_error "info pclntab magic zeroed" 'pclntab|not a Go program' info "$TMP/badmagic"
expect_error "funcs pclntab magic zeroed" 'pclntab|not a Go program' funcs "$TMP/badmagic"

# --- PIDs ---------------------------------------------------------------------
spawn "$TMP/sleep.out" "$TMP/sleep.err" sleep 100
sleep_pid=$SPAWN_PID
for _ in $(seq 50); do # until the child has exec'd sleep
	[ "$(readlink "/proc/$sleep_pid/exe" 2>/dev/null)" = "$(readlink -f "$(command -v sleep)")" ] && break
	sleep 0.1
done
expect_error "info PID of a non-Go process (sleep)" 'not a Go program' info "$sleep_pid"
expect_error "addr2line PID of a non-Go process" 'not a Go program' addr2line "$sleep_pid" 0x401000
expect_error "info PID 2 (kthreadd, kernel thread)" 'kernel thread' info 2
expect_error "info PID that does not exist (4000000)" 'no such process' info 4000000
true &
gone=$!
wait "$gone"
expect_error "info PID that exited ($gone)" 'no such process' info "$gone"

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	# goscope copied where user nobody can run it ($TMP is private).
	perm=$(mktemp -d /tmp/goscope-perm.XXXXXX)
	chmod 755 "$perm"
	cp "$GOSCOPE" "$perm/goscope"
	chmod 755 "$perm/goscope"
	OUT=$TMP/out ERR=$TMP/err
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$perm/goscope" info "$sleep_pid" >"$OUT" 2>"$ERR"
	RC=$?
	rm -rf "$perm"
	why=$(one_error_line)
	[ -z "$why" ] && ! grep -qi 'permission denied' "$ERR" &&
		why="no 'permission denied': $(cat "$ERR")"
	if [ -z "$why" ]; then
		pass "info root's PID as user nobody: exit $RC, $(cat "$ERR")"
	else
		fail "info root's PID as user nobody: $why"
	fi
else
	log "not root or no setpriv: permission case not run"
fi

# --- command lines ------------------------------------------------------------
expect_error "info with no TARGET" '' info
expect_error "info with two TARGETs" '' info "$GOBIN" "$GOBIN"
expect_error "unknown command" 'unknown command' frobnicate
expect_error "addr2line with no TARGET" '' addr2line
expect_error "addr2line invalid address zzz" 'invalid address' addr2line "$GOBIN" zzz
[ -s "$OUT" ] && fail "addr2line zzz: printed something on stdout: $(head -3 "$OUT")"
run_gs addr2line "$GOBIN" zzz 0x1
if [ "$RC" -ne 0 ] && [ "$(wc -l <"$ERR")" -eq 1 ] && [ "$(wc -l <"$OUT")" -eq 2 ]; then
	pass "addr2line zzz 0x1: error line for zzz, answer for 0x1, exit $RC"
else
	fail "addr2line zzz 0x1: exit $RC, stdout $(wc -l <"$OUT") lines, stderr: $(cat "$ERR")"
fi
expect_error "addr2line invalid address on stdin" 'invalid address' addr2line "$GOBIN" \
	< <(printf 'nothex\n')

# --- damaged pclntabs: read or reject, never crash ---------------------------------
targets=("$GOBIN")
for b in $(printf '%s\n' "$TESTBINS"/esbuild-*/esbuild | sort -V); do
	[ -x "$b" ] && targets+=("$b")
done
for bin in "${targets[@]}"; do
	label=${bin#"$TESTBINS"/}
	label=${label#"$TMP"/}
	ok=0 ran=0 read_ok=0
	for seed in 1 2 3 4 5 6; do
		bad=$TMP/damaged
		"$PYTHON" "$E2E_DIR/corrupt.py" random "$bin" "$bad" "$seed" 300 >"$TMP/damage" ||
			continue
		addrs=$(sed -n 2p "$TMP/damage")
		good=1
		expect_no_crash "$label seed $seed info --json" info --json "$bad" || good=0
		[ "$RC" -eq 0 ] && read_ok=$((read_ok + 1))
		expect_no_crash "$label seed $seed info -v" info -v "$bad" || good=0
		expect_no_crash "$label seed $seed funcs" funcs "$bad" || good=0
		# shellcheck disable=SC2086
		expect_no_crash "$label seed $seed addr2line -i" addr2line -i "$bad" $addrs || good=0
		# shellcheck disable=SC2086
		expect_no_crash "$label seed $seed addr2line" addr2line "$bad" $addrs || good=0
		ran=$((ran + 1))
		ok=$((ok + good))
	done
	[ $ran -gt 0 ] && [ $ok -eq $ran ] &&
		pass "$label: $ran damaged copies, 5 commands each, no crash ($read_ok still readable)"
done

# --- Go < 1.17: readable, not traceable ---------------------------------------------
for v in 0.5.26:go1.14.2 0.11.23:go1.16.3 0.13.15:go1.17.2; do
	ver=${v%%:*}
	gov=${v#*:}
	bin=$TESTBINS/esbuild-$ver/esbuild
	if [ ! -x "$bin" ]; then
		log "esbuild $ver not in $TESTBINS"
		continue
	fi
	run_gs info "$bin"
	line=$(grep '^tracing:' "$OUT")
	minor=${gov#go1.}
	minor=${minor%%.*}
	if [ "$minor" -lt 17 ]; then
		if [ "$RC" -eq 0 ] && [ ! -s "$ERR" ] && grep -qE 'not supported.*1\.17' <<<"$line"; then
			pass "esbuild $ver ($gov): info works; $line"
		else
			fail "esbuild $ver ($gov): exit $RC, tracing line '$line', stderr: $(cat "$ERR")"
		fi
		want=false
	else
		if [ "$RC" -eq 0 ] && grep -qE '^tracing: +supported' <<<"$line"; then
			pass "esbuild $ver ($gov): $line"
		else
			fail "esbuild $ver ($gov): exit $RC, tracing line '$line'"
		fi
		want=true
	fi
	run_gs info --json "$bin"
	if [ "$RC" -ne 0 ] || [ -s "$ERR" ]; then
		fail "esbuild $ver ($gov): info --json: exit $RC, stderr: $(head -c 600 "$ERR")"
		continue
	fi
	expect_eq "esbuild $ver ($gov): JSON traceable" "$(json_get "$OUT" traceable)" "$want"
done
finish
