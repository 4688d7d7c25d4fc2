/*
 * report/syscalls: the formatters of `goscope syscalls`: the per-window
 * table (user goroutines' calls first, the runtime's own calls on
 * goroutine 0 apart), its --hist histograms, JSON lines, and the lines of
 * slow calls and rule alerts with their Go stacks.
 */
#ifndef GOSCOPE_REPORT_SYSCALLS_H
#define GOSCOPE_REPORT_SYSCALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../collect/sysstat.h"

struct jsonw;
struct target;

/* One window of statistics and what to print about it. */
struct syscalls_report {
	struct sysstat_row *rows;        /* sorted by syscalls_report_sort */
	size_t nrows;
	const struct sysstat_err *errs;
	size_t nerrs;
	double secs;                     /* the window's length */
	double interval_end;             /* wall-clock end (JSON), 0: not printed */
	uint64_t drops[SC_DROP_MAX];
	uint64_t alerts;                 /* alerts so far */
	struct target *const *targets;   /* for the header */
	size_t ntargets;
	int by;                          /* SC_BY_* */
	bool hist;                       /* --hist */
	size_t top;                      /* rows per section */
	const char *rules_path;          /* --rules FILE, or NULL */
	struct sysstat_sampling samp;    /* how the figures were obtained */
};

/* User goroutines' rows first, then goroutine 0's; each by total time. */
void syscalls_report_sort(struct sysstat_row *rows, size_t n);

/* The window as tables: the user's calls, then "runtime (goroutine 0)". */
void syscalls_print_table(FILE *out, const struct syscalls_report *r);

/* The window as JSON lines: one object per row, then a summary object. */
void syscalls_print_json(struct jsonw *w, const struct syscalls_report *r);

/*
 * A slow call or a rule alert (C decoded by sysstat_decode) of target T
 * (may be NULL: no symbols): a paragraph with its stack on OUT, or one
 * JSON object when W is not NULL.
 */
void syscalls_print_call(FILE *out, struct jsonw *w, const struct sysstat_call *c,
			 const struct target *t, const char *rules_path);

/* A rate rule broken in the window: a line on OUT, or a JSON object on W. */
void syscalls_print_rate_alert(FILE *out, struct jsonw *w, const struct sysstat_rate_alert *a);

#endif
