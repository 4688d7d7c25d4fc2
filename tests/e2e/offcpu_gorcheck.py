#!/usr/bin/env python3
"""offcpu_gorcheck: compare `goscope goroutines PID` with the Go runtime's
own goroutine dump of the same process (GOTRACEBACK=system + SIGQUIT),
taken right after.

goscope prints

    goroutine N gp=0xADDR [STATE]:
    pkg.func()                       <- physical frame
    \tfile.go:LINE pc=0xPC
    pkg.inlined(...)                 <- inlined frame (no pc)
    \tfile.go:LINE

innermost first, without runtime.goexit and without "created by". The
runtime prints "goroutine N [STATE(, N minutes)(, locked to thread)]:" (Go
1.23+: "goroutine N gp=0x.. m=.. [..]:" and a "goroutine 0 .. [idle]" entry
for the signal's g0), the same frames with their arguments and
"+0xOFF fp= sp= pc=", then runtime.goexit and "created by". The states must
agree for every goroutine present in both (goscope's "syscall: NAME" is the
runtime's "syscall"; "(scan)" and the ", N minutes" / ", locked to thread"
annotations are dropped), and so must gp= when the runtime prints it. For
goroutines that are neither running nor runnable (parked or in a system
call: stable while the process is idle) the stacks must be equal frame by
frame: function names (generic shapes as [...]), file:line, inlined frames
in order, and the pc of every physical frame.

Usage: offcpu_gorcheck.py GOSCOPE_OUT DUMP [--label L] [--expect FUNC]...
           [--min-stacks N] [--show N]
Prints counts; exit 0 when everything compared matched.
"""
import argparse
import re
import sys

GO_HDR = re.compile(r"^goroutine (\d+)(?: gp=(0x[0-9a-f]+))?(?: m=\S+)?(?: mp=0x[0-9a-f]+)?"
                    r" \[(.*)\]:\s*$")
GS_HDR = re.compile(r"^goroutine (\d+) gp=(0x[0-9a-f]+) \[(.*)\]:\s*$")
POS = re.compile(r"^\t(?P<file>.*?):(?P<line>-?\d+)(?: \+0x[0-9a-f]+)?"
                 r"(?: fp=0x[0-9a-f]+ sp=0x[0-9a-f]+)?(?: pc=(?P<pc>0x[0-9a-f]+))?\s*$")
UNSTABLE = {"running", "runnable", "idle", "preempted", "copystack", "dead", "moribund",
            "enqueue"}


def name_for_print(name):
    """The runtime's funcNameForPrint: generic shapes print as [...]."""
    i = name.find("[")
    j = name.rfind("]")
    if i < 0 or j <= i:
        return name
    return name[:i] + "[...]" + name[j + 1:]


class G:
    def __init__(self, goid, gp, state):
        self.goid = goid
        self.gp = gp
        self.state = state      # normalized
        self.raw = state
        self.frames = []        # [(func, file, line, pc or None)]
        self.truncated = False
        self.unavailable = False


def norm_state(s):
    s = s.split(", ")[0]
    if s.endswith(" (scan)"):
        s = s[:-len(" (scan)")]
    if s.startswith("syscall: "):
        s = "syscall"
    return s


def parse(text, hdr_re):
    gs = {}
    cur = None
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        ln = lines[i].rstrip("\r")
        m = hdr_re.match(ln)
        if m:
            cur = G(int(m.group(1)), m.group(2), norm_state(m.group(3)))
            cur.raw = m.group(3)
            gs.setdefault(cur.goid, cur)
            i += 1
            continue
        if cur is None:
            i += 1
            continue
        if not ln.strip():
            cur = None
            i += 1
            continue
        if ln.startswith("...") or "frames elided" in ln:
            cur.truncated = True
            i += 1
            continue
        if "stack unavailable" in ln or ln.startswith("\t("):
            cur.unavailable = True
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if ln.startswith("created by "):
            i += 2
            cur = None  # the stack is over; ignore until the next header
            continue
        pm = POS.match(nxt)
        if ln.startswith("\t") or not pm or not ln.endswith(")"):
            i += 1
            continue
        func = name_for_print(ln[:ln.rindex("(")])
        pc = pm.group("pc")
        cur.frames.append((func, pm.group("file"), int(pm.group("line")),
                           int(pc, 16) if pc else None))
        i += 2
    return gs


def fmt_frames(fr):
    return "\n".join("      %s %s:%d%s" % (f, fl, ln, " pc=0x%x" % pc if pc else "")
                     for f, fl, ln, pc in fr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("goscope_out")
    ap.add_argument("dump")
    ap.add_argument("--label", default="")
    ap.add_argument("--expect", action="append", default=[],
                    help="function that must be in a compared, matching stack")
    ap.add_argument("--min-stacks", type=int, default=5)
    ap.add_argument("--show", type=int, default=5)
    a = ap.parse_args()

    with open(a.goscope_out, errors="replace") as f:
        gsc = parse(f.read(), GS_HDR)
    with open(a.dump, errors="replace") as f:
        dump = parse(f.read(), GO_HDR)
    dump.pop(0, None)  # the signal-handling thread's g0 (Go 1.23+)

    problems = []
    common = sorted(set(gsc) & set(dump))
    only_gs = sorted(set(gsc) - set(dump))
    only_go = sorted(set(dump) - set(gsc))
    # Goroutines that came or went between the two looks: tolerated only
    # if they were running or runnable (the process is otherwise idle).
    for goid in only_gs:
        if gsc[goid].state not in UNSTABLE:
            problems.append("goroutine %d [%s] in goscope's list, not in the dump"
                            % (goid, gsc[goid].raw))
    for goid in only_go:
        if dump[goid].state not in UNSTABLE:
            problems.append("goroutine %d [%s] in the dump, not in goscope's list"
                            % (goid, dump[goid].raw))

    states_ok = gp_checked = gp_ok = 0
    stacks = stacks_ok = frames = inlined = 0
    matched_funcs = set()
    for goid in common:
        g, d = gsc[goid], dump[goid]
        if g.state == d.state:
            states_ok += 1
        else:
            problems.append("goroutine %d: state goscope [%s], runtime [%s]"
                            % (goid, g.raw, d.raw))
        if d.gp is not None:
            gp_checked += 1
            if int(d.gp, 16) == int(g.gp, 16):
                gp_ok += 1
            else:
                problems.append("goroutine %d: gp goscope %s, runtime %s" % (goid, g.gp, d.gp))
        if d.state in UNSTABLE or g.state in UNSTABLE or d.unavailable or g.state != d.state:
            continue
        want = [fr for fr in d.frames if fr[0] != "runtime.goexit"]
        got = list(g.frames)
        if len([x for x in got if x[3] is not None]) >= 64 or d.truncated:
            # goscope unwinds 64 physical frames at most, the runtime 100:
            # compare the common prefix.
            n = min(len(got), len(want))
            got, want = got[:n], want[:n]
        stacks += 1
        if got == want and want:
            stacks_ok += 1
            frames += len(want)
            inlined += sum(1 for x in want if x[3] is None)
            matched_funcs.update(x[0] for x in want)
        else:
            problems.append("goroutine %d [%s]: stacks differ\n    goscope:\n%s\n    runtime:\n%s"
                            % (goid, d.raw, fmt_frames(got), fmt_frames(want)))

    missing = [f for f in a.expect if f not in matched_funcs]
    for f in missing:
        problems.append("expected function %s in no matching stack" % f)
    if stacks < a.min_stacks:
        problems.append("too few stacks compared (%d < %d)" % (stacks, a.min_stacks))
    if not common:
        problems.append("no goroutine in common")

    lbl = (a.label + ": ") if a.label else ""
    print("%sgoroutines: goscope %d, runtime dump %d, in both %d; states equal %d/%d;"
          " gp= equal %d/%d" % (lbl, len(gsc), len(dump), len(common), states_ok,
                                len(common), gp_ok, gp_checked))
    print("%sstacks of parked/syscall goroutines equal %d/%d (%d frames, %d of them inlined)"
          % (lbl, stacks_ok, stacks, frames, inlined))
    for p in problems[:a.show]:
        print("MISMATCH " + p)
    if len(problems) > a.show:
        print("... %d more" % (len(problems) - a.show))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
