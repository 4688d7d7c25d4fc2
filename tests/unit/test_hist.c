/*
 * test_hist: the log-linear duration histogram (collect/hist.c) against
 * sorted samples as the truth: every quantile of random data (uniform,
 * log-uniform over 10 decades, bimodal) is the bucket midpoint of the
 * exact order statistic, so within half a sub-bucket (1/32, about 3%) of
 * the true value; merging two histograms is the histogram of both; bucket
 * bounds are strictly increasing and round-trip; and the BPF bucket
 * function (bpf/lib/hist.bpf.h, compiled here as plain C) puts every value
 * in the same bucket, capped at GS_HIST_BUCKETS.
 */
#include "testutil.h"

#include <inttypes.h>
#include <linux/types.h>
#include <math.h>

#include "bpf/lib/hist.bpf.h"
#include "collect/hist.h"

/* xorshift64*: reproducible data without libc's rand state. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static double rnd01(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The Q-quantile of sorted V as hist_quantile defines it: V[ceil(Q*N)-1]. */
static uint64_t truth(const uint64_t *v, size_t n, double q)
{
	size_t want = (size_t)ceil(q * (double)n);

	if (want < 1)
		want = 1;
	return v[want - 1];
}

static void check_quantiles(uint64_t *v, size_t n, const char *what)
{
	static const double qs[] = { 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1 };
	struct hist *h = tu_xcalloc(1, sizeof(*h));
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		hist_add(h, v[i]);
		sum += v[i];
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	assert_int_equal(h->count, n);
	assert_int_equal(h->sum, sum);
	assert_int_equal(h->min, v[0]);
	assert_int_equal(h->max, v[n - 1]);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t t = truth(v, n, qs[i]), got = hist_quantile(h, qs[i]);
		uint64_t diff = got > t ? got - t : t - got;

		/* Half a sub-bucket: |got - t| <= t/32. */
		if (diff * 32 > t)
			fail_msg("%s: q%.3f = %" PRIu64 ", truth %" PRIu64 " (%.2f%% off)", what,
				 qs[i], got, t, 100.0 * (double)diff / (double)t);
	}
	/* Never outside the data. */
	assert_true(hist_quantile(h, 1) <= v[n - 1] && hist_quantile(h, 1) >= v[0]);
	assert_true(hist_quantile(h, 1e-9) >= v[0] && hist_quantile(h, 1e-9) <= v[n - 1]);
	free(h);
}

static void test_quantiles(void **state)
{
	enum { N = 200000 };
	uint64_t *v = tu_xcalloc(N, sizeof(*v));

	(void)state;
	/* Uniform 1 us .. 1 ms. */
	for (size_t i = 0; i < N; i++)
		v[i] = 1000 + rnd() % 999000;
	check_quantiles(v, N, "uniform");
	/* Log-uniform over 10 ns .. 100 s (10 decades). */
	for (size_t i = 0; i < N; i++)
		v[i] = (uint64_t)exp(log(10.0) + rnd01() * (log(1e11) - log(10.0)));
	check_quantiles(v, N, "log-uniform");
	/* Bimodal: 99% fast (~50 us), 1% slow (~200 ms): p99 sits on the edge. */
	for (size_t i = 0; i < N; i++)
		v[i] = rnd() % 100 ? 40000 + rnd() % 20000 : 150000000 + rnd() % 100000000;
	check_quantiles(v, N, "bimodal");
	/* Small values (< 32) are exact. */
	for (size_t i = 0; i < N; i++)
		v[i] = rnd() % 32;
	check_quantiles(v, N, "small");
	/* Huge values, near 2^63. */
	for (size_t i = 0; i < 1000; i++)
		v[i] = (1ull << 62) + rnd() % (1ull << 62);
	check_quantiles(v, 1000, "huge");
	free(v);
}

static void test_empty_and_one(void **state)
{
	struct hist *h = tu_xcalloc(1, sizeof(*h));

	(void)state;
	assert_int_equal(hist_quantile(h, 0.5), 0);
	hist_add(h, 12345);
	/* One value: every quantile is that value (clamped to min and max). */
	assert_int_equal(hist_quantile(h, 0.01), 12345);
	assert_int_equal(hist_quantile(h, 0.5), 12345);
	assert_int_equal(hist_quantile(h, 1), 12345);
	hist_add(h, 0);
	assert_int_equal(h->min, 0);
	assert_int_equal(hist_quantile(h, 0.5), 0);
	hist_add(h, UINT64_MAX);
	assert_int_equal(h->b[HIST_BUCKETS - 1], 1);
	assert_int_equal(hist_quantile(h, 1), hist_bucket_low(HIST_BUCKETS - 1));
	free(h);
}

static void test_merge(void **state)
{
	struct hist *a = tu_xcalloc(1, sizeof(*a)), *b = tu_xcalloc(1, sizeof(*b));
	struct hist *all = tu_xcalloc(1, sizeof(*all)), *empty = tu_xcalloc(1, sizeof(*empty));

	(void)state;
	for (int i = 0; i < 50000; i++) {
		uint64_t x = rnd() % 10000000;

		hist_add(i % 3 ? a : b, x);
		hist_add(all, x);
	}
	hist_add(b, 3); /* b holds the minimum */
	hist_add(all, 3);
	hist_merge(a, b);
	assert_int_equal(a->count, all->count);
	assert_int_equal(a->sum, all->sum);
	assert_int_equal(a->min, all->min);
	assert_int_equal(a->max, all->max);
	assert_memory_equal(a->b, all->b, sizeof(a->b));
	/* An empty source changes nothing; into an empty destination copies. */
	hist_merge(a, empty);
	assert_int_equal(a->count, all->count);
	assert_int_equal(a->min, 3);
	hist_merge(empty, all);
	assert_int_equal(empty->min, 3);
	assert_int_equal(empty->max, all->max);
	assert_memory_equal(empty->b, all->b, sizeof(all->b));
	free(a);
	free(b);
	free(all);
	free(empty);
}

static void test_buckets(void **state)
{
	(void)state;
	assert_int_equal(hist_bucket_low(0), 0);
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		uint64_t lo = hist_bucket_low(i);

		/* Strictly increasing; each bound is in its own bucket, one below in the previous. */
		if (i > 0)
			assert_true(lo > hist_bucket_low(i - 1));
		assert_int_equal(hist_bucket(lo), i);
		if (i > 0)
			assert_int_equal(hist_bucket(lo - 1), i - 1);
		/* Widths: 1 below 32, then 1/16 of the power of two. */
		if (i + 1 < HIST_BUCKETS && lo >= 32) {
			uint64_t w = hist_bucket_low(i + 1) - lo;

			assert_true(lo / w >= 16 && lo / w < 32 && lo % w == 0);
		}
	}
	assert_int_equal(hist_bucket(UINT64_MAX), HIST_BUCKETS - 1);
	assert_int_equal(hist_bucket(15), 15);
	assert_int_equal(hist_bucket(16), 16);
	assert_int_equal(hist_bucket(1000000), hist_bucket(1000000 + 1));
}

/* The BPF function, compiled as C, agrees with hist_bucket up to its cap. */
static void test_bpf_same_buckets(void **state)
{
	(void)state;
	assert_int_equal(GS_HIST_SUB_BITS, HIST_SUB_BITS);
	assert_true(GS_HIST_BUCKETS <= HIST_BUCKETS);
	/* 42 groups of 16: the BPF buckets end at 2^45 ns (9.8 hours). */
	assert_int_equal(hist_bucket((1ull << 45) - 1), GS_HIST_BUCKETS - 1);
	assert_int_equal(hist_bucket(1ull << 45), GS_HIST_BUCKETS);
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		uint64_t lo = hist_bucket_low(i);
		uint64_t probes[] = { lo, lo + 1, i + 1 < HIST_BUCKETS ? hist_bucket_low(i + 1) - 1 : UINT64_MAX };

		for (size_t k = 0; k < 3; k++) {
			unsigned want = hist_bucket(probes[k]);

			if (want > GS_HIST_BUCKETS - 1)
				want = GS_HIST_BUCKETS - 1;
			if (gs_hist_bucket(probes[k]) != want)
				fail_msg("value %" PRIu64 ": BPF bucket %u, user bucket %u", probes[k],
					 gs_hist_bucket(probes[k]), want);
		}
	}
	for (int i = 0; i < 100000; i++) {
		uint64_t v = rnd() >> (rnd() % 64);
		unsigned want = hist_bucket(v);

		assert_int_equal(gs_hist_bucket(v),
				 want < GS_HIST_BUCKETS ? want : GS_HIST_BUCKETS - 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_empty_and_one),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_bpf_same_buckets),
	};

	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
