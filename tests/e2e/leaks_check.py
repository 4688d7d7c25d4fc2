#!/usr/bin/env python3
"""leaks_check: `goscope leaks --json` groups vs the Go runtime's own
SIGQUIT dump of the same process (GOTRACEBACK=system), grouped by the
dump's "created by" line.

Usage: leaks_check.py --json OUT --dump STDERR [--growing FUNC:MAX] [--slack N]
                      [--suspect FUNC:RATE:TOL] [--not-suspect FUNC:COUNT]

For every creation site (function of the "created by" frame; the main
goroutine has none), goscope's count at its last snapshot (summed over its
groups) must equal the dump's; a site given with --growing FUNC:MAX may
have grown by up to MAX goroutines between goscope's last snapshot and the
dump; --slack N allows N goroutines of difference elsewhere (busy servers
start short-lived goroutines); --user-only: the dump is runtime.Stack's
(pprof goroutine?debug=2), which leaves out the runtime's own goroutines
(those created by runtime.*). --suspect FUNC:RATE:TOL: that site is a
suspect growing RATE/s +-TOL (fraction); --not-suspect FUNC:COUNT: that
site has COUNT goroutines and is not a suspect. Prints the table.
"""
import argparse
import re
import sys

import jstream

GOROUTINE_RE = re.compile(r"^goroutine (\d+) (?:gp=\S+ m=\S+ (?:mp=\S+ )?)?\[(.*?)\]:\s*$")


def name_for_print(name):
    i = name.find("[")
    j = name.rfind("]")
    if i < 0 or j <= i:
        return name
    return name[:i] + "[...]" + name[j + 1:]


def dump_sites(path):
    """{created_by function: count} of the dump in PATH."""
    text = open(path, errors="replace").read()
    sites = {}
    cur = None
    for ln in text.split("\n"):
        m = GOROUTINE_RE.match(ln)
        if m:
            if cur is not None:
                sites[cur] = sites.get(cur, 0) + 1
            # goroutine 0 is the thread's g0 the signal landed on: not in allgs
            cur = "(none)" if m.group(1) != "0" else None
            continue
        if cur is not None and ln.startswith("created by "):
            f = ln[len("created by "):]
            f = re.sub(r" in goroutine \d+$", "", f).strip()
            cur = f
    if cur is not None:
        sites[cur] = sites.get(cur, 0) + 1
    return sites


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--growing", action="append", default=[])
    ap.add_argument("--slack", type=int, default=0)
    ap.add_argument("--user-only", action="store_true",
                    help="the dump is runtime.Stack(all) (pprof debug=2): no system goroutines")
    ap.add_argument("--suspect", action="append", default=[])
    ap.add_argument("--not-suspect", action="append", default=[])
    a = ap.parse_args()
    objs = jstream.load(a.json)
    groups = [o for o in objs if o.get("type") == "group"]
    summ = [o for o in objs if o.get("type") == "summary"]
    if not summ:
        print("no summary object")
        return 1
    ours, sus = {}, {}
    for g in groups:
        f = name_for_print(g["created_by"])
        if g["created_by"] in ("runtime.newproc", "?") or f.startswith("runtime.rt0_go"):
            f = "(none)"  # the main goroutine: the dump prints no "created by"
        if a.user_only and f.startswith("runtime."):
            continue  # system goroutines, which runtime.Stack leaves out
        ours[f] = ours.get(f, 0) + g["count"]
        if g["suspect"]:
            sus.setdefault(f, []).append(g)
    dump = dump_sites(a.dump)
    if not dump:
        print("no goroutine in the dump")
        return 1
    grow = {}
    for s in a.growing:
        f, mx = s.rsplit(":", 1)
        grow[f] = int(mx)
    bad = 0
    print("%-60s %8s %8s" % ("created by", "goscope", "SIGQUIT"))
    for f in sorted(set(ours) | set(dump)):
        o, d = ours.get(f, 0), dump.get(f, 0)
        ok = o == d
        if f in grow:
            ok = o <= d <= o + grow[f]
        elif not ok:
            ok = abs(o - d) <= a.slack
        bad += not ok
        print("%-60s %8d %8d %s" % (f[:60], o, d, "" if ok else "MISMATCH"))
    print("sites: %d goscope, %d dump; goroutines %d goscope, %d dump" %
          (len(ours), len(dump), sum(ours.values()), sum(dump.values())))
    for s in a.suspect:
        f, rate, tol = s.split(":")
        rate, tol = float(rate), float(tol)
        g = sus.get(f, [])
        if len(g) != 1:
            print("suspect %s: %d suspect groups (want 1)" % (f, len(g)))
            bad += 1
            continue
        r = g[0]["growth_per_s"]
        ok = abs(r - rate) <= tol * rate
        print("suspect %s: growth %.2f/s (want %.1f +-%d%%) count %d start %d oldest %.2fs %s" %
              (f, r, rate, tol * 100, g[0]["count"], g[0]["count_start"],
               g[0]["oldest_wait_s"], "" if ok else "OUT OF RANGE"))
        bad += not ok
    for s in a.not_suspect:
        f, cnt = s.rsplit(":", 1)
        if f in sus:
            print("not-suspect %s: reported as a suspect" % f)
            bad += 1
        if ours.get(f, 0) != int(cnt):
            print("not-suspect %s: %d goroutines (want %s)" % (f, ours.get(f, 0), cnt))
            bad += 1
    others = sorted(set(sus) - {s.split(":")[0] for s in a.suspect})
    if others:
        print("unexpected suspects: %s" % ", ".join(others))
        bad += len(others)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
