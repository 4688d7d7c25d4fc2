/*
 * report/offcpu: table, folded, JSON and pprof formatters of an offcpu
 * window (see offcpu.h). Rows are built here: stacks are filtered by
 * --stack, grouped by how they print, and sorted by total time.
 */
#include "offcpu.h"

#include "../output/jsonw.h"
#include "../output/pprof.h"
#include "fmt.h"
#include "stack.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* How rows are keyed: the frames as the table prints them, or the folded names. */
enum oc_key { OC_KEY_FRAMES, OC_KEY_FUNCS };

/* One printed row: the stacks of ROW_OF[i] == this row, merged. */
struct oc_row {
	uint32_t first;    /* a member stack (printed for the row) */
	uint64_t total_ns, waits, goroutines;
	struct hist *h;    /* merged waits, NULL if none */
	char *key;
};

struct oc_rows {
	struct oc_row *r;
	size_t n;
	uint64_t total_ns;
	uint32_t *row_of;  /* per stack: its row, UINT32_MAX if filtered out */
};

double offcpu_achieved_rate(const struct offcpu *oc, const struct offcpu_fmt *f)
{
	return f->seconds > 0 ? (double)oc->samples / f->seconds : 0.0;
}

/* The key of stack I: target, reason and frames as printed (heap string). */
static char *oc_key(const struct offcpu *oc, uint32_t i, enum oc_key kind)
{
	const struct offcpu_stack *s = &oc->stacks[i];
	const struct offcpu_target *t = &oc->targets[s->target];
	struct stack_frame *fr = calloc(STACK_MAX_FRAMES, sizeof(*fr));
	char *buf = NULL;
	size_t len = 0, nf;
	FILE *m;

	if (!fr)
		return NULL;
	m = open_memstream(&buf, &len);
	if (!m) {
		free(fr);
		return NULL;
	}
	nf = stack_symbolize(t->gb, t->bias, s->pcs, s->depth,
			     kind == OC_KEY_FRAMES ? STACK_SKIP_RUNTIME : 0, fr, STACK_MAX_FRAMES);
	fprintf(m, "%u\x1f%s", s->target, oc->reasons[s->reason]);
	for (size_t k = 0; k < nf; k++) {
		if (!fr[k].known)
			fprintf(m, "\x1f%" PRIx64, fr[k].pc);
		else if (kind == OC_KEY_FRAMES)
			fprintf(m, "\x1f%s %s:%d", fr[k].func, fr[k].file, fr[k].line);
		else
			fprintf(m, "\x1f%s", fr[k].func);
	}
	free(fr);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

struct oc_sortkey {
	const char *key;
	uint32_t stack;
};

static int oc_cmp_key(const void *a, const void *b)
{
	const struct oc_sortkey *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->stack > y->stack) - (x->stack < y->stack);
}

static int oc_cmp_row(const void *a, const void *b)
{
	const struct oc_row *x = a, *y = b;

	if (x->total_ns != y->total_ns)
		return x->total_ns < y->total_ns ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* (row, goid) pairs, to count distinct goroutines per row. */
struct oc_rg {
	uint32_t row;
	uint64_t goid, ns;
};

static int oc_cmp_rg(const void *a, const void *b)
{
	const struct oc_rg *x = a, *y = b;

	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return (x->goid > y->goid) - (x->goid < y->goid);
}

static void oc_rows_free(struct oc_rows *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->r[i].h);
		free(rs->r[i].key);
	}
	free(rs->r);
	free(rs->row_of);
	memset(rs, 0, sizeof(*rs));
}

/*
 * The rows of OC: stacks with time that pass --stack, grouped by KIND,
 * sorted by total time. -1 when out of memory.
 */
static int oc_rows_build(const struct offcpu *oc, const struct offcpu_fmt *f, enum oc_key kind,
			 struct oc_rows *rs)
{
	struct oc_sortkey *ks = calloc(oc->nstacks + 1, sizeof(*ks));
	struct oc_rg *rg = NULL;
	size_t nk = 0, nrg = 0;
	int rc = -1;

	memset(rs, 0, sizeof(*rs));
	rs->row_of = malloc((oc->nstacks + 1) * sizeof(*rs->row_of));
	rs->r = calloc(oc->nstacks + 1, sizeof(*rs->r));
	if (!ks || !rs->row_of || !rs->r)
		goto out;
	for (uint32_t i = 0; i < oc->nstacks; i++) {
		const struct offcpu_stack *s = &oc->stacks[i];
		const struct offcpu_target *t = &oc->targets[s->target];

		rs->row_of[i] = UINT32_MAX;
		if (s->total_ns == 0 ||
		    !stack_matches(t->gb, t->bias, s->pcs, s->depth, 0, f->stack))
			continue;
		ks[nk].stack = i;
		ks[nk].key = oc_key(oc, i, kind);
		if (!ks[nk].key)
			goto out;
		nk++;
	}
	qsort(ks, nk, sizeof(*ks), oc_cmp_key);
	for (size_t i = 0; i < nk; i++) {
		const struct offcpu_stack *s = &oc->stacks[ks[i].stack];
		struct oc_row *r;

		if (rs->n == 0 || strcmp(ks[i].key, rs->r[rs->n - 1].key) != 0) {
			r = &rs->r[rs->n++];
			r->first = ks[i].stack;
			r->key = (char *)ks[i].key;
			ks[i].key = NULL;
		} else {
			r = &rs->r[rs->n - 1];
		}
		rs->row_of[ks[i].stack] = (uint32_t)(rs->n - 1);
		r->total_ns += s->total_ns;
		r->waits += s->waits;
		rs->total_ns += s->total_ns;
		if (s->h) {
			if (!r->h)
				r->h = calloc(1, sizeof(*r->h));
			if (!r->h)
				goto out;
			hist_merge(r->h, s->h);
		}
	}
	/* Distinct goroutines per row. */
	rg = malloc((oc->nsgs + 1) * sizeof(*rg));
	if (!rg)
		goto out;
	for (size_t i = 0; i < oc->nsgs; i++)
		if (oc->sgs[i].ns > 0 && rs->row_of[oc->sgs[i].stack] != UINT32_MAX)
			rg[nrg++] = (struct oc_rg){ rs->row_of[oc->sgs[i].stack], oc->sgs[i].goid, 0 };
	qsort(rg, nrg, sizeof(*rg), oc_cmp_rg);
	for (size_t i = 0; i < nrg; i++)
		if (i == 0 || rg[i].row != rg[i - 1].row || rg[i].goid != rg[i - 1].goid)
			rs->r[rg[i].row].goroutines++;
	/* Sort the rows; row_of follows through each row's old index. */
	{
		uint32_t *newpos = malloc((rs->n + 1) * sizeof(*newpos));

		if (!newpos)
			goto out;
		for (size_t i = 0; i < rs->n; i++)
			newpos[i] = (uint32_t)i;
		/* Sort indices by the rows' order, then permute. */
		struct oc_row *sorted = malloc((rs->n + 1) * sizeof(*sorted));

		if (!sorted) {
			free(newpos);
			goto out;
		}
		memcpy(sorted, rs->r, rs->n * sizeof(*sorted));
		qsort(sorted, rs->n, sizeof(*sorted), oc_cmp_row);
		for (size_t i = 0; i < rs->n; i++)
			newpos[rs->row_of[sorted[i].first]] = (uint32_t)i;
		for (size_t i = 0; i < oc->nstacks; i++)
			if (rs->row_of[i] != UINT32_MAX)
				rs->row_of[i] = newpos[rs->row_of[i]];
		memcpy(rs->r, sorted, rs->n * sizeof(*sorted));
		free(sorted);
		free(newpos);
	}
	rc = 0;
out:
	for (size_t i = 0; ks && i < nk; i++)
		free((char *)ks[i].key);
	free(ks);
	free(rg);
	if (rc != 0)
		oc_rows_free(rs);
	return rc;
}

static void oc_print_header(FILE *out, const struct offcpu *oc, const struct offcpu_fmt *f)
{
	fprintf(out,
		"goscope offcpu: %zu process%s, %.2f s, %" PRIu64
		" goroutine snapshots (%.1f/s achieved, %g/s asked; longest gap %.0f ms)\n",
		oc->ntargets, oc->ntargets == 1 ? "" : "es", f->seconds, oc->samples,
		offcpu_achieved_rate(oc, f), f->freq, (double)oc->max_gap_ns / 1e6);
	for (size_t i = 0; i < oc->ntargets; i++) {
		const struct offcpu_target *t = &oc->targets[i];

		fprintf(out, "  pid %d %s %s: %" PRIu64 " goroutines (peak %" PRIu64 ")%s\n",
			(int)t->pid, t->exe, gobin_go_version(t->gb), t->goroutines,
			t->goroutines_peak, t->exited ? ", exited during the trace" : "");
	}
	if (oc->dropped_stacks || oc->torn)
		fprintf(out,
			"  dropped: %" PRIu64 " waits (stack table full), %" PRIu64
			" stack reads discarded (goroutine moved while read)\n",
			oc->dropped_stacks, oc->torn);
}

/* The ids of the goroutines that waited on row ROW, the longest first. */
static void oc_print_goids(FILE *out, const struct offcpu *oc, const struct oc_rows *rs,
			   uint32_t row)
{
	enum { SHOW = 8 };
	struct oc_rg best[SHOW];
	struct oc_rg *g = malloc((oc->nsgs + 1) * sizeof(*g));
	size_t n = 0, nb = 0, distinct = 0;

	if (!g)
		return;
	for (size_t i = 0; i < oc->nsgs; i++)
		if (oc->sgs[i].ns > 0 && rs->row_of[oc->sgs[i].stack] == row)
			g[n++] = (struct oc_rg){ row, oc->sgs[i].goid, oc->sgs[i].ns };
	qsort(g, n, sizeof(*g), oc_cmp_rg);
	for (size_t i = 0; i < n; i++) {
		struct oc_rg cur = g[i];
		size_t j;

		/* One entry per goroutine: its time summed over the row's stacks. */
		while (i + 1 < n && g[i + 1].goid == cur.goid)
			cur.ns += g[++i].ns;
		distinct++;
		for (j = nb < SHOW ? nb++ : SHOW; j > 0 && best[j - 1].ns < cur.ns; j--)
			if (j < SHOW)
				best[j] = best[j - 1];
		if (j < SHOW)
			best[j] = cur;
	}
	fprintf(out, "        goroutines:");
	for (size_t j = 0; j < nb; j++)
		fprintf(out, "%s %" PRIu64, j ? "," : "", best[j].goid);
	if (distinct > SHOW)
		fprintf(out, " (+%zu more)", distinct - SHOW);
	fputc('\n', out);
	free(g);
}

void offcpu_print_top(FILE *out, const struct offcpu *oc, const struct offcpu_fmt *f)
{
	struct oc_rows rs;

	oc_print_header(out, oc, f);
	if (oc_rows_build(oc, f, OC_KEY_FRAMES, &rs) != 0) {
		fprintf(out, "(out of memory building the report)\n");
		return;
	}
	fprintf(out, "\n%10s %6s %7s %6s %8s %8s %8s  %s\n", "TOTAL", "%", "WAITS", "GORS",
		"P50", "P99", "MAX", "[REASON], then the goroutines' stack, innermost first");
	for (size_t r = 0; r < rs.n && r < f->top; r++) {
		const struct oc_row *row = &rs.r[r];
		const struct offcpu_stack *s = &oc->stacks[row->first];
		const struct offcpu_target *t = &oc->targets[s->target];
		char tot[32], p50[32], p99[32], mx[32];

		fmt_dur(tot, sizeof(tot), row->total_ns);
		fmt_dur(p50, sizeof(p50), row->h ? hist_quantile(row->h, 0.5) : 0);
		fmt_dur(p99, sizeof(p99), row->h ? hist_quantile(row->h, 0.99) : 0);
		fmt_dur(mx, sizeof(mx), row->h ? row->h->max : 0);
		fprintf(out, "%10s %5.1f%% %7" PRIu64 " %6" PRIu64 " %8s %8s %8s  [%s]", tot,
			fmt_pct((double)row->total_ns, (double)rs.total_ns), row->waits,
			row->goroutines, row->h ? p50 : "-", row->h ? p99 : "-", row->h ? mx : "-",
			oc->reasons[s->reason]);
		if (oc->ntargets > 1)
			fprintf(out, " pid %d %s", (int)t->pid, t->exe);
		fputc('\n', out);
		oc_print_goids(out, oc, &rs, (uint32_t)r);
		/* The reason says what the runtime does: start at user code. */
		stack_print(out, t->gb, t->bias, s->pcs, s->depth, STACK_SKIP_RUNTIME, f->depth,
			    "        ");
		fputc('\n', out);
	}
	if (rs.n == 0)
		fprintf(out, "(no waiting goroutines seen)\n");
	else if (rs.n > f->top)
		fprintf(out, "... %zu more stacks (-n to show more, -f folded for all)\n",
			rs.n - f->top);
	oc_rows_free(&rs);
}

void offcpu_print_folded(FILE *out, const struct offcpu *oc, const struct offcpu_fmt *f)
{
	struct oc_rows rs;

	if (oc_rows_build(oc, f, OC_KEY_FUNCS, &rs) != 0)
		return;
	for (size_t r = 0; r < rs.n; r++) {
		const struct oc_row *row = &rs.r[r];
		const struct offcpu_stack *s = &oc->stacks[row->first];
		const struct offcpu_target *t = &oc->targets[s->target];
		size_t nf;

		if (row->total_ns < 1000)
			continue;
		if (f->multi) {
			const char *base = strrchr(t->exe, '/');

			stack_folded_name(out, base ? base + 1 : t->exe);
			fprintf(out, " (%d);", (int)t->pid);
		}
		nf = stack_folded(out, t->gb, t->bias, s->pcs, s->depth, 0);
		fputs(nf ? ";[" : "[", out);
		stack_folded_name(out, oc->reasons[s->reason]);
		fprintf(out, "] %" PRIu64 "\n", row->total_ns / 1000);
	}
	oc_rows_free(&rs);
}

void offcpu_print_json(FILE *out, const struct offcpu *oc, const struct offcpu_fmt *f)
{
	struct oc_rows rs;
	struct jsonw w;
	bool ok = oc_rows_build(oc, f, OC_KEY_FRAMES, &rs) == 0;

	jsonw_init(&w, out);
	for (size_t r = 0; ok && r < rs.n; r++) {
		const struct oc_row *row = &rs.r[r];
		const struct offcpu_stack *s = &oc->stacks[row->first];
		const struct offcpu_target *t = &oc->targets[s->target];

		jsonw_obj_begin(&w);
		jsonw_kint(&w, "pid", t->pid);
		jsonw_kstr(&w, "exe", t->exe);
		jsonw_kstr(&w, "reason", oc->reasons[s->reason]);
		stack_json(&w, t->gb, t->bias, s->pcs, s->depth, STACK_SKIP_RUNTIME);
		jsonw_kuint(&w, "total_us", row->total_ns / 1000);
		jsonw_kdouble(&w, "share", fmt_pct((double)row->total_ns, (double)rs.total_ns));
		jsonw_kuint(&w, "waits", row->waits);
		jsonw_kuint(&w, "goroutines", row->goroutines);
		jsonw_kuint(&w, "p50_us", row->h ? hist_quantile(row->h, 0.5) / 1000 : 0);
		jsonw_kuint(&w, "p99_us", row->h ? hist_quantile(row->h, 0.99) / 1000 : 0);
		jsonw_kuint(&w, "max_us", row->h ? row->h->max / 1000 : 0);
		jsonw_obj_end(&w);
	}
	jsonw_obj_begin(&w);
	jsonw_kstr(&w, "event", "summary");
	jsonw_kdouble(&w, "seconds", f->seconds);
	jsonw_kuint(&w, "snapshots", oc->samples);
	jsonw_kdouble(&w, "snapshots_per_s", offcpu_achieved_rate(oc, f));
	jsonw_kdouble(&w, "snapshots_per_s_asked", f->freq);
	jsonw_kdouble(&w, "longest_gap_ms", (double)oc->max_gap_ns / 1e6);
	jsonw_kuint(&w, "processes", oc->ntargets);
	jsonw_kuint(&w, "rows", ok ? rs.n : 0);
	jsonw_kuint(&w, "dropped_waits", oc->dropped_stacks);
	jsonw_kuint(&w, "torn_stack_reads", oc->torn);
	if (!ok)
		jsonw_kstr(&w, "error", "out of memory building the rows");
	jsonw_obj_end(&w);
	if (ok)
		oc_rows_free(&rs);
}

const char *offcpu_pprof_leaf(const char *reason, char *buf, size_t len)
{
	/*
	 * pprof takes a name with [ ] < > or :: for demangled C++ and strips
	 * (...) and <...> from it ("[GC worker (idle)]" became "[GC worker ]"):
	 * none of those here, and the reason's own brackets become braces.
	 */
	size_t k = (size_t)snprintf(buf, len, "wait: ");

	for (const char *p = reason; *p && k + 1 < len; p++) {
		char c = *p;

		if (c == '[' || c == '<')
			c = '{';
		else if (c == ']' || c == '>')
			c = '}';
		else if (c == ':' && p[1] == ':')
			c = '.';
		buf[k++] = c;
	}
	if (k < len)
		buf[k] = '\0';
	return buf;
}

int offcpu_write_pprof(const char *path, const struct offcpu *oc, const struct offcpu_fmt *f,
		       char *err, size_t errlen)
{
	static const char *const types[] = { "waits", "delay" };
	static const char *const units[] = { "count", "nanoseconds" };
	struct pprof *pp = pprof_new(2, types, units);
	uint64_t *mapping = calloc(oc->ntargets + 1, sizeof(*mapping));
	bool *keep = calloc(oc->nstacks + 1, sizeof(*keep));
	char root[300], leaf[160];
	int rc = -1;

	if (!pp || !mapping || !keep) {
		snprintf(err, errlen, "out of memory building the profile");
		goto out;
	}
	pprof_set_time(pp, (int64_t)(f->start_wall * 1e9), (int64_t)(f->seconds * 1e9));
	pprof_add_comment(pp, "goscope offcpu: goroutine waits by Go stack and wait reason");
	for (size_t i = 0; i < oc->ntargets; i++) {
		const struct offcpu_target *t = &oc->targets[i];
		uint64_t lo, hi;

		pclntab_range(t->gb->pcln, &lo, &hi);
		mapping[i] = pprof_mapping(pp, t->gb, t->bias, t->exe, lo + t->bias, hi + t->bias);
	}
	for (size_t i = 0; i < oc->nstacks; i++) {
		const struct offcpu_stack *s = &oc->stacks[i];
		const struct offcpu_target *t = &oc->targets[s->target];

		keep[i] = s->total_ns > 0 &&
			  stack_matches(t->gb, t->bias, s->pcs, s->depth, 0, f->stack);
	}
	for (size_t i = 0; i < oc->nsgs; i++) {
		const struct offcpu_sg *g = &oc->sgs[i];
		const struct offcpu_stack *s = &oc->stacks[g->stack];
		const struct offcpu_target *t = &oc->targets[s->target];
		int64_t values[2] = { (int64_t)g->waits, (int64_t)g->ns };
		struct pprof_label labels[3] = {
			{ .key = "reason", .str = oc->reasons[s->reason] },
			{ .key = "goid", .num = (int64_t)g->goid },
			{ .key = "pid", .num = t->pid },
		};

		if (!keep[g->stack] || g->ns == 0)
			continue;
		offcpu_pprof_leaf(oc->reasons[s->reason], leaf, sizeof(leaf));
		snprintf(root, sizeof(root), "%.250s (%d)", t->exe, (int)t->pid);
		if (pprof_sample(pp, mapping[s->target], s->pcs, s->depth, leaf,
				 f->multi ? root : NULL, values, labels, 3) != 0) {
			snprintf(err, errlen, "out of memory building the profile");
			goto out;
		}
	}
	if (pprof_write(pp, path) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	pprof_free(pp);
	free(mapping);
	free(keep);
	return rc;
}
