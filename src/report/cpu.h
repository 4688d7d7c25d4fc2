/*
 * cpu (report): what `goscope cpu` prints from a struct cpu_report: every
 * sample symbolized (Go frames from the pclntab with inlined frames,
 * kernel frames from kallsyms, native frames from ELF symbols or
 * lib+offset), then functions by flat and cumulative share with the
 * runtime's share and the hottest stacks (top), folded stacks for
 * flamegraph.pl, JSON lines, or a profile.proto for `go tool pprof`.
 */
#ifndef GOSCOPE_REPORT_CPU_H
#define GOSCOPE_REPORT_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../collect/cpu.h"

enum cpu_fmt { CPU_FMT_TOP, CPU_FMT_FOLDED, CPU_FMT_PPROF };

struct cpu_view_opts {
	enum cpu_fmt fmt;
	bool json;
	const char *func;   /* --func: only samples with a frame containing this */
	const char *out;    /* the pprof file */
	double seconds;     /* the window */
	double start_wall;  /* CLOCK_REALTIME at the start */
	size_t top;         /* functions shown (0: 30) */
	size_t stacks;      /* stacks shown (0: 10) */
};

/*
 * Print R to OUT (the pprof file: O->out) as O says. Returns 0, or -1
 * with a line printed (out of memory, the pprof file not written).
 */
int cpu_print(FILE *out, const struct cpu_report *r, const struct cpu_view_opts *o);

#endif
