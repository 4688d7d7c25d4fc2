#!/usr/bin/env bash
# goscope's main job on the bundled demo service, from a fresh Debian 12
# machine (as root): install dependencies, build goscope and the demo Go
# service (demo/service), put it under load with wrk, then show what the
# service is and where its goroutines wait.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
make -j"$(nproc)"

work=$(mktemp -d /tmp/goscope-demo.XXXXXX)
mkdir -p "$PWD/.cache/gocache"
(cd demo/service && GOCACHE="$PWD/../../.cache/gocache" \
	go build -o "$work/demo-service" .)
port=${GOSCOPE_DEMO_PORT:-18089}
"$work/demo-service" -addr "127.0.0.1:$port" >"$work/service.log" 2>&1 &
svc=$!
cleanup() {
	kill "$svc" "${load:-}" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 50); do
	curl -sf "http://127.0.0.1:$port/fast" >/dev/null 2>&1 && break
	sleep 0.1
done
cat >"$work/load.lua" <<'LUA'
local paths = {"/fast", "/cache?k=a", "/job", "/downstream", "/sleep"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA
wrk -t2 -c32 -d12s -s "$work/load.lua" "http://127.0.0.1:$port/" >"$work/wrk.log" 2>&1 &
load=$!
sleep 1

echo "== goscope info $svc"
./goscope info "$svc"
echo
echo "== goscope offcpu -p $svc -d 5   (where the service's goroutines wait, under load)"
./goscope offcpu -p "$svc" -d 5 -n 6
echo
echo "== goscope offcpu -p $svc -d 3 -f folded   (for flamegraph.pl; first lines)"
./goscope offcpu -p "$svc" -d 3 -f folded | sort -t' ' -k2 -nr | head -5
wait "$load" 2>/dev/null || true
echo
echo "== wrk (the load the service was under)"
grep -E 'Requests/sec|Latency' "$work/wrk.log" || true
