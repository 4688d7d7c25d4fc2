/*
 * report/gc: how `goscope gc` prints what collect/gc gathered: one line
 * (or JSON object) per GC cycle and per other stop-the-world pause as they
 * happen, and per window a summary (cycles per second, pause percentiles,
 * GC CPU, the largest assists, a verdict), the sampled allocations as a
 * table, folded stacks or a pprof heap profile.
 */
#ifndef GOSCOPE_REPORT_GC_H
#define GOSCOPE_REPORT_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../collect/gc.h"

struct target;

/* What a window's cycles and pauses add up to (filled as they happen). */
#define GC_SUM_MAX_PAUSES 65536
struct gc_summary {
	uint64_t cycles;
	uint64_t first_cycle, last_cycle;   /* the runtime's numbers, 0 unknown */
	uint64_t forced;
	uint64_t *pauses;                   /* GC pauses (ns), at most GC_SUM_MAX_PAUSES */
	size_t npauses;
	uint64_t other_pauses, other_pause_ns;
	uint64_t cpu_gc_ns;                 /* assist + background + idle + STW CPU */
	uint64_t cpu_assist_ns;
	bool has_cpu;
	int procs;
	uint64_t last_goal, last_live;
	bool has_heap;
};

void gc_summary_reset(struct gc_summary *s);
void gc_summary_free(struct gc_summary *s);
void gc_summary_cycle(struct gc_summary *s, const struct gc_cycle *c);
void gc_summary_stw(struct gc_summary *s, const struct gc_stw *p);

/* One text line or JSON object per cycle / per pause. T may be NULL. */
void gc_print_cycle(FILE *out, const struct gc_cycle *c, bool json, bool multi);
void gc_print_stw(FILE *out, const struct gc_stw *p, bool json, bool multi);

/* "GC is 18% of CPU; ..." into BUF: the one-line verdict. */
const char *gc_verdict(const struct gc_summary *s, double seconds, char *buf, size_t len);

enum gc_format { GC_FMT_TOP, GC_FMT_FOLDED, GC_FMT_PPROF };

/*
 * The window's summary (text or a JSON object with "event":"summary"),
 * with the assists and (if any) allocations of R. TARGETS symbolize.
 */
void gc_print_summary(FILE *out, const struct gc_summary *s, const struct gc_report *r,
		      struct target *const *targets, size_t ntargets, double seconds, bool json);

/* The sampled allocations as folded stacks (bytes), root first. */
void gc_print_allocs_folded(FILE *out, const struct gc_report *r, struct target *const *targets,
			    size_t ntargets);

/* The sampled allocations as a gzipped pprof heap profile at PATH. 0 or -1. */
int gc_write_allocs_pprof(const char *path, const struct gc_report *r,
			  struct target *const *targets, size_t ntargets, double seconds);

#endif
