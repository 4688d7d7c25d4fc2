# Helpers shared by the bench/<section>.sh scripts (sourced, not run).
#
# Timing is wall clock around one command, repeated by the caller; the
# median is what gets reported. Tables are Markdown so they paste into
# bench/RESULTS.md as they are.
#
# Some helpers take optional arguments that only the section scripts pass.
# shellcheck shell=bash disable=SC2119,SC2120

# The machine, as one Markdown line.
bench_machine() {
	local cpu

	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	printf 'Machine: %s cores (%s), kernel %s, %s UTC\n' "$(nproc)" "${cpu:-unknown cpu}" \
		"$(uname -r)" "$(date -u '+%Y-%m-%d %H:%M')"
}

# bench_timed IN OUT CMD...: run CMD with stdin from IN and stdout to OUT;
# sets BENCH_SECS to the wall seconds it took. Returns CMD's status.
bench_timed() {
	local in=$1 out=$2 t0 t1 rc=0

	shift 2
	t0=$EPOCHREALTIME
	"$@" <"$in" >"$out" || rc=$?
	t1=$EPOCHREALTIME
	BENCH_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
	return $rc
}

# Median of the numbers given as arguments.
bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Tab-separated rows on stdin (the first is the header) to an aligned
# Markdown table; columns whose header ends in ':' are right-aligned.
bench_table() {
	awk -F'\t' '
	{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }
	  if (NF > nf) nf = NF; nr = NR }
	END {
		for (i = 1; i <= nf; i++) { r[i] = c[1, i] ~ /:$/; sub(/:$/, "", c[1, i]) }
		for (n = 1; n <= nr; n++) {
			line = "|"
			for (i = 1; i <= nf; i++)
				line = line sprintf(r[i] ? " %*s |" : " %-*s |", w[i], c[n, i])
			print line
			if (n == 1) {
				line = "|"
				for (i = 1; i <= nf; i++) {
					d = sprintf("%*s", w[i], ""); gsub(/ /, "-", d)
					line = line (r[i] ? " " substr(d, 2) ": |" : " " d " |")
				}
				print line
			}
		}
	}'
}

# A rate in lookups/s, human-sized: 1234567 -> 1.23 M.
bench_rate() {
	awk -v r="$1" 'BEGIN {
		if (r >= 1e6) printf "%.2f M", r / 1e6
		else if (r >= 1e3) printf "%.0f k", r / 1e3
		else printf "%.0f", r }'
}

# CPU seconds (user + system) a process has used so far.
cpu_secs() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' \
		"/proc/$1/stat" 2>/dev/null || echo 0
}

# bench_wait_http PORT: wait (up to 5 s) until http://127.0.0.1:PORT/ answers.
bench_wait_http() {
	for _ in $(seq 50); do
		curl -sf "http://127.0.0.1:$1/" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# bench_goscope: build goscope, make the scratch directory $work and copy
# goscope there (a rebuild of ./goscope during the run must not break it).
# GOSCOPE (default ./goscope) names the binary to copy; it then names the copy.
bench_goscope() {
	GOSCOPE=${GOSCOPE:-./goscope}
	make -s --no-print-directory goscope >&2
	work=$(mktemp -d /tmp/goscope-bench.XXXXXX)
	cp "$GOSCOPE" "$work/goscope"
	GOSCOPE=$work/goscope
}

# bench_go_build PROG: build the Go program bench/go/PROG into $work/PROG
# (bench_goscope made $work), with its build cache in .cache/gocache.
bench_go_build() {
	mkdir -p .cache/gocache
	(cd "bench/go/$1" && GOCACHE="$PWD/../../../.cache/gocache" go build -o "$work/$1" .)
}

# bench_setup: bench_goscope, then build bench/go/httpserver into
# $work/httpserver.
bench_setup() {
	bench_goscope
	bench_go_build httpserver
}

# bench_serve PORT: start $work/httpserver (bench_setup) on 127.0.0.1:PORT,
# its pid in $srv, and wait until it answers. At exit the tracer $tr (if
# any) gets SIGINT, the server is stopped and $work removed.
bench_serve() {
	srv="" tr=""
	trap bench_cleanup EXIT
	"$work/httpserver" -addr "127.0.0.1:$1" 2>/dev/null &
	srv=$!
	bench_wait_http "$1"
}

# bench_cleanup: the EXIT trap of bench_serve (see there).
bench_cleanup() {
	[ -n "${tr:-}" ] && kill -INT "$tr" 2>/dev/null
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$work"
}

# bench_http PORT ROUNDS SECS: the set-up of a section that loads
# bench/go/httpserver with wrk. Sets ROUNDS, SECS, CONNS and PORT from
# BENCH_ROUNDS, BENCH_SECS, BENCH_CONNS and BENCH_PORT (defaults: the
# arguments, and 64 connections), then bench_setup (GOSCOPE, work) and
# bench_serve "$PORT" (srv, tr). Returns non-zero if the server does not
# answer.
bench_http() {
	ROUNDS=${BENCH_ROUNDS:-$2}
	SECS=${BENCH_SECS:-$3}
	CONNS=${BENCH_CONNS:-64}
	PORT=${BENCH_PORT:-$1}
	bench_setup
	bench_serve "$PORT"
}

# bench_wrk [CMD...]: one wrk run of SECS seconds with CONNS connections
# against the server on PORT (bench_http), its report on stdout, its
# stderr dropped. CMD, if given, runs wrk (/usr/bin/time -o FILE, ...).
bench_wrk() {
	"$@" wrk -t2 -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:$PORT/" 2>/dev/null
}

# bench_cores A B: the CPU seconds from A to B (cpu_secs before and after
# a run) per second of the run (SECS), i.e. in cores, to 3 decimals.
bench_cores() {
	awk -v a="$1" -v b="$2" -v s="$SECS" 'BEGIN { printf "%.3f", (b - a) / s }'
}

# bench_ratio A B: A / B to 4 decimals (0 if B is not positive).
bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }'
}

# bench_pct A B: A as a percentage of B, "97.5%" (0.0% if B is not
# positive); bench_pct RATIO 1 prints a ratio as a percentage.
bench_pct() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", (b > 0 ? 100 * a / b : 0) }'
}

# bench_http_heading [WHAT]: the machine (bench_machine), then what ran:
# the server, wrk's options, SECS and ROUNDS, ending in WHAT (default
# "median requests/s."); each followed by a blank line.
bench_http_heading() {
	bench_machine
	echo
	echo "Go HTTP server (Go 1.19, bench/go/httpserver) saturated by wrk -t2 -c$CONNS, ${SECS} s per run, $ROUNDS rounds; ${1:-median requests/s.}"
	echo
}

# bench_wrk_traced MODE TR [ERRFILE]: one run with the tracer TR (its pid,
# or "" for none) attached: 2 s for it to attach, then bench_wrk; prints
# "REQ/S CORES", wrk's requests/s and the tracer's CPU in cores over the
# run (0.000 without a tracer). Then TR gets SIGINT and is waited for. If
# TR had already ended: with ERRFILE (TR's stderr), says so on stderr with
# its first lines, MODE naming the run, and goes on; without, prints
# nothing and returns 1 (the round has no figures).
bench_wrk_traced() {
	local mode=$1 tr=$2 err=${3:-} rps cpu0=0 cpu1=0

	sleep 2 # attach
	[ -n "$tr" ] && cpu0=$(cpu_secs "$tr")
	rps=$(bench_wrk | awk '/^Requests\/sec/ { print $2 }')
	if [ -n "$tr" ]; then
		cpu1=$(cpu_secs "$tr")
		if ! kill -INT "$tr" 2>/dev/null; then
			[ -n "$err" ] || return 1
			echo "$mode: goscope ended early: $(head -3 "$err")" >&2
		fi
		wait "$tr" 2>/dev/null || true
	fi
	echo "${rps:-0} $(bench_cores "$cpu0" "$cpu1")"
}

# bench_overhead RUN NAME MODE...: the rounds and the table of a section
# that measures tracers by requests/s and their own CPU. ROUNDS rounds,
# each running every MODE in turn as `RUN MODE`, which prints "REQ/S
# CORES" (bench_wrk_traced); one MODE must be "baseline", the untraced
# server. Progress goes to stderr; stdout gets bench_http_heading and a
# Markdown table: per MODE the name `NAME MODE` prints, the median
# requests/s, that as a percentage of the baseline's, and the median
# tracer CPU in cores.
bench_overhead() {
	local run=$1 namer=$2 r m q c med base
	local -A rps cpu

	shift 2
	for r in $(seq "$ROUNDS"); do
		for m in "$@"; do
			read -r q c < <("$run" "$m")
			rps[$m]="${rps[$m]:-} $q"
			cpu[$m]="${cpu[$m]:-} $c"
			echo "round $r $m: $q req/s, tracer CPU $c s/s" >&2
		done
	done

	base=$(bench_median ${rps[baseline]})
	bench_http_heading
	{
		printf 'mode\treq/s:\tvs untraced:\ttracer CPU (cores):\n'
		for m in "$@"; do
			med=$(bench_median ${rps[$m]})
			c=$(bench_median ${cpu[$m]})
			printf '%s\t%.0f\t%s\t%s\n' "$("$namer" "$m")" "$med" \
				"$(bench_pct "$med" "$base")" \
				"$([ "$m" = baseline ] && echo - || echo "$c")"
		done
	} | bench_table
}

# bench_syscalls_name MODE: the table's name of a tracer mode of
# bench/syscalls.sh or bench/syscalls_percall.sh (one list for both, so
# that the same tracer reads the same in both tables).
bench_syscalls_name() {
	case $1 in
	baseline | untraced) echo "untraced" ;;
	goscope) echo "goscope syscalls -p (default: sampled)" ;;
	goscope_exact) echo "goscope syscalls -p --exact" ;;
	goscope_d20) echo "goscope syscalls -p --duty 20" ;;
	goscope_goid) echo "goscope syscalls -p --exact --by goid" ;;
	goscope_other) echo "goscope syscalls -p OTHER (default: sampled)" ;;
	goscope_exact_other) echo "goscope syscalls -p OTHER --exact" ;;
	goscope_base) echo "goscope syscalls -p (BENCH_GOSCOPE_BASE)" ;;
	syscount) echo "libbpf-tools syscount -L -p" ;;
	bpftrace) echo "bpftrace bench/syscalls.bt" ;;
	perftrace) echo "perf trace -s -p" ;;
	strace) echo "strace -c -f -p" ;;
	esac
}

# bench_bpf_cost PID SECS: what the BPF programs of process PID cost over
# the next SECS seconds, as "cores runs/s ns/run" (ns/run: the average run
# of one program; with two programs per call, about half a call's cost).
# Run-time statistics are on while this runs (BPF_ENABLE_STATS: an fd held
# open, like kernel.bpf_stats_enabled=1), run_time_ns and run_cnt come from
# /proc/PID/fdinfo of its program fds. "0 0 0" if stats cannot be enabled.
bench_bpf_cost() {
	python3 - "$1" "$2" <<'PYEOF'
import ctypes, os, sys, time
pid, secs = int(sys.argv[1]), float(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
attr = (ctypes.c_uint8 * 128)()  # enable_stats.type = BPF_STATS_RUN_TIME
fd = libc.syscall(321, 32, attr, 128)  # SYS_bpf, BPF_ENABLE_STATS
def totals():
    ns = cnt = 0
    d = "/proc/%d/fdinfo" % pid
    try:
        names = os.listdir(d)
    except OSError:
        return 0, 0
    for f in names:
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, f)) != "anon_inode:bpf-prog":
                continue
            for line in open(os.path.join(d, f)):
                k, _, v = line.partition(":")
                if k == "run_time_ns":
                    ns += int(v)
                elif k == "run_cnt":
                    cnt += int(v)
        except OSError:
            pass
    return ns, cnt
if fd < 0:
    print("0 0 0")
    sys.exit(0)
a = totals()
t0 = time.monotonic()
time.sleep(secs)
b = totals()
t = time.monotonic() - t0
runs = b[1] - a[1]
print("%.4f %.0f %.0f" % ((b[0] - a[0]) / 1e9 / t, runs / t, (b[0] - a[0]) / runs if runs else 0))
PYEOF
}
