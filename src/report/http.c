/*
 * report/http: text and JSON formatters of `goscope http` (see http.h).
 */
#include "http.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../output/jsonw.h"
#include "fmt.h"

/* Rows to print: the first MAXROWS routes and, in *REST, the others merged. */
static size_t http_rows(const struct funclat_routes *r, size_t maxrows,
			struct funclat_route_report *rest, size_t *nrest)
{
	size_t shown = r->n > maxrows ? maxrows : r->n;

	memset(rest, 0, sizeof(*rest));
	*nrest = r->n - shown;
	for (size_t i = shown; i < r->n; i++) {
		rest->count += r->r[i].count;
		rest->total_ns += r->r[i].total_ns;
		hist_merge(&rest->h, &r->r[i].h);
		for (size_t k = 0; k < r->r[i].nstatus; k++)
			funclat_route_add_status(rest, r->r[i].status[k].code, r->r[i].status[k].count);
	}
	snprintf(rest->path, sizeof(rest->path), "(other routes)");
	return shown;
}

/* Requests whose handler never returned (it panicked: net/http recovers). */
static uint64_t http_unwound(const struct funclat_report *f)
{
	uint64_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		n += f->f[i].unwound;
	return n;
}

static uint64_t http_requests(const struct funclat_routes *r)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->r[i].count;
	return n;
}

/* "200:180 404:20 unknown:3" into BUF. */
static const char *http_status_text(const struct funclat_route_report *x, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t k = 0; k < x->nstatus && off < len; k++) {
		char sb[16];

		off += (size_t)snprintf(buf + off, len - off, "%s%s:%" PRIu64, k ? " " : "",
					funclat_status_name(x->status[k].code, sb, sizeof(sb)),
					x->status[k].count);
	}
	return buf[0] ? buf : "-";
}

static void http_text_row(FILE *out, const struct funclat_route_report *x, double secs,
			  bool pids, size_t w)
{
	char p50[32], p99[32], mx[32], pid[16] = "", st[256];

	if (pids)
		snprintf(pid, sizeof(pid), "%d ", (int)x->pid);
	fprintf(out, "%s%-7s %-*s %9" PRIu64 " %9.1f %9s %9s %9s  %s\n", pid,
		x->method[0] ? x->method : "-", (int)w, x->path, x->count,
		secs > 0 ? (double)x->count / secs : 0.0, fmt_dur(p50, sizeof(p50), hist_quantile(&x->h, 0.5)),
		fmt_dur(p99, sizeof(p99), hist_quantile(&x->h, 0.99)), fmt_dur(mx, sizeof(mx), x->h.max),
		http_status_text(x, st, sizeof(st)));
}

void http_print_text(FILE *out, const struct funclat_routes *r, const struct funclat_report *f,
		     size_t maxrows, bool pids)
{
	struct funclat_route_report *rest = malloc(sizeof(*rest));
	size_t nrest = 0, shown, w = 4;

	if (!rest)
		return;
	shown = http_rows(r, maxrows, rest, &nrest);
	for (size_t i = 0; i < shown; i++)
		if (strlen(r->r[i].path) > w)
			w = strlen(r->r[i].path);
	if (nrest && strlen(rest->path) > w)
		w = strlen(rest->path);
	fprintf(out, "%s%-7s %-*s %9s %9s %9s %9s %9s  %s\n", pids ? "PID " : "", "METHOD", (int)w,
		"PATH", "REQUESTS", "REQ/s", "P50", "P99", "MAX", "STATUS");
	for (size_t i = 0; i < shown; i++)
		http_text_row(out, &r->r[i], r->seconds, pids, w);
	if (nrest) {
		snprintf(rest->path, sizeof(rest->path), "(%zu other route%s)", nrest,
			 nrest == 1 ? "" : "s");
		http_text_row(out, rest, r->seconds, pids, w);
	}
	fprintf(out, "%.1f s; %" PRIu64 " requests; probe hits %" PRIu64
		     " (%.0f/s, about %.1f%% of a CPU in the target)",
		r->seconds, http_requests(r), f->hits, f->hits_per_s, 100.0 * f->est_cpu);
	if (http_unwound(f))
		fprintf(out, "; %" PRIu64 " unwound (the handler panicked)", http_unwound(f));
	if (f->drops)
		fprintf(out, "; %" PRIu64 " requests not timed", f->drops);
	if (f->status_bad)
		fprintf(out,
			"; %" PRIu64 " responses did not match net/http's known layout (status unknown)",
			f->status_bad);
	if (f->drop_status)
		fprintf(out, "; %" PRIu64 " statuses not counted (table full)", f->drop_status);
	fprintf(out, "\n");
	free(rest);
}

static void http_json_row(FILE *out, const struct funclat_route_report *x, double secs)
{
	struct jsonw w;

	jsonw_init(&w, out);
	jsonw_obj_begin(&w);
	jsonw_kstr(&w, "type", "route");
	jsonw_kint(&w, "pid", x->pid);
	jsonw_kstr(&w, "method", x->method);
	jsonw_kstr(&w, "path", x->path);
	jsonw_kuint(&w, "count", x->count);
	jsonw_kdouble(&w, "rate_per_s", secs > 0 ? (double)x->count / secs : 0.0);
	jsonw_kdouble(&w, "total_us", (double)x->total_ns / 1e3);
	jsonw_kdouble(&w, "p50_us", (double)hist_quantile(&x->h, 0.5) / 1e3);
	jsonw_kdouble(&w, "p90_us", (double)hist_quantile(&x->h, 0.9) / 1e3);
	jsonw_kdouble(&w, "p99_us", (double)hist_quantile(&x->h, 0.99) / 1e3);
	jsonw_kdouble(&w, "max_us", (double)x->h.max / 1e3);
	jsonw_key(&w, "status");
	jsonw_obj_begin(&w);
	for (size_t k = 0; k < x->nstatus; k++) {
		char sb[16];

		jsonw_kuint(&w, funclat_status_name(x->status[k].code, sb, sizeof(sb)),
			    x->status[k].count);
	}
	jsonw_obj_end(&w);
	jsonw_obj_end(&w);
}

void http_print_json(FILE *out, const struct funclat_routes *r, const struct funclat_report *f,
		     size_t maxrows)
{
	struct funclat_route_report *rest = malloc(sizeof(*rest));
	size_t nrest = 0, shown;
	struct jsonw w;

	if (!rest)
		return;
	shown = http_rows(r, maxrows, rest, &nrest);
	for (size_t i = 0; i < shown; i++)
		http_json_row(out, &r->r[i], r->seconds);
	if (nrest)
		http_json_row(out, rest, r->seconds);
	jsonw_init(&w, out);
	jsonw_obj_begin(&w);
	jsonw_kstr(&w, "type", "summary");
	jsonw_kdouble(&w, "seconds", r->seconds);
	jsonw_kuint(&w, "requests", http_requests(r));
	jsonw_kuint(&w, "routes", r->n);
	jsonw_kuint(&w, "unwound", http_unwound(f));
	jsonw_kuint(&w, "drops", f->drops);
	jsonw_kuint(&w, "status_bad", f->status_bad);
	jsonw_kuint(&w, "status_drops", f->drop_status);
	jsonw_kuint(&w, "probe_hits", f->hits);
	jsonw_kdouble(&w, "est_cpu_cores", f->est_cpu);
	jsonw_obj_end(&w);
	free(rest);
}
