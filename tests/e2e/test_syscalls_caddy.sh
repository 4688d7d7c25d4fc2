#!/usr/bin/env bash
# test_syscalls_caddy: `goscope syscalls` on a real, stripped, cgo-linked Go
# server under load — Debian's caddy (Go 1.19) serving a file to wrk — gives
# a plausible table, exits 0, and leaves caddy serving.
#
# Truths: wrk's own count of completed requests (every HTTP/1.1 response
# needs at least one read(2) of the request and one write(2)/writev/sendfile
# of the response, so the table must show at least that many of each); the
# syscalls a Go server makes (read, write, epoll_pwait, futex, accept4);
# no drops at this load; caddy answers curl with the file afterwards.
# --by goid: accept4 comes from a goroutine that `goscope goroutines` shows
# in net.(*TCPListener).Accept, and reads/writes from many non-zero ids
# (one per connection).
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/syscalls_lib.sh"

[ -x /usr/bin/caddy ] || skip "no /usr/bin/caddy"
command -v wrk >/dev/null || skip "no wrk"
command -v curl >/dev/null || skip "no curl"

mkdir -p "$TMP/www" "$TMP/home"
echo "goscope caddy e2e" >"$TMP/www/index.html"
port=$(free_port)
spawn "$TMP/caddy.out" "$TMP/caddy.err" env HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home" \
	XDG_DATA_HOME="$TMP/home" /usr/bin/caddy file-server --listen "127.0.0.1:$port" --root "$TMP/www"
caddy=$SPAWN_PID
wait_port 127.0.0.1 "$port" "$caddy" || die "caddy not serving on $port: $(tail -3 "$TMP/caddy.err")"
URL=http://127.0.0.1:$port/index.html

# load_under OUT ARGS...: goscope syscalls -p caddy ARGS around 3 s of wrk;
# sets GS_RC and REQS (requests wrk completed).
load_under() {
	local out=$1 gs
	shift
	"$GOSCOPE" syscalls -p "$caddy" "$@" >"$out" 2>"$out.err" &
	gs=$!
	gs_wait_attached "$gs" "$out.err" || { wait "$gs"; GS_RC=$?; REQS=0; return 1; }
	wrk -t2 -c16 -d3s "$URL" >"$out.wrk" 2>&1
	REQS=$(awk '/requests in/ { print $1 }' "$out.wrk")
	kill -0 "$gs" 2>/dev/null || { wait "$gs"; GS_RC=$?; log "goscope ended before wrk"; return 1; }
	wait "$gs"
	GS_RC=$?
}

if load_under "$TMP/table" -d 6 --exact; then
	expect_eq "syscalls -p caddy -d 6 under wrk: exit status" "$GS_RC" 0
	check_v "table: read, write, epoll_pwait, futex, accept4; >= 1 read and 1 write per request ($REQS); no drops" \
		SCCHECK server "$TMP/table" --requests "${REQS:-0}" \
		--need "read,write|writev|sendfile,epoll_pwait|epoll_wait,futex,accept4"
	[ -s "$TMP/table.err" ] && log "stderr: $(head -3 "$TMP/table.err")"
else
	fail "syscalls -p caddy -d 6 around wrk (exit $GS_RC): $(head -3 "$TMP/table.err")"
fi

if load_under "$TMP/goid.json" -d 6 --exact --by goid --json; then
	expect_eq "syscalls --by goid --json on caddy: exit status" "$GS_RC" 0
	"$GOSCOPE" goroutines "$caddy" >"$TMP/goroutines" 2>"$TMP/goroutines.err" ||
		fail "goscope goroutines caddy: $(head -3 "$TMP/goroutines.err")"
	check_v "--by goid: accept4 from the goroutine in net.(*TCPListener).Accept; reads/writes from >= 8 goroutines (16 connections)" \
		SCCHECK goids "$TMP/goid.json" --goroutines "$TMP/goroutines" --min-goroutines 8
else
	fail "syscalls --by goid -p caddy around wrk (exit $GS_RC)"
fi

body=$(curl -fsS --max-time 10 "$URL" 2>&1)
expect_eq "caddy still serves after goscope detached" "$body" "goscope caddy e2e"
kill -0 "$caddy" 2>/dev/null && pass "caddy still running" || fail "caddy died"

finish
