/*
 * test_names: the names and numbers people read: names_errno (the libc
 * names, and the kernel-internal ERESTART* codes a traced syscall returns,
 * 512..516 in include/linux/errno.h), names_syscall (against the
 * <sys/syscall.h> numbers of this architecture), names_gstatus (the
 * runtime's _G* constants, runtime2.go), fmt_dur (one duration format,
 * including where a rounding would print "1000.0us") and fmt_pct.
 */
#include "testutil.h"

#include <errno.h>
#include <inttypes.h>
#include <sys/syscall.h>

#include "proc/names.h"
#include "report/fmt.h"

static void test_errno(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(names_errno(ENOENT, buf, sizeof(buf)), "ENOENT");
	assert_string_equal(names_errno(EAGAIN, buf, sizeof(buf)), "EAGAIN");
	assert_string_equal(names_errno(ECONNREFUSED, buf, sizeof(buf)), "ECONNREFUSED");
	assert_string_equal(names_errno(EINTR, buf, sizeof(buf)), "EINTR");
	assert_string_equal(names_errno(EHWPOISON, buf, sizeof(buf)), "EHWPOISON");
	/* Kernel-internal: never an E512 in a report or a metric label. */
	assert_string_equal(names_errno(512, buf, sizeof(buf)), "ERESTARTSYS");
	assert_string_equal(names_errno(513, buf, sizeof(buf)), "ERESTARTNOINTR");
	assert_string_equal(names_errno(514, buf, sizeof(buf)), "ERESTARTNOHAND");
	assert_string_equal(names_errno(515, buf, sizeof(buf)), "ENOIOCTLCMD");
	assert_string_equal(names_errno(516, buf, sizeof(buf)), "ERESTART_RESTARTBLOCK");
	/* Unknown ones are numbered, and nothing overflows BUF. */
	assert_string_equal(names_errno(517, buf, sizeof(buf)), "E517");
	assert_string_equal(names_errno(511, buf, sizeof(buf)), "E511");
	assert_string_equal(names_errno(4095, buf, sizeof(buf)), "E4095");
	assert_string_equal(names_errno(0, buf, sizeof(buf)), "E0");
	assert_string_equal(names_errno(-2, buf, sizeof(buf)), "E-2");
	{
		char small[4];

		assert_string_equal(names_errno(4095, small, sizeof(small)), "E40");
	}
}

static void test_syscall(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(names_syscall(SYS_read, buf, sizeof(buf)), "read");
	assert_string_equal(names_syscall(SYS_openat, buf, sizeof(buf)), "openat");
	assert_string_equal(names_syscall(SYS_connect, buf, sizeof(buf)), "connect");
	assert_string_equal(names_syscall(SYS_futex, buf, sizeof(buf)), "futex");
	assert_string_equal(names_syscall(SYS_epoll_pwait, buf, sizeof(buf)), "epoll_pwait");
	assert_string_equal(names_syscall(SYS_exit_group, buf, sizeof(buf)), "exit_group");
	assert_string_equal(names_syscall(99999, buf, sizeof(buf)), "syscall_99999");
	assert_string_equal(names_syscall(UINT32_MAX, buf, sizeof(buf)), "syscall_4294967295");
}

static void test_gstatus(void **state)
{
	(void)state;
	/* runtime2.go: _Gidle 0 ... _Gpreempted 9; _Gscan 0x1000 is masked. */
	assert_string_equal(names_gstatus(0), "idle");
	assert_string_equal(names_gstatus(1), "runnable");
	assert_string_equal(names_gstatus(2), "running");
	assert_string_equal(names_gstatus(3), "syscall");
	assert_string_equal(names_gstatus(4), "waiting");
	assert_string_equal(names_gstatus(6), "dead");
	assert_string_equal(names_gstatus(8), "copystack");
	assert_string_equal(names_gstatus(9), "preempted");
	assert_string_equal(names_gstatus(0x1000 | 4), "waiting");
	assert_string_equal(names_gstatus(0x1000 | 1), "runnable");
	assert_string_equal(names_gstatus(10), "unknown");
	assert_string_equal(names_gstatus(0xffffffffu), "unknown");
}

static const char *dur(uint64_t ns)
{
	static char buf[32];

	return fmt_dur(buf, sizeof(buf), ns);
}

static void test_dur(void **state)
{
	(void)state;
	assert_string_equal(dur(0), "0ns");
	assert_string_equal(dur(812), "812ns");
	assert_string_equal(dur(999), "999ns");
	assert_string_equal(dur(1000), "1.0us");
	assert_string_equal(dur(12345), "12.3us");
	assert_string_equal(dur(999900), "999.9us");
	assert_string_equal(dur(1000000), "1.00ms");
	assert_string_equal(dur(4560000), "4.56ms");
	assert_string_equal(dur(999990000), "999.99ms");
	assert_string_equal(dur(1000000000), "1.00s");
	assert_string_equal(dur(1234000000), "1.23s");
	assert_string_equal(dur(9990000000ull), "9.99s");
	assert_string_equal(dur(10000000000ull), "10.0s");
	assert_string_equal(dur(12345000000ull), "12.3s");
	assert_string_equal(dur(3600000000000ull), "3600.0s");
	/* Where rounding would carry into the next unit, the next unit is used. */
	assert_string_equal(dur(999950), "1.00ms");
	assert_string_equal(dur(999999), "1.00ms");
	assert_string_equal(dur(999995000), "1.00s");
	assert_string_equal(dur(999999999), "1.00s");
	assert_string_equal(dur(9995000000ull), "10.0s");
	assert_string_equal(dur(UINT64_MAX), "18446744073.7s");
	/* Every value up to 20 s: the number before the unit is below 1000. */
	for (uint64_t ns = 1; ns < 20000000000ull; ns = ns * 1.01 + 1) {
		const char *s = dur(ns);
		double v = strtod(s, NULL);

		if (!strstr(s, "s") || (v >= 1000 && !strstr(s, ".0s") && ns < 1000000000000ull))
			fail_msg("%" PRIu64 " ns printed as %s", ns, s);
	}
	{
		char small[4];

		assert_string_equal(fmt_dur(small, sizeof(small), 12345), "12.");
	}
}

static void test_pct(void **state)
{
	(void)state;
	assert_true(fmt_pct(1, 4) == 25.0);
	assert_true(fmt_pct(5, 0) == 0.0);
	assert_true(fmt_pct(0, 0) == 0.0);
	assert_true(fmt_pct(3, 3) == 100.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_syscall),
		cmocka_unit_test(test_gstatus),
		cmocka_unit_test(test_dur),
		cmocka_unit_test(test_pct),
	};

	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
