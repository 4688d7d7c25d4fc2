/*
 * sysstat: per-syscall counts, errors and latency histograms of chosen
 * processes, aggregated in the kernel by syscalls.bpf.c (raw_syscalls
 * tracepoints), and the slow-call / network events it streams.
 */
#ifndef GOSCOPE_SYSSTAT_H
#define GOSCOPE_SYSSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../bpf/syscalls.h"
#include "hist.h"

struct sysstat;

struct sysstat_opts {
	int by;              /* SC_BY_NONE, SC_BY_TID, SC_BY_GOID */
	uint64_t slow_ns;    /* stream calls at least this slow (0: none) */
	bool net_events;     /* stream the calls network rules check */
	const uint32_t *spec; /* argspec per syscall number (SC_NR_MAX entries) */
	bool filter;         /* trace only numbers whose spec has SC_SPEC_TRACED */
	bool verbose;        /* libbpf's own log on stderr */
};

/* One aggregated (process, syscall, tid|goid) row. */
struct sysstat_row {
	uint32_t tgid;
	uint32_t nr;
	uint64_t id;
	uint64_t count;
	uint64_t errors;
	uint64_t total_ns;
	uint64_t max_ns;
	struct hist h;
};

/* Errno counts of one (process, syscall). */
struct sysstat_err {
	uint32_t tgid;
	uint32_t nr;
	uint64_t id;
	int err;
	uint64_t count;
};

typedef void (*sysstat_event_fn)(const struct sc_event *e, void *arg);

/*
 * Load and attach the BPF programs. Returns 0, or -1 with a one-line
 * reason (missing BTF, tracepoint, privileges, ...) in ERR.
 */
int sysstat_open(struct sysstat **out, const struct sysstat_opts *o, sysstat_event_fn fn,
		 void *arg, char *err, size_t errlen);
void sysstat_close(struct sysstat *s);

/* Start or stop tracing process PID (GOID_OFF: goid offset in its g, or -1). */
int sysstat_add_pid(struct sysstat *s, pid_t pid, int goid_off);
int sysstat_remove_pid(struct sysstat *s, pid_t pid);

/* Deliver pending events (waits up to TIMEOUT_MS). Returns events or -1. */
int sysstat_poll(struct sysstat *s, int timeout_ms);

/*
 * Read the kernel's aggregates: rows and errno counts accumulated since
 * the previous call (deltas), into arrays owned by S (valid until the
 * next call).
 */
int sysstat_read(struct sysstat *s, struct sysstat_row **rows, size_t *nrows,
		 struct sysstat_err **errs, size_t *nerrs);

/* Events or entries the kernel side could not record, by enum sc_drop. */
uint64_t sysstat_drops(struct sysstat *s, int why);

/* "task storage" or "hash" (kernels before 5.11). */
const char *sysstat_start_store(const struct sysstat *s);

#endif
