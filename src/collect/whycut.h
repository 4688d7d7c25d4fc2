/*
 * whycut: cut one call's wall time into parts that do not overlap and add
 * up to it, from what was seen of its goroutine: the states read every
 * tick (samples), its threads' time off CPU (kernel intervals, exact) and
 * the stop-the-world windows. A pure function of its input (collect/why
 * gathers the input; tests/unit/test_whycut.c checks the rules).
 *
 * The rules, in order, for every instant of [start, end):
 *  1. a kernel interval covers it: the thread was off CPU: its cause
 *     (runq, cfs_throttled, syscall:NAME, major_fault, kernel_sleep), and
 *     runq (cfs_throttled if its cgroup was throttled then) between the
 *     wakeup and the end of the interval; its last THR ns (the throttled
 *     time its CPU group accrued meanwhile) are cfs_throttled;
 *  2. else the nearest sample within reach: its state (the caller's label),
 *     with on_cpu and runnable turned into gc_stw inside a stop-the-world
 *     window, and runnable into cfs_throttled while a thread of the
 *     process was held by the CPU quota, or into runq while RQ_MIN of them
 *     (GOMAXPROCS: every P's thread) waited in the run queue at once. The goroutine is running at start and end (it executes the
 *     entry and the RET), as if sampled there. Two consecutive samples in
 *     the same state with the same transition counter (trackingSeq) cover
 *     all the time between them; otherwise they meet in the middle, each
 *     reaching at most REACH_NS: farther is
 *  3. unexplained.
 */
#ifndef GOSCOPE_COLLECT_WHYCUT_H
#define GOSCOPE_COLLECT_WHYCUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WHY_CAUSE_LEN 40
#define WHY_MAX_PARTS 24

struct why_part {
	char cause[WHY_CAUSE_LEN];
	uint64_t ns;
};

/* A run of one cause on the call's timeline (for --perfetto). */
struct why_seg {
	uint64_t start, end;
	uint16_t part; /* index in parts */
};

/* A thread's time off its CPU during the call (for --perfetto). */
struct why_koff {
	pid_t tid;
	uint64_t start, wake, end;
	char cause[WHY_CAUSE_LEN];
};

struct whycut_sample {
	uint64_t ts;
	uint8_t status, reason;
	int16_t seq;     /* trackingSeq, -1 unknown */
	uint32_t ep;     /* the caller's wait episode (1-based), 0 none */
};

struct whycut_kint {
	pid_t tid;
	uint32_t kind;   /* enum why_kind (bpf/why.h) */
	uint32_t wake_throttled;
	int64_t nr;      /* system call, -1 unknown */
	uint64_t start, wake, end; /* wake 0: none */
	uint64_t thr;    /* its last THR ns were held back by the CPU quota */
};

struct whycut_span {
	uint64_t start, end;
};

/* The cause of sampled state S into CAUSE (a wait's episode stays in S->ep). */
typedef void (*whycut_label_fn)(const struct whycut_sample *s, void *arg, char *cause,
				size_t len);

struct whycut_in {
	uint64_t start, end;
	uint64_t reach_ns;
	const struct whycut_sample *s; /* by time; those outside [start, end] are ignored */
	size_t ns;
	const struct whycut_kint *k;   /* any order; a goroutine's do not overlap */
	size_t nk;
	const struct whycut_span *stw;
	size_t nstw;
	const struct whycut_span *thr; /* the process's threads held by the CPU quota */
	size_t nthr;
	const struct whycut_span *rq;  /* ... preempted, waiting in the run queue */
	size_t nrq;
	size_t rq_min;                 /* runnable is runq when this many wait at once (GOMAXPROCS) */
	whycut_label_fn label;
	void *arg;
};

struct whycut_out {
	struct why_part parts[WHY_MAX_PARTS]; /* largest first after whycut() */
	size_t nparts;
	struct why_seg *segs;   /* malloc'd: free with whycut_free */
	size_t nsegs, capsegs;
	struct why_koff *koffs; /* malloc'd */
	size_t nkoffs, capkoffs;
	uint64_t samples;       /* samples inside the call */
	uint32_t longest_ep;    /* the longest single wait (its episode), 0 none */
	uint64_t longest_ep_ns;
	/* scratch */
	uint32_t cur_ep;
	uint64_t cur_ep_ns;
};

/* Cut IN into OUT (zeroed by the caller). 0, or -1 out of memory. */
int whycut(const struct whycut_in *in, struct whycut_out *out);
void whycut_free(struct whycut_out *out);

/* The part name of a kernel interval of KIND (and system call NR). */
const char *whycut_kind_cause(uint32_t kind, int64_t nr, char *buf, size_t len);
/*
 * The part name of a wait with the runtime's REASON: lock, chan, select,
 * io_wait, sleep, cond, waitgroup, gc_assist, or wait:REASON; semacquire
 * (every semaphore before Go 1.20) told apart by STACK_HINT, the wait's
 * function names joined by ';'.
 */
const char *whycut_wait_cause(const char *reason, const char *stack_hint, char *buf, size_t len);

#endif
