/*
 * hist.h: the kernel-side histogram's size, shared by every BPF program
 * and collect/hist.c (which checks it with a static assert): 16 linear
 * sub-buckets per power of two, values up to 2^45 ns (9.8 hours); larger
 * values land in the last bucket.
 */
#ifndef GOSCOPE_BPF_LIB_HIST_H
#define GOSCOPE_BPF_LIB_HIST_H

#define GS_HIST_SUB_BITS 4
#define GS_HIST_BUCKETS 672 /* 42 groups of 16: [0,16), then [2^k, 2^(k+1)) for k = 4..44 */

#endif
