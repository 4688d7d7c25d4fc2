/*
 * test_syscalls_report: the formatters and pure helpers of `goscope
 * syscalls`, byte for byte where the format is the point: user rows before
 * goroutine 0's (the runtime's waits) with each row's own errnos, the
 * "runtime_idle" JSON field, the slow-call line ("goroutine G, result R":
 * the result no longer glued to the goroutine id), the -e list parser and
 * the rate rules.
 */
#include "testutil.h"

#include "collect/sysstat.h"
#include "output/jsonw.h"
#include "proc/syscalls.h"
#include "report/syscalls.h"

static char *cap_buf;
static size_t cap_len;

static FILE *cap_open(void)
{
	FILE *f = open_memstream(&cap_buf, &cap_len);

	assert_non_null(f);
	return f;
}

static char *cap_close(FILE *f)
{
	fclose(f);
	return cap_buf;
}

static struct sysstat_row row(const char *name, bool idle, uint64_t count, uint64_t total)
{
	struct sysstat_row r;

	memset(&r, 0, sizeof(r));
	r.tgid = 10;
	r.nr = (uint32_t)syscalls_number(name);
	r.idle = idle;
	r.count = count;
	r.total_ns = total;
	r.max_ns = total;
	return r;
}

static void test_sort_user_first(void **state)
{
	struct sysstat_row rows[] = {
		row("futex", true, 5, 900000), row("read", false, 3, 100),
		row("nanosleep", true, 2, 5000), row("write", false, 4, 7000),
	};

	(void)state;
	syscalls_report_sort(rows, 4);
	assert_int_equal(rows[0].nr, syscalls_number("write"));
	assert_int_equal(rows[1].nr, syscalls_number("read"));
	assert_int_equal(rows[2].nr, syscalls_number("futex"));
	assert_int_equal(rows[3].nr, syscalls_number("nanosleep"));
}

static void test_table_sections(void **state)
{
	struct sysstat_row rows[] = { row("futex", false, 2, 3000), row("futex", true, 9, 90000) };
	struct sysstat_err errs[] = {
		{ .tgid = 10, .nr = rows[0].nr, .idle = false, .err = 11, .count = 2 },
		{ .tgid = 10, .nr = rows[0].nr, .idle = true, .err = 110, .count = 4 },
	};
	struct syscalls_report r = { .rows = rows, .nrows = 2, .errs = errs, .nerrs = 2,
				     .secs = 1, .top = 25 };
	FILE *f = cap_open();
	char *out, *user, *rt, *idle;

	(void)state;
	syscalls_report_sort(rows, 2);
	syscalls_print_table(f, &r);
	out = cap_close(f);
	user = strstr(out, "EAGAIN:2");
	rt = strstr(out, "runtime, goroutine 0");
	idle = strstr(out, "ETIMEDOUT:4");
	assert_non_null(user);
	assert_non_null(rt);
	assert_non_null(idle);
	assert_true(user < rt && rt < idle);
	/* each row its own errnos */
	assert_null(strstr(out, "EAGAIN:2 ETIMEDOUT"));
	free(out);
}

static void test_json_runtime_idle(void **state)
{
	struct sysstat_row rows[] = { row("epoll_pwait", true, 1, 10) };
	struct syscalls_report r = { .rows = rows, .nrows = 1, .secs = 2, .top = 25 };
	FILE *f = cap_open();
	struct jsonw w;
	char *out;

	(void)state;
	jsonw_init(&w, f);
	syscalls_print_json(&w, &r);
	out = cap_close(f);
	assert_non_null(strstr(out, "{\"syscall\":\"epoll_pwait\",\"pid\":10,\"runtime_idle\":true,"
				    "\"count\":1,"));
	assert_non_null(strstr(out, "{\"event\":\"summary\",\"seconds\":2,"));
	free(out);
}

/* The first line printed for a slow call of NAME with result RET by GOID. */
static char *slow_line(const char *name, long long ret, uint64_t goid)
{
	static struct sc_event e;
	struct sysstat_call c;
	FILE *f = cap_open();
	char *out, *nl;

	memset(&e, 0, sizeof(e));
	e.kind = SC_EV_SLOW;
	e.nr = (unsigned)syscalls_number(name);
	e.tgid = 4242;
	e.tid = 4243;
	e.goid = goid;
	e.ret = ret;
	e.dur_ns = 1500000;
	memset(&c, 0, sizeof(c));
	c.e = &e;
	c.verb = -1;
	c.show = true;
	snprintf(c.name, sizeof(c.name), "%s", name);
	syscalls_print_call(f, NULL, &c, NULL, NULL);
	out = cap_close(f);
	nl = strchr(out, '\n');
	if (nl)
		nl[1] = 0;
	return out;
}

static void test_slow_line(void **state)
{
	char *l;

	(void)state;
	l = slow_line("openat", 1, 1);
	assert_string_equal(l, "slow openat 1.50ms: pid 4242 tid 4243 goroutine 1, result 1\n");
	free(l);
	l = slow_line("openat", -2, 7);
	assert_string_equal(l, "slow openat 1.50ms: pid 4242 tid 4243 goroutine 7, error ENOENT\n");
	free(l);
	l = slow_line("futex", 0, 0);
	assert_string_equal(l, "slow futex 1.50ms: pid 4242 tid 4243 goroutine 0 (runtime), result 0\n");
	free(l);
}

static void test_parse_list(void **state)
{
	uint32_t spec[SC_NR_MAX];
	char err[200];

	(void)state;
	memset(spec, 0, sizeof(spec));
	assert_int_equal(sysstat_parse_list("openat,net", spec, err, sizeof(err)), 0);
	assert_true(spec[syscalls_number("openat")] & SC_SPEC_TRACED);
	assert_true(spec[syscalls_number("connect")] & SC_SPEC_TRACED);
	assert_false(spec[syscalls_number("read")] & SC_SPEC_TRACED);
	assert_int_equal(sysstat_parse_list(",", spec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty syscall list"));
	assert_int_equal(sysstat_parse_list("openat,nosuchcall", spec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'nosuchcall'"));
}

static void test_default_spec_waits(void **state)
{
	uint32_t spec[SC_NR_MAX];

	(void)state;
	sysstat_default_spec(spec);
	assert_true(spec[syscalls_number("futex")] & SC_SPEC_IDLE);
	assert_true(spec[syscalls_number("epoll_pwait")] & SC_SPEC_IDLE);
	assert_false(spec[syscalls_number("read")] & SC_SPEC_IDLE);
	assert_true(spec[syscalls_number("connect")] & SC_SPEC_NET);
}

static void test_rate_alerts(void **state)
{
	struct netrules r;
	char err[200];
	struct sysstat_row rows[] = { row("openat", false, 10, 1), row("openat", true, 5, 1) };
	pid_t pids[] = { 10, 11 };
	struct sysstat_rate_alert a[4];
	size_t n;

	(void)state;
	assert_int_equal(netrules_parse("rate openat 7/s\n", "t", &r, err, sizeof(err)), 0);
	n = sysstat_rate_alerts(&r, rows, 2, pids, 2, 2.0, a, 4);
	assert_int_equal(n, 1); /* pid 10: 15 calls in 2 s, 7.5/s; pid 11: none */
	assert_int_equal(a[0].pid, 10);
	assert_true(a[0].rate_per_s > 7.49 && a[0].rate_per_s < 7.51);
	n = sysstat_rate_alerts(&r, rows, 2, pids, 2, 3.0, a, 4);
	assert_int_equal(n, 0); /* 5/s */
	netrules_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort_user_first),
		cmocka_unit_test(test_table_sections),
		cmocka_unit_test(test_json_runtime_idle),
		cmocka_unit_test(test_slow_line),
		cmocka_unit_test(test_parse_list),
		cmocka_unit_test(test_default_spec_waits),
		cmocka_unit_test(test_rate_alerts),
	};

	return cmocka_run_group_tests_name("syscalls_report", tests, NULL, NULL);
}
