/*
 * funclat.h: the structs funclat.bpf.c and collect/funclat.c share: the
 * probed functions, the per-goroutine stack of calls in flight, the
 * per-function statistics and the slow-call event.
 */
#ifndef GOSCOPE_FUNCLAT_H
#define GOSCOPE_FUNCLAT_H

#include "lib/hist.h"

#define FL_MAX_FUNCS 1024     /* probed (target, function) pairs, all targets */
#define FL_INFLIGHT 32        /* probed calls in flight on one goroutine */
#define FL_NARGS 6            /* integer argument registers kept with --args */
#define FL_STACK_DEPTH 64     /* user stack frames of a slow-call event */
#define FL_MAX_GOROUTINES 65536

/* fl_func.flags */
#define FL_F_REG_G 1 /* g is in R14 (amd64) / X28 (arm64): Go >= 1.17 ABIInternal */

/* One probed function of one target: the uprobe's cookie is its index. */
struct fl_func {
	__u32 tgid;
	__s32 goid_off; /* offset of goid in runtime.g, -1 unknown */
	__u32 flags;
	__u32 pad;
};

/* A goroutine: the process and its runtime.g pointer. */
struct fl_gkey {
	__u32 tgid;
	__u32 pad;
	__u64 g;
};

struct fl_call {
	__u64 ts;    /* entry time, ns */
	__u64 depth; /* g.stack.hi - SP at entry (= at RET) */
	__u32 func;
	__u32 pad;
	__u64 args[FL_NARGS];
};

/* The probed calls in flight on one goroutine, innermost last. */
struct fl_gstate {
	__u64 goid; /* which goroutine owns the g now (g structs are reused) */
	__u32 n;
	__u32 pad;
	struct fl_call c[FL_INFLIGHT];
};

/* Per function, since the start (user space takes differences). */
struct fl_stats {
	__u64 calls;    /* entries */
	__u64 timed;    /* calls timed (entry and RET seen) */
	__u64 total_ns;
	__u64 max_ns;
	__u64 unwound;  /* entered, left without a RET (panic, Goexit) */
	__u32 hist[GS_HIST_BUCKETS];
};

struct fl_event {
	__u64 ts;
	__u64 dur_ns;
	__u64 goid;
	__u32 tgid;
	__u32 tid;
	__u32 func;
	__s32 nstack;   /* bytes of stack[] written, or <0 */
	__u64 ip;       /* the RET's address */
	__u64 ret;      /* the return address into the caller */
	__u64 args[FL_NARGS];
	__u64 stack[FL_STACK_DEPTH];
};

enum fl_drop {
	FL_DROP_EVENTS,   /* ring buffer full */
	FL_DROP_GSTATE,   /* goroutine map full */
	FL_DROP_INFLIGHT, /* more than FL_INFLIGHT probed calls nested */
	FL_DROP_NOG,      /* no goroutine found */
	FL_DROP_MAX,
};

enum fl_hit {
	FL_HIT_ENTRY,
	FL_HIT_EXIT,
	FL_HIT_MAX,
};

#endif
