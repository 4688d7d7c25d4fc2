#!/usr/bin/env bash
# Seeds of the text fuzzers (committed, each a few KB), written into
# tests/fuzz/corpus/fuzz_{proc,netrules,opts}/ (make_corpus.sh runs this):
#   fuzz_proc      /proc files of this machine (stat, status, schedstat,
#                  maps, syscall, net/tcp*, net/udp*, mountinfo) and
#                  hand-made ones: a comm
#                  holding ") ", a socket line with the fuzzer's inode
#                  12345, cgroup v1 and v2 mounts, truncated lines
#   fuzz_netrules  the rules format: every verb, IPv4/IPv6, port ranges,
#                  rates, comments, and a few wrong lines
#   fuzz_opts      command lines, one word per NUL-separated field
set -euo pipefail
cd "$(dirname "$0")/../.."
c=tests/fuzz/corpus
mkdir -p "$c/fuzz_proc" "$c/fuzz_netrules" "$c/fuzz_opts"

# --- /proc text ----------------------------------------------------------------
p=$c/fuzz_proc
for f in stat status schedstat mountinfo maps syscall; do
	head -c 8192 "/proc/self/$f" >"$p/self-$f"
done
printf '7 0x3 0xc000123000 0x1000 0x0 0x0 0x7ffd5c0 0x46a2e3\n' >"$p/syscall-read"
printf 'running\n' >"$p/syscall-running"
printf '00400000-00461000 r-xp 00000000 fe:01 1234567                            /srv/my server (deleted)\n' \
	>"$p/maps-deleted"
for t in tcp tcp6 udp udp6; do
	head -c 8192 "/proc/self/net/$t" >"$p/net-$t" 2>/dev/null || true
done
printf '4242 (a) b) c) S 1 4242 4242 0 -1 4194560 120 0 3 0 5 6 0 0 20 0 9 0 777777 1000 200\n' \
	>"$p/stat-paren-comm"
printf '2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 11\n' >"$p/stat-kthread"
printf '1 (x) R 0' >"$p/stat-short"
printf '1 (x)' >"$p/stat-no-space"
printf 'Name:\tserver\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4243\nPPid:\t1\nThreads:\t9\n' \
	>"$p/status-thread"
printf '123456789 987654321 42\n' >"$p/schedstat"
{
	printf '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
	printf '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n'
	printf '   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 20 4 30 10 -1\n'
} >"$p/net-tcp-12345"
{
	printf '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
	printf '   0: 00000000000000000000000001000000:0050 00000000000000000000000001000000:C350 01 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 20 4 1 10 -1\n'
} >"$p/net-tcp6-12345"
{
	printf '22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n'
	printf '30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n'
	printf '31 22 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n'
	printf '32 22 0:28 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n'
	printf '33 22 0:29 /docker/abc /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n'
} >"$p/mountinfo-cgroups"

# --- rules file ------------------------------------------------------------------
r=$c/fuzz_netrules
cat >"$r/all-verbs" <<'RULES'
# what this service may reach
allow connect 10.0.0.0/8 port 80
allow connect 127.0.0.1 port 1000-2000   # a trailing comment
allow connect ::1/128 port 443
allow connect fe80::/10
allow sendto any
allow sendto 192.168.1.0/24 port 53
allow listen port 8080
allow listen
rate openat 100/s
rate connect 2.5/s
RULES
printf 'allow connect 10.0.0.0/33\n' >"$r/bad-prefix"
printf 'allow connect 10.0.0.0/8 port 90-80\n' >"$r/bad-range"
printf 'rate nosuchcall 5/s\n' >"$r/bad-rate"
printf 'allow connect 300.1.1.1 port 65536' >"$r/bad-addr-no-newline"
printf 'allow teleport any\n\n\n#\n' >"$r/bad-verb"

# --- command lines ---------------------------------------------------------------
o=$c/fuzz_opts
w() { # NAME WORD...: the words NUL-separated
	local name=$1
	shift
	printf '%s\0' "$@" | head -c -1 >"$o/$name"
}
w basic -p 123 -d 5 --json -f folded
w equals --duration=2.5 --freq=99 --format=pprof --output=x.pb.gz
w attached -d0.5 -F1000 -p1 -p1 -p2 -fpprof
w positional a b -- -d c
w help --help
w bad-int -F 5x
w bad-double -d 1e300
w nan -d nan
w inf --duration inf
w big-int --goid 9223372036854775808
w neg-pid -p -1
w missing -d
w unknown --nope
w flag-value --json=1
w custom -e ab --even=abcd -e abc
w set freq 50
