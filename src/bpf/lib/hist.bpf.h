/*
 * hist.bpf.h: the log-linear histogram index of collect/hist.c, in BPF.
 */
#ifndef GOSCOPE_BPF_LIB_HIST_BPF_H
#define GOSCOPE_BPF_LIB_HIST_BPF_H

#include "hist.h"

/* Bucket of V: 16 sub-buckets per power of two, capped at the last one
 * (BPF has no count-leading-zeros). */
static __always_inline __u32 gs_hist_bucket(__u64 v)
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
	return idx < GS_HIST_BUCKETS ? idx : GS_HIST_BUCKETS - 1;
}

#endif
