#!/usr/bin/env bash
# test_sigquit_esbuild: on released, stripped esbuild binaries built with Go
# 1.14 to 1.26 (scripts/testbins.sh), every frame of the Go runtime's own
# SIGQUIT traceback is symbolized identically by `goscope addr2line -i`.
#
# Truth: the runtime's traceback (GOTRACEBACK=system prints pc= for each
# physical frame and lists the frames inlined into it). esbuild serves HTTP
# (--serve, while its stdin stays open) and gets one request first so the
# dump has server goroutines; 0.5.26 has no --serve and is caught waiting on
# stdin instead. tracedump.py requires 100% of the frames whose pc lies in
# the binary to match: function names and file:line of the inlined frames
# and of the physical frame (lookup at pc-1; pc also for a goroutine's
# innermost frame). Also: `goscope info --json` go_version is the Go release
# each esbuild was built with (from esbuild's release notes / go version).
. "$(dirname "$0")/lib.sh"

# esbuild version -> Go release it was built with.
declare -A GOVER=(
	[0.5.26]=go1.14.2 [0.11.23]=go1.16.3 [0.13.15]=go1.17.2 [0.14.49]=go1.18.3
	[0.17.19]=go1.20.4 [0.22.0]=go1.22.4 [0.23.1]=go1.22.5
	[0.25.12]=go1.23.12 [0.27.7]=go1.25.7 [0.28.2]=go1.26.5
)

shopt -s nullglob
bins=("$TESTBINS"/esbuild-*/esbuild)
[ ${#bins[@]} -gt 0 ] || skip "no esbuild in $TESTBINS (run scripts/testbins.sh)"
command -v curl >/dev/null || skip "no curl"

mkdir -p "$TMP/www"
echo "goscope e2e" >"$TMP/www/index.html"

for bin in $(printf '%s\n' "${bins[@]}" | sort -V); do
	ver=$(basename "$(dirname "$bin")")
	ver=${ver#esbuild-}
	log "esbuild $ver:"

	"$GOSCOPE" info --json "$bin" >"$TMP/info.json" 2>"$TMP/info.err" ||
		{ fail "esbuild $ver: goscope info: $(cat "$TMP/info.err")"; continue; }
	if [ -n "${GOVER[$ver]:-}" ]; then
		expect_eq "esbuild $ver: go_version" "$(json_get "$TMP/info.json" go_version)" \
			"${GOVER[$ver]}"
	else
		log "esbuild $ver: Go release not in this test's table; version not checked"
	fi

	out=$TMP/esbuild-$ver.out
	err=$TMP/esbuild-$ver.err
	if grep -q -- '--servedir' <<<"$("$bin" --help 2>&1)"; then
		port=$(free_port)
		spawn "$out" "$err" env GOTRACEBACK=system \
			"$bin" --serve="127.0.0.1:$port" --servedir="$TMP/www"
		pid=$SPAWN_PID
		if ! wait_port 127.0.0.1 "$port" "$pid"; then
			fail "esbuild $ver: not serving on port $port: $(tail -3 "$err")"
			continue
		fi
		body=$(curl -fsS --max-time 10 "http://127.0.0.1:$port/index.html")
		expect_eq "esbuild $ver: served a request" "$body" "goscope e2e"
	else
		spawn "$out" "$err" env GOTRACEBACK=system "$bin"
		pid=$SPAWN_PID
		if ! wait_read_stdin "$pid"; then
			fail "esbuild $ver: never read its stdin"
			continue
		fi
		log "esbuild $ver: no --serve; dumped while reading stdin"
	fi

	kill -QUIT "$pid"
	wait_exit "$pid" 30 || { fail "esbuild $ver: still alive after SIGQUIT"; continue; }
	expect_eq "esbuild $ver: exit status after SIGQUIT" "$WAIT_STATUS" 2
	check_v "esbuild $ver: addr2line -i matches every frame of the SIGQUIT dump" \
		tracedump check --goscope "$GOSCOPE" --binary "$bin" --dump "$err" --min-frames 20
done
finish
