/*
 * report/health: text and JSON formatters of struct health_report (one
 * process, one window) with the verdicts of collect/verdict.c.
 */
#ifndef GOSCOPE_REPORT_HEALTH_H
#define GOSCOPE_REPORT_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct gobin;
struct jsonw;
struct health_report;

/* What the report is about, besides its figures. */
struct health_report_ctx {
	const char *exe;
	struct gobin *gb;       /* symbolizes the fault stack; may be NULL */
	uint64_t bias;
	const char *missing;    /* signals not measured on this kernel ("" if none) */
	double interval_end;    /* CLOCK_REALTIME seconds; 0: not printed */
};

void health_report_text(FILE *out, const struct health_report *r,
			const struct health_report_ctx *c);
/* One JSON object (a line). */
void health_report_json(struct jsonw *w, const struct health_report *r,
			const struct health_report_ctx *c);

#endif
