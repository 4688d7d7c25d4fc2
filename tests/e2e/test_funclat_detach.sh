#!/usr/bin/env bash
# test_funclat_detach: goscope returns without waiting for the kernel to
# remove its uprobes (a goscope-detach process closes them behind it), and
# they are all removed then.
#
# Truth: the target's own text. A uprobe writes a breakpoint into the
# target's copy of the page and its removal restores the original byte:
# the executable mappings of the target compared byte for byte with its
# file (/proc/PID/mem against the ELF file, tests/e2e/text_diff.py) differ
# while goscope funclat probes main.* in exactly as many bytes as goscope
# says it has probe sites (one breakpoint each; dozens), and are identical
# again once the goscope-detach processes are gone (waited for, up to 60 s
# on a busy machine). goscope itself exits 0 with its report, and the
# program keeps running and computing right.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/funclat_lib.sh"

fl_prog_start
d0=$("$PYTHON" "$E2E_DIR/text_diff.py" "$FL_PID")
expect_eq "before goscope: the target's text is its file's" "$d0" 0
if gs_start "$TMP/gs.txt" -p "$FL_PID" -d 2 'main.*'; then
	sites=$(sed -n 's/.* \([0-9]*\) probe sites.*/\1/p' "$TMP/gs.txt.err" | head -1)
	d1=$("$PYTHON" "$E2E_DIR/text_diff.py" "$FL_PID")
	expect_eq "while probed: bytes of the target's text that differ from its file, one breakpoint per probe site ($sites)" "$d1" "$sites"
	wait "$GS_PID"
	expect_eq "funclat -d 2 'main.*': exit status" "$?" 0
	grep -q '^main\.' "$TMP/gs.txt" && pass "the report was printed" || fail "no report: $(head -3 "$TMP/gs.txt")"
	d2=-1
	for _ in $(seq 600); do
		if ! pgrep -x goscope-detach >/dev/null; then
			d2=$("$PYTHON" "$E2E_DIR/text_diff.py" "$FL_PID")
			[ "$d2" = 0 ] && break
		fi
		sleep 0.1
	done
	expect_eq "after goscope and its goscope-detach processes: bytes of the target's text that differ from its file" "$d2" 0
else
	fail "goscope funclat did not start: $(tail -3 "$TMP/gs.txt.err")"
fi
if grep -q WRONG "$FL_OUT"; then
	fail "the program computed a wrong result while traced: $(grep WRONG "$FL_OUT" | head -2)"
else
	pass "the program's own results stayed right"
fi
kill -0 "$FL_PID" 2>/dev/null && pass "the program is still running" || fail "the program died"
finish
