/*
 * offcpu: where goroutines wait, aggregated by their own Go stack and the
 * runtime's reason, from periodic snapshots of every goroutine (gsample).
 *
 * A goroutine seen waiting at the same saved pc/sp in consecutive
 * snapshots is one wait; its time is the sum of the intervals it was seen
 * in. Total time per stack is accurate to the sampling interval; waits
 * shorter than the interval are seen in proportion to their length, so
 * counts and percentiles describe the waits the sampler saw.
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
	uint64_t gaddr, goid, pc, sp;
	uint32_t status;
	uint8_t waitreason;
	int32_t stack;   /* index into stacks; -1 none, -2 filtered out */
	uint32_t sg;     /* index into the (stack, goid) table */
	uint64_t wait_ns;
	uint64_t hash;   /* of the top of its stack: same pc/sp from another caller differs */
};

struct offcpu_target {
	pid_t pid;
	char exe[256];
	struct gobin *gb; /* owned */
	uint64_t bias;
	struct gsample gs;
	bool exited;
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
		uint32_t rid; /* its reason */
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
	uint64_t samples;
	uint64_t dropped_stacks; /* waits not recorded: stack table full */
	uint64_t torn;           /* stacks unreadable: goroutine moved while read */
};

void offcpu_init(struct offcpu *oc, const struct offcpu_opts *opts);
void offcpu_free(struct offcpu *oc);

/*
 * Add a target process; takes ownership of GB. Returns 0, or -1 with a
 * reason in ERR (GB is then freed).
 */
int offcpu_add_target(struct offcpu *oc, pid_t pid, struct gobin *gb, uint64_t bias,
		      const char *exe, char *err, size_t errlen);

/*
 * Take one snapshot of every live target and account DT_NS (the time
 * since the previous snapshot) to every waiting goroutine. Returns the
 * number of targets still alive.
 */
size_t offcpu_sample(struct offcpu *oc, uint64_t dt_ns);

/* Close every open wait (end of a window). */
void offcpu_flush(struct offcpu *oc);

/* Forget all stacks and waits (start of a new interval). */
void offcpu_reset(struct offcpu *oc);

/* Distinct goroutines that spent time on stack I. */
uint64_t offcpu_stack_goroutines(const struct offcpu *oc, uint32_t i);

#endif
