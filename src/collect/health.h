/*
 * health: user side of health.bpf.c — run-queue delay, direct reclaim,
 * major faults with user stacks, OOM kills and TCP events (retransmits,
 * drops with the kernel's reason, state changes) of chosen processes.
 * Values are cumulative since health_open(); callers take differences.
 */
#ifndef GOSCOPE_HEALTH_H
#define GOSCOPE_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../bpf/health.h"
#include "hist.h"

struct health;

struct health_lat {
	uint64_t count;
	uint64_t total_ns;
	uint64_t max_ns;
	struct hist h;
};

/* The signals health_open attaches: a caller asks only for what it reports. */
enum {
	HEALTH_SIG_RUNQ = 1 << 0,
	HEALTH_SIG_RUNQ_THREADS = 1 << 1, /* also per-thread run-queue totals */
	HEALTH_SIG_RECLAIM = 1 << 2,
	HEALTH_SIG_FAULTS = 1 << 3, /* major-fault user stacks (perf events) */
	HEALTH_SIG_OOM = 1 << 4,
	HEALTH_SIG_TCP_RETRANS = 1 << 5,
	HEALTH_SIG_TCP_DROPS = 1 << 6,
	HEALTH_SIG_TCP_STATES = 1 << 7,
	HEALTH_SIG_ALL = 0xff,
};

/*
 * Load and attach the signals in SIGS that the kernel allows. Returns 0
 * (MISSING then names the signals that could not be attached, "" if none),
 * or -1 with a one-line reason in ERR when nothing can work (no BTF, no
 * privileges).
 */
int health_open(struct health **out, unsigned sigs, bool verbose, char *missing,
		size_t missinglen, char *err, size_t errlen);
void health_close(struct health *h);

int health_add_pid(struct health *h, pid_t pid);
/* Stop tracing PID and forget what was counted for it. */
void health_remove_pid(struct health *h, pid_t pid);

/* Run-queue delay of PID's threads; false if none was recorded. */
bool health_runq(struct health *h, pid_t pid, struct health_lat *l);
/* Per-thread run-queue delay: calls FN for each thread of PID. */
void health_runq_threads(struct health *h, pid_t pid,
			 void (*fn)(uint32_t tid, uint64_t count, uint64_t total_ns, void *arg),
			 void *arg);
bool health_reclaim(struct health *h, pid_t pid, struct health_lat *l);

/* Major faults of PID by user stack: FN gets the stack (may be empty). */
uint64_t health_faults(struct health *h, pid_t pid,
		       void (*fn)(const uint64_t *ips, int n, uint64_t count, void *arg),
		       void *arg);
uint64_t health_ooms(struct health *h, pid_t pid);

/* Every TCP event counted so far, by socket inode. */
void health_tcp_each(struct health *h,
		     void (*fn)(const struct hl_tcp_key *k, const struct hl_tcp_val *v, void *arg),
		     void *arg);

/*
 * The TCP map is host-wide (its events mostly fire in softirq context, so
 * they are matched to processes by socket inode afterwards) and bounded.
 * health_tcp_sweep keeps it from filling up in long runs: FATE says for
 * each entry whose it is — KEEP (a counted process holds the socket; leave
 * it), TAKE (hand its count to TAKE_FN and delete it; the read and the
 * delete are one operation where the kernel allows) or STRAY (no counted
 * process holds it). A stray entry is deleted once sweeps have found it
 * stray for 5 s, so a socket opened after the caller's fd scan, or owned
 * by a process the caller has not discovered yet, is not lost. Returns the
 * number of entries deleted.
 */
enum health_tcp_fate { HEALTH_TCP_KEEP, HEALTH_TCP_TAKE, HEALTH_TCP_STRAY };
size_t health_tcp_sweep(struct health *h,
			enum health_tcp_fate (*fate)(const struct hl_tcp_key *k, void *arg),
			void (*take_fn)(const struct hl_tcp_key *k, const struct hl_tcp_val *v,
					void *arg),
			void *arg);

/* The kernel's name of skb drop reason R ("SOCKET_RCVBUFF"), from BTF. */
const char *health_drop_reason(struct health *h, unsigned r);

uint64_t health_drops(struct health *h, int why);

#endif
