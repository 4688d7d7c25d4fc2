/*
 * report/why: the formatters of `goscope why`: each slow call's anatomy
 * (text with a bar per part, or one JSON line), the verdict over the
 * window (text or JSON), and the Perfetto timeline (Chrome trace-event
 * JSON that ui.perfetto.dev opens).
 */
#ifndef GOSCOPE_REPORT_WHY_H
#define GOSCOPE_REPORT_WHY_H

#include <stdbool.h>
#include <stdio.h>

#include "../collect/why.h"

void why_print_call(FILE *out, const struct why_call *c, bool json);
void why_print_verdict(FILE *out, const struct why_verdict *v, double slow_ms, bool json);

/* The timeline: begin, one call at a time, then the pauses and the end. */
struct why_perfetto {
	FILE *f;
	size_t nevents;
	uint64_t t0; /* ns: the first call's start, time 0 of the trace */
};
void why_perfetto_begin(struct why_perfetto *p, FILE *f);
void why_perfetto_call(struct why_perfetto *p, const struct why_call *c);
/* The stop-the-world windows, then the closing bracket. */
void why_perfetto_end(struct why_perfetto *p, const struct why_verdict *v);

#endif
