/*
 * report/funclat: how `goscope funclat` prints its reports and slow calls:
 * a text table (with the distribution under --hist) or JSON lines.
 */
#ifndef GOSCOPE_REPORT_FUNCLAT_H
#define GOSCOPE_REPORT_FUNCLAT_H

#include <stdbool.h>
#include <stdio.h>

#include "../collect/funclat.h"

/*
 * The window R as a table: one row per function (calls, calls/s, total,
 * p50/p90/p99/max of the timed calls, unwound), with each function's
 * distribution when HIST, then goscope's own cost. PIDS: show the pid of
 * each row (several targets).
 */
void funclat_print_text(FILE *out, const struct funclat_report *r, bool hist, bool pids);

/*
 * JSON lines: {"type":"func", "pid", "func", "count", "timed", "total_us",
 * "p50_us", "p90_us", "p99_us", "max_us", "rate_per_s", "unwound"} per
 * function, then {"type":"summary", "seconds", "functions", "drops",
 * "probe_hits", "hits_per_s", "est_cpu_cores", "sample"}.
 */
void funclat_print_json(FILE *out, const struct funclat_report *r);

/* One slow call: a header line and the stack (text), or one JSON line. */
void funclat_print_event(FILE *out, const struct funclat_event *e, bool json);

#endif
