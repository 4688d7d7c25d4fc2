/*
 * contention: parked goroutines by the channel or semaphore they wait on,
 * from g.waiting and runtime.semtable read through process_vm_readv (see
 * contention.h).
 */
#include "contention.h"

#include "../gobin/goglobals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CT_MAX_NODES 65536 /* treap nodes read per snapshot */

enum { CT_RECV, CT_SEND, CT_SELECT, CT_SEMAW, CT_CONDW };

/* One waiting goroutine. */
struct ct_w {
	uint64_t goid, gaddr, pc, sp;
	uint64_t key;   /* hchan or semaphore address */
	uint64_t addr;  /* the object's address as shown */
	uint8_t dir;
	uint8_t kind;
	bool cont;      /* the same wait as in the previous snapshot */
	int depth;
	uint64_t pcs[CONTENTION_DEPTH];
};

/* A goroutine of the snapshot, by g address. */
struct ct_gref {
	uint64_t gaddr;
	size_t i;
};

static const char *const ct_kinds[CT_NKINDS] = { "chan",	   "mutex", "rwmutex",
						 "waitgroup", "sema",  "cond" };

const char *contention_kind_name(enum contention_kind k)
{
	return (unsigned)k < CT_NKINDS ? ct_kinds[k] : "?";
}

static uint64_t ct_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static int ct_cmp_goid(const void *a, const void *b)
{
	uint64_t x = ((const struct ct_w *)a)->goid, y = ((const struct ct_w *)b)->goid;

	return x < y ? -1 : x > y;
}

static int ct_cmp_gref(const void *a, const void *b)
{
	uint64_t x = ((const struct ct_gref *)a)->gaddr, y = ((const struct ct_gref *)b)->gaddr;

	return x < y ? -1 : x > y;
}

void contention_init(struct contention *c)
{
	memset(c, 0, sizeof(*c));
}

void contention_free(struct contention *c)
{
	for (size_t i = 0; i < c->nt; i++) {
		gsample_close(&c->t[i]->gs);
		free(c->t[i]->w);
		free(c->t[i]);
	}
	free(c->t);
	free(c->obj);
	free(c->oidx);
	memset(c, 0, sizeof(*c));
}

struct contention_target *contention_add(struct contention *c, pid_t pid, struct gobin *gb,
					 uint64_t bias, const char *name, char *err,
					 size_t errlen)
{
	struct contention_target *t = calloc(1, sizeof(*t)), **nt;
	uint64_t st;

	nt = t ? realloc(c->t, (c->nt + 1) * sizeof(*nt)) : NULL;
	if (!nt) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->t = nt;
	if (gsample_open_extra(&t->gs, pid, gb, bias, err, errlen) != 0) {
		free(t);
		return NULL;
	}
	t->pid = pid;
	t->name = name;
	t->gb = gb;
	t->bias = bias;
	t->alive = true;
	t->sema_ok = goglobals_semtable(gb, (uint64_t)t->gs.wo.semtable_stride *
						    (uint64_t)t->gs.wo.semtable_n,
					&st, t->sema_why, sizeof(t->sema_why));
	t->semtable = st + bias;
	c->t[c->nt++] = t;
	return t;
}

void contention_remove(struct contention *c, struct contention_target *t)
{
	(void)c;
	t->alive = false;
}

/*
 * The kind of a semaphore wait and its object's address, from the
 * innermost frames of package sync (see contention.h).
 */
static void ct_sema_kind(struct contention_target *t, struct ct_w *w)
{
	struct pclntab_frame fr[16];
	bool mutex = false;

	w->kind = CT_SEMA;
	w->addr = w->key;
	for (int i = 0; i < w->depth; i++) {
		uint64_t pc = w->pcs[i] - t->bias - (i ? 1 : 0);
		int k = pclntab_symbolize(t->gb->pcln, pc, fr, 16);

		for (int j = 0; j < k; j++) {
			const char *f = fr[j].func;

			if (strncmp(f, "internal/sync.", 14) == 0)
				f += 9;
			if (strncmp(f, "sync.", 5) != 0 || strncmp(f, "sync.runtime_", 13) == 0)
				continue;
			if (strncmp(f, "sync.(*Mutex).", 14) == 0) {
				mutex = true;
				w->kind = CT_MUTEX;
				w->addr = w->key - 4;
				continue;
			}
			if (strcmp(f, "sync.(*RWMutex).RLock") == 0) {
				w->kind = CT_RWMUTEX;
				w->addr = w->key - 12;
			} else if (strcmp(f, "sync.(*RWMutex).Lock") == 0) {
				w->kind = CT_RWMUTEX;
				w->addr = w->key - (mutex ? 4 : 8);
			} else if (strcmp(f, "sync.(*WaitGroup).Wait") == 0) {
				/* the semaphore is the word after the 64-bit state (1.17+) */
				w->kind = CT_WAITGROUP;
				w->addr = w->key - 8;
			}
			return;
		}
	}
}

static uint64_t ct_okey(const struct contention_object *o)
{
	return o->key;
}

static size_t ct_slot(uint64_t key, size_t ti, size_t cap)
{
	uint64_t h = (key ^ (ti * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;

	return (size_t)(h >> 17) & (cap - 1);
}

/* Rebuild the index with room for twice the objects; false on OOM. */
static bool ct_rehash(struct contention *c)
{
	size_t cap = c->oidx_cap ? c->oidx_cap : 64;
	uint32_t *ni;

	while (cap < (c->nobj + 1) * 2)
		cap *= 2;
	ni = calloc(cap, sizeof(*ni));
	if (!ni)
		return false;
	for (size_t i = 0; i < c->nobj; i++) {
		size_t j = ct_slot(ct_okey(&c->obj[i]), c->obj[i].target, cap);

		while (ni[j])
			j = (j + 1) & (cap - 1);
		ni[j] = (uint32_t)i + 1;
	}
	free(c->oidx);
	c->oidx = ni;
	c->oidx_cap = cap;
	return true;
}

/*
 * A sync.Cond waiter's group: the return address into the caller of
 * sync.(*Cond).Wait (its call site), 0 if not on the stack.
 */
static uint64_t ct_cond_site(struct contention_target *t, const struct ct_w *w)
{
	struct pclntab_frame fr[16];

	for (int i = 0; i + 1 < w->depth; i++) {
		int k = pclntab_symbolize(t->gb->pcln, w->pcs[i] - t->bias - (i ? 1 : 0), fr, 16);

		for (int j = 0; j < k; j++)
			if (strcmp(fr[j].func, "sync.(*Cond).Wait") == 0)
				return j + 1 < k ? w->pcs[i] : w->pcs[i + 1];
	}
	return 0;
}

/* Object for (target TI, W's key): found or added; NULL on OOM. */
static struct contention_object *ct_object(struct contention *c, size_t ti,
					   const struct ct_w *w)
{
	size_t j;

	if ((c->nobj + 1) * 2 > c->oidx_cap && !ct_rehash(c))
		return NULL;
	for (j = ct_slot(w->key, ti, c->oidx_cap); c->oidx[j]; j = (j + 1) & (c->oidx_cap - 1)) {
		struct contention_object *o = &c->obj[c->oidx[j] - 1];

		if (o->target != ti || ct_okey(o) != w->key)
			continue;
		if (o->kind == CT_SEMA && w->kind != CT_SEMA) {
			/* the first waiter's stack was not read: its kind is known now */
			o->kind = (enum contention_kind)w->kind;
			o->addr = w->addr;
		}
		return o;
	}
	if (c->nobj == c->objcap) {
		size_t ncap = c->objcap ? c->objcap * 2 : 32;
		struct contention_object *n = realloc(c->obj, ncap * sizeof(*n));

		if (!n)
			return NULL;
		c->obj = n;
		c->objcap = ncap;
	}
	struct contention_object *o = &c->obj[c->nobj];

	memset(o, 0, sizeof(*o));
	o->target = ti;
	o->kind = (enum contention_kind)w->kind;
	o->addr = w->addr;
	o->sema = w->dir == CT_SEMAW ? w->key : 0;
	o->key = w->key;
	c->oidx[j] = (uint32_t)c->nobj + 1;
	c->nobj++;
	return o;
}

/* Add NS (and a contention if NEW) to the stack of W in O. */
static void ct_account(struct contention_object *o, const struct ct_w *w, uint64_t ns, bool new)
{
	size_t i;

	o->wait_ns += ns;
	o->contentions += new;
	if (!w->depth) { /* stack not read (the goroutine moved): retried next time */
		o->other_wait_ns += ns;
		return;
	}
	for (i = 0; i < o->nstacks; i++)
		if (o->stacks[i].depth == w->depth &&
		    memcmp(o->stacks[i].pcs, w->pcs, (size_t)w->depth * 8) == 0)
			break;
	if (i == o->nstacks) {
		if (i == CONTENTION_STACKS) {
			o->other_wait_ns += ns;
			return;
		}
		memcpy(o->stacks[i].pcs, w->pcs, sizeof(w->pcs));
		o->stacks[i].depth = w->depth;
		o->stacks[i].wait_ns = 0;
		o->stacks[i].contentions = 0;
		o->nstacks++;
	}
	o->stacks[i].wait_ns += ns;
	o->stacks[i].contentions += new;
}

static bool ct_push(struct ct_w **v, size_t *n, size_t *cap, const struct ct_w *w)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct ct_w *nv = realloc(*v, ncap * sizeof(*nv));

		if (!nv)
			return false;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = *w;
	return true;
}

static const struct gsample_g *ct_find_g(const struct ct_gref *refs, size_t n,
					 const struct gsample_g *gs, uint64_t gaddr)
{
	struct ct_gref key = { .gaddr = gaddr }, *r;

	r = bsearch(&key, refs, n, sizeof(*refs), ct_cmp_gref);
	return r ? &gs[r->i] : NULL;
}

/* Channel waiters: g.waiting -> sudog (pointing back to g) -> hchan. */
static void ct_chan_waiters(struct contention_target *t, const struct gsample_g *gs, size_t n,
			    struct ct_w **v, size_t *nv, size_t *cap)
{
	const struct gowait_offsets *o = &t->gs.wo;
	size_t sz = (size_t)o->sudog_size, m = 0;
	uint64_t *addr = calloc(n + 1, sizeof(*addr));
	size_t *slot = calloc(n + 1, sizeof(*slot));
	uint8_t *dir = calloc(n + 1, 1), *buf = calloc(n + 1, sz);
	bool *ok = calloc(n + 1, sizeof(*ok));

	if (!addr || !slot || !dir || !buf || !ok)
		goto out;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *r;

		if (gs[i].status != GS_WAITING)
			continue;
		r = gsample_reason(&t->gs, gs[i].waitreason, &len);
		if (!gs[i].waiting && !(len == 14 && memcmp(r, "sync.Cond.Wait", 14) == 0))
			continue;
		if (len == 9 && memcmp(r, "chan send", 9) == 0)
			dir[m] = CT_SEND;
		else if (len == 12 && memcmp(r, "chan receive", 12) == 0)
			dir[m] = CT_RECV;
		else if (len == 6 && memcmp(r, "select", 6) == 0)
			dir[m] = CT_SELECT;
		else if (len == 14 && memcmp(r, "sync.Cond.Wait", 14) == 0) {
			/* on the cond's notifyList: grouped by call site once unwound */
			struct ct_w w = { .goid = gs[i].goid, .gaddr = gs[i].gaddr, .pc = gs[i].pc,
					  .sp = gs[i].sp, .dir = CT_CONDW, .kind = CT_COND };

			if (!ct_push(v, nv, cap, &w))
				goto out;
			continue;
		} else {
			continue;
		}
		addr[m] = gs[i].waiting;
		slot[m++] = i;
	}
	procmem_readmany(&t->gs.pm, addr, m, sz, buf, ok);
	for (size_t j = 0; j < m; j++) {
		const struct gsample_g *g = &gs[slot[j]];
		struct ct_w w = { 0 };

		if (!ok[j] || ct_u64(buf + j * sz + o->sudog_g) != g->gaddr)
			continue;
		w.key = w.addr = ct_u64(buf + j * sz + o->sudog_c);
		if (!w.key)
			continue;
		w.goid = g->goid;
		w.gaddr = g->gaddr;
		w.pc = g->pc;
		w.sp = g->sp;
		w.dir = dir[j];
		w.kind = CT_CHAN;
		if (!ct_push(v, nv, cap, &w))
			break;
	}
out:
	free(addr);
	free(slot);
	free(dir);
	free(buf);
	free(ok);
}

/* Semaphore waiters: every treap of runtime.semtable, and each node's waitlink. */
static void ct_sema_waiters(struct contention_target *t, const struct gsample_g *gs, size_t n,
			    const struct ct_gref *refs, struct ct_w **v, size_t *nv, size_t *cap)
{
	const struct gowait_offsets *o = &t->gs.wo;
	size_t tabsz = (size_t)o->semtable_stride * (size_t)o->semtable_n, nodes = 0;
	uint8_t *tab = malloc(tabsz), sud[256];
	uint64_t *todo = malloc(CT_MAX_NODES * sizeof(*todo));

	if (!tab || !todo || (size_t)o->sudog_size > sizeof(sud))
		goto out;
	if (!procmem_read(&t->gs.pm, t->semtable, tab, tabsz))
		goto out;
	for (int r = 0; r < o->semtable_n; r++) {
		size_t ntodo = 0;
		uint64_t root = ct_u64(tab + (size_t)r * (size_t)o->semtable_stride +
				       (size_t)o->semaroot_treap);

		if (!root)
			continue;
		todo[ntodo++] = root;
		while (ntodo && nodes < CT_MAX_NODES) {
			uint64_t node = todo[--ntodo], s = node, elem;

			nodes++;
			if (!procmem_read(&t->gs.pm, node, sud, (size_t)o->sudog_size)) {
				t->treap_bad++;
				continue;
			}
			elem = ct_u64(sud + o->sudog_elem);
			if (ntodo + 2 < CT_MAX_NODES) {
				if (ct_u64(sud + o->sudog_prev))
					todo[ntodo++] = ct_u64(sud + o->sudog_prev);
				if (ct_u64(sud + o->sudog_next))
					todo[ntodo++] = ct_u64(sud + o->sudog_next);
			}
			/* The node, then the other waiters of the same address. */
			for (int hop = 0; s && hop < 4096 && nodes < CT_MAX_NODES; hop++) {
				const struct gsample_g *g;
				struct ct_w w = { 0 };

				if (hop && !procmem_read(&t->gs.pm, s, sud, (size_t)o->sudog_size))
					break;
				if (hop)
					nodes++;
				g = ct_find_g(refs, n, gs, ct_u64(sud + o->sudog_g));
				s = ct_u64(sud + o->sudog_waitlink);
				if (!g || g->status != GS_WAITING) {
					t->treap_bad += g == NULL;
					continue;
				}
				w.goid = g->goid;
				w.gaddr = g->gaddr;
				w.pc = g->pc;
				w.sp = g->sp;
				w.key = w.addr = elem;
				w.dir = CT_SEMAW;
				w.kind = CT_SEMA; /* refined from its stack (ct_sema_kind) */
				if (!ct_push(v, nv, cap, &w))
					goto out;
			}
		}
	}
out:
	free(tab);
	free(todo);
}

/* Channel state of the objects waited on now (one batched read). */
static void ct_read_chans(struct contention *c, size_t ti)
{
	struct contention_target *t = c->t[ti];
	const struct gowait_offsets *o = &t->gs.wo;
	size_t sz = (size_t)o->hchan_size, m = 0;
	uint64_t *addr = calloc(c->nobj + 1, sizeof(*addr));
	size_t *slot = calloc(c->nobj + 1, sizeof(*slot));
	uint8_t *buf = calloc(c->nobj + 1, sz);
	bool *ok = calloc(c->nobj + 1, sizeof(*ok));

	if (addr && slot && buf && ok) {
		for (size_t i = 0; i < c->nobj; i++)
			if (c->obj[i].target == ti && c->obj[i].kind == CT_CHAN &&
			    c->obj[i].waiters_cur) {
				addr[m] = c->obj[i].addr;
				slot[m++] = i;
			}
		procmem_readmany(&t->gs.pm, addr, m, sz, buf, ok);
		for (size_t j = 0; j < m; j++) {
			struct contention_object *ob = &c->obj[slot[j]];
			const uint8_t *b = buf + j * sz;
			uint64_t cap = ct_u64(b + o->hchan_dataqsiz), len = ct_u64(b + o->hchan_qcount);

			if (!ok[j] || len > cap || cap > (1ull << 40))
				continue; /* torn or not a channel */
			ob->chan_read = true;
			ob->chan_cap = cap;
			ob->chan_len = len;
			memcpy(&ob->chan_closed, b + o->hchan_closed, 4);
			memcpy(&ob->chan_elemsize, b + o->hchan_elemsize, 2);
		}
	}
	free(addr);
	free(slot);
	free(buf);
	free(ok);
}

static void ct_target_sample(struct contention *c, size_t ti, uint64_t now)
{
	struct contention_target *t = c->t[ti];
	struct gsample_g *gs;
	size_t n, nv = 0, cap = 0, nu = 0;
	struct ct_w *v = NULL, *prev = t->w;
	uint64_t dt = t->last_ns ? now - t->last_ns : 0;
	const struct gsample_g **uw = NULL;
	uint64_t *pcs = NULL;
	int *depth = NULL;
	size_t *uslot = NULL;
	struct ct_gref *refs;

	if (gsample_snapshot(&t->gs, &gs, &n) != 0) {
		t->alive = false;
		return;
	}
	refs = calloc(n + 1, sizeof(*refs));
	if (!refs)
		return;
	for (size_t i = 0; i < n; i++) {
		refs[i].gaddr = gs[i].gaddr;
		refs[i].i = i;
	}
	qsort(refs, n, sizeof(*refs), ct_cmp_gref);
	ct_chan_waiters(t, gs, n, &v, &nv, &cap);
	if (t->sema_ok)
		ct_sema_waiters(t, gs, n, refs, &v, &nv, &cap);
	/* A goroutine read twice (the treap changed while walked) counts once. */
	qsort(v, nv, sizeof(*v), ct_cmp_goid);
	size_t kept = 0;

	for (size_t i = 0; i < nv; i++)
		if (!kept || v[kept - 1].goid != v[i].goid)
			v[kept++] = v[i];
	nv = kept;
	uw = calloc(nv + 1, sizeof(*uw));
	uslot = calloc(nv + 1, sizeof(*uslot));
	pcs = calloc((nv + 1) * CONTENTION_DEPTH, sizeof(*pcs));
	depth = calloc(nv + 1, sizeof(*depth));
	if (!uw || !uslot || !pcs || !depth)
		goto out;
	/* The same wait as before (same object, pc and sp) keeps its stack. */
	for (size_t i = 0; i < t->nw; i++)
		prev[i].cont = false;
	for (size_t i = 0; i < nv; i++) {
		struct ct_w *p = t->nw ? bsearch(&v[i], prev, t->nw, sizeof(*prev), ct_cmp_goid)
				       : NULL;

		if (p && (p->key == v[i].key || (p->dir == CT_CONDW && v[i].dir == CT_CONDW)) &&
		    p->pc == v[i].pc && p->sp == v[i].sp && p->depth > 0) {
			v[i].key = p->key;
			v[i].cont = p->cont = true;
			v[i].depth = p->depth;
			v[i].kind = p->kind;
			v[i].addr = p->addr;
			memcpy(v[i].pcs, p->pcs, sizeof(p->pcs));
			continue;
		}
		uw[nu] = ct_find_g(refs, n, gs, v[i].gaddr);
		if (uw[nu])
			uslot[nu++] = i;
	}
	gsample_unwind_many(&t->gs, uw, nu, pcs, CONTENTION_DEPTH, depth);
	for (size_t j = 0; j < nu; j++) {
		struct ct_w *w = &v[uslot[j]];

		w->depth = depth[j];
		memcpy(w->pcs, pcs + j * CONTENTION_DEPTH, (size_t)depth[j] * 8);
		if (w->dir == CT_SEMAW)
			ct_sema_kind(t, w);
		else if (w->dir == CT_CONDW)
			w->key = ct_cond_site(t, w);
	}
	/* Cond waiters whose stack could not be read have no group yet. */
	kept = 0;
	for (size_t i = 0; i < nv; i++)
		if (v[i].dir != CT_CONDW || v[i].key)
			v[kept++] = v[i];
	nv = kept;
	/* Accumulate: a whole interval for a wait seen at both ends, half at one. */
	for (size_t i = 0; i < c->nobj; i++)
		if (c->obj[i].target == ti)
			c->obj[i].waiters_cur = c->obj[i].senders_cur = c->obj[i].receivers_cur =
				c->obj[i].selects_cur = 0;
	for (size_t i = 0; i < nv; i++) {
		struct contention_object *o = ct_object(c, ti, &v[i]);

		if (!o)
			goto out;
		o->waiters_cur++;
		o->senders_cur += v[i].dir == CT_SEND;
		o->receivers_cur += v[i].dir == CT_RECV;
		o->selects_cur += v[i].dir == CT_SELECT;
		ct_account(o, &v[i], v[i].cont ? dt : dt / 2, !v[i].cont);
	}
	for (size_t i = 0; i < t->nw; i++) {
		struct contention_object *o;

		if (prev[i].cont || !dt)
			continue;
		o = ct_object(c, ti, &prev[i]);
		if (o)
			ct_account(o, &prev[i], dt / 2, false);
	}
	for (size_t i = 0; i < c->nobj; i++) {
		struct contention_object *o = &c->obj[i];

		if (o->target != ti)
			continue;
		o->waiters_sum += o->waiters_cur;
		if (o->waiters_cur > o->waiters_max)
			o->waiters_max = o->waiters_cur;
		if (o->senders_cur > o->senders_max)
			o->senders_max = o->senders_cur;
		if (o->receivers_cur > o->receivers_max)
			o->receivers_max = o->receivers_cur;
		if (o->selects_cur > o->selects_max)
			o->selects_max = o->selects_cur;
	}
	ct_read_chans(c, ti);
	qsort(v, nv, sizeof(*v), ct_cmp_goid);
	free(t->w);
	t->w = v;
	t->nw = nv;
	v = NULL;
	t->last_ns = now;
out:
	free(refs);
	free(v);
	free(uw);
	free(uslot);
	free(pcs);
	free(depth);
}

void contention_sample(struct contention *c, uint64_t now_ns)
{
	if (!c->win_start_ns)
		c->win_start_ns = now_ns;
	for (size_t i = 0; i < c->nt; i++)
		if (c->t[i]->alive)
			ct_target_sample(c, i, now_ns);
	c->snapshots++;
	c->win_end_ns = now_ns;
}

void contention_add_release(struct contention *c, pid_t pid, uint64_t sema,
			    const uint64_t *pcs, int depth, uint64_t count)
{
	struct contention_object *o = NULL;
	size_t i;

	if (depth > CONTENTION_DEPTH)
		depth = CONTENTION_DEPTH;
	for (i = 0; i < c->nobj && !o; i++)
		if (c->obj[i].sema == sema && c->t[c->obj[i].target]->pid == pid)
			o = &c->obj[i];
	if (!o)
		return; /* released with a waiter, but none seen waiting by the sampler */
	o->releases += count;
	for (i = 0; i < o->nrel; i++)
		if (o->rel[i].depth == depth &&
		    (depth == 0 || memcmp(o->rel[i].pcs, pcs, (size_t)depth * 8) == 0))
			break;
	if (i == o->nrel) {
		if (i == CONTENTION_STACKS)
			return;
		memset(&o->rel[i], 0, sizeof(o->rel[i]));
		if (depth > 0)
			memcpy(o->rel[i].pcs, pcs, (size_t)depth * 8);
		o->rel[i].depth = depth;
		o->nrel++;
	}
	o->rel[i].contentions += count;
}

static int ct_cmp_rank(const void *a, const void *b, void *arg)
{
	const struct contention *c = arg;
	const struct contention_object *x = &c->obj[*(const size_t *)a];
	const struct contention_object *y = &c->obj[*(const size_t *)b];

	if (x->wait_ns != y->wait_ns)
		return x->wait_ns > y->wait_ns ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

size_t *contention_rank(const struct contention *c, size_t *n)
{
	size_t *idx = calloc(c->nobj + 1, sizeof(*idx)), k = 0;

	if (!idx)
		return NULL;
	for (size_t i = 0; i < c->nobj; i++)
		if (c->obj[i].waiters_max)
			idx[k++] = i;
	qsort_r(idx, k, sizeof(*idx), ct_cmp_rank, (void *)c);
	*n = k;
	return idx;
}

void contention_reset(struct contention *c, uint64_t now_ns)
{
	c->nobj = 0;
	if (c->oidx)
		memset(c->oidx, 0, c->oidx_cap * sizeof(*c->oidx));
	c->snapshots = 0;
	c->win_start_ns = now_ns;
	c->win_end_ns = now_ns;
}
