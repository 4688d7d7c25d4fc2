#!/usr/bin/env bash
# test_offcpu_blockers: `goscope offcpu` finds each way a goroutine blocks
# under the function that blocks, with the runtime's wait reason, and with
# the time it was blocked.
#
# Target: tests/go/blockers (go1.19), whose goroutines park forever, each in
# its own function: blockChanRecv, blockSelect, blockMutex, blockSleep,
# blockNetRead, blockPipeRead. Truths:
# - time: each of them is blocked during the whole trace, so its total must
#   be the trace window (-d 4: 4,000,000 us) within 15%, and never more than
#   the wall time the test measured around goscope;
# - reasons: the leaf of each one's folded stack is the one documented for
#   Go 1.19 ([chan receive], [select], [semacquire], [sleep], [IO wait],
#   [syscall: read]) and equals the state the runtime's own SIGQUIT dump of
#   the same process (taken after the traces) gives that goroutine;
# - -f top lists the same reasons with GORS 1 and the window as TOTAL;
# - -f pprof -o F opens in `go tool pprof -top` and `-traces` (Go's own
#   reader is the truth for the format), shows every main.block* function,
#   and the delay under main.blockSleep sums to the window (4 s +-15%).
# Folded is checked at the default 49 Hz and at -F 99.
. "$(dirname "$0")/lib.sh"

need_go
go_build "$TMP/blockers" blockers || die "go build blockers"

EXPECT=(
	--expect "main.blockChanRecv=chan receive"
	--expect "main.blockSelect=select"
	--expect "main.blockMutex=semacquire"
	--expect "main.blockSleep=sleep"
	--expect "main.blockNetRead=IO wait"
	--expect "main.blockPipeRead=syscall: read"
)
FUNCS=(main.blockChanRecv main.blockSelect main.blockMutex main.blockSleep main.blockNetRead
	main.blockPipeRead)

spawn "$TMP/b.out" "$TMP/b.err" env GOTRACEBACK=system "$TMP/blockers"
pid=$SPAWN_PID
wait_line "$TMP/b.out" '^blockers: ready' "$pid" 60 || die "blockers never ready: $(tail -3 "$TMP/b.err")"

now_us() { echo $(($(date +%s%N) / 1000)); }

# folded at 49 Hz (default) and 99 Hz
for hz in 49 99; do
	args=(-p "$pid" -d 4 -f folded)
	[ $hz != 49 ] && args+=(-F "$hz")
	t0=$(now_us)
	"$GOSCOPE" offcpu "${args[@]}" >"$TMP/folded$hz" 2>"$TMP/folded$hz.err"
	rc=$?
	wall=$(($(now_us) - t0))
	expect_eq "offcpu ${args[*]}: exit status" "$rc" 0
	check_v "folded at $hz Hz: each blocker under its function, its reason the leaf, 4 s +-15% (goscope ran $wall us)" \
		"$PYTHON" "$E2E_DIR/offcpu_report.py" folded "$TMP/folded$hz" "${EXPECT[@]}" \
		--window-us 4000000 --max-us "$wall"
done

# -f top
"$GOSCOPE" offcpu -p "$pid" -d 3 -n 100 >"$TMP/top" 2>"$TMP/top.err"
expect_eq "offcpu -f top: exit status" "$?" 0
check_v "-f top: each blocker's row has its reason, GORS 1, TOTAL 3 s +-15%" \
	"$PYTHON" "$E2E_DIR/offcpu_report.py" top "$TMP/top" "${EXPECT[@]}" --window-us 3000000

# -f pprof
"$GOSCOPE" offcpu -p "$pid" -d 4 -f pprof -o "$TMP/prof.pb.gz" >"$TMP/pprof.out" 2>"$TMP/pprof.err"
expect_eq "offcpu -f pprof -o F: exit status" "$?" 0
export HOME=$TMP PPROF_TMPDIR=$TMP/pprof-tmp
if go tool pprof -top -nodefraction=0 "$TMP/prof.pb.gz" >"$TMP/ptop" 2>"$TMP/ptop.err"; then
	pass "go tool pprof -top opens the profile"
else
	fail "go tool pprof -top: $(head -3 "$TMP/ptop.err")"
fi
if go tool pprof -traces "$TMP/prof.pb.gz" >"$TMP/ptraces" 2>"$TMP/ptraces.err"; then
	pass "go tool pprof -traces opens the profile"
else
	fail "go tool pprof -traces: $(head -3 "$TMP/ptraces.err")"
fi
# pprof strips (...) from names it takes for C++ ([ ] < > ::): the leaf
# pseudo-frames must come through whole, parentheses included (the
# forcegc helper parks as "force gc (idle)" in every Go program).
for r in "chan receive" "select" "sleep" "IO wait" "force gc (idle)"; do
	grep -q " wait: $r\$" "$TMP/ptop" && pass "pprof -top shows the leaf 'wait: $r' whole" ||
		fail "pprof -top lacks the leaf 'wait: $r': $(grep -F 'wait:' "$TMP/ptop" | head -8 | tr -s ' ' | tr '\n' ';')"
done
for f in "${FUNCS[@]}"; do
	grep -qE " ${f//./\\.}\$" "$TMP/ptop" && grep -qE "^ +${f//./\\.}\$" "$TMP/ptraces" &&
		pass "pprof -top and -traces show $f" || fail "pprof -top / -traces lack $f"
done
go tool pprof -raw "$TMP/prof.pb.gz" >"$TMP/praw" 2>&1
grep -q '^waits/count delay/nanoseconds' "$TMP/praw" &&
	pass "pprof sample types waits/count, delay/nanoseconds" ||
	fail "pprof sample types: $(grep -A1 '^Samples' "$TMP/praw" | tail -1)"
grep -q 'reason:\[sleep\]' "$TMP/praw" && grep -q "pid:\[$pid\]" "$TMP/praw" &&
	pass "pprof labels reason and pid" || fail "pprof labels reason/pid missing"
go tool pprof -sample_index=delay -unit=ms -top -nodefraction=0 -focus='^main\.blockSleep$' \
	"$TMP/prof.pb.gz" >"$TMP/psleep" 2>&1
ms=$(awk '$NF == "main.blockSleep" { sub(/ms$/, "", $4); print $4 }' "$TMP/psleep")
if [ -n "$ms" ] && awk -v v="$ms" 'BEGIN { exit !(v >= 3400 && v <= 4600) }'; then
	pass "pprof delay under main.blockSleep: $ms ms (truth 4000 ms +-15%)"
else
	fail "pprof delay under main.blockSleep: '$ms' ms, want 4000 +-15%"
	sed 's/^/        /' "$TMP/psleep"
fi

# The runtime's own view of the same goroutines.
kill -QUIT "$pid"
wait_exit "$pid" 30 || die "blockers alive after SIGQUIT"
check_v "wait reasons equal the runtime's SIGQUIT dump" \
	"$PYTHON" "$E2E_DIR/offcpu_report.py" folded "$TMP/folded49" "${EXPECT[@]}" --dump "$TMP/b.err"
finish
