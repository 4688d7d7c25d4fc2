/*
 * why: the anatomy of slow calls: watched goroutines sampled from user
 * space, their threads' time off CPU from the kernel, stop-the-world
 * windows from collect/gc, put together when a call ends slow. See why.h.
 */
#include "../core/mem.h"
#include "why.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../bpf/funclat.h"
#include "../bpf/why.h"
#include "../core/session.h"
#include "../core/target.h"
#include "../proc/cgroup.h"
#include "../proc/names.h"
#include "../proc/proc.h"
#include "../report/stack.h"
#include "bpfload.h"
#include "gc.h"
#include "gsample.h"
#include "../gobin/goglobals.h"
#include "../proc/procmem.h"
#include "why.skel.h"

#define WHY_MAX_SAMPLES 400000 /* per goroutine: ~7 minutes at 1 kHz */
#define WHY_MAX_KINTS 100000
#define WHY_MAX_STWS 20000
#define WHY_MAX_RETRANS 20000
#define WHY_FORGET_NS 500000000ull /* history kept after a goroutine's call ended */
#define WHY_SOCK_SCAN_NS 50000000ull
#define WHY_MAX_SOCKS 4096
#define WHY_MAX_READ 1024 /* goroutines read a tick (one process_vm_readv) */

struct why_ep {
	char cause[WHY_CAUSE_LEN];
	uint64_t pcs[WHY_WAIT_PCS];
	size_t npcs;
};

struct why_g {
	pid_t pid;
	uint64_t g, goid, watch_ts, last_seen;
	bool watched;
	struct whycut_sample *s;
	size_t ns, caps;
	struct whycut_kint *k;
	size_t nk, capk;
	struct why_ep *e;
	size_t ne, cape;
};

struct why_tgt {
	struct target *t;
	pid_t pid;
	struct gsample gs;
	bool gs_ok;
	uint64_t majflt0;
	bool majflt_known;
	uint64_t socks[WHY_MAX_SOCKS];
	size_t nsocks;
	uint64_t sock_scan_ns;
	int procs; /* GOMAXPROCS from the GC cycles, 0 unknown */
	uint64_t gc_cycles;
};

struct why_retrans {
	uint64_t ts;
	pid_t pid; /* 0: not a target's socket */
};

struct why_agg {
	char cause[WHY_CAUSE_LEN];
	uint64_t ns, calls_top;
	uint64_t pcs[WHY_WAIT_PCS]; /* the longest single wait of this cause */
	size_t npcs;
	uint64_t pcs_ns;
	pid_t pid;
};

struct why {
	struct why_config c;
	struct funclat *fl;
	struct gc_collector *gc;
	struct why_bpf *skel;
	struct ring_buffer *rb;
	why_call_fn fn;
	void *arg;
	struct why_tgt **tgts;
	size_t ntgts;
	struct why_g *gs;
	size_t ngs, capgs;
	uint32_t *hidx; /* index of gs: 1 + position, 0 empty */
	size_t hcap;
	size_t rr;      /* round-robin start when more are in flight than are read a tick */
	struct why_stw *stws;
	size_t nstws;
	struct why_stw *thrs; /* the targets' threads held by the CPU quota (reason unused) */
	size_t nthrs;
	struct why_stw *rqs;  /* ... preempted, in the run queue */
	size_t nrqs;
	struct why_retrans *rt;
	size_t nrt;
	struct why_agg *agg;
	size_t nagg, capagg;
	uint64_t slow_calls, total_ns;
	uint64_t ticks, ticks_late, last_tick;
	uint64_t stw_count, stw_ns;
	/* scratch */
	struct fl_gkey *keys;
	struct fl_watch *vals;
	uint64_t *gptrs;
	struct gsample_g *gout;
	bool *ok;
	bool no_batch;  /* the kernel has no batched lookups for hash maps */
	size_t *kidx;   /* for each g read: its index in keys/vals */
	size_t scap;
	uint64_t reads_skipped;
};

static uint64_t why_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct why_tgt *why_tgt_of(struct why *w, pid_t pid)
{
	for (size_t i = 0; i < w->ntgts; i++)
		if (w->tgts[i]->pid == pid)
			return w->tgts[i];
	return NULL;
}

/* The goroutines are found through an open-addressing index of w->gs. */
static size_t why_hslot(pid_t pid, uint64_t g, size_t mask)
{
	uint64_t h = (g ^ ((uint64_t)(uint32_t)pid << 40)) * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 24) & mask;
}

static void why_hput(struct why *w, size_t i)
{
	size_t mask = w->hcap - 1, k = why_hslot(w->gs[i].pid, w->gs[i].g, mask);

	while (w->hidx[k])
		k = (k + 1) & mask;
	w->hidx[k] = (uint32_t)i + 1;
}

/* Rebuild the index (after removals, or to grow it). False: out of memory. */
static bool why_hrebuild(struct why *w)
{
	size_t cap = 64;
	uint32_t *h;

	while (cap < 2 * w->ngs + 2)
		cap *= 2;
	h = calloc(cap, sizeof(*h));
	if (!h)
		return false;
	free(w->hidx);
	w->hidx = h;
	w->hcap = cap;
	for (size_t i = 0; i < w->ngs; i++)
		why_hput(w, i);
	return true;
}

static struct why_g *why_g_find(struct why *w, pid_t pid, uint64_t g)
{
	size_t mask, k;

	if (!w->hcap)
		return NULL;
	mask = w->hcap - 1;
	for (k = why_hslot(pid, g, mask); w->hidx[k]; k = (k + 1) & mask) {
		struct why_g *x = &w->gs[w->hidx[k] - 1];

		if (x->g == g && x->pid == pid)
			return x;
	}
	return NULL;
}

static void why_g_reset(struct why_g *x)
{
	x->ns = x->nk = x->ne = 0;
}

static struct why_g *why_g_get(struct why *w, pid_t pid, uint64_t g)
{
	struct why_g *x = why_g_find(w, pid, g);

	if (x)
		return x;
	if (!mem_grow((void **)&w->gs, &w->capgs, w->ngs + 1, sizeof(*w->gs)))
		return NULL;
	x = &w->gs[w->ngs++];
	memset(x, 0, sizeof(*x));
	x->pid = pid;
	x->g = g;
	x->last_seen = why_now();
	if (2 * w->ngs + 2 > w->hcap) {
		if (!why_hrebuild(w)) {
			w->ngs--;
			return NULL;
		}
	} else {
		why_hput(w, w->ngs - 1);
	}
	return x;
}

static void why_g_free(struct why_g *x)
{
	free(x->s);
	free(x->k);
	free(x->e);
}

/* --- events ------------------------------------------------------------------------ */

static void why_scan_socks(struct why_tgt *tg, uint64_t now)
{
	char path[64], link[64];
	struct dirent *d;
	DIR *dir;

	if (now - tg->sock_scan_ns < WHY_SOCK_SCAN_NS)
		return;
	tg->sock_scan_ns = now;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)tg->pid);
	dir = opendir(path);
	if (!dir)
		return;
	tg->nsocks = 0;
	while ((d = readdir(dir)) && tg->nsocks < WHY_MAX_SOCKS) {
		char fdp[400];
		ssize_t n;
		unsigned long long ino;

		if (d->d_name[0] == '.')
			continue;
		snprintf(fdp, sizeof(fdp), "%s/%s", path, d->d_name);
		n = readlink(fdp, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (sscanf(link, "socket:[%llu]", &ino) == 1)
			tg->socks[tg->nsocks++] = ino;
	}
	closedir(dir);
}

static pid_t why_sock_owner(struct why *w, uint64_t ino)
{
	uint64_t now = why_now();

	for (size_t i = 0; i < w->ntgts; i++) {
		struct why_tgt *tg = w->tgts[i];

		for (int pass = 0; pass < 2; pass++) {
			for (size_t j = 0; j < tg->nsocks; j++)
				if (tg->socks[j] == ino)
					return tg->pid;
			if (pass == 0)
				why_scan_socks(tg, now);
		}
	}
	return 0;
}

/* Keep [START, END) of PID in a bounded list of spans (the oldest half goes). */
static void why_span_add(struct why_stw *sp, size_t *n, pid_t pid, uint64_t start, uint64_t end)
{
	if (*n == WHY_MAX_STWS) {
		memmove(sp, sp + WHY_MAX_STWS / 2, (WHY_MAX_STWS / 2) * sizeof(*sp));
		*n = WHY_MAX_STWS / 2;
	}
	sp[(*n)++] = (struct why_stw){ pid, start, end, "" };
}

/* The spans of PID that overlap [S, E) into a fresh array (*N of them); NULL out of memory. */
static struct whycut_span *why_spans_in(const struct why_stw *sp, size_t n, pid_t pid, uint64_t S,
					uint64_t E, size_t *nout)
{
	struct whycut_span *o = calloc(n + 1, sizeof(*o));

	*nout = 0;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (sp[i].pid == pid && sp[i].end > S && sp[i].start < E)
			o[(*nout)++] = (struct whycut_span){ sp[i].start, sp[i].end };
	return o;
}

static int why_on_kevent(void *ctx, void *data, size_t len)
{
	struct why *w = ctx;
	const struct why_event *e = data;
	struct why_g *x;
	struct whycut_kint *k;

	if (len < sizeof(*e))
		return 0;
	if (e->ev == WHY_EV_RETRANS) {
		if (w->nrt == WHY_MAX_RETRANS) {
			memmove(w->rt, w->rt + WHY_MAX_RETRANS / 2,
				(WHY_MAX_RETRANS / 2) * sizeof(*w->rt));
			w->nrt = WHY_MAX_RETRANS / 2;
		}
		w->rt[w->nrt].ts = e->end;
		w->rt[w->nrt].pid = why_sock_owner(w, e->ino);
		w->nrt++;
		return 0;
	}
	if (e->kind == WHY_K_THROTTLED || e->thr_ns) {
		/* The process was held by its quota on that CPU: from then to the end. */
		uint64_t span = e->end - e->start, thr = e->kind == WHY_K_THROTTLED ? span : e->thr_ns;

		why_span_add(w->thrs, &w->nthrs, (pid_t)e->tgid, e->end - (thr < span ? thr : span),
			     e->end);
	} else if (e->kind == WHY_K_RUNQ) {
		why_span_add(w->rqs, &w->nrqs, (pid_t)e->tgid, e->start, e->end);
	}
	if (e->ev == WHY_EV_THROTTLED)
		return 0;
	x = why_g_get(w, (pid_t)e->tgid, e->g);
	if (!x || x->nk >= WHY_MAX_KINTS ||
	    !mem_grow((void **)&x->k, &x->capk, x->nk + 1, sizeof(*x->k)))
		return 0;
	k = &x->k[x->nk++];
	k->tid = (pid_t)e->tid;
	k->kind = e->kind;
	k->wake_throttled = e->wake_throttled;
	k->nr = e->nr;
	k->start = e->start;
	k->wake = e->wake;
	k->end = e->end;
	k->thr = e->thr_ns;
	return 0;
}

static void why_on_stw(const struct gc_stw *s, void *arg)
{
	struct why *w = arg;
	struct why_stw *x;

	if (w->nstws == WHY_MAX_STWS) {
		memmove(w->stws, w->stws + WHY_MAX_STWS / 2, (WHY_MAX_STWS / 2) * sizeof(*w->stws));
		w->nstws = WHY_MAX_STWS / 2;
	}
	x = &w->stws[w->nstws++];
	x->pid = s->pid;
	x->start = s->start_ns;
	x->end = s->start_ns + s->stopping_ns + s->stopped_ns;
	snprintf(x->reason, sizeof(x->reason), "%s",
		 s->reason[0] ? s->reason
			      : s->kind == GC_STW_SWEEP_TERM ? "GC sweep termination"
			      : s->kind == GC_STW_MARK_TERM  ? "GC mark termination"
							     : "stop the world");
	w->stw_count++;
	w->stw_ns += x->end - x->start;
}

static void why_on_cycle(const struct gc_cycle *c, void *arg)
{
	struct why *w = arg;
	struct why_tgt *tg = why_tgt_of(w, c->pid);

	if (!tg)
		return;
	tg->gc_cycles++;
	if (c->procs > 0)
		tg->procs = c->procs;
}

/* --- the anatomy of one call --------------------------------------------------------- */

/* The runtime's name of wait reason R (not NUL-terminated in the binary) into BUF. */
static void why_reason(const struct why_tgt *tg, uint8_t r, char *buf, size_t len)
{
	size_t n = 0;
	const char *s = tg && tg->gs_ok ? gsample_reason(&tg->gs, r, &n) : "";

	if (!s)
		n = 0;
	if (n >= len)
		n = len - 1;
	memcpy(buf, s ? s : "", n);
	buf[n] = 0;
}

/* What whycut's label callback needs: the target and the goroutine. */
struct why_lblctx {
	const struct why_tgt *tg;
	const struct why_g *x;
};

/* The sampled goroutine state S as a part name (whycut_label_fn). */
static void why_label(const struct whycut_sample *s, void *arg, char *cause, size_t len)
{
	const struct why_lblctx *lc = arg;
	const char *c;
	char buf[WHY_CAUSE_LEN], r[64];

	switch (s->status) {
	case GS_RUNNING:
	case GS_COPYSTACK:
		c = "on_cpu";
		break;
	case GS_RUNNABLE:
	case GS_PREEMPTED:
		c = "runnable";
		break;
	case GS_SYSCALL:
		c = "syscall";
		break;
	case GS_WAITING:
		if (s->ep && lc->x && s->ep <= lc->x->ne) {
			c = lc->x->e[s->ep - 1].cause;
		} else {
			why_reason(lc->tg, s->reason, r, sizeof(r));
			c = whycut_wait_cause(r, NULL, buf, sizeof(buf));
		}
		break;
	default:
		c = "unexplained";
	}
	snprintf(cause, len, "%s", c);
}

static bool why_same_state(const struct whycut_sample *a, const struct whycut_sample *b)
{
	return a->status == b->status && a->reason == b->reason && a->seq == b->seq && a->seq >= 0;
}

/* How far a sample explains the time around it: 2 ticks, at least 4 ms. */
static uint64_t why_reach_ns(const struct why *w)
{
	uint64_t r = (uint64_t)(w->c.tick_ms * 2e6);

	return r < 4000000 ? 4000000 : r;
}

static struct why_agg *why_agg_of(struct why *w, const char *cause)
{
	for (size_t i = 0; i < w->nagg; i++)
		if (!strcmp(w->agg[i].cause, cause))
			return &w->agg[i];
	if (!mem_grow((void **)&w->agg, &w->capagg, w->nagg + 1, sizeof(*w->agg)))
		return NULL;
	memset(&w->agg[w->nagg], 0, sizeof(*w->agg));
	snprintf(w->agg[w->nagg].cause, WHY_CAUSE_LEN, "%s", cause);
	return &w->agg[w->nagg++];
}

static void why_on_slow(const struct funclat_event *e, void *arg)
{
	struct why *w = arg;
	struct why_tgt *tg = why_tgt_of(w, e->pid);
	struct why_g *x = why_g_find(w, e->pid, e->g);
	struct why_lblctx lc;
	struct whycut_in in;
	struct whycut_out o;
	struct whycut_span *stw = NULL, *thr = NULL, *rq = NULL;
	struct why_call c;
	uint64_t S = e->start_ns, E = e->start_ns + e->dur_ns;
	size_t nstw = 0, nthr = 0, nrq = 0;

	if (w->c.route && strncmp(e->path, w->c.route, strlen(w->c.route)) != 0)
		return;
	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	c.pid = e->pid;
	c.target = e->target;
	c.func = e->func;
	memcpy(c.method, e->method, sizeof(c.method));
	memcpy(c.path, e->path, sizeof(c.path));
	c.goid = e->goid;
	c.start_ns = S;
	c.wall_ns = e->dur_ns;
	c.gb = e->gb;
	c.bias = e->bias;
	c.pcs = e->pcs;
	c.npcs = e->npcs;
	if (x && x->goid && e->goid && x->goid != e->goid)
		x = NULL; /* another goroutine's history on this g */
	stw = why_spans_in(w->stws, w->nstws, e->pid, S, E, &nstw);
	thr = why_spans_in(w->thrs, w->nthrs, e->pid, S, E, &nthr);
	rq = why_spans_in(w->rqs, w->nrqs, e->pid, S, E, &nrq);
	if (!stw || !thr || !rq)
		goto out;
	lc.tg = tg;
	lc.x = x;
	in = (struct whycut_in){
		.start = S, .end = E, .reach_ns = why_reach_ns(w),
		.s = x ? x->s : NULL, .ns = x ? x->ns : 0,
		.k = x ? x->k : NULL, .nk = x ? x->nk : 0,
		.stw = stw, .nstw = nstw, .thr = thr, .nthr = nthr, .rq = rq, .nrq = nrq,
		.rq_min = tg && tg->procs > 0 ? (size_t)tg->procs : 1,
		.label = why_label, .arg = &lc,
	};
	if (whycut(&in, &o) != 0)
		goto out;
	memcpy(c.parts, o.parts, sizeof(c.parts));
	c.nparts = o.nparts;
	c.samples = o.samples;
	c.segs = o.segs;
	c.nsegs = o.nsegs;
	c.koffs = o.koffs;
	c.nkoffs = o.nkoffs;
	if (o.longest_ep && x && o.longest_ep <= x->ne) {
		const struct why_ep *ep = &x->e[o.longest_ep - 1];

		snprintf(c.wait_cause, sizeof(c.wait_cause), "%s", ep->cause);
		memcpy(c.wait_pcs, ep->pcs, ep->npcs * sizeof(uint64_t));
		c.nwait_pcs = ep->npcs;
	}
	for (size_t i = 0; i < w->nrt; i++)
		if (w->rt[i].pid == e->pid && w->rt[i].ts >= S && w->rt[i].ts <= E)
			c.retrans++;
	/* The window's totals. */
	w->slow_calls++;
	w->total_ns += c.wall_ns;
	for (size_t i = 0; i < c.nparts; i++) {
		struct why_agg *a = why_agg_of(w, c.parts[i].cause);

		if (!a)
			continue;
		a->ns += c.parts[i].ns;
		if (i == 0)
			a->calls_top++;
		if (c.nwait_pcs && !strcmp(c.wait_cause, a->cause) && o.longest_ep_ns > a->pcs_ns) {
			a->pcs_ns = o.longest_ep_ns;
			memcpy(a->pcs, c.wait_pcs, sizeof(a->pcs));
			a->npcs = c.nwait_pcs;
			a->pid = c.pid;
		}
	}
	if (w->fn)
		w->fn(&c, w->arg);
out:
	whycut_free(&o);
	free(stw);
	free(thr);
	free(rq);
}

/* --- sampling --------------------------------------------------------------------- */

/* Grow the scratch arrays to NEED entries, keeping their contents. */
static bool why_scratch(struct why *w, size_t need)
{
	size_t cap = need < 64 ? 64 : need * 2;
	void *p[6];
	const size_t sz[6] = { sizeof(*w->keys), sizeof(*w->vals), sizeof(*w->gptrs),
			       sizeof(*w->gout), sizeof(*w->ok), sizeof(*w->kidx) };
	void *old[6] = { w->keys, w->vals, w->gptrs, w->gout, w->ok, w->kidx };

	if (need <= w->scap)
		return true;
	for (int i = 0; i < 6; i++) {
		p[i] = realloc(old[i], cap * sz[i]);
		if (p[i])
			old[i] = p[i];
	}
	w->keys = old[0];
	w->vals = old[1];
	w->gptrs = old[2];
	w->gout = old[3];
	w->ok = old[4];
	w->kidx = old[5];
	for (int i = 0; i < 6; i++)
		if (!p[i])
			return false; /* the old arrays stay (and are freed at close) */
	w->scap = cap;
	return true;
}

static void why_new_wait(struct why_tgt *tg, struct why_g *x, struct whycut_sample *s,
			 const struct gsample_g *g)
{
	const struct whycut_sample *p = x->ns ? &x->s[x->ns - 1] : NULL;
	struct why_ep *ep;
	char buf[WHY_CAUSE_LEN], hint[512] = "", r[64];
	int d;

	if (p && p->ep && p->status == GS_WAITING && why_same_state(p, s)) {
		s->ep = p->ep; /* the same wait */
		return;
	}
	if (!mem_grow((void **)&x->e, &x->cape, x->ne + 1, sizeof(*x->e)))
		return;
	ep = &x->e[x->ne];
	d = gsample_unwind(&tg->gs, g, ep->pcs, WHY_WAIT_PCS);
	ep->npcs = d > 0 ? (size_t)d : 0;
	why_reason(tg, s->reason, r, sizeof(r));
	if (!strncmp(r, "semacquire", 10) && ep->npcs) {
		struct stack_frame fr[WHY_WAIT_PCS];
		size_t nf = stack_symbolize(tg->gs.gb, tg->gs.bias, ep->pcs, ep->npcs, 0, fr,
					    WHY_WAIT_PCS);
		size_t used = 0;

		for (size_t i = 0; i < nf && used + 80 < sizeof(hint); i++)
			used += (size_t)snprintf(hint + used, sizeof(hint) - used, "%s;",
						 fr[i].func ? fr[i].func : "");
	}
	snprintf(ep->cause, sizeof(ep->cause), "%s", whycut_wait_cause(r, hint, buf, sizeof(buf)));
	x->ne++;
	s->ep = (uint32_t)x->ne;
}

/*
 * The goroutines with a call in flight into w->keys/vals: batched lookups
 * (a few system calls), or a key walk (two per key) where batches are not
 * supported. Returns how many.
 */
static size_t why_watched(struct why *w)
{
	int fd = funclat_watched_fd(w->fl);
	size_t n = 0;

	if (!w->no_batch) {
		uint64_t in = 0, out = 0;
		bool first = true;

		for (;;) {
			__u32 cnt;
			int rc;

			if (w->scap - n < 256 && !why_scratch(w, n + 1024))
				return n;
			cnt = (__u32)(w->scap - n);
			rc = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, w->keys + n,
						  w->vals + n, &cnt, NULL);
			if (rc && errno != ENOENT && n == 0 && first) {
				w->no_batch = true;
				break;
			}
			n += cnt;
			if (rc)
				return n; /* ENOENT: the end of the map */
			in = out;
			first = false;
		}
	}
	{
		struct fl_gkey k, next;
		bool first = true;

		n = 0;
		while (bpf_map_get_next_key(fd, first ? NULL : &k, &next) == 0) {
			first = false;
			k = next;
			if (n == w->scap && !why_scratch(w, n + 1024))
				break;
			if (bpf_map_lookup_elem(fd, &next, &w->vals[n]) != 0)
				continue;
			w->keys[n++] = next;
		}
	}
	return n;
}

void why_tick(struct why *w)
{
	uint64_t now = why_now(), t0, t1;
	size_t n, i;

	w->ticks++;
	if (w->last_tick && now - w->last_tick > (uint64_t)(w->c.tick_ms * 2e6))
		w->ticks_late++;
	w->last_tick = now;
	why_poll(w);
	if (!why_scratch(w, 64))
		return;
	n = why_watched(w);
	for (i = 0; i < w->ngs; i++)
		w->gs[i].watched = false;
	/* Every goroutine in flight stays watched, read or not this tick. */
	for (i = 0; i < n; i++) {
		struct why_g *x = why_g_find(w, (pid_t)w->keys[i].tgid, w->keys[i].g);

		if (x) {
			x->watched = true;
			x->last_seen = now;
		}
	}
	for (size_t ti = 0; ti < w->ntgts; ti++) {
		struct why_tgt *tg = w->tgts[ti];
		size_t m = 0, total = 0;

		if (!tg->gs_ok)
			continue;
		for (i = 0; i < n; i++)
			total += (pid_t)w->keys[i].tgid == tg->pid;
		/* More in flight than a tick reads: a different slice each tick. */
		for (size_t q = 0; q < n && m < WHY_MAX_READ; q++) {
			size_t i2 = (q + w->rr) % n;

			if ((pid_t)w->keys[i2].tgid != tg->pid)
				continue;
			w->gptrs[m] = w->keys[i2].g;
			w->kidx[m++] = i2;
		}
		if (total > WHY_MAX_READ) {
			w->rr += WHY_MAX_READ;
			w->reads_skipped += total - WHY_MAX_READ;
		}
		if (!m)
			continue;
		t0 = why_now();
		if (gsample_read_at(&tg->gs, w->gptrs, m, w->gout, w->ok) != 0)
			continue;
		t1 = why_now();
		for (size_t j = 0; j < m; j++) {
			const struct gsample_g *g = &w->gout[j];
			const struct fl_watch *v = &w->vals[w->kidx[j]];
			struct why_g *x;
			struct whycut_sample s;

			if (!w->ok[j])
				continue;
			x = why_g_get(w, tg->pid, w->gptrs[j]);
			if (!x)
				continue;
			if (x->goid != v->goid) {
				why_g_reset(x);
				x->goid = v->goid;
			}
			if (x->watch_ts != v->ts) {
				/* A new outermost call: keep one sample before it. */
				size_t keep = 0;

				while (keep < x->ns && x->s[keep].ts < v->ts)
					keep++;
				if (keep > 1 && x->ns) {
					memmove(x->s, x->s + keep - 1, (x->ns - keep + 1) * sizeof(*x->s));
					x->ns -= keep - 1;
				}
				x->watch_ts = v->ts;
				keep = 0;
				for (size_t q = 0; q < x->nk; q++)
					if (x->k[q].end >= v->ts)
						x->k[keep++] = x->k[q];
				x->nk = keep;
			}
			x->watched = true;
			x->last_seen = now;
			if (g->goid != v->goid || x->ns >= WHY_MAX_SAMPLES ||
			    !mem_grow((void **)&x->s, &x->caps, x->ns + 1, sizeof(*x->s)))
				continue;
			s.ts = t0 + (t1 - t0) / 2;
			s.status = (uint8_t)g->status;
			s.reason = g->waitreason;
			s.seq = (int16_t)g->seq;
			s.ep = 0;
			if (g->status == GS_WAITING)
				why_new_wait(tg, x, &s, g);
			x->s[x->ns++] = s;
		}
	}
	/* Forget goroutines whose calls ended a while ago. */
	bool removed = false;

	for (i = 0; i < w->ngs;) {
		if (!w->gs[i].watched && now - w->gs[i].last_seen > WHY_FORGET_NS) {
			why_g_free(&w->gs[i]);
			w->gs[i] = w->gs[--w->ngs];
			removed = true;
			continue;
		}
		i++;
	}
	if (removed)
		why_hrebuild(w);
}

/* --- setup ------------------------------------------------------------------------- */

struct why *why_open(const struct why_config *c, why_call_fn fn, void *arg, char *err,
		     size_t errlen)
{
	struct why *w = calloc(1, sizeof(*w));
	struct funclat_config fc = c->fl;
	struct gc_config gcc = { .verbose = c->verbose };
	bool btf;
	int rc;

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->c = *c;
	w->fn = fn;
	w->arg = arg;
	w->stws = calloc(WHY_MAX_STWS, sizeof(*w->stws));
	w->thrs = calloc(WHY_MAX_STWS, sizeof(*w->thrs));
	w->rqs = calloc(WHY_MAX_STWS, sizeof(*w->rqs));
	w->rt = calloc(WHY_MAX_RETRANS, sizeof(*w->rt));
	if (!w->stws || !w->rt || !w->thrs || !w->rqs) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	fc.watch = true;
	w->fl = funclat_open(&fc, c->verbose, err, errlen);
	if (!w->fl)
		goto fail;
	btf = bpfload_has_tp_btf();
	w->skel = why_bpf__open();
	if (!w->skel) {
		snprintf(err, errlen, "cannot open the BPF program: %s", strerror(errno));
		goto fail;
	}
	bpf_program__set_autoload(w->skel->progs.why_sched_switch, btf);
	bpf_program__set_autoload(w->skel->progs.why_sched_wakeup, btf);
	bpf_program__set_autoload(w->skel->progs.why_tcp_retransmit, btf);
	bpf_program__set_autoload(w->skel->progs.why_raw_sched_switch, !btf);
	bpf_program__set_autoload(w->skel->progs.why_raw_sched_wakeup, !btf);
	bpf_program__set_autoload(w->skel->progs.why_raw_tcp_retransmit, !btf);
	if (bpf_map__reuse_fd(w->skel->maps.watched, funclat_watched_fd(w->fl))) {
		snprintf(err, errlen, "cannot share the watched goroutines' map");
		goto fail;
	}
	rc = why_bpf__load(w->skel);
	if (rc) {
		bpfload_load_error(rc, err, errlen);
		goto fail;
	}
	rc = why_bpf__attach(w->skel);
	if (rc) {
		snprintf(err, errlen, "cannot attach to the scheduler's tracepoints: %s",
			 strerror(-rc));
		goto fail;
	}
	w->rb = ring_buffer__new(bpf_map__fd(w->skel->maps.events), why_on_kevent, w, NULL);
	if (!w->rb) {
		snprintf(err, errlen, "cannot open the ring buffer: %s", strerror(errno));
		goto fail;
	}
	w->gc = gc_open(&gcc, why_on_cycle, why_on_stw, w, err, errlen);
	if (!w->gc)
		goto fail;
	return w;
fail:
	why_close(w);
	return NULL;
}

int why_add_target(struct why *w, struct target *t, struct funclat_match *m, char *note,
		   size_t notelen, char *err, size_t errlen)
{
	struct why_tgt *tg = calloc(1, sizeof(*tg)), **nt;
	struct why_target v = { .status_off = t->gb->off.g_atomicstatus,
				.g_m_off = t->gb->off.g_m, .m_curg_off = t->gb->off.m_curg };
	struct gc_target_info gi;
	char gerr[300];
	uint64_t mf;

	note[0] = 0;
	if (!tg) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	tg->t = t;
	tg->pid = t->pid;
	if (gsample_open(&tg->gs, t->pid, t->gb, t->bias, err, errlen) != 0) {
		free(tg);
		return -1;
	}
	tg->gs_ok = true;
	if (funclat_resolve(w->fl, t, m, err, errlen) != 0 || m->nfuncs == 0)
		goto fail;
	if (bpfload_target_add(w->skel->maps.tslots, w->skel->maps.targets, t->pid, &v,
			       sizeof(v)) != 0) {
		snprintf(err, errlen, "cannot add pid %d to the scheduler filter", (int)t->pid);
		goto fail;
	}
	/* The pauses are all why needs of gc: its notes on heap figures do not apply. */
	if (gc_add_target(w->gc, t, &gi, gerr, sizeof(gerr)) != 0)
		snprintf(note, notelen, "gc_stw not measured: %s", gerr);
	if (funclat_attach(w->fl, t, err, errlen) != 0)
		goto fail;
	{
		uint64_t a;
		int32_t n = 0;
		char why[200];

		if (goglobals_gomaxprocs(t->gb, &a, why, sizeof(why)) &&
		    procmem_read(&tg->gs.pm, a + t->bias, &n, sizeof(n)) && n > 0)
			tg->procs = n;
	}
	if (proc_majflt(t->pid, &mf)) {
		tg->majflt0 = mf;
		tg->majflt_known = true;
	}
	nt = realloc(w->tgts, (w->ntgts + 1) * sizeof(*nt));
	if (!nt) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	w->tgts = nt;
	w->tgts[w->ntgts++] = tg;
	return 0;
fail:
	bpfload_target_remove(w->skel->maps.tslots, w->skel->maps.targets, t->pid);
	gsample_close(&tg->gs);
	free(tg);
	return -1;
}

void why_remove_target(struct why *w, struct target *t)
{
	for (size_t i = 0; i < w->ntgts; i++) {
		struct why_tgt *tg = w->tgts[i];

		if (tg->t != t)
			continue;
		why_poll(w);
		funclat_detach(w->fl, t);
		gc_remove_target(w->gc, t);
		bpfload_target_remove(w->skel->maps.tslots, w->skel->maps.targets, t->pid);
		gsample_close(&tg->gs);
		tg->gs_ok = false;
		tg->t = NULL; /* its verdict figures stay */
		return;
	}
}

size_t why_fds(const struct why *w, int *fds, size_t max)
{
	size_t n = 0;

	if (n < max)
		fds[n++] = funclat_events_fd(w->fl);
	if (n < max)
		fds[n++] = ring_buffer__epoll_fd(w->rb);
	if (n < max)
		fds[n++] = gc_fd(w->gc);
	return n;
}

int why_poll(struct why *w)
{
	/* Kernel intervals and pauses first: a slow call's parts need them. */
	if (ring_buffer__consume(w->rb) < 0)
		return -1;
	gc_poll(w->gc);
	return funclat_poll(w->fl, why_on_slow, w);
}

void why_sweep(struct why *w)
{
	funclat_sweep(w->fl);
}

/* --- verdict ------------------------------------------------------------------------ */

static int why_cause_cmp(const void *a, const void *b)
{
	const struct why_cause *x = a, *y = b;

	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : strcmp(x->cause, y->cause);
}

static void why_frame_hint(const struct why *w, const struct why_agg *a, char *buf, size_t len)
{
	struct why_tgt *tg = why_tgt_of((struct why *)w, a->pid);
	struct stack_frame fr[WHY_WAIT_PCS];
	size_t nf;

	buf[0] = 0;
	if (!tg || !a->npcs)
		return;
	nf = stack_symbolize(tg->gs.gb ? tg->gs.gb : NULL, tg->gs.bias, a->pcs, a->npcs, 0, fr,
			     WHY_WAIT_PCS);
	for (size_t i = 0; i < nf; i++) {
		const char *f = fr[i].func;

		if (!f || !strncmp(f, "runtime.", 8) || !strncmp(f, "sync.", 5) ||
		    !strncmp(f, "internal/", 9))
			continue;
		snprintf(buf, len, "%s (%s:%d)", f, fr[i].file ? fr[i].file : "?", fr[i].line);
		return;
	}
}

static void why_evidence(const struct why *w, const struct why_agg *a, double seconds,
			 char *ev, size_t len)
{
	const struct why_tgt *tg = w->ntgts ? w->tgts[0] : NULL;
	char where[300];

	ev[0] = 0;
	if (!strcmp(a->cause, "cfs_throttled") && tg) {
		struct cgroup_stat cs;

		char gmp[40] = "";

		if (tg->procs)
			snprintf(gmp, sizeof(gmp), ", GOMAXPROCS %d", tg->procs);
		if (cgroup_read(tg->pid, &cs) && cs.quota_us > 0 && cs.period_us > 0)
			snprintf(ev, len,
				 "CPU quota: cgroup %.200s allows %.2f CPU (%lld/%lld us)%s; "
				 "%llu periods throttled so far: set GOMAXPROCS to the quota, or raise it",
				 cs.path, (double)cs.quota_us / (double)cs.period_us,
				 (long long)cs.quota_us, (long long)cs.period_us, gmp,
				 (unsigned long long)cs.nr_throttled);
		else
			snprintf(ev, len, "its threads were held back by a cgroup CPU quota");
	} else if (!strcmp(a->cause, "gc_stw") || !strcmp(a->cause, "gc_assist")) {
		uint64_t cycles = 0;

		for (size_t i = 0; i < w->ntgts; i++)
			cycles += w->tgts[i]->gc_cycles;
		snprintf(ev, len,
			 "%llu GC cycles (%.1f/s), %llu stop-the-world pauses totalling %.1f ms: "
			 "the heap goal is too low for the allocation rate: raise GOGC or set GOMEMLIMIT, "
			 "allocate less",
			 (unsigned long long)cycles, seconds > 0 ? (double)cycles / seconds : 0,
			 (unsigned long long)w->stw_count, (double)w->stw_ns / 1e6);
	} else if (!strcmp(a->cause, "runq")) {
		double la[3] = { 0, 0, 0 };
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		if (getloadavg(la, 3) < 1)
			la[0] = 0;
		snprintf(ev, len,
			 "its threads waited for a CPU: load average %.1f on %ld CPUs: "
			 "other work competes for these CPUs",
			 la[0], ncpu);
	} else if (!strcmp(a->cause, "major_fault") && tg) {
		uint64_t mf;

		if (tg->majflt_known && proc_majflt(tg->pid, &mf))
			snprintf(ev, len,
				 "%llu major page faults by pid %d in the window: memory it touches "
				 "(mapped files, swapped pages) is read from disk",
				 (unsigned long long)(mf - tg->majflt0), (int)tg->pid);
	} else if (!strcmp(a->cause, "io_wait")) {
		uint64_t rt = 0;

		for (size_t i = 0; i < w->nrt; i++)
			rt += w->rt[i].pid != 0;
		why_frame_hint(w, a, where, sizeof(where));
		snprintf(ev, len, "parked on network IO%s%s; %llu TCP retransmits on its sockets",
			 where[0] ? " in " : "", where, (unsigned long long)rt);
	} else if (!strcmp(a->cause, "lock") || !strcmp(a->cause, "chan") ||
		   !strcmp(a->cause, "select") || !strcmp(a->cause, "cond") ||
		   !strcmp(a->cause, "waitgroup") || !strcmp(a->cause, "semacquire")) {
		why_frame_hint(w, a, where, sizeof(where));
		if (where[0])
			snprintf(ev, len, "the longest wait was in %s", where);
	} else if (!strncmp(a->cause, "syscall", 7)) {
		snprintf(ev, len, "in the kernel, in system calls");
	} else if (!strcmp(a->cause, "runnable")) {
		if (tg && tg->procs)
			snprintf(ev, len,
				 "ready, waiting for one of GOMAXPROCS=%d Ps: more runnable goroutines than Ps",
				 tg->procs);
		else
			snprintf(ev, len, "ready, waiting for a P: more runnable goroutines than GOMAXPROCS");
	}
}

int why_verdict(struct why *w, double seconds, struct why_verdict *v)
{
	uint64_t unexplained = 0;

	memset(v, 0, sizeof(*v));
	v->seconds = seconds;
	v->slow_calls = w->slow_calls;
	v->total_ns = w->total_ns;
	v->tick_ms = w->c.tick_ms;
	v->ticks = w->ticks;
	v->ticks_late = w->ticks_late;
	v->stws = w->stws;
	v->nstws = w->nstws;
	v->causes = calloc(w->nagg + 1, sizeof(*v->causes));
	if (!v->causes)
		return -1;
	for (size_t i = 0; i < w->nagg; i++) {
		struct why_cause *c = &v->causes[v->ncauses++];

		snprintf(c->cause, sizeof(c->cause), "%s", w->agg[i].cause);
		c->ns = w->agg[i].ns;
		c->calls_top = w->agg[i].calls_top;
		c->share = w->total_ns ? (double)c->ns / (double)w->total_ns : 0;
		why_evidence(w, &w->agg[i], seconds, c->evidence, sizeof(c->evidence));
		if (!strcmp(c->cause, "unexplained"))
			unexplained += c->ns;
	}
	qsort(v->causes, v->ncauses, sizeof(*v->causes), why_cause_cmp);
	v->explained_share =
		w->total_ns ? 1.0 - (double)unexplained / (double)w->total_ns : 1.0;
	{
		struct funclat_report r;

		if (funclat_read(w->fl, seconds, &r) == 0) {
			v->drops = r.drops;
			funclat_report_free(&r);
		}
		v->drops += bpfload_percpu_sum(w->skel->maps.drops, WHY_DROP_EVENTS) +
			    bpfload_percpu_sum(w->skel->maps.drops, WHY_DROP_OFF);
	}
	return 0;
}

void why_verdict_free(struct why_verdict *v)
{
	free(v->causes);
	memset(v, 0, sizeof(*v));
}

void why_close(struct why *w)
{
	if (!w)
		return;
	if (w->gc)
		gc_close(w->gc);
	ring_buffer__free(w->rb);
	why_bpf__destroy(w->skel);
	if (w->fl)
		funclat_close(w->fl);
	for (size_t i = 0; i < w->ntgts; i++) {
		if (w->tgts[i]->gs_ok)
			gsample_close(&w->tgts[i]->gs);
		free(w->tgts[i]);
	}
	free(w->tgts);
	for (size_t i = 0; i < w->ngs; i++)
		why_g_free(&w->gs[i]);
	free(w->gs);
	free(w->hidx);
	free(w->stws);
	free(w->thrs);
	free(w->rqs);
	free(w->rt);
	free(w->agg);
	free(w->keys);
	free(w->vals);
	free(w->gptrs);
	free(w->gout);
	free(w->ok);
	free(w->kidx);
	free(w);
}
