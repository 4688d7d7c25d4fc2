/*
 * test_verdict: the health verdicts (collect/verdict.c) as pure functions
 * of a report: each threshold on both sides of its boundary, and the whole
 * report judged the way the README's health table says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collect/health.h"
#include "collect/verdict.h"

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(verdict_name(VERDICT_OK), "ok");
	assert_string_equal(verdict_name(VERDICT_WARN), "warn");
	assert_string_equal(verdict_name(VERDICT_BAD), "bad");
}

static void test_runq(void **state)
{
	(void)state;
	/* p99 thresholds: 1 ms warn, 10 ms bad (strictly above) */
	assert_int_equal(verdict_runq(VERDICT_RUNQ_P99_WARN_NS, 0, 10), VERDICT_OK);
	assert_int_equal(verdict_runq(VERDICT_RUNQ_P99_WARN_NS + 1, 0, 10), VERDICT_WARN);
	assert_int_equal(verdict_runq(VERDICT_RUNQ_P99_BAD_NS, 0, 10), VERDICT_WARN);
	assert_int_equal(verdict_runq(VERDICT_RUNQ_P99_BAD_NS + 1, 0, 10), VERDICT_BAD);
	/* 10% of a 10 s window waiting: 1 s is not above, 1.001 s is */
	assert_int_equal(verdict_runq(1000, 1000000000ull, 10), VERDICT_OK);
	assert_int_equal(verdict_runq(1000, 1001000000ull, 10), VERDICT_BAD);
	/* an empty window judges nothing by share */
	assert_int_equal(verdict_runq(0, 5000000000ull, 0), VERDICT_OK);
}

static void test_cfs(void **state)
{
	(void)state;
	assert_int_equal(verdict_cfs(0, 0, 0, 8), VERDICT_OK);
	assert_int_equal(verdict_cfs(100, 10, 1, 1), VERDICT_WARN); /* 10%: not above */
	assert_int_equal(verdict_cfs(100, 11, 1, 1), VERDICT_BAD);
	assert_int_equal(verdict_cfs(100, 1, 1, 1), VERDICT_WARN);
	/* GOMAXPROCS above the quota's CPUs rounded up: 1.5 CPUs -> 2 */
	assert_int_equal(verdict_cfs(100, 0, 1.5, 2), VERDICT_OK);
	assert_int_equal(verdict_cfs(100, 0, 1.5, 3), VERDICT_WARN);
	/* no quota: GOMAXPROCS says nothing */
	assert_int_equal(verdict_cfs(0, 0, 0, 64), VERDICT_OK);
}

static void test_tcp(void **state)
{
	(void)state;
	assert_int_equal(verdict_tcp(0, 0, 0), VERDICT_OK);
	assert_int_equal(verdict_tcp(3, 0, 0), VERDICT_WARN);
	assert_int_equal(verdict_tcp(0, 1, 0), VERDICT_BAD);
	assert_int_equal(verdict_tcp(0, 0, 1), VERDICT_BAD);
}

static void test_memory(void **state)
{
	(void)state;
	assert_int_equal(verdict_memory(0, 0, 10, 0, 0, 0), VERDICT_OK);
	assert_int_equal(verdict_memory(1, 0, 10, 0, 0, 0), VERDICT_BAD);
	/* 100 faults/s: not above; 1001 in 10 s is */
	assert_int_equal(verdict_memory(0, 1000, 10, 0, 0, 0), VERDICT_WARN);
	assert_int_equal(verdict_memory(0, 1001, 10, 0, 0, 0), VERDICT_BAD);
	assert_int_equal(verdict_memory(0, 0, 10, 1, 0, 0), VERDICT_WARN);
	/* 90% of the limit: not above; one byte more is */
	assert_int_equal(verdict_memory(0, 0, 10, 0, 900, 1000), VERDICT_OK);
	assert_int_equal(verdict_memory(0, 0, 10, 0, 901, 1000), VERDICT_WARN);
	/* no limit known */
	assert_int_equal(verdict_memory(0, 0, 10, 0, 1ull << 40, 0), VERDICT_OK);
}

static struct health_report *report_new(void)
{
	struct health_report *r = test_calloc(1, sizeof(*r));

	r->seconds = 10;
	r->runq_measured = true;
	r->cg.mem_max = UINT64_MAX;
	r->cg.quota_us = -1;
	return r;
}

static void test_fd_leak(void **state)
{
	struct health_report *r = report_new();

	(void)state;
	r->fd_samples = VERDICT_FD_LEAK_MIN_SAMPLES;
	r->fd_only_grew = true;
	r->fd_first = 10;
	r->fd_last = 10 + VERDICT_FD_LEAK_MIN_GROWTH;
	assert_true(verdict_fd_leak(r));
	r->fd_last--;
	assert_false(verdict_fd_leak(r)); /* grew by too little */
	r->fd_last++;
	r->fd_only_grew = false;
	assert_false(verdict_fd_leak(r)); /* went down once: not a leak */
	r->fd_only_grew = true;
	r->fd_samples--;
	assert_false(verdict_fd_leak(r)); /* too few samples */
	test_free(r);
}

static void test_report(void **state)
{
	struct health_report *r = report_new();
	struct health_verdicts v;

	(void)state;
	verdict_health(r, &v);
	assert_int_equal(v.scheduler, VERDICT_OK);
	assert_int_equal(v.cpu_quota, VERDICT_OK);
	assert_int_equal(v.tcp, VERDICT_OK);
	assert_int_equal(v.memory, VERDICT_OK);
	assert_int_equal(v.fds, VERDICT_OK);

	/* quota 0.5 CPU and GOMAXPROCS 2: warn; throttled 20 of 100: bad */
	r->cg.cpu_limited = true;
	r->cg.quota_us = 50000;
	r->cg.period_us = 100000;
	r->gomaxprocs = 2;
	assert_true(verdict_quota_cpus(r) > 0.49 && verdict_quota_cpus(r) < 0.51);
	assert_true(verdict_gomaxprocs_over_quota(r));
	verdict_health(r, &v);
	assert_int_equal(v.cpu_quota, VERDICT_WARN);
	r->cfs_periods = 100;
	r->cfs_throttled = 20;
	verdict_health(r, &v);
	assert_int_equal(v.cpu_quota, VERDICT_BAD);

	/* memory near the cgroup's limit counts only when the cgroup is the process's own */
	r->cg.mem_max = 1000;
	r->cg.mem_current = 950;
	r->cg.mem_known = false;
	r->cg.mem_root = true;
	verdict_health(r, &v);
	assert_int_equal(v.memory, VERDICT_OK);
	r->cg.mem_known = true;
	r->cg.mem_root = false;
	verdict_health(r, &v);
	assert_int_equal(v.memory, VERDICT_WARN);

	/* the memory verdict counts /proc's major faults */
	r->cg.mem_current = 0;
	r->majflt_proc = 5000;
	r->faults_bpf = 4990;
	r->faults_traced = true;
	verdict_health(r, &v);
	assert_int_equal(v.memory, VERDICT_BAD);
	assert_int_equal(verdict_major_faults(r), 4990);
	r->faults_traced = false;
	assert_int_equal(verdict_major_faults(r), 5000);

	/* scheduler: 2 s waiting in a 10 s window */
	r->runq_ns = 2000000000ull;
	r->runq_p99_ns = 500000;
	verdict_health(r, &v);
	assert_int_equal(v.scheduler, VERDICT_BAD);

	r->tcp_retrans = 1;
	verdict_health(r, &v);
	assert_int_equal(v.tcp, VERDICT_WARN);
	test_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),  cmocka_unit_test(test_runq),
		cmocka_unit_test(test_cfs),    cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_memory), cmocka_unit_test(test_fd_leak),
		cmocka_unit_test(test_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
