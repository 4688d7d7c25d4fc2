/*
 * report/gc: text, JSON, folded and pprof output of `goscope gc` (gc.h).
 */
#include "gc.h"

#include "../core/target.h"
#include "../output/jsonw.h"
#include "../output/pprof.h"
#include "fmt.h"
#include "stack.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GC_MB (1024.0 * 1024.0)
#define GC_TOP_ASSISTS 5
#define GC_TOP_ALLOCS 10

void gc_summary_reset(struct gc_summary *s)
{
	uint64_t *p = s->pauses;

	memset(s, 0, sizeof(*s));
	s->pauses = p;
}

void gc_summary_free(struct gc_summary *s)
{
	free(s->pauses);
	memset(s, 0, sizeof(*s));
}

void gc_summary_cycle(struct gc_summary *s, const struct gc_cycle *c)
{
	s->cycles++;
	if (c->number) {
		if (!s->first_cycle || c->number < s->first_cycle)
			s->first_cycle = c->number;
		if (c->number > s->last_cycle)
			s->last_cycle = c->number;
	}
	if (c->trigger == GC_TRIGGER_FORCED)
		s->forced++;
	if (c->has_cpu) {
		s->has_cpu = true;
		s->cpu_assist_ns += c->cpu_assist_ns;
		s->cpu_gc_ns += c->cpu_assist_ns + c->cpu_background_ns + c->cpu_idle_ns +
				c->cpu_stw_ns;
	}
	if (c->has_heap) {
		s->has_heap = true;
		s->procs = c->procs;
		s->last_goal = c->heap_goal;
		s->last_live = c->heap_live;
	}
}

void gc_summary_stw(struct gc_summary *s, const struct gc_stw *p)
{
	uint64_t ns = p->stopping_ns + p->stopped_ns;

	if (p->kind == GC_STW_OTHER) {
		s->other_pauses++;
		s->other_pause_ns += ns;
		return;
	}
	if (!s->pauses) {
		s->pauses = malloc(GC_SUM_MAX_PAUSES * sizeof(*s->pauses));
		if (!s->pauses)
			return;
	}
	if (s->npauses < GC_SUM_MAX_PAUSES)
		s->pauses[s->npauses++] = ns;
}

static double gc_us(uint64_t ns)
{
	return (double)ns / 1e3;
}

void gc_print_cycle(FILE *out, const struct gc_cycle *c, bool json, bool multi)
{
	char a[32], b[32], d[32];

	if (json) {
		struct jsonw w;

		jsonw_init(&w, out);
		jsonw_obj_begin(&w);
		jsonw_kstr(&w, "event", "cycle");
		jsonw_kint(&w, "pid", c->pid);
		if (c->number)
			jsonw_kuint(&w, "cycle", c->number);
		else
			jsonw_knull(&w, "cycle");
		jsonw_kuint(&w, "start_ns", c->start_ns);
		jsonw_kstr(&w, "trigger", gc_trigger_name(c->trigger));
		if (c->has_phases) {
			jsonw_kdouble(&w, "stw_sweep_termination_us", gc_us(c->sweep_term_ns));
			jsonw_kdouble(&w, "concurrent_mark_us", gc_us(c->mark_ns));
			jsonw_kdouble(&w, "stw_mark_termination_us", gc_us(c->mark_term_ns));
		} else {
			/* The window began during this cycle. */
			jsonw_knull(&w, "stw_sweep_termination_us");
			jsonw_knull(&w, "concurrent_mark_us");
			jsonw_knull(&w, "stw_mark_termination_us");
		}
		if (c->has_heap) {
			jsonw_kuint(&w, "heap_start_bytes", c->heap_start);
			jsonw_kuint(&w, "heap_end_bytes", c->heap_end);
			jsonw_kuint(&w, "heap_live_bytes", c->heap_live);
			jsonw_kuint(&w, "heap_goal_bytes", c->heap_goal);
			jsonw_kint(&w, "procs", c->procs);
		} else {
			jsonw_knull(&w, "heap_start_bytes");
			jsonw_knull(&w, "heap_end_bytes");
			jsonw_knull(&w, "heap_live_bytes");
			jsonw_knull(&w, "heap_goal_bytes");
			if (c->procs > 0)
				jsonw_kint(&w, "procs", c->procs);
			else
				jsonw_knull(&w, "procs");
		}
		if (c->has_cpu) {
			jsonw_kdouble(&w, "cpu_assist_us", gc_us(c->cpu_assist_ns));
			jsonw_kdouble(&w, "cpu_background_us", gc_us(c->cpu_background_ns));
			jsonw_kdouble(&w, "cpu_idle_us", gc_us(c->cpu_idle_ns));
			jsonw_kdouble(&w, "cpu_stw_us", gc_us(c->cpu_stw_ns));
		}
		jsonw_kstr(&w, "source", c->from_runtime ? "runtime" : "probes");
		jsonw_obj_end(&w); /* ends the line */
		return;
	}
	if (multi)
		fprintf(out, "pid %d ", (int)c->pid);
	if (c->number)
		fprintf(out, "gc %" PRIu64 " ", c->number);
	else
		fprintf(out, "gc ? ");
	if (c->has_phases)
		fprintf(out, "(trigger %s): sweep-term %s + mark %s + mark-term %s",
			gc_trigger_name(c->trigger), fmt_dur(a, sizeof(a), c->sweep_term_ns),
			fmt_dur(b, sizeof(b), c->mark_ns), fmt_dur(d, sizeof(d), c->mark_term_ns));
	else
		fprintf(out, "(trigger %s): phases not seen (began before the window)",
			gc_trigger_name(c->trigger));
	if (c->has_heap)
		fprintf(out, ", heap %.1f -> %.1f MB, live %.1f MB, goal %.1f MB, %d P",
			(double)c->heap_start / GC_MB, (double)c->heap_end / GC_MB,
			(double)c->heap_live / GC_MB, (double)c->heap_goal / GC_MB, c->procs);
	else if (c->procs > 0)
		fprintf(out, ", %d P", c->procs);
	if (c->has_cpu)
		fprintf(out, ", cpu assist %s bg %s idle %s",
			fmt_dur(a, sizeof(a), c->cpu_assist_ns),
			fmt_dur(b, sizeof(b), c->cpu_background_ns),
			fmt_dur(d, sizeof(d), c->cpu_idle_ns));
	fputc('\n', out);
}

void gc_print_stw(FILE *out, const struct gc_stw *p, bool json, bool multi)
{
	char a[32], b[32];

	if (json) {
		struct jsonw w;

		jsonw_init(&w, out);
		jsonw_obj_begin(&w);
		jsonw_kstr(&w, "event", "stw");
		jsonw_kint(&w, "pid", p->pid);
		jsonw_kuint(&w, "start_ns", p->start_ns);
		jsonw_kstr(&w, "reason", p->reason);
		jsonw_kbool(&w, "gc", p->kind != GC_STW_OTHER);
		jsonw_kdouble(&w, "stopping_us", gc_us(p->stopping_ns));
		jsonw_kdouble(&w, "stopped_us", gc_us(p->stopped_ns));
		jsonw_obj_end(&w); /* ends the line */
		return;
	}
	if (multi)
		fprintf(out, "pid %d ", (int)p->pid);
	fprintf(out, "stw [%s]: stopping %s, stopped %s\n", p->reason[0] ? p->reason : "?",
		fmt_dur(a, sizeof(a), p->stopping_ns), fmt_dur(b, sizeof(b), p->stopped_ns));
}

static int gc_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The Q quantile of the sorted V[0..N) (nearest rank). */
static uint64_t gc_quantile(const uint64_t *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)n);
	return v[i < n ? i : n - 1];
}

const char *gc_verdict(const struct gc_summary *s, double seconds, char *buf, size_t len)
{
	double frac = 0;
	bool low_goal = s->has_heap && s->last_live && (double)s->last_goal < 2.0 * (double)s->last_live;

	if (s->cycles == 0) {
		snprintf(buf, len, "no GC cycle in the window");
		return buf;
	}
	if (s->has_cpu && seconds > 0 && s->procs > 0)
		frac = (double)s->cpu_gc_ns / (seconds * 1e9 * s->procs);
	if (s->has_cpu && frac >= 0.10 && low_goal)
		snprintf(buf, len,
			 "GC is %.0f%% of CPU; the heap goal (%.0f MB) is below 2x the live heap (%.0f MB): raise GOGC or set GOMEMLIMIT",
			 100 * frac, (double)s->last_goal / GC_MB, (double)s->last_live / GC_MB);
	else if (s->has_cpu && frac >= 0.10)
		snprintf(buf, len, "GC is %.0f%% of CPU (%.1f cycles/s): allocate less or raise GOGC",
			 100 * frac, (double)s->cycles / seconds);
	else if (s->has_cpu)
		snprintf(buf, len, "GC is %.1f%% of CPU: not a bottleneck", 100 * frac);
	else
		snprintf(buf, len, "%.1f GC cycles/s (GC CPU not measured in this release)",
			 (double)s->cycles / seconds);
	return buf;
}

static struct target *gc_target_of(struct target *const *targets, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (targets[i]->pid == pid)
			return targets[i];
	return NULL;
}

static int gc_cmp_assist(const void *a, const void *b)
{
	const struct gc_assist *x = a, *y = b;

	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

static int gc_cmp_alloc(const void *a, const void *b)
{
	const struct gc_alloc *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

void gc_print_summary(FILE *out, const struct gc_summary *s, const struct gc_report *r,
		      struct target *const *targets, size_t ntargets, double seconds, bool json)
{
	uint64_t *p = NULL, p50 = 0, p99 = 0, pmax = 0, assist_total = 0, alloc_total = 0;
	uint64_t assist_probe = 0;
	char verdict[256], a[32], b[32], c[32], d[32];
	const unsigned sflags = STACK_PC_FIRST | STACK_SKIP_RUNTIME;

	if (s->npauses)
		p = malloc(s->npauses * sizeof(*p));
	if (p) {
		memcpy(p, s->pauses, s->npauses * sizeof(*p));
		qsort(p, s->npauses, sizeof(*p), gc_cmp_u64);
		p50 = gc_quantile(p, s->npauses, 0.5);
		p99 = gc_quantile(p, s->npauses, 0.99);
		pmax = p[s->npauses - 1];
	}
	free(p);
	if (r->nassists)
		qsort(r->assists, r->nassists, sizeof(*r->assists), gc_cmp_assist);
	if (r->nallocs)
		qsort(r->allocs, r->nallocs, sizeof(*r->allocs), gc_cmp_alloc);
	for (size_t i = 0; i < r->nassists; i++) {
		assist_total += r->assists[i].ns;
		assist_probe += r->assists[i].probe_ns;
	}
	for (size_t i = 0; i < r->nallocs; i++)
		alloc_total += r->allocs[i].bytes;
	gc_verdict(s, seconds, verdict, sizeof(verdict));
	if (json) {
		struct jsonw w;

		for (size_t i = 0; i < r->nassists; i++) {
			const struct gc_assist *as = &r->assists[i];
			struct target *t = gc_target_of(targets, ntargets, as->pid);

			jsonw_init(&w, out);
			jsonw_obj_begin(&w);
			jsonw_kstr(&w, "event", "assist");
			jsonw_kint(&w, "pid", as->pid);
			jsonw_kuint(&w, "goid", as->goid);
			jsonw_kdouble(&w, "us", gc_us(as->ns));
			jsonw_kdouble(&w, "probe_us", gc_us(as->probe_ns));
			jsonw_kdouble(&w, "wall_us", gc_us(as->wall_ns));
			jsonw_kuint(&w, "count", as->count);
			jsonw_kuint(&w, "rounds", as->rounds);
			stack_json(&w, t ? t->gb : NULL, t ? t->bias : 0, as->pcs, as->npcs, sflags);
			jsonw_obj_end(&w); /* ends the line */
		}
		for (size_t i = 0; i < r->nallocs; i++) {
			const struct gc_alloc *al = &r->allocs[i];
			struct target *t = gc_target_of(targets, ntargets, al->pid);

			jsonw_init(&w, out);
			jsonw_obj_begin(&w);
			jsonw_kstr(&w, "event", "alloc");
			jsonw_kint(&w, "pid", al->pid);
			jsonw_kuint(&w, "bytes", al->bytes);
			jsonw_kuint(&w, "objects", al->objects);
			jsonw_kuint(&w, "samples", al->samples);
			stack_json(&w, t ? t->gb : NULL, t ? t->bias : 0, al->pcs, al->npcs, sflags);
			jsonw_obj_end(&w); /* ends the line */
		}
		jsonw_init(&w, out);
		jsonw_obj_begin(&w);
		jsonw_kstr(&w, "event", "summary");
		jsonw_kdouble(&w, "seconds", seconds);
		jsonw_kuint(&w, "cycles", s->cycles);
		jsonw_kdouble(&w, "cycles_per_second", seconds > 0 ? (double)s->cycles / seconds : 0);
		jsonw_kuint(&w, "forced", s->forced);
		jsonw_kuint(&w, "gc_pauses", s->npauses);
		jsonw_kdouble(&w, "pause_p50_us", gc_us(p50));
		jsonw_kdouble(&w, "pause_p99_us", gc_us(p99));
		jsonw_kdouble(&w, "pause_max_us", gc_us(pmax));
		jsonw_kuint(&w, "other_pauses", s->other_pauses);
		jsonw_kdouble(&w, "other_pause_us", gc_us(s->other_pause_ns));
		if (s->has_cpu && seconds > 0 && s->procs > 0)
			jsonw_kdouble(&w, "gc_cpu_fraction",
				      (double)s->cpu_gc_ns / (seconds * 1e9 * s->procs));
		else
			jsonw_knull(&w, "gc_cpu_fraction");
		if (s->has_cpu)
			jsonw_kdouble(&w, "runtime_assist_us", gc_us(s->cpu_assist_ns));
		jsonw_kdouble(&w, "assist_us", gc_us(assist_total));
		jsonw_kdouble(&w, "assist_probe_us", gc_us(assist_probe));
		jsonw_kuint(&w, "alloc_bytes", alloc_total);
		jsonw_kstr(&w, "verdict", verdict);
		jsonw_kuint(&w, "dropped_events", r->drops_events);
		jsonw_kuint(&w, "dropped_assists", r->drops_assists);
		jsonw_kuint(&w, "dropped_allocs", r->drops_allocs);
		jsonw_kuint(&w, "dropped_stacks", r->drops_stacks);
		jsonw_obj_end(&w); /* ends the line */
		return;
	}
	fprintf(out, "\ngoscope gc: %.2f s, %" PRIu64 " cycles (%.1f/s", seconds, s->cycles,
		seconds > 0 ? (double)s->cycles / seconds : 0.0);
	if (s->first_cycle)
		fprintf(out, ", gc %" PRIu64 "..%" PRIu64, s->first_cycle, s->last_cycle);
	fprintf(out, "), %" PRIu64 " forced\n", s->forced);
	fprintf(out, "  GC pauses: %zu, p50 %s, p99 %s, max %s; other pauses: %" PRIu64 " (%s)\n",
		s->npauses, fmt_dur(a, sizeof(a), p50), fmt_dur(b, sizeof(b), p99),
		fmt_dur(c, sizeof(c), pmax), s->other_pauses,
		fmt_dur(d, sizeof(d), s->other_pause_ns));
	if (s->has_cpu && seconds > 0 && s->procs > 0)
		fprintf(out, "  GC CPU: %.1f%% of %d P (assist %s by the runtime's count)\n",
			100.0 * (double)s->cpu_gc_ns / (seconds * 1e9 * s->procs), s->procs,
			fmt_dur(a, sizeof(a), s->cpu_assist_ns));
	if (r->nassists) {
		fprintf(out, "  mark assists: %s in total (probe-timed %s); the largest:\n",
			fmt_dur(a, sizeof(a), assist_total), fmt_dur(b, sizeof(b), assist_probe));
		for (size_t i = 0; i < r->nassists && i < GC_TOP_ASSISTS; i++) {
			const struct gc_assist *as = &r->assists[i];
			struct target *t = gc_target_of(targets, ntargets, as->pid);

			fprintf(out, "    %s marking (%s drafted, %" PRIu64 " assists) goroutine %" PRIu64,
				fmt_dur(a, sizeof(a), as->ns), fmt_dur(b, sizeof(b), as->wall_ns),
				as->count, as->goid);
			if (ntargets > 1)
				fprintf(out, " pid %d", (int)as->pid);
			fputc('\n', out);
			stack_print(out, t ? t->gb : NULL, t ? t->bias : 0, as->pcs, as->npcs, sflags,
				    8, "        ");
		}
	}
	if (r->nallocs) {
		fprintf(out, "  sampled allocations: %.1f MB estimated; the largest stacks:\n",
			(double)alloc_total / GC_MB);
		for (size_t i = 0; i < r->nallocs && i < GC_TOP_ALLOCS; i++) {
			const struct gc_alloc *al = &r->allocs[i];
			struct target *t = gc_target_of(targets, ntargets, al->pid);

			fprintf(out, "    %.1f MB %5.1f%% %" PRIu64 " objects (%" PRIu64 " samples)\n",
				(double)al->bytes / GC_MB, fmt_pct((double)al->bytes, (double)alloc_total),
				al->objects, al->samples);
			stack_print(out, t ? t->gb : NULL, t ? t->bias : 0, al->pcs, al->npcs, sflags,
				    8, "        ");
		}
	}
	if (r->drops_events || r->drops_assists || r->drops_allocs || r->drops_stacks)
		fprintf(out, "  dropped: %" PRIu64 " events, %" PRIu64 " assists, %" PRIu64
			     " allocations, %" PRIu64 " stacks\n",
			r->drops_events, r->drops_assists, r->drops_allocs, r->drops_stacks);
	fprintf(out, "  verdict: %s\n", verdict);
}

/*
 * The index of the first pc of PCS outside package runtime (the
 * allocating frame: what runtime/pprof's heap profile starts at).
 */
static size_t gc_first_user(struct target *t, const uint64_t *pcs, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		struct stack_frame f;

		if (stack_symbolize(t->gb, t->bias, pcs + i, 1, i == 0 ? STACK_PC_FIRST : 0, &f, 1) ==
			    1 &&
		    strncmp(f.func, "runtime.", 8) != 0)
			return i;
	}
	return 0;
}

void gc_print_allocs_folded(FILE *out, const struct gc_report *r, struct target *const *targets,
			    size_t ntargets)
{
	for (size_t i = 0; i < r->nallocs; i++) {
		const struct gc_alloc *al = &r->allocs[i];
		struct target *t = gc_target_of(targets, ntargets, al->pid);

		if (ntargets > 1 && t)
			fprintf(out, "%s (%d);", t->name, (int)t->pid);
		size_t k = gc_first_user(t, al->pcs, al->npcs);

		if (stack_folded(out, t ? t->gb : NULL, t ? t->bias : 0, al->pcs + k, al->npcs - k,
				 k ? 0 : STACK_PC_FIRST) == 0)
			fputs("[unknown]", out);
		fprintf(out, " %" PRIu64 "\n", al->bytes);
	}
}

int gc_write_allocs_pprof(const char *path, const struct gc_report *r,
			  struct target *const *targets, size_t ntargets, double seconds)
{
	static const char *const types[] = { "alloc_objects", "alloc_space" };
	static const char *const units[] = { "count", "bytes" };
	struct pprof *pp = pprof_new(2, types, units);
	uint64_t *maps = calloc(ntargets + 1, sizeof(*maps));
	int rc = -1;

	if (!pp || !maps)
		goto out;
	pprof_set_time(pp, (int64_t)time(NULL) * 1000000000ll - (int64_t)(seconds * 1e9),
		       (int64_t)(seconds * 1e9));
	pprof_add_comment(pp, "goscope gc --allocs: the runtime's sampled allocations by Go stack");
	for (size_t i = 0; i < ntargets; i++) {
		uint64_t lo, hi;

		pclntab_range(targets[i]->gb->pcln, &lo, &hi);
		maps[i] = pprof_mapping(pp, targets[i]->gb, targets[i]->bias, targets[i]->exe,
					lo + targets[i]->bias, hi + targets[i]->bias);
	}
	for (size_t i = 0; i < r->nallocs; i++) {
		const struct gc_alloc *al = &r->allocs[i];
		int64_t v[2] = { (int64_t)al->objects, (int64_t)al->bytes };
		struct pprof_label l = { .key = "pid", .num = al->pid };
		size_t ti;
		char root[300];

		for (ti = 0; ti < ntargets && targets[ti]->pid != al->pid; ti++)
			;
		if (ti == ntargets)
			continue;
		snprintf(root, sizeof(root), "%.250s (%d)", targets[ti]->name, (int)al->pid);
		size_t k = gc_first_user(targets[ti], al->pcs, al->npcs);

		if (pprof_sample(pp, maps[ti], al->pcs + k, al->npcs - k, NULL,
				 ntargets > 1 ? root : NULL, v, &l, 1) != 0)
			goto out;
	}
	rc = pprof_write(pp, path);
out:
	pprof_free(pp);
	free(maps);
	return rc;
}
