/*
 * test_promtext: the Prometheus text writer (output/promtext.c): HELP and
 * TYPE lines, samples with and without labels (common ones first),
 * label-value escaping (backslash, double quote, newline), the number
 * forms (integers, fractions, +Inf, -Inf, NaN), a histogram family
 * (_bucket with le, _sum, _count), long and escaped help texts (backslash
 * and newline), reset. When promtool
 * is installed, it must accept the whole text.
 */
#include "testutil.h"

#include <math.h>

#include "output/promtext.h"

static void test_family_and_samples(void **state)
{
	struct promtext p;
	const struct promtext_label common[] = { { "pid", "42" }, { "exe", "caddy" } };
	const struct promtext_label extra[] = { { "syscall", "read" } };

	(void)state;
	promtext_init(&p);
	promtext_family(&p, "goscope_syscalls_total", "counter", "System calls made.");
	promtext_sample(&p, "goscope_syscalls_total", common, 2, extra, 1, 12345);
	promtext_sample(&p, "goscope_syscalls_total", NULL, 0, extra, 1, 0);
	promtext_sample(&p, "goscope_syscalls_total", common, 1, NULL, 0, -3);
	promtext_sample(&p, "goscope_up", NULL, 0, NULL, 0, 1);
	assert_false(p.oom);
	assert_string_equal(p.buf, "# HELP goscope_syscalls_total System calls made.\n"
				   "# TYPE goscope_syscalls_total counter\n"
				   "goscope_syscalls_total{pid=\"42\",exe=\"caddy\",syscall=\"read\"} 12345\n"
				   "goscope_syscalls_total{syscall=\"read\"} 0\n"
				   "goscope_syscalls_total{pid=\"42\"} -3\n"
				   "goscope_up 1\n");
	assert_int_equal(p.len, strlen(p.buf));
	promtext_reset(&p);
	assert_int_equal(p.len, 0);
	assert_string_equal(p.buf, "");
	promtext_sample(&p, "x", NULL, 0, NULL, 0, 2);
	assert_string_equal(p.buf, "x 2\n");
	promtext_free(&p);
	assert_null(p.buf);
}

static void test_escaping(void **state)
{
	struct promtext p;
	const struct promtext_label l[] = {
		{ "path", "C:\\dir\\\"quoted\"\nnext" },
		{ "empty", "" },
		{ "null", NULL },
		{ "utf8", "caf\xc3\xa9" },
	};

	(void)state;
	promtext_init(&p);
	promtext_sample(&p, "m", l, 4, NULL, 0, 1);
	assert_string_equal(p.buf, "m{path=\"C:\\\\dir\\\\\\\"quoted\\\"\\nnext\",empty=\"\",null=\"\","
				   "utf8=\"caf\xc3\xa9\"} 1\n");
	promtext_free(&p);
}

static void test_numbers(void **state)
{
	struct promtext p;

	(void)state;
	promtext_init(&p);
	promtext_sample(&p, "a", NULL, 0, NULL, 0, 0.5);
	promtext_sample(&p, "b", NULL, 0, NULL, 0, 1e-7);
	promtext_sample(&p, "c", NULL, 0, NULL, 0, INFINITY);
	promtext_sample(&p, "d", NULL, 0, NULL, 0, -INFINITY);
	promtext_sample(&p, "e", NULL, 0, NULL, 0, NAN);
	promtext_sample(&p, "f", NULL, 0, NULL, 0, 999999999999999.0);
	promtext_sample(&p, "g", NULL, 0, NULL, 0, 1e15);
	promtext_sample(&p, "h", NULL, 0, NULL, 0, 123.456789012);
	promtext_sample(&p, "i", NULL, 0, NULL, 0, 18446744073709551615.0);
	assert_string_equal(p.buf, "a 0.5\n"
				   "b 1e-07\n"
				   "c +Inf\n"
				   "d -Inf\n"
				   "e NaN\n"
				   "f 999999999999999\n"
				   "g 1e+15\n"
				   "h 123.456789\n"
				   "i 1.84467441e+19\n");
	promtext_free(&p);
}

/* A histogram family as the agent writes one: cumulative buckets, +Inf, sum, count. */
static void write_histogram(struct promtext *p)
{
	const struct promtext_label common[] = { { "pid", "7" } };
	const double le[] = { 0.001, 0.01, 0.1, INFINITY };
	const double cum[] = { 3, 10, 12, 13 };

	promtext_family(p, "goscope_syscall_seconds", "histogram", "Syscall latency.");
	for (int i = 0; i < 4; i++) {
		char b[32];
		struct promtext_label l = { "le", b };

		if (isinf(le[i]))
			snprintf(b, sizeof(b), "+Inf");
		else
			snprintf(b, sizeof(b), "%g", le[i]);
		promtext_sample(p, "goscope_syscall_seconds_bucket", common, 1, &l, 1, cum[i]);
	}
	promtext_sample(p, "goscope_syscall_seconds_sum", common, 1, NULL, 0, 0.1234);
	promtext_sample(p, "goscope_syscall_seconds_count", common, 1, NULL, 0, 13);
}

static void test_histogram(void **state)
{
	struct promtext p;

	(void)state;
	promtext_init(&p);
	write_histogram(&p);
	assert_string_equal(p.buf,
			    "# HELP goscope_syscall_seconds Syscall latency.\n"
			    "# TYPE goscope_syscall_seconds histogram\n"
			    "goscope_syscall_seconds_bucket{pid=\"7\",le=\"0.001\"} 3\n"
			    "goscope_syscall_seconds_bucket{pid=\"7\",le=\"0.01\"} 10\n"
			    "goscope_syscall_seconds_bucket{pid=\"7\",le=\"0.1\"} 12\n"
			    "goscope_syscall_seconds_bucket{pid=\"7\",le=\"+Inf\"} 13\n"
			    "goscope_syscall_seconds_sum{pid=\"7\"} 0.1234\n"
			    "goscope_syscall_seconds_count{pid=\"7\"} 13\n");
	promtext_free(&p);
}

static void test_long_text(void **state)
{
	struct promtext p;
	char help[1500], val[5000];

	(void)state;
	memset(help, 'h', sizeof(help) - 1);
	help[sizeof(help) - 1] = 0;
	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = 0;
	promtext_init(&p);
	/* A long help text is written whole: the TYPE line must follow it. */
	promtext_family(&p, "m", "gauge", help);
	assert_int_equal(p.len, strlen("# HELP m \n# TYPE m gauge\n") + strlen(help));
	assert_non_null(strstr(p.buf, "\n# TYPE m gauge\n"));
	/* Long label values too, and the buffer grows past its first size. */
	for (int i = 0; i < 10; i++) {
		struct promtext_label l = { "v", val };

		promtext_sample(&p, "m", &l, 1, NULL, 0, i);
	}
	assert_false(p.oom);
	assert_int_equal(p.len, strlen(p.buf));
	assert_int_equal(p.len, strlen("# HELP m \n# TYPE m gauge\n") + strlen(help) +
					10 * (strlen("m{v=\"\"} 0\n") + strlen(val)));
	promtext_free(&p);
	promtext_init(&p);
	promtext_family(&p, "m", "gauge", "a\\b\nc \"d\"");
	assert_string_equal(p.buf, "# HELP m a\\\\b\\nc \"d\"\n# TYPE m gauge\n");
	promtext_free(&p);
}

/* promtool (Prometheus's own checker) accepts what we write. */
static void test_promtool(void **state)
{
	struct promtext p;
	const struct promtext_label l[] = { { "path", "a\\b\"c\nd" } };
	char file[] = "/tmp/test_promtext.XXXXXX", cmd[128], *out;
	int fd;

	(void)state;
	TU_REQUIRE(tu_have("promtool"), "no promtool");
	promtext_init(&p);
	write_histogram(&p);
	promtext_family(&p, "goscope_files_total", "counter", "Files \\ opened.");
	promtext_sample(&p, "goscope_files_total", l, 1, NULL, 0, 4);
	promtext_family(&p, "goscope_ratio", "gauge", "A ratio.");
	promtext_sample(&p, "goscope_ratio", NULL, 0, NULL, 0, NAN);
	fd = mkstemp(file);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p.buf, p.len), (ssize_t)p.len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", file);
	out = tu_run(cmd);
	unlink(file);
	if (!out)
		fail_msg("promtool rejected:\n%s", p.buf);
	free(out);
	promtext_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_and_samples),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_long_text),
		cmocka_unit_test(test_promtool),
	};

	return cmocka_run_group_tests_name("promtext", tests, NULL, NULL);
}
