#!/usr/bin/env python3
"""agent_prom: ask a real Prometheus server (HTTP API, /api/v1/...) about
what it scraped from `goscope agent`, and check it against truths given on
the command line. Prometheus is the consumer the agent is written for: what
it stored is what a user would see.

Every subcommand takes --prom URL (http://127.0.0.1:PORT), prints what it
found, and exits 0 when every check holds, 1 otherwise.

  wait PROMQL [--timeout S] [--absent]
      Poll the instant query until it returns a result (or, with --absent,
      until it returns none); prints the seconds it took.
  rate PROMQL --from T0 --to T1 (--truth X | --truth-log FILE --window W)
       [--tol 0.10]
      query_range of PROMQL (one series) from T0 to T1, step 1 s; the median
      of the values must be within TOL of the truth. --truth-log reads the
      lines "opener: t=UNIX opens=N" of tests/go/opener and takes its own
      rate over [T0 - W, T1].
  reasons --pid P --dump FILE --from T0 --to T1 --reason R... [--tol 0.15]
      The rate of goscope_goroutine_blocked_seconds_total{pid=P} by reason
      (query PROMQL: rate(...[10s]), median over T0..T1) against the number
      of goroutines the runtime's own SIGQUIT dump (GOTRACEBACK=system,
      taken after T1; the goroutines never change state) shows in each state
      R: each goroutine blocked all the time adds 1 goroutine-second per
      second. Also the sum over every reason against every goroutine in the
      dump ("syscall: NAME" is the dump's "syscall").
  labels --from T0 --to T1 [--pid P=EXE=GOVERSION]...
      /api/v1/series of every goscope_ series between T0 and T1: label names
      only from the bounded set (pid, exe, go_version, syscall, errno,
      reason, le, source, state, created_by (at most 5 sites a process), phase, plus Prometheus' job and instance); the
      per-process families carry non-empty pid, exe and go_version; the
      agent-wide ones carry no pid; each --pid has the given exe and
      go_version on all its series.
  scrapes --from T0 --to T1 [--interval 1]
      up == 1 at every scrape between T0 and T1 (its raw samples), at least
      80% of the scrapes due since the first one happened, every scrape
      took less than the timeout, and goscope_scrapes_total counted at
      least as many requests as Prometheus made.
  tracked --from T0 --to T1
      At every evaluation step, goscope_tracked_processes equals the number
      of distinct pids among the per-process goscope_ series of the same
      scrape.
  exprs FILE
      Each line of FILE a PromQL expression (the dashboard's, from
      agent_page.py dashboard --exprs): each one must run and return data.
  value PROMQL
      Print the instant value of a one-series query (for the shell).
"""
import argparse
import json
import statistics
import sys
import time
import urllib.parse
import urllib.request

ALLOWED_LABELS = {"__name__", "job", "instance", "pid", "exe", "go_version", "syscall",
                  "errno", "reason", "le", "source", "state", "created_by", "phase"}
AGENT_WIDE = {"goscope_tracked_processes", "goscope_dropped_events_total",
              "goscope_scrapes_total", "goscope_syscalls_sampling_duty",
              "goscope_syscalls_traced_seconds_total"}

failures = 0


def show(s):
    """S on one line: JSON string escapes, no quotes."""
    return json.dumps(s)[1:-1]


def ok(msg):
    print("ok    " + msg)


def bad(msg):
    global failures
    failures += 1
    print("FAIL  " + msg)


def api(prom, path, **params):
    url = prom.rstrip("/") + path + "?" + urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(url, timeout=30) as r:
        d = json.load(r)
    if d.get("status") != "success":
        raise RuntimeError("%s: %s" % (url, d))
    return d["data"]


def query(prom, q, t=None):
    p = {"query": q}
    if t is not None:
        p["time"] = "%.3f" % t
    return api(prom, "/api/v1/query", **p)["result"]


def query_range(prom, q, t0, t1, step=1):
    return api(prom, "/api/v1/query_range", query=q, start="%.3f" % t0, end="%.3f" % t1,
               step=str(step))["result"]


def within(got, want, tol):
    return abs(got - want) <= tol * max(abs(want), 1e-9)


def fmt_vals(vals):
    return "[" + " ".join("%.3g" % v for v in vals) + "]"


# --- subcommands --------------------------------------------------------------

def cmd_wait(a):
    t0 = time.time()
    while True:
        res = query(a.prom, a.promql)
        if bool(res) != a.absent:
            print("%.2f" % (time.time() - t0))
            return 0
        if time.time() - t0 > a.timeout:
            print("timeout after %.1f s: %s" % (a.timeout, json.dumps(res)[:300]))
            return 1
        time.sleep(0.2)


def opener_rate(path, t0, t1):
    """The opener's own rate over [t0, t1] from its once-a-second log."""
    pts = []
    with open(path) as f:
        for line in f:
            if line.startswith("opener: t="):
                kv = dict(x.split("=", 1) for x in line.split()[1:])
                pts.append((float(kv["t"]), int(kv["opens"])))

    def at(t):
        for (ta, na), (tb, nb) in zip(pts, pts[1:]):
            if ta <= t <= tb:
                return na + (nb - na) * (t - ta) / (tb - ta)
        # Up to 2 s past either end: the nearest segment, extended.
        if len(pts) >= 2 and pts[0][0] - 2 <= t < pts[0][0]:
            (ta, na), (tb, nb) = pts[0], pts[1]
            return na + (nb - na) * (t - ta) / (tb - ta)
        if len(pts) >= 2 and pts[-1][0] < t <= pts[-1][0] + 2:
            (ta, na), (tb, nb) = pts[-2], pts[-1]
            return na + (nb - na) * (t - ta) / (tb - ta)
        raise ValueError("opener log %s does not cover t=%.3f (%.3f..%.3f)" %
                         (path, t, pts[0][0] if pts else 0, pts[-1][0] if pts else 0))
    return (at(t1) - at(t0)) / (t1 - t0)


def cmd_rate(a):
    res = query_range(a.prom, a.promql, a.t0, a.t1)
    if len(res) != 1:
        bad("%s: want one series, got %d" % (a.promql, len(res)))
        return 1
    vals = [float(v[1]) for v in res[0]["values"]]
    truth = a.truth
    if a.truth_log:
        truth = opener_rate(a.truth_log, a.t0 - a.window, a.t1)
    med = statistics.median(vals)
    msg = "%s: median %.2f/s over %d steps (min %.2f, max %.2f), truth %.2f/s, tol %.0f%%" % (
        a.promql, med, len(vals), min(vals), max(vals), truth, a.tol * 100)
    if len(vals) >= 5 and within(med, truth, a.tol):
        ok(msg)
    else:
        bad(msg + " " + fmt_vals(vals))
    return 1 if failures else 0


def dump_states(path):
    """goroutine id -> state from a Go SIGQUIT dump ("[state, N minutes]")."""
    states = {}
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("goroutine ") and line.rstrip().endswith(":"):
                hdr = line.split("[", 1)
                if len(hdr) != 2:
                    continue
                st = hdr[1].split("]", 1)[0]
                st = st.split(",")[0].strip()
                states[int(line.split()[1])] = st
    return states


def cmd_reasons(a):
    states = dump_states(a.dump)
    if not states:
        bad("no goroutines in the dump %s" % a.dump)
        return 1
    counts = {}
    for st in states.values():
        counts[st] = counts.get(st, 0) + 1
    print("      the runtime's dump: %d goroutines: %s" % (
        len(states), ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    q = 'rate(goscope_goroutine_blocked_seconds_total{pid="%s"}[10s])' % a.pid
    res = query_range(a.prom, q, a.t0, a.t1)
    got = {}
    for r in res:
        vals = [float(v[1]) for v in r["values"]]
        got[r["metric"].get("reason", "")] = vals
    for reason in a.reason:
        want = counts.get(reason, 0)
        if want == 0:
            bad("reason %r: the dump has no goroutine in that state" % reason)
            continue
        vals = got.get(reason)
        if not vals:
            bad("reason %r: no goscope_goroutine_blocked_seconds_total series (have: %s)" % (
                reason, ", ".join(sorted(got))))
            continue
        med = statistics.median(vals)
        msg = "reason %r: %.2f goroutine-s/s (median of %d steps, min %.2f, max %.2f), " \
              "truth %d goroutines blocked so" % (reason, med, len(vals), min(vals), max(vals), want)
        (ok if within(med, want, a.tol) else bad)(msg)
    # Every goroutine of the dump is blocked (none runs in this program):
    # the reasons together account for all of them.
    # Not blocked: running, runnable, and idle (_Gidle: allocated, never
    # run - seen in some dumps, created around the dump itself).
    running = counts.get("running", 0) + counts.get("runnable", 0) + counts.get("idle", 0)
    n = max(len(v) for v in got.values()) if got else 0
    total = [sum(v[i] for v in got.values() if i < len(v)) for i in range(n)]
    med = statistics.median(total) if total else 0
    want = len(states) - running
    msg = "all reasons together: %.2f goroutine-s/s, truth %d goroutines (%d in the dump, " \
          "%d running, runnable or idle)" % (med, want, len(states), running)
    (ok if within(med, want, a.tol) else bad)(msg)
    # Reasons goscope names like the dump ("syscall: NAME" is "syscall").
    for reason in sorted(got):
        base = "syscall" if reason.startswith("syscall: ") else reason
        if statistics.median(got[reason]) < 0.05:
            continue  # seen before T0 only (start-up)
        if base not in counts and base not in ("runnable",):
            bad("reason %r: not a state of any goroutine in the dump" % reason)
    return 1 if failures else 0


def cmd_labels(a):
    res = api(a.prom, "/api/v1/series", **{"match[]": '{__name__=~"goscope_.+"}',
                                           "start": "%.3f" % a.t0, "end": "%.3f" % a.t1})
    if not res:
        bad("no goscope_ series between %.0f and %.0f" % (a.t0, a.t1))
        return 1
    names = set()
    families = {}
    wrong = []
    for s in res:
        names |= set(s)
        base = s["__name__"]
        for suf in ("_bucket", "_sum", "_count"):
            if base.startswith("goscope_syscall_duration_seconds") and base.endswith(suf):
                base = base[: -len(suf)]
        families[base] = families.get(base, 0) + 1
        if base in AGENT_WIDE:
            if "pid" in s:
                wrong.append("agent-wide %s has pid: %s" % (base, s))
        elif not all(s.get(k) for k in ("pid", "exe", "go_version")):
            wrong.append("per-process %s lacks pid/exe/go_version: %s" % (base, s))
    extra = names - ALLOWED_LABELS
    (ok if not extra else bad)("label names of %d goscope_ series in %d families: %s%s" % (
        len(res), len(families), ", ".join(sorted(names - {"__name__"})),
        "" if not extra else " (unbounded/unknown: %s)" % ", ".join(sorted(extra))))
    if wrong:
        bad("%d series with wrong labels, e.g. %s" % (len(wrong), wrong[0]))
    else:
        ok("every per-process series has pid, exe and go_version; agent-wide ones (%s) no pid" %
           ", ".join(sorted(AGENT_WIDE & set(families))))
    for spec in a.pid:
        pid, exe, gv = spec.split("=", 2)
        mine = [s for s in res if s.get("pid") == pid]
        badl = [s for s in mine if s.get("exe") != exe or s.get("go_version") != gv]
        if mine and not badl:
            ok("pid %s: %d series, all exe=%s go_version=%s" % (pid, len(mine), show(exe), gv))
        else:
            bad("pid %s: %d series, %d with other exe/go_version than %s %s%s" % (
                pid, len(mine), len(badl), show(exe), gv, (": %s" % badl[0]) if badl else ""))
    return 1 if failures else 0


def cmd_scrapes(a):
    span = int(a.t1 - a.t0)
    r = "[%ds]" % span
    t = a.t1
    # The raw samples of up: one per scrape attempt, 0 for a failed one.
    ups = query(a.prom, 'up{job="goscope"}%s' % r, t)
    dur = query(a.prom, 'max_over_time(scrape_duration_seconds{job="goscope"}%s)' % r, t)
    inc = query(a.prom, 'max_over_time(goscope_scrapes_total%s) - min_over_time(goscope_scrapes_total%s)'
                % (r, r), t)
    if not (ups and dur and inc):
        bad("no up/scrape_duration_seconds/goscope_scrapes_total over %s" % r)
        return 1
    vals = [(float(ts), float(v)) for ts, v in ups[0]["values"]]
    failed = [ts for ts, v in vals if v != 1]
    dur, inc = float(dur[0]["value"][1]), float(inc[0]["value"][1])
    first = vals[0][0]
    want = int((t - first) / a.interval) + 1
    (ok if not failed else bad)("up == 1 at all %d scrapes of the last %d s%s" % (
        len(vals), span, "" if not failed else " (failed at %s)" % failed[:5]))
    need = int(0.8 * want)
    (ok if len(vals) >= need else bad)(
        "%d scrapes since the first one %.1f s before at a %g s interval (want >= %d)" % (
            len(vals), t - first, a.interval, need))
    (ok if dur < a.interval else bad)("slowest scrape %.1f ms (timeout %g s)" % (dur * 1e3, a.interval))
    (ok if inc >= len(vals) - 1 else bad)(
        "goscope_scrapes_total grew by %d over the scrapes Prometheus made (%d)" % (inc, len(vals)))
    return 1 if failures else 0


def cmd_tracked(a):
    q = ('goscope_tracked_processes - on() '
         'count(count by (pid) ({__name__=~"goscope_.+",pid!=""}))')
    res = query_range(a.prom, q, a.t0, a.t1)
    vals = [float(v[1]) for v in res[0]["values"]] if res else []
    tr = query_range(a.prom, "goscope_tracked_processes", a.t0, a.t1)
    tv = [float(v[1]) for v in tr[0]["values"]] if tr else []
    msg = "goscope_tracked_processes (%s..%s over %d steps) = the pids of the per-process series " \
          "at every step" % (int(min(tv)) if tv else "?", int(max(tv)) if tv else "?", len(vals))
    if vals and all(v == 0 for v in vals):
        ok(msg)
    else:
        bad(msg + ": differences " + fmt_vals(vals))
    return 1 if failures else 0


def cmd_exprs(a):
    with open(a.file) as f:
        exprs = [l.strip() for l in f if l.strip()]
    empty = []
    for e in exprs:
        try:
            res = query(a.prom, e)
        except Exception as ex:  # HTTP 400: a PromQL error
            bad("%s: %s" % (e, ex))
            continue
        if not res:
            empty.append(e)
    if empty:
        bad("%d of %d expressions return no data: %s" % (len(empty), len(exprs), "; ".join(empty)))
    elif not failures:
        ok("all %d expressions run and return data" % len(exprs))
    return 1 if failures else 0


def cmd_value(a):
    try:
        res = query(a.prom, a.promql)
    except Exception as ex:
        print("%s: %s" % (a.promql, ex), file=sys.stderr)
        return 1
    if len(res) != 1:
        print("want one series from %s, got %d" % (a.promql, len(res)), file=sys.stderr)
        return 1
    print(res[0]["value"][1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prom", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("wait")
    p.add_argument("promql")
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--absent", action="store_true")
    p = sub.add_parser("rate")
    p.add_argument("promql")
    p.add_argument("--from", dest="t0", type=float, required=True)
    p.add_argument("--to", dest="t1", type=float, required=True)
    p.add_argument("--truth", type=float)
    p.add_argument("--truth-log")
    p.add_argument("--window", type=float, default=10)
    p.add_argument("--tol", type=float, default=0.10)
    p = sub.add_parser("reasons")
    p.add_argument("--pid", required=True)
    p.add_argument("--dump", required=True)
    p.add_argument("--from", dest="t0", type=float, required=True)
    p.add_argument("--to", dest="t1", type=float, required=True)
    p.add_argument("--reason", action="append", default=[])
    p.add_argument("--tol", type=float, default=0.15)
    p = sub.add_parser("labels")
    p.add_argument("--from", dest="t0", type=float, required=True)
    p.add_argument("--to", dest="t1", type=float, required=True)
    p.add_argument("--pid", action="append", default=[])
    p = sub.add_parser("scrapes")
    p.add_argument("--from", dest="t0", type=float, required=True)
    p.add_argument("--to", dest="t1", type=float, required=True)
    p.add_argument("--interval", type=float, default=1)
    p = sub.add_parser("tracked")
    p.add_argument("--from", dest="t0", type=float, required=True)
    p.add_argument("--to", dest="t1", type=float, required=True)
    p = sub.add_parser("exprs")
    p.add_argument("file")
    p = sub.add_parser("value")
    p.add_argument("promql")
    a = ap.parse_args()
    if a.cmd == "rate" and a.truth is None and not a.truth_log:
        ap.error("rate wants --truth or --truth-log")
    return {"wait": cmd_wait, "rate": cmd_rate, "reasons": cmd_reasons, "labels": cmd_labels,
            "scrapes": cmd_scrapes, "tracked": cmd_tracked, "exprs": cmd_exprs, "value": cmd_value}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
