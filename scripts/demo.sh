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
-- Mostly the everyday endpoints; every 50th request subscribes (and leaks a
-- goroutine), every 5th renders a report (CPU and allocations).
local paths = {"/fast", "/cache?k=a", "/job", "/downstream", "/sleep"}
local i = 0
request = function()
  i = i + 1
  if i % 50 == 0 then return wrk.format("GET", "/subscribe") end
  if i % 5 == 0 then return wrk.format("GET", "/report") end
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA
wrk -t2 -c32 -d40s -s "$work/load.lua" "http://127.0.0.1:$port/" >"$work/wrk.log" 2>&1 &
load=$!
sleep 1

show() { echo; echo "== $*"; }
show "goscope info $svc"
./goscope info "$svc"
show "goscope offcpu -p $svc -d 4 -n 5   (where the service's goroutines wait, under load)"
./goscope offcpu -p "$svc" -d 4 -n 5
show "goscope cpu -p $svc -d 4   (where its CPU goes: Go and kernel frames, the runtime's share)"
./goscope cpu -p "$svc" -d 4 >"$work/cpu.txt"
head -n 40 "$work/cpu.txt"
show "goscope gc -p $svc -d 3   (every GC cycle, its pauses, who assisted)"
./goscope gc -p "$svc" -d 3 | tail -n 25
show "goscope contention -p $svc -d 3 -n 3   (the objects goroutines queue on)"
./goscope contention -p "$svc" -d 3 -n 3
show "goscope http -p $svc -d 3   (requests per route)"
./goscope http -p "$svc" -d 3
show "goscope funclat -p $svc -d 3 main.lockedLookup   (one function, per call, no uretprobe)"
./goscope funclat -p "$svc" -d 3 main.lockedLookup
show "goscope leaks -p $svc -d 6   (a goroutine leak: the /subscribe handler's go statement)"
./goscope leaks -p "$svc" -d 6 -n 3
wait "$load" 2>/dev/null || true
show "wrk (the load the service was under)"
grep -E 'Requests/sec|Latency' "$work/wrk.log" || true
