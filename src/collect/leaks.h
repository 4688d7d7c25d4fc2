/*
 * leaks: goroutines grouped by where they were created (the `go`
 * statement: g.gopc) and where they are stuck (their stack and wait
 * reason), followed over a window of snapshots to tell a leak (a group
 * that only grows, its goroutines parked) from a steady pool.
 *
 * Sampling only: each snapshot reads runtime.allgs and every g through
 * process_vm_readv (collect/gsample.h), never stopping the target, and
 * unwinds only the goroutines that moved since the previous snapshot.
 * How long a goroutine has waited is measured from when goscope first saw
 * it parked where it is (by goroutine id, pc and sp): g.waitsince is not
 * kept up to date by gopark. Goroutines already parked at the first
 * snapshot have waited at least that long (wait_lower_bound).
 */
#ifndef GOSCOPE_LEAKS_H
#define GOSCOPE_LEAKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gsample.h"

#define LEAKS_DEPTH 32

/* One group in a report: a creation site, a state and a stack. */
struct leaks_row {
	size_t target;          /* index into leaks_report.targets */
	uint64_t gopc;          /* run-time pc of the go statement (0: none) */
	uint32_t status;        /* enum gsample_status */
	char reason[64];        /* wait reason ("" when not parked) */
	uint64_t pcs[LEAKS_DEPTH];
	int depth;              /* 0: no stack (running) */
	uint32_t count, count_start, count_min, count_max;
	double growth_per_s;    /* least squares over the window's snapshots */
	uint32_t left;          /* goroutines that left the group in the window */
	uint64_t oldest_wait_ns, median_wait_ns;
	bool wait_lower_bound;  /* the oldest was already waiting at the first snapshot */
	uint64_t wait_object;   /* the channel all of them wait on, 0 if none or several */
	uint32_t wait_objects;  /* distinct channels waited on */
	uint32_t grown_windows; /* consecutive windows (-i) this group was a suspect in */
	bool suspect;
};

struct leaks_report_target {
	pid_t pid;
	const char *name;
	struct gobin *gb;       /* borrowed: valid while the leaks object lives */
	uint64_t bias;
	uint32_t goroutines, goroutines_start;
	bool exited;
	const char *wait_offsets; /* "dwarf" / "table" ... */
};

struct leaks_report {
	double window_s;
	size_t snapshots;
	struct leaks_report_target *targets;
	size_t ntargets;
	struct leaks_row *rows; /* suspects first (by growth), then by count */
	size_t nrows, nsuspects;
	uint64_t torn;          /* stack reads discarded (goroutine moved while read) */
};

struct leaks;
struct leaks_target;

struct leaks *leaks_new(void);
void leaks_free(struct leaks *lk);

/*
 * Start following process PID (executable GB at BIAS, NAME borrowed).
 * Returns the target, or NULL with the reason in ERR.
 */
struct leaks_target *leaks_add(struct leaks *lk, pid_t pid, struct gobin *gb, uint64_t bias,
			       const char *name, char *err, size_t errlen);

/* T exited: keep what was collected for the report, read it no more. */
void leaks_remove(struct leaks *lk, struct leaks_target *t);

/* One snapshot of every live target at NOW_NS (monotonic). */
void leaks_sample(struct leaks *lk, uint64_t now_ns);

/*
 * The window since the previous report (or the start) as a report, then a
 * new window begins at the last snapshot. NULL when out of memory.
 */
struct leaks_report *leaks_report(struct leaks *lk, uint64_t now_ns);
void leaks_report_free(struct leaks_report *r);

/* Least-squares slope of Y over T (N points); 0 with fewer than 2. */
double leaks_slope(const double *t, const double *y, size_t n);

#endif
