/*
 * report/leaks: text and JSON formatters of a leaks report.
 */
#include "leaks.h"

#include "../output/jsonw.h"
#include "../proc/names.h"
#include "fmt.h"
#include "stack.h"

#include <inttypes.h>
#include <string.h>

void leaks_created_by(const struct leaks_report_target *t, uint64_t gopc, const char **func,
		      char *where, size_t wlen)
{
	struct stack_frame fr[16];
	size_t n = 0;

	/* gopc is a return address: symbolized at gopc-1, as the runtime does. */
	if (gopc)
		n = stack_symbolize(t->gb, t->bias, &gopc, 1, 0, fr, 16);
	*func = n && fr[n - 1].known ? fr[n - 1].func : "?";
	if (n && fr[0].known)
		snprintf(where, wlen, "%s:%d", fr[0].file, fr[0].line);
	else
		snprintf(where, wlen, "?");
}

static const char *lk_state(const struct leaks_row *w)
{
	return w->status == GS_WAITING ? w->reason : names_gstatus(w->status);
}

static void lk_print_row(FILE *out, const struct leaks_report *r, const struct leaks_row *w)
{
	const struct leaks_report_target *t = &r->targets[w->target];
	char where[512], old[32], med[32];
	const char *func;

	leaks_created_by(t, w->gopc, &func, where, sizeof(where));
	fprintf(out, "  %u goroutines (%u at start, %+.1f/s)  [%s]", w->count, w->count_start,
		w->growth_per_s, lk_state(w));
	if (r->ntargets > 1)
		fprintf(out, "  pid %d %s", (int)t->pid, t->name);
	fputc('\n', out);
	fprintf(out, "      created by %s  %s\n", func, where);
	if (w->status == GS_WAITING && w->count) {
		fmt_dur(old, sizeof(old), w->oldest_wait_ns);
		fmt_dur(med, sizeof(med), w->median_wait_ns);
		fprintf(out, "      waiting: oldest %s%s, median %s (since first seen parked there)\n",
			w->wait_lower_bound ? ">= " : "", old, med);
	}
	if (w->wait_objects == 1)
		fprintf(out, "      on channel 0x%" PRIx64 "\n", w->wait_object);
	else if (w->wait_objects > 1)
		fprintf(out, "      on %u distinct channels\n", w->wait_objects);
	if (w->grown_windows > 1)
		fprintf(out, "      grew in %u successive intervals\n", w->grown_windows);
	if (w->depth)
		stack_print(out, t->gb, t->bias, w->pcs, (size_t)w->depth,
			    STACK_PC_FIRST | STACK_SKIP_RUNTIME, 12, "        ");
	else if (w->status != GS_RUNNING)
		fprintf(out, "        (stack not read)\n");
}

void leaks_print_text(FILE *out, const struct leaks_report *r, size_t top)
{
	size_t shown = 0;

	fprintf(out, "goscope leaks: %.1f s, %zu snapshots\n", r->window_s, r->snapshots);
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct leaks_report_target *t = &r->targets[i];

		fprintf(out, "  pid %d %s %s: %u goroutines (%u at start)%s\n", (int)t->pid, t->name,
			gobin_go_version(t->gb), t->goroutines, t->goroutines_start,
			t->exited ? ", exited" : "");
	}
	if (r->torn)
		fprintf(out, "  %" PRIu64 " stack reads discarded (goroutine moved while read)\n",
			r->torn);
	fprintf(out, "\nSUSPECTS (groups that only grew, goroutines parked): %zu\n",
		r->nsuspects);
	for (size_t i = 0; i < r->nsuspects; i++) {
		lk_print_row(out, r, &r->rows[i]);
		fputc('\n', out);
	}
	if (!r->nsuspects)
		fprintf(out, "  (none)\n\n");
	fprintf(out, "OTHER GROUPS: %zu\n", r->nrows - r->nsuspects);
	for (size_t i = r->nsuspects; i < r->nrows; i++) {
		if (top && shown >= top) {
			fprintf(out, "  ... %zu more groups (--top to show more, --json for all)\n",
				r->nrows - i);
			break;
		}
		lk_print_row(out, r, &r->rows[i]);
		fputc('\n', out);
		shown++;
	}
	fflush(out);
}

void leaks_print_json(FILE *out, const struct leaks_report *r)
{
	struct jsonw w;
	uint32_t total = 0, start = 0;

	jsonw_init(&w, out);
	for (size_t i = 0; i < r->nrows; i++) {
		const struct leaks_row *g = &r->rows[i];
		const struct leaks_report_target *t = &r->targets[g->target];
		char where[512];
		const char *func;

		leaks_created_by(t, g->gopc, &func, where, sizeof(where));
		jsonw_obj_begin(&w);
		jsonw_kstr(&w, "type", "group");
		jsonw_kint(&w, "pid", t->pid);
		jsonw_kstr(&w, "created_by", func);
		jsonw_kstr(&w, "created_at", where);
		jsonw_khex(&w, "gopc", g->gopc);
		jsonw_kstr(&w, "state", g->status == GS_WAITING ? "waiting"
								: names_gstatus(g->status));
		jsonw_kstr(&w, "reason", lk_state(g));
		stack_json(&w, t->gb, t->bias, g->pcs, (size_t)g->depth,
			   STACK_PC_FIRST | STACK_SKIP_RUNTIME);
		jsonw_kuint(&w, "count", g->count);
		jsonw_kuint(&w, "count_start", g->count_start);
		jsonw_kuint(&w, "count_min", g->count_min);
		jsonw_kuint(&w, "count_max", g->count_max);
		jsonw_kdouble(&w, "growth_per_s", g->growth_per_s);
		jsonw_kuint(&w, "left", g->left);
		jsonw_kdouble(&w, "oldest_wait_s", (double)g->oldest_wait_ns / 1e9);
		jsonw_kdouble(&w, "median_wait_s", (double)g->median_wait_ns / 1e9);
		jsonw_kbool(&w, "wait_lower_bound", g->wait_lower_bound);
		jsonw_kstr(&w, "wait_since", "first_seen");
		if (g->wait_object)
			jsonw_khex(&w, "wait_object", g->wait_object);
		else
			jsonw_knull(&w, "wait_object");
		jsonw_kuint(&w, "wait_objects", g->wait_objects);
		jsonw_kuint(&w, "grown_windows", g->grown_windows);
		jsonw_kbool(&w, "suspect", g->suspect);
		jsonw_obj_end(&w);
		fputc('\n', out);
	}
	for (size_t i = 0; i < r->ntargets; i++) {
		total += r->targets[i].goroutines;
		start += r->targets[i].goroutines_start;
	}
	jsonw_obj_begin(&w);
	jsonw_kstr(&w, "type", "summary");
	jsonw_kdouble(&w, "window_s", r->window_s);
	jsonw_kuint(&w, "snapshots", r->snapshots);
	jsonw_kuint(&w, "processes", r->ntargets);
	jsonw_kuint(&w, "goroutines", total);
	jsonw_kuint(&w, "goroutines_start", start);
	jsonw_kuint(&w, "groups", r->nrows);
	jsonw_kuint(&w, "suspects", r->nsuspects);
	jsonw_kuint(&w, "torn", r->torn);
	jsonw_key(&w, "wait_offsets");
	jsonw_arr_begin(&w);
	for (size_t i = 0; i < r->ntargets; i++)
		jsonw_str(&w, r->targets[i].wait_offsets);
	jsonw_arr_end(&w);
	jsonw_obj_end(&w);
	fputc('\n', out);
	fflush(out);
}
