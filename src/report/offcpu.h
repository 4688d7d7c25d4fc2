/*
 * report/offcpu: the formatters of `goscope offcpu` over what
 * collect/offcpu gathered: the top stacks as a table, folded stacks for
 * flamegraph.pl, JSON lines and a gzipped pprof profile.
 *
 * Stacks that print the same (the same frames reached at different pcs)
 * are one row in the table, the JSON and the folded output.
 */
#ifndef GOSCOPE_REPORT_OFFCPU_H
#define GOSCOPE_REPORT_OFFCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../collect/offcpu.h"

struct offcpu_fmt {
	const char *stack;  /* --stack: only stacks with a frame containing it */
	size_t top;         /* rows shown by the table */
	size_t depth;       /* frames shown per row by the table */
	bool multi;         /* name the process on each row (several, or discovery) */
	double seconds;     /* the window */
	double freq;        /* snapshots per second asked (-F) */
	double start_wall;  /* CLOCK_REALTIME seconds at the window's start (pprof) */
};

/* Snapshots taken per second of the window. */
double offcpu_achieved_rate(const struct offcpu *oc, const struct offcpu_fmt *f);

/* The table: a header, then the top rows by total time. */
void offcpu_print_top(FILE *out, const struct offcpu *oc, const struct offcpu_fmt *f);

/* flamegraph.pl input: "[exe (pid);]root;...;leaf;[reason] microseconds". */
void offcpu_print_folded(FILE *out, const struct offcpu *oc, const struct offcpu_fmt *f);

/*
 * JSON lines: one object per row (pid, reason, stack innermost first,
 * total_us, waits, goroutines, p50_us, p99_us, max_us), then a summary
 * object ("event": "summary") with seconds, snapshots, snapshots_per_s and
 * the drop counters.
 */
void offcpu_print_json(FILE *out, const struct offcpu *oc, const struct offcpu_fmt *f);

/*
 * pprof: a gzipped profile.proto at PATH (sample types waits/count and
 * delay/nanoseconds; a leaf pseudo-frame "[wait: REASON]"; labels reason,
 * goid and pid). 0, or -1 with the reason in ERR.
 */
int offcpu_write_pprof(const char *path, const struct offcpu *oc, const struct offcpu_fmt *f,
		       char *err, size_t errlen);

/* The pprof leaf of REASON into BUF, in a form `go tool pprof` keeps whole. */
const char *offcpu_pprof_leaf(const char *reason, char *buf, size_t len);

#endif
