/*
 * report/http: how `goscope http` prints requests per route (method and
 * URL path) and its slow requests: a text table or JSON lines.
 */
#ifndef GOSCOPE_REPORT_HTTP_H
#define GOSCOPE_REPORT_HTTP_H

#include <stdbool.h>
#include <stdio.h>

#include "../collect/funclat.h"

/*
 * The window's routes: the first MAXROWS (by requests) one row each with
 * requests, requests/s, p50, p99, max, status codes; the rest grouped into one row. Then
 * goscope's own cost (from F, the handler function's report).
 */
void http_print_text(FILE *out, const struct funclat_routes *r, const struct funclat_report *f,
		     size_t maxrows, bool pids);

/*
 * JSON lines: {"type":"route", "pid", "method", "path", "count",
 * "rate_per_s", "total_us", "p50_us", "p90_us", "p99_us", "max_us",
 * "status": {"200": N, "404": N, "unknown": N, "none": N}} per route (the
 * rest grouped as path "(other routes)"), then {"type":"summary", "seconds",
 * "requests", "routes", "unwound", "drops", "status_bad", "status_drops",
 * "probe_hits", "est_cpu_cores"}.
 */
void http_print_json(FILE *out, const struct funclat_routes *r, const struct funclat_report *f,
		     size_t maxrows);

#endif
