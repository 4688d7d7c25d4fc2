/*
 * funclat: latency of chosen Go functions of running processes (the
 * collector of `goscope funclat`): glob patterns resolved against each
 * target's pclntab, entry and RET uprobes attached through collect/uprobe,
 * calls timed per goroutine in the kernel (bpf/funclat.bpf.c), read into a
 * plain report per window; slow calls streamed as events.
 */
#ifndef GOSCOPE_COLLECT_FUNCLAT_H
#define GOSCOPE_COLLECT_FUNCLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hist.h"

struct gobin;
struct target;

/*
 * What one probe hit costs the target, for the estimate of goscope's own
 * cost: the breakpoint trap, the uprobe handler, the BPF program and the
 * out-of-line step. Measured on the 2-core test machine (kernel 6.18, a
 * VM; bench/RESULTS.md, funclat): 11 us per hit in a Go loop calling a
 * 3-instruction function (22 us of CPU per call with its entry and RET
 * probed, getrusage), 17-20 us per hit on a saturated HTTP server (its CPU
 * time per request, bpftrace's entry uprobe alike): 15 us.
 */
#define FUNCLAT_HIT_COST_NS 15000.0

#define FUNCLAT_NARGS 6
#define FUNCLAT_MAX_PCS 72
#define FUNCLAT_INFLIGHT 32 /* = FL_INFLIGHT */

struct funclat_config {
	char *const *patterns; /* fnmatch globs over function names */
	size_t npatterns;
	long long max_funcs;   /* refuse more matches than this per target */
	bool force;            /* ... unless forced */
	double slow_ms;        /* > 0: an event per call at least this long */
	bool args;             /* keep the integer argument registers for events */
	long long sample;      /* time one call in SAMPLE (>= 1) */
	bool http;             /* the functions are net/http.serverHandler.ServeHTTP:
				  time per route too (Go >= 1.17) */
	bool watch;            /* keep the goroutines with a call in flight in a map
				  (funclat_watched_fd) for `goscope why` */
	bool partial;          /* the agent: a pattern matching nothing in a target is
				  skipped (an error only when none matches) */
	bool recycle;          /* the agent: a detached target's functions and routes
				  are forgotten once read (their slots reused) */
};

/* What a target's patterns matched, for the line printed before attaching. */
struct funclat_match {
	size_t nfuncs;
	size_t nsites;        /* uprobes: entries + RETs + tail jumps */
	size_t noret;         /* functions skipped: no RET (never return) */
	const char *first;    /* a matched name (for a one-function message) */
	const char *status_src; /* http: where the response layout comes from
				   ("dwarf", "table"), NULL: status codes not read */
};

/* One function of one target over a window. */
struct funclat_func_report {
	pid_t pid;
	const char *target;   /* the executable's base name */
	const char *name;
	uint64_t calls;       /* entries */
	uint64_t timed;       /* calls with entry and RET seen */
	uint64_t total_ns;    /* of the timed calls */
	uint64_t unwound;     /* left by a panic or Goexit, not a RET */
	struct hist h;        /* durations of the timed calls; max exact */
};

struct funclat_report {
	double seconds;
	struct funclat_func_report *f;
	size_t n;
	uint64_t hits;        /* probe hits (entries and exits) */
	double hits_per_s;
	double est_cpu;       /* estimated target CPU the probes took, cores */
	uint64_t drops;       /* events lost + calls not timed (maps full) */
	uint64_t drop_events, drop_inflight, drop_gstate, drop_routes;
	uint64_t drop_status;  /* http: statuses not counted ((route, status) table full) */
	uint64_t status_bad;   /* http: a response whose layout did not check out (unknown) */
	long long sample;
};

#define FUNCLAT_METHOD 8
#define FUNCLAT_PATH 64

/*
 * Response status codes: 100..999, or one of these (the request was
 * counted, its status is not known: an HTTP/2 or wrapped writer, a
 * response whose layout did not check out, or the handler wrote no header:
 * net/http then sends 200 unless the connection was hijacked).
 */
#define FUNCLAT_STATUS_UNKNOWN 0
#define FUNCLAT_STATUS_NONE 1
#define FUNCLAT_STATUS_OTHER 3 /* past FUNCLAT_NSTATUS distinct codes of a route */
#define FUNCLAT_NSTATUS 12

struct funclat_status {
	uint32_t code;
	uint64_t count;
};

/* "200", "unknown", "none" or "other" into BUF. */
const char *funclat_status_name(uint32_t code, char *buf, size_t len);

/* One HTTP route (method and URL path, cut at 63 bytes) over a window. */
struct funclat_route_report {
	pid_t pid;
	char method[FUNCLAT_METHOD];
	char path[FUNCLAT_PATH];  /* "(other)": the routes past the kernel's bound */
	uint64_t count;
	uint64_t total_ns;
	struct hist h;
	struct funclat_status status[FUNCLAT_NSTATUS]; /* by code */
	size_t nstatus;
};

/* Add COUNT requests of status CODE to R (past FUNCLAT_NSTATUS codes: "other"). */
void funclat_route_add_status(struct funclat_route_report *r, uint32_t code, uint64_t count);

struct funclat_routes {
	double seconds;
	struct funclat_route_report *r; /* by count, then total time */
	size_t n;
};

/* A slow call, as it happened. */
struct funclat_event {
	pid_t pid, tid;
	uint64_t goid;
	uint64_t g;           /* its runtime.g */
	uint64_t start_ns;    /* CLOCK_MONOTONIC: the call's entry */
	const char *func;
	const char *target;
	uint64_t dur_ns;
	bool has_args;
	uint64_t args[FUNCLAT_NARGS];
	char method[FUNCLAT_METHOD]; /* http: the request ("" otherwise) */
	char path[FUNCLAT_PATH];
	uint32_t status;      /* http: the response status (FUNCLAT_STATUS_* if not known) */
	struct gobin *gb;     /* to symbolize pcs (the target's) */
	uint64_t bias;
	uint64_t pcs[FUNCLAT_MAX_PCS]; /* pcs[0] the RET's pc, then return addresses */
	size_t npcs;
};

typedef void (*funclat_event_fn)(const struct funclat_event *e, void *arg);

struct funclat;

/*
 * Check the kernel and load the BPF program (no probe yet). NULL with the
 * reason in ERR.
 */
struct funclat *funclat_open(const struct funclat_config *c, bool verbose, char *err,
			     size_t errlen);

/*
 * Resolve the patterns in T's binary into M (M->nfuncs 0: nothing to
 * probe). -1 with the one-line reason in ERR when a pattern matches no
 * function (the closest names are suggested; an inlined-everywhere
 * function is said to be one), when every match has no RET, or when more
 * than max_funcs match without force.
 */
int funclat_resolve(struct funclat *fl, struct target *t, struct funclat_match *m, char *err,
		    size_t errlen);

/* Attach the probes of what funclat_resolve found for T. 0, or -1 with ERR. */
int funclat_attach(struct funclat *fl, struct target *t, char *err, size_t errlen);

/* T is gone: detach its probes (its counts stay in the reports). */
void funclat_detach(struct funclat *fl, struct target *t);

/*
 * With config.watch: the BPF map of the goroutines with a call in flight
 * (key struct fl_gkey, value struct fl_watch of bpf/funclat.h).
 */
int funclat_watched_fd(const struct funclat *fl);

/* The ring buffer's epoll fd (slow-call events). */
int funclat_events_fd(const struct funclat *fl);

/* Deliver the pending events to FN. 0, or -1 on a ring buffer error. */
int funclat_poll(struct funclat *fl, funclat_event_fn fn, void *arg);

/*
 * Forget the calls in flight of goroutines that exited without returning
 * (runtime.Goexit): counted as unwound. Call every few seconds.
 */
void funclat_sweep(struct funclat *fl);

/*
 * The window since the previous read (SECONDS long) into R, functions
 * sorted by total time. Free with funclat_report_free(). 0, or -1 (memory).
 */
int funclat_read(struct funclat *fl, double seconds, struct funclat_report *r);
void funclat_report_free(struct funclat_report *r);

/*
 * Start the window now: the next funclat_read (and funclat_read_routes)
 * counts from here, not what the probes saw while the later ones were
 * still being attached (seconds on a busy machine, for many sites).
 * 0, or -1 (memory).
 */
int funclat_mark(struct funclat *fl);

/*
 * http: the routes' window since the previous call into R (free with
 * funclat_routes_free). 0, or -1 (memory).
 */
int funclat_read_routes(struct funclat *fl, double seconds, struct funclat_routes *r);
void funclat_routes_free(struct funclat_routes *r);

/*
 * goscope's own cost: call funclat_cost_begin() when the probes are in,
 * then funclat_cost_check() after a short while. True (and a sentence in
 * MSG) when the probe hits are estimated to take more than
 * FUNCLAT_COST_WARN of the target's CPU time.
 */
#define FUNCLAT_COST_WARN 0.03
void funclat_cost_begin(struct funclat *fl, double now_s);
bool funclat_cost_check(struct funclat *fl, double now_s, char *msg, size_t len);

void funclat_close(struct funclat *fl);

#endif
