#!/usr/bin/env python3
"""gc_check: `goscope gc --json` against the truth of the same run.

  gc_check.py gctrace GCTRACE_FILE GOSCOPE_JSON [--min-cycles N]
      every cycle goscope reports is in GODEBUG=gctrace=1's output with the
      same number; no number missing between the first and the last; the
      three clock phases within 20% or 100 us; heap start/end/live and goal
      within 1 MB (gctrace prints whole MB, rounded down); the CPU split
      (assist, background, idle) where goscope gives it, within what
      gctrace's rounding leaves; GOMAXPROCS equal;
      "forced" exactly where gctrace says "(forced)".
  gc_check.py timed GCTRACE_FILE GOSCOPE_JSON [--min-cycles N]
      for releases whose runtime.work goscope cannot read (cycles timed by
      the pause probes; the number from work.cycles found by decoding):
      goscope's cycles are consecutive gctrace cycles with the same numbers
      (none missing) whose
      three clock phases agree within 20% or 100 us (200 us for the
      stop-the-world phases, which hold the probes' own cost), and whose
      GOMAXPROCS (when goscope gives it) is gctrace's P count.
  gc_check.py assists GOSCOPE_JSON FUNC
      assists were reported, and the largest total is on stacks through FUNC.
  gc_check.py assist-cpu GCTRACE_FILE GOSCOPE_JSON
      the assist rows' time ("us") adds up to gctrace's assist CPU (the A of
      "A+B/C/D ms cpu") summed over the cycles goscope reports, within 20%;
      the probe-timed rounds ("probe_us") are not less than 80% of it; more
      than one goroutine assisted.
  gc_check.py pauses GOSCOPE_JSON
      a program that stops the world only for its GC (esbuild): the summary
      counts two GC pauses per cycle it counts (the sweep and the mark
      termination; 2 more or fewer for the window's edges) and no other
      pause, and no pause is left without a reason.
  gc_check.py ratio FOLDED FUNC_A FUNC_B EXPECTED_PCT
      FUNC_A's share of the bytes under FUNC_A or FUNC_B is EXPECTED_PCT
      within 10 points.
"""
import re
import sys

from jstream import load as read_json_lines

GCTRACE = re.compile(
    r"^gc (\d+) @[\d.]+s \d+%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock, .*? "
    r"(\d+)->(\d+)->(\d+) MB, (\d+) MB goal, .*?(\d+) P")

GCTRACE_CPU = re.compile(r"^gc \d+ .* ms clock, [\d.]+\+([\d.]+)/([\d.]+)/([\d.]+)\+[\d.]+ ms cpu")


def fail(msg):
    print(msg)
    sys.exit(1)


def gctrace(args):
    trace, js = args[0], args[1]
    min_cycles = int(args[3]) if len(args) > 3 and args[2] == "--min-cycles" else 10
    truth, forced, cpu, garbled = {}, set(), {}, set()
    lines = open(trace, errors="replace").read().split("\n")
    pieces = []  # indexes of gctrace-like lines that do not parse
    for i, line in enumerate(lines):
        m = GCTRACE.match(line)
        if not m and ("ms clock" in line or "MB goal" in line or " ms cpu" in line):
            pieces.append(i)
        # The runtime prints a gctrace line piece by piece: the program's own
        # writes to stderr from another thread can land inside it.
        for g in re.finditer(r"gc (\d+) @[\d.]+s", line):
            if not m or int(g.group(1)) != int(m.group(1)):
                garbled.add(int(g.group(1)))
        if m:
            truth[int(m.group(1))] = [float(x) for x in m.groups()[1:]]
            if "(forced)" in line:
                forced.add(int(m.group(1)))
            m2 = GCTRACE_CPU.match(line)
            if m2:
                cpu[int(m.group(1))] = [float(x) * 1000 for x in m2.groups()]
    # A cycle whose line is missing between its neighbours' lines while a
    # piece of a gctrace line sits there was cut beyond recognition.
    at = {}
    for i, line in enumerate(lines):
        m = GCTRACE.match(line)
        if m:
            at[int(m.group(1))] = i

    def cut(n):
        # its neighbours' lines (or the trace's ends) with a piece between them
        lo, hi = at.get(n - 1, -1), at.get(n + 1, len(lines))
        return any(lo < i < hi for i in pieces)
    cycles = [o for o in read_json_lines(js) if o.get("event") == "cycle"]
    if len(cycles) < min_cycles:
        fail("only %d cycles reported (want >= %d)" % (len(cycles), min_cycles))
    nums = [c["cycle"] for c in cycles]
    if None in nums:
        fail("a cycle without its number")
    missing = sorted(set(range(min(nums), max(nums) + 1)) - set(nums))
    if missing:
        fail("cycles missing between gc %d and gc %d: %s" % (min(nums), max(nums), missing[:10]))
    bad, skipped = [], []
    for c in cycles:
        t = truth.get(c["cycle"])
        if t is None and (c["cycle"] in garbled or cut(c["cycle"])) and len(skipped) < 2:
            skipped.append(c["cycle"])
            print("gc %d: its gctrace line is cut by the program's own output: not compared" % c["cycle"])
            continue
        if t is None:
            n = c["cycle"]
            lo, hi = at.get(n - 1, 0), at.get(n + 1, len(lines) - 1)
            ctx = "\n".join("    | " + l[:200] for l in lines[lo:hi + 1][:8])
            fail("gc %d is not in gctrace's output; the trace between gc %d and gc %d:\n%s" % (n, n - 1, n + 1, ctx))
        sweep, mark, markterm, h0, h1, h2, goal, procs = t
        for name, ours, ms in (("sweep termination", c["stw_sweep_termination_us"], sweep),
                               ("concurrent mark", c["concurrent_mark_us"], mark),
                               ("mark termination", c["stw_mark_termination_us"], markterm)):
            us = ms * 1000
            # gctrace prints two significant digits (or whole ms from 10 ms).
            if abs(ours - us) > max(0.2 * us, 100):
                bad.append("gc %d %s %.1f us vs gctrace %.3f ms" % (c["cycle"], name, ours, ms))
        for name, key, mb in (("heap start", "heap_start_bytes", h0),
                              ("heap end", "heap_end_bytes", h1),
                              ("heap live", "heap_live_bytes", h2),
                              ("heap goal", "heap_goal_bytes", goal)):
            ours = c[key] / 1048576.0
            if abs(ours - mb) > 1.0:
                bad.append("gc %d %s %.2f MB vs gctrace %d MB" % (c["cycle"], name, ours, mb))
        # gctrace prints 2 significant digits below 10 ms, whole ms (truncated) above.
        for name, key, us in zip(("assist", "background", "idle"),
                                 ("cpu_assist_us", "cpu_background_us", "cpu_idle_us"),
                                 cpu.get(c["cycle"], [])):
            if c.get(key) is not None and abs(c[key] - us) > max(0.1 * us, 1000 if us >= 10000 else 20):
                bad.append("gc %d CPU %s %.1f us vs gctrace %.3f ms" % (c["cycle"], name, c[key], us / 1000))
        if c["procs"] != int(procs):
            bad.append("gc %d procs %d vs %d" % (c["cycle"], c["procs"], procs))
        if (c["trigger"] == "forced") != (c["cycle"] in forced):
            bad.append("gc %d trigger %s, gctrace %s" % (c["cycle"], c["trigger"],
                                                         "forced" if c["cycle"] in forced else "not forced"))
    if bad:
        fail("%d disagreements, first: %s" % (len(bad), "; ".join(bad[:5])))
    nforced = sum(1 for c in cycles if c["trigger"] == "forced")
    print("%d cycles gc %d..%d (%d forced), all in gctrace with the same phases, heap, procs"
          " and forced or not" % (len(cycles), min(nums), max(nums), nforced))


def timed(args):
    trace, js = args[0], args[1]
    min_cycles = int(args[3]) if len(args) > 3 and args[2] == "--min-cycles" else 2
    truth = []
    for line in open(trace, errors="replace"):
        m = GCTRACE.match(line)
        if m:
            truth.append((int(m.group(1)), [float(x) * 1000 for x in m.groups()[1:4]],
                          int(m.group(9))))
    cycles = [o for o in read_json_lines(js) if o.get("event") == "cycle"]
    if len(cycles) < min_cycles:
        fail("only %d cycles reported (want >= %d)" % (len(cycles), min_cycles))
    keys = ("stw_sweep_termination_us", "concurrent_mark_us", "stw_mark_termination_us")
    if any(c.get("procs") is None for c in cycles):
        fail("a cycle without GOMAXPROCS")
    if any(c.get("cycle") is None for c in cycles):
        fail("a cycle without its number")

    def agree(c, t):
        if c["cycle"] != t[0]:
            return False
        t = t[1:]
        if c.get("procs") is not None and c["procs"] != t[1]:
            return False
        t = t[0]
        if c[keys[0]] is None:
            return True
        slack = (200, 100, 200)
        return all(abs(c[k] - us) <= max(0.2 * us, sl) for k, us, sl in zip(keys, t, slack))

    for k in range(len(truth) - len(cycles) + 1):
        if all(agree(c, truth[k + i]) for i, c in enumerate(cycles)):
            procs = sorted({c.get("procs") for c in cycles}, key=str)
            print("%d cycles = gctrace gc %d..%d, phases within 20%%, procs %s" %
                  (len(cycles), truth[k][0], truth[k + len(cycles) - 1][0], procs))
            return
    for c in cycles:
        print("goscope: %s" % ([c[k] for k in keys],))
    for n, t, p in truth:
        print("gctrace gc %d: %s %d P" % (n, t, p))
    fail("no run of consecutive gctrace cycles matches goscope's %d" % len(cycles))


def assists(args):
    js, func = args
    rows = [o for o in read_json_lines(js) if o.get("event") == "assist"]
    if not rows:
        fail("no assist reported")
    through = sum(r["us"] for r in rows if any(func in f for f in r.get("stack", [])))
    total = sum(r["us"] for r in rows)
    if total <= 0 or through < 0.5 * total:
        fail("assists through %s: %.0f of %.0f us" % (func, through, total))
    goids = {r["goid"] for r in rows if r["goid"]}
    print("%d assist rows, %.0f us, %.0f%% on stacks through %s, %d goroutines" %
          (len(rows), total, 100 * through / total, func, len(goids)))


def assist_cpu(args):
    trace, js = args
    cpu = re.compile(r"^gc (\d+) .* ms clock, [\d.]+\+([\d.]+)/[\d.]+/[\d.]+\+[\d.]+ ms cpu")
    truth = {}
    for line in open(trace, errors="replace"):
        m = cpu.match(line)
        if m:
            truth[int(m.group(1))] = float(m.group(2)) * 1000
    o = read_json_lines(js)
    nums = [c["cycle"] for c in o if c.get("event") == "cycle"]
    rows = [r for r in o if r.get("event") == "assist"]
    if len(nums) < 10 or any(n not in truth for n in nums):
        fail("%d cycles, %d not in gctrace" % (len(nums), len([n for n in nums if n not in truth])))
    want = sum(truth[n] for n in nums)
    ours = sum(r["us"] for r in rows)
    probe = sum(r["probe_us"] for r in rows)
    goids = {r["goid"] for r in rows if r["us"] > 0}
    msg = ("goscope %.0f us (probe-timed %.0f) over %d assist rows of %d goroutines; gctrace %.0f us"
           " over gc %d..%d" % (ours, probe, len(rows), len(goids), want, min(nums), max(nums)))
    if want <= 0 or abs(ours - want) > 0.2 * want or probe < 0.8 * want or len(goids) < 2:
        fail(msg)
    print(msg)


def ratio(args):
    folded, fa, fb, want = args[0], args[1], args[2], float(args[3])
    a = b = 0
    for line in open(folded):
        stack, _, n = line.rstrip("\n").rpartition(" ")
        frames = stack.split(";")
        if fa in frames:
            a += int(n)
        elif fb in frames:
            b += int(n)
    if a + b == 0:
        fail("no bytes under %s or %s" % (fa, fb))
    pct = 100.0 * a / (a + b)
    if abs(pct - want) > 10:
        fail("%s has %.1f%% of the bytes, want %.0f%% +- 10" % (fa, pct, want))
    print("%s %.1f%% of %d bytes (want %.0f%%)" % (fa, pct, a + b, want))


def pauses(args):
    objs = list(read_json_lines(args[0]))
    summ = [o for o in objs if o.get("event") == "summary"]
    if len(summ) != 1:
        fail("%d summaries" % len(summ))
    s = summ[0]
    n, gcp, other = s["cycles"], s["gc_pauses"], s["other_pauses"]
    if n < 1 or abs(gcp - 2 * n) > 2:
        fail("%d GC pauses for %d cycles (want 2 per cycle, +-2)" % (gcp, n))
    unnamed = [o for o in objs if o.get("event") == "stw" and not o.get("reason")]
    if other or unnamed:
        fail("%d other pauses, %d without a reason: %s" % (other, len(unnamed), unnamed[:2]))
    print("%d GC pauses for %d cycles, no other pause" % (gcp, n))


if __name__ == "__main__":
    {"gctrace": gctrace, "timed": timed, "assists": assists, "assist-cpu": assist_cpu,
     "ratio": ratio, "pauses": pauses}[sys.argv[1]](sys.argv[2:])
