#!/usr/bin/env python3
"""agent_page: check what `goscope agent` itself writes — a /metrics page,
its --json-lines output — and the dashboard shipped for it, against truths
independent of goscope.

Subcommands (each prints what it found; exit 0 when every check holds):

  page FILE [--pid PID=EXE=GOVERSION]... [--no-pid PID]...
      Parse the text exposition format (0.0.4) strictly: UTF-8, every sample
      of a family announced by # HELP and # TYPE, label values escaped,
      values numbers, no series twice. Then: counters end in _total; per-process
      series start with pid, exe, go_version; each histogram (pid, syscall)
      has non-decreasing buckets whose +Inf equals _count and
      goscope_syscalls_total; goscope_tracked_processes equals the number of
      distinct pids; each --pid is there with its exe and go_version, each
      --no-pid is not.
  procs FILE --fetched UNIX [--settle S]
      The pids of the page against an independent scan of /proc: a process
      is a Go program when its executable has a .go.buildinfo section or a
      Go build-id note (goscope looks at the pclntab instead). Every pid on
      the page must be such a process (or have exited since); every such
      process started more than S seconds (default 6) before the page was
      fetched and still alive must be on the page.
  jsonl FILE --pid PID=EXE=GOVERSION --interval S --t0 UNIX [--syscall NAME]
      --json-lines output: every line one JSON object with pid, exe,
      go_version, syscalls_total (an object of counts); the lines of PID
      carry its exe and go_version, come once an interval (their "time"
      steps by S within 30%, median) starting within 3 s of T0 (the wall
      clock when the agent started), and NAME's count never decreases and
      grows.
  sampled FILE --pid PID --truth-log LOG --syscall NAME --duty D --tol T
             [--min-traced S]
      --json-lines of the syscalls collector against the opener's own log
      (tests/go/opener, "t=UNIX opens=N" once a second, interpolated): over
      PID's lines whose collection read the kernel (traced seconds grew:
      not carried; from the second such to the last, so whole collection
      intervals), syscalls_traced_seconds_total grew by D (+-20%)
      per wall second and by at least S seconds (the sample: S / 0.1 windows
      of 100 ms); NAME's count grew by the opener's own count over the same
      wall interval within T (relative); syscalls_sampling_duty of every
      line is in (0, 1] (exactly 1 when D is 1).
  joined FILE --pid PID --truth-log LOG --syscall NAME --interval S --tol T
      A process discovered during a collection interval of the sampled
      syscalls collector: its first line's NAME count (the part of the
      interval after it was added, scaled by that part's own wall /
      attached time) against the opener's own count from the line's
      tracked_since to its time, within T (relative); tracked_since lies
      in the interval before that first line.
  dashboard JSON PAGE
      The Grafana dashboard is valid JSON; every metric name its PromQL
      expressions (panel targets and template queries) use is one the agent
      exports on PAGE (histogram series included). --exprs FILE: write the
      expressions as Prometheus runs them (Grafana's variables set to All,
      label_values(E, L) as E), one a line; --rules FILE: the same as a
      recording-rules file for `promtool check rules` (PromQL syntax).
  names PAGE
      Print the metric family names of a page, one a line.
"""
import argparse
import json
import os
import re
import statistics
import struct
import sys
import time

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


# --- exposition parser -----------------------------------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE_RE = re.compile(r"^(%s)(\{(.*)\})? (\S+)$" % NAME)
LABEL_RE = re.compile(r'(%s)="((?:[^"\\]|\\.)*)"' % r"[a-zA-Z_][a-zA-Z0-9_]*")


def unescape(v):
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


class Page:
    def __init__(self, path):
        self.types, self.helps = {}, {}
        self.samples = []  # (name, [(label, value)...], value)
        self.errors = []
        seen = set()
        with open(path, "rb") as f:
            for n, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8").rstrip("\n")
                except UnicodeDecodeError as e:
                    self.errors.append("line %d: not UTF-8 (%s): %r" % (n, e, raw[:200]))
                    continue
                if not line:
                    continue
                if line.startswith("# HELP "):
                    parts = line.split(" ", 3)
                    self.helps[parts[2]] = parts[3] if len(parts) > 3 else ""
                    continue
                if line.startswith("# TYPE "):
                    parts = line.split(" ")
                    if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram",
                                                           "summary", "untyped"):
                        self.errors.append("line %d: bad TYPE: %s" % (n, line))
                    else:
                        self.types[parts[2]] = parts[3]
                    continue
                if line.startswith("#"):
                    continue
                m = SAMPLE_RE.match(line)
                if not m:
                    self.errors.append("line %d: not a sample: %s" % (n, line))
                    continue
                name, body, value = m.group(1), m.group(3) or "", m.group(4)
                labels = []
                rest = body
                while rest:
                    lm = LABEL_RE.match(rest)
                    if not lm:
                        self.errors.append("line %d: bad labels: %s" % (n, body))
                        break
                    labels.append((lm.group(1), unescape(lm.group(2))))
                    rest = rest[lm.end():]
                    if rest.startswith(","):
                        rest = rest[1:]
                    elif rest:
                        self.errors.append("line %d: bad labels: %s" % (n, body))
                        break
                try:
                    v = float(value)
                except ValueError:
                    self.errors.append("line %d: bad value: %s" % (n, line))
                    continue
                fam = self.family(name)
                if fam not in self.types or fam not in self.helps:
                    self.errors.append("line %d: %s before its # HELP/# TYPE" % (n, name))
                key = (name, tuple(labels))
                if key in seen:
                    self.errors.append("line %d: series twice: %s" % (n, line))
                seen.add(key)
                self.samples.append((name, labels, v))

    def family(self, name):
        for suf in ("_bucket", "_sum", "_count"):
            base = name[: -len(suf)]
            if name.endswith(suf) and self.types.get(base) == "histogram":
                return base
        return name

    def pids(self):
        return {dict(l)["pid"] for _, l, _ in self.samples if "pid" in dict(l)}


def cmd_page(a):
    p = Page(a.file)
    if p.errors:
        bad("%s: %d format errors, e.g. %s" % (a.file, len(p.errors), "; ".join(p.errors[:3])))
    else:
        ok("%d samples in %d families parse as the text format (HELP, TYPE, labels, values)" % (
            len(p.samples), len(p.types)))
    wrong = [f for f, t in p.types.items() if t == "counter" and not f.endswith("_total")]
    (bad if wrong else ok)("counters end in _total%s" % (": not " + ", ".join(wrong) if wrong else ""))
    per_proc = [s for s in p.samples if any(k == "pid" for k, _ in s[1])]
    order = [s for s in per_proc if [k for k, _ in s[1][:3]] != ["pid", "exe", "go_version"]]
    empty = [s for s in per_proc if not all(v for _, v in s[1][:3])]
    if order or empty:
        bad("per-process series without pid, exe, go_version first (or empty): %s" %
            ((order or empty)[0],))
    else:
        ok("%d per-process series start with non-empty pid, exe, go_version" % len(per_proc))
    # histograms
    hist = {}
    for name, labels, v in p.samples:
        d = dict(labels)
        if name.startswith("goscope_syscall_duration_seconds_"):
            key = (d["pid"], d["syscall"])
            h = hist.setdefault(key, {"le": []})
            if name.endswith("_bucket"):
                h["le"].append((float(d["le"]), v))
            else:
                h[name.rsplit("_", 1)[1]] = v
    calls = {(dict(l)["pid"], dict(l)["syscall"]): v for n, l, v in p.samples
             if n == "goscope_syscalls_total"}
    hbad = []
    for key, h in hist.items():
        les = h["le"]
        vals = [v for _, v in les]
        if [x for x, _ in les] != sorted(x for x, _ in les) or vals != sorted(vals):
            hbad.append("%s: buckets not in order / decreasing: %s" % (key, les))
        elif not les or les[-1][0] != float("inf") or les[-1][1] != h.get("count"):
            hbad.append("%s: +Inf %s != _count %s" % (key, les[-1] if les else None, h.get("count")))
        elif calls.get(key) != h.get("count"):
            hbad.append("%s: _count %s != goscope_syscalls_total %s" % (key, h.get("count"),
                                                                          calls.get(key)))
        elif "sum" not in h or h["sum"] < 0:
            hbad.append("%s: no or negative _sum" % (key,))
    if hbad:
        bad("%d of %d syscall histograms inconsistent, e.g. %s" % (len(hbad), len(hist), hbad[0]))
    else:
        ok("%d syscall histograms: buckets non-decreasing, +Inf = _count = goscope_syscalls_total" %
           len(hist))
    tracked = [v for n, _, v in p.samples if n == "goscope_tracked_processes"]
    pids = p.pids()
    if len(tracked) == 1 and tracked[0] == len(pids):
        ok("goscope_tracked_processes %d = distinct pids on the page" % tracked[0])
    else:
        bad("goscope_tracked_processes %s, %d distinct pids on the page" % (tracked, len(pids)))
    for spec in a.pid:
        pid, exe, gv = spec.split("=", 2)
        mine = [dict(l) for _, l, _ in p.samples if dict(l).get("pid") == pid]
        wrongl = [d for d in mine if d["exe"] != exe or d["go_version"] != gv]
        if mine and not wrongl:
            ok("pid %s on the page: %d series, exe=%s go_version=%s" % (pid, len(mine), show(exe), gv))
        else:
            bad("pid %s: %d series, %d not exe=%s go_version=%s %s" % (
                pid, len(mine), len(wrongl), show(exe), gv, wrongl[:1]))
    for pid in a.no_pid:
        (bad if pid in pids else ok)("pid %s %s on the page" % (pid, "still" if pid in pids else "not"))
    return 1 if failures else 0


# --- /proc truth -------------------------------------------------------------------

def elf_is_go(path):
    """Go toolchain marks: a .go.buildinfo section or a "Go" build-id note."""
    with open(path, "rb") as f:
        h = f.read(64)
        if len(h) < 64 or h[:4] != b"\x7fELF" or h[4] != 2 or h[5] != 1:
            return False
        shoff, = struct.unpack_from("<Q", h, 40)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", h, 58)
        if not shoff or shstrndx >= shnum:
            return False
        f.seek(shoff)
        sh = f.read(shentsize * shnum)
        secs = [struct.unpack_from("<IIQQQQ", sh, i * shentsize) for i in range(shnum)]
        stroff, strsize = secs[shstrndx][4], secs[shstrndx][5]
        f.seek(stroff)
        strtab = f.read(strsize)
        for name, typ, _flags, _addr, off, size in secs:
            n = strtab[name:strtab.index(b"\0", name)]
            if n == b".go.buildinfo":
                return True
            if n == b".note.go.buildid":
                return True
    return False


def go_processes():
    """pid -> start time (UNIX) of the Go processes now."""
    hz = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        btime = int(next(l for l in f if l.startswith("btime")).split()[1])
    cache, out, me = {}, {}, os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            st = os.stat("/proc/%s/exe" % d)
            key = (st.st_dev, st.st_ino)
            if key not in cache:
                cache[key] = elf_is_go("/proc/%s/exe" % d)
            if not cache[key]:
                continue
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[d] = btime + int(fields[19]) / hz
        except (OSError, ValueError, struct.error, IndexError):
            continue
    return out


def alive(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cmd_procs(a):
    page = Page(a.file).pids()
    truth = go_processes()
    stray = [p for p in page if p not in truth and alive(p)]
    if stray:
        bad("pids on the page that are not Go programs by their ELF: %s" % ", ".join(sorted(stray)))
    else:
        ok("every one of the %d pids on the page is a Go program (by .go.buildinfo / Go build id) "
           "or has exited" % len(page))
    missed = [p for p, start in truth.items()
              if start < a.fetched - a.settle and p not in page and alive(p)]
    old = sum(1 for s in truth.values() if s < a.fetched - a.settle)
    if missed:
        info = []
        for p in sorted(missed):
            try:
                info.append("%s (%s)" % (p, os.readlink("/proc/%s/exe" % p)))
            except OSError:
                info.append(p)
        bad("Go processes older than %g s missing from the page: %s" % (a.settle, ", ".join(info)))
    else:
        ok("all %d Go processes of /proc older than %g s are on the page (%d Go processes now)" % (
            old, a.settle, len(truth)))
    return 1 if failures else 0


# --- JSON lines ----------------------------------------------------------------------

def cmd_jsonl(a):
    pid, exe, gv = a.pid.split("=", 2)
    objs = []
    with open(a.file) as f:
        for n, line in enumerate(f, 1):
            try:
                o = json.loads(line)
            except ValueError as e:
                bad("line %d is not JSON (%s): %s" % (n, e, line[:200]))
                return 1
            if not isinstance(o, dict):
                bad("line %d is not an object: %s" % (n, line[:200]))
                return 1
            objs.append(o)
    need = ("pid", "exe", "go_version", "syscalls_total", "time")
    miss = [o for o in objs if any(k not in o for k in need) or
            not isinstance(o.get("syscalls_total"), dict)]
    if objs and not miss:
        ok("%d JSON lines, each an object with %s" % (len(objs), ", ".join(need)))
    else:
        bad("%d JSON lines, %d without all of %s: %s" % (len(objs), len(miss), need,
                                                         json.dumps(miss[:1])[:300]))
    mine = [o for o in objs if str(o.get("pid")) == pid]
    wrong = [o for o in mine if o.get("exe") != exe or o.get("go_version") != gv]
    if len(mine) >= 3 and not wrong:
        ok("%d lines for pid %s, all exe=%s go_version=%s" % (len(mine), pid, exe, gv))
    else:
        bad("%d lines for pid %s (want >= 3), %d not exe=%s go_version=%s" % (
            len(mine), pid, len(wrong), exe, gv))
        return 1
    times = [float(o["time"]) for o in mine]
    steps = [b - a_ for a_, b in zip(times, times[1:])]
    med = statistics.median(steps)
    msg = "\"time\" of pid %s's lines: first %.3f (agent started %.3f), median step %.3f s " \
          "(interval %g s)" % (pid, times[0], a.t0, med, a.interval)
    if abs(times[0] - a.t0) <= 3 and abs(med - a.interval) <= 0.3 * a.interval and \
            steps == [abs(s) for s in steps]:
        ok(msg)
    else:
        bad(msg + "; times: " + " ".join("%.3f" % t for t in times[:8]))
    if a.syscall:
        counts = [o["syscalls_total"].get(a.syscall, 0) for o in mine]
        grows = all(y >= x for x, y in zip(counts, counts[1:])) and counts[-1] > counts[0]
        (ok if grows else bad)("syscalls_total.%s of pid %s never decreases and grows: %s" % (
            a.syscall, pid, " ".join(str(c) for c in counts[:12])))
    return 1 if failures else 0


def pid_lines(path, pid):
    """The JSON lines of PID in a --json-lines file."""
    with open(path) as f:
        return [o for o in map(json.loads, f) if str(o.get("pid")) == pid]


def cmd_sampled(a):
    from agent_prom import opener_rate
    mine = pid_lines(a.file, a.pid)
    if len(mine) < 3:
        bad("%d lines for pid %s (want >= 3)" % (len(mine), a.pid))
        return 1
    duties = [o.get("syscalls_sampling_duty") for o in mine]
    if all(isinstance(d, (int, float)) and 0 < d <= 1 and (a.duty < 1 or d == 1) for d in duties):
        ok("syscalls_sampling_duty of %d lines: %s" % (
            len(duties), " ".join("%.3f" % d for d in duties[:12])))
    else:
        bad("syscalls_sampling_duty of the lines (want in (0, 1]%s): %s" % (
            ", 1" if a.duty >= 1 else "", duties[:20]))
    # Ends: lines of collections that read the kernel (traced time grew;
    # not an interval carried into the next), so that their counts are
    # those up to their "time"; the first such line is left out (it may
    # cover the process's start).
    read = [o for p_, o in zip(mine, mine[1:])
            if o["syscalls_traced_seconds_total"] > p_["syscalls_traced_seconds_total"]]
    if len(read) < 3:
        bad("%d lines of pid %s that read the kernel (want >= 3)" % (len(read), a.pid))
        return 1
    first, last = read[1], read[-1]
    t0, t1 = float(first["time"]), float(last["time"])
    traced = last["syscalls_traced_seconds_total"] - first["syscalls_traced_seconds_total"]
    share = traced / (t1 - t0)
    msg = "attached %.2f s of %.2f s: %.3f of the time (want %.2f +-20%%, >= %.1f s)" % (
        traced, t1 - t0, share, a.duty, a.min_traced)
    (ok if abs(share - a.duty) <= 0.2 * a.duty and traced >= a.min_traced else bad)(msg)
    est = last["syscalls_total"].get(a.syscall, 0) - first["syscalls_total"].get(a.syscall, 0)
    truth = opener_rate(a.truth_log, t0, t1) * (t1 - t0)
    err = (est - truth) / truth if truth else float("inf")
    (ok if abs(err) <= a.tol else bad)(
        "%s calls from %.3f to %.3f: agent %d, the opener's own count %.0f: %+.1f%% (tol %.0f%%)" % (
            a.syscall, t0, t1, est, truth, err * 100, a.tol * 100))
    return 1 if failures else 0


def cmd_joined(a):
    from agent_prom import opener_rate
    mine = pid_lines(a.file, a.pid)
    if not mine or not isinstance(mine[0].get("tracked_since"), (int, float)):
        bad("no line for pid %s with a tracked_since: %s" % (a.pid, json.dumps(mine[:1])[:300]))
        return 1
    first = mine[0]
    ts, t1 = float(first["tracked_since"]), float(first["time"])
    msg = "pid %s: tracked_since %.3f, %.2f s before its first line (interval %g s)" % (
        a.pid, ts, t1 - ts, a.interval)
    (ok if 0 < t1 - ts <= a.interval * 1.3 else bad)(msg)
    est = first["syscalls_total"].get(a.syscall, 0)
    truth = opener_rate(a.truth_log, ts, t1) * (t1 - ts)
    err = (est - truth) / truth if truth else float("inf")
    (ok if abs(err) <= a.tol else bad)(
        "%s calls in the first, partial interval (%.2f s of %g s, duty %.3f): agent %d, the "
        "opener's own count %.0f: %+.1f%% (tol %.0f%%)" % (
            a.syscall, t1 - ts, a.interval, first.get("syscalls_sampling_duty", -1), est, truth,
            err * 100, a.tol * 100))
    return 1 if failures else 0


# --- dashboard -----------------------------------------------------------------------

def exprs_of(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("expr", "query") and isinstance(v, str):
                out.append(v)
            else:
                exprs_of(v, out)
    elif isinstance(node, list):
        for v in node:
            exprs_of(v, out)
    return out


def cmd_dashboard(a):
    try:
        with open(a.json) as f:
            dash = json.load(f)
    except ValueError as e:
        bad("%s is not valid JSON: %s" % (a.json, e))
        return 1
    ok("%s is valid JSON (%d panels)" % (a.json, len(dash.get("panels", []))))
    page = Page(a.page)
    exported = {n for n, _, _ in page.samples} | set(page.types)
    exprs = [e for e in exprs_of(dash, []) if e and e != "prometheus"]
    used = set()
    for e in exprs:
        # label_values(METRIC, label) and PromQL: metric names are the
        # identifiers in the expression that are not functions, keywords,
        # label names or quoted strings.
        bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', e)
        bare = re.sub(r"\{[^}]*\}", "", bare)
        bare = re.sub(r"\[[^\]]*\]", "", bare)
        for m in re.finditer(r"(?<![\w:$])(%s)" % NAME, bare):
            tok, end = m.group(1), m.end()
            after = bare[end:].lstrip()
            if after[:1] == "(" or re.match(r"(by|without)\b", after) or tok in ("by", "without", "on", "ignoring", "group_left",
                                     "group_right", "offset", "bool", "and", "or", "unless"):
                continue
            prev = bare[:m.start()].rstrip()
            if prev.endswith("(") and re.search(r"(by|without|on|ignoring)\s*\($", prev):
                continue
            if re.search(r"(by|without|on|ignoring)\s*\([^)]*$", bare[:m.start()]):
                continue  # inside a grouping list
            if re.match(r"^[0-9]", tok):
                continue
            if tok in ("exe", "pid", "le", "syscall", "errno", "reason", "job", "instance",
                       "source", "go_version") and re.search(r",\s*$", prev):
                continue  # label_values(metric, LABEL)
            used.add(tok)
    unknown = sorted(u for u in used if u not in exported)
    (bad if unknown else ok)("metric names in the dashboard's %d expressions: %s%s" % (
        len(exprs), ", ".join(sorted(used)),
        "; NOT exported by the agent: " + ", ".join(unknown) if unknown else " (all exported)"))
    fams = {page.family(n) for n, _, _ in page.samples if n.startswith("goscope_")}
    unused = sorted(f for f in fams if not any(u == f or u.startswith(f + "_") for u in used))
    print("      goscope_ families without a panel: %s" % (", ".join(unused) or "none"))
    # The expressions as Prometheus would run them: Grafana's variables
    # replaced by "All", label_values(EXPR, LABEL) by EXPR.
    plain = []
    for e in exprs:
        e = e.replace("$__rate_interval", "1m").replace("$exe", ".*").replace("$pid", ".*")
        m = re.match(r"^label_values\((.*),\s*\w+\)$", e)
        plain.append(m.group(1) if m else e)
    if a.exprs:
        with open(a.exprs, "w") as f:
            f.write("".join(e + "\n" for e in plain))
    if a.rules:
        with open(a.rules, "w") as f:
            f.write("groups:\n- name: goscope-dashboard\n  rules:\n")
            for i, e in enumerate(plain):
                f.write("  - record: dashboard:expr%d\n    expr: %s\n" % (i, json.dumps(e)))
    return 1 if failures else 0


def cmd_names(a):
    for n in sorted(Page(a.page).types):
        print(n)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("page")
    p.add_argument("file")
    p.add_argument("--pid", action="append", default=[])
    p.add_argument("--no-pid", action="append", default=[])
    p = sub.add_parser("procs")
    p.add_argument("file")
    p.add_argument("--fetched", type=float, required=True)
    p.add_argument("--settle", type=float, default=6)
    p = sub.add_parser("jsonl")
    p.add_argument("file")
    p.add_argument("--pid", required=True)
    p.add_argument("--interval", type=float, required=True)
    p.add_argument("--t0", type=float, required=True)
    p.add_argument("--syscall")
    for name in ("sampled", "joined"):  # the opener's JSON lines against its own log
        p = sub.add_parser(name)
        p.add_argument("file")
        p.add_argument("--pid", required=True)
        p.add_argument("--truth-log", required=True)
        p.add_argument("--syscall", required=True)
        p.add_argument("--tol", type=float, required=True)
        if name == "sampled":
            p.add_argument("--duty", type=float, required=True)
            p.add_argument("--min-traced", type=float, default=0)
        else:
            p.add_argument("--interval", type=float, required=True)
    p = sub.add_parser("dashboard")
    p.add_argument("json")
    p.add_argument("page")
    p.add_argument("--exprs")
    p.add_argument("--rules")
    p = sub.add_parser("names")
    p.add_argument("page")
    a = ap.parse_args()
    return {"page": cmd_page, "procs": cmd_procs, "jsonl": cmd_jsonl, "sampled": cmd_sampled, "joined": cmd_joined, "dashboard": cmd_dashboard,
            "names": cmd_names}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
