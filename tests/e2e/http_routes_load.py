"""http_routes_load: send a known mix of requests to tests/go/httproutes
(or any server) and record what came back.

  http_routes_load.py BASE_URL SPEC...   SPEC = METHOD:PATH:COUNT[:BODY]
  (a PATH ending in '*' is sent COUNT times with 0..COUNT-1 in its place)

Two keep-alive connections. Prints one JSON line {"METHOD PATH": {"sent",
"ok", "bad", "codes": {"STATUS": N}}} (per distinct path) and exits 1 if
any response with an expected BODY was wrong. Requests expected to fail
(BODY "!") must fail: the server drops the connection. BODY "*": any
status is right (the codes are recorded).
"""
import http.client
import json
import sys
import threading
import urllib.parse


def main():
    base = urllib.parse.urlsplit(sys.argv[1])
    jobs = []
    for spec in sys.argv[2:]:
        method, path, count, *body = spec.split(":", 3)
        body = body[0] if body else None
        for i in range(int(count)):
            p = path[:-1] + str(i) if path.endswith("*") else path
            jobs.append((method, p, body))
    res, lock = {}, threading.Lock()

    def worker(share):
        conn = None
        for method, path, body in share:
            key = f"{method} {path}"
            good = False
            code = None
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
                conn.request(method, path, body=b"" if method == "POST" else None)
                r = conn.getresponse()
                data = r.read().decode(errors="replace")
                code = r.status
                good = body == "*" or (body != "!" and r.status in (200, 404) and
                                       (body is None or data == body))
            except Exception:
                conn = None
                good = body == "!"
            with lock:
                e = res.setdefault(key, {"sent": 0, "ok": 0, "bad": 0, "codes": {}})
                e["sent"] += 1
                e["ok" if good else "bad"] += 1
                if code is not None:
                    e["codes"][str(code)] = e["codes"].get(str(code), 0) + 1
        if conn is not None:
            conn.close()

    ts = [threading.Thread(target=worker, args=(jobs[i::2],)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps(res, sort_keys=True))
    sys.exit(0 if all(e["bad"] == 0 for e in res.values()) else 1)


if __name__ == "__main__":
    main()
