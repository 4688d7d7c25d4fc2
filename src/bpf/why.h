/*
 * why.h: what why.bpf.c and collect/why.c share: the per-target
 * configuration, and the kernel intervals of a watched goroutine's thread
 * (off its CPU: in the run queue, held by the CPU quota, asleep in a
 * system call or a page fault) and the TCP retransmits, as ring buffer
 * events.
 */
#ifndef GOSCOPE_BPF_WHY_H
#define GOSCOPE_BPF_WHY_H

/* Per target (the targets hash of lib/target.bpf.h). */
struct why_target {
	__s32 status_off; /* runtime.g atomicstatus */
	__s32 g_m_off;    /* runtime.g m */
	__s32 m_curg_off; /* runtime.m curg */
	__u32 pad;
};

enum why_kind {
	WHY_K_RUNQ = 1,      /* preempted: runnable, waiting for a CPU */
	WHY_K_THROTTLED = 2, /* preempted while its cgroup's CPU quota was spent */
	WHY_K_SYSCALL = 3,   /* asleep in a system call (g in _Gsyscall) */
	WHY_K_FAULT = 4,     /* asleep while running Go code: a page fault */
	WHY_K_OTHER = 5,     /* asleep, g in another state */
};

enum why_ev {
	WHY_EV_OFF = 1,     /* a thread of a watched goroutine was off its CPU */
	WHY_EV_RETRANS = 2, /* a TCP segment was retransmitted */
	WHY_EV_THROTTLED = 3, /* another thread of a target was held back (quota, run queue) */
};

struct why_event {
	__u32 ev;        /* enum why_ev */
	__u32 kind;      /* enum why_kind */
	__u32 tgid, tid;
	__u64 g;
	__u64 start, wake, end; /* CLOCK_MONOTONIC ns; wake 0: none (preempted) */
	__s64 nr;        /* the system call (WHY_K_SYSCALL), -1 unknown */
	__u32 wake_throttled; /* its cgroup was throttled when it woke */
	__u32 pad;
	__u64 thr_ns;    /* throttled time its CPU group accrued meanwhile: the tail held by the quota */
	__u64 ino;       /* WHY_EV_RETRANS: the socket's inode (0 unknown) */
};

/* A thread off its CPU while a watched goroutine was on it. */
struct why_off {
	__u64 g;
	__u64 start, wake;
	__s64 nr;
	__u32 tgid, kind;
	__u32 wake_throttled, pad;
	__u64 cfs_rq;    /* the thread's CPU group run queue, and its throttled time, at switch-out */
	__u64 thr0;
};

enum why_drop {
	WHY_DROP_EVENTS, /* ring buffer full */
	WHY_DROP_OFF,    /* thread table full */
	WHY_DROP_MAX,
};

#endif
