/*
 * report/funclat: text and JSON formatters of funclat reports and events
 * (see funclat.h).
 */
#include "funclat.h"

#include <inttypes.h>
#include <string.h>

#include "../output/jsonw.h"
#include "fmt.h"
#include "stack.h"

#define FUNCLAT_BAR 40

static void funclat_hist_rows(FILE *out, const struct hist *h)
{
	uint64_t rows[HIST_BUCKETS / HIST_SUB] = { 0 }, top = 0;
	unsigned first = ~0u, last = 0;

	/* One row per power of two: the 16 linear sub-buckets summed. */
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		unsigned r = b / HIST_SUB;

		if (!h->b[b])
			continue;
		rows[r] += h->b[b];
		if (r < first)
			first = r;
		if (r > last)
			last = r;
	}
	if (first == ~0u)
		return;
	for (unsigned r = first; r <= last; r++)
		if (rows[r] > top)
			top = rows[r];
	for (unsigned r = first; r <= last; r++) {
		char lo[32], hi[32], bar[FUNCLAT_BAR + 1];
		unsigned w = top ? (unsigned)((rows[r] * FUNCLAT_BAR + top - 1) / top) : 0;

		memset(bar, '#', w);
		bar[w] = 0;
		fmt_dur(lo, sizeof(lo), hist_bucket_low(r * HIST_SUB));
		fmt_dur(hi, sizeof(hi), hist_bucket_low((r + 1) * HIST_SUB));
		fprintf(out, "    %9s .. %-9s %10" PRIu64 " |%-*s|\n", lo, hi, rows[r], FUNCLAT_BAR,
			bar);
	}
}

void funclat_print_text(FILE *out, const struct funclat_report *r, bool hist, bool pids)
{
	size_t w = 8;
	double rate_div = r->seconds > 0 ? r->seconds : 1;

	for (size_t i = 0; i < r->n; i++) {
		size_t l = strlen(r->f[i].name) + (pids ? 8 : 0);

		if (l > w)
			w = l;
	}
	if (w > 70)
		w = 70;
	fprintf(out, "%-*s %9s %9s %9s %9s %9s %9s %9s %7s\n", (int)w, "FUNCTION", "CALLS",
		"CALLS/s", "TOTAL", "P50", "P90", "P99", "MAX", "UNWOUND");
	for (size_t i = 0; i < r->n; i++) {
		const struct funclat_func_report *f = &r->f[i];
		char name[160], tot[32], p50[32], p90[32], p99[32], mx[32];
		bool t = f->timed > 0;

		if (pids)
			snprintf(name, sizeof(name), "%d %s", (int)f->pid, f->name);
		else
			snprintf(name, sizeof(name), "%s", f->name);
		fprintf(out, "%-*s %9" PRIu64 " %9.1f %9s %9s %9s %9s %9s %7" PRIu64 "\n", (int)w,
			name, f->calls, (double)f->calls / rate_div,
			t ? fmt_dur(tot, sizeof(tot), f->total_ns) : "-",
			t ? fmt_dur(p50, sizeof(p50), hist_quantile(&f->h, 0.5)) : "-",
			t ? fmt_dur(p90, sizeof(p90), hist_quantile(&f->h, 0.9)) : "-",
			t ? fmt_dur(p99, sizeof(p99), hist_quantile(&f->h, 0.99)) : "-",
			t ? fmt_dur(mx, sizeof(mx), f->h.max) : "-", f->unwound);
		if (hist && t)
			funclat_hist_rows(out, &f->h);
	}
	fprintf(out, "%.1f s; probe hits %" PRIu64 " (%.0f/s, about %.1f%% of a CPU in the target)",
		r->seconds, r->hits, r->hits_per_s, 100.0 * r->est_cpu);
	if (r->sample > 1) {
		uint64_t timed = 0;

		for (size_t i = 0; i < r->n; i++)
			timed += r->f[i].timed;
		fprintf(out, "; timing 1 call in %lld (%" PRIu64 " timed: TOTAL is theirs)", r->sample,
			timed);
	}
	if (r->drops)
		fprintf(out, "; %" PRIu64 " not timed (%" PRIu64 " events lost, %" PRIu64
			     " nested deeper than %d, %" PRIu64 " goroutine table full)",
			r->drops, r->drop_events, r->drop_inflight, FUNCLAT_INFLIGHT,
			r->drop_gstate);
	fprintf(out, "\n");
}

static double funclat_us(uint64_t ns)
{
	return (double)ns / 1e3;
}

void funclat_print_json(FILE *out, const struct funclat_report *r)
{
	struct jsonw w;
	double div = r->seconds > 0 ? r->seconds : 1;

	for (size_t i = 0; i < r->n; i++) {
		const struct funclat_func_report *f = &r->f[i];

		jsonw_init(&w, out);
		jsonw_obj_begin(&w);
		jsonw_kstr(&w, "type", "func");
		jsonw_kint(&w, "pid", f->pid);
		jsonw_kstr(&w, "func", f->name);
		jsonw_kuint(&w, "count", f->calls);
		jsonw_kuint(&w, "timed", f->timed);
		jsonw_kdouble(&w, "total_us", funclat_us(f->total_ns));
		jsonw_kdouble(&w, "p50_us", funclat_us(hist_quantile(&f->h, 0.5)));
		jsonw_kdouble(&w, "p90_us", funclat_us(hist_quantile(&f->h, 0.9)));
		jsonw_kdouble(&w, "p99_us", funclat_us(hist_quantile(&f->h, 0.99)));
		jsonw_kdouble(&w, "max_us", funclat_us(f->h.max));
		jsonw_kdouble(&w, "rate_per_s", (double)f->calls / div);
		jsonw_kuint(&w, "unwound", f->unwound);
		jsonw_obj_end(&w);
	}
	jsonw_init(&w, out);
	jsonw_obj_begin(&w);
	jsonw_kstr(&w, "type", "summary");
	jsonw_kdouble(&w, "seconds", r->seconds);
	jsonw_kuint(&w, "functions", r->n);
	jsonw_kuint(&w, "drops", r->drops);
	jsonw_kuint(&w, "probe_hits", r->hits);
	jsonw_kdouble(&w, "hits_per_s", r->hits_per_s);
	jsonw_kdouble(&w, "est_cpu_cores", r->est_cpu);
	jsonw_kint(&w, "sample", r->sample);
	jsonw_obj_end(&w);
}

void funclat_print_event(FILE *out, const struct funclat_event *e, bool json)
{
	char d[32];

	if (json) {
		struct jsonw w;

		jsonw_init(&w, out);
		jsonw_obj_begin(&w);
		jsonw_kstr(&w, "type", "slow");
		jsonw_kint(&w, "pid", e->pid);
		jsonw_kint(&w, "tid", e->tid);
		jsonw_kuint(&w, "goid", e->goid);
		jsonw_kstr(&w, "func", e->func);
		if (e->path[0]) {
			char sb[16];

			jsonw_kstr(&w, "method", e->method);
			jsonw_kstr(&w, "path", e->path);
			jsonw_kstr(&w, "status", funclat_status_name(e->status, sb, sizeof(sb)));
		}
		jsonw_kdouble(&w, "dur_us", funclat_us(e->dur_ns));
		if (e->has_args) {
			jsonw_key(&w, "args");
			jsonw_arr_begin(&w);
			for (int i = 0; i < FUNCLAT_NARGS; i++)
				jsonw_uint(&w, e->args[i]);
			jsonw_arr_end(&w);
		}
		stack_json(&w, e->gb, e->bias, e->pcs, e->npcs, STACK_PC_FIRST);
		jsonw_obj_end(&w);
		fflush(out);
		return;
	}
	if (e->path[0]) {
		char sb[16];

		fprintf(out, "slow %s %s %s (status %s): pid %d tid %d goroutine %" PRIu64, e->method,
			e->path, fmt_dur(d, sizeof(d), e->dur_ns),
			funclat_status_name(e->status, sb, sizeof(sb)), (int)e->pid, (int)e->tid,
			e->goid);
	}
	else
		fprintf(out, "slow %s %s: pid %d tid %d goroutine %" PRIu64, e->func,
			fmt_dur(d, sizeof(d), e->dur_ns), (int)e->pid, (int)e->tid, e->goid);
	if (e->has_args) {
		fprintf(out, " args");
		for (int i = 0; i < FUNCLAT_NARGS; i++)
			fprintf(out, " %#" PRIx64, e->args[i]);
	}
	fputc('\n', out);
	stack_print(out, e->gb, e->bias, e->pcs, e->npcs, STACK_PC_FIRST, 16, "    ");
	fflush(out);
}
