/*
 * why: the anatomy of slow calls (the collector of `goscope why`).
 *
 * Calls are timed per goroutine by collect/funclat, which also keeps the
 * goroutines with a call in flight in a map. Only those goroutines are
 * watched: user space reads their runtime.g (status, wait reason,
 * transition counter) every tick in one batched process_vm_readv, and
 * unwinds each new wait once; the kernel (bpf/why.bpf.c) records exactly
 * when their threads leave and regain a CPU, and why (run queue, CPU
 * quota, system call, page fault); collect/gc gives the stop-the-world
 * windows. When a call ends at least --slow long, its wall time is cut
 * into non-overlapping parts that add up to it: the kernel's intervals
 * first (exact), then the world stopped, then the goroutine's sampled
 * states; time no sample or event explains is `unexplained`.
 */
#ifndef GOSCOPE_COLLECT_WHY_H
#define GOSCOPE_COLLECT_WHY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "funclat.h"
#include "whycut.h"

struct gobin;
struct target;

#define WHY_WAIT_PCS 32

struct why_config {
	struct funclat_config fl; /* patterns (or http) and slow_ms */
	double tick_ms;           /* sampling period of the watched goroutines */
	const char *route;        /* http: only requests whose path starts with this */
	bool verbose;
};

/* One slow call, cut into parts (largest first) that add up to wall_ns. */
struct why_call {
	pid_t pid;
	const char *target;
	const char *func;
	char method[FUNCLAT_METHOD], path[FUNCLAT_PATH]; /* http */
	uint64_t goid;
	uint64_t start_ns, wall_ns;
	struct why_part parts[WHY_MAX_PARTS];
	size_t nparts;
	uint64_t samples;           /* goroutine reads inside the call */
	uint64_t retrans;           /* TCP retransmits on the process's sockets during it */
	struct gobin *gb;           /* to symbolize (the target's) */
	uint64_t bias;
	const uint64_t *pcs;        /* the call's stack at its RET */
	size_t npcs;
	char wait_cause[WHY_CAUSE_LEN]; /* the longest wait, and where it waited */
	uint64_t wait_pcs[WHY_WAIT_PCS];
	size_t nwait_pcs;
	const struct why_seg *segs;
	size_t nsegs;
	const struct why_koff *koffs;
	size_t nkoffs;
};

typedef void (*why_call_fn)(const struct why_call *c, void *arg);

/* A cause over the window, for the verdict. */
struct why_cause {
	char cause[WHY_CAUSE_LEN];
	uint64_t ns;
	uint64_t calls_top; /* slow calls where it was the largest part */
	double share;       /* of all slow-call time */
	char evidence[400]; /* "" or a sentence: what points at it, what to do */
};

/* A stop-the-world window of a target (for --perfetto). */
struct why_stw {
	pid_t pid;
	uint64_t start, end;
	char reason[48];
};

struct why_verdict {
	double seconds;
	uint64_t slow_calls;
	uint64_t total_ns;
	double explained_share;
	struct why_cause *causes; /* ranked by time */
	size_t ncauses;
	uint64_t drops;           /* events or intervals lost, calls not timed */
	uint64_t ticks, ticks_late; /* sampling ticks, and those late by more than a tick */
	double tick_ms;
	const struct why_stw *stws;
	size_t nstws;
};

struct why;

/* Load the programs. NULL with the reason in ERR. */
struct why *why_open(const struct why_config *c, why_call_fn fn, void *arg, char *err,
		     size_t errlen);
/*
 * Resolve the patterns in T and attach (M: what matched, for the line
 * printed before). NOTE gets "" or the parts not measured in this target
 * (no GC probes, ...). 0, or -1 with the reason in ERR.
 */
int why_add_target(struct why *w, struct target *t, struct funclat_match *m, char *note,
		   size_t notelen, char *err, size_t errlen);
void why_remove_target(struct why *w, struct target *t);
/* The epoll fds to watch (slow calls, kernel intervals, GC); -1 ends the list. */
size_t why_fds(const struct why *w, int *fds, size_t max);
/* Consume everything pending; slow calls go to the callback. 0, or -1. */
int why_poll(struct why *w);
/* Read the watched goroutines (every tick_ms). */
void why_tick(struct why *w);
/* Every few seconds: forget goroutines that exited mid-call. */
void why_sweep(struct why *w);
/* The verdict over everything seen so far (free with why_verdict_free). 0, or -1. */
int why_verdict(struct why *w, double seconds, struct why_verdict *v);
void why_verdict_free(struct why_verdict *v);
void why_close(struct why *w);

#endif
