#!/usr/bin/env bash
# test_why_caddy: `goscope why --http` on Debian's caddy (Go 1.19, a real
# binary) names a CPU quota and a slow upstream right.
#
# 1. caddy file-server in a cgroup v1 cpu child with a quota of 5 ms per
#    100 ms; one client worker GETs /index.html (4 KiB) back to back for 8 s.
#    Truth: the cgroup's cpu.stat throttled_time over the load, the client's
#    own latencies. Checks (why --http --slow 30 --json, why_check.py): top
#    cfs_throttled for >= 90% of slow calls, first in the verdict,
#    explained_share >= 0.8, route "GET /index.html"; why's slow calls
#    cover caddy's own slow requests (its access log's durations,
#    --access-log; a duration ends before the log line is written, inside
#    ServeHTTP): at least 95% as many as those >= 30 ms; cfs_throttled
#    over the calls <= 1.1 x throttled_time + 5 ms (caddy's other threads
#    queue in throttled periods too, on both CPUs: its calls see about a
#    third) and >= 0.7 x caddy's own time in its slow requests;
#    gc_stw <= 1.1 x the STW clock of caddy's gctrace (GODEBUG=gctrace=1)
#    over its whole run + 1 ms.
# 2. caddy as a reverse proxy (a Caddyfile: admin off, http only) to
#    tests/go/whysvc -mode downstream -delay 60, whose own clock records each
#    request; one worker for 8 s: every request is slow. Checks (why --http
#    --slow 40 --json): the wait for the upstream is top for >= 90% of slow
#    calls and first in the verdict: caddy's proxy waits for net/http's
#    Transport, so the request's goroutine parks in select (its readLoop
#    goroutine is the one in IO wait): select or io_wait is accepted;
#    explained_share >= 0.8; route "GET /up"; that wait within [0.95, 1.1]
#    x the upstream's own time for those calls (+1 ms a call).
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/health_lib.sh"
. "$E2E_DIR/why_lib.sh"

[ -x /usr/bin/caddy ] || skip "no /usr/bin/caddy"
wl_build
mkdir -p "$TMP/www" "$TMP/home"
head -c 4096 /dev/urandom | base64 >"$TMP/www/index.html"
caddy_env=(env HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home" XDG_DATA_HOME="$TMP/home")

# --- 1. a CPU quota ----------------------------------------------------------------
SLOW=30
wl_cgroup 5000 100000
port=$(free_port)
spawn "$TMP/caddy1.out" "$TMP/caddy1.err" "${caddy_env[@]}" GODEBUG=gctrace=1 /usr/bin/caddy file-server \
	--listen "127.0.0.1:$port" --root "$TMP/www" --access-log
SVC_PID=$SPAWN_PID
wait_port 127.0.0.1 "$port" "$SVC_PID" || die "caddy file-server not serving: $(tail -3 "$TMP/caddy1.err")"
echo "$SVC_PID" >"$WL_CG/cgroup.procs" || die "cannot move caddy into $WL_CG"
SVC_ADDR=
wl_truth0() { wl_cg_throttled thr0; }
wl_truth1() { wl_cg_throttled thr1; }
wl_run $SLOW 8 "http://127.0.0.1:$port/index.html" --http
log "cpu.stat: throttled_time +$(((thr1 - thr0) / 1000)) us, nr_throttled +$((thr1_n - thr0_n))"
wl_check caddy-quota --slow $SLOW --truth throttled_us=$(((thr1 - thr0) / 1000)) --route "GET /index.html" \
	--gctrace "$TMP/caddy1.err" --caddylog "$TMP/caddy1.err"
kill "$SVC_PID" 2>/dev/null

# --- 2. a slow upstream ----------------------------------------------------------------
SLOW=40
wl_start DS "$TMP/ds.out" "$TMP/ds.err" "$TMP/whysvc" -mode downstream -delay 60
port=$(free_port)
cat >"$TMP/Caddyfile" <<CADDY
{
	admin off
	auto_https off
}
http://127.0.0.1:$port {
	reverse_proxy $DS_ADDR
}
CADDY
spawn "$TMP/caddy2.out" "$TMP/caddy2.err" "${caddy_env[@]}" /usr/bin/caddy run --config "$TMP/Caddyfile" --adapter caddyfile
SVC_PID=$SPAWN_PID
wait_port 127.0.0.1 "$port" "$SVC_PID" || die "caddy reverse proxy not serving: $(tail -3 "$TMP/caddy2.err")"
curl -sf "http://127.0.0.1:$port/up" >/dev/null || die "caddy does not proxy /up: $(tail -3 "$TMP/caddy2.err")"
wl_truth0() { :; }
wl_truth1() { curl -sf "http://$DS_ADDR/stats" >"$TMP/ds.json" || die "cannot read the upstream's records"; }
wl_run $SLOW 8 "http://127.0.0.1:$port/up" --http
wl_check caddy-upstream --slow $SLOW --dstats "$TMP/ds.json" --route "GET /up"
wl_finish
