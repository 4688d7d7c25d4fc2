#!/usr/bin/env bash
# test_cpu_noperf: where perf events are refused (perf_event_paranoid for
# a non-root user, a container's seccomp profile) or absent, `goscope cpu`
# says so in one line naming what is missing and exits 1, and the target
# keeps running. The refusal is made real for goscope alone: an LD_PRELOAD
# shim fails its perf_event_open(2) calls with EACCES, then ENOENT, as the
# kernel or a seccomp filter would.
. "$(dirname "$0")/lib.sh"
need_go
command -v gcc >/dev/null || skip "no gcc (for the shim)"

cat >"$TMP/noperf.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>

long syscall(long nr, ...)
{
	long (*real)(long, ...) = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_perf_event_open) {
		errno = getenv("NOPERF_ERRNO") ? atoi(getenv("NOPERF_ERRNO")) : EACCES;
		return -1;
	}
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
C
gcc -shared -fPIC -o "$TMP/noperf.so" "$TMP/noperf.c" -ldl || die "cannot build the shim"

go_build "$TMP/cpuburn" cpuburn || die "cannot build tests/go/cpuburn"
spawn "$TMP/burn.out" "$TMP/burn.err" "$TMP/cpuburn"
burn=$SPAWN_PID
wait_line "$TMP/burn.out" "ready" "$burn" || die "cpuburn did not start"

# An ASan build must not insist on being first in the link order.
for e in 13:refused 2:offers; do
	errno=${e%%:*} want=${e#*:}
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 NOPERF_ERRNO=$errno \
		LD_PRELOAD="$TMP/noperf.so" "$GOSCOPE" cpu -p "$burn" -d 1 >"$TMP/out" 2>"$TMP/err"
	expect_eq "perf_event_open fails with errno $errno: exit status" "$?" 1
	expect_eq "errno $errno: one line on stderr" "$(wc -l <"$TMP/err")" 1
	check_v "errno $errno: the line names perf events ('$want')" \
		grep -E "^goscope: cpu: no perf events: .*$want" "$TMP/err"
	expect_eq "errno $errno: nothing on stdout" "$(wc -c <"$TMP/out")" 0
done
check "the paranoid setting is named for a refusal" sh -c "ASAN_OPTIONS=verify_asan_link_order=0 NOPERF_ERRNO=13 LD_PRELOAD='$TMP/noperf.so' '$GOSCOPE' cpu -p $burn -d 1 2>&1 | grep -q perf_event_paranoid"
kill -0 "$burn" 2>/dev/null
expect_eq "cpuburn still running" "$?" 0

finish
