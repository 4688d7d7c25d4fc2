#!/usr/bin/env python3
"""offcpu_load: a little HTTP load, in one process: GET URL over one
keep-alive HTTP/1.1 connection (reconnecting when the server closes it)
for SECONDS, with PAUSE seconds between requests. Prints
"requests N errors E" at the end; exit 0 when N > 0 and E == 0.

Usage: offcpu_load.py URL SECONDS [PAUSE]
"""
import http.client
import sys
import time
import urllib.parse


def main():
    url = urllib.parse.urlsplit(sys.argv[1])
    seconds = float(sys.argv[2])
    pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.005
    end = time.monotonic() + seconds
    n = errors = 0
    conn = None
    last_err = ""
    while time.monotonic() < end:
        try:
            if conn is None:
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
            conn.request("GET", url.path or "/")
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors += 1
                last_err = "HTTP %d" % r.status
            else:
                n += 1
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            errors += 1
            last_err = repr(e)
            if conn is not None:
                conn.close()
            conn = None
        time.sleep(pause)
    print("requests %d errors %d%s" % (n, errors, (" (last: %s)" % last_err) if errors else ""))
    sys.stdout.flush()
    return 0 if n > 0 and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
