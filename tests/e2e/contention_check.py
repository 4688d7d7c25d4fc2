#!/usr/bin/env python3
"""contention_check: `goscope contention --json` of an idle process vs the
runtime's own SIGQUIT dump of it (GOTRACEBACK=system), taken right after.

Usage: contention_check.py --json OUT --dump STDERR [--slack N]

Goroutines parked on a channel (dump states "chan receive", "chan send",
"select") must equal the waiters goscope found on channel objects (its
waiters_max: the process is idle); goroutines parked on a semaphore
("semacquire", "sync.Mutex.Lock", "sync.RWMutex.Lock", "sync.RWMutex.RLock",
"sync.WaitGroup.Wait") must equal the waiters found in runtime.semtable.
--slack N allows N of difference in each (busy servers).
"""
import argparse
import re
import sys

import jstream

GOROUTINE_RE = re.compile(r"^goroutine (\d+) (?:gp=\S+ m=\S+ (?:mp=\S+ )?)?\[(.*?)\]:\s*$")
CHAN = {"chan receive", "chan send", "select"}
SEMA = {"semacquire", "sync.Mutex.Lock", "sync.RWMutex.Lock", "sync.RWMutex.RLock",
        "sync.WaitGroup.Wait"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--slack", type=int, default=0)
    a = ap.parse_args()
    objs = jstream.load(a.json)
    ob = [o for o in objs if o.get("type") == "object"]
    summ = [o for o in objs if o.get("type") == "summary"][0]
    ours_chan = sum(o["waiters_max"] for o in ob if o["kind"] == "chan")
    ours_sema = sum(o["waiters_max"] for o in ob if o["kind"] != "chan")
    dchan = dsema = 0
    for ln in open(a.dump, errors="replace"):
        m = GOROUTINE_RE.match(ln.rstrip("\n"))
        if not m or m.group(1) == "0":
            continue
        st = re.sub(r", \d+ minutes?$", "", m.group(2))
        st = re.sub(r", locked to thread$", "", st)
        dchan += st in CHAN
        dsema += st in SEMA
    sema_ok = all(p["semaphores"] for p in summ["processes"])
    print("parked on channels: goscope %d, dump %d; on semaphores: goscope %d, dump %d "
          "(semtable found: %s); %d objects" % (ours_chan, dchan, ours_sema, dsema, sema_ok, len(ob)))
    bad = abs(ours_chan - dchan) > a.slack or abs(ours_sema - dsema) > a.slack or not sema_ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
