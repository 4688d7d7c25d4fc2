/*
 * hist.h: the kernel-side histogram's size, shared by every BPF program
 * and collect/hist.c (which checks it with a static assert): 16 linear
 * sub-buckets per power of two, values up to 2^42 ns (73 minutes); larger
 * values land in the last bucket.
 */
#ifndef GOSCOPE_BPF_LIB_HIST_H
#define GOSCOPE_BPF_LIB_HIST_H

#define GS_HIST_SUB_BITS 4
#define GS_HIST_BUCKETS 672 /* (41 + 1) * 16 */

#endif
