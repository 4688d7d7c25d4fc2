#!/usr/bin/env bash
# test_addr2line_debian: goscope addr2line on Debian's stripped, cgo,
# externally linked go1.19.8 programs (caddy, etcd) agrees with Go's own
# `go tool addr2line` on >= 5000 random addresses of .text (>= 99.9%) and
# at entry-1/entry/entry+1 of 1000 random functions (100%).
#
# Truth: go tool addr2line, corrected for its known text-start error on
# stripped cgo binaries (it counts entries from the .text section, but
# runtime.text = .text + 0x100 there, golang/go#65232): a2lcompare.py asks
# go tool about addr + (.text - runtime.text) and goscope about addr. That
# the shift is right, and goscope's runtime.text with it, is checked from
# the code bytes: goscope's function entries start with a Go prologue far
# more often than go tool's unshifted ones (--prologue).
. "$(dirname "$0")/lib.sh"
need_go

ran=0
for bin in /usr/bin/caddy /usr/bin/etcd; do
	if [ ! -x "$bin" ]; then
		log "$bin: not installed"
		continue
	fi
	ran=1
	log "$bin:"
	check_v "$bin: addr2line agrees with go tool addr2line (5000 random addresses >= 99.9%, 3000 boundaries)" \
		a2lcompare --goscope "$GOSCOPE" --binary "$bin" -n 5000 --seed 42 \
		--min-agree 99.9 --entries 1000 --prologue
done
[ $ran -eq 1 ] || skip "neither /usr/bin/caddy nor /usr/bin/etcd is installed"
finish
