"""funclat_check: goscope funclat's JSON output against a truth.

  funclat_check.py prog GS_JSON TRUTH_LINE_FILE   (tests/go/funclat's own
      counts and medians for the same span)
  funclat_check.py count GS_JSON FUNC=N ...       (exact call counts)
  funclat_check.py slow GS_JSON --func F --count N --min-us U --goid G
      [--args A,B] [--caller C]                   (slow-call events)
Exit 0 when every check holds; prints one line per number compared.
"""
import json
import sys

import jstream

RATE_TOL = 0.15
P50_TOL = 0.10
P50_ABS_US = 300.0


def funcs_of(path):
    """Sum the func rows of all windows; the last summary."""
    out, summary = {}, None
    for o in jstream.load(path):
        if o.get("type") == "func":
            f = out.setdefault(o["func"], {"count": 0, "timed": 0, "unwound": 0,
                                           "p50_us": o["p50_us"], "windows": 0})
            for k in ("count", "timed", "unwound"):
                f[k] += o[k]
            f["p50_us"] = o["p50_us"]
            f["windows"] += 1
        elif o.get("type") == "summary":
            summary = o
    return out, summary


def prog(gs_path, truth_path):
    funcs, summary = funcs_of(gs_path)
    truth = None
    for line in open(truth_path):
        if line.startswith("funclat: truth "):
            truth = json.loads(line[len("funclat: truth "):])
    if truth is None or summary is None:
        print("no truth line or no goscope summary")
        return 1
    ok = True
    secs = summary["seconds"]
    for name in ("sleep5", "nested40", "burn3", "deep2"):
        g, t = funcs.get("main." + name), truth.get(name)
        if not g or not t or not t["n"]:
            print(f"main.{name}: missing (goscope {g}, truth {t})")
            ok = False
            continue
        grate, trate = g["count"] / secs, t["n"] / truth["span_s"]
        gp, tp = g["p50_us"], t["p50_us"]
        rok = abs(grate - trate) <= RATE_TOL * trate
        pok = abs(gp - tp) <= max(P50_TOL * tp, P50_ABS_US)
        print(f"main.{name}: rate {grate:.1f}/s vs {trate:.1f}/s {'ok' if rok else 'BAD'}; "
              f"p50 {gp:.0f} us vs {tp:.0f} us {'ok' if pok else 'BAD'} "
              f"(calls {g['count']} in {secs:.2f} s vs {t['n']} in {truth['span_s']:.2f} s)")
        ok = ok and rok and pok
    rnd = truth["round"]
    exact = {"main.tiny": ("count", rnd.get("tiny")), "main.recur": ("count", rnd.get("recur")),
             "main.boom": ("count", rnd.get("boom")), "main.goexiter": ("count", rnd.get("goexit"))}
    exact_unw = {"main.boom": rnd.get("boom_panics"), "main.goexiter": rnd.get("goexit"),
                 "main.tiny": 0, "main.recur": 0}
    for name, (k, want) in exact.items():
        got = funcs.get(name, {}).get(k)
        good = got == want
        print(f"{name}: {k} {got} vs {want} {'ok' if good else 'BAD'}")
        ok = ok and good
    for name, want in exact_unw.items():
        got = funcs.get(name, {}).get("unwound")
        good = got == want
        print(f"{name}: unwound {got} vs {want} {'ok' if good else 'BAD'}")
        ok = ok and good
    for name, want in (("main.recur", rnd.get("recur")), ("main.tiny", rnd.get("tiny"))):
        got = funcs.get(name, {}).get("timed")
        good = got == want
        print(f"{name}: timed {got} vs {want} {'ok' if good else 'BAD'}")
        ok = ok and good
    good = summary["drops"] == 0
    print(f"drops {summary['drops']} {'ok' if good else 'BAD'}")
    return 0 if ok and good else 1


def count(gs_path, specs):
    funcs, _ = funcs_of(gs_path)
    ok = True
    for spec in specs:
        name, want = spec.rsplit("=", 1)
        got = funcs.get(name, {}).get("count")
        good = got == int(want)
        print(f"{name}: {got} calls vs {want} {'ok' if good else 'BAD'}")
        ok = ok and good
    return 0 if ok else 1


def slow(gs_path, args):
    opt = dict(zip(args[::2], args[1::2]))
    evs = [o for o in jstream.load(gs_path)
           if o.get("type") == "slow" and o["func"] == opt["--func"]]
    ok = len(evs) == int(opt["--count"])
    print(f"{len(evs)} slow events of {opt['--func']} (want {opt['--count']})")
    for e in evs:
        bad = []
        if e["dur_us"] < float(opt["--min-us"]):
            bad.append(f"dur {e['dur_us']} us")
        if "--goid" in opt and e["goid"] != int(opt["--goid"]):
            bad.append(f"goid {e['goid']}")
        if "--args" in opt:
            want = [int(x) for x in opt["--args"].split(",")]
            if e.get("args", [])[:len(want)] != want:
                bad.append(f"args {e.get('args')}")
        st = [s.split(" ")[0] for s in e.get("stack", [])]
        if not st or st[0] != opt["--func"]:
            bad.append(f"first frame {st[:1]}")
        if "--caller" in opt and (len(st) < 2 or st[1] != opt["--caller"]):
            bad.append(f"caller {st[1:2]}")
        if bad:
            ok = False
            print("  BAD event: " + ", ".join(bad) + f" (stack {st[:4]})")
    if evs:
        e = evs[0]
        print(f"  e.g. {e['dur_us']:.0f} us goid {e['goid']} args {e.get('args', [])[:2]} "
              f"stack {[s.split(' ')[0] for s in e.get('stack', [])][:3]}")
    return 0 if ok else 1


def slowmin(gs_path, min_us):
    evs = [o for o in jstream.load(gs_path) if o.get("type") == "slow"]
    short = [e for e in evs if e["dur_us"] < min_us]
    print(f"{len(evs)} slow events, {len(short)} shorter than {min_us:.0f} us "
          f"({sorted(set(e['func'] for e in evs))})")
    return 0 if not short else 1


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "prog":
        sys.exit(prog(sys.argv[2], sys.argv[3]))
    if mode == "count":
        sys.exit(count(sys.argv[2], sys.argv[3:]))
    if mode == "slow":
        sys.exit(slow(sys.argv[2], sys.argv[3:]))
    if mode == "slowmin":
        sys.exit(slowmin(sys.argv[2], float(sys.argv[3])))
    sys.exit(2)
