#!/usr/bin/env bash
# test_contention_real: `goscope contention` on released, stripped Go
# binaries without DWARF — esbuild --serve built with Go 1.17 to 1.26 and
# Debian's prometheus (Go 1.19) — where g.waiting, sudog and hchan come
# from the per-release table and runtime.semtable is found by decoding
# runtime.semacquire1/semrelease1.
#
# Truth: the program's own SIGQUIT dump (GOTRACEBACK=system) sent right
# after goscope returns: goroutines parked on a channel (chan receive,
# chan send, select) and on a semaphore (semacquire, sync.Mutex.Lock,
# sync.WaitGroup.Wait, ...) must be as many as the waiters goscope found
# on channel objects and in the semaphore table (prometheus: +-2, it starts
# short-lived goroutines).
. "$(dirname "$0")/lib.sh"

run_one() {
	local label=$1 pid=$2 err=$3 slack=$4 rc
	"$GOSCOPE" contention -p "$pid" -d 1 --json >"$TMP/$label.json" 2>"$TMP/$label.gerr"
	rc=$?
	kill -QUIT "$pid"
	if [ $rc -ne 0 ]; then
		fail "$label: goscope contention exit $rc: $(head -3 "$TMP/$label.gerr")"
		return
	fi
	wait_exit "$pid" 30 || fail "$label: still alive 30 s after SIGQUIT"
	check_v "$label: waiters on channels and semaphores = its SIGQUIT dump's" \
		"$PYTHON" "$E2E_DIR/contention_check.py" --json "$TMP/$label.json" --dump "$err" \
		--slack "$slack"
}

ESBUILDS=(0.13.15 0.17.19 0.22.0 0.23.1 0.25.12 0.27.7 0.28.2)
mkdir -p "$TMP/www"
echo "goscope e2e" >"$TMP/www/index.html"
for ver in "${ESBUILDS[@]}"; do
	bin=$TESTBINS/esbuild-$ver/esbuild
	[ -x "$bin" ] || { log "esbuild $ver: not in $TESTBINS"; continue; }
	label=esbuild-$ver
	port=$(free_port)
	spawn "$TMP/$label.out" "$TMP/$label.err" env GOTRACEBACK=system \
		"$bin" --serve="127.0.0.1:$port" --servedir="$TMP/www"
	pid=$SPAWN_PID
	wait_port 127.0.0.1 "$port" "$pid" || { fail "$label: not serving"; continue; }
	sleep 1.5
	run_one "$label" "$pid" "$TMP/$label.err" 0
done

if [ -x /usr/bin/prometheus ]; then
	port=$(free_port)
	printf 'global:\n  scrape_interval: 1h\nscrape_configs: []\n' >"$TMP/prom.yml"
	spawn "$TMP/prom.out" "$TMP/prom.err" env GOTRACEBACK=system /usr/bin/prometheus \
		--config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/promdata" \
		--web.listen-address="127.0.0.1:$port"
	pid=$SPAWN_PID
	if wait_port 127.0.0.1 "$port" "$pid" 60; then
		sleep 3
		run_one prometheus "$pid" "$TMP/prom.err" 2
	else
		fail "prometheus not serving: $(tail -3 "$TMP/prom.err")"
	fi
else
	log "no /usr/bin/prometheus"
fi
finish
