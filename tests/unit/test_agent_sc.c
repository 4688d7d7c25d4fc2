/*
 * test_agent_sc: the agent's syscall accumulators (agent_sc_add in
 * agent/collect.c). Truth: the durations put into each histogram, counted
 * by hand under each Prometheus bound. Exact rows (histogram total = count)
 * add exactly those counts; sampled rows (histogram weighted, its total not
 * the count) add the histogram's shape scaled to the row's count, so that
 * every bucket stays <= the count (+Inf) and the buckets non-decreasing;
 * the factor multiplies everything; a row of no calls adds nothing.
 */
#include "testutil.h"

#include "agent/agent.h"
#include "collect/hist.h"

#include <math.h>
#include <string.h>

/* Calls of DUR ns, N of them, into H. */
static void put(struct hist *h, uint64_t dur, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		hist_add(h, dur);
}

/* Calls of the durations added that are <= BOUND seconds, by hand. */
static double under(double bound, const double *durs, const unsigned *ns, size_t k)
{
	double c = 0;

	for (size_t i = 0; i < k; i++)
		if (durs[i] <= bound * 0.9)
			c += ns[i];
	return c;
}

static void test_exact_rows(void **state)
{
	/* Well inside their bounds (bucket edges are ~3% wide). */
	static const double durs[] = { 700e-9, 3e-6, 40e-6, 0.02, 2 };
	static const unsigned ns[] = { 50, 7, 3, 2, 1 };
	struct agent_sc y;
	struct hist h;

	(void)state;
	memset(&y, 0, sizeof(y));
	memset(&h, 0, sizeof(h));
	for (size_t i = 0; i < 5; i++)
		put(&h, (uint64_t)(durs[i] * 1e9), ns[i]);
	agent_sc_add(&y, 63, 4, 2.1, &h, 1);
	agent_sc_add(&y, 63, 4, 2.1, &h, 1);
	assert_true(y.count == 126 && y.errors == 8);
	assert_true(y.seconds > 4.19 && y.seconds < 4.21);
	for (size_t k = 0; k < AGENT_NLE; k++)
		assert_true(fabs(y.le[k] - 2 * under(agent_le[k], durs, ns, 5)) < 1e-9);
}

static void test_sampled_rows(void **state)
{
	struct agent_sc y;
	struct hist h;
	double prev[AGENT_NLE] = { 0 }, prevc = 0;

	(void)state;
	memset(&y, 0, sizeof(y));
	memset(&h, 0, sizeof(h));
	/* 10 calls of 2 us, 30 of 200 ms (weighted up), 1 longer than 5 s. */
	put(&h, 2000, 10);
	put(&h, 200000000, 30);
	put(&h, 6000000000ull, 1);
	for (int round = 1; round <= 3; round++) {
		/* the count is not the histogram's total (41) */
		agent_sc_add(&y, 20.5, 0, 1, &h, round == 3 ? 0.5 : 1);
		for (size_t k = 0; k < AGENT_NLE; k++) {
			assert_true(y.le[k] <= y.count + 1e-9);
			assert_true(k == 0 || y.le[k] >= y.le[k - 1]);
			assert_true(y.le[k] >= prev[k]);
			prev[k] = y.le[k];
		}
		assert_true(y.count > prevc);
		prevc = y.count;
	}
	assert_true(fabs(y.count - 20.5 * 2.5) < 1e-9);
	/* shape: 10/41 of the calls under 5 us, 40/41 under 0.5 s and 5 s */
	assert_true(fabs(y.le[1] - y.count * 10 / 41) < 1e-9);
	assert_true(fabs(y.le[11] - y.count * 40 / 41) < 1e-9);
	assert_true(fabs(y.le[13] - y.count * 40 / 41) < 1e-9);
	/* nothing */
	memset(&h, 0, sizeof(h));
	agent_sc_add(&y, 0, 0, 0, &h, 1);
	assert_true(fabs(y.count - 20.5 * 2.5) < 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_rows),
		cmocka_unit_test(test_sampled_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
