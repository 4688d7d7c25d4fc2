/*
 * offcpu: aggregate goroutine waits by (process, reason, stack).
 *
 * Each snapshot is merged with the previous one by goroutine address:
 * an unchanged saved pc, stack depth, status and trackingSeq continues the
 * wait (no unwinding, no extra reads), anything else closes the old wait
 * and unwinds the new one. Memory is bounded by max_stacks and the
 * goroutine count; what does not fit is counted in dropped_stacks.
 */
#include "offcpu.h"

#include "../proc/names.h"
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
#define OFFCPU_SYSNAMES 4096 /* learned (stack -> syscall) names, open addressing */

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
		if (t->gb)
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
	free(oc->sysnames);
	for (size_t i = 0; i < oc->nreasons; i++)
		free(oc->reasons[i]);
	free(oc->reasons);
	memset(oc, 0, sizeof(*oc));
}

static void offcpu_close(struct offcpu *oc, struct offcpu_gst *st);

int offcpu_add_target(struct offcpu *oc, pid_t pid, struct gobin *gb, uint64_t bias,
		      const char *exe, char *err, size_t errlen)
{
	struct offcpu_target *n = realloc(oc->targets, (oc->ntargets + 1) * sizeof(*n));
	struct offcpu_target *t;

	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	oc->targets = n;
	t = &oc->targets[oc->ntargets];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->bias = bias;
	snprintf(t->exe, sizeof(t->exe), "%s", exe);
	if (gsample_open(&t->gs, pid, gb, bias, err, errlen) != 0) {
		gsample_close(&t->gs);
		return -1;
	}
	t->gb = gobin_ref(gb);
	return (int)oc->ntargets++;
}

void offcpu_target_gone(struct offcpu *oc, pid_t pid)
{
	for (size_t i = 0; i < oc->ntargets; i++) {
		struct offcpu_target *t = &oc->targets[i];

		if (t->pid != pid || t->exited)
			continue;
		t->exited = true;
		for (size_t j = 0; j < t->nst; j++)
			offcpu_close(oc, &t->st[j]);
		t->nst = 0;
	}
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

/*
 * The reason a goroutine is not running, or false if it is on a CPU. A
 * goroutine in a system call waits whatever its thread does in the
 * kernel: *NR is the call when its thread sleeps in it, else -1 (the
 * kernel names the call of a sleeping thread only), and BUF is left to
 * offcpu_sys_reason.
 */
static bool offcpu_reason(struct offcpu_target *t, const struct gsample_g *g, char *buf,
			  size_t len, long *nr)
{
	const char *r;
	size_t rl;
	int tid;

	*nr = -1;
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
		if (!tid || !syscalls_current(t->pid, tid, nr))
			*nr = -1;
		snprintf(buf, len, "syscall");
		return true;
	default:
		return false;
	}
}

/* "syscall: NAME" (NR >= 0) or "syscall" into BUF. */
static const char *offcpu_sys_reason(long nr, char *buf, size_t len)
{
	char nb[32];

	if (nr < 0)
		snprintf(buf, len, "syscall");
	else
		snprintf(buf, len, "syscall: %s", names_syscall((uint32_t)nr, nb, sizeof(nb)));
	return buf;
}

static uint64_t offcpu_sys_key(uint32_t target, const uint64_t *pcs, uint32_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ull * (target + 1);

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ pcs[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

/* The syscall last seen named on this stack, or -1. */
static long offcpu_sys_lookup(const struct offcpu *oc, uint64_t key)
{
	if (!oc->sysnames)
		return -1;
	for (size_t j = key & (OFFCPU_SYSNAMES - 1), k = 0; k < OFFCPU_SYSNAMES;
	     j = (j + 1) & (OFFCPU_SYSNAMES - 1), k++) {
		if (oc->sysnames[j].key == key)
			return oc->sysnames[j].nr;
		if (!oc->sysnames[j].key)
			break;
	}
	return -1;
}

static void offcpu_sys_learn(struct offcpu *oc, uint64_t key, long nr)
{
	if (nr < 0 || (!oc->sysnames && !(oc->sysnames = calloc(OFFCPU_SYSNAMES,
								  sizeof(*oc->sysnames)))))
		return;
	for (size_t j = key & (OFFCPU_SYSNAMES - 1), k = 0; k < OFFCPU_SYSNAMES;
	     j = (j + 1) & (OFFCPU_SYSNAMES - 1), k++) {
		if (oc->sysnames[j].key == key || !oc->sysnames[j].key) {
			if (!oc->sysnames[j].key && oc->nsysnames * 4 >= OFFCPU_SYSNAMES * 3)
				return; /* full enough: keep what is known */
			if (!oc->sysnames[j].key) {
				oc->nsysnames++;
				oc->sysnames[j].key = key;
				oc->sysnames[j].nr = nr;
				oc->sysnames[j].votes = 1;
			} else if (oc->sysnames[j].nr == nr) {
				oc->sysnames[j].votes += oc->sysnames[j].votes < 1000;
			} else if (--oc->sysnames[j].votes == 0) {
				oc->sysnames[j].nr = nr; /* the majority changed */
				oc->sysnames[j].votes = 1;
			}
			return;
		}
	}
}

static int offcpu_cmp_g(const void *a, const void *b)
{
	const struct gsample_g *x = a, *y = b;

	return x->gaddr < y->gaddr ? -1 : x->gaddr > y->gaddr;
}

/* Does REASON pass --reason? */
static bool offcpu_reason_ok(const struct offcpu *oc, const char *reason)
{
	return !oc->opts.reason || strstr(reason, oc->opts.reason);
}

/*
 * Start a new wait for G: its reason, and its stack unless that needs
 * unwinding (then *RID and *NR are set, and the caller unwinds a batch of
 * them and calls offcpu_begin_stack). Returns true when G waits on a stack
 * to find.
 */
static bool offcpu_begin(struct offcpu *oc, uint32_t ti, const struct gsample_g *g,
			 struct offcpu_gst *st, uint32_t *rid, long *nr)
{
	struct offcpu_target *t = &oc->targets[ti];
	char reason[96];

	st->stack = -1;
	st->sg = UINT32_MAX;
	st->wait_ns = 0;
	st->sys_unnamed = false;
	if (!offcpu_reason(t, g, reason, sizeof(reason), nr))
		return false;
	if (g->status == GS_SYSCALL && !oc->opts.no_stacks) {
		*rid = UINT32_MAX; /* named once its stack is known */
		return true;
	}
	if (g->status == GS_SYSCALL)
		offcpu_sys_reason(*nr, reason, sizeof(reason));
	if (!offcpu_reason_ok(oc, reason)) {
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

/*
 * The stack of a wait offcpu_begin left to unwind: PCS, N deep (0: torn).
 * A syscall wait (RID UINT32_MAX) is named here: by NR, else by the call
 * last seen on this stack, else "syscall" until its thread is seen asleep.
 */
static void offcpu_begin_stack(struct offcpu *oc, uint32_t ti, const struct gsample_g *g,
			       struct offcpu_gst *st, uint32_t rid, long nr, const uint64_t *pcs,
			       int n)
{
	char reason[96];

	if (n <= 0) {
		oc->torn++;
		return;
	}
	if (rid == UINT32_MAX) {
		uint64_t key = offcpu_sys_key(ti, pcs, (uint32_t)n);

		/* The stack's majority name, this observation included. */
		offcpu_sys_learn(oc, key, nr);
		nr = offcpu_sys_lookup(oc, key);
		st->sys_unnamed = nr < 0;
		offcpu_sys_reason(nr, reason, sizeof(reason));
		if (!offcpu_reason_ok(oc, reason) && !st->sys_unnamed) {
			st->stack = -2;
			return;
		}
		rid = offcpu_reason_id(oc, reason, strlen(reason));
		if (rid == UINT32_MAX)
			return;
	}
	st->stack = offcpu_stack_id(oc, ti, rid, pcs, n);
	if (st->stack < 0) {
		oc->dropped_stacks++;
		return;
	}
	st->sg = offcpu_sg_id(oc, (uint32_t)st->stack, g->goid);
}

/*
 * A syscall wait still unnamed: if its thread now sleeps in the call, move
 * the wait's time so far to the named stack.
 */
static void offcpu_sys_rename(struct offcpu *oc, uint32_t ti, const struct gsample_g *g,
			      struct offcpu_gst *st)
{
	struct offcpu_target *t = &oc->targets[ti];
	struct offcpu_stack *s;
	char reason[96];
	uint32_t rid, sg;
	int32_t ns;
	long nr;
	int tid = gsample_tid(&t->gs, g->m);

	if (st->stack < 0 || !tid || !syscalls_current(t->pid, tid, &nr) || nr < 0)
		return;
	s = &oc->stacks[st->stack];
	offcpu_sys_learn(oc, offcpu_sys_key(ti, s->pcs, s->depth), nr);
	nr = offcpu_sys_lookup(oc, offcpu_sys_key(ti, s->pcs, s->depth));
	if (nr < 0)
		return;
	st->sys_unnamed = false;
	offcpu_sys_reason(nr, reason, sizeof(reason));
	rid = offcpu_reason_id(oc, reason, strlen(reason));
	if (rid == UINT32_MAX)
		return;
	ns = offcpu_stack_id(oc, ti, rid, oc->stacks[st->stack].pcs, (int)oc->stacks[st->stack].depth);
	if (ns < 0)
		return; /* the table is full: it stays "syscall" */
	sg = offcpu_sg_id(oc, (uint32_t)ns, g->goid);
	oc->stacks[st->stack].total_ns -= st->wait_ns;
	if (st->sg != UINT32_MAX)
		oc->sgs[st->sg].ns -= st->wait_ns;
	oc->stacks[ns].total_ns += st->wait_ns;
	if (sg != UINT32_MAX)
		oc->sgs[sg].ns += st->wait_ns;
	st->stack = ns;
	st->sg = sg;
	if (!offcpu_reason_ok(oc, reason)) {
		/* --reason excludes it after all: take its time back. */
		oc->stacks[ns].total_ns -= st->wait_ns;
		if (sg != UINT32_MAX)
			oc->sgs[sg].ns -= st->wait_ns;
		st->stack = -2;
	}
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

/*
 * Is G, now, still the wait PREV? Same goroutine, status, reason and pc
 * at the same depth in its stack (stack.hi - sp: the runtime may copy a
 * parked goroutine's stack elsewhere), and it has not run in between: its
 * g.trackingSeq is unchanged (Go >= 1.17; bumped each time it stops
 * running, a u8, so 256k transitions between two snapshots would look
 * like none), or without it the top of its stack hashes the same (H).
 */
bool offcpu_same_wait(const struct offcpu_gst *prev, const struct gsample_g *g, uint64_t h)
{
	if (prev->stack == -1 || prev->goid != g->goid || prev->status != g->status ||
	    prev->pc != g->pc || prev->depth != g->depth || prev->waitreason != g->waitreason)
		return false;
	if (g->seq >= 0)
		return prev->seq == g->seq;
	return !h || !prev->hash || prev->hash == h;
}

static void offcpu_sample_target(struct offcpu *oc, uint32_t ti, uint64_t dt_ns)
{
	struct offcpu_target *t = &oc->targets[ti];
	struct gsample_g *gs;
	struct offcpu_gst *nst;
	size_t n, k = 0, pi = 0, npend = 0;
	uint32_t rid;
	long nr;
	bool hashed;

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
	for (size_t i = 1; i < n; i++) {
		if (gs[i - 1].gaddr > gs[i].gaddr) { /* gsample gives them sorted, mostly */
			qsort(gs, n, sizeof(*gs), offcpu_cmp_g);
			break;
		}
	}
	nst = calloc(n ? n : 1, sizeof(*nst));
	if (!nst)
		return;
	/* Without trackingSeq, the stack tops tell waits apart (one more read). */
	hashed = n && gs[0].seq < 0;
	if (hashed)
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
		uint64_t h = hashed && t->hcap ? t->hval[i] : 0;

		if (prev && offcpu_same_wait(prev, g, h)) {
			*st = *prev; /* the same wait goes on */
			if (st->sys_unnamed)
				offcpu_sys_rename(oc, ti, g, st);
		} else {
			if (prev)
				offcpu_close(oc, prev);
			st->gaddr = g->gaddr;
			st->goid = g->goid;
			st->status = g->status;
			st->pc = g->pc;
			st->depth = g->depth;
			st->seq = g->seq;
			st->waitreason = g->waitreason;
			if (offcpu_begin(oc, ti, g, st, &rid, &nr) &&
			    offcpu_pend_grow(t, npend + 1)) {
				t->pend[npend].g = i;
				t->pend[npend].st = k;
				t->pend[npend].rid = rid;
				t->pend[npend].nr = nr;
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
					   t->pend[j].nr, t->pcs + j * GSAMPLE_MAX_DEPTH,
					   t->depth[j]);
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
	if (dt_ns > oc->max_gap_ns)
		oc->max_gap_ns = dt_ns;
	for (size_t i = 0; i < oc->ntargets; i++) {
		if (oc->targets[i].exited)
			continue;
		offcpu_sample_target(oc, (uint32_t)i, oc->targets[i].primed ? dt_ns : 0);
		oc->targets[i].primed = true;
		alive += !oc->targets[i].exited;
	}
	return alive;
}

/*
 * Time left on an unnamed "syscall" stack whose call was learned later in
 * the window (its thread seen asleep in a later wait on the same stack)
 * moves to the named stack: a call too short to catch its thread asleep
 * at first is named by the ones that were.
 */
static void offcpu_name_syscalls(struct offcpu *oc)
{
	uint32_t unnamed = UINT32_MAX;
	char reason[96];

	for (size_t i = 0; i < oc->nreasons; i++)
		if (strcmp(oc->reasons[i], "syscall") == 0)
			unnamed = (uint32_t)i;
	if (unnamed == UINT32_MAX || !oc->sysnames)
		return;
	for (size_t i = 0, n = oc->nstacks; i < n; i++) {
		struct offcpu_stack *s = &oc->stacks[i];
		uint32_t rid;
		int32_t j;
		long nr;

		if (s->reason != unnamed || s->total_ns == 0 || s->depth == 0)
			continue;
		nr = offcpu_sys_lookup(oc, offcpu_sys_key(s->target, s->pcs, s->depth));
		if (nr < 0)
			continue;
		offcpu_sys_reason(nr, reason, sizeof(reason));
		if (!offcpu_reason_ok(oc, reason))
			continue;
		rid = offcpu_reason_id(oc, reason, strlen(reason));
		if (rid == UINT32_MAX)
			continue;
		j = offcpu_stack_id(oc, s->target, rid, s->pcs, (int)s->depth);
		s = &oc->stacks[i]; /* the table may have moved */
		if (j < 0)
			continue;
		oc->stacks[j].total_ns += s->total_ns;
		oc->stacks[j].waits += s->waits;
		if (s->h && !oc->stacks[j].h) {
			oc->stacks[j].h = s->h;
			s->h = NULL;
		} else if (s->h) {
			hist_merge(oc->stacks[j].h, s->h);
		}
		free(s->h);
		s->h = NULL;
		s->total_ns = 0;
		s->waits = 0;
		for (size_t k = 0, m = oc->nsgs; k < m; k++) {
			uint32_t sg;

			if (oc->sgs[k].stack != i || (!oc->sgs[k].ns && !oc->sgs[k].waits))
				continue;
			sg = offcpu_sg_id(oc, (uint32_t)j, oc->sgs[k].goid);
			if (sg == UINT32_MAX)
				continue;
			oc->sgs[sg].ns += oc->sgs[k].ns;
			oc->sgs[sg].waits += oc->sgs[k].waits;
			oc->sgs[k].ns = 0;
			oc->sgs[k].waits = 0;
		}
	}
}

void offcpu_flush(struct offcpu *oc)
{
	for (size_t i = 0; i < oc->ntargets; i++) {
		struct offcpu_target *t = &oc->targets[i];

		for (size_t j = 0; j < t->nst; j++)
			offcpu_close(oc, &t->st[j]);
		t->nst = 0;
	}
	offcpu_name_syscalls(oc);
}

void offcpu_reset(struct offcpu *oc)
{
	offcpu_flush(oc);
	offcpu_clear_tables(oc);
	oc->samples = 0;
	oc->max_gap_ns = 0;
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
