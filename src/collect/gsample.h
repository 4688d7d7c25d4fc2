/*
 * gsample: goroutine states read from outside a running Go process.
 *
 * A snapshot reads runtime.allgs and every goroutine's status, wait
 * reason and saved registers through process_vm_readv, without stopping
 * the process; a goroutine that is not running is unwound from its saved
 * pc/sp (g.sched, or g.syscallpc/sp in a system call) with the pclntab's
 * frame-size table, as the runtime's own traceback does.
 */
#ifndef GOSCOPE_GSAMPLE_H
#define GOSCOPE_GSAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../gobin/gobin.h"
#include "../gobin/goglobals.h"
#include "../gobin/gowait.h"
#include "../proc/procmem.h"

#define GSAMPLE_MAX_DEPTH 64
#define GSAMPLE_BATCH 1024            /* goroutines unwound per batched read (IOV_MAX) */
#define GSAMPLE_BATCH_STACK (8u << 10) /* stack bytes read per goroutine in a batch */

/* Go runtime goroutine states (runtime2.go), Gscan bit masked off. */
enum gsample_status {
	GS_IDLE = 0,
	GS_RUNNABLE = 1,
	GS_RUNNING = 2,
	GS_SYSCALL = 3,
	GS_WAITING = 4,
	GS_DEAD = 6,
	GS_COPYSTACK = 8,
	GS_PREEMPTED = 9,
};

struct gsample_g {
	uint64_t gaddr;
	uint64_t goid;
	uint32_t status;
	uint8_t waitreason;
	uint64_t m;      /* runtime.m pointer, 0 when on no thread */
	uint64_t pc, sp; /* where to unwind from */
	uint64_t stack_lo, stack_hi;
	/* Read only after gsample_extra() (0 otherwise). */
	uint64_t gopc;       /* pc of the go statement that created it */
	uint64_t startpc;    /* its function */
	uint64_t waiting;    /* first sudog of g.waiting (channels, select) */
	uint64_t parentgoid; /* 1.21+, else 0 */
	uint64_t depth;  /* stack_hi - sp: survives the runtime moving the stack */
	int seq;         /* g.trackingSeq (0..255), -1 when unknown (Go < 1.17) */
};

struct gsample {
	pid_t pid;
	struct gobin *gb; /* borrowed */
	uint64_t bias;
	uint64_t allgs;   /* run-time address of the allgs slice header */
	struct goglobals_waitreasons wr;
	struct procmem pm;
	size_t gsize;     /* bytes of runtime.g read per goroutine */
	/* Scratch buffers, grown as needed. */
	uint64_t *gptrs;
	size_t gptrs_cap;
	uint8_t *gbuf;
	bool *gok;
	size_t gbuf_cap;
	uint8_t *stackbuf;
	size_t stackbuf_cap;
	uint8_t *mbuf;  /* gsample_unwind_many: the batch's stacks */
	size_t mbuf_cap;
	uint8_t *gbuf2; /* gsample_unwind_many: the batch's g structs, read again */
	size_t gbuf2_cap;
	/* gsample_extra(): creation and wait fields of each g. */
	bool extra;
	struct gowait_offsets wo;
	uint64_t *sorted; /* the g pointers sorted, then the runs read */
	size_t sorted_cap;
	uint64_t *raddr;  /* one range per run of neighbouring g structs */
	size_t *rlen;
	uint8_t **rptr;
	bool *rok;
	size_t runs_cap;
	/* Counters. */
	uint64_t snapshots;
	uint64_t torn;      /* stacks discarded: the goroutine moved while read */
	uint64_t unreadable;
	uint64_t g_ranges;  /* ranges read for the g structs (after merging neighbours) */
};

/*
 * Prepare sampling of PID whose executable is GB loaded at BIAS. Returns
 * 0, or -1 with a one-line reason in ERR.
 */
int gsample_open(struct gsample *s, pid_t pid, struct gobin *gb, uint64_t bias, char *err,
		 size_t errlen);
void gsample_close(struct gsample *s);

/*
 * Read every goroutine: the allgs slice, then every g struct, neighbours
 * merged into one range (g structs come from the same spans), up to
 * IOV_MAX ranges per process_vm_readv. On success sets *gs to an array of *n entries
 * owned by S (valid until the next call) and returns 0; -1 if the process
 * could not be read (it exited).
 */
int gsample_snapshot(struct gsample *s, struct gsample_g **gs, size_t *n);

/*
 * Read the N goroutines at GPTRS (run-time g addresses) into OUT[i], in
 * one batched system call; OK[i] says whether g i was read. 0, or -1 out
 * of memory. Dead goroutines are returned too (their status says so).
 */
int gsample_read_at(struct gsample *s, const uint64_t *gptrs, size_t n, struct gsample_g *out,
		    bool *ok);

/*
 * Unwind goroutine G into PCS (run-time return addresses, innermost
 * first; PCS[0] is the pc it stopped at). Returns the depth, 0 if the
 * stack could not be read consistently.
 */
int gsample_unwind(struct gsample *s, const struct gsample_g *g, uint64_t *pcs, int max);

/*
 * Unwind the N goroutines GS[i] into rows of PCS (N x MAX), depths in
 * DEPTH: gsample_unwind for each, but with every stack read in one batched
 * system call and every g re-read in another, instead of two each.
 */
void gsample_unwind_many(struct gsample *s, const struct gsample_g *const *gs, size_t n,
			 uint64_t *pcs, int max, int *depth);

/*
 * Also read each g's creation site (gopc, startpc, parentGoid) and its
 * g.waiting sudog list head from now on. The offsets come from DWARF or
 * the release's table (gowait.h); on a table, startpc is checked on a
 * snapshot of the live process (it must be a function entry) and searched
 * for nearby when the check fails. Returns 0, or -1 with the reason in ERR
 * (the offsets could not be confirmed).
 */
int gsample_extra(struct gsample *s, char *err, size_t errlen);

/* gsample_open, then gsample_extra; on failure S is closed again. */
int gsample_open_extra(struct gsample *s, pid_t pid, struct gobin *gb, uint64_t bias, char *err,
		       size_t errlen);

/* The runtime's wait reason string for R ("" if unknown). */
const char *gsample_reason(const struct gsample *s, uint8_t r, size_t *len);

/* Thread id of the thread running M (runtime.m.procid), 0 if unknown. */
int gsample_tid(struct gsample *s, uint64_t m);

#endif
