# Helpers shared by the bench/<section>.sh scripts (sourced, not run).
#
# Timing is wall clock around one command, repeated by the caller; the
# median is what gets reported. Tables are Markdown so they paste into
# bench/RESULTS.md as they are.

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

# bench_setup: build goscope, make the scratch directory $work, copy goscope
# there (a rebuild of ./goscope during the run must not break it; GOSCOPE
# then names the copy) and build bench/go/httpserver into $work/httpserver.
bench_setup() {
	make -s --no-print-directory goscope >&2
	work=$(mktemp -d /tmp/goscope-bench.XXXXXX)
	cp "$GOSCOPE" "$work/goscope"
	GOSCOPE=$work/goscope
	mkdir -p .cache/gocache
	(cd bench/go/httpserver && GOCACHE="$PWD/../../../.cache/gocache" go build -o "$work/httpserver" .)
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

bench_cleanup() {
	[ -n "${tr:-}" ] && kill -INT "$tr" 2>/dev/null
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$work"
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
