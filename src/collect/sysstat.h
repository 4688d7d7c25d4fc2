/*
 * sysstat: per-syscall counts, errors and latency histograms of chosen
 * processes, aggregated in the kernel by syscalls.bpf.c (raw_syscalls
 * tracepoints), and the slow-call / network events it streams, decoded
 * (the fd an event's call used, its address) and checked against the
 * network rules.
 */
#ifndef GOSCOPE_SYSSTAT_H
#define GOSCOPE_SYSSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../bpf/syscalls.h"
#include "../proc/fdinfo.h"
#include "hist.h"
#include "netrules.h"

struct sysstat;

struct sysstat_opts {
	int by;              /* SC_BY_NONE, SC_BY_TID, SC_BY_GOID */
	uint64_t slow_ns;    /* stream calls at least this slow (0: none) */
	bool net_events;     /* stream the calls network rules check */
	const uint32_t *spec; /* argspec per syscall number (SC_NR_MAX entries), or NULL */
	bool filter;         /* trace only numbers whose spec has SC_SPEC_TRACED */
	bool verbose;        /* libbpf's own log on stderr */
	/*
	 * Exactly one target (-p PID once) and by syscall: per-CPU array
	 * statistics, the cheapest per call. sysstat_add_pid then takes that
	 * one pid only.
	 */
	bool single;
	/*
	 * Sampled when 0 < DUTY < 1: the programs are attached only during
	 * windows of WINDOW_MS (default 100) placed at random in periods of
	 * WINDOW_MS / DUTY, and each read scales what they saw to the whole
	 * interval (sysstat_sampler_*). 0 (or >= 1): attached all the time.
	 * Events (slow_ns, net_events) need every call: not with sampling.
	 */
	double duty;
	unsigned window_ms;
	/*
	 * Sampled: a read of an interval with less than one window's worth of
	 * attached time (none, or a part of one: an estimate that would rest
	 * on a few ms) returns no rows and leaves the interval open, so that
	 * the next read covers both and scales what both saw by their wall /
	 * attached time (instead of by 0, or by a huge factor).
	 */
	bool carry_short;
};

/* How the last sysstat_read's figures were obtained. */
struct sysstat_sampling {
	bool sampled;         /* false: every call (exact) */
	double duty;          /* asked for */
	double wall_s;        /* the interval read */
	double traced_s;      /* of it, with the programs attached */
	double scale;         /* wall_s / traced_s: what counts were multiplied by */
	double window_s;      /* a window's length */
	unsigned windows;     /* windows (or parts of one) in the interval */
	bool carried;         /* carry_short: too little traced, the interval continues */
};

/* One aggregated (process, syscall, runtime-or-user, tid|goid) row. */
struct sysstat_row {
	uint32_t tgid;
	uint32_t nr;
	uint64_t id;
	bool idle;           /* goroutine 0: the runtime's own (SC_KEY_IDLE) */
	uint64_t count;
	uint64_t errors;
	uint64_t total_ns;
	uint64_t max_ns;
	struct hist h;
	/*
	 * Sampled: calls the programs saw (count is the estimate, scaled),
	 * and the estimated calls longer than a window (not timed: in h's
	 * bucket of the window's length).
	 */
	uint64_t seen;
	uint64_t untimed;
};

/* Errno counts of one row. */
struct sysstat_err {
	uint32_t tgid;
	uint32_t nr;
	uint64_t id;
	bool idle;
	int err;
	uint64_t count;
};

typedef void (*sysstat_event_fn)(const struct sc_event *e, void *arg);

/*
 * Load and attach the BPF programs. Returns 0, or -1 with a one-line
 * reason (missing BTF, privileges, ...) in ERR.
 */
int sysstat_open(struct sysstat **out, const struct sysstat_opts *o, sysstat_event_fn fn,
		 void *arg, char *err, size_t errlen);
void sysstat_close(struct sysstat *s);

/* Start or stop tracing process PID (GOID_OFF: goid offset in its g, or -1). */
int sysstat_add_pid(struct sysstat *s, pid_t pid, int goid_off);
int sysstat_remove_pid(struct sysstat *s, pid_t pid);

/* Deliver pending events (waits up to TIMEOUT_MS). Returns events or -1. */
int sysstat_poll(struct sysstat *s, int timeout_ms);

/* The descriptor that is readable when events are pending (for epoll). */
int sysstat_event_fd(const struct sysstat *s);

/*
 * Read the kernel's aggregates: rows and errno counts accumulated since
 * the previous call (deltas), into arrays owned by S (valid until the
 * next call).
 */
int sysstat_read(struct sysstat *s, struct sysstat_row **rows, size_t *nrows,
		 struct sysstat_err **errs, size_t *nerrs);

/*
 * The sampler (sysstat_opts.duty): a timer descriptor, readable when a
 * window opens or closes (-1 when not sampled); sysstat_sampler_start
 * opens the first window now; sysstat_sampler_tick, when the descriptor
 * is readable, opens or closes one. 0, or -1 (attach failed, errno).
 */
int sysstat_sampler_fd(const struct sysstat *s);
int sysstat_sampler_start(struct sysstat *s);
int sysstat_sampler_tick(struct sysstat *s);

/* How the figures of the last sysstat_read were obtained. */
void sysstat_sampling(const struct sysstat *s, struct sysstat_sampling *out);

/*
 * Sampled: the interval the next sysstat_read will cover, so far: its wall
 * time and the part of it with the programs attached (seconds). Both 0
 * when not sampled.
 */
void sysstat_sampling_now(const struct sysstat *s, double *wall_s, double *traced_s);

/* Events or entries the kernel side could not record, by enum sc_drop. */
uint64_t sysstat_drops(struct sysstat *s, int why);

/* "task storage" or "hash" (kernels before 5.11). */
const char *sysstat_start_store(const struct sysstat *s);

/*
 * Which arguments to decode per syscall and which calls may be the
 * runtime's (SC_SPEC_* bits) into SPEC[SC_NR_MAX], the defaults.
 */
void sysstat_default_spec(uint32_t *spec);

/*
 * -e LIST: syscall names and groups, comma-separated, marked
 * SC_SPEC_TRACED in SPEC. 0, or -1 with why in ERR.
 */
int sysstat_parse_list(const char *list, uint32_t *spec, char *err, size_t errlen);

/* An event decoded: its call's fd and address, and the rules' verdict. */
struct sysstat_call {
	const struct sc_event *e;
	char name[32];        /* the syscall's name */
	bool has_fd;          /* the call takes an fd and it still exists */
	struct fdinfo fi;     /* what that fd is (read when decoded) */
	char addr[200];       /* the call's address, "" if none */
	bool alert;           /* the rules forbid it */
	int verb;             /* enum netrules_verb of an alert, -1 if none */
	bool show;            /* a slow call or an alert: print it */
};

/*
 * Decode event E of process E->tgid: the fd (from /proc), the address and,
 * with RULES (may be NULL), whether it breaks them. SLOW_NS: the --slow
 * threshold (0: none), for network events that are slow too.
 */
void sysstat_decode(const struct sc_event *e, const struct netrules *rules, uint64_t slow_ns,
		    struct sysstat_call *c);

/* A rate rule a process broke in a window. */
struct sysstat_rate_alert {
	pid_t pid;
	const char *syscall;  /* the rule's */
	double rate_per_s;
	double limit_per_s;
};

/*
 * The rate rules of R broken by each of PIDS[0..NPIDS) in ROWS over SECS
 * seconds, into OUT (at most MAX). Returns how many.
 */
size_t sysstat_rate_alerts(const struct netrules *r, const struct sysstat_row *rows, size_t n,
			   const pid_t *pids, size_t npids, double secs,
			   struct sysstat_rate_alert *out, size_t max);

#endif
