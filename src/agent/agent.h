/*
 * agent: the always-on node agent's state and what it does each interval.
 * Every Go process on the host (and the ones started later: the session
 * rediscovers) gets the cheap collectors — kernel-aggregated syscall
 * statistics, health signals, goroutine counts and sampled blocking by
 * reason, the garbage collector's cycles and pauses — whose figures are accumulated into counters that only grow,
 * rendered as Prometheus text (metrics.c) and optionally JSON lines.
 *
 * Label cardinality is bounded by design: pid, exe and go_version on every
 * series, plus syscall / errno / reason; never goroutine ids, stacks or
 * addresses. Memory is bounded by --max-processes.
 */
#ifndef GOSCOPE_AGENT_H
#define GOSCOPE_AGENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../bpf/syscalls.h"
#include "../collect/gc.h"
#include "../collect/leaks.h"
#include "../collect/offcpu.h"
#include "../output/jsonw.h"
#include "../proc/cgroup.h"
#include "../proc/fdinfo.h"
#include "config.h"

struct session;
struct target;
struct promtext;
struct agent_lat;

#define AGENT_MAX_REASONS 64
#define AGENT_MAX_SITES 5     /* goscope_goroutine_growth: the top creation sites */
#define AGENT_NSTATES 10      /* goroutine states, as names_gstatus names them */
#define AGENT_MAX_ERRNOS 64
#define AGENT_MAX_STW 24      /* goscope_stw_pauses_total: reasons a process */

/* goscope_gc_pause_seconds{phase}. */
enum agent_gc_phase { AGENT_GC_SWEEP_TERM, AGENT_GC_MARK_TERM, AGENT_GC_OTHER, AGENT_GC_NPHASES };
extern const char *const agent_gc_phase_names[AGENT_GC_NPHASES];

/* Prometheus histogram bounds for syscall durations, in seconds. */
#define AGENT_NLE 14
extern const double agent_le[AGENT_NLE];

struct agent_sys {
	uint64_t count;
	uint64_t errors;
	double seconds;
	uint64_t le[AGENT_NLE]; /* cumulative counts <= agent_le[i] */
};

/*
 * One syscall's counters. Sampled, each collection adds its estimate of
 * the interval (what the windows saw, scaled by wall / attached time):
 * doubles, so that the exported counters only grow and lose no fraction.
 */
struct agent_sc {
	double count;
	double errors;
	double seconds;
	double le[AGENT_NLE];   /* cumulative counts <= agent_le[i], each <= count */
};

struct agent_errno {
	uint32_t nr;
	int err;
	double count;
};

struct agent_reason {
	char name[64];
	double seconds;
};

/* One tracked process (the target's priv). */
struct agent_proc {
	struct target *t;
	double tracked_since; /* CLOCK_REALTIME seconds: its counters start here */
	char exe[64];        /* base name, valid UTF-8 */
	char go_version[32];
	struct offcpu oc;    /* reason-only goroutine sampling, this process alone */
	bool oc_ok;
	struct agent_sc *sys;  /* SC_NR_MAX entries, allocated on first syscall */
	/*
	 * Sampled syscalls: the part of the current interval (wall, attached
	 * seconds) before the process was added, which its first collection
	 * leaves out of its scale.
	 */
	bool sc_joined;
	double sc_pre_wall, sc_pre_traced;
	struct agent_errno errnos[AGENT_MAX_ERRNOS];
	size_t nerrnos;
	struct agent_reason reasons[AGENT_MAX_REASONS];
	size_t nreasons;
	uint64_t goroutines;
	struct leaks *lk;      /* goroutines by state and creation site */
	uint64_t gstates[AGENT_NSTATES];
	struct {
		char site[128]; /* the function of the go statement */
		double growth;  /* goroutines per second over the last interval */
	} growth[AGENT_MAX_SITES];
	size_t ngrowth;
	uint64_t open_fds;
	struct fdinfo_inodes inodes;
	uint64_t tcp_retrans;
	struct cgroup_stat cg;
	uint64_t majflt;
	double runq_seconds;
	/* The GC (collect/gc: cycle and pause events, a few a cycle). */
	bool gc_ok;               /* its probes are attached */
	bool gc_has_heap;         /* heap goal and live read from the runtime */
	bool gc_has_cpu;          /* the runtime's assist CPU read */
	uint64_t gc_cycles;       /* cycles ended since the agent attached */
	uint64_t gc_heap_goal, gc_heap_live; /* at the last cycle */
	double gc_assist_seconds; /* gcController.assistTime summed over the cycles */
	struct agent_sys gc_pause[AGENT_GC_NPHASES]; /* count, seconds, le[] */
	struct {
		char reason[48];
		uint64_t count;
	} stw[AGENT_MAX_STW];
	size_t nstw;
};

struct agent {
	const struct agent_config *cfg;
	struct sysstat *ss;
	struct health *h;
	struct gc_collector *gc;
	struct session *sess;       /* for the GC callbacks (agent_start) */
	FILE *jl;
	struct jsonw jw;
	size_t ntracked;
	uint64_t last_sample_ns;
	uint64_t dropped_processes; /* not tracked: --max-processes reached */
	uint64_t untraceable;       /* Go processes that could not be traced */
	uint64_t offcpu_torn;
	uint64_t scrapes;           /* requests for /metrics served (http.c) */
	pid_t skipped[1024];        /* not tracked, counted once each */
	size_t nskipped;
	struct agent_lat *lat;       /* funclat/http probes (agent/latency.c), or NULL */
	/* The syscalls collector's sampling (1 and the wall time when exact). */
	bool sc_sampled;
	double sc_duty;              /* attached / wall over the last collection */
	double sc_traced_s;          /* seconds attached, summed */
	uint64_t sc_last_ns;         /* the last collection (session_now) */
};

/* Open the configured collectors (a missing one is said and skipped). */
int agent_open(struct agent *a, const struct agent_config *cfg, char *err, size_t errlen);
void agent_close(struct agent *a);

/* The session has started: watch the collectors' ring buffers. 0 or -1. */
int agent_start(struct agent *a, struct session *s);

/* Session callbacks: start tracking T (-1: not wanted or not traceable). */
int agent_take(struct agent *a, struct target *t, char *err, size_t errlen);
void agent_drop(struct agent *a, struct target *t);
void agent_skipped(struct agent *a, pid_t pid);

/* One goroutine snapshot of every tracked process. */
void agent_sample(struct agent *a, struct session *s);

/* Read every collector into the per-process counters. */
void agent_collect(struct agent *a, struct session *s);

/* The exposition (metrics.c) and the JSON lines of the current counters. */
void agent_render(struct agent *a, struct session *s, struct promtext *pt);
void agent_json(struct agent *a, struct session *s);

/*
 * Fold a log-linear histogram of nanoseconds into cumulative counts under
 * the agent_le bounds (a bucket counts under a bound its upper edge does
 * not exceed).
 */
struct hist;
void agent_le_add(uint64_t le[AGENT_NLE], const struct hist *h);

/*
 * Add one collection's row to Y: COUNT calls (an estimate when sampled),
 * ERRORS failed, SECONDS in them, H their latency histogram (its total may
 * differ from COUNT when sampled: only its shape is used, scaled to COUNT),
 * all multiplied by F.
 */
void agent_sc_add(struct agent_sc *y, double count, double errors, double seconds,
		  const struct hist *h, double f);

/* Replace bytes that are not valid UTF-8 by '?' (label values). */
void agent_utf8(char *s);

#endif
