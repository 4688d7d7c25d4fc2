#!/usr/bin/env bash
# Install every build and test dependency of goscope on Debian 12 (as root).
# Idempotent: installs only what is missing, then fetches the released Go
# binaries the tests run (scripts/testbins.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
	# build
	build-essential pkg-config clang llvm libbpf-dev bpftool libelf-dev
	libdw-dev zlib1g-dev libcapstone-dev libprotobuf-c-dev protobuf-c-compiler
	libmicrohttpd-dev
	# tests
	libcmocka-dev libclang-rt-14-dev golang-go python3 curl ca-certificates
	caddy etcd-server strace procps iproute2 nftables prometheus
	# bench and peers
	wrk bpftrace libbpf-tools linux-perf
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: need root to install: ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm fetches the released Go binaries the tests run. Some machines carry
# NodeSource's nodejs (npm included), which conflicts with Debian's npm.
if ! command -v npm >/dev/null 2>&1; then
	echo "deps: installing nodejs npm"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# tracefs, for tracepoints (some machines do not mount it).
if [ ! -d /sys/kernel/tracing/events ] && [ "$(id -u)" -eq 0 ]; then
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
fi

scripts/testbins.sh
