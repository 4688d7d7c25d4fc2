#!/usr/bin/env python3
"""gc_offsets_measure: measure the offsets of goscope gc's table
(src/gobin/goruntime.c, goruntime_gc_offsets_table) on a stripped Go binary
of a release not in it, against GODEBUG=gctrace=1.

  gc_offsets_measure.py PID GCTRACE_FILE [SAMPLES]

PID runs with GODEBUG=gctrace=1 (its stderr in GCTRACE_FILE) and collects
often (GOGC=5 and some work). Each sample stops it (SIGSTOP), takes the last
complete gctrace line, reads the binary's data and bss and continues it.
It looks for runtime.work by its four phase clocks (tSweepTerm, tMark,
tMarkTerm, tEnd: consecutive words whose differences are the three clock
phases gctrace printed) and for runtime.gcController by its CPU split
(assistTime, dedicatedMarkTime, fractionalMarkTime, idleMarkTime:
consecutive words equal to the assist, background and idle CPU gctrace
printed); then, around them, the words holding the cycle number, the P
count, heap start/end/live, the goal, and the stack and globals figures.
A sample taken while a cycle runs matches nothing and is taken again.

It prints the offsets in goruntime.c's numbering (that of Go 1.19's DWARF:
tSweepTerm at 360, assistTime at 224): only distances within each struct
matter, since goscope finds the structs' bases by decoding
runtime.gcMarkTermination. Offsets found at the same place in every sample
are the measurement; compare them with the release's mgc.go and mgcpacer.go.
"""
import os
import re
import signal
import struct
import subprocess
import sys
import time

GCTRACE = re.compile(
    r"^gc (\d+) @[\d.]+s \d+%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock, "
    r"([\d.]+)\+([\d.]+)/([\d.]+)/([\d.]+)\+([\d.]+) ms cpu, "
    r"(\d+)->(\d+)->(\d+) MB, (\d+) MB goal, (?:(\d+) MB stacks, (\d+) MB globals, )?(\d+) P")
MB = 1 << 20
TSWEEPTERM, ASSIST = 360, 224  # Go 1.19's DWARF offsets: the anchors


def data_range(exe):
    """The lowest and highest address of .noptrdata, .data, .bss, .noptrbss."""
    out = subprocess.run(["readelf", "-S", "-W", exe], capture_output=True, text=True,
                         check=True).stdout
    lo = hi = None
    for line in out.splitlines():
        m = re.search(r"\] (\.\S+)\s+\S+\s+([0-9a-f]+) [0-9a-f]+ ([0-9a-f]+)", line)
        if m and m.group(1) in (".noptrdata", ".data", ".bss", ".noptrbss"):
            a, n = int(m.group(2), 16), int(m.group(3), 16)
            lo = a if lo is None else min(lo, a)
            hi = a + n if hi is None else max(hi, a + n)
    if lo is None:
        sys.exit("no data sections in " + exe)
    return lo, hi


def near(ns, ms):
    """ns is what gctrace printed as ms (2 significant digits, whole ms from 10)."""
    want = ms * 1e6
    if ms >= 10:
        return want - 1e5 <= ns <= want + 1e6
    return abs(ns - want) <= max(0.12 * want, 2e4)


def last_cycle(path):
    lines = open(path, errors="replace").read().split("\n")[:-1]
    for line in reversed(lines):
        m = GCTRACE.match(line)
        if m:
            return [float(x) if x is not None else None for x in m.groups()], line
    return None, None


def words(data, at, lo, hi, fmt):
    size = struct.calcsize(fmt)
    for off in range(lo, hi, size):
        if 0 <= at + off and at + off + size <= len(data):
            yield off, struct.unpack_from(fmt, data, at + off)[0]


def analyse(g, data):
    (n, sweep, mark, mterm, _, assist, bg, idle, _, h0, h1, h2, goal, stacks, globs,
     procs) = g
    q = struct.unpack_from("<%dq" % (len(data) // 8), data)
    work = [8 * i for i in range(len(q) - 3)
            if q[i] > 1e9 and q[i] < q[i + 1] < q[i + 2] < q[i + 3] and
            near(q[i + 1] - q[i], sweep) and near(q[i + 2] - q[i + 1], mark) and
            near(q[i + 3] - q[i + 2], mterm)]
    gcc = [8 * i for i in range(len(q) - 3)
           if min(q[i:i + 4]) >= 0 and near(q[i], assist) and near(q[i + 1] + q[i + 2], bg) and
           near(q[i + 3], idle)]
    if len(work) != 1 or len(gcc) != 1:
        return None
    w, c, found = work[0], gcc[0], {}

    def add(name, off):
        found.setdefault(name, set()).add(off)
    for off, v in words(data, w, -200, 160, "<I"):
        if v == n:
            add("work.cycles (uint32)", TSWEEPTERM + off)
        if v == procs:
            add("work.stwprocs/maxprocs (int32, = P)", TSWEEPTERM + off)
    for off, v in words(data, w, -200, 160, "<Q"):
        for name, mb in (("work.heap0", h0), ("work.heap1", h1), ("work.heap2", h2)):
            if mb * MB <= v < (mb + 1) * MB:
                add(name, TSWEEPTERM + off)
    for off, v in words(data, c, -224, 64, "<Q"):
        if goal * MB <= v < (goal + 1) * MB:
            add("gcController heap goal", ASSIST + off)
        if stacks is not None and stacks * MB <= v < (stacks + 1) * MB:
            add("gcController stacks (gctrace's MB stacks)", ASSIST + off)
        if globs is not None and globs * MB <= v < (globs + 1) * MB:
            add("gcController globals (gctrace's MB globals)", ASSIST + off)
    for name, off in (("work.tSweepTerm", TSWEEPTERM), ("gcController.assistTime", ASSIST)):
        add(name, off)
    return found


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    pid, trace = int(sys.argv[1]), sys.argv[2]
    samples = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    lo, hi = data_range("/proc/%d/exe" % pid)
    every = None
    taken = 0
    for _ in range(samples * 200):
        if taken == samples:
            break
        try:
            os.kill(pid, signal.SIGSTOP)
            try:
                time.sleep(0.02)
                g, line = last_cycle(trace)
                with open("/proc/%d/mem" % pid, "rb") as f:
                    f.seek(lo)
                    data = f.read(hi - lo)
            finally:
                os.kill(pid, signal.SIGCONT)
        except (ProcessLookupError, OSError) as e:
            print("pid %d: %s: sampling ends" % (pid, e))
            break
        found = analyse(g, data) if g else None
        if not found:
            time.sleep(0.01)
            continue
        taken += 1
        print("sample %d: %s" % (taken, line[:110]))
        if every is None:
            every = found
        else:
            every = {k: every[k] & found.get(k, set()) for k in every}
        time.sleep(0.5)
    if not every:
        sys.exit("no sample matched gctrace (is the program collecting?)")
    print("offsets found in every one of %d samples (Go 1.19 numbering):" % taken)
    for name, offs in sorted(every.items(), key=lambda kv: min(kv[1]) if kv[1] else 0):
        print("  %-45s %s" % (name, ", ".join(str(o) for o in sorted(offs)) or "(none)"))


if __name__ == "__main__":
    main()
