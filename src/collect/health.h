/*
 * health: user side of health.bpf.c — run-queue delay, direct reclaim,
 * major faults with user stacks, OOM kills and TCP events (retransmits,
 * drops with the kernel's reason, state changes) of chosen processes.
 *
 * Two layers. The map readers (health_runq, health_faults, health_tcp_*,
 * ...) give values cumulative since health_open(): the agent takes its own
 * differences. struct health_target follows one process over windows and
 * fills a plain struct health_report per window with everything the health
 * command shows: the BPF figures, the kernel's own counters from /proc and
 * cgroupfs (schedstat, majflt, cpu.stat, memory, RSS, fds) and the
 * process's GOMAXPROCS. Verdicts are collect/verdict.c's, formatting
 * report/health.c's.
 */
#ifndef GOSCOPE_HEALTH_H
#define GOSCOPE_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../bpf/health.h"
#include "../proc/cgroup.h"
#include "hist.h"

struct health;
struct gobin;

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

/* Resident memory of PID (VmRSS of /proc/PID/status) in bytes. */
bool health_rss(pid_t pid, uint64_t *bytes);

/* ---- one process over windows (the health command) ---- */

#define HEALTH_TOP_THREADS 3
#define HEALTH_REPORT_REASONS 32

struct health_thread {
	uint32_t tid;
	uint64_t ns;
};

struct health_reason {
	const char *name; /* the kernel's name, valid while the health is open */
	uint64_t count;
};

/* What one process did over one window. */
struct health_report {
	pid_t pid;
	bool exited;          /* gone before the window's end: /proc figures are its last */
	double seconds;

	/* scheduler: run-queue delay (BPF) and the kernel's schedstat */
	bool runq_measured;   /* the sched programs are attached */
	uint64_t runq_ns, runq_waits, runq_p99_ns, runq_max_ns;
	uint64_t schedstat_ns;
	size_t runq_threads;  /* threads that waited */
	struct health_thread top_threads[HEALTH_TOP_THREADS];

	/* cpu quota: the cgroup at the window's end and its cpu.stat deltas */
	struct cgroup_stat cg;
	uint64_t cfs_periods, cfs_throttled, cfs_throttled_us;
	int gomaxprocs;       /* runtime.gomaxprocs, 0 if unknown */

	/* tcp: events on the process's sockets */
	uint64_t tcp_retrans, tcp_rcvq_drops, tcp_listen_overflows, tcp_other_drops;
	uint64_t tcp_states;
	uint64_t tcp_top_count; /* the connection with the most retransmits */
	struct hl_tcp_val tcp_top;
	unsigned tcp_top_state;
	struct health_reason reasons[HEALTH_REPORT_REASONS];
	size_t nreasons;

	/* memory */
	bool faults_traced;   /* major faults counted by the perf event program */
	uint64_t faults_bpf, majflt_proc;
	uint64_t fault_stack[HL_STACK_DEPTH]; /* the stack with the most faults */
	size_t fault_stack_n;
	uint64_t fault_stack_count;
	uint64_t reclaim_ns, reclaims, ooms;
	bool rss_known;
	uint64_t rss_bytes;

	/* fds: sampled 4 times a second over the window */
	int fd_count;         /* -1: the process is gone */
	int fd_kinds[4];      /* socket, file, pipe, other */
	size_t fd_samples;
	int fd_first, fd_last;
	bool fd_only_grew;    /* no sample below the one before */
	double fd_growth_per_s; /* least-squares slope */
	uint64_t system_files, system_files_max; /* fs.file-nr */
};

struct health_target;

/*
 * Follow PID (running GB loaded at BIAS; GB may be NULL) from now: adds it
 * to the BPF filters and takes the window's first snapshot. NULL when out
 * of memory.
 */
struct health_target *health_target_new(struct health *h, pid_t pid, struct gobin *gb,
					 uint64_t bias);
/* Start the window again from now (the session's window opened). */
void health_target_rebase(struct health_target *t);
/* The 4 Hz sample: fd count and kinds, socket inodes, the /proc counters. */
void health_target_sample(struct health_target *t);
/* The process is gone: later reports keep its last /proc figures. */
void health_target_exited(struct health_target *t);
/* Fill R with the window since the last report (or the start); the next starts now. */
void health_target_report(struct health_target *t, struct health_report *r);
/* Stop following; FORGET: also take its pid out of the BPF filters (not when
 * another target, the image an exec started, has the same pid). */
void health_target_free(struct health_target *t, bool forget);

/* Sweep the TCP map for the health command: entries no followed process holds are strays. */
size_t health_tcp_sweep_targets(struct health *h);

#endif
