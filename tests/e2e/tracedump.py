#!/usr/bin/env python3
"""tracedump: check `goscope addr2line -i` against the Go runtime's own
traceback (GOTRACEBACK=system, SIGQUIT).

The runtime prints every frame of every goroutine as

    pkg.func(args)                  <- physical frame
        file.go:LINE +0xOFF fp=0x.. sp=0x.. pc=0xPC
    pkg.inlined(...)                <- inlined frame: no pc=
        file.go:LINE

and the inlined frames listed since the previous physical frame belong to
the next physical frame (they were inlined into it, innermost first). The
runtime symbolizes a return address at pc-1 (the CALL), except for the
innermost frame of a goroutine interrupted by a signal and the frame below
runtime.sigpanic, where pc is the faulting instruction itself. So for every
physical frame, `goscope addr2line -i TARGET` at pc-1 must print exactly the
inlined frames then the physical one, with the same function names and
file:line; for the first frame of a goroutine, and after sigpanic, pc or
pc-1 may match. Frames whose pc is outside the binary's executable segments
(pc=0x0 and the like) are not goscope's business and are counted apart.

Usage:
  tracedump.py check --goscope G --binary BIN --dump STDERR_FILE
  tracedump.py check --goscope G --pid PID --dump STDERR_FILE
      With --pid, goscope is started on the PID while the process lives
      (run-time addresses; PIE load bias applied by goscope), then this
      script sends SIGQUIT, waits for the process to die and feeds goscope
      the dump's pcs.
  Options: --expect FUNC (repeatable): FUNC must appear in the dump;
           --min-frames N: fewer checked frames is a failure (default 10).
Exit 0 when every checked frame matched.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time

import elfmini

GOROUTINE_RE = re.compile(r"^goroutine \d+.*\[.*\]:\s*$")
POS_RE = re.compile(
    r"^\t(?P<file>.*?):(?P<line>\d+)(?: \+0x[0-9a-f]+)?"
    r"(?: fp=0x[0-9a-f]+ sp=0x[0-9a-f]+ pc=(?P<pc>0x[0-9a-f]+))?\s*$")


def name_for_print(name):
    """The runtime's funcNameForPrint: generic shapes print as [...]."""
    i = name.find("[")
    j = name.rfind("]")
    if i < 0 or j <= i:
        return name
    return name[:i] + "[...]" + name[j + 1:]


class Frame:
    """One physical frame of the dump and the inlined frames inside it."""

    def __init__(self, goroutine, pc, expected, exact_ok):
        self.goroutine = goroutine
        self.pc = pc
        self.expected = expected  # [(func, file, line)], innermost first
        self.exact_ok = exact_ok  # pc itself (not pc-1) is a fair lookup


def parse_dump(text):
    """Physical frames of all goroutines in a SIGQUIT dump, in order."""
    lines = text.split("\n")
    frames = []
    goroutine = None
    pending = []          # inlined frames waiting for their physical frame
    first = True          # next physical frame is a goroutine's innermost
    after_sigpanic = False
    i = 0
    while i < len(lines):
        ln = lines[i]
        if GOROUTINE_RE.match(ln):
            goroutine = ln.rstrip(":")
            pending, first, after_sigpanic = [], True, False
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if goroutine is None or ln.startswith("\t") or not nxt.startswith("\t"):
            if ln.startswith("...") or not ln.strip():
                pending = []  # "...additional frames elided..." or end of trace
            i += 1
            continue
        if ln.startswith("created by ") or not ln.endswith(")"):
            pending = []
            i += 2
            continue
        m = POS_RE.match(nxt)
        if not m:
            i += 1
            continue
        func = ln[:ln.rindex("(")]
        pos = (name_for_print(func), m.group("file"), int(m.group("line")))
        if m.group("pc") is None:
            pending.append(pos)
        else:
            frames.append(Frame(goroutine, int(m.group("pc"), 16),
                                pending + [pos], first or after_sigpanic))
            pending, first = [], False
            after_sigpanic = func == "runtime.sigpanic"
        i += 2
    return frames


def parse_a2l_inline(out):
    """{addr: [(func, file, line)]} from `goscope addr2line -i` output."""
    res = {}
    cur = None
    lines = out.split("\n")
    i = 0
    while i < len(lines):
        ln = lines[i]
        if re.match(r"^0x[0-9a-f]{16}$", ln):
            cur = res.setdefault(int(ln, 16), [])
            i += 1
            continue
        if cur is not None and ln and i + 1 < len(lines):
            file, _, line = lines[i + 1].rpartition(":")
            try:
                cur.append((name_for_print(ln), file, int(line)))
            except ValueError:
                cur.append((ln, lines[i + 1], -999))
            i += 2
            continue
        i += 1
    return res


def wait_dead(pid, timeout):
    """Until PID is gone or a zombie."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            if state in ("Z", "X"):
                return True
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return True
        time.sleep(0.05)
    return False


def addr_text(addrs):
    return "".join("0x%x\n" % a for a in addrs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["check"])
    ap.add_argument("--goscope", required=True)
    ap.add_argument("--binary")
    ap.add_argument("--pid", type=int)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--min-frames", type=int, default=10)
    ap.add_argument("--show", type=int, default=10, help="mismatches to print")
    a = ap.parse_args()
    if bool(a.binary) == bool(a.pid):
        ap.error("give exactly one of --binary, --pid")

    if a.pid:
        elf = elfmini.Elf("/proc/%d/exe" % a.pid)
        bias = elfmini.load_bias(a.pid, elf)
        target = str(a.pid)
    else:
        elf = elfmini.Elf(a.binary)
        bias = 0
        target = a.binary
    ranges = [(lo + bias, hi + bias) for lo, hi in elf.exec_ranges()]

    gs = subprocess.Popen([a.goscope, "addr2line", "-i", target],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    if a.pid:
        # A first address proves goscope has opened the live target; only
        # then may the process die.
        gs.stdin.write("0x0\n")
        gs.stdin.flush()
        first = gs.stdout.readline()
        if not first.startswith("0x"):
            _, err = gs.communicate()
            print("goscope addr2line -i %d failed: %s%s" % (a.pid, first, err.strip()))
            return 1
        for _ in range(2):
            gs.stdout.readline()
        os.kill(a.pid, signal.SIGQUIT)
        if not wait_dead(a.pid, 30):
            print("pid %d did not exit after SIGQUIT" % a.pid)
            gs.kill()
            return 1

    with open(a.dump, errors="replace") as f:
        text = f.read()
    frames = parse_dump(text)
    checked = [fr for fr in frames if any(lo <= fr.pc < hi for lo, hi in ranges)]
    outside = len(frames) - len(checked)
    addrs = set()
    for fr in checked:
        addrs.add(fr.pc - 1)
        if fr.exact_ok:
            addrs.add(fr.pc)
    out, err = gs.communicate(addr_text(sorted(addrs)))
    if gs.returncode != 0:
        print("goscope addr2line -i %s: exit %d: %s" % (target, gs.returncode, err.strip()))
        return 1
    got = parse_a2l_inline(out)

    matched, inlined, bad = 0, 0, []
    for fr in checked:
        cands = [fr.pc - 1] + ([fr.pc] if fr.exact_ok else [])
        if any(got.get(c) == fr.expected for c in cands):
            matched += 1
            inlined += len(fr.expected) - 1
        else:
            bad.append((fr, {c: got.get(c) for c in cands}))

    names = {e[0] for fr in frames for e in fr.expected}
    missing = [x for x in a.expect if x not in names]
    ngor = len({fr.goroutine for fr in frames})
    print("dump: %d goroutines, %d physical frames, %d outside the binary"
          % (ngor, len(frames), outside))
    print("frames matched: %d/%d (with %d inlined frames)"
          % (matched, len(checked), inlined))
    for fr, gotc in bad[:a.show]:
        print("MISMATCH %s pc=0x%x" % (fr.goroutine, fr.pc))
        print("  runtime: %s" % fr.expected)
        for c, g in gotc.items():
            print("  goscope @0x%x: %s" % (c, g))
    if missing:
        print("functions missing from the dump: %s" % ", ".join(missing))
    if bad or missing or len(checked) < a.min_frames:
        if len(checked) < a.min_frames:
            print("too few frames checked (%d < %d)" % (len(checked), a.min_frames))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
