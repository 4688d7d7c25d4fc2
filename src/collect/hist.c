/*
 * hist: log-linear duration histogram (see hist.h).
 */
#include "hist.h"

#include "../bpf/lib/hist.h"

#include <string.h>

/*
 * The kernel-side histograms (bpf/lib/hist.h) use the same bucket function
 * with fewer buckets (values up to 2^42 ns, larger ones in the last): a
 * BPF array is a prefix of struct hist's, copied index for index.
 */
_Static_assert(GS_HIST_SUB_BITS == HIST_SUB_BITS, "BPF and user histograms split powers of two alike");
_Static_assert(GS_HIST_BUCKETS <= HIST_BUCKETS, "a BPF histogram fits in struct hist");
_Static_assert(GS_HIST_BUCKETS % HIST_SUB == 0, "BPF histograms end at a power of two");

unsigned hist_bucket(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v); /* e >= HIST_SUB_BITS */
	return (e - HIST_SUB_BITS + 1) * HIST_SUB +
	       (unsigned)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

uint64_t hist_bucket_low(unsigned i)
{
	unsigned grp = i / HIST_SUB, sub = i % HIST_SUB;

	if (grp == 0)
		return sub;
	return (uint64_t)(HIST_SUB + sub) << (grp - 1);
}

void hist_add(struct hist *h, uint64_t v)
{
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
	h->b[hist_bucket(v)]++;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	if (!src->count)
		return;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0;

	if (!h->count)
		return 0;
	want = (uint64_t)(q * (double)h->count + 0.999999);
	if (want < 1)
		want = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t lo = hist_bucket_low(i);
			uint64_t hi = i + 1 < HIST_BUCKETS ? hist_bucket_low(i + 1) : lo;
			uint64_t mid = lo + (hi - lo) / 2;

			if (mid < h->min)
				mid = h->min;
			if (mid > h->max)
				mid = h->max;
			return mid;
		}
	}
	return h->max;
}
