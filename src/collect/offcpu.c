/*
 * offcpu: aggregate goroutine waits by (process, reason, stack).
 *
 * Each snapshot is merged with the previous one by goroutine address:
 * an unchanged saved pc/sp/status continues the wait (no unwinding, no
 * extra reads), anything else closes the old wait and unwinds the new
 * one. Memory is bounded by max_stacks and the goroutine count; what does
 * not fit is counted in dropped_stacks.
 */
#include "offcpu.h"

#include "../proc/syscalls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFFCPU_DEFAULT_MAX_STACKS 65536
#define OFFCPU_MAX_SGS (4u << 20)
/*
 * Bytes at the top of a parked goroutine's stack that identify its wait:
 * the same pc and sp reached through another caller differ in the return
 * addresses there (a parked goroutine's stack does not change).
 */
#define OFFCPU_HASH_BYTES 512

void offcpu_init(struct offcpu *oc, const struct offcpu_opts *opts)
{
	memset(oc, 0, sizeof(*oc));
	oc->opts = *opts;
	if (!oc->opts.max_stacks)
		oc->opts.max_stacks = OFFCPU_DEFAULT_MAX_STACKS;
}

static void offcpu_clear_tables(struct offcpu *oc)
{
	for (size_t i = 0; i < oc->nstacks; i++) {
		free(oc->stacks[i].pcs);
		free(oc->stacks[i].h);
	}
	free(oc->stacks);
	free(oc->sidx);
	free(oc->sgs);
	free(oc->gidx);
	oc->stacks = NULL;
	oc->sidx = NULL;
	oc->sgs = NULL;
	oc->gidx = NULL;
	oc->nstacks = oc->stacks_cap = oc->sidx_cap = 0;
	oc->nsgs = oc->sgs_cap = oc->gidx_cap = 0;
}

void offcpu_free(struct offcpu *oc)
{
	offcpu_clear_tables(oc);
	for (size_t i = 0; i < oc->ntargets; i++) {
		struct offcpu_target *t = &oc->targets[i];

		gsample_close(&t->gs);
		gobin_close(t->gb);
		free(t->st);
		free(t->hbuf);
		free(t->haddr);
		free(t->hlen);
		free(t->hptr);
		free(t->hok);
		free(t->hval);
		free(t->pend);
		free(t->pendg);
		free(t->pcs);
		free(t->depth);
	}
	free(oc->targets);
	for (size_t i = 0; i < oc->nreasons; i++)
		free(oc->reasons[i]);
	free(oc->reasons);
	memset(oc, 0, sizeof(*oc));
}

int offcpu_add_target(struct offcpu *oc, pid_t pid, struct gobin *gb, uint64_t bias,
		      const char *exe, char *err, size_t errlen)
{
	struct offcpu_target *n = realloc(oc->targets, (oc->ntargets + 1) * sizeof(*n));
	struct offcpu_target *t;

	if (!n) {
		gobin_close(gb);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	oc->targets = n;
	t = &oc->targets[oc->ntargets];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->gb = gb;
	t->bias = bias;
	snprintf(t->exe, sizeof(t->exe), "%s", exe);
	if (gsample_open(&t->gs, pid, gb, bias, err, errlen) != 0) {
		gsample_close(&t->gs);
		gobin_close(gb);
		return -1;
	}
	oc->ntargets++;
	return 0;
}

/* Intern a reason string; returns its id or UINT32_MAX when out of memory. */
static uint32_t offcpu_reason_id(struct offcpu *oc, const char *s, size_t len)
{
	char **n;

	for (size_t i = 0; i < oc->nreasons; i++)
		if (strlen(oc->reasons[i]) == len && memcmp(oc->reasons[i], s, len) == 0)
			return (uint32_t)i;
	n = realloc(oc->reasons, (oc->nreasons + 1) * sizeof(*n));
	if (!n)
		return UINT32_MAX;
	oc->reasons = n;
	oc->reasons[oc->nreasons] = strndup(s, len);
	if (!oc->reasons[oc->nreasons])
		return UINT32_MAX;
	return (uint32_t)oc->nreasons++;
}

static uint64_t offcpu_hash(uint32_t target, uint32_t reason, const uint64_t *pcs, int n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)target << 32 | reason);

	for (int i = 0; i < n; i++) {
		h ^= pcs[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h ? h : 1;
}

static bool offcpu_rehash_stacks(struct offcpu *oc)
{
	size_t cap = oc->sidx_cap ? oc->sidx_cap * 2 : 1024;
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (!idx)
		return false;
	for (size_t i = 0; i < oc->nstacks; i++) {
		size_t j = oc->stacks[i].hash & (cap - 1);

		while (idx[j])
			j = (j + 1) & (cap - 1);
		idx[j] = (uint32_t)i + 1;
	}
	free(oc->sidx);
	oc->sidx = idx;
	oc->sidx_cap = cap;
	return true;
}

/* Find or add the stack; -1 when the table is full or out of memory. */
static int32_t offcpu_stack_id(struct offcpu *oc, uint32_t target, uint32_t reason,
			       const uint64_t *pcs, int n)
{
	uint64_t h = offcpu_hash(target, reason, pcs, n);
	struct offcpu_stack *s;
	size_t j;

	if (oc->sidx_cap) {
		for (j = h & (oc->sidx_cap - 1); oc->sidx[j]; j = (j + 1) & (oc->sidx_cap - 1)) {
			s = &oc->stacks[oc->sidx[j] - 1];
			if (s->hash == h && s->target == target && s->reason == reason &&
			    s->depth == (uint32_t)n && memcmp(s->pcs, pcs, (size_t)n * 8) == 0)
				return (int32_t)(oc->sidx[j] - 1);
		}
	}
	if (oc->nstacks >= oc->opts.max_stacks)
		return -1;
	if ((oc->nstacks + 1) * 2 > oc->sidx_cap && !offcpu_rehash_stacks(oc))
		return -1;
	if (oc->nstacks == oc->stacks_cap) {
		size_t cap = oc->stacks_cap ? oc->stacks_cap * 2 : 256;
		struct offcpu_stack *ns = realloc(oc->stacks, cap * sizeof(*ns));

		if (!ns)
			return -1;
		oc->stacks = ns;
		oc->stacks_cap = cap;
	}
	s = &oc->stacks[oc->nstacks];
	memset(s, 0, sizeof(*s));
	s->pcs = malloc((size_t)(n ? n : 1) * 8);
	if (!s->pcs)
		return -1;
	memcpy(s->pcs, pcs, (size_t)n * 8);
	s->depth = (uint32_t)n;
	s->target = target;
	s->reason = reason;
	s->hash = h;
	for (j = h & (oc->sidx_cap - 1); oc->sidx[j]; j = (j + 1) & (oc->sidx_cap - 1))
		;
	oc->sidx[j] = (uint32_t)oc->nstacks + 1;
	return (int32_t)oc->nstacks++;
}

static uint64_t offcpu_sg_hash(uint32_t stack, uint64_t goid)
{
	uint64_t h = ((uint64_t)stack << 40) ^ goid;

	h *= 0x9E3779B97F4A7C15ull;
	return h ^ (h >> 31);
}

static bool offcpu_rehash_sgs(struct offcpu *oc)
{
	size_t cap = oc->gidx_cap ? oc->gidx_cap * 2 : 4096;
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (!idx)
		return false;
	for (size_t i = 0; i < oc->nsgs; i++) {
		size_t j = offcpu_sg_hash(oc->sgs[i].stack, oc->sgs[i].goid) & (cap - 1);

		while (idx[j])
			j = (j + 1) & (cap - 1);
		idx[j] = (uint32_t)i + 1;
	}
	free(oc->gidx);
	oc->gidx = idx;
	oc->gidx_cap = cap;
	return true;
}

/* Index of the (stack, goid) entry, added if new; UINT32_MAX if full. */
static uint32_t offcpu_sg_id(struct offcpu *oc, uint32_t stack, uint64_t goid)
{
	uint64_t h = offcpu_sg_hash(stack, goid);
	size_t j;

	if (oc->gidx_cap) {
		for (j = h & (oc->gidx_cap - 1); oc->gidx[j]; j = (j + 1) & (oc->gidx_cap - 1)) {
			struct offcpu_sg *e = &oc->sgs[oc->gidx[j] - 1];

			if (e->stack == stack && e->goid == goid)
				return oc->gidx[j] - 1;
		}
	}
	if (oc->nsgs >= OFFCPU_MAX_SGS)
		return UINT32_MAX;
	if ((oc->nsgs + 1) * 2 > oc->gidx_cap && !offcpu_rehash_sgs(oc))
		return UINT32_MAX;
	if (oc->nsgs == oc->sgs_cap) {
		size_t cap = oc->sgs_cap ? oc->sgs_cap * 2 : 1024;
		struct offcpu_sg *n = realloc(oc->sgs, cap * sizeof(*n));

		if (!n)
			return UINT32_MAX;
		oc->sgs = n;
		oc->sgs_cap = cap;
	}
	oc->sgs[oc->nsgs] = (struct offcpu_sg){ .stack = stack, .goid = goid };
	for (j = h & (oc->gidx_cap - 1); oc->gidx[j]; j = (j + 1) & (oc->gidx_cap - 1))
		;
	oc->gidx[j] = (uint32_t)oc->nsgs + 1;
	return (uint32_t)oc->nsgs++;
}

/* End a goroutine's wait: count it, or take its time back if too short. */
static void offcpu_close(struct offcpu *oc, struct offcpu_gst *st)
{
	struct offcpu_stack *s;

	if (st->stack < 0)
		return;
	s = &oc->stacks[st->stack];
	if (st->wait_ns < oc->opts.min_wait_ns) {
		s->total_ns -= st->wait_ns;
		if (st->sg != UINT32_MAX)
			oc->sgs[st->sg].ns -= st->wait_ns;
	} else {
		s->waits++;
		if (!s->h)
			s->h = calloc(1, sizeof(*s->h));
		if (s->h)
			hist_add(s->h, st->wait_ns);
		if (st->sg != UINT32_MAX)
			oc->sgs[st->sg].waits++;
	}
	st->stack = -1;
}

/* The reason a goroutine is not running, or false if it is on a CPU. */
static bool offcpu_reason(struct offcpu_target *t, const struct gsample_g *g, char *buf,
			  size_t len)
{
	const char *r;
	size_t rl;
	long nr;
	int tid;

	switch (g->status) {
	case GS_WAITING:
		r = gsample_reason(&t->gs, g->waitreason, &rl);
		if (rl)
			snprintf(buf, len, "%.*s", (int)rl, r);
		else
			snprintf(buf, len, "waiting (reason %u)", g->waitreason);
		return true;
	case GS_RUNNABLE:
	case GS_PREEMPTED:
		snprintf(buf, len, "runnable");
		return true;
	case GS_SYSCALL:
		tid = gsample_tid(&t->gs, g->m);
		/* A thread running in the kernel is on a CPU: not a wait. */
		if (!tid || !syscalls_current(t->pid, tid, &nr))
			return false;
		if (syscalls_name(nr))
			snprintf(buf, len, "syscall: %s", syscalls_name(nr));
		else
			snprintf(buf, len, "syscall: %ld", nr);
		return true;
	default:
		return false;
	}
}

static int offcpu_cmp_g(const void *a, const void *b)
{
	const struct gsample_g *x = a, *y = b;

	return x->gaddr < y->gaddr ? -1 : x->gaddr > y->gaddr;
}

/*
 * Start a new wait for G: its reason, and its stack unless that needs
 * unwinding (then *RID is set and the caller unwinds a batch of them and
 * calls offcpu_begin_stack). Returns true when G waits on a stack to find.
 */
static bool offcpu_begin(struct offcpu *oc, uint32_t ti, const struct gsample_g *g,
			 struct offcpu_gst *st, uint32_t *rid)
{
	struct offcpu_target *t = &oc->targets[ti];
	char reason[96];

	st->stack = -1;
	st->sg = UINT32_MAX;
	st->wait_ns = 0;
	if (!offcpu_reason(t, g, reason, sizeof(reason)))
		return false;
	if (oc->opts.reason && !strstr(reason, oc->opts.reason)) {
		st->stack = -2;
		return false;
	}
	*rid = offcpu_reason_id(oc, reason, strlen(reason));
	if (*rid == UINT32_MAX)
		return false;
	if (oc->opts.no_stacks) {
		uint64_t none[1] = { 0 };

		st->stack = offcpu_stack_id(oc, ti, *rid, none, 0);
		if (st->stack < 0)
			oc->dropped_stacks++;
		else
			st->sg = offcpu_sg_id(oc, (uint32_t)st->stack, g->goid);
		return false;
	}
	return true;
}

/* The stack of a wait offcpu_begin left to unwind: PCS, N deep (0: torn). */
static void offcpu_begin_stack(struct offcpu *oc, uint32_t ti, const struct gsample_g *g,
			       struct offcpu_gst *st, uint32_t rid, const uint64_t *pcs, int n)
{
	if (n <= 0) {
		oc->torn++;
		return;
	}
	st->stack = offcpu_stack_id(oc, ti, rid, pcs, n);
	if (st->stack < 0) {
		oc->dropped_stacks++;
		return;
	}
	st->sg = offcpu_sg_id(oc, (uint32_t)st->stack, g->goid);
}

/* Time DT_NS of an ongoing (or new) wait ST. */
static void offcpu_account(struct offcpu *oc, struct offcpu_gst *st, uint64_t dt_ns)
{
	if (st->stack < 0)
		return;
	st->wait_ns += dt_ns;
	oc->stacks[st->stack].total_ns += dt_ns;
	if (st->sg != UINT32_MAX)
		oc->sgs[st->sg].ns += dt_ns;
}

/* Grow the stack-top scratch of T to N goroutines. */
static bool offcpu_hash_grow(struct offcpu_target *t, size_t n)
{
	size_t cap = t->hcap ? t->hcap : 64;

	if (n <= t->hcap)
		return true;
	while (cap < n)
		cap *= 2;
	free(t->hbuf);
	free(t->haddr);
	free(t->hlen);
	free(t->hptr);
	free(t->hok);
	free(t->hval);
	t->hbuf = malloc(cap * OFFCPU_HASH_BYTES);
	t->haddr = malloc(cap * sizeof(*t->haddr));
	t->hlen = malloc(cap * sizeof(*t->hlen));
	t->hptr = malloc(cap * sizeof(*t->hptr));
	t->hok = malloc(cap * sizeof(*t->hok));
	t->hval = malloc(cap * sizeof(*t->hval));
	t->hcap = cap;
	if (!t->hbuf || !t->haddr || !t->hlen || !t->hptr || !t->hok || !t->hval) {
		t->hcap = 0;
		return false;
	}
	return true;
}

/*
 * Hash the top of every listed goroutine's stack in one batched read.
 * HVAL[i] is 0 when it could not be read (the wait is then identified by
 * pc/sp alone).
 */
static void offcpu_hash_stacks(struct offcpu_target *t, const struct gsample_g *gs, size_t n)
{
	size_t k = 0;

	if (!offcpu_hash_grow(t, n))
		return;
	for (size_t i = 0; i < n; i++) {
		const struct gsample_g *g = &gs[i];
		uint64_t room = g->sp < g->stack_hi ? g->stack_hi - g->sp : 0;

		t->hval[i] = 0;
		t->hlen[i] = room < OFFCPU_HASH_BYTES ? (size_t)room : OFFCPU_HASH_BYTES;
		t->haddr[i] = g->sp;
		t->hptr[i] = t->hbuf + i * OFFCPU_HASH_BYTES;
		if (g->status == GS_RUNNING || g->sp < g->stack_lo || t->hlen[i] == 0)
			t->hlen[i] = 0;
		else
			k++;
	}
	if (!k)
		return;
	/* Read only the ranges with bytes: compact them in place. */
	size_t m = 0;
	size_t *idx = malloc(n * sizeof(*idx));

	if (!idx)
		return;
	for (size_t i = 0; i < n; i++) {
		if (!t->hlen[i])
			continue;
		idx[m] = i;
		t->haddr[m] = t->haddr[i];
		t->hlen[m] = t->hlen[i];
		t->hptr[m] = t->hptr[i];
		m++;
	}
	procmem_readvar(&t->gs.pm, t->haddr, t->hlen, t->hptr, m, t->hok);
	for (size_t j = m; j-- > 0;) {
		uint64_t h = 0xcbf29ce484222325ull;

		if (!t->hok[j])
			continue;
		for (size_t b = 0; b < t->hlen[j]; b++)
			h = (h ^ t->hptr[j][b]) * 0x100000001b3ull;
		t->hval[idx[j]] = h ? h : 1;
	}
	free(idx);
}

/* Room for N new waits to unwind in T's scratch. */
static bool offcpu_pend_grow(struct offcpu_target *t, size_t n)
{
	size_t cap = t->pcap ? t->pcap : 64;
	void *a, *b, *c, *d;

	if (n <= t->pcap)
		return true;
	while (cap < n)
		cap *= 2;
	a = realloc(t->pend, cap * sizeof(*t->pend));
	if (a)
		t->pend = a;
	b = realloc(t->pendg, cap * sizeof(*t->pendg));
	if (b)
		t->pendg = b;
	c = realloc(t->pcs, cap * GSAMPLE_MAX_DEPTH * sizeof(*t->pcs));
	if (c)
		t->pcs = c;
	d = realloc(t->depth, cap * sizeof(*t->depth));
	if (d)
		t->depth = d;
	if (!a || !b || !c || !d)
		return false;
	t->pcap = cap;
	return true;
}

static void offcpu_sample_target(struct offcpu *oc, uint32_t ti, uint64_t dt_ns)
{
	struct offcpu_target *t = &oc->targets[ti];
	struct gsample_g *gs;
	struct offcpu_gst *nst;
	size_t n, k = 0, pi = 0, npend = 0;
	uint32_t rid;

	if (gsample_snapshot(&t->gs, &gs, &n) != 0) {
		t->exited = true;
		for (size_t i = 0; i < t->nst; i++)
			offcpu_close(oc, &t->st[i]);
		t->nst = 0;
		return;
	}
	t->goroutines = n;
	if (n > t->goroutines_peak)
		t->goroutines_peak = n;
	qsort(gs, n, sizeof(*gs), offcpu_cmp_g);
	nst = calloc(n ? n : 1, sizeof(*nst));
	if (!nst)
		return;
	offcpu_hash_stacks(t, gs, n);
	for (size_t i = 0; i < n; i++) {
		const struct gsample_g *g = &gs[i];
		struct offcpu_gst *prev = NULL, *st = &nst[k];

		/* Previous entries for goroutines now gone or running: close. */
		while (pi < t->nst && t->st[pi].gaddr < g->gaddr)
			offcpu_close(oc, &t->st[pi++]);
		if (pi < t->nst && t->st[pi].gaddr == g->gaddr)
			prev = &t->st[pi++];
		if (oc->opts.goid >= 0 && g->goid != (uint64_t)oc->opts.goid) {
			if (prev)
				offcpu_close(oc, prev);
			continue;
		}
		if (g->status == GS_RUNNING) {
			if (prev)
				offcpu_close(oc, prev);
			continue;
		}
		uint64_t h = t->hcap ? t->hval[i] : 0;

		if (prev && prev->stack != -1 && prev->goid == g->goid &&
		    prev->status == g->status && prev->pc == g->pc && prev->sp == g->sp &&
		    prev->waitreason == g->waitreason && (!h || !prev->hash || prev->hash == h)) {
			*st = *prev; /* the same wait goes on */
		} else {
			if (prev)
				offcpu_close(oc, prev);
			st->gaddr = g->gaddr;
			st->goid = g->goid;
			st->status = g->status;
			st->pc = g->pc;
			st->sp = g->sp;
			st->waitreason = g->waitreason;
			if (offcpu_begin(oc, ti, g, st, &rid) &&
			    offcpu_pend_grow(t, npend + 1)) {
				t->pend[npend].g = i;
				t->pend[npend].st = k;
				t->pend[npend].rid = rid;
				t->pendg[npend++] = g;
			}
		}
		st->hash = h;
		offcpu_account(oc, st, dt_ns);
		k++;
	}
	while (pi < t->nst)
		offcpu_close(oc, &t->st[pi++]);
	/* New waits: unwind them all with two batched reads. */
	if (npend) {
		gsample_unwind_many(&t->gs, (const struct gsample_g *const *)t->pendg, npend,
				    t->pcs, GSAMPLE_MAX_DEPTH, t->depth);
		for (size_t j = 0; j < npend; j++) {
			struct offcpu_gst *st = &nst[t->pend[j].st];

			offcpu_begin_stack(oc, ti, &gs[t->pend[j].g], st, t->pend[j].rid,
					   t->pcs + j * GSAMPLE_MAX_DEPTH, t->depth[j]);
			offcpu_account(oc, st, dt_ns);
		}
	}
	free(t->st);
	t->st = nst;
	t->nst = k;
}

size_t offcpu_sample(struct offcpu *oc, uint64_t dt_ns)
{
	size_t alive = 0;

	oc->samples++;
	for (size_t i = 0; i < oc->ntargets; i++) {
		if (oc->targets[i].exited)
			continue;
		offcpu_sample_target(oc, (uint32_t)i, dt_ns);
		alive += !oc->targets[i].exited;
	}
	return alive;
}

void offcpu_flush(struct offcpu *oc)
{
	for (size_t i = 0; i < oc->ntargets; i++) {
		struct offcpu_target *t = &oc->targets[i];

		for (size_t j = 0; j < t->nst; j++)
			offcpu_close(oc, &t->st[j]);
		t->nst = 0;
	}
}

void offcpu_reset(struct offcpu *oc)
{
	offcpu_flush(oc);
	offcpu_clear_tables(oc);
	oc->samples = 0;
	oc->dropped_stacks = 0;
	oc->torn = 0;
}

uint64_t offcpu_stack_goroutines(const struct offcpu *oc, uint32_t i)
{
	uint64_t n = 0;

	for (size_t j = 0; j < oc->nsgs; j++)
		if (oc->sgs[j].stack == i && oc->sgs[j].ns > 0)
			n++;
	return n;
}
