#!/usr/bin/env bash
# test_bad_options: every bad option or value of every command gives one
# line on stderr starting "goscope:", nothing on stdout and exit status 2;
# `--help` exits 0 with the command's usage on stdout and nothing on
# stderr. The commands are read from `goscope --help`, so a new command is
# covered as soon as it is in the table.
#
# Every command is on the shared option table (core/opts). KNOWN_UNPORTED
# lists commands to skip (none): a command not on the table could start a
# trace of every Go process on the host on a bad value such as `-d inf`.
KNOWN_UNPORTED=${KNOWN_UNPORTED-""}

. "$(dirname "$0")/lib.sh"

# Each case: the words after the command, one case per line.
CASES=(
	"--nope"
	"--nope=1"
	"-d inf"
	"-d nan"
	"-d 1e300"
	"-d -1"
	"-d 5x"
	"-d 9223372036854775808"
	"-d"
	"-p abc"
	"-p 0"
	"-p -5"
	"-p"
	"-d 5 --nope"
)

# run_case DESC WORDS...: goscope WORDS, with a time limit (a bad value that
# is accepted may start a trace). Sets RC, OUT, ERR (files).
run_case() {
	OUT=$TMP/out ERR=$TMP/err
	timeout --kill-after=5 10 "$GOSCOPE" "$@" </dev/null >"$OUT" 2>"$ERR"
	RC=$?
}

# The one-line rule for the last run: "" if it held, else what was wrong.
bad_rule() {
	local why=() nerr
	nerr=$(wc -l <"$ERR")
	[ "$RC" = 2 ] || why+=("exit $RC")
	[ -s "$OUT" ] && why+=("$(wc -l <"$OUT") line(s) on stdout")
	[ "$nerr" = 1 ] || why+=("$nerr stderr lines")
	head -n 1 "$ERR" | grep -q '^goscope: ' || why+=("stderr does not start 'goscope: '")
	# A line without its newline is not a line.
	[ -s "$ERR" ] && [ "$(tail -c 1 "$ERR" | od -An -c | tr -d ' ')" != '\n' ] &&
		why+=("stderr does not end with a newline")
	local IFS=,
	printf '%s' "${why[*]:+${why[*]}}"
}

# --- the top level ------------------------------------------------------------
"$GOSCOPE" --help >"$TMP/help" 2>"$TMP/help.err"
rc=$?
expect_eq "goscope --help exits" "$rc" 0
[ -s "$TMP/help.err" ] && fail "goscope --help wrote to stderr: $(head -3 "$TMP/help.err")"
mapfile -t COMMANDS < <(awk '/^commands:/ { on = 1; next } on && /^$/ { exit }
	on && /^  [a-z]/ { print $1 }' "$TMP/help")
[ ${#COMMANDS[@]} -ge 1 ] || die "no commands in goscope --help:
$(cat "$TMP/help")"
log "commands: ${COMMANDS[*]}"
for words in "--nope" "nosuchcommand" "-d inf"; do
	# shellcheck disable=SC2086 # the case's words
	run_case $words
	why=$(bad_rule)
	if [ -z "$why" ]; then
		pass "goscope $words: $(cat "$ERR")"
	else
		fail "goscope $words: $why: $(head -c 300 "$ERR")"
	fi
done
for u in $KNOWN_UNPORTED; do
	printf '%s\n' "${COMMANDS[@]}" | grep -qx "$u" ||
		log "note: KNOWN_UNPORTED names '$u', which goscope --help does not list"
done

# --- every command ----------------------------------------------------------------
failing=()
skipped=()
for cmd in "${COMMANDS[@]}"; do
	if [[ " $KNOWN_UNPORTED " == *" $cmd "* ]]; then
		skipped+=("$cmd")
		log "skip  $cmd: in KNOWN_UNPORTED (not on the shared option table yet)"
		continue
	fi
	bad=0
	for words in "${CASES[@]}"; do
		# shellcheck disable=SC2086 # the case's words
		run_case "$cmd" $words
		why=$(bad_rule)
		if [ -z "$why" ]; then
			pass "goscope $cmd $words: $(cat "$ERR")"
		else
			fail "goscope $cmd $words: $why: $(head -c 300 "$ERR" | tr '\n' '|')"
			bad=1
		fi
	done
	run_case "$cmd" --help
	if [ "$RC" = 0 ] && [ ! -s "$ERR" ] && head -n 1 "$OUT" | grep -q "^usage: goscope $cmd"; then
		pass "goscope $cmd --help: exit 0, usage on stdout"
	else
		fail "goscope $cmd --help: exit $RC, stdout '$(head -n 1 "$OUT")', stderr '$(head -n 1 "$ERR")'"
		bad=1
	fi
	[ $bad = 1 ] && failing+=("$cmd")
done

[ ${#skipped[@]} -gt 0 ] && log "skipped (KNOWN_UNPORTED): ${skipped[*]}"
if [ ${#failing[@]} -gt 0 ]; then
	log "commands breaking the one-line rule: ${failing[*]}"
else
	log "commands checked: $((${#COMMANDS[@]} - ${#skipped[@]})) of ${#COMMANDS[@]}, none breaking the rule"
fi
finish
