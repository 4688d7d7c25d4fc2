/*
 * cpu.h: what cpu.bpf.c and collect/cpu.c share (plain data): the key of
 * the in-kernel sample counts, the per-target value of the target filter,
 * and the drop reasons.
 */
#ifndef GOSCOPE_BPF_CPU_H
#define GOSCOPE_BPF_CPU_H

#define CPU_STACK_DEPTH 127   /* the kernel's PERF_MAX_STACK_DEPTH */
#define CPU_MAX_KEYS 40960    /* distinct (pid, tid, goid, stacks, fix) rows */
#define CPU_MAX_USTACKS 16384 /* distinct user stacks */
#define CPU_MAX_KSTACKS 8192  /* distinct kernel stacks */
#define CPU_MAX_GOIDS 8192    /* goroutines counted separately */

/* Per traced process: where to find g's goid, g.m, m.g0, m.curg; its Go text. */
struct cpu_target {
	__s32 goid_off; /* -1: unknown */
	__s32 g_m;
	__s32 m_g0;
	__s32 m_curg;
	__u64 text_lo, text_hi; /* run-time range of the pclntab's functions */
};

enum cpu_flags {
	CPU_F_G0 = 1 << 0,     /* the thread ran on g0 (g == m.g0) */
	CPU_F_NOG = 1 << 1,    /* no g (not a Go thread, or g unreadable) */
	CPU_F_FIX0 = 1 << 2,   /* fix: the word at SP (a return address) */
	CPU_F_FIX8 = 1 << 3,   /* fix: the word at SP+8 (BP just pushed) */
	CPU_F_KERNEL = 1 << 4, /* the sample interrupted kernel mode */
	CPU_F_GOID = 1 << 5,   /* goid is kept in this key */
	CPU_F_FIXD = 1 << 6,   /* fix: the word at SP+D (D known), frame not set up */
};

#define CPU_MAX_SPD 65536 /* leaf pcs whose frame size user space told */

/* A pc of one process (the key of the frame-size map). */
struct cpu_pckey {
	__u32 pid;
	__u32 pad;
	__u64 pc;
};

/*
 * One row of counts. goid is the sampled g's, or on g0 the goroutine the
 * thread runs for (m.curg: a cgo call, systemstack work; 0 for sysmon and
 * the scheduler). It is kept only when --goid is given or while the
 * per-goroutine map has room (else 0 and CPU_F_GOID clear). fix is the
 * return address the leaf fix-up may need (see cpu.bpf.c), 0 if none.
 */
struct cpu_key {
	__u32 pid;
	__u32 tid;
	__u64 goid;
	__u64 fix;
	__s32 ustack; /* stack id, or a negative errno */
	__s32 kstack;
	__u32 flags;
	__u32 pad;
};

/* A goroutine of one process (goids are per process). */
struct cpu_gkey {
	__u32 pid;
	__u32 pad;
	__u64 goid;
};

enum cpu_drop {
	CPU_DROP_KEYS = 0,   /* counts map full */
	CPU_DROP_USTACK = 1, /* no user stack id: unreadable, map full or collision */
	CPU_DROP_KSTACK = 2, /* no kernel stack id */
	CPU_DROP_GOIDS = 3,  /* per-goroutine map full */
	CPU_DROP_MAX = 4,
};

#endif
