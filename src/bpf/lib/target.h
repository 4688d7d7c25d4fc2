/*
 * target.h: the sizes of the kernel-side target filter (target.bpf.h),
 * shared with user space (collect/bpfload.c).
 */
#ifndef GOSCOPE_BPF_LIB_TARGET_H
#define GOSCOPE_BPF_LIB_TARGET_H

#define GS_TSLOTS 65536 /* a power of two: slot = tgid & (GS_TSLOTS - 1) */
#define GS_TSLOT_SHARED 0xffffffffu
#define GS_MAX_TARGETS 1024

#endif
