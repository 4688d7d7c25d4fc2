#!/usr/bin/env python3
"""offcpu_report: parse `goscope offcpu` output (-f folded, -f top) and
check it against truths given on the command line.

Folded lines are "frame;frame;...;[reason] MICROSECONDS", root first; with
several processes (or no -p) the first frame is "exe (pid)". Top rows are

     TOTAL      %   WAITS   GORS      P50      P99      MAX  [REASON]( pid N EXE)
        func  file:line            <- innermost first, from the first
        ...                           frame outside package runtime

Subcommands (each prints what it found; exit 0 when every check holds):

  folded FILE [--expect FUNC=REASON]... [--window-us W] [--max-us M]
              [--tol 0.15] [--dump SIGQUIT_DUMP]
      For each FUNC: the folded lines with FUNC as a frame all end in
      [REASON] and their total is within TOL of W (and at most M); with
      --dump, REASON equals the state the runtime's own dump gives the
      goroutine whose stack holds FUNC ("syscall: NAME" is "syscall").
  top FILE [--expect FUNC=REASON]... [--window-us W] [--tol 0.15]
      For each FUNC: one row whose stack holds FUNC, with that reason,
      GORS 1 and TOTAL within TOL of W.
  truth FILE --t0 JSON --t1 JSON --window-us W [--tol 0.15]
              --pattern NAME=FUNC...
      Truth from a program that measures its own blocked time
      (tests/go/periodic: JSON with mono_ns and NAME_ns, sampled before and
      after the trace): blocked fraction f = delta NAME_ns / delta mono_ns;
      the folded lines with FUNC as a frame (any reason) must total f * W
      within TOL.
  row FILE --func F [--reason R] [--absent] [--p50-ms LO:HI]
           [--waits N] [--tol 0.15] [--min-total-us U]
           [--unless-gap-ms W --threshold-ms T]
      -f top: the rows whose stack holds F (and reason R): at least one,
      or none with --absent; each one's P50 within [LO, HI] ms, their WAITS
      summed within TOL of N, their TOTAL summed at least U. With
      --unless-gap-ms W --threshold-ms T (--min-wait T): when the header's
      longest gap between snapshots G is such that G + W >= T, rows are
      allowed if no wait in them is longer than G + W (waits of at most W
      ms first seen after the gap are credited all of it).
  minp50 FILE MS
      -f top: every row's P50 is at least MS milliseconds (--min-wait MS
      must have dropped every shorter wait), and there is a row.
  vocab FILE BINARY
      Every reason in the folded FILE is "runnable", "syscall: NAME", or a
      string the Go binary itself contains (its runtime's wait-reason
      table is stored as plain string bytes).
  dumpmatch FILE DUMP --func F...
      For each F: the runtime's SIGQUIT dump gives the goroutines whose
      stack holds F one state, and it is the reason with the most time on
      the folded lines with frame F (runnable aside; "syscall: NAME" is
      "syscall"): a server under load may show a moment of another wait.
  sum FILE [--frame F]... [--not-frame F]... [--reason R] [--prefix P]
      Print the total microseconds of the folded lines that have every
      --frame, none of the --not-frame, reason R (exact) and first frame
      starting with P.
  lines FILE [--frame F]... [--reason R]
      Print the matching folded lines.
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def parse_folded(path):
    """[(frames, reason, us)] from a folded file; raises on a bad line."""
    out = []
    with open(path, errors="replace") as f:
        for n, ln in enumerate(f, 1):
            ln = ln.rstrip("\n")
            if not ln:
                continue
            stack, _, count = ln.rpartition(" ")
            frames = stack.split(";")
            leaf = frames[-1]
            if not count.isdigit() or not (leaf.startswith("[") and leaf.endswith("]")):
                raise ValueError("%s:%d: not a folded line: %r" % (path, n, ln))
            out.append((frames[:-1], leaf[1:-1], int(count)))
    return out


DUR = re.compile(r"^([\d.]+)(s|ms|us|ns)$")


def dur_us(s):
    m = DUR.match(s)
    if not m:
        raise ValueError("not a duration: %r" % s)
    return float(m.group(1)) * {"s": 1e6, "ms": 1e3, "us": 1.0, "ns": 1e-3}[m.group(2)]


ROW = re.compile(r"^\s*(\S+)\s+([\d.]+)%\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+"
                 r"\[(.*?)\](?: pid (\d+) (.*))?$")
HDR = re.compile(r"^goscope offcpu: (\d+) process(?:es)?, ([\d.]+) s, ")


def parse_top(path):
    """(elapsed_s or None, [row dict]) from -f top output."""
    rows, cur, elapsed = [], None, None
    with open(path, errors="replace") as f:
        for ln in f:
            ln = ln.rstrip("\n")
            m = HDR.match(ln)
            if m:
                elapsed = float(m.group(2))
                continue
            m = ROW.match(ln)
            if m and not ln.startswith("        "):
                cur = {"total_us": dur_us(m.group(1)), "pct": float(m.group(2)),
                       "waits": int(m.group(3)), "gors": int(m.group(4)),
                       "p50": m.group(5), "p99": m.group(6), "max": m.group(7),
                       "reason": m.group(8), "funcs": []}
                rows.append(cur)
                continue
            if cur is not None and ln.startswith("        ") and ln.strip():
                if ln.strip().startswith("goroutines:"):
                    continue  # the goroutine ids line, when printed
                cur["funcs"].append(ln.strip().split("  ")[0])
            elif not ln.strip():
                cur = None
    return elapsed, rows


def norm_reason(r):
    return "syscall" if r.startswith("syscall") else r


def expects(lst):
    res = []
    for e in lst:
        func, sep, reason = e.partition("=")
        if not sep:
            raise SystemExit("--expect wants FUNC=REASON, got %r" % e)
        res.append((func, reason))
    return res


def within(got, want, tol):
    return abs(got - want) <= tol * want


def cmd_folded(a):
    lines = parse_folded(a.file)
    dump = None
    if a.dump:
        import offcpu_gorcheck
        with open(a.dump, errors="replace") as f:
            dump = offcpu_gorcheck.parse(f.read(), offcpu_gorcheck.GO_HDR)
    bad = 0
    for func, reason in expects(a.expect):
        mine = [l for l in lines if func in l[0]]
        total = sum(l[2] for l in mine)
        reasons = sorted({l[1] for l in mine})
        msg = "%-22s reasons %s, %d line(s), total %d us" % (func, reasons, len(mine), total)
        ok = bool(mine) and reasons == [reason]
        if a.window_us:
            msg += " (truth %d us, %+.1f%%)" % (a.window_us,
                                               100.0 * (total - a.window_us) / a.window_us)
            ok = ok and within(total, a.window_us, a.tol)
        if a.max_us and total > a.max_us:
            msg += " > the %d us the test waited" % a.max_us
            ok = False
        if dump is not None:
            gs = [g for g in dump.values() if any(fr[0] == func for fr in g.frames)]
            rt = sorted({g.state for g in gs})
            msg += "; runtime dump says %s" % rt
            ok = ok and len(gs) == 1 and rt == [norm_reason(reason)] and \
                all(norm_reason(r) == rt[0] for r in reasons)
        print(("ok   " if ok else "BAD  ") + msg)
        bad += not ok
    return 1 if bad else 0


def cmd_top(a):
    elapsed, rows = parse_top(a.file)
    if elapsed is None:
        print("no 'goscope offcpu:' header")
        return 1
    print("header: %.2f s; %d rows" % (elapsed, len(rows)))
    bad = 0
    for func, reason in expects(a.expect):
        mine = [r for r in rows if func in r["funcs"]]
        if len(mine) != 1:
            print("BAD  %s: %d rows (want 1)" % (func, len(mine)))
            bad += 1
            continue
        r = mine[0]
        ok = r["reason"] == reason and r["gors"] == 1
        msg = "%-22s [%s] GORS %d WAITS %d TOTAL %.0f us" % (func, r["reason"], r["gors"],
                                                          r["waits"], r["total_us"])
        if a.window_us:
            msg += " (truth %d us, %+.1f%%)" % (a.window_us, 100.0 *
                                               (r["total_us"] - a.window_us) / a.window_us)
            ok = ok and within(r["total_us"], a.window_us, a.tol)
        print(("ok   " if ok else "BAD  ") + msg)
        bad += not ok
    return 1 if bad else 0


def cmd_truth(a):
    import json
    t0, t1 = json.loads(a.t0), json.loads(a.t1)
    wall = t1["mono_ns"] - t0["mono_ns"]
    lines = parse_folded(a.file)
    bad = 0
    for p in a.pattern:
        name, _, func = p.partition("=")
        frac = (t1[name + "_ns"] - t0[name + "_ns"]) / wall
        want = frac * a.window_us
        mine = [l for l in lines if func in l[0]]
        got = sum(l[2] for l in mine)
        by = {}
        for _, r, us in mine:
            by[r] = by.get(r, 0) + us
        ok = want > 0 and within(got, want, a.tol)
        print("%s%-6s %-16s truth: blocked %.1f%% of %.2f s -> %d us in the window;"
              " goscope %d us (%+.1f%%) %s"
              % ("ok   " if ok else "BAD  ", name, func, 100 * frac, wall / 1e9, want, got,
                 100.0 * (got - want) / want if want else 0,
                 " ".join("[%s] %d" % kv for kv in sorted(by.items()))))
        bad += not ok
    return 1 if bad else 0


def ms_of(s):
    return dur_us(s) / 1e3 if s != "-" else None


def cmd_row(a):
    _, rows = parse_top(a.file)
    mine = [r for r in rows if a.func in r["funcs"] and
            (a.reason is None or r["reason"] == a.reason)]
    desc = "%s%s" % (a.func, " [%s]" % a.reason if a.reason else "")
    if a.absent and a.unless_gap_ms is not None:
        gap = header_gap_ms(a.file)
        if gap is not None and gap + a.unless_gap_ms >= a.threshold_ms:
            # The sampler was held off the CPU for GAP ms: a wait first seen
            # after the gap is credited all of it (its start is unknown).
            long = [r for r in mine if ms_of(r["max"]) > gap + a.unless_gap_ms]
            print("%s%s: sampler gap %g ms: %d row(s) left, %d with a wait over %g ms"
                  % ("ok   " if not long else "BAD  ", desc, gap, len(mine), len(long),
                     gap + a.unless_gap_ms))
            return 1 if long else 0
    if a.absent:
        if mine:
            print("BAD  %s: %d rows, want none:" % (desc, len(mine)))
            for r in mine:
                print("     TOTAL %.0f us WAITS %d P50 %s P99 %s MAX %s %s"
                      % (r["total_us"], r["waits"], r["p50"], r["p99"], r["max"], r["funcs"]))
            return 1
        print("ok   %s: no row" % desc)
        return 0
    if not mine:
        print("BAD  %s: no row" % desc)
        return 1
    ok = True
    total = sum(r["total_us"] for r in mine)
    waits = sum(r["waits"] for r in mine)
    msg = "%s: %d row(s), TOTAL %.0f us WAITS %d; P50 %s P99 %s MAX %s" % (
        desc, len(mine), total, waits, "/".join(r["p50"] for r in mine),
        "/".join(r["p99"] for r in mine), "/".join(r["max"] for r in mine))
    if a.p50_ms:
        lo, hi = (float(x) for x in a.p50_ms.split(":"))
        msg += "; each P50 in [%g, %g] ms" % (lo, hi)
        for r in mine:
            p50 = ms_of(r["p50"])
            ok = ok and p50 is not None and lo <= p50 <= hi
    if a.waits:
        msg += "; truth %.1f waits (%+.1f%%)" % (a.waits, 100.0 * (waits - a.waits) / a.waits)
        ok = ok and within(waits, a.waits, a.tol)
    if a.min_total_us:
        msg += "; TOTAL >= %d us" % a.min_total_us
        ok = ok and total >= a.min_total_us
    print(("ok   " if ok else "BAD  ") + msg)
    return 0 if ok else 1


GAP = re.compile(r"longest gap ([\d.]+) ms")


def header_gap_ms(path):
    """The longest gap between two snapshots, from the -f top header."""
    with open(path, errors="replace") as f:
        for ln in f:
            m = GAP.search(ln)
            if m and ln.startswith("goscope offcpu:"):
                return float(m.group(1))
    return None


def cmd_minp50(a):
    _, rows = parse_top(a.file)
    low = [r for r in rows if ms_of(r["p50"]) is None or ms_of(r["p50"]) < a.ms]
    print("%s%d rows, %d with P50 under %g ms%s" % (
        "ok   " if rows and not low else "BAD  ", len(rows), len(low), a.ms,
        "".join("\n     [%s] P50 %s %s" % (r["reason"], r["p50"], r["funcs"][:3]) for r in low)))
    return 0 if rows and not low else 1


def cmd_vocab(a):
    lines = parse_folded(a.file)
    with open(a.binary, "rb") as f:
        data = f.read()
    bad = 0
    seen = {}
    for _, r, us in lines:
        seen[r] = seen.get(r, 0) + us
    for r in sorted(seen):
        if r == "runnable" or re.match(r"^syscall: [a-z0-9_]+$", r):
            how = "goscope's own"
            ok = True
        else:
            ok = r.encode() in data
            how = "in the binary" if ok else "NOT in the binary"
        print("%s[%s] %d us (%s)" % ("ok   " if ok else "BAD  ", r, seen[r], how))
        bad += not ok
    if not seen:
        print("BAD  no folded lines")
        return 1
    return 1 if bad else 0


def cmd_dumpmatch(a):
    import offcpu_gorcheck
    lines = parse_folded(a.file)
    with open(a.dump, errors="replace") as f:
        dump = offcpu_gorcheck.parse(f.read(), offcpu_gorcheck.GO_HDR)
    dump.pop(0, None)
    bad = 0
    for func in a.func:
        rt = sorted({g.state for g in dump.values() if any(fr[0] == func for fr in g.frames)})
        by = {}
        for fr, r, us in lines:
            if func in fr and r != "runnable":
                by[norm_reason(r)] = by.get(norm_reason(r), 0) + us
        top = max(by, key=by.get) if by else None
        ok = len(rt) == 1 and top == rt[0]
        print("%s%s: goscope [%s] (of %s), runtime dump %s"
              % ("ok   " if ok else "BAD  ", func, top,
                 ", ".join("[%s] %d us" % kv for kv in sorted(by.items())), rt))
        bad += not ok
    return 1 if bad else 0


def select(lines, a):
    res = []
    for frames, reason, us in lines:
        if any(f not in frames for f in a.frame):
            continue
        if any(f in frames for f in a.not_frame):
            continue
        if a.reason is not None and reason != a.reason:
            continue
        if a.prefix is not None and not (frames and frames[0].startswith(a.prefix)):
            continue
        res.append((frames, reason, us))
    return res


def cmd_sum(a):
    print(sum(us for _, _, us in select(parse_folded(a.file), a)))
    return 0


def cmd_lines(a):
    for frames, reason, us in select(parse_folded(a.file), a):
        print("%s;[%s] %d" % (";".join(frames), reason, us))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("folded")
    p.add_argument("file")
    p.add_argument("--expect", action="append", default=[])
    p.add_argument("--window-us", type=int, default=0)
    p.add_argument("--max-us", type=int, default=0)
    p.add_argument("--tol", type=float, default=0.15)
    p.add_argument("--dump")
    p = sub.add_parser("top")
    p.add_argument("file")
    p.add_argument("--expect", action="append", default=[])
    p.add_argument("--window-us", type=int, default=0)
    p.add_argument("--tol", type=float, default=0.15)
    p = sub.add_parser("truth")
    p.add_argument("file")
    p.add_argument("--t0", required=True)
    p.add_argument("--t1", required=True)
    p.add_argument("--window-us", type=int, required=True)
    p.add_argument("--tol", type=float, default=0.15)
    p.add_argument("--pattern", action="append", default=[])
    p = sub.add_parser("row")
    p.add_argument("file")
    p.add_argument("--func", required=True)
    p.add_argument("--reason")
    p.add_argument("--absent", action="store_true")
    p.add_argument("--p50-ms")
    p.add_argument("--waits", type=float, default=0)
    p.add_argument("--tol", type=float, default=0.15)
    p.add_argument("--min-total-us", type=int, default=0)
    p.add_argument("--unless-gap-ms", type=float,
                   help="with --absent and --threshold-ms: when the header's longest gap"
                        " + this reaches the threshold, rows are allowed whose MAX is at"
                        " most the gap + this")
    p.add_argument("--threshold-ms", type=float, default=0)
    p = sub.add_parser("minp50")
    p.add_argument("file")
    p.add_argument("ms", type=float)
    p = sub.add_parser("vocab")
    p.add_argument("file")
    p.add_argument("binary")
    p = sub.add_parser("dumpmatch")
    p.add_argument("file")
    p.add_argument("dump")
    p.add_argument("--func", action="append", default=[])
    for name in ("sum", "lines"):
        p = sub.add_parser(name)
        p.add_argument("file")
        p.add_argument("--frame", action="append", default=[])
        p.add_argument("--not-frame", action="append", default=[])
        p.add_argument("--reason")
        p.add_argument("--prefix")
    a = ap.parse_args()
    try:
        return {"folded": cmd_folded, "top": cmd_top, "sum": cmd_sum, "lines": cmd_lines,
                "truth": cmd_truth, "row": cmd_row, "vocab": cmd_vocab, "minp50": cmd_minp50,
                "dumpmatch": cmd_dumpmatch}[a.cmd](a)
    except ValueError as e:
        print(e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
