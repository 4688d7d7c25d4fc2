#!/usr/bin/env python3
"""syscalls_check.py: checks on the output of `goscope syscalls` for the
tests/e2e/test_syscalls_*.sh tests. Each subcommand prints what it compared
(numbers first, so the test log shows them) and exits 1 on a mismatch.

  counts FILE [--key goid|tid --id N [--others-ok]] [--only A,B] SPEC...
      FILE is --json output. SPEC is SYSCALL=N (count), SYSCALL!N (errors)
      or SYSCALL:ERRNO[|ERRNO2]=N (errno count). Calls the kernel restarted
      after a signal (ERESTART* exits) are told apart. With --key, the numbers are those of
      the syscall's row for that goid/tid, and there must be no row for
      another one (unless --others-ok); with --only, no other syscall may
      appear.
  errnos FILE
      every row's errnos add up to its errors (per row, also with --by).
  latency FILE --syscall S --req-us R [--truth-us a,b,c] [--tol 0.15] [--res 0.0625]
          [--events] [--strict]
      the syscall's p50/p99/max against the requested length R (within tol,
      at least R) and against the program's own measurements (truth); with
      --events also against the exact durations of the same calls from
      --slow events; with --strict p50/p99 must be at least R.
  table FILE SPEC...
      FILE is the text table; SPEC is SYSCALL=COUNT/ERRORS[/ERRNOS], ERRNOS
      as the table prints them ("ENOENT:5").
  strace STRACE_C FILE --syscalls A,B
      the calls and errors columns of `strace -c` equal goscope's counts.
  slow FILE --syscall S --count N --min-us X [--goid G] [--tid T] [--func F] [--path P]
      slow events of S (N of them, or at least 1 with --count 0).
  slowtext FILE --syscall S --count N --min-ms X --goid G --tid T --func F [--ret R]
      the same on the text output ("slow S 25.1ms: pid P tid T goroutine G, result 0");
      with --ret R, each line's result (or errno name) is R.
  alerts FILE --count M --addr A [--goid G] --func F [--not-func F2]
      connect alerts (JSON): exactly M, each to A with F on its stack, and
      the summary's alerts counter is M.
  alertstext FILE --count M --addr A --rules PATH --func F
  intervals FILE --min N
      -i output: rows carry interval_end; at least N distinct intervals.
  ivdiet FILE --split K --count S --long-us a,b --short-us c,d --long-req-us R
      -i output around two diet runs, long sleeps in intervals 1..K, short
      ones after: per-run counts, each interval's max its own.
  goids FILE --goroutines DUMP [--min-goroutines N]
      --by goid on a server: accept4 rows carry the id of a goroutine that
      DUMP (`goscope goroutines PID`) shows in net.(*TCPListener).Accept,
      and read/write rows come from N or more non-zero goroutine ids.
  idle FILE [--waits-idle A,B] [--user S=N ...] [--runtime S ...]
      goroutine 0's rows: with --waits-idle every row of A, B... is
      runtime_idle (an idle program: the runtime's own waits); --user S=N:
      S's rows that are not runtime_idle count N calls (the program's own);
      --runtime S: S has a runtime_idle row too.
  deep FILE --syscall S --func F --frames N [--truncated]
      the one slow event of S: F appears N times on its stack, which is
      marked stack_truncated iff --truncated.
  deeptext FILE --syscall S --elided N --last F | --truncated
      the same in text: "(N frames elided)" and the root frame F last, or
      "(deeper frames not captured)" last.
  sampled FILE --truth openat=A,enoent=E,close=C,clock_nanosleep=S,pselect6=P
          --short-p50-us X [--tol 0.25] [--duty 0.10] [--exact --secs D --slop-s 0.3]
      tests/go/syscallrate's calls against its own counts (see
      test_syscalls_sampled.sh for the tolerances); with --exact every
      count within 1% + SLOP_S seconds of calls (the snapshots bracket the
      window) and no sampling fields.
  server FILE --requests N --need A,B|C
      text table of a server under load: rows A and B (or C) are there, at
      least N reads and N writes, nothing dropped.
"""
import argparse
import json
import re
import sys


def load(path):
    rows, events, summaries = [], [], []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                o = json.loads(line)
            except ValueError as e:
                sys.exit("%s:%d: not JSON (%s): %.120s" % (path, n, e, line))
            if o.get("event") == "summary":
                summaries.append(o)
            elif "event" in o:
                events.append(o)
            else:
                rows.append(o)
    return rows, events, summaries


errors = []


def bad(msg):
    errors.append(msg)
    print("MISMATCH " + msg)


def done():
    sys.exit(1 if errors else 0)


# Kernel-internal codes a call can end with when a signal interrupts it; the
# kernel then restarts it (the program sees one call) or turns the code into
# EINTR. strace counts such an exit as a failed call, and so does goscope.
RESTART = {"E512", "E513", "E514", "E516", "ERESTARTSYS", "ERESTARTNOINTR",
           "ERESTARTNOHAND", "ERESTART_RESTARTBLOCK"}


def cmd_counts(a):
    rows, _, summ = load(a.file)
    if not summ:
        bad("no summary object")
    for s in summ:
        for k in ("dropped_stats", "dropped_errnos", "dropped_events", "dropped_starts"):
            if s.get(k):
                bad("summary %s = %s" % (k, s.get(k)))
    by = {}
    for r in rows:
        by.setdefault(r["syscall"], []).append(r)
    if a.only:
        extra = sorted(set(by) - set(a.only.split(",")))
        if extra:
            bad("syscalls outside -e: %s" % ",".join(extra))
        else:
            print("only %s" % a.only)
    for spec in a.spec:
        m = re.match(r"^([a-z0-9_]+)(=|!|:([A-Z0-9_|]+)=)(\d+)$", spec)
        if not m:
            sys.exit("bad spec " + spec)
        sc, want = m.group(1), int(m.group(4))
        rs = by.get(sc, [])
        # Restarted calls (a signal arrived during the call): the program made
        # one call, the kernel ran it twice. Known per syscall only (errnos
        # are per syscall); with --key, tolerated up to that many.
        restarts = max([sum(v for k, v in r["errnos"].items() if k in RESTART) for r in rs] or [0])
        if a.key:
            other = [r for r in rs if str(r.get(a.key)) != str(a.id)]
            if other and not a.others_ok:
                bad("%s: rows for %s %s too (want only %s %s): %s" % (
                    sc, a.key, ",".join(str(r.get(a.key)) for r in other), a.key, a.id,
                    ", ".join("%s=%d" % (r.get(a.key), r["count"]) for r in other)))
            rs = [r for r in rs if str(r.get(a.key)) == str(a.id)]
            if len(rs) > 1:
                bad("%s: %d rows for %s %s" % (sc, len(rs), a.key, a.id))
        if m.group(2) == "=":
            got, what = sum(r["count"] for r in rs), "count"
        elif m.group(2) == "!":
            got, what = sum(r["errors"] for r in rs), "errors"
        else:
            names = m.group(3).split("|")
            got, what = sum(r["errnos"].get(e, 0) for r in rs for e in names), m.group(3)
            if a.key is None:
                others = {k: v for r in rs for k, v in r["errnos"].items()
                          if k not in names and k not in RESTART}
                if others:
                    bad("%s: other errnos %s" % (sc, others))
            restarts = 0
        tag = "%s %s%s" % (sc, what, " (%s %s)" % (a.key, a.id) if a.key else "")
        if got == want or (restarts and want <= got <= want + restarts and
                           (a.key or got == want + restarts)):
            print("%s = %d%s" % (tag, got, " (%d of them restarted after a signal: %s)" % (
                got - want, json.dumps(rs[0]["errnos"] if rs else {})) if got != want else ""))
        else:
            bad("%s = %d, want %d%s" % (tag, got, want, "" if m.group(2) == "=" else " (errnos: %s)" % (
                "; ".join(json.dumps(r["errnos"], sort_keys=True) for r in rs) or "none")))
    done()


def cmd_errnos(a):
    rows, _, _ = load(a.file)
    n = 0
    for r in rows:
        s = sum(r["errnos"].values())
        if s != r["errors"]:
            key = ["%s %s" % (k, r[k]) for k in ("goid", "tid") if k in r]
            bad("%s%s: errors %d but errnos %s add up to %d" % (
                r["syscall"], " (%s)" % ", ".join(key) if key else "", r["errors"],
                json.dumps(r["errnos"], sort_keys=True), s))
        n += 1
    if not errors:
        print("%d rows: errnos add up to errors in each" % n)
    done()


def nearest_rank(vals, q):
    v = sorted(vals)
    k = max(1, int(q * len(v) + 0.999999))
    return v[k - 1]


def cmd_latency(a):
    """p50/p99/max of A.syscall against the requested length R and against
    the program's own measurement of each call (truth):
      - each at most tol*R above the same quantile of the truth (nearest
        rank): the truth also counts the program's time around the call;
      - each at most R*(1+tol) when the truth's is (a loaded machine wakes
        sleepers late: then goscope must agree with the truth, not with R);
      - max at least R (max is exact), p50/p99 at least R less the
        histogram's resolution (a bucket's midpoint is within 1/32 of it);
      - with --strict, p50/p99 at least R: a quantile below every call
        observed is wrong, whatever the resolution."""
    rows, events, _ = load(a.file)
    rs = [r for r in rows if r["syscall"] == a.syscall]
    if len(rs) != 1:
        bad("%d rows for %s" % (len(rs), a.syscall))
        done()
    r = rs[0]
    if a.events:
        # The same calls, each with its exact duration, from --slow events:
        # the histogram's quantiles must be within its resolution of the
        # exact ones (nearest rank), and max exact.
        ev = sorted(e["duration_us"] for e in events
                    if e.get("event") == "slow" and e["syscall"] == a.syscall)
        if len(ev) != r["count"]:
            bad("%d slow events for %d calls" % (len(ev), r["count"]))
        else:
            ex = {"p50_us": nearest_rank(ev, 0.5), "p99_us": nearest_rank(ev, 0.99), "max_us": ev[-1]}
            print("exact from the %d --slow events: p50 %.1f p99 %.1f max %.1f; goscope p50 %.1f "
                  "(%+.2f%%) p99 %.1f (%+.2f%%) max %.1f" % (
                      len(ev), ex["p50_us"], ex["p99_us"], ex["max_us"],
                      r["p50_us"], 100 * (r["p50_us"] / ex["p50_us"] - 1),
                      r["p99_us"], 100 * (r["p99_us"] / ex["p99_us"] - 1), r["max_us"]))
            for k in ("p50_us", "p99_us"):
                if abs(r[k] - ex[k]) > ex[k] * a.res / 2 + 1:
                    bad("%s %.1f us, exact %.1f us: beyond the histogram's resolution (1/%d)" % (
                        k, r[k], ex[k], int(2 / a.res)))
            if abs(r["max_us"] - ex["max_us"]) > max(1.0, ex["max_us"] * 1e-5):
                bad("max %.1f us, exact %.1f us" % (r["max_us"], ex["max_us"]))
    req, tol = a.req_us, a.tol
    truth = [float(x) for x in a.truth_us.split(",")] if a.truth_us else []
    if truth:
        print("%s: requested %.0f us; goscope p50 %.1f p99 %.1f max %.1f; the program measured "
              "min %.1f p50 %.1f p99 %.1f max %.1f" % (
                  a.syscall, req, r["p50_us"], r["p99_us"], r["max_us"], min(truth),
                  nearest_rank(truth, 0.5), nearest_rank(truth, 0.99), max(truth)))
    for q, key in ((0.5, "p50_us"), (0.99, "p99_us"), (1.0, "max_us")):
        got = r[key]
        t = nearest_rank(truth, q) if truth else None
        # The program's clock also counts its own time around the call (its
        # thread preempted between reading the clock and entering the call,
        # on a busy machine): goscope may be below it by that much, never
        # above it by more than the tolerance.
        if t is not None and got - t > tol * req:
            bad("%s %.1f us, the program measured %.1f us: more than %.0f%% of %.0f us above it" % (
                key, got, t, tol * 100, req))
        elif t is not None and t - got > tol * req:
            print("note: %s %.1f us, the program measured %.1f us around the call (its thread "
                  "preempted outside the call: the floor below still holds)" % (key, got, t))
        if t is not None and t <= req * (1 + tol) and got > req * (1 + tol):
            bad("%s %.1f us more than %.0f%% above the requested %.0f us" % (key, got, tol * 100, req))
        floor = req if key == "max_us" else req * (1 - a.res / 2)
        if got < floor:
            bad("%s %.1f us below %.1f us (the requested %.0f us%s)" % (
                key, got, floor, req, "" if key == "max_us" else " less the histogram's resolution"))
        if a.strict and got < req and key != "max_us":
            bad("%s %.1f us is below the requested %.0f us, while every call took at least %s "
                "(the program's clock): the quantile is a bucket midpoint, lower than any call" % (
                    key, got, req, "%.1f us" % min(truth) if truth else "that"))
    done()


def parse_table(path):
    out = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) >= 9 and re.match(r"^[a-z0-9_]+$", w[0]) and w[1].isdigit() and w[2].isdigit():
                out.setdefault(w[0], []).append(
                    (int(w[1]), int(w[2]), " ".join(w[9:])))
    return out


def cmd_table(a):
    t = parse_table(a.file)
    for spec in a.spec:
        m = re.match(r"^([a-z0-9_]+)=(\d+)/(\d+)(?:/(.*))?$", spec)
        sc = m.group(1)
        want = (int(m.group(2)), int(m.group(3)), m.group(4) or "")
        got = t.get(sc)
        if not got or len(got) != 1:
            bad("%s: %s rows in the table" % (sc, len(got) if got else 0))
            continue
        if got[0] != want:
            bad("%s: COUNT/ERRORS/ERRNOS %d/%d/'%s', want %d/%d/'%s'" % ((sc,) + got[0] + want))
        else:
            print("%s: COUNT %d ERRORS %d ERRNOS '%s'" % ((sc,) + got[0]))
    done()


def parse_strace_c(path):
    out = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) >= 5 and re.match(r"^[0-9.]+$", w[0]) and w[-1] != "total":
                calls = int(w[3])
                errs = int(w[4]) if len(w) == 6 else 0
                out[w[-1]] = (calls, errs)
    return out


def cmd_strace(a):
    st = parse_strace_c(a.strace)
    rows, _, _ = load(a.file)
    for sc in a.syscalls.split(","):
        rs = [r for r in rows if r["syscall"] == sc]
        g = (sum(r["count"] for r in rs), sum(r["errors"] for r in rs))
        s = st.get(sc, (0, 0))
        if g == s:
            print("%s: strace %d calls %d errors, goscope %d calls %d errors" % ((sc,) + s + g))
        else:
            bad("%s: strace %d calls %d errors, goscope %d calls %d errors" % ((sc,) + s + g))
    done()


def has_func(stack, f):
    return any(fr.split(" ")[0] == f for fr in stack)


def cmd_slow(a):
    _, events, _ = load(a.file)
    ev = [e for e in events if e["event"] == "slow" and e["syscall"] == a.syscall]
    if (a.count and len(ev) != a.count) or (not a.count and not ev):
        bad("%d slow %s events, want %s" % (len(ev), a.syscall, a.count or ">= 1"))
    durs = [e["duration_us"] for e in ev]
    if durs:
        print("%d slow %s events, duration %.1f..%.1f us" % (len(ev), a.syscall, min(durs), max(durs)))
    for e in ev:
        if e["duration_us"] < a.min_us:
            bad("%s duration %.1f us < %.0f us" % (a.syscall, e["duration_us"], a.min_us))
        if a.goid is not None and e["goid"] != a.goid:
            bad("%s goid %s, want %s" % (a.syscall, e["goid"], a.goid))
        if a.tid is not None and e["tid"] != a.tid:
            bad("%s tid %s, want %s" % (a.syscall, e["tid"], a.tid))
        if a.func and not has_func(e.get("stack", []), a.func):
            bad("%s stack lacks %s: %s" % (a.syscall, a.func, e.get("stack")))
        if a.path is not None and e.get("path") != a.path:
            bad("%s path %r, want %r" % (a.syscall, e.get("path"), a.path))
    if ev and not errors:
        e = ev[0]
        print("goid %s tid %s%s; stack: %s" % (
            e["goid"], e["tid"], " path %s" % e.get("path") if a.path else "",
            " <- ".join(fr.split(" ")[0] for fr in e.get("stack", []))))
    done()


def cmd_slowtext(a):
    # slow clock_nanosleep 25.11ms: pid 1 tid 2 goroutine 5, result 0
    # slow openat 30.2ms: pid 1 tid 2 goroutine 0 (runtime), error ENOENT
    #         runtime/internal/syscall.Syscall6  /usr/lib/...:36
    evs, cur = [], None
    with open(a.file) as f:
        for line in f:
            m = re.match(r"^slow (\S+) ([0-9.]+)(ns|us|ms|s): pid (\d+) tid (\d+) goroutine (\d+)"
                         r"(?: \(runtime\))?, (?:result|error) (\S+)$", line.rstrip("\n"))
            if m:
                mult = {"ns": 1e-6, "us": 1e-3, "ms": 1, "s": 1e3}[m.group(3)]
                cur = {"syscall": m.group(1), "ms": float(m.group(2)) * mult, "tid": int(m.group(5)),
                       "goid": int(m.group(6)), "ret": m.group(7), "funcs": []}
                evs.append(cur)
            elif cur is not None and line.startswith("        "):
                cur["funcs"].append(line.split()[0])
            elif cur is not None and line.startswith("    path: "):
                cur["path"] = line[len("    path: "):].rstrip("\n")
            elif cur is not None and line.startswith("    "):
                pass  # the call's other details (addr, fd)
            else:
                cur = None
    ev = [e for e in evs if e["syscall"] == a.syscall]
    if len(ev) != a.count:
        bad("%d slow %s lines, want %d" % (len(ev), a.syscall, a.count))
    for e in ev:
        if e["ms"] < a.min_ms or e["goid"] != a.goid or e["tid"] != a.tid or a.func not in e["funcs"]:
            bad("slow %s line: %s" % (a.syscall, e))
        if a.ret is not None and e["ret"] != a.ret:
            bad("slow %s line: result %s, want %s" % (a.syscall, e["ret"], a.ret))
    if ev and not errors:
        print("%d 'slow %s' lines, %.2f..%.2f ms, goroutine %d tid %d, stack has %s" % (
            len(ev), a.syscall, min(e["ms"] for e in ev), max(e["ms"] for e in ev), a.goid, a.tid, a.func))
    done()


def cmd_alerts(a):
    _, events, summ = load(a.file)
    al = [e for e in events if e["event"] == "alert"]
    if len(al) != a.count:
        bad("%d alerts, want %d" % (len(al), a.count))
    for e in al:
        if e.get("syscall") != "connect" or e.get("rule") != "connect":
            bad("alert for %s (rule %s), want connect" % (e.get("syscall"), e.get("rule")))
        if e.get("addr") != a.addr:
            bad("alert addr %s, want %s" % (e.get("addr"), a.addr))
        if a.goid is not None and e.get("goid") != a.goid:
            bad("alert goid %s, want %s" % (e.get("goid"), a.goid))
        if not has_func(e.get("stack", []), a.func):
            bad("alert stack lacks %s: %s" % (a.func, e.get("stack")))
        if a.not_func and has_func(e.get("stack", []), a.not_func):
            bad("alert from %s (allowed)" % a.not_func)
        fd = e.get("fd_desc")
        if fd is not None and ("-> " + a.addr) not in fd:
            # Informational: the fd is described when goscope reads the event,
            # after the call; by then the program may have closed it and the
            # number may name another file.
            print("note: alert fd %s described as %r (not a socket to %s)" % (e.get("fd"), fd, a.addr))
    sa = [s.get("alerts") for s in summ]
    if sa != [a.count]:
        bad("summary alerts %s, want [%d]" % (sa, a.count))
    if al:
        e = al[0]
        print("%d alerts to %s, goid %s; stack: %s" % (
            len(al), e.get("addr"), e.get("goid"), " <- ".join(fr.split(" ")[0] for fr in e.get("stack", []))))
    done()


def cmd_alertstext(a):
    n, funcs, cur = 0, [], None
    pat = re.compile(r"^ALERT connect to (\S+) not allowed by (.+): pid (\d+) goroutine (\d+)$")
    alerts_line = None
    with open(a.file) as f:
        for line in f:
            line = line.rstrip("\n")
            m = pat.match(line)
            if m:
                n += 1
                if m.group(1) != a.addr or m.group(2) != a.rules:
                    bad("alert line: %s" % line)
                cur = []
                funcs.append(cur)
            elif cur is not None and line.startswith("        "):
                cur.append(line.split()[0])
            elif cur is not None and line.startswith("    "):
                pass  # the call's details ("    fd 5: socket ...", when the fd was still open)
            else:
                cur = None
            if line.startswith("alerts: "):
                alerts_line = line
    if n != a.count:
        bad("%d ALERT lines, want %d" % (n, a.count))
    for fs in funcs:
        if a.func not in fs:
            bad("ALERT stack lacks %s: %s" % (a.func, fs))
    if alerts_line != "alerts: %d" % a.count:
        bad("report says %r, want 'alerts: %d'" % (alerts_line, a.count))
    if not errors:
        print("%d ALERT lines to %s, each with %s; '%s'" % (n, a.addr, a.func, alerts_line))
    done()


def cmd_intervals(a):
    rows, _, summ = load(a.file)
    ends = [r.get("interval_end") for r in rows]
    if not rows:
        bad("no rows")
    if any(not isinstance(e, (int, float)) for e in ends):
        bad("rows without a numeric interval_end")
    distinct = sorted(set(e for e in ends if isinstance(e, (int, float))))
    if len(distinct) < a.min:
        bad("%d distinct interval_end values, want >= %d" % (len(distinct), a.min))
    gaps = [b - x for x, b in zip(distinct, distinct[1:])]
    if any(g < 0.5 or g > 1.8 for g in gaps):
        bad("interval_end gaps %s, want about 1 s" % gaps)
    if not errors:
        print("%d rows in %d intervals, ends %s, gaps %s; %d summary objects" % (
            len(rows), len(distinct), ["%.2f" % e for e in distinct], ["%.2f" % g for g in gaps], len(summ)))
    done()


def accept_goroutines(path):
    """Ids of the goroutines whose stack, in a `goscope goroutines` dump, is
    in net.(*TCPListener).Accept."""
    ids, cur = set(), None
    with open(path) as f:
        for line in f:
            m = re.match(r"^goroutine (\d+) ", line)
            if m:
                cur = int(m.group(1))
            elif cur is not None and line.startswith("net.(*TCPListener).Accept"):
                ids.add(cur)
    return ids


def intervals(path):
    """-i --json output as a list of intervals: (rows, summary) in order."""
    out, cur = [], []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            o = json.loads(line)
            if o.get("event") == "summary":
                out.append((cur, o))
                cur = []
            elif "event" not in o:
                cur.append(o)
    if cur:
        out.append((cur, None))
    return out


def cmd_ivdiet(a):
    """Two diet runs in separate intervals: S long sleeps in the first K
    intervals, S short ones after. Each interval's row is that interval's
    own: counts add up per run, max of the short run's intervals is the
    short sleeps' (not the long ones' from an earlier interval)."""
    iv = intervals(a.file)
    long_t = [float(x) for x in a.long_us.split(",")]
    short_t = [float(x) for x in a.short_us.split(",")]
    desc = []
    for i, (rows, _) in enumerate(iv):
        rs = [r for r in rows if r["syscall"] == a.syscall]
        desc.append("#%d %s" % (i + 1, ", ".join("count %d max %.1f us p50 %.1f us end %s" % (
            r["count"], r["max_us"], r["p50_us"], r.get("interval_end")) for r in rs) or "-"))
    print("intervals: " + "; ".join(desc))
    print("the program measured: long sleeps max %.1f us, short sleeps max %.1f us" % (
        max(long_t), max(short_t)))
    before = [r for rows, _ in iv[:a.split] for r in rows if r["syscall"] == a.syscall]
    after = [r for rows, _ in iv[a.split:] for r in rows if r["syscall"] == a.syscall]
    if sum(r["count"] for r in before) != a.count:
        bad("%d calls in intervals 1-%d, want %d (the first run)" % (
            sum(r["count"] for r in before), a.split, a.count))
    if sum(r["count"] for r in after) != a.count:
        bad("%d calls after interval %d, want %d (the second run)" % (
            sum(r["count"] for r in after), a.split, a.count))
    for r in after:
        if r["max_us"] > max(short_t) * 1.05 + 100:
            bad("an interval of the short run has max %.1f us, but its longest sleep took %.1f us "
                "(by the program's clock): max is not the interval's own" % (r["max_us"], max(short_t)))
        if r["p99_us"] > r["max_us"]:
            bad("p99 %.1f us above max %.1f us" % (r["p99_us"], r["max_us"]))
    for r in before:
        if r["max_us"] < a.long_req_us:
            bad("an interval of the long run has max %.1f us < %.0f us" % (r["max_us"], a.long_req_us))
    ends = [rows[0].get("interval_end") for rows, _ in iv if rows]
    if len(set(ends)) != len(ends) or any(not isinstance(e, (int, float)) for e in ends):
        bad("interval_end values %s: want one distinct time per interval" % ends)
    elif any(b <= x for x, b in zip(ends, ends[1:])):
        bad("interval_end values not increasing: %s" % ends)
    done()


def cmd_goids(a):
    rows, _, _ = load(a.file)
    want = accept_goroutines(a.goroutines)
    if not want:
        bad("no goroutine in net.(*TCPListener).Accept in %s" % a.goroutines)
    acc = {r["goid"] for r in rows if r["syscall"] == "accept4"}
    if not acc:
        bad("no accept4 rows")
    elif not acc <= want:
        bad("accept4 from goroutines %s, but the ones in net.(*TCPListener).Accept are %s" % (
            sorted(acc), sorted(want)))
    rw = [r for r in rows if r["syscall"] in ("read", "write", "writev", "sendfile")]
    goids = sorted({r["goid"] for r in rw})
    nonzero = [g for g in goids if g != 0]
    calls = sum(r["count"] for r in rw if r["goid"] != 0)
    if len(nonzero) < a.min_goroutines:
        bad("read/write from goroutines %s: want %d or more non-zero ids" % (goids, a.min_goroutines))
    if any(g > 1 << 40 for g in goids):
        bad("implausible goroutine ids %s" % goids)
    if not errors:
        print("accept4 from goroutine %s (in Accept per goscope goroutines: %s); read/write: %d calls "
              "from %d non-zero goroutine ids (%s...)" % (
                  ",".join(map(str, sorted(acc))), ",".join(map(str, sorted(want))), calls,
                  len(nonzero), ",".join(str(g) for g in nonzero[:8])))
    done()


def cmd_server(a):
    """The text table of a server under wrk: the syscalls a Go HTTP server
    must make are there, with at least one read and one write per request
    wrk completed, and nothing was dropped."""
    t = parse_table(a.file)
    reqs = a.requests
    for sc in a.need.split(","):
        alts = sc.split("|")
        n = sum(t[x][0][0] for x in alts if x in t)
        if n == 0:
            bad("no %s row" % sc)
        else:
            print("%s: %d calls" % (sc, n))
    reads = t.get("read", [(0, 0, "")])[0][0]
    writes = sum(t[x][0][0] for x in ("write", "writev", "sendfile") if x in t)
    if reads < reqs:
        bad("%d reads for %d requests" % (reads, reqs))
    if writes < reqs:
        bad("%d write/writev/sendfile for %d requests" % (writes, reqs))
    with open(a.file) as f:
        text = f.read()
    if "dropped:" in text:
        bad("drops reported: " + [l for l in text.splitlines() if l.startswith("dropped:")][0])
    if not errors:
        print("wrk completed %d requests: %d reads, %d writes; nothing dropped" % (reqs, reads, writes))
    done()


def cmd_idle(a):
    rows, _, _ = load(a.file)
    if any("runtime_idle" not in r for r in rows):
        bad("rows without runtime_idle")
    if a.waits_idle:
        waits = a.waits_idle.split(",")
        user = [r for r in rows if r["syscall"] in waits and not r["runtime_idle"]]
        if user:
            bad("waits of an idle program outside goroutine 0: %s" % ", ".join(
                "%s=%d" % (r["syscall"], r["count"]) for r in user))
        idle = [r for r in rows if r["runtime_idle"]]
        if not idle:
            bad("no runtime_idle row at all")
        elif not user:
            print("idle program: every wait on goroutine 0: %s" % ", ".join(
                "%s=%d" % (r["syscall"], r["count"]) for r in idle))
    for spec in a.user or []:
        sc, want = spec.split("=")
        got = sum(r["count"] for r in rows if r["syscall"] == sc and not r["runtime_idle"])
        rt = sum(r["count"] for r in rows if r["syscall"] == sc and r["runtime_idle"])
        if got != int(want):
            bad("%s: %d calls outside goroutine 0, want %s (the program's); %d on goroutine 0" % (
                sc, got, want, rt))
        else:
            print("%s: %d calls from the program's goroutines (its own count), %d on goroutine 0" % (
                sc, got, rt))
    for sc in a.runtime or []:
        if not any(r["syscall"] == sc and r["runtime_idle"] for r in rows):
            bad("%s: no runtime_idle row" % sc)
    done()


def cmd_deep(a):
    _, events, _ = load(a.file)
    ev = [e for e in events if e.get("event") == "slow" and e["syscall"] == a.syscall]
    if len(ev) != 1:
        bad("%d slow %s events, want 1" % (len(ev), a.syscall))
        done()
    e = ev[0]
    st = e.get("stack", [])
    n = sum(1 for fr in st if fr.split(" ")[0] == a.func)
    print("%d frames captured, %d of %s, stack_truncated %s" % (
        len(st), n, a.func, e.get("stack_truncated", False)))
    if n != a.frames:
        bad("%s appears %d times, want %d" % (a.func, n, a.frames))
    if bool(e.get("stack_truncated", False)) != a.truncated:
        bad("stack_truncated %s, want %s" % (e.get("stack_truncated", False), a.truncated))
    done()


def cmd_deeptext(a):
    evs, cur = [], None
    with open(a.file) as f:
        for line in f:
            if re.match(r"^slow %s " % re.escape(a.syscall), line):
                cur = []
                evs.append(cur)
            elif cur is not None and line.startswith("        "):
                cur.append(line.strip())
            elif cur is not None and line.startswith("    "):
                pass  # the call's details (path, addr, fd)
            else:
                cur = None
    if len(evs) != 1:
        bad("%d slow %s paragraphs, want 1" % (len(evs), a.syscall))
        done()
    fr = evs[0]
    el = [l for l in fr if re.match(r"^\(\d+ frames elided\)$", l)]
    print("%d lines; %s; last: %s" % (len(fr), el[0] if el else "nothing elided", fr[-1] if fr else "-"))
    if a.truncated:
        if not fr or fr[-1] != "(deeper frames not captured)":
            bad("the stack does not end with '(deeper frames not captured)'")
    else:
        if el != ["(%d frames elided)" % a.elided]:
            bad("elided %s, want '(%d frames elided)'" % (el, a.elided))
        if not fr or fr[-1].split()[0] != a.last:
            bad("last frame %r, want %s" % (fr[-1] if fr else None, a.last))
    done()


def cmd_sampled(a):
    rows, _, summ = load(a.file)
    truth = {k: int(v) for k, v in (x.split("=") for x in a.truth.split(","))}
    if len(summ) != 1:
        bad("%d summary objects, want 1" % len(summ))
        done()
    sm = summ[0]
    for k in ("dropped_stats", "dropped_errnos", "dropped_starts"):
        if sm.get(k):
            bad("summary %s = %s" % (k, sm[k]))
    user = [r for r in rows if not r.get("runtime_idle")]

    def row(sc):
        rs = [r for r in user if r["syscall"] == sc]
        if len(rs) != 1:
            bad("%d rows for %s" % (len(rs), sc))
            return None
        return rs[0]
    if a.exact:
        if sm.get("method") != "exact" or any("count_seen" in r for r in rows):
            bad("--exact: method %s, sampling fields in rows" % sm.get("method"))
        for sc in ("openat", "close", "clock_nanosleep", "pselect6"):
            r = row(sc)
            if not r:
                continue
            t = truth[sc]
            tol = 0.01 * t + t / a.secs * a.slop_s + 2
            print("exact %s: %d, the program counted %d (tolerance %.0f)" % (sc, r["count"], t, tol))
            if abs(r["count"] - t) > tol:
                bad("%s: %d, the program counted %d: more than %.0f apart" % (sc, r["count"], t, tol))
        r = row("openat")
        if r:
            e = r["errnos"].get("ENOENT", 0)
            tol = 0.01 * truth["enoent"] + truth["enoent"] / a.secs * a.slop_s + 2
            print("exact openat ENOENT: %d, the program counted %d" % (e, truth["enoent"]))
            if abs(e - truth["enoent"]) > tol:
                bad("openat ENOENT %d, the program counted %d" % (e, truth["enoent"]))
        done()
    duty = sm.get("traced_seconds", 0) / sm["seconds"] if sm.get("seconds") else 0
    print("sampled: attached %.1f%% of %.2f s in %s windows of %s ms, scale %.3f" % (
        100 * duty, sm.get("seconds", 0), sm.get("windows"), sm.get("window_ms"), sm.get("scale", 0)))
    if sm.get("method") != "sampled":
        bad("method %s, want sampled" % sm.get("method"))
    if not 0.75 * a.duty <= duty <= 1.5 * a.duty:
        bad("attached %.1f%% of the time, want %.1f-%.1f%% (%.0f%% asked)" % (
            100 * duty, 75 * a.duty, 150 * a.duty, 100 * a.duty))
    for r in rows:
        exp = r["count_seen"] * sm["scale"]
        if abs(r["count"] - exp) > 1 or not r.get("estimate"):
            bad("%s: count %d, count_seen %d x scale %.3f = %.1f (estimate %s)" % (
                r["syscall"], r["count"], r["count_seen"], sm["scale"], exp, r.get("estimate")))
        if r.get("few_seen") != (r["count_seen"] < 10):
            bad("%s: few_seen %s with %d seen" % (r["syscall"], r.get("few_seen"), r["count_seen"]))
    for sc in ("openat", "close", "clock_nanosleep"):
        r = row(sc)
        if not r:
            continue
        t = truth[sc]
        print("%s: estimate %d (%d seen), the program counted %d: %+.1f%%" % (
            sc, r["count"], r["count_seen"], t, 100 * (r["count"] / t - 1) if t else 0))
        if not t or abs(r["count"] - t) > a.tol * t:
            bad("%s: estimate %d, the program counted %d: more than %.0f%% apart" % (
                sc, r["count"], t, 100 * a.tol))
    r = row("openat")
    if r and r["count"]:
        share, tshare = r["errnos"].get("ENOENT", 0) / r["count"], truth["enoent"] / truth["openat"]
        print("openat ENOENT share %.3f, the program's %.3f" % (share, tshare))
        if abs(share - tshare) > 0.1:
            bad("openat ENOENT share %.3f, the program's %.3f" % (share, tshare))
        if abs(r["errors"] - r["errnos"].get("ENOENT", 0)) > 1:
            bad("openat errors %d, ENOENT %d" % (r["errors"], r["errnos"].get("ENOENT", 0)))
    r = row("clock_nanosleep")
    if r:
        t = a.short_p50_us
        print("clock_nanosleep p50 %.1f us, the program measured %.1f us" % (r["p50_us"], t))
        if abs(r["p50_us"] - t) > 0.15 * t + t / 32:
            bad("clock_nanosleep p50 %.1f us, the program measured %.1f us: more than 15%% apart" % (
                r["p50_us"], t))
        if r.get("untimed"):
            bad("clock_nanosleep: %d untimed calls (1 ms calls in 100 ms windows)" % r["untimed"])
    r = row("pselect6")
    if r:
        w = sm["window_ms"] * 1e3
        print("pselect6 (longer than a window): %d estimated, %d seen, untimed %d, p50 %.0f us" % (
            r["count"], r["count_seen"], r["untimed"], r["p50_us"]))
        if r["count_seen"] < 1 or r["untimed"] < 1 or r["p50_us"] < w * (1 - 1 / 16.0):
            bad("pselect6: want seen, untimed and p50 >= the window (%.0f us)" % w)
    done()


def main():
    p = argparse.ArgumentParser()
    sp = p.add_subparsers(dest="cmd", required=True)
    c = sp.add_parser("counts")
    c.add_argument("file")
    c.add_argument("--key", choices=("goid", "tid"))
    c.add_argument("--id")
    c.add_argument("--only")
    c.add_argument("--others-ok", action="store_true")
    c.add_argument("spec", nargs="+")
    c = sp.add_parser("errnos")
    c.add_argument("file")
    c = sp.add_parser("latency")
    c.add_argument("file")
    c.add_argument("--syscall", required=True)
    c.add_argument("--req-us", type=float, required=True)
    c.add_argument("--truth-us")
    c.add_argument("--tol", type=float, default=0.15)
    c.add_argument("--res", type=float, default=1 / 16.0)
    c.add_argument("--strict", action="store_true")
    c.add_argument("--events", action="store_true")
    c = sp.add_parser("table")
    c.add_argument("file")
    c.add_argument("spec", nargs="+")
    c = sp.add_parser("strace")
    c.add_argument("strace")
    c.add_argument("file")
    c.add_argument("--syscalls", required=True)
    c = sp.add_parser("slow")
    c.add_argument("file")
    c.add_argument("--syscall", required=True)
    c.add_argument("--count", type=int, default=0)
    c.add_argument("--min-us", type=float, default=0)
    c.add_argument("--goid", type=int)
    c.add_argument("--tid", type=int)
    c.add_argument("--func")
    c.add_argument("--path")
    c = sp.add_parser("slowtext")
    c.add_argument("file")
    c.add_argument("--syscall", required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--min-ms", type=float, required=True)
    c.add_argument("--goid", type=int, required=True)
    c.add_argument("--tid", type=int, required=True)
    c.add_argument("--func", required=True)
    c.add_argument("--ret")
    c = sp.add_parser("alerts")
    c.add_argument("file")
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--addr", required=True)
    c.add_argument("--goid", type=int)
    c.add_argument("--func", required=True)
    c.add_argument("--not-func")
    c = sp.add_parser("alertstext")
    c.add_argument("file")
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--addr", required=True)
    c.add_argument("--rules", required=True)
    c.add_argument("--func", required=True)
    c = sp.add_parser("intervals")
    c.add_argument("file")
    c.add_argument("--min", type=int, default=2)
    c = sp.add_parser("ivdiet")
    c.add_argument("file")
    c.add_argument("--syscall", default="clock_nanosleep")
    c.add_argument("--split", type=int, required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--long-us", required=True)
    c.add_argument("--short-us", required=True)
    c.add_argument("--long-req-us", type=float, required=True)
    c = sp.add_parser("goids")
    c.add_argument("file")
    c.add_argument("--goroutines", required=True)
    c.add_argument("--min-goroutines", type=int, default=2)
    c = sp.add_parser("idle")
    c.add_argument("file")
    c.add_argument("--waits-idle")
    c.add_argument("--user", action="append")
    c.add_argument("--runtime", action="append")
    c = sp.add_parser("deep")
    c.add_argument("file")
    c.add_argument("--syscall", required=True)
    c.add_argument("--func", required=True)
    c.add_argument("--frames", type=int, required=True)
    c.add_argument("--truncated", action="store_true")
    c = sp.add_parser("deeptext")
    c.add_argument("file")
    c.add_argument("--syscall", required=True)
    c.add_argument("--elided", type=int, default=0)
    c.add_argument("--last")
    c.add_argument("--truncated", action="store_true")
    c = sp.add_parser("sampled")
    c.add_argument("file")
    c.add_argument("--truth", required=True)
    c.add_argument("--short-p50-us", type=float, default=0)
    c.add_argument("--tol", type=float, default=0.25)
    c.add_argument("--duty", type=float, default=0.10)
    c.add_argument("--exact", action="store_true")
    c.add_argument("--secs", type=float, default=1)
    c.add_argument("--slop-s", type=float, default=0.3)
    c = sp.add_parser("server")
    c.add_argument("file")
    c.add_argument("--requests", type=int, required=True)
    c.add_argument("--need", required=True)
    a = p.parse_args()
    globals()["cmd_" + a.cmd](a)


if __name__ == "__main__":
    main()
