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
	cpu_quota 0 2>/dev/null || true
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
wrk -t2 -c32 -d70s -s "$work/load.lua" "http://127.0.0.1:$port/" >"$work/wrk.log" 2>&1 &
load=$!
sleep 1

show() { echo; echo "== $*"; }

# cpu_quota PERCENT: put the service in a cgroup of its own allowed PERCENT
# of one CPU (cgroup v2 or the v1 cpu controller); 0 takes it out again.
cpu_quota() {
	local v1=/sys/fs/cgroup/cpu v2=/sys/fs/cgroup cg t
	if [ -f "$v2/cgroup.controllers" ]; then
		cg=$v2/goscope-demo
		mkdir -p "$cg"
		echo +cpu >"$v2/cgroup.subtree_control" 2>/dev/null || true
		if [ "$1" -gt 0 ]; then
			echo "$(($1 * 1000)) 100000" >"$cg/cpu.max"
			echo "$svc" >"$cg/cgroup.procs"
		else
			echo "$svc" >"$v2/cgroup.procs"
			rmdir "$cg" 2>/dev/null || true
		fi
		return
	fi
	cg=$v1/goscope-demo
	mkdir -p "$cg"
	if [ "$1" -gt 0 ]; then
		echo 100000 >"$cg/cpu.cfs_period_us"
		echo "$(($1 * 1000))" >"$cg/cpu.cfs_quota_us"
		for t in /proc/"$svc"/task/*; do echo "${t##*/}" >"$cg/tasks"; done
	else
		for t in /proc/"$svc"/task/*; do echo "${t##*/}" >"$v1/tasks"; done
		rmdir "$cg" 2>/dev/null || true
	fi
}

show "goscope why -p $svc --http --slow 20 -d 5   (where the time of slow requests went)"
./goscope why -p "$svc" --http --slow 20 -d 5 >"$work/why.txt"
grep -A4 '^slow GET /cache' "$work/why.txt" | head -n 5 || true
sed -n '/^verdict/,$p' "$work/why.txt"
show "goscope why -p $svc --http --route /report --slow 20 -d 5   (... with a CPU quota of 0.3 CPU on its cgroup)"
cpu_quota 30
./goscope why -p "$svc" --http --route /report --slow 20 -d 5 >"$work/why.txt"
cpu_quota 0
grep -A4 '^slow GET /report' "$work/why.txt" | head -n 5 || true
sed -n '/^verdict/,$p' "$work/why.txt"
# Two more causes switched on from outside the handlers (/admin/cause).
why_cause() { # CAUSE ROUTE WHAT
	show "goscope why -p $svc --http --route $2 --slow 20 -d 4   (... with $3)"
	curl -sf "http://127.0.0.1:$port/admin/cause?name=$1" >/dev/null
	./goscope why -p "$svc" --http --route "$2" --slow 20 -d 4 >"$work/why.txt"
	curl -sf "http://127.0.0.1:$port/admin/cause?name=none" >/dev/null
	grep -A4 "^slow GET $2" "$work/why.txt" | head -n 5 || true
	sed -n '/^verdict/,$p' "$work/why.txt" | head -n 6
}
why_cause lock /cache "a goroutine holding the cache's mutex 30 ms of every 40"
why_cause backend /downstream "the backend answering in 40 ms instead of 5"
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
