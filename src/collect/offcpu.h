/*
 * offcpu: where goroutines wait, aggregated by their own Go stack and the
 * runtime's reason, from periodic snapshots of every goroutine (gsample).
 *
 * A goroutine seen waiting at the same saved pc, at the same depth in its
 * stack (stack.hi - sp, which survives the runtime copying the stack),
 * with the same g.trackingSeq (bumped each time it stops running; Go >=
 * 1.17) in consecutive snapshots is one wait; its time is the sum of the
 * intervals it was seen in. Total time per stack is accurate to the
 * sampling interval; waits shorter than the interval are seen in
 * proportion to their length, so counts and percentiles describe the
 * waits the sampler saw.
 *
 * A goroutine in a system call (Gsyscall) is not running Go code, so it
 * waits, whatever its thread does in the kernel (sleeping, waiting for a
 * CPU, or on a CPU doing the call's work): its reason is "syscall: NAME"
 * from /proc/PID/task/TID/syscall. That file names the call only while
 * the thread sleeps; a wait seen with its thread runnable takes the name
 * seen on the same stack before, or when its thread is next seen asleep,
 * or (offcpu_flush) the name seen on that stack later in the window, or
 * stays "syscall".
 */
#ifndef GOSCOPE_OFFCPU_H
#define GOSCOPE_OFFCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gsample.h"
#include "hist.h"

struct offcpu_opts {
	uint64_t min_wait_ns;  /* waits shorter than this are dropped */
	const char *reason;    /* substring the reason must contain, or NULL */
	int64_t goid;          /* only this goroutine, or -1 */
	uint32_t max_stacks;   /* bound on distinct stacks (0: default) */
	bool no_stacks;        /* aggregate by reason only: no unwinding (cheapest) */
};

struct offcpu_gst {
	uint64_t gaddr, goid, pc, depth;
	uint32_t status;
	int seq;         /* g.trackingSeq, -1 unknown */
	uint8_t waitreason;
	bool sys_unnamed; /* a syscall wait whose call is not known yet */
	int32_t stack;   /* index into stacks; -1 none, -2 filtered out */
	uint32_t sg;     /* index into the (stack, goid) table */
	uint64_t wait_ns;
	uint64_t hash;   /* of the top of its stack (only without trackingSeq) */
};

struct offcpu_target {
	pid_t pid;
	char exe[4096];
	struct gobin *gb; /* a reference (gobin_ref), released by offcpu_free */
	uint64_t bias;
	struct gsample gs;
	bool exited;
	bool primed;           /* snapshot once: its goroutines are known */
	struct offcpu_gst *st; /* previous snapshot, sorted by gaddr */
	size_t nst;
	uint64_t goroutines;   /* in the last snapshot */
	uint64_t goroutines_peak;
	/* Scratch for the stack-top reads, grown as needed. */
	uint8_t *hbuf;
	uint64_t *haddr;
	size_t *hlen;
	uint8_t **hptr;
	bool *hok;
	uint64_t *hval;
	size_t hcap;
	/* New waits of this snapshot, unwound in one batch. */
	struct offcpu_pend {
		size_t g;     /* index in the snapshot */
		size_t st;    /* index in the new state table */
		uint32_t rid; /* its reason (UINT32_MAX: a syscall, named after unwinding) */
		long nr;      /* the syscall, -1 unknown */
	} *pend;
	const struct gsample_g **pendg;
	uint64_t *pcs; /* pcap x GSAMPLE_MAX_DEPTH */
	int *depth;
	size_t pcap;
};

struct offcpu_stack {
	uint32_t target;
	uint32_t reason;
	uint32_t depth;
	uint64_t *pcs; /* run-time return addresses, innermost first */
	uint64_t hash;
	uint64_t total_ns;
	uint64_t waits;
	struct hist *h;
};

/* Time and waits of one goroutine on one stack (pprof goid labels). */
struct offcpu_sg {
	uint32_t stack;
	uint64_t goid;
	uint64_t ns;
	uint64_t waits;
};

struct offcpu {
	struct offcpu_opts opts;
	struct offcpu_target *targets;
	size_t ntargets;
	struct offcpu_stack *stacks;
	size_t nstacks, stacks_cap;
	uint32_t *sidx; /* open-addressing index of stacks, 0 = empty, else i+1 */
	size_t sidx_cap;
	struct offcpu_sg *sgs;
	size_t nsgs, sgs_cap;
	uint32_t *gidx; /* index of sgs by (stack, goid) */
	size_t gidx_cap;
	char **reasons;
	size_t nreasons;
	uint64_t samples;        /* snapshot rounds in this window */
	uint64_t max_gap_ns;     /* longest time between two snapshots: a wait's resolution */
	uint64_t dropped_stacks; /* waits not recorded: stack table full */
	uint64_t torn;           /* stacks unreadable: goroutine moved while read */
	/*
	 * Syscall names learned per (target, stack): a wait first seen with its
	 * thread runnable. A majority vote over the observations (the thread's
	 * call is read after the goroutine: on a busy host it may already be in
	 * its next call).
	 */
	struct offcpu_sysname {
		uint64_t key;
		long nr;
		uint32_t votes;
	} *sysnames;
	size_t nsysnames;
};

void offcpu_init(struct offcpu *oc, const struct offcpu_opts *opts);
void offcpu_free(struct offcpu *oc);

/*
 * Add a target process whose executable GB (the caller's; offcpu takes its
 * own reference) is loaded at BIAS. Returns its index, or -1 with a reason
 * in ERR.
 */
int offcpu_add_target(struct offcpu *oc, pid_t pid, struct gobin *gb, uint64_t bias,
		      const char *exe, char *err, size_t errlen);

/* Target PID is gone (exited or exec'd): close its waits, sample it no more. */
void offcpu_target_gone(struct offcpu *oc, pid_t pid);

/*
 * Take one snapshot of every live target and account DT_NS (the time
 * since the previous snapshot) to every waiting goroutine (nothing at a
 * target's first snapshot, which only learns its goroutines). Returns the
 * number of targets still alive.
 */
size_t offcpu_sample(struct offcpu *oc, uint64_t dt_ns);

/* Close every open wait (end of a window). */
void offcpu_flush(struct offcpu *oc);

/* Forget all stacks and waits (start of a new interval). */
void offcpu_reset(struct offcpu *oc);

/*
 * Is G, in this snapshot, still the wait PREV of the previous one? The
 * same goroutine, status, reason and pc at the same stack depth, and it
 * did not run in between (g.trackingSeq unchanged; without it, H, the hash
 * of its stack's top, unchanged or unknown).
 */
bool offcpu_same_wait(const struct offcpu_gst *prev, const struct gsample_g *g, uint64_t h);

/* Distinct goroutines that spent time on stack I. */
uint64_t offcpu_stack_goroutines(const struct offcpu *oc, uint32_t i);

#endif
