/*
 * report/contention: formatters of the contention collector's objects.
 */
#include "contention.h"

#include "../gobin/gosyms.h"
#include "../output/jsonw.h"
#include "../output/pprof.h"
#include "fmt.h"
#include "stack.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CT_FLAGS (STACK_PC_FIRST | STACK_SKIP_RUNTIME)

void contention_object_name(const struct contention *c, const struct contention_object *o,
			    char *buf, size_t len)
{
	const struct contention_target *t = c->t[o->target];

	buf[0] = '\0';
	if (o->addr && o->addr > t->bias && !gosyms_data_name(t->gb, o->addr - t->bias, buf, len))
		buf[0] = '\0';
}

static double ct_window_s(const struct contention *c)
{
	return (double)(c->win_end_ns - c->win_start_ns) / 1e9;
}

static double ct_mean(const struct contention *c, const struct contention_object *o)
{
	return c->snapshots ? (double)o->waiters_sum / (double)c->snapshots : 0;
}

/* "main.condWaiter main.go:97": where a sync.Cond group waits (its call site). */
static void ct_site(const struct contention *c, const struct contention_object *o, char *buf,
		    size_t len)
{
	const struct contention_target *t = c->t[o->target];
	struct stack_frame fr[16];
	size_t n = stack_symbolize(t->gb, t->bias, &o->key, 1, 0, fr, 16);

	if (n && fr[0].known)
		snprintf(buf, len, "%s %s:%d", fr[0].func, fr[0].file, fr[0].line);
	else
		snprintf(buf, len, "0x%" PRIx64, o->key);
}

/* "mutex 0xc000.. main.hotMu", "cond waited on at main.f main.go:12" */
static void ct_label(const struct contention *c, const struct contention_object *o, char *buf,
		     size_t len)
{
	char name[256];

	if (o->kind == CT_COND) {
		ct_site(c, o, name, sizeof(name));
		snprintf(buf, len, "cond waited on at %s", name);
		return;
	}
	contention_object_name(c, o, name, sizeof(name));
	snprintf(buf, len, "%s 0x%" PRIx64 "%s%s", contention_kind_name(o->kind), o->addr,
		 name[0] ? " " : "", name);
}

void contention_print_top(FILE *out, const struct contention *c, size_t top)
{
	size_t n, *idx = contention_rank(c, &n);

	fprintf(out, "goscope contention: %.1f s, %" PRIu64 " snapshots\n", ct_window_s(c),
		c->snapshots);
	for (size_t i = 0; i < c->nt; i++) {
		const struct contention_target *t = c->t[i];

		fprintf(out, "  pid %d %s %s%s%s%s\n", (int)t->pid, t->name, gobin_go_version(t->gb),
			t->alive ? "" : ", exited", t->sema_ok ? "" : "; mutexes not seen: ",
			t->sema_ok ? "" : t->sema_why);
	}
	fprintf(out, "\n%10s %9s %8s %11s  %s\n", "WAIT", "WAITERS", "MEAN", "CONTENTIONS",
		"OBJECT, then the waiters' stacks (wait time each)");
	for (size_t r = 0; idx && r < n && (!top || r < top); r++) {
		const struct contention_object *o = &c->obj[idx[r]];
		const struct contention_target *t = c->t[o->target];
		char lab[400], d[32];

		ct_label(c, o, lab, sizeof(lab));
		fmt_dur(d, sizeof(d), o->wait_ns);
		fprintf(out, "%10s %9u %8.2f %11" PRIu64 "  %s", d, o->waiters_max, ct_mean(c, o),
			o->contentions, lab);
		if (c->nt > 1)
			fprintf(out, "  pid %d %s", (int)t->pid, t->name);
		fputc('\n', out);
		if (o->kind == CT_CHAN && o->chan_read)
			fprintf(out,
				"%43s cap %" PRIu64 " len %" PRIu64 "%s, waiters max: %u send, %u receive, %u select\n",
				"", o->chan_cap, o->chan_len, o->chan_closed ? " closed" : "",
				o->senders_max, o->receivers_max, o->selects_max);
		for (size_t s = 0; s < o->nstacks; s++) {
			fmt_dur(d, sizeof(d), o->stacks[s].wait_ns);
			fprintf(out, "%43s [%s]\n", "", d);
			stack_print(out, t->gb, t->bias, o->stacks[s].pcs,
				    (size_t)o->stacks[s].depth, CT_FLAGS, 8,
				    "                                              ");
		}
		if (o->nrel)
			fprintf(out, "%43s released by (%" PRIu64 " releases with a waiter):\n", "",
				o->releases);
		for (size_t s = 0; s < o->nrel; s++) {
			fprintf(out, "%43s [%" PRIu64 "]\n", "", o->rel[s].contentions);
			stack_print(out, t->gb, t->bias, o->rel[s].pcs, (size_t)o->rel[s].depth, 0,
				    8, "                                              ");
		}
		fputc('\n', out);
	}
	if (idx && n == 0)
		fprintf(out, "(no goroutine waited on a channel or a semaphore)\n");
	else if (idx && top && n > top)
		fprintf(out, "... %zu more objects (--top)\n", n - top);
	free(idx);
	fflush(out);
}

void contention_print_folded(FILE *out, const struct contention *c)
{
	size_t n, *idx = contention_rank(c, &n);

	for (size_t r = 0; idx && r < n; r++) {
		const struct contention_object *o = &c->obj[idx[r]];
		const struct contention_target *t = c->t[o->target];
		char lab[400];

		ct_label(c, o, lab, sizeof(lab));
		for (size_t s = 0; s < o->nstacks; s++) {
			if (o->stacks[s].wait_ns < 1000)
				continue;
			if (c->nt > 1)
				fprintf(out, "%s (%d);", t->name, (int)t->pid);
			if (stack_folded(out, t->gb, t->bias, o->stacks[s].pcs,
					 (size_t)o->stacks[s].depth, CT_FLAGS))
				fputc(';', out);
			fputc('[', out);
			stack_folded_name(out, lab);
			fprintf(out, "] %" PRIu64 "\n", o->stacks[s].wait_ns / 1000);
		}
	}
	free(idx);
	fflush(out);
}

void contention_print_json(FILE *out, const struct contention *c)
{
	size_t n, *idx = contention_rank(c, &n);
	struct jsonw w;

	jsonw_init(&w, out);
	for (size_t r = 0; idx && r < n; r++) {
		const struct contention_object *o = &c->obj[idx[r]];
		const struct contention_target *t = c->t[o->target];
		char name[256];
		size_t best = 0;

		contention_object_name(c, o, name, sizeof(name));
		for (size_t s = 1; s < o->nstacks; s++)
			if (o->stacks[s].wait_ns > o->stacks[best].wait_ns)
				best = s;
		jsonw_obj_begin(&w);
		jsonw_kstr(&w, "type", "object");
		jsonw_kint(&w, "pid", t->pid);
		jsonw_kstr(&w, "kind", contention_kind_name(o->kind));
		jsonw_khex(&w, "addr", o->addr);
		if (o->sema)
			jsonw_khex(&w, "sema", o->sema);
		if (o->kind == CT_COND) {
			char site[600];

			ct_site(c, o, site, sizeof(site));
			jsonw_kstr(&w, "site", site);
		}
		if (name[0])
			jsonw_kstr(&w, "name", name);
		else
			jsonw_knull(&w, "name");
		jsonw_kuint(&w, "waiters_max", o->waiters_max);
		jsonw_kdouble(&w, "waiters_mean", ct_mean(c, o));
		jsonw_kuint(&w, "wait_us", o->wait_ns / 1000);
		jsonw_kuint(&w, "contentions", o->contentions);
		if (o->nstacks)
			stack_json(&w, t->gb, t->bias, o->stacks[best].pcs,
				   (size_t)o->stacks[best].depth, CT_FLAGS);
		jsonw_key(&w, "stacks");
		jsonw_arr_begin(&w);
		for (size_t s = 0; s < o->nstacks; s++) {
			jsonw_obj_begin(&w);
			jsonw_kuint(&w, "wait_us", o->stacks[s].wait_ns / 1000);
			jsonw_kuint(&w, "contentions", o->stacks[s].contentions);
			stack_json(&w, t->gb, t->bias, o->stacks[s].pcs,
				   (size_t)o->stacks[s].depth, CT_FLAGS);
			jsonw_obj_end(&w);
		}
		jsonw_arr_end(&w);
		if (o->nrel) {
			jsonw_kuint(&w, "releases", o->releases);
			jsonw_key(&w, "released_by");
			jsonw_arr_begin(&w);
			for (size_t s = 0; s < o->nrel; s++) {
				jsonw_obj_begin(&w);
				jsonw_kuint(&w, "count", o->rel[s].contentions);
				stack_json(&w, t->gb, t->bias, o->rel[s].pcs,
					   (size_t)o->rel[s].depth, 0);
				jsonw_obj_end(&w);
			}
			jsonw_arr_end(&w);
		}
		if (o->kind == CT_CHAN) {
			jsonw_key(&w, "chan");
			jsonw_obj_begin(&w);
			if (o->chan_read) {
				jsonw_kuint(&w, "cap", o->chan_cap);
				jsonw_kuint(&w, "len", o->chan_len);
				jsonw_kbool(&w, "closed", o->chan_closed != 0);
				jsonw_kuint(&w, "elemsize", o->chan_elemsize);
			}
			jsonw_kuint(&w, "senders_max", o->senders_max);
			jsonw_kuint(&w, "receivers_max", o->receivers_max);
			jsonw_kuint(&w, "selects_max", o->selects_max);
			jsonw_obj_end(&w);
		}
		jsonw_obj_end(&w);
		fputc('\n', out);
	}
	jsonw_obj_begin(&w);
	jsonw_kstr(&w, "type", "summary");
	jsonw_kdouble(&w, "window_s", ct_window_s(c));
	jsonw_kuint(&w, "snapshots", c->snapshots);
	jsonw_kuint(&w, "objects", n);
	jsonw_key(&w, "processes");
	jsonw_arr_begin(&w);
	for (size_t i = 0; i < c->nt; i++) {
		jsonw_obj_begin(&w);
		jsonw_kint(&w, "pid", c->t[i]->pid);
		jsonw_kbool(&w, "semaphores", c->t[i]->sema_ok);
		jsonw_kstr(&w, "wait_offsets", c->t[i]->gs.wo.source);
		jsonw_kuint(&w, "treap_bad", c->t[i]->treap_bad);
		jsonw_obj_end(&w);
	}
	jsonw_arr_end(&w);
	jsonw_obj_end(&w);
	fputc('\n', out);
	free(idx);
	fflush(out);
}

int contention_write_pprof(const struct contention *c, const char *path)
{
	static const char *const types[] = { "contentions", "delay" };
	static const char *const units[] = { "count", "nanoseconds" };
	struct pprof *pp = pprof_new(2, types, units);
	uint64_t *mapping = calloc(c->nt + 1, sizeof(*mapping));
	size_t n = 0, *idx = contention_rank(c, &n);
	int64_t dur = (int64_t)(c->win_end_ns - c->win_start_ns);
	int rc = -1;

	if (!pp || !mapping || !idx)
		goto out;
	pprof_set_time(pp, (int64_t)time(NULL) * 1000000000ll - dur, dur);
	pprof_add_comment(pp, "goscope contention: goroutine waits by object and stack");
	for (size_t i = 0; i < c->nt; i++) {
		const struct contention_target *t = c->t[i];
		uint64_t lo, hi;

		pclntab_range(t->gb->pcln, &lo, &hi);
		mapping[i] = pprof_mapping(pp, t->gb, t->bias, t->name, lo + t->bias, hi + t->bias);
	}
	for (size_t r = 0; r < n; r++) {
		const struct contention_object *o = &c->obj[idx[r]];
		const struct contention_target *t = c->t[o->target];
		char lab[400], leaf[420], root[300];
		struct pprof_label labels[2] = {
			{ .key = "kind", .str = contention_kind_name(o->kind) },
			{ .key = "pid", .num = t->pid },
		};

		ct_label(c, o, lab, sizeof(lab));
		snprintf(leaf, sizeof(leaf), "[%s]", lab);
		snprintf(root, sizeof(root), "%s (%d)", t->name, (int)t->pid);
		for (size_t s = 0; s < o->nstacks; s++) {
			int64_t v[2] = { (int64_t)o->stacks[s].contentions,
					 (int64_t)o->stacks[s].wait_ns };

			if (pprof_sample(pp, mapping[o->target], o->stacks[s].pcs,
					 (size_t)o->stacks[s].depth, leaf, c->nt > 1 ? root : NULL, v,
					 labels, 2) != 0)
				goto out;
		}
	}
	rc = pprof_write(pp, path);
out:
	pprof_free(pp);
	free(mapping);
	free(idx);
	return rc;
}
