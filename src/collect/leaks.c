/*
 * leaks: follow goroutine groups (creation site, state, stack) over
 * snapshots and tell growing groups from steady ones (see leaks.h).
 */
#include "leaks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LK_NOGROUP UINT32_MAX

/* A goroutine as last seen. */
struct lk_g {
	uint64_t goid, gaddr, pc, sp, waiting;
	uint64_t wait_start_ns;
	uint32_t status, group;
	uint8_t reason;
	bool lower;  /* already parked there at the target's first snapshot */
	bool retry;  /* its stack could not be read: unwind again next time */
	bool seen;   /* scratch: matched by the current snapshot */
};

struct lk_group {
	uint64_t gopc, hash;
	uint32_t status;
	uint8_t reason;
	int depth;
	uint64_t pcs[LEAKS_DEPTH];
	uint32_t *series; /* count at each snapshot of the window */
	uint32_t cur, left, grown_windows;
};

struct leaks_target {
	pid_t pid;
	const char *name;
	struct gobin *gb;
	uint64_t bias;
	struct gsample gs;
	bool alive, sampled;
	struct lk_g *g;  /* sorted by goid */
	size_t ng;
	struct lk_group *groups;
	size_t ngroups, groups_cap;
	uint32_t *gidx;  /* hash -> group index + 1 */
	size_t gidx_cap;
	uint32_t goroutines_start;
};

struct leaks {
	struct leaks_target **t;
	size_t nt;
	double *times;   /* seconds since the first snapshot, per snapshot of the window */
	size_t nsnap, cap;
	uint64_t origin_ns;
	uint64_t torn_reported;
};

static int lk_cmp_goid(const void *a, const void *b)
{
	uint64_t x = ((const struct lk_g *)a)->goid, y = ((const struct lk_g *)b)->goid;

	return x < y ? -1 : x > y;
}

static uint64_t lk_hash(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h;
}

struct leaks *leaks_new(void)
{
	return calloc(1, sizeof(struct leaks));
}

static void lk_target_free(struct leaks_target *t)
{
	for (size_t i = 0; i < t->ngroups; i++)
		free(t->groups[i].series);
	free(t->groups);
	free(t->gidx);
	free(t->g);
	gsample_close(&t->gs);
	free(t);
}

void leaks_free(struct leaks *lk)
{
	if (!lk)
		return;
	for (size_t i = 0; i < lk->nt; i++)
		lk_target_free(lk->t[i]);
	free(lk->t);
	free(lk->times);
	free(lk);
}

struct leaks_target *leaks_add(struct leaks *lk, pid_t pid, struct gobin *gb, uint64_t bias,
			       const char *name, char *err, size_t errlen)
{
	struct leaks_target *t = calloc(1, sizeof(*t)), **nt;

	nt = t ? realloc(lk->t, (lk->nt + 1) * sizeof(*nt)) : NULL;
	if (!nt) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	lk->t = nt;
	if (gsample_open_extra(&t->gs, pid, gb, bias, err, errlen) != 0) {
		free(t);
		return NULL;
	}
	t->pid = pid;
	t->name = name;
	t->gb = gb;
	t->bias = bias;
	t->alive = true;
	lk->t[lk->nt++] = t;
	return t;
}

void leaks_remove(struct leaks *lk, struct leaks_target *t)
{
	(void)lk;
	t->alive = false;
}

/* Group of (gopc, status, reason, stack): found or added; LK_NOGROUP on OOM. */
static uint32_t lk_group(struct leaks_target *t, size_t cap, uint64_t gopc, uint32_t status,
			 uint8_t reason, const uint64_t *pcs, int depth)
{
	uint64_t h = lk_hash(lk_hash(lk_hash(gopc, status), reason), (uint64_t)depth);
	size_t mask, i;

	for (int k = 0; k < depth; k++)
		h = lk_hash(h, pcs[k]);
	if (t->ngroups * 2 >= t->gidx_cap) {
		size_t ncap = t->gidx_cap ? t->gidx_cap * 2 : 256;
		uint32_t *ni = calloc(ncap, sizeof(*ni));

		if (!ni)
			return LK_NOGROUP;
		for (size_t j = 0; j < t->ngroups; j++) {
			for (i = t->groups[j].hash & (ncap - 1); ni[i]; i = (i + 1) & (ncap - 1))
				;
			ni[i] = (uint32_t)j + 1;
		}
		free(t->gidx);
		t->gidx = ni;
		t->gidx_cap = ncap;
	}
	mask = t->gidx_cap - 1;
	for (i = h & mask; t->gidx[i]; i = (i + 1) & mask) {
		struct lk_group *g = &t->groups[t->gidx[i] - 1];

		if (g->hash == h && g->gopc == gopc && g->status == status && g->reason == reason &&
		    g->depth == depth && (depth == 0 || memcmp(g->pcs, pcs, (size_t)depth * 8) == 0))
			return t->gidx[i] - 1;
	}
	if (t->ngroups == t->groups_cap) {
		size_t ncap = t->groups_cap ? t->groups_cap * 2 : 64;
		struct lk_group *ng = realloc(t->groups, ncap * sizeof(*ng));

		if (!ng)
			return LK_NOGROUP;
		t->groups = ng;
		t->groups_cap = ncap;
	}
	struct lk_group *g = &t->groups[t->ngroups];

	memset(g, 0, sizeof(*g));
	g->series = calloc(cap ? cap : 1, sizeof(*g->series));
	if (!g->series)
		return LK_NOGROUP;
	g->gopc = gopc;
	g->hash = h;
	g->status = status;
	g->reason = reason;
	g->depth = depth;
	if (depth > 0)
		memcpy(g->pcs, pcs, (size_t)depth * 8);
	t->gidx[i] = (uint32_t)t->ngroups + 1;
	return (uint32_t)t->ngroups++;
}

/* Sample T into snapshot K of the window. */
static void lk_target_sample(struct leaks *lk, struct leaks_target *t, size_t k, uint64_t now)
{
	struct gsample_g *gs;
	size_t n, nu = 0;
	struct lk_g *cur;
	uint32_t *oldgrp;
	const struct gsample_g **uw;
	uint64_t *pcs;
	int *depth;

	if (gsample_snapshot(&t->gs, &gs, &n) != 0) {
		t->alive = false;
		return;
	}
	cur = calloc(n + 1, sizeof(*cur));
	oldgrp = calloc(n + 1, sizeof(*oldgrp));
	uw = calloc(n + 1, sizeof(*uw));
	pcs = calloc((n + 1) * LEAKS_DEPTH, sizeof(*pcs));
	depth = calloc(n + 1, sizeof(*depth));
	if (!cur || !oldgrp || !uw || !pcs || !depth)
		goto out;
	for (size_t i = 0; i < t->ng; i++)
		t->g[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		const struct gsample_g *g = &gs[i];
		struct lk_g key = { .goid = g->goid }, *p;
		struct lk_g *c = &cur[i];

		p = t->ng ? bsearch(&key, t->g, t->ng, sizeof(*t->g), lk_cmp_goid) : NULL;
		oldgrp[i] = p ? p->group : LK_NOGROUP;
		if (p)
			p->seen = true;
		if (p && p->gaddr == g->gaddr && p->status == g->status && p->pc == g->pc &&
		    p->sp == g->sp && p->reason == g->waitreason && g->status != GS_RUNNING) {
			*c = *p; /* the same wait goes on */
			c->waiting = g->waiting;
			if (!c->retry)
				continue;
		} else {
			c->goid = g->goid;
			c->gaddr = g->gaddr;
			c->pc = g->pc;
			c->sp = g->sp;
			c->status = g->status;
			c->reason = g->waitreason;
			c->waiting = g->waiting;
			c->wait_start_ns = now;
			c->lower = !t->sampled;
		}
		c->group = LK_NOGROUP;
		if (g->status != GS_RUNNING)
			uw[nu++] = g;
	}
	gsample_unwind_many(&t->gs, uw, nu, pcs, LEAKS_DEPTH, depth);
	for (size_t i = 0, j = 0; i < n; i++) {
		struct lk_g *c = &cur[i];
		const uint64_t *sp = NULL;
		int d = 0;

		if (c->group != LK_NOGROUP)
			continue;
		if (j < nu && uw[j] == &gs[i]) {
			sp = pcs + j * LEAKS_DEPTH;
			d = depth[j++];
		}
		c->retry = c->status != GS_RUNNING && d == 0;
		c->group = lk_group(t, lk->cap, gs[i].gopc, c->status,
				    c->status == GS_WAITING ? c->reason : 0, sp, d);
	}
	/* Departures: gone, or moved to another group. */
	for (size_t i = 0; i < t->ng; i++)
		if (!t->g[i].seen && t->g[i].group != LK_NOGROUP)
			t->groups[t->g[i].group].left++;
	for (size_t i = 0; i < n; i++)
		if (oldgrp[i] != LK_NOGROUP && oldgrp[i] != cur[i].group)
			t->groups[oldgrp[i]].left++;
	for (size_t i = 0; i < t->ngroups; i++)
		t->groups[i].cur = 0;
	for (size_t i = 0; i < n; i++)
		if (cur[i].group != LK_NOGROUP)
			t->groups[cur[i].group].cur++;
	for (size_t i = 0; i < t->ngroups; i++)
		t->groups[i].series[k] = t->groups[i].cur;
	if (!t->sampled)
		t->goroutines_start = (uint32_t)n;
	t->sampled = true;
	qsort(cur, n, sizeof(*cur), lk_cmp_goid);
	free(t->g);
	t->g = cur;
	t->ng = n;
	cur = NULL;
out:
	free(cur);
	free(oldgrp);
	free(uw);
	free(pcs);
	free(depth);
}

void leaks_sample(struct leaks *lk, uint64_t now_ns)
{
	size_t k = lk->nsnap;

	if (!lk->nsnap && !lk->origin_ns)
		lk->origin_ns = now_ns;
	if (k == lk->cap) {
		size_t ncap = lk->cap ? lk->cap * 2 : 64;
		double *nt = realloc(lk->times, ncap * sizeof(*nt));

		if (!nt)
			return;
		lk->times = nt;
		for (size_t i = 0; i < lk->nt; i++) {
			struct leaks_target *t = lk->t[i];

			for (size_t j = 0; j < t->ngroups; j++) {
				uint32_t *ns = realloc(t->groups[j].series, ncap * sizeof(*ns));

				if (!ns)
					return;
				t->groups[j].series = ns;
			}
		}
		lk->cap = ncap;
	}
	lk->times[k] = (double)(now_ns - lk->origin_ns) / 1e9;
	for (size_t i = 0; i < lk->nt; i++) {
		struct leaks_target *t = lk->t[i];

		if (t->alive)
			lk_target_sample(lk, t, k, now_ns);
		if (!t->alive) /* gone: its groups keep their last count */
			for (size_t j = 0; j < t->ngroups; j++)
				t->groups[j].series[k] = k ? t->groups[j].series[k - 1] : 0;
	}
	lk->nsnap++;
}

double leaks_slope(const double *t, const double *y, size_t n)
{
	double st = 0, sy = 0, stt = 0, sty = 0, d;

	if (n < 2)
		return 0;
	for (size_t i = 0; i < n; i++) {
		st += t[i];
		sy += y[i];
		stt += t[i] * t[i];
		sty += t[i] * y[i];
	}
	d = (double)n * stt - st * st;
	return d > 0 ? ((double)n * sty - st * sy) / d : 0;
}

struct lk_wait {
	uint32_t group;
	uint64_t ns;
	bool lower;
	uint64_t chan;
};

static int lk_cmp_wait(const void *a, const void *b)
{
	const struct lk_wait *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->ns < y->ns ? -1 : x->ns > y->ns;
}

static int lk_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int lk_cmp_rows(const void *a, const void *b)
{
	const struct leaks_row *x = a, *y = b;

	if (x->suspect != y->suspect)
		return x->suspect ? -1 : 1;
	if (x->suspect && x->growth_per_s != y->growth_per_s)
		return x->growth_per_s > y->growth_per_s ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->gopc < y->gopc ? -1 : x->gopc > y->gopc;
}

/* The channel each parked goroutine of T waits on (g.waiting -> sudog.c). */
static void lk_chans(struct leaks_target *t, struct lk_wait *w)
{
	const struct gowait_offsets *o = &t->gs.wo;
	size_t sz = (size_t)o->sudog_size, m = 0;
	uint64_t *addr = calloc(t->ng + 1, sizeof(*addr));
	size_t *slot = calloc(t->ng + 1, sizeof(*slot));
	uint8_t *buf = calloc(t->ng + 1, sz);
	bool *ok = calloc(t->ng + 1, sizeof(*ok));

	if (t->alive && addr && slot && buf && ok) {
		for (size_t i = 0; i < t->ng; i++)
			if (t->g[i].status == GS_WAITING && t->g[i].waiting) {
				addr[m] = t->g[i].waiting;
				slot[m++] = i;
			}
		procmem_readmany(&t->gs.pm, addr, m, sz, buf, ok);
		for (size_t j = 0; j < m; j++) {
			uint64_t g, c;

			if (!ok[j])
				continue;
			memcpy(&g, buf + j * sz + o->sudog_g, 8);
			memcpy(&c, buf + j * sz + o->sudog_c, 8);
			if (g == t->g[slot[j]].gaddr) /* the sudog is still this g's */
				w[slot[j]].chan = c;
		}
	}
	free(addr);
	free(slot);
	free(buf);
	free(ok);
}

/* Rows of target TI into R. */
static int lk_report_target(struct leaks *lk, size_t ti, uint64_t now, struct leaks_report *r)
{
	struct leaks_target *t = lk->t[ti];
	size_t ns = lk->nsnap, n0 = r->nrows;
	struct lk_wait *w = calloc(t->ng + 1, sizeof(*w));
	uint64_t *chans = calloc(t->ng + 1, sizeof(*chans));
	double *y = calloc(ns + 1, sizeof(*y));
	struct leaks_row *rows = realloc(r->rows, (r->nrows + t->ngroups + 1) * sizeof(*rows));

	if (rows)
		r->rows = rows;
	if (!w || !chans || !y || !rows) {
		free(w);
		free(chans);
		free(y);
		return -1;
	}
	for (size_t i = 0; i < t->ng; i++) {
		w[i].group = t->g[i].group;
		w[i].ns = now - t->g[i].wait_start_ns;
		w[i].lower = t->g[i].lower;
	}
	lk_chans(t, w);
	qsort(w, t->ng, sizeof(*w), lk_cmp_wait);
	for (size_t gi = 0, wi = 0; gi < t->ngroups; gi++) {
		struct lk_group *g = &t->groups[gi];
		struct leaks_row *row = &r->rows[r->nrows];
		size_t w0, nw, nc = 0;
		bool mono = true;
		size_t rlen = 0;
		const char *rs;

		while (wi < t->ng && w[wi].group < gi)
			wi++;
		for (w0 = wi; wi < t->ng && w[wi].group == gi; wi++)
			if (w[wi].chan)
				chans[nc++] = w[wi].chan;
		nw = wi - w0;
		if (!nw && ns && g->series[0] == 0 && !g->left)
			continue;
		memset(row, 0, sizeof(*row));
		row->target = ti;
		row->gopc = g->gopc;
		row->status = g->status;
		rs = g->status == GS_WAITING ? gsample_reason(&t->gs, g->reason, &rlen) : "";
		if (rlen >= sizeof(row->reason))
			rlen = sizeof(row->reason) - 1;
		memcpy(row->reason, rs, rlen);
		memcpy(row->pcs, g->pcs, sizeof(g->pcs));
		row->depth = g->depth;
		row->count = ns ? g->series[ns - 1] : (uint32_t)nw;
		row->count_start = ns ? g->series[0] : row->count;
		row->count_min = row->count_max = row->count_start;
		for (size_t k = 0; k < ns; k++) {
			y[k] = g->series[k];
			if (g->series[k] < row->count_min)
				row->count_min = g->series[k];
			if (g->series[k] > row->count_max)
				row->count_max = g->series[k];
			if (k && g->series[k] < g->series[k - 1])
				mono = false;
		}
		row->growth_per_s = leaks_slope(lk->times, y, ns);
		row->left = g->left;
		if (nw) {
			row->oldest_wait_ns = w[wi - 1].ns;
			row->median_wait_ns = w[w0 + nw / 2].ns;
			row->wait_lower_bound = w[wi - 1].lower;
		}
		qsort(chans, nc, sizeof(*chans), lk_cmp_u64);
		for (size_t k = 0; k < nc; k++)
			if (!k || chans[k] != chans[k - 1])
				row->wait_objects++;
		row->wait_object = row->wait_objects == 1 ? chans[0] : 0;
		row->suspect = g->status == GS_WAITING && ns >= 3 && mono && g->left == 0 &&
			       row->count >= row->count_start + 2 && row->growth_per_s > 0;
		g->grown_windows = row->suspect ? g->grown_windows + 1 : 0;
		row->grown_windows = g->grown_windows;
		r->nrows++;
	}
	for (size_t i = n0; i < r->nrows; i++)
		r->nsuspects += r->rows[i].suspect;
	r->targets[ti].pid = t->pid;
	r->targets[ti].name = t->name;
	r->targets[ti].gb = t->gb;
	r->targets[ti].bias = t->bias;
	r->targets[ti].goroutines = (uint32_t)t->ng;
	r->targets[ti].goroutines_start = t->goroutines_start;
	r->targets[ti].exited = !t->alive;
	r->targets[ti].wait_offsets = t->gs.wo.source;
	r->torn += t->gs.torn;
	free(w);
	free(chans);
	free(y);
	return 0;
}

struct leaks_report *leaks_report(struct leaks *lk, uint64_t now_ns)
{
	struct leaks_report *r = calloc(1, sizeof(*r));
	size_t ns = lk->nsnap;

	if (r)
		r->targets = calloc(lk->nt + 1, sizeof(*r->targets));
	if (!r || !r->targets) {
		free(r);
		return NULL;
	}
	r->ntargets = lk->nt;
	r->snapshots = ns;
	r->window_s = ns ? lk->times[ns - 1] - lk->times[0] : 0;
	for (size_t i = 0; i < lk->nt; i++)
		if (lk_report_target(lk, i, now_ns, r) != 0) {
			leaks_report_free(r);
			return NULL;
		}
	qsort(r->rows, r->nrows, sizeof(*r->rows), lk_cmp_rows);
	r->torn -= lk->torn_reported;
	lk->torn_reported += r->torn;
	/* The next window starts at the last snapshot. */
	if (ns > 1) {
		lk->times[0] = lk->times[ns - 1];
		for (size_t i = 0; i < lk->nt; i++)
			for (size_t j = 0; j < lk->t[i]->ngroups; j++) {
				lk->t[i]->groups[j].series[0] = lk->t[i]->groups[j].series[ns - 1];
				lk->t[i]->groups[j].left = 0;
			}
		lk->nsnap = 1;
	}
	return r;
}

void leaks_report_free(struct leaks_report *r)
{
	if (!r)
		return;
	free(r->targets);
	free(r->rows);
	free(r);
}
