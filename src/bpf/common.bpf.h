/*
 * common.bpf.h: helpers every goscope BPF program shares.
 */
#ifndef GOSCOPE_COMMON_BPF_H
#define GOSCOPE_COMMON_BPF_H

/* The log-linear histogram index of collect/hist.c: 16 sub-buckets per
 * power of two, capped at NBUCKETS - 1 (BPF has no count-leading-zeros). */
static __always_inline __u32 gs_hist_bucket(__u64 v, __u32 nbuckets)
{
	__u32 e = 0, idx;
	__u64 x = v;

	if (v < 16)
		return (__u32)v;
	if (x >> 32) { e += 32; x >>= 32; }
	if (x >> 16) { e += 16; x >>= 16; }
	if (x >> 8) { e += 8; x >>= 8; }
	if (x >> 4) { e += 4; x >>= 4; }
	if (x >> 2) { e += 2; x >>= 2; }
	if (x >> 1) { e += 1; }
	idx = (e - 3) * 16 + (__u32)((v >> (e - 4)) & 15);
	return idx < nbuckets ? idx : nbuckets - 1;
}

/* Count one dropped event of kind WHY in a per-CPU array of counters. */
static __always_inline void gs_count_drop(void *drops, __u32 why)
{
	__u64 *v = bpf_map_lookup_elem(drops, &why);

	if (v)
		*v += 1;
}

#endif
