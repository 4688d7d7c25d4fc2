"""cpu_check: checks of `goscope cpu --json` output against independent
truths, for tests/e2e/test_cpu_*.sh.

  shares JSON WINDOW        cum shares of main.burnA / main.burnB / main.writes
                            (within 7 points, or 3 sd of goscope's sampling
                            if fewer samples make that wider)
                            vs the CPU seconds tests/go/cpuburn measured for
                            each phase by its thread CPU clock (WINDOW: its
                            "window burnA A burnB B write W" line); kernel
                            frames under the write path; the leaf fix-up
                            (frameless spinA/spinB: their caller follows)
  pprof JSON GOTOP [HZ]     flat shares by user leaf (kernel frames folded
                            into the Go frame that made the system call, as
                            Go's SIGPROF sees it) vs `go tool pprof -top` of
                            the program's own profile, for its top functions
  perf JSON REPORT          flat shares (kernel frames as they are) vs
                            `perf report --no-children --sort sym` of a
                            `perf record` of the same window
  nohex JSON EXE PID [MIN]  no bare hex frame inside EXE's executable
                            segments (elfmini, not goscope, says where they
                            are); at least MIN samples; deep stacks
  folded FILE               root-first lines, kernel frames last with _[k]
"""
import re
import sys

import elfmini
import jstream


def stacks(path):
    objs = jstream.load(path)
    summ = [o for o in objs if o.get("type") == "summary"]
    if len(summ) != 1:
        sys.exit("want one summary object, got %d" % len(summ))
    return [o for o in objs if o.get("type") == "stack"], summ[0], objs


def fname(frame):
    return frame.split(" ")[0]


def cum_share(sts, total, func):
    n = sum(s["samples"] for s in sts if any(fname(f) == func for f in s["stack"]))
    return 100.0 * n / total if total else 0.0


def cmd_shares(path, window):
    sts, summ, _ = stacks(path)
    total = summ["samples"]
    m = re.search(r"burnA ([\d.]+) burnB ([\d.]+) write ([\d.]+)", window)
    if not m:
        sys.exit("no window line: %r" % window)
    truth = [float(x) for x in m.groups()]
    tsum = sum(truth)
    ok = True
    if total < 100:
        print("only %d samples (want >= 100)" % total)
        ok = False
    print("%d samples, program's own CPU in the window %.3f s" % (total, tsum))
    for func, t in zip(("main.burnA", "main.burnB", "main.writes"), truth):
        want = 100.0 * t / tsum
        got = cum_share(sts, total, func)
        # The program's clock is exact: only goscope's sampling error counts.
        tol = max(7.0, tolerance(want, total, 1e12) if total else 7.0)
        good = abs(got - want) <= tol
        ok &= good
        print("%-12s goscope %5.1f%%  program %5.1f%%  %s" % (
            func, got, want, "ok (<= %.1f)" % tol if good else "OFF by > %.1f points" % tol))
    # The write path: most samples under main.writes are in the kernel, and
    # their kernel frames go through the write system call.
    w = [s for s in sts if any(fname(f) == "main.writes" for f in s["stack"])]
    wn = sum(s["samples"] for s in w)
    kw = sum(s["samples"] for s in w
             if any(f.endswith(" [k]") and fname(f) in ("ksys_write", "vfs_write", "__x64_sys_write")
                    for f in s["stack"]))
    print("under main.writes: %d samples, %d with kernel frames of write(2)" % (wn, kw))
    if not wn or kw < 0.5 * wn:
        ok = False
        print("  want >= 50% of them in the kernel's write path")
    # Kernel frames come first (innermost) and then the Go frame that made the call.
    for s in w:
        st = s["stack"]
        k = s["kernel_frames"]
        if k and not all(f.endswith(" [k]") for f in st[:k]):
            ok = False
            print("  kernel frames not first: %s" % st[:k + 1])
            break
    # Leaf fix-up: spinA/spinB have no frame (frame size 0): the frame
    # pointer walk alone would go from them straight to main.main. framed
    # has one: samples on its prologue's or epilogue's instructions around
    # the frame pointer would too (fixed once user space has told the
    # kernel the frame size at that pc: the first few may not be).
    for leaf, caller, want in (("main.spinA", "main.burnA", 0.95), ("main.spinB", "main.burnB", 0.95),
                               ("main.framed", "main.burnB", 0.90)):
        ls = [s for s in sts if s["stack"] and s["kernel_frames"] == 0 and fname(s["stack"][0]) == leaf]
        n = sum(s["samples"] for s in ls)
        good_n = sum(s["samples"] for s in ls if len(s["stack"]) > 1 and fname(s["stack"][1]) == caller)
        print("%s as leaf: %d samples, %d with %s as caller" % (leaf, n, good_n, caller))
        if n == 0 or good_n < want * n:
            ok = False
            print("  want >= %d%% (the leaf fix-up)" % (100 * want))
    return 0 if ok else 1


def tolerance(p, n1, n2):
    """5 points, or 3 standard deviations of the difference of two
    independent samplings of a share P (%) with N1 and N2 samples, if
    wider: a busy machine may leave the program too few samples for 5."""
    q = p / 100.0
    if n1 <= 0 or n2 <= 0:
        return 5.0
    sd = 100.0 * (q * (1 - q) * (1.0 / n1 + 1.0 / n2)) ** 0.5
    return max(5.0, 3 * sd)


def parse_top(path):
    """flat% by function from `go tool pprof -top` text."""
    out = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 6 and f[1].endswith("%") and f[2].endswith("%"):
            try:
                out[" ".join(f[5:])] = float(f[1][:-1])
            except ValueError:
                pass
    return out


def top_seconds(path):
    """`Total samples = 1.20s` of `go tool pprof -top`, in seconds."""
    for line in open(path):
        m = re.search(r"Total samples = ([\d.]+)(ms|s)", line)
        if m:
            return float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
    return 0.0


def cmd_pprof(path, gotop, gohz="100"):
    sts, summ, _ = stacks(path)
    total = summ["samples"]
    flat = {}
    for s in sts:
        st = s["stack"][s["kernel_frames"]:]
        if not st:
            continue
        f = fname(st[0])
        flat[f] = flat.get(f, 0) + s["samples"]
    gs = {f: 100.0 * n / total for f, n in flat.items()}
    go = parse_top(gotop)
    gon = int(top_seconds(gotop) * float(gohz))
    top = sorted(go.items(), key=lambda kv: -kv[1])[:10]
    ok = total >= 100 and gon >= 100
    print("%d goscope samples; Go's own profile: %d functions, %d samples" % (total, len(go), gon))
    for f, want in top:
        got = gs.get(f, 0.0)
        tol = tolerance(want, total, gon)
        good = abs(got - want) <= tol
        ok &= good
        print("%-50s goscope %5.1f%%  runtime/pprof %5.1f%%  %s" % (
            f[:50], got, want, "ok (<= %.1f)" % tol if good else "OFF by > %.1f points" % tol))
    return 0 if ok else 1


def cmd_perf(path, report):
    """Flat shares (kernel frames included) vs `perf report --no-children --sort sym`."""
    sts, summ, _ = stacks(path)
    total = summ["samples"]
    flat = {}
    for s in sts:
        if s["stack"]:
            f = fname(s["stack"][0])
            flat[f] = flat.get(f, 0) + s["samples"]
    perf, pn = {}, 0
    for line in open(report):
        m = re.match(r"\s*([\d.]+)%\s+(\d+)\s+\[([.k])\]\s+(\S+)", line)
        if m:
            perf[m.group(4)] = perf.get(m.group(4), 0.0) + float(m.group(1))
            pn += int(m.group(2))
    top = sorted(perf.items(), key=lambda kv: -kv[1])[:10]
    ok = total >= 100 and pn >= 100
    print("%d goscope samples; perf report: %d symbols, %d samples" % (total, len(perf), pn))
    for f, want in top:
        got = 100.0 * flat.get(f, 0) / total if total else 0.0
        tol = tolerance(want, total, pn)
        good = abs(got - want) <= tol
        ok &= good
        print("%-50s goscope %5.1f%%  perf %5.1f%%  %s" % (
            f[:50], got, want, "ok (<= %.1f)" % tol if good else "OFF by > %.1f points" % tol))
    return 0 if ok else 1


def exec_ranges(exe, pid):
    e = elfmini.Elf(exe)
    bias = elfmini.load_bias(pid, e) if e.type == elfmini.ET_DYN else 0
    return [(s.vaddr + bias, s.vaddr + s.memsz + bias) for s in e.segments
            if s.type == elfmini.PT_LOAD and s.flags & elfmini.PF_X]


def cmd_nohex(path, exe, pid, minimum=50):
    sts, summ, _ = stacks(path)
    rng = exec_ranges(exe, int(pid))
    ok = True
    bad = []
    depth = []
    for s in sts:
        depth += [len(s["stack"])] * s["samples"]
        for f in s["stack"]:
            if re.fullmatch(r"0x[0-9a-f]+", f):
                a = int(f, 16)
                if any(lo <= a < hi for lo, hi in rng):
                    bad.append(f)
    depth.sort()
    med = depth[len(depth) // 2] if depth else 0
    print("%d samples, %d stacks, median depth %d, hex frames in the executable: %d, "
          "goscope's own count: %d" % (summ["samples"], len(sts), med, len(bad), summ["hex_frames"]))
    if bad:
        ok = False
        print("  e.g. %s" % bad[:5])
    if summ["hex_frames"] != 0:
        ok = False
    if summ["samples"] < int(minimum):
        ok = False
        print("  want >= %s samples" % minimum)
    if med < 4:
        ok = False
        print("  want a median depth >= 4")
    return 0 if ok else 1


def cmd_folded(path):
    ok = True
    n = 0
    for line in open(path):
        line = line.rstrip("\n")
        n += 1
        m = re.fullmatch(r"(.+) (\d+)", line)
        if not m:
            print("bad line: %r" % line)
            return 1
        fr = m.group(1).split(";")
        k = [i for i, f in enumerate(fr) if f.endswith("_[k]")]
        if k and k != list(range(len(fr) - len(k), len(fr))):
            ok = False
            print("kernel frames not at the leaf end: %r" % line[:200])
    print("%d folded lines" % n)
    return 0 if ok and n else 1


if __name__ == "__main__":
    cmds = {"shares": cmd_shares, "pprof": cmd_pprof, "perf": cmd_perf, "nohex": cmd_nohex, "folded": cmd_folded}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    sys.exit(cmds[sys.argv[1]](*sys.argv[2:]))
