/*
 * contention: parked goroutines grouped by the object they wait on,
 * sampled from outside (no probes: process_vm_readv only).
 *
 * - Channels: a goroutine parked in chan send/receive or select has its
 *   sudogs on g.waiting; sudog.c is the hchan, read for its capacity,
 *   length and closed flag. Senders and receivers are told by the wait
 *   reason (select: both kinds of case, counted apart).
 * - sync.Mutex, RWMutex, WaitGroup and runtime semaphores: the waiter's
 *   sudog is not on g.waiting but on the runtime's semaphore table
 *   (runtime.semtable: 251 semaRoots, each a treap of sudogs keyed by the
 *   semaphore address, sudog.elem, with the other waiters of the same
 *   address on its waitlink). Each snapshot reads the table and walks the
 *   treaps. The kind and the object's own address come from the waiter's
 *   stack: sync.(*Mutex).lockSlow waits on &m.sema (mutex at sema-4),
 *   sync.(*RWMutex).RLock on &rw.readerSem (rw at sema-12), the writer of
 *   RWMutex.Lock on &rw.writerSem (sema-8) or on its inner mutex (sema-4),
 *   WaitGroup.Wait on its semaphore, the word after its 64-bit state
 *   (WaitGroup at sema-8, 1.17+ on 64-bit).
 *   sync.Cond waiters sit on the cond's notifyList, reachable from neither:
 *   they are grouped by the call site of sync.(*Cond).Wait (address 0).
 *
 * Wait time per object: each snapshot adds the interval since the previous
 * one for every waiter seen in both, and half of it for a wait that starts
 * or ends between them (unbiased for waits longer than the interval).
 * Contentions: distinct waits seen (a goroutine that parks again at the
 * same place between two snapshots is one).
 */
#ifndef GOSCOPE_CONTENTION_H
#define GOSCOPE_CONTENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gsample.h"

#define CONTENTION_DEPTH 32
#define CONTENTION_STACKS 8 /* distinct waiter stacks kept per object */

enum contention_kind {
	CT_CHAN,
	CT_MUTEX,
	CT_RWMUTEX,
	CT_WAITGROUP,
	CT_SEMA,
	CT_COND,
	CT_NKINDS,
};

const char *contention_kind_name(enum contention_kind k);

struct contention_stack {
	uint64_t pcs[CONTENTION_DEPTH];
	int depth;
	uint64_t wait_ns, contentions;
};

struct contention_object {
	size_t target;
	enum contention_kind kind;
	uint64_t addr;        /* the object: hchan, sync.Mutex, RWMutex; else the semaphore */
	uint64_t sema;        /* the semaphore address (sudog.elem), 0 for channels */
	uint64_t key;         /* what waiters are grouped by: hchan, semaphore, or for
			       * sync.Cond the return address into Cond.Wait's caller */
	uint32_t waiters_cur, waiters_max;
	uint64_t waiters_sum; /* over snapshots: mean = sum / snapshots */
	uint64_t wait_ns, contentions;
	/* Channels, as last read. */
	bool chan_read;
	uint64_t chan_cap, chan_len;
	uint32_t chan_closed;
	uint16_t chan_elemsize;
	uint32_t senders_max, receivers_max, selects_max;
	uint32_t senders_cur, receivers_cur, selects_cur;
	struct contention_stack stacks[CONTENTION_STACKS];
	size_t nstacks;
	uint64_t other_wait_ns; /* waiters whose stack did not fit */
	/* --holders: who released the semaphore (contentions = releases). */
	struct contention_stack rel[CONTENTION_STACKS];
	size_t nrel;
	uint64_t releases;
};

struct contention_target {
	pid_t pid;
	const char *name;
	struct gobin *gb;
	uint64_t bias;
	struct gsample gs;
	bool alive;
	bool sema_ok;        /* semtable found: mutexes and semaphores are seen */
	char sema_why[160];  /* why not */
	uint64_t semtable;   /* run-time address */
	void *w;             /* waiters of the previous snapshot (contention.c) */
	size_t nw;
	uint64_t last_ns;
	uint64_t treap_bad;  /* treap nodes that did not point back to a parked g */
};

struct contention {
	struct contention_target **t;
	size_t nt;
	struct contention_object *obj;
	size_t nobj, objcap;
	uint32_t *oidx;      /* hash of (target, key) -> object index + 1 */
	size_t oidx_cap;
	uint64_t snapshots;
	uint64_t win_start_ns, win_end_ns;
};

void contention_init(struct contention *c);
void contention_free(struct contention *c);

/* Follow PID; NULL with the reason in ERR. Mutexes need runtime.semtable. */
struct contention_target *contention_add(struct contention *c, pid_t pid, struct gobin *gb,
					 uint64_t bias, const char *name, char *err,
					 size_t errlen);
void contention_remove(struct contention *c, struct contention_target *t);

/* One snapshot of every live target at NOW_NS (monotonic). */
void contention_sample(struct contention *c, uint64_t now_ns);

/*
 * Indexes of the objects with any wait in the window, the most waited-on
 * first (*N of them; caller frees). NULL on OOM.
 */
size_t *contention_rank(const struct contention *c, size_t *n);

/*
 * COUNT releases of semaphore SEMA in process PID by the stack PCS (return
 * addresses, innermost first): added to the object waiting on SEMA, if
 * any (--holders).
 */
void contention_add_release(struct contention *c, pid_t pid, uint64_t sema,
			    const uint64_t *pcs, int depth, uint64_t count);

/* Start a new window (objects and counters cleared, waiters kept). */
void contention_reset(struct contention *c, uint64_t now_ns);

#endif
