/*
 * cpu (report): symbolize and print on-CPU samples (see cpu.h).
 *
 * Every row of the report becomes one symbolized stack, innermost first:
 * its kernel frames (when the sample interrupted a system call or a
 * fault), then its user frames, Go frames expanded into their inlined
 * calls. Names are interned, so that functions and stacks are counted by
 * pointer; the formatters work on those stacks only.
 */
#include "cpu.h"

#include "../gobin/gobin.h"
#include "../output/jsonw.h"
#include "../output/pprof.h"
#include "../proc/ksyms.h"
#include "../proc/usyms.h"
#include "fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CPU_MAX_INLINE 16
#define CPU_MAX_FRAMES 1024

enum cf_kind { CF_GO, CF_KERNEL, CF_NATIVE };

struct cf {
	const char *name; /* interned */
	const char *file;
	int line;
	uint8_t kind;
	uint64_t pc;      /* the pc as captured (leaf: the sample's ip) */
	bool leaf;        /* user frame 0: pc is not a return address */
};

struct cstack {
	const struct cpu_row *row;
	const struct cpu_proc *proc;
	struct cf *f;
	size_t n;
	size_t nkern;     /* f[0..nkern) are kernel frames */
	uint64_t hash;    /* of pid and the names */
};

/* Interned strings: a pointer per distinct string. */
struct intern {
	char **slot;
	size_t cap, n;
};

static uint64_t cr_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static const char *intern(struct intern *t, const char *s)
{
	size_t j;

	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		char **v = calloc(cap, sizeof(*v));

		if (!v)
			return NULL;
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->slot[i])
				continue;
			for (j = cr_hash_str(t->slot[i]) & (cap - 1); v[j]; j = (j + 1) & (cap - 1))
				;
			v[j] = t->slot[i];
		}
		free(t->slot);
		t->slot = v;
		t->cap = cap;
	}
	for (j = cr_hash_str(s) & (t->cap - 1); t->slot[j]; j = (j + 1) & (t->cap - 1))
		if (strcmp(t->slot[j], s) == 0)
			return t->slot[j];
	t->slot[j] = strdup(s);
	if (!t->slot[j])
		return NULL;
	t->n++;
	return t->slot[j];
}

static void intern_free(struct intern *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slot[i]);
	free(t->slot);
}

/* Everything the formatters share. */
struct cr {
	const struct cpu_report *r;
	const struct cpu_view_opts *o;
	struct intern names;
	struct cstack *st;
	size_t nst;
	uint64_t total;       /* samples kept (after --func) */
	double ns_per_sample;
	bool multi;           /* several processes */
	const char *g_mark, *g_malloc; /* interned runtime names */
	uint64_t on_g0, in_mark_worker, in_gc, in_malloc, in_kernel, no_g;
	uint64_t hex_frames;  /* frames in a pclntab's range it has no function for */
	struct cf *scratch;   /* CPU_MAX_FRAMES: one stack being symbolized */
};

static const struct cpu_proc *cr_proc(const struct cpu_proc *procs, size_t n, pid_t pid)
{
	for (size_t i = n; i-- > 0;)
		if (procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

static bool cr_root(const char *phys)
{
	return strcmp(phys, "runtime.goexit") == 0 || strcmp(phys, "runtime.mstart") == 0;
}

/*
 * Symbolize ROW into S, its frames built in C's scratch array and then
 * copied (rows are many, their stacks short). 0, or -1 when out of memory.
 */
static int cr_symbolize(struct cr *c, const struct cpu_row *row, const struct cpu_proc *p,
			const struct ksyms *ks, struct cstack *s)
{
	struct pclntab_frame fr[CPU_MAX_INLINE];
	char buf[512];
	uint64_t lo = 0, hi = 0;

	s->row = row;
	s->proc = p;
	s->f = c->scratch;
	s->n = 0;
	for (size_t i = 0; i < row->nkern && s->n < CPU_MAX_FRAMES; i++) {
		uint64_t off;
		const char *mod, *name = ks ? ksyms_find(ks, row->kern[i], &off, &mod) : NULL;
		struct cf *f = &s->f[s->n];

		if (name && mod && *mod)
			snprintf(buf, sizeof(buf), "%s [%s]", name, mod);
		else if (name)
			snprintf(buf, sizeof(buf), "%s", name);
		else
			snprintf(buf, sizeof(buf), "0x%" PRIx64, row->kern[i]);
		f->name = intern(&c->names, buf);
		if (!f->name)
			return -1;
		f->file = "";
		f->kind = CF_KERNEL;
		f->pc = row->kern[i];
		s->n++;
	}
	s->nkern = s->n;
	if (p && p->gb)
		pclntab_range(p->gb->pcln, &lo, &hi);
	for (size_t i = 0; i < row->nuser && s->n < CPU_MAX_FRAMES; i++) {
		uint64_t pc = row->user[i], look = pc - (i == 0 ? 0 : 1);
		int m = 0;

		if (p && p->gb && look - p->bias >= lo && look - p->bias < hi)
			m = pclntab_symbolize(p->gb->pcln, look - p->bias, fr, CPU_MAX_INLINE);
		if (m > 0) {
			if (cr_root(fr[m - 1].func))
				break;
			for (int j = 0; j < m && s->n < CPU_MAX_FRAMES; j++) {
				struct cf *f = &s->f[s->n];

				f->name = intern(&c->names, fr[j].func);
				if (!f->name)
					return -1;
				f->file = fr[j].file;
				f->line = fr[j].line;
				f->kind = CF_GO;
				f->pc = pc;
				f->leaf = i == 0;
				s->n++;
			}
			continue;
		}
		if (p && p->gb && look - p->bias >= lo && look - p->bias < hi) {
			snprintf(buf, sizeof(buf), "0x%" PRIx64, pc); /* in Go text, no function */
			c->hex_frames++;
		} else
			usyms_name(p ? p->us : NULL, look, buf, sizeof(buf), NULL);
		s->f[s->n].name = intern(&c->names, buf);
		if (!s->f[s->n].name)
			return -1;
		s->f[s->n].file = "";
		s->f[s->n].kind = CF_NATIVE;
		s->f[s->n].pc = pc;
		s->f[s->n].leaf = i == 0;
		s->n++;
	}
	s->hash = (uint64_t)row->pid * 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < s->n; i++)
		s->hash = (s->hash ^ (uintptr_t)s->f[i].name) * 0x100000001b3ull;
	s->f = malloc((s->n ? s->n : 1) * sizeof(*s->f));
	if (!s->f)
		return -1;
	memcpy(s->f, c->scratch, s->n * sizeof(*s->f));
	return 0;
}

/*
 * The garbage collector's own functions: a stack with one of them is GC
 * work (marking, assists, sweeping, scavenging), whichever goroutine or g0
 * it ran on. (On g0 the frame-pointer walk ends at the system stack's
 * root, so gcBgMarkWorker itself is often not in the stack.)
 */
static const char *const cr_gc_funcs[] = {
	"runtime.gcBgMarkWorker", "runtime.gcDrain", "runtime.gcDrainN",
	"runtime.gcDrainMarkWorkerDedicated", "runtime.gcDrainMarkWorkerIdle",
	"runtime.gcDrainMarkWorkerFractional", "runtime.markroot", "runtime.scanobject",
	"runtime.scanblock", "runtime.scanstack", "runtime.gcAssistAlloc",
	"runtime.gcAssistAlloc1", "runtime.bgsweep", "runtime.sweepone", "runtime.bgscavenge",
	"runtime.gcMarkDone", "runtime.gcMarkTermination", "runtime.wbBufFlush",
	"runtime.wbBufFlush1", "runtime.gcStart", NULL,
};

static bool cr_is_gc(const struct cstack *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->f[i].kind != CF_GO || strncmp(s->f[i].name, "runtime.", 8) != 0)
			continue;
		for (size_t j = 0; cr_gc_funcs[j]; j++)
			if (strcmp(s->f[i].name, cr_gc_funcs[j]) == 0)
				return true;
	}
	return false;
}

static bool cr_has(const struct cstack *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->f[i].name == name)
			return true;
	return false;
}

static bool cr_match(const struct cstack *s, const char *sub)
{
	if (!sub)
		return true;
	for (size_t i = 0; i < s->n; i++)
		if (strstr(s->f[i].name, sub))
			return true;
	return false;
}

static void cr_free(struct cr *c)
{
	for (size_t i = 0; i < c->nst; i++)
		free(c->st[i].f);
	free(c->st);
	free(c->scratch);
	intern_free(&c->names);
}

static int cr_build(struct cr *c, const struct cpu_report *r, const struct cpu_view_opts *o)
{
	const struct cpu_proc *procs = r->procs;
	size_t nprocs = r->nprocs;
	pid_t first = 0;

	memset(c, 0, sizeof(*c));
	c->r = r;
	c->o = o;
	c->ns_per_sample = r->hz ? 1e9 / r->hz : 0;
	c->st = calloc(r->nrows ? r->nrows : 1, sizeof(*c->st));
	c->scratch = calloc(CPU_MAX_FRAMES, sizeof(*c->scratch));
	c->g_mark = intern(&c->names, "runtime.gcBgMarkWorker");
	c->g_malloc = intern(&c->names, "runtime.mallocgc");
	if (!c->st || !c->scratch || !c->g_mark || !c->g_malloc)
		return -1;
	for (size_t i = 0; i < r->nrows; i++) {
		const struct cpu_row *row = &r->rows[i];
		struct cstack *s = &c->st[c->nst];

		if (cr_symbolize(c, row, cr_proc(procs, nprocs, row->pid), r->ks, s) != 0) {
			if (s->f != c->scratch)
				free(s->f);
			return -1;
		}
		if (!cr_match(s, o->func)) {
			free(s->f);
			continue;
		}
		c->nst++;
		c->total += row->count;
		if (row->flags & CPU_F_G0)
			c->on_g0 += row->count;
		if (row->flags & CPU_F_NOG)
			c->no_g += row->count;
		if (row->flags & CPU_F_KERNEL)
			c->in_kernel += row->count;
		if (cr_has(s, c->g_mark))
			c->in_mark_worker += row->count;
		if (cr_is_gc(s))
			c->in_gc += row->count;
		if (cr_has(s, c->g_malloc))
			c->in_malloc += row->count;
		if (first && row->pid != first)
			c->multi = true;
		first = row->pid;
	}
	return 0;
}

/* --- functions: flat and cumulative ------------------------------------------- */

struct cfunc {
	const char *name;
	uint64_t flat, cum;
	size_t last; /* the stack that last added to cum (+1) */
};

struct cfuncs {
	struct cfunc *v;
	size_t cap, n;
};

static struct cfunc *cfuncs_get(struct cfuncs *t, const char *name)
{
	size_t j;

	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct cfunc *v = calloc(cap, sizeof(*v));

		if (!v)
			return NULL;
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->v[i].name)
				continue;
			for (j = ((uintptr_t)t->v[i].name >> 3) & (cap - 1); v[j].name;
			     j = (j + 1) & (cap - 1))
				;
			v[j] = t->v[i];
		}
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	for (j = ((uintptr_t)name >> 3) & (t->cap - 1); t->v[j].name; j = (j + 1) & (t->cap - 1))
		if (t->v[j].name == name)
			return &t->v[j];
	t->v[j].name = name;
	t->n++;
	return &t->v[j];
}

static int cfunc_cmp(const void *a, const void *b)
{
	const struct cfunc *x = a, *y = b;

	if (x->flat != y->flat)
		return x->flat < y->flat ? 1 : -1;
	if (x->cum != y->cum)
		return x->cum < y->cum ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Functions by flat share; *N set. The caller frees. */
static struct cfunc *cr_functions(const struct cr *c, size_t *n)
{
	struct cfuncs t = { 0 };
	struct cfunc *out;
	size_t k = 0;

	*n = 0;
	for (size_t i = 0; i < c->nst; i++) {
		const struct cstack *s = &c->st[i];

		for (size_t j = 0; j < s->n; j++) {
			struct cfunc *f = cfuncs_get(&t, s->f[j].name);

			if (!f) {
				free(t.v);
				return NULL;
			}
			if (j == 0)
				f->flat += s->row->count;
			if (f->last != i + 1) {
				f->cum += s->row->count;
				f->last = i + 1;
			}
		}
	}
	out = calloc(t.n ? t.n : 1, sizeof(*out));
	if (!out) {
		free(t.v);
		return NULL;
	}
	for (size_t i = 0; i < t.cap; i++)
		if (t.v[i].name)
			out[k++] = t.v[i];
	free(t.v);
	qsort(out, k, sizeof(*out), cfunc_cmp);
	*n = k;
	return out;
}

/* --- merged stacks --------------------------------------------------------------- */

struct cmerged {
	const struct cstack *s; /* the first of its kind */
	uint64_t count;
	size_t goids;           /* distinct goroutines seen (goid kept) */
	bool g0;
};

static bool cr_same(const struct cstack *a, const struct cstack *b)
{
	if (a->hash != b->hash || a->n != b->n || a->row->pid != b->row->pid)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->f[i].name != b->f[i].name || a->f[i].kind != b->f[i].kind)
			return false;
	return true;
}

static int cmerged_cmp(const void *a, const void *b)
{
	const struct cmerged *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->s->hash < y->s->hash ? -1 : x->s->hash > y->s->hash;
}

/* Stacks with the same frames merged, largest first; *N set. The caller frees. */
static struct cmerged *cr_merge(const struct cr *c, size_t *n)
{
	size_t cap = 16, k = 0;
	struct cmerged *m;
	size_t *slot;

	while (cap < c->nst * 2)
		cap *= 2;
	slot = calloc(cap, sizeof(*slot)); /* index + 1 into m */
	m = calloc(c->nst ? c->nst : 1, sizeof(*m));
	*n = 0;
	if (!slot || !m) {
		free(slot);
		free(m);
		return NULL;
	}
	for (size_t i = 0; i < c->nst; i++) {
		const struct cstack *s = &c->st[i];
		size_t j;

		for (j = s->hash & (cap - 1); slot[j] && !cr_same(m[slot[j] - 1].s, s);
		     j = (j + 1) & (cap - 1))
			;
		if (!slot[j]) {
			m[k] = (struct cmerged){ s, 0, 0, false };
			slot[j] = ++k;
		}
		m[slot[j] - 1].count += s->row->count;
		if (s->row->flags & CPU_F_GOID)
			m[slot[j] - 1].goids++; /* rows of one goid and stack: one per thread */
		if (s->row->flags & CPU_F_G0)
			m[slot[j] - 1].g0 = true;
	}
	free(slot);
	qsort(m, k, sizeof(*m), cmerged_cmp);
	*n = k;
	return m;
}

/* --- text ------------------------------------------------------------------------ */

static const char *cr_secs(char *buf, size_t len, const struct cr *c, uint64_t samples)
{
	return fmt_dur(buf, len, (uint64_t)((double)samples * c->ns_per_sample));
}

static void cr_frame_text(FILE *out, const struct cf *f)
{
	if (f->kind == CF_KERNEL)
		fprintf(out, "      %s  [kernel]\n", f->name);
	else if (f->kind == CF_NATIVE)
		fprintf(out, "      %s  [native]\n", f->name);
	else
		fprintf(out, "      %s  %s:%d\n", f->name, f->file, f->line);
}

static void cr_summary_text(FILE *out, const struct cr *c)
{
	const struct cpu_report *r = c->r;
	uint64_t drops = 0;
	char b[32];

	fprintf(out, "%" PRIu64 " samples (%s of CPU) in %.1f s at %u Hz per CPU (%s, %zu CPUs)",
		c->total, cr_secs(b, sizeof(b), c, c->total), c->o->seconds, r->hz, r->event,
		r->ncpus);
	if (c->o->func)
		fprintf(out, ", under functions matching \"%s\" (of %" PRIu64 ")", c->o->func,
			r->samples);
	fprintf(out, "\n");
	fprintf(out, "runtime: on g0 %.1f%%, GC %.1f%% (in gcBgMarkWorker %.1f%%), "
		     "in mallocgc %.1f%%; in the kernel %.1f%%",
		fmt_pct((double)c->on_g0, (double)c->total), fmt_pct((double)c->in_gc, (double)c->total),
		fmt_pct((double)c->in_mark_worker, (double)c->total),
		fmt_pct((double)c->in_malloc, (double)c->total),
		fmt_pct((double)c->in_kernel, (double)c->total));
	if (c->no_g)
		fprintf(out, "; on threads with no g %.1f%%", fmt_pct((double)c->no_g, (double)c->total));
	fprintf(out, "\n");
	for (int i = 0; i < CPU_DROP_MAX; i++)
		drops += r->drops[i];
	if (drops) {
		fprintf(out, "dropped:");
		for (int i = 0; i < CPU_DROP_MAX; i++)
			if (r->drops[i])
				fprintf(out, " %s %" PRIu64, cpu_drop_name(i), r->drops[i]);
		fprintf(out, "\n");
	}
	if (r->ngoids) {
		fprintf(out, "goroutines: %zu sampled; busiest:", r->ngoids);
		for (size_t i = 0; i < r->ngoids && i < 5; i++) {
			if (c->multi)
				fprintf(out, " %d/", (int)r->goids[i].pid);
			else
				fputc(' ', out);
			fprintf(out, "%" PRIu64 " (%.1f%%)", r->goids[i].goid,
				fmt_pct((double)r->goids[i].count, (double)r->samples));
		}
		fprintf(out, "\n");
	}
	if (c->hex_frames)
		fprintf(out, "frames in Go text with no function: %" PRIu64 "\n", c->hex_frames);
	if (r->fixed)
		fprintf(out, "leaf fixed up (sample in a prologue or frameless function): %" PRIu64
			     " samples\n", r->fixed);
}

static int cr_top(FILE *out, const struct cr *c)
{
	size_t nf, nm, top = c->o->top ? c->o->top : 30, nstk = c->o->stacks ? c->o->stacks : 10;
	struct cfunc *fn = cr_functions(c, &nf);
	struct cmerged *m = cr_merge(c, &nm);
	double sum = 0;
	char b1[32], b2[32];

	if (!fn || !m) {
		free(fn);
		free(m);
		return -1;
	}
	cr_summary_text(out, c);
	if (c->total == 0) {
		if (c->o->func)
			fprintf(out, "no samples under a function matching \"%s\"\n", c->o->func);
		else
			fprintf(out, "no samples: the process%s did not run on a CPU in the window\n",
				c->r->nprocs > 1 ? "es" : "");
		free(fn);
		free(m);
		return 0;
	}
	fprintf(out, "\n%10s %7s %7s %10s %7s  %s\n", "flat", "flat%", "sum%", "cum", "cum%",
		"function");
	for (size_t i = 0; i < nf && i < top; i++) {
		double fp = fmt_pct((double)fn[i].flat, (double)c->total);

		sum += fp;
		fprintf(out, "%10s %6.2f%% %6.2f%% %10s %6.2f%%  %s\n",
			cr_secs(b1, sizeof(b1), c, fn[i].flat), fp, sum,
			cr_secs(b2, sizeof(b2), c, fn[i].cum),
			fmt_pct((double)fn[i].cum, (double)c->total), fn[i].name);
	}
	if (nf > top)
		fprintf(out, "... %zu more functions\n", nf - top);
	fprintf(out, "\nhottest stacks:\n");
	for (size_t i = 0; i < nm && i < nstk; i++) {
		const struct cstack *s = m[i].s;

		fprintf(out, "\n  %.1f%%  %s  %" PRIu64 " samples", fmt_pct((double)m[i].count,
			(double)c->total), cr_secs(b1, sizeof(b1), c, m[i].count), m[i].count);
		if (c->multi && s->proc)
			fprintf(out, "  pid %d (%s)", (int)s->row->pid, s->proc->name);
		if (m[i].g0)
			fprintf(out, "  [on g0]");
		fprintf(out, "\n");
		for (size_t j = 0; j < s->n; j++)
			cr_frame_text(out, &s->f[j]);
		if (s->n == 0)
			fprintf(out, "      (user stack not captured: %s)\n", strerror(s->row->user_err));
	}
	if (nm > nstk)
		fprintf(out, "\n... %zu more stacks (-f folded for all)\n", nm - nstk);
	free(fn);
	free(m);
	return 0;
}

/* --- folded ------------------------------------------------------------------------ */

static void cr_folded_name(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(*s == ';' ? ':' : *s == ' ' ? '_' : *s, out);
}

static int cr_folded(FILE *out, const struct cr *c)
{
	size_t nm;
	struct cmerged *m = cr_merge(c, &nm);

	if (!m)
		return -1;
	for (size_t i = 0; i < nm; i++) {
		const struct cstack *s = m[i].s;
		bool first = true;

		if (c->multi && s->proc) {
			fprintf(out, "%s_(%d)", s->proc->name, (int)s->row->pid);
			first = false;
		}
		if (s->n == 0) {
			fprintf(out, "%s[no user stack]", first ? "" : ";");
			first = false;
		}
		for (size_t j = s->n; j-- > 0;) {
			if (!first)
				fputc(';', out);
			first = false;
			cr_folded_name(out, s->f[j].name);
			if (s->f[j].kind == CF_KERNEL)
				fputs("_[k]", out);
		}
		fprintf(out, " %" PRIu64 "\n", m[i].count);
	}
	free(m);
	return 0;
}

/* --- JSON -------------------------------------------------------------------------- */

static void cr_json_frames(struct jsonw *w, const struct cstack *s)
{
	char loc[700];

	jsonw_key(w, "stack");
	jsonw_arr_begin(w);
	for (size_t j = 0; j < s->n; j++) {
		const struct cf *f = &s->f[j];

		if (f->kind == CF_KERNEL)
			snprintf(loc, sizeof(loc), "%s [k]", f->name);
		else if (f->kind == CF_NATIVE)
			snprintf(loc, sizeof(loc), "%s", f->name);
		else
			snprintf(loc, sizeof(loc), "%s %s:%d", f->name, f->file, f->line);
		jsonw_str(w, loc);
	}
	jsonw_arr_end(w);
}

static int cr_json(FILE *out, const struct cr *c)
{
	size_t nf, nm;
	struct cfunc *fn = cr_functions(c, &nf);
	struct cmerged *m = cr_merge(c, &nm);
	struct jsonw w;
	double sps = c->ns_per_sample / 1e9;
	uint64_t drops = 0;

	if (!fn || !m) {
		free(fn);
		free(m);
		return -1;
	}
	for (size_t i = 0; i < nf; i++) {
		jsonw_init(&w, out);
		jsonw_obj_begin(&w);
		jsonw_kstr(&w, "type", "function");
		jsonw_kstr(&w, "function", fn[i].name);
		jsonw_kuint(&w, "flat_samples", fn[i].flat);
		jsonw_kuint(&w, "cum_samples", fn[i].cum);
		jsonw_kdouble(&w, "flat_s", (double)fn[i].flat * sps);
		jsonw_kdouble(&w, "cum_s", (double)fn[i].cum * sps);
		jsonw_kdouble(&w, "flat_pct", fmt_pct((double)fn[i].flat, (double)c->total));
		jsonw_kdouble(&w, "cum_pct", fmt_pct((double)fn[i].cum, (double)c->total));
		jsonw_obj_end(&w);
	}
	for (size_t i = 0; i < nm; i++) {
		const struct cstack *s = m[i].s;

		jsonw_init(&w, out);
		jsonw_obj_begin(&w);
		jsonw_kstr(&w, "type", "stack");
		jsonw_kint(&w, "pid", s->row->pid);
		if (s->proc)
			jsonw_kstr(&w, "comm", s->proc->name);
		jsonw_kuint(&w, "samples", m[i].count);
		jsonw_kdouble(&w, "seconds", (double)m[i].count * sps);
		jsonw_kdouble(&w, "pct", fmt_pct((double)m[i].count, (double)c->total));
		jsonw_kbool(&w, "on_g0", m[i].g0);
		jsonw_kuint(&w, "kernel_frames", s->nkern);
		cr_json_frames(&w, s);
		jsonw_obj_end(&w);
	}
	for (size_t i = 0; i < c->r->ngoids; i++) {
		jsonw_init(&w, out);
		jsonw_obj_begin(&w);
		jsonw_kstr(&w, "type", "goroutine");
		jsonw_kint(&w, "pid", c->r->goids[i].pid);
		jsonw_kuint(&w, "goid", c->r->goids[i].goid);
		jsonw_kuint(&w, "samples", c->r->goids[i].count);
		jsonw_kdouble(&w, "pct", fmt_pct((double)c->r->goids[i].count, (double)c->r->samples));
		jsonw_obj_end(&w);
	}
	jsonw_init(&w, out);
	jsonw_obj_begin(&w);
	jsonw_kstr(&w, "type", "summary");
	jsonw_kdouble(&w, "seconds", c->o->seconds);
	jsonw_kuint(&w, "samples", c->total);
	jsonw_kuint(&w, "samples_all", c->r->samples);
	jsonw_kdouble(&w, "cpu_s", (double)c->total * sps);
	jsonw_kuint(&w, "hz", c->r->hz);
	jsonw_kstr(&w, "event", c->r->event);
	jsonw_kdouble(&w, "on_g0_pct", fmt_pct((double)c->on_g0, (double)c->total));
	jsonw_kdouble(&w, "gc_pct", fmt_pct((double)c->in_gc, (double)c->total));
	jsonw_kdouble(&w, "gc_mark_worker_pct",
		      fmt_pct((double)c->in_mark_worker, (double)c->total));
	jsonw_kdouble(&w, "mallocgc_pct", fmt_pct((double)c->in_malloc, (double)c->total));
	jsonw_kdouble(&w, "kernel_pct", fmt_pct((double)c->in_kernel, (double)c->total));
	jsonw_kuint(&w, "leaf_fixed", c->r->fixed);
	jsonw_kuint(&w, "hex_frames", c->hex_frames);
	jsonw_kuint(&w, "on_g0_samples", c->on_g0);
	jsonw_kuint(&w, "kernel_samples", c->in_kernel);
	jsonw_key(&w, "drops");
	jsonw_obj_begin(&w);
	for (int i = 0; i < CPU_DROP_MAX; i++) {
		jsonw_kuint(&w, cpu_drop_name(i), c->r->drops[i]);
		drops += c->r->drops[i];
	}
	jsonw_obj_end(&w);
	jsonw_kuint(&w, "dropped", drops);
	jsonw_obj_end(&w);
	free(fn);
	free(m);
	return 0;
}

/* --- pprof ------------------------------------------------------------------------- */

static int cr_pprof(const struct cr *c)
{
	const struct cpu_proc *procs = c->r->procs;
	size_t nprocs = c->r->nprocs;
	static const char *const types[] = { "samples", "cpu" };
	static const char *const units[] = { "count", "nanoseconds" };
	struct pprof *pp = pprof_new(2, types, units);
	uint64_t *mapping = calloc(nprocs ? nprocs : 1, sizeof(*mapping));
	struct pprof_frame *fr = calloc(CPU_MAX_FRAMES + 2, sizeof(*fr)); /* + no stack, root */
	char comment[200];
	int rc = -1;

	if (!pp || !mapping || !fr)
		goto out;
	pprof_set_time(pp, (int64_t)(c->o->start_wall * 1e9), (int64_t)(c->o->seconds * 1e9));
	pprof_set_period(pp, (int64_t)c->ns_per_sample);
	snprintf(comment, sizeof(comment), "goscope cpu: %u Hz per CPU (%s)", c->r->hz,
		 c->r->event);
	pprof_add_comment(pp, comment);
	for (size_t i = 0; i < nprocs; i++) {
		uint64_t lo = 0, hi = 0;

		if (!procs[i].gb)
			continue;
		pclntab_range(procs[i].gb->pcln, &lo, &hi);
		mapping[i] = pprof_mapping(pp, procs[i].gb, procs[i].bias, procs[i].exe,
					   lo + procs[i].bias, hi + procs[i].bias);
	}
	for (size_t i = 0; i < c->nst; i++) {
		const struct cstack *s = &c->st[i];
		size_t k = 0, pi = (size_t)(s->proc ? s->proc - procs : 0);
		int64_t v[2] = { (int64_t)s->row->count,
				 (int64_t)((double)s->row->count * c->ns_per_sample) };
		struct pprof_label lab[2] = { { "thread", NULL, s->row->tid, NULL },
					      { "goid", NULL, (int64_t)s->row->goid, NULL } };
		const struct cf *prev = NULL;

		for (size_t j = 0; j < s->n; j++) {
			const struct cf *f = &s->f[j];

			if (f->kind == CF_GO && s->proc && mapping[pi]) {
				/* One location per pc: its inlined frames are its lines. */
				if (prev && prev->kind == CF_GO && prev->pc == f->pc)
					continue;
				fr[k++] = (struct pprof_frame){ mapping[pi], f->pc + (f->leaf ? 1 : 0),
								NULL };
			} else {
				fr[k++] = (struct pprof_frame){ 0, 0, f->name };
			}
			prev = f;
		}
		if (s->n == 0)
			fr[k++] = (struct pprof_frame){ 0, 0, "[no user stack]" };
		if (c->multi && s->proc) {
			snprintf(comment, sizeof(comment), "%s (%d)", s->proc->name, (int)s->row->pid);
			fr[k++] = (struct pprof_frame){ 0, 0, comment };
		}
		if (pprof_sample_frames(pp, fr, k, v, lab, (s->row->flags & CPU_F_GOID) ? 2 : 1) != 0)
			goto out;
	}
	if (pprof_write(pp, c->o->out) != 0) {
		fprintf(stderr, "goscope: cpu: cannot write %s: %s\n", c->o->out, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc != 0 && errno == ENOMEM)
		fprintf(stderr, "goscope: cpu: out of memory building the profile\n");
	pprof_free(pp);
	free(mapping);
	free(fr);
	return rc;
}

int cpu_print(FILE *out, const struct cpu_report *r, const struct cpu_view_opts *o)
{
	struct cr c;
	int rc;

	if (cr_build(&c, r, o) != 0) {
		cr_free(&c);
		fprintf(stderr, "goscope: cpu: out of memory symbolizing the samples\n");
		return -1;
	}
	if (o->json)
		rc = cr_json(out, &c);
	else if (o->fmt == CPU_FMT_FOLDED)
		rc = cr_folded(out, &c);
	else if (o->fmt == CPU_FMT_PPROF)
		rc = cr_pprof(&c);
	else
		rc = cr_top(out, &c);
	cr_free(&c);
	if (rc != 0 && o->fmt != CPU_FMT_PPROF)
		fprintf(stderr, "goscope: cpu: out of memory\n");
	return rc;
}
