"""http_count: send exactly N GET requests to URL over THREADS keep-alive
connections (or a new connection per request with --close), check every
response (status 200, body BODY), print "sent N ok K bad B" and exit 1 if
any response was wrong or failed.

  http_count.py URL N THREADS BODY [--close]
"""
import http.client
import sys
import threading
import urllib.parse


def worker(url, n, body, close, res, lock):
    u = urllib.parse.urlsplit(url)
    conn = None
    ok = bad = 0
    for _ in range(n):
        try:
            if conn is None:
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            conn.request("GET", u.path, headers={"Connection": "close"} if close else {})
            r = conn.getresponse()
            data = r.read().decode(errors="replace")
            if r.status == 200 and data == body:
                ok += 1
            else:
                bad += 1
            if close:
                conn.close()
                conn = None
        except Exception:
            bad += 1
            conn = None
    if conn is not None:
        conn.close()
    with lock:
        res[0] += ok
        res[1] += bad


def main():
    url, n, threads, body = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    body = body.encode().decode("unicode_escape")
    close = "--close" in sys.argv[5:]
    res, lock, ts = [0, 0], threading.Lock(), []
    for i in range(threads):
        share = n // threads + (1 if i < n % threads else 0)
        t = threading.Thread(target=worker, args=(url, share, body, close, res, lock))
        t.start()
        ts.append(t)
    for t in ts:
        t.join()
    print(f"sent {n} ok {res[0]} bad {res[1]}")
    sys.exit(0 if res[1] == 0 and res[0] == n else 1)


if __name__ == "__main__":
    main()
