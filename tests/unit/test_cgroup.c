/*
 * test_cgroup: which memory cgroup figures proc/cgroup.c gives a process.
 * A process in the root memory cgroup ("/": no cgroup of its own) gets no
 * memory figure, because the root's are the whole machine's (issue #16);
 * a process in its own cgroup gets its path. Read from files in the
 * format of /proc/PID/cgroup, v1 and v2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proc/cgroup.h"

/* Read a /proc/PID/cgroup made of TEXT into CS. */
static bool read_text(const char *text, struct cgroup_stat *cs)
{
	char path[] = "/tmp/goscope-test-cgroup-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	bool ok;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	ok = cgroup_read_file(path, cs);
	unlink(path);
	return ok;
}

static void test_v1_root_memory(void **state)
{
	struct cgroup_stat cs;

	(void)state;
	assert_true(read_text("4:memory:/\n3:cpu,cpuacct:/\n1:name=systemd:/\n0::/\n", &cs));
	assert_int_equal(cs.version, 1);
	assert_string_equal(cs.mem_path, "/");
	assert_true(cs.mem_root);
	assert_false(cs.mem_known);
	assert_true(cs.mem_max == UINT64_MAX);
}

static void test_v1_own_memory(void **state)
{
	struct cgroup_stat cs;

	(void)state;
	assert_true(read_text("4:memory:/system.slice/x.service\n3:cpu,cpuacct:/\n", &cs));
	assert_string_equal(cs.mem_path, "/system.slice/x.service");
	assert_false(cs.mem_root);
}

static void test_v2_root(void **state)
{
	struct cgroup_stat cs;

	(void)state;
	assert_true(read_text("0::/\n", &cs));
	assert_int_equal(cs.version, 2);
	assert_string_equal(cs.mem_path, "/");
	assert_true(cs.mem_root);
	assert_false(cs.mem_known);
}

static void test_v2_own(void **state)
{
	struct cgroup_stat cs;

	(void)state;
	assert_true(read_text("0::/user.slice/app\n", &cs));
	assert_string_equal(cs.mem_path, "/user.slice/app");
	assert_false(cs.mem_root);
}

static void test_missing(void **state)
{
	struct cgroup_stat cs;

	(void)state;
	assert_false(cgroup_read_file("/nonexistent/cgroup", &cs));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_root_memory), cmocka_unit_test(test_v1_own_memory),
		cmocka_unit_test(test_v2_root),        cmocka_unit_test(test_v2_own),
		cmocka_unit_test(test_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
