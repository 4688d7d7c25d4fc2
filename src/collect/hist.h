/*
 * hist: a log-linear histogram of durations (nanoseconds): 16 linear
 * sub-buckets per power of two, so any percentile read from it is within
 * about 3% of the true value (plain log2 buckets are off by up to 2x).
 * The bucket function is simple enough to run in a BPF program too.
 */
#ifndef GOSCOPE_HIST_H
#define GOSCOPE_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 4
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t sum;
	uint64_t max;
	uint64_t min;
	uint32_t b[HIST_BUCKETS];
};

/* Bucket index of V. */
unsigned hist_bucket(uint64_t v);
/* Smallest value that falls in bucket I. */
uint64_t hist_bucket_low(unsigned i);

void hist_add(struct hist *h, uint64_t v);
void hist_merge(struct hist *dst, const struct hist *src);
/*
 * The Q-quantile (0 < Q <= 1): midpoint of the bucket holding it, clamped
 * to the exact min and max. 0 for an empty histogram.
 */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
