/*
 * funclat: function latency collector (see funclat.h).
 */
#include "funclat.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/funclat.h"
#include "../core/target.h"
#include "../gobin/gobin.h"
#include "../gobin/gohttp.h"
#include "../proc/procmem.h"
#include "bpfload.h"
#include "funclat.skel.h"
#include "uprobe.h"

#define FUNCLAT_GDEAD 6

_Static_assert(FUNCLAT_INFLIGHT == FL_INFLIGHT, "report's copy of FL_INFLIGHT");
_Static_assert(FUNCLAT_METHOD == FL_METHOD && FUNCLAT_PATH == FL_PATH, "route sizes");

/* A route's totals at the previous read. */
struct funclat_prev_route {
	struct fl_route key;
	struct fl_route_stats st;
};

/* A (route, status) count at the previous read. */
struct funclat_prev_status {
	struct fl_route_status key;
	uint64_t count;
};

/* One traced process. */
struct funclat_tgt {
	pid_t pid;
	char *name;
	struct gobin *gb;            /* our reference */
	uint64_t bias;
	int goid_off, status_off;
	struct gohttp_response_offsets resp; /* http: the response layout */
	uint64_t resp_header;        /* http: run-time address of (*response).Header, 0 unknown */
	struct uprobe_func *pend;    /* resolved, not yet attached */
	size_t npend;
	struct uprobe_links links;
	struct procmem pm;
	bool gone;
};

/* One probed function of one target: its index is the probes' cookie. */
struct funclat_fn {
	size_t tgt;                  /* index in tgts */
	char *name;
	struct fl_stats prev;        /* at the previous read */
	uint64_t swept;              /* unwound found by the sweep, not yet reported */
	bool retire;                 /* recycle: its target is gone and it was read */
	bool free;                   /* recycle: the slot is unused */
};

struct funclat {
	struct funclat_config c;
	struct funclat_bpf *skel;
	struct ring_buffer *rb;
	struct funclat_tgt **tgts;
	size_t ntgts;
	struct funclat_fn *fns;
	size_t nfns;
	size_t nfree;                /* slots of fns free (recycle) */
	uint64_t prev_hits;
	double cost_t0, cost_cpu0;     /* funclat_cost_begin() */
	uint64_t cost_hits0;
	uint64_t prev_drops[FL_DROP_MAX];
	struct funclat_prev_route *prev_routes;
	size_t nprev_routes, cap_prev_routes;
	struct funclat_prev_status *prev_status;
	size_t nprev_status, cap_prev_status;
	funclat_event_fn on_event;
	void *on_event_arg;
};

static int funclat_on_event(void *ctx, void *data, size_t len);

struct funclat *funclat_open(const struct funclat_config *c, bool verbose, char *err,
			     size_t errlen)
{
	struct funclat *fl = calloc(1, sizeof(*fl));
	int rc;

	if (!fl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fl->c = *c;
	if (fl->c.sample < 1)
		fl->c.sample = 1;
	fl->fns = calloc(FL_MAX_FUNCS, sizeof(*fl->fns));
	if (!fl->fns) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	bpfload_set_verbose(verbose);
	if (bpfload_need_host_pidns("function tracing", err, errlen) != 0 ||
	    bpfload_prepare("function tracing", false, err, errlen) != 0)
		goto fail;
	fl->skel = funclat_bpf__open();
	if (!fl->skel) {
		snprintf(err, errlen, "cannot open the BPF program: %s", strerror(errno));
		goto fail;
	}
	fl->skel->rodata->slow_ns = c->slow_ms > 0 ? (uint64_t)(c->slow_ms * 1e6) : 0;
	fl->skel->rodata->keep_args = c->args;
	fl->skel->rodata->sample = (uint32_t)fl->c.sample;
	fl->skel->rodata->watch = c->watch;
	rc = funclat_bpf__load(fl->skel);
	if (rc) {
		bpfload_load_error(rc, err, errlen);
		goto fail;
	}
	fl->rb = ring_buffer__new(bpf_map__fd(fl->skel->maps.events), funclat_on_event, fl, NULL);
	if (!fl->rb) {
		snprintf(err, errlen, "cannot open the ring buffer: %s", strerror(errno));
		goto fail;
	}
	return fl;
fail:
	funclat_close(fl);
	return NULL;
}

/* --- resolving patterns ---------------------------------------------------- */

static bool funclat_match_name(const struct funclat_config *c, const char *name, bool *hit)
{
	bool any = false;

	for (size_t i = 0; i < c->npatterns; i++) {
		if (strcmp(c->patterns[i], name) == 0 || fnmatch(c->patterns[i], name, 0) == 0) {
			hit[i] = true;
			any = true;
		}
	}
	return any;
}

/* Edit distance of A and B, both cut at 96 bytes. */
static unsigned funclat_distance(const char *a, const char *b)
{
	unsigned row[97], la = (unsigned)strnlen(a, 96), lb = (unsigned)strnlen(b, 96);

	for (unsigned j = 0; j <= lb; j++)
		row[j] = j;
	for (unsigned i = 1; i <= la; i++) {
		unsigned diag = row[0], tmp;

		row[0] = i;
		for (unsigned j = 1; j <= lb; j++) {
			unsigned best = diag + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			diag = tmp;
		}
	}
	return row[lb];
}

/*
 * How far NAME is from WANT (K bytes, the pattern without wildcards):
 * names containing it first (shorter ones first), then the edit distance
 * to the whole name or to its tail (names start with a long package path
 * the pattern may leave out).
 */
static unsigned funclat_suggest_score(const char *want, size_t k, const char *name)
{
	size_t l = strlen(name);
	unsigned d, t;

	if (k >= 3 && strstr(name, want))
		return (unsigned)((l - k) / 16);
	d = funclat_distance(want, name);
	if (l > k) {
		t = funclat_distance(want, name + (l - k)) + 2;
		if (t < d)
			d = t;
	}
	return d + 16;
}

/*
 * The three names of GB closest to PATTERN (its wildcards removed) into
 * BUF. True when '*PATTERN' matches the closest (a package path the
 * pattern left out).
 */
static bool funclat_suggest(const struct gobin *gb, const char *pattern, char *buf, size_t len)
{
	char want[97], star[512];
	const char *best[3] = { NULL, NULL, NULL };
	unsigned bd[3] = { ~0u, ~0u, ~0u };
	size_t k = 0, n = pclntab_nfunc(gb->pcln), off = 0;

	for (const char *p = pattern; *p && k < sizeof(want) - 1; p++)
		if (*p != '*' && *p != '?')
			want[k++] = *p;
	want[k] = 0;
	for (size_t i = 0; i < n; i++) {
		struct pclntab_func f;
		unsigned d;

		if (!pclntab_func_at(gb->pcln, i, &f))
			continue;
		d = funclat_suggest_score(want, k, f.name);
		for (int j = 0; j < 3; j++) {
			if (best[j] && strcmp(best[j], f.name) == 0)
				break; /* the same name twice in the table */
			if (d >= bd[j])
				continue;
			for (int m = 2; m > j; m--) {
				bd[m] = bd[m - 1];
				best[m] = best[m - 1];
			}
			bd[j] = d;
			best[j] = f.name;
			break;
		}
	}
	buf[0] = 0;
	for (int j = 0; j < 3 && best[j] && off < len; j++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", j ? ", " : "", best[j]);
	if (!best[0] || pattern[0] == '*')
		return false;
	snprintf(star, sizeof(star), "*%s", pattern);
	return fnmatch(star, best[0], 0) == 0;
}

/*
 * Is some name of the pclntab's name table matching PATTERN the name of no
 * function (only of inlined calls)? The table also holds every inlined
 * function's name. Returns it, or NULL.
 */
static const char *funclat_inlined_only(const struct gobin *gb, const char *pattern)
{
	enum pclntab_format fmt = pclntab_format(gb->pcln);
	int ps = pclntab_ptrsize(gb->pcln);
	size_t wi = fmt == PCLNTAB_GO116 ? 2 : 3, avail;
	const uint8_t *hdr, *p, *end;
	uint64_t nameoff, cuoff;

	if (fmt != PCLNTAB_GO116 && fmt != PCLNTAB_GO118 && fmt != PCLNTAB_GO120)
		return NULL;
	hdr = elfimg_vptr(gb->img, gb->pclntab_addr, 8 + (wi + 2) * (size_t)ps);
	if (!hdr || ps != 8)
		return NULL;
	nameoff = elfimg_u64(gb->img, hdr + 8 + wi * 8);
	cuoff = elfimg_u64(gb->img, hdr + 8 + (wi + 1) * 8);
	avail = elfimg_vavail(gb->img, gb->pclntab_addr);
	if (nameoff >= cuoff || cuoff > avail)
		return NULL;
	p = hdr + nameoff;
	end = hdr + cuoff;
	while (p < end) {
		const char *s = (const char *)p;
		size_t l = strnlen(s, (size_t)(end - p));

		if (l == (size_t)(end - p))
			break;
		if (l && (strcmp(pattern, s) == 0 || fnmatch(pattern, s, 0) == 0))
			return s;
		p += l + 1;
	}
	return NULL;
}

static struct funclat_tgt *funclat_tgt_new(struct funclat *fl, struct target *t)
{
	struct funclat_tgt *tg = calloc(1, sizeof(*tg)), **v;

	if (!tg)
		return NULL;
	v = realloc(fl->tgts, (fl->ntgts + 1) * sizeof(*v));
	tg->name = strdup(t->name);
	if (!v || !tg->name) {
		if (v)
			fl->tgts = v;
		free(tg->name);
		free(tg);
		return NULL;
	}
	fl->tgts = v;
	fl->tgts[fl->ntgts++] = tg;
	tg->pid = t->pid;
	tg->gb = gobin_ref(t->gb);
	tg->bias = t->bias;
	tg->goid_off = t->gb->offsets_known ? t->gb->off.g_goid : -1;
	tg->status_off = t->gb->offsets_known ? t->gb->off.g_atomicstatus : -1;
	procmem_init(&tg->pm, t->pid);
	return tg;
}

static void funclat_pend_free(struct funclat_tgt *tg)
{
	for (size_t i = 0; i < tg->npend; i++)
		uprobe_func_free(&tg->pend[i]);
	free(tg->pend);
	tg->pend = NULL;
	tg->npend = 0;
}

/* http: where (*response).Header is and how the response is laid out, for the status. */
static void funclat_http_layout(struct funclat_tgt *tg, struct gobin *gb, struct funclat_match *m)
{
	size_t n = pclntab_nfunc(gb->pcln);

	tg->resp_header = 0;
	if (!gohttp_response_offsets(gb, &tg->resp))
		return;
	for (size_t i = 0; i < n; i++) {
		struct pclntab_func f;

		if (pclntab_func_at(gb->pcln, i, &f) && strcmp(f.name, GOHTTP_RESPONSE_HEADER) == 0) {
			tg->resp_header = f.entry + tg->bias;
			m->status_src = tg->resp.source;
			return;
		}
	}
}

int funclat_resolve(struct funclat *fl, struct target *t, struct funclat_match *m, char *err,
		    size_t errlen)
{
	struct gobin *gb = t->gb;
	size_t n = pclntab_nfunc(gb->pcln), cap = 0, k = 0;
	bool *hit = calloc(fl->c.npatterns ? fl->c.npatterns : 1, sizeof(*hit));
	struct pclntab_func *found = NULL;
	struct funclat_tgt *tg;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (fl->c.http && (gb->go_minor < GOBIN_MIN_TRACE_MINOR ||
			   (gb->arch != ELFIMG_ARCH_AMD64 && gb->arch != ELFIMG_ARCH_ARM64))) {
		snprintf(err, errlen,
			 "%s is built with %s: reading requests needs Go >= 1.17 on amd64 or arm64 (register arguments)",
			 t->name, gobin_go_version(gb));
		free(hit);
		return -1;
	}
	if (!hit) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct pclntab_func f;

		if (!pclntab_func_at(gb->pcln, i, &f) || !funclat_match_name(&fl->c, f.name, hit))
			continue;
		if (k == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct pclntab_func *v = realloc(found, nc * sizeof(*v));

			if (!v) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			found = v;
			cap = nc;
		}
		found[k++] = f;
	}
	for (size_t i = 0; i < fl->c.npatterns; i++) {
		const char *inl;
		char near[400];
		bool prefix;

		if (hit[i] || (fl->c.partial && k > 0))
			continue;
		if (fl->c.http) {
			snprintf(err, errlen, "%s serves no HTTP with net/http (it has no %s)", t->name,
				 fl->c.patterns[i]);
			goto out;
		}
		inl = funclat_inlined_only(gb, fl->c.patterns[i]);
		if (inl) {
			snprintf(err, errlen,
				 "'%s': %s is inlined at every call site: it has no calls of its own to probe (probe its callers)",
				 fl->c.patterns[i], inl);
			goto out;
		}
		prefix = funclat_suggest(gb, fl->c.patterns[i], near, sizeof(near));
		/* A package path left out: the glob must match the whole name. */
		snprintf(err, errlen, "'%s' matches no function of %s%s%s%s%s%s", fl->c.patterns[i],
			 t->name, near[0] ? "; closest: " : "", near,
			 prefix ? " (a pattern matches the whole name: try '*" : "",
			 prefix ? fl->c.patterns[i] : "", prefix ? "')" : "");
		goto out;
	}
	if ((long long)k > fl->c.max_funcs && !fl->c.force) {
		snprintf(err, errlen,
			 "the patterns match %zu functions (more than --max-funcs %lld; each probe hit costs the target microseconds): narrow them, or add --force",
			 k, fl->c.max_funcs);
		goto out;
	}
	if (fl->nfns - fl->nfree + k > FL_MAX_FUNCS) {
		snprintf(err, errlen, "more than %d functions probed in all", FL_MAX_FUNCS);
		goto out;
	}
	tg = funclat_tgt_new(fl, t);
	if (!tg) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	tg->pend = calloc(k ? k : 1, sizeof(*tg->pend));
	if (!tg->pend) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < k; i++) {
		struct uprobe_func *u = &tg->pend[tg->npend];

		if (uprobe_func_at(gb, found[i].name, found[i].entry, found[i].end, u, err,
				   errlen) != 0) {
			funclat_pend_free(tg);
			goto out;
		}
		if (u->sites.nrets + u->sites.ntails == 0) {
			m->noret++;
			if (!m->first)
				m->first = found[i].name;
			uprobe_func_free(u);
			continue;
		}
		tg->npend++;
		m->nsites += uprobe_func_nsites(u);
	}
	m->nfuncs = tg->npend;
	if (fl->c.http)
		funclat_http_layout(tg, gb, m);
	if (tg->npend == 0) {
		snprintf(err, errlen, "%s has no RET (it never returns): no call of it can be timed",
			 m->first ? m->first : "the function");
		goto out;
	}
	m->first = tg->pend[0].name;
	rc = 0;
out:
	free(found);
	free(hit);
	return rc;
}

/*
 * T's state: the newest not detached for its pid (an exec keeps the pid).
 * Not in t->priv: collectors used together (why: funclat and gc) would
 * share it.
 */
static struct funclat_tgt *funclat_live(struct funclat *fl, const struct target *t)
{
	for (size_t i = fl->ntgts; i-- > 0;)
		if (fl->tgts[i]->pid == t->pid && !fl->tgts[i]->gone)
			return fl->tgts[i];
	return NULL;
}

/* The cookie of the next probed function: a free slot (recycle), else a new one. */
static uint32_t funclat_slot(const struct funclat *fl)
{
	for (uint32_t id = 0; fl->nfree && id < fl->nfns; id++)
		if (fl->fns[id].free)
			return id;
	return (uint32_t)fl->nfns;
}

int funclat_attach(struct funclat *fl, struct target *t, char *err, size_t errlen)
{
	struct funclat_tgt *tg = funclat_live(fl, t);
	char path[64];
	int rc = 0;

	if (!tg)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)t->pid);
	for (size_t i = 0; i < tg->npend && rc == 0; i++) {
		uint32_t id = funclat_slot(fl);
		struct funclat_fn *fn = &fl->fns[id];
		struct fl_func ff = {
			.tgid = (uint32_t)t->pid,
			.goid_off = tg->goid_off,
			.flags = (tg->gb->go_minor >= 17 ? FL_F_REG_G : 0) |
				 (fl->c.http ? FL_F_HTTP : 0),
			.resp_header = fl->c.http ? tg->resp_header : 0,
			.resp_req_off = tg->resp.req,
			.resp_wrote_off = tg->resp.wrote_header,
			.resp_cw_off = tg->resp.cw,
			.resp_status_off = tg->resp.status,
		};

		memset(fn, 0, sizeof(*fn));
		fn->tgt = fl->ntgts - 1;
		for (size_t j = 0; j < fl->ntgts; j++)
			if (fl->tgts[j] == tg)
				fn->tgt = j;
		fn->name = strdup(tg->pend[i].name);
		if (!fn->name) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
			fn->free = id < fl->nfns; /* a reused slot stays free */
			break;
		}
		if (id == fl->nfns)
			fl->nfns++;
		else
			fl->nfree--;
		if (bpf_map__update_elem(fl->skel->maps.funcs, &id, sizeof(id), &ff, sizeof(ff),
					 BPF_ANY) != 0) {
			snprintf(err, errlen, "cannot fill the functions map: %s", strerror(errno));
			rc = -1;
			break;
		}
		rc = uprobe_attach_func(&tg->links, tg->gb, path, t->pid, &tg->pend[i],
					fl->skel->progs.fl_entry, fl->skel->progs.fl_exit, id, err,
					errlen);
	}
	funclat_pend_free(tg);
	return rc;
}

void funclat_detach(struct funclat *fl, struct target *t)
{
	struct funclat_tgt *tg = funclat_live(fl, t);

	if (!tg)
		return;
	uprobe_links_destroy(&tg->links);
	tg->gone = true;
}

/* --- events ------------------------------------------------------------------ */

static int funclat_on_event(void *ctx, void *data, size_t len)
{
	struct funclat *fl = ctx;
	const struct fl_event *e = data;
	struct funclat_event ev;
	struct funclat_tgt *tg;
	size_t ns;

	if (len < sizeof(*e) || e->func >= fl->nfns || !fl->fns[e->func].name || !fl->on_event)
		return 0;
	tg = fl->tgts[fl->fns[e->func].tgt];
	memset(&ev, 0, sizeof(ev));
	ev.pid = (pid_t)e->tgid;
	ev.tid = (pid_t)e->tid;
	ev.goid = e->goid;
	ev.g = e->g;
	ev.start_ns = e->ts >= e->dur_ns ? e->ts - e->dur_ns : 0;
	ev.func = fl->fns[e->func].name;
	ev.target = tg->name;
	ev.dur_ns = e->dur_ns;
	ev.has_args = fl->c.args;
	memcpy(ev.args, e->args, sizeof(ev.args));
	if (fl->c.http) {
		memcpy(ev.method, e->route.method, sizeof(ev.method));
		memcpy(ev.path, e->route.path, sizeof(ev.path));
		ev.method[sizeof(ev.method) - 1] = 0;
		ev.path[sizeof(ev.path) - 1] = 0;
		ev.status = e->status == FL_STATUS_BAD ? FUNCLAT_STATUS_UNKNOWN : e->status;
	}
	ev.gb = tg->gb;
	ev.bias = tg->bias;
	/* The RET's pc, the caller (not in the frame-pointer chain at a RET), its callers. */
	ev.pcs[ev.npcs++] = e->ip;
	if (e->ret)
		ev.pcs[ev.npcs++] = e->ret;
	ns = e->nstack > 0 ? (size_t)e->nstack / sizeof(uint64_t) : 0;
	for (size_t i = 1; i < ns && ev.npcs < FUNCLAT_MAX_PCS; i++)
		ev.pcs[ev.npcs++] = e->stack[i];
	fl->on_event(&ev, fl->on_event_arg);
	return 0;
}

int funclat_watched_fd(const struct funclat *fl)
{
	return bpf_map__fd(fl->skel->maps.watched);
}

int funclat_events_fd(const struct funclat *fl)
{
	return fl->rb ? ring_buffer__epoll_fd(fl->rb) : -1;
}

int funclat_poll(struct funclat *fl, funclat_event_fn fn, void *arg)
{
	fl->on_event = fn;
	fl->on_event_arg = arg;
	return ring_buffer__consume(fl->rb) < 0 ? -1 : 0;
}

/* --- sweeping exited goroutines ----------------------------------------------- */

static struct funclat_tgt *funclat_tgt_of(struct funclat *fl, uint32_t tgid)
{
	for (size_t i = 0; i < fl->ntgts; i++)
		if ((uint32_t)fl->tgts[i]->pid == tgid && !fl->tgts[i]->gone)
			return fl->tgts[i];
	return NULL;
}

static void funclat_sweep_key(const void *key, void *arg)
{
	struct funclat *fl = arg;
	const struct fl_gkey *k = key;
	struct funclat_tgt *tg = funclat_tgt_of(fl, k->tgid);
	int fd = bpf_map__fd(fl->skel->maps.gstates);
	struct fl_gstate st;
	uint64_t goid = 0;
	uint32_t status = 0;

	if (bpf_map_lookup_elem(fd, key, &st) != 0)
		return;
	if (!tg) {
		/* The process is gone: its calls in flight did not unwind, they ended with it. */
		bpf_map_delete_elem(fd, key);
		return;
	}
	if (tg->goid_off < 0 || tg->status_off < 0)
		return;
	if (!procmem_read(&tg->pm, k->g + (uint64_t)tg->status_off, &status, sizeof(status)) ||
	    !procmem_u64(&tg->pm, k->g + (uint64_t)tg->goid_off, &goid))
		return;
	/* Another goroutine on this g, or none (Gdead, Gscan bit masked). */
	if (goid == st.goid && (status & ~0x1000u) != FUNCLAT_GDEAD)
		return;
	for (uint32_t i = 0; i < st.n && i < FL_INFLIGHT; i++)
		if (st.c[i].func < fl->nfns)
			fl->fns[st.c[i].func].swept++;
	bpf_map_delete_elem(fd, key);
	if (fl->c.watch)
		bpf_map_delete_elem(bpf_map__fd(fl->skel->maps.watched), key);
}

void funclat_sweep(struct funclat *fl)
{
	bpfload_each_key(fl->skel->maps.gstates, sizeof(struct fl_gkey), funclat_sweep_key, fl);
}

/* --- reading -------------------------------------------------------------------- */

static uint64_t funclat_hits(struct funclat *fl)
{
	return bpfload_percpu_sum(fl->skel->maps.hits, FL_HIT_ENTRY) +
	       bpfload_percpu_sum(fl->skel->maps.hits, FL_HIT_EXIT);
}

/*
 * recycle: free the slots of the functions read since their target left
 * (the names the previous report pointed at are no longer in use), and
 * give back the binary of a target none of whose functions is left.
 */
static void funclat_recycle(struct funclat *fl)
{
	static const struct fl_stats zero;
	static const struct fl_func nofunc;

	for (uint32_t id = 0; id < fl->nfns; id++) {
		struct funclat_fn *fn = &fl->fns[id];
		struct funclat_tgt *tg = fl->tgts[fn->tgt];
		bool last = true;

		if (!fn->retire)
			continue;
		bpf_map__update_elem(fl->skel->maps.stats, &id, sizeof(id), &zero, sizeof(zero),
				     BPF_ANY);
		bpf_map__update_elem(fl->skel->maps.funcs, &id, sizeof(id), &nofunc,
				     sizeof(nofunc), BPF_ANY);
		free(fn->name);
		memset(fn, 0, sizeof(*fn));
		fn->free = true;
		fl->nfree++;
		for (uint32_t j = 0; j < fl->nfns && last; j++)
			last = fl->fns[j].free || fl->tgts[fl->fns[j].tgt] != tg;
		if (last && tg->gb) {
			procmem_close(&tg->pm);
			gobin_close(tg->gb);
			tg->gb = NULL;
		}
	}
}

static int funclat_cmp(const void *a, const void *b)
{
	const struct funclat_func_report *x = a, *y = b;

	if (x->total_ns != y->total_ns)
		return x->total_ns < y->total_ns ? 1 : -1;
	if (x->calls != y->calls)
		return x->calls < y->calls ? 1 : -1;
	return strcmp(x->name, y->name);
}

int funclat_read(struct funclat *fl, double seconds, struct funclat_report *r)
{
	struct fl_stats *cur = malloc(sizeof(*cur));
	uint64_t hits = funclat_hits(fl);

	memset(r, 0, sizeof(*r));
	r->seconds = seconds;
	r->sample = fl->c.sample;
	funclat_recycle(fl);
	r->f = calloc(fl->nfns ? fl->nfns : 1, sizeof(*r->f));
	if (!cur || !r->f) {
		free(cur);
		free(r->f);
		r->f = NULL;
		return -1;
	}
	for (uint32_t id = 0; id < fl->nfns; id++) {
		struct funclat_fn *fn = &fl->fns[id];
		struct funclat_func_report *o;
		const struct fl_stats *p = &fn->prev;
		int lo = -1, hi = -1;

		if (fn->free)
			continue;
		/* Read once after its target left: the slot is reused from the next read on. */
		fn->retire = fl->c.recycle && fl->tgts[fn->tgt]->gone;
		o = &r->f[r->n++];

		if (bpf_map__lookup_elem(fl->skel->maps.stats, &id, sizeof(id), cur, sizeof(*cur),
					 0) != 0)
			*cur = *p;
		o->pid = fl->tgts[fn->tgt]->pid;
		o->target = fl->tgts[fn->tgt]->name;
		o->name = fn->name;
		o->calls = cur->calls - p->calls;
		o->timed = cur->timed - p->timed;
		o->total_ns = cur->total_ns - p->total_ns;
		o->unwound = cur->unwound - p->unwound + fn->swept;
		fn->swept = 0;
		for (unsigned b = 0; b < GS_HIST_BUCKETS && b < HIST_BUCKETS; b++) {
			uint32_t d = cur->hist[b] - p->hist[b];

			o->h.b[b] = d;
			if (d && lo < 0)
				lo = (int)b;
			if (d)
				hi = (int)b;
		}
		o->h.count = o->timed;
		o->h.sum = o->total_ns;
		if (hi >= 0) {
			o->h.min = hist_bucket_low((unsigned)lo);
			/* A new maximum is exact; else the top bucket's upper bound. */
			o->h.max = cur->max_ns > p->max_ns ? cur->max_ns
							   : hist_bucket_low((unsigned)hi + 1) - 1;
			if (o->h.max < o->h.min || o->timed == 1)
				o->h.min = o->h.max; /* one call: every quantile is it */
		}
		fn->prev = *cur;
	}
	free(cur);
	qsort(r->f, r->n, sizeof(*r->f), funclat_cmp);
	r->hits = hits - fl->prev_hits;
	fl->prev_hits = hits;
	r->hits_per_s = seconds > 0 ? (double)r->hits / seconds : 0;
	r->est_cpu = r->hits_per_s * FUNCLAT_HIT_COST_NS / 1e9;
	for (uint32_t k = 0; k < FL_DROP_MAX; k++) {
		uint64_t v = bpfload_percpu_sum(fl->skel->maps.drops, k), d = v - fl->prev_drops[k];

		fl->prev_drops[k] = v;
		if (k == FL_DROP_EVENTS)
			r->drop_events = d;
		else if (k == FL_DROP_INFLIGHT)
			r->drop_inflight = d;
		else if (k == FL_DROP_GSTATE)
			r->drop_gstate = d;
		else if (k == FL_DROP_ROUTES)
			r->drop_routes = d;
		else if (k == FL_DROP_STATUS)
			r->drop_status = d;
		else if (k == FL_DROP_STATUS_BAD)
			r->status_bad = d;
		/* Requests not timed; a status not read is counted as unknown. */
		if (k != FL_DROP_NOG && k != FL_DROP_STATUS && k != FL_DROP_STATUS_BAD)
			r->drops += d;
	}
	return 0;
}

int funclat_mark(struct funclat *fl)
{
	struct funclat_report r;
	struct funclat_routes rt;

	if (funclat_read(fl, 0, &r) != 0)
		return -1;
	funclat_report_free(&r);
	if (!fl->c.http)
		return 0;
	if (funclat_read_routes(fl, 0, &rt) != 0)
		return -1;
	funclat_routes_free(&rt);
	return 0;
}

void funclat_report_free(struct funclat_report *r)
{
	free(r->f);
	r->f = NULL;
	r->n = 0;
}

/* --- routes (http) ------------------------------------------------------------ */

struct funclat_route_walk {
	struct funclat *fl;
	struct funclat_routes *out;
	size_t cap;
	int rc;
};

static struct funclat_prev_route *funclat_prev_route(struct funclat *fl, const struct fl_route *k)
{
	for (size_t i = 0; i < fl->nprev_routes; i++)
		if (memcmp(&fl->prev_routes[i].key, k, sizeof(*k)) == 0)
			return &fl->prev_routes[i];
	if (fl->nprev_routes == fl->cap_prev_routes) {
		size_t cap = fl->cap_prev_routes ? fl->cap_prev_routes * 2 : 64;
		struct funclat_prev_route *v = realloc(fl->prev_routes, cap * sizeof(*v));

		if (!v)
			return NULL;
		fl->prev_routes = v;
		fl->cap_prev_routes = cap;
	}
	memset(&fl->prev_routes[fl->nprev_routes], 0, sizeof(*fl->prev_routes));
	fl->prev_routes[fl->nprev_routes].key = *k;
	return &fl->prev_routes[fl->nprev_routes++];
}

static void funclat_route_key(const void *key, void *arg)
{
	struct funclat_route_walk *w = arg;
	const struct fl_route *k = key;
	struct fl_route_stats *cur = malloc(sizeof(*cur));
	struct funclat_prev_route *p;
	struct funclat_route_report *o;
	int lo = -1, hi = -1;

	if (!cur || bpf_map__lookup_elem(w->fl->skel->maps.routes, k, sizeof(*k), cur,
					 sizeof(*cur), 0) != 0) {
		free(cur);
		return;
	}
	p = funclat_prev_route(w->fl, k);
	if (!p || (w->out->n == w->cap && w->cap >= FL_MAX_ROUTES * 4)) {
		w->rc = -1;
		free(cur);
		return;
	}
	if (cur->count == p->st.count) {
		free(cur);
		return; /* nothing in this window */
	}
	if (w->out->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 32;
		struct funclat_route_report *v = realloc(w->out->r, cap * sizeof(*v));

		if (!v) {
			w->rc = -1;
			free(cur);
			return;
		}
		w->out->r = v;
		w->cap = cap;
	}
	o = &w->out->r[w->out->n++];
	memset(o, 0, sizeof(*o));
	o->pid = (pid_t)k->tgid;
	memcpy(o->method, k->method, sizeof(o->method));
	memcpy(o->path, k->path, sizeof(o->path));
	o->method[sizeof(o->method) - 1] = 0;
	o->path[sizeof(o->path) - 1] = 0;
	o->count = cur->count - p->st.count;
	o->total_ns = cur->total_ns - p->st.total_ns;
	for (unsigned b = 0; b < GS_HIST_BUCKETS && b < HIST_BUCKETS; b++) {
		uint32_t d = cur->hist[b] - p->st.hist[b];

		o->h.b[b] = d;
		if (d && lo < 0)
			lo = (int)b;
		if (d)
			hi = (int)b;
	}
	o->h.count = o->count;
	o->h.sum = o->total_ns;
	if (hi >= 0) {
		o->h.min = hist_bucket_low((unsigned)lo);
		o->h.max = cur->max_ns > p->st.max_ns ? cur->max_ns
						       : hist_bucket_low((unsigned)hi + 1) - 1;
		if (o->h.max < o->h.min || o->count == 1)
			o->h.min = o->h.max; /* one request: every quantile is it */
	}
	p->st = *cur;
	free(cur);
}

static int funclat_route_cmp(const void *a, const void *b)
{
	const struct funclat_route_report *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->total_ns != y->total_ns)
		return x->total_ns < y->total_ns ? 1 : -1;
	return strcmp(x->path, y->path);
}

const char *funclat_status_name(uint32_t code, char *buf, size_t len)
{
	if (code == FUNCLAT_STATUS_NONE)
		return "none";
	if (code == FUNCLAT_STATUS_OTHER)
		return "other";
	if (code < 100)
		return "unknown";
	snprintf(buf, len, "%u", code);
	return buf;
}

void funclat_route_add_status(struct funclat_route_report *r, uint32_t code, uint64_t count)
{
	size_t i;

	if (!count)
		return;
	if (code == FL_STATUS_BAD)
		code = FUNCLAT_STATUS_UNKNOWN;
	for (i = 0; i < r->nstatus && r->status[i].code != code; i++)
		;
	if (i == r->nstatus && r->nstatus == FUNCLAT_NSTATUS) {
		/* Bounded: the codes past it share one slot, "other" (sorted first). */
		for (i = 0; i < r->nstatus && r->status[i].code != FUNCLAT_STATUS_OTHER; i++)
			;
		if (i == r->nstatus) {
			/* The largest code moves into "other" with this one. */
			struct funclat_status last = r->status[--r->nstatus];

			funclat_route_add_status(r, FUNCLAT_STATUS_OTHER, last.count);
			funclat_route_add_status(r, FUNCLAT_STATUS_OTHER, count);
			return;
		}
	}
	if (i == r->nstatus) {
		/* Sorted by code: insert. */
		for (i = r->nstatus; i > 0 && r->status[i - 1].code > code; i--)
			r->status[i] = r->status[i - 1];
		r->status[i].code = code;
		r->status[i].count = 0;
		r->nstatus++;
	}
	r->status[i].count += count;
}

static struct funclat_prev_status *funclat_prev_status(struct funclat *fl,
						       const struct fl_route_status *k)
{
	for (size_t i = 0; i < fl->nprev_status; i++)
		if (memcmp(&fl->prev_status[i].key, k, sizeof(*k)) == 0)
			return &fl->prev_status[i];
	if (fl->nprev_status == fl->cap_prev_status) {
		size_t cap = fl->cap_prev_status ? fl->cap_prev_status * 2 : 64;
		struct funclat_prev_status *v = realloc(fl->prev_status, cap * sizeof(*v));

		if (!v)
			return NULL;
		fl->prev_status = v;
		fl->cap_prev_status = cap;
	}
	memset(&fl->prev_status[fl->nprev_status], 0, sizeof(*fl->prev_status));
	fl->prev_status[fl->nprev_status].key = *k;
	return &fl->prev_status[fl->nprev_status++];
}

/*
 * A (route, status) count: its window's delta goes to the route's row. A
 * route with no row in this window (its count read just before the
 * request's status was added) keeps the delta for the next read.
 */
static void funclat_status_key(const void *key, void *arg)
{
	struct funclat_route_walk *w = arg;
	const struct fl_route_status *k = key;
	struct funclat_prev_status *p;
	uint64_t cur = 0;

	if (bpf_map__lookup_elem(w->fl->skel->maps.route_status, k, sizeof(*k), &cur,
				 sizeof(cur), 0) != 0)
		return;
	p = funclat_prev_status(w->fl, k);
	if (!p) {
		w->rc = -1;
		return;
	}
	if (cur == p->count)
		return;
	for (size_t i = 0; i < w->out->n; i++) {
		struct funclat_route_report *o = &w->out->r[i];

		if (o->pid != (pid_t)k->route.tgid ||
		    strncmp(o->method, k->route.method, sizeof(k->route.method)) != 0 ||
		    strncmp(o->path, k->route.path, sizeof(k->route.path)) != 0)
			continue;
		funclat_route_add_status(o, k->status, cur - p->count);
		p->count = cur;
		return;
	}
}

/* recycle: the routes of targets gone, once read, leave the kernel's tables. */
struct funclat_forget {
	struct funclat *fl;
	struct bpf_map *map;
	uint64_t counted;  /* routes deleted that counted against FL_MAX_ROUTES */
};

static void funclat_forget_key(const void *key, void *arg)
{
	struct funclat_forget *f = arg;
	const struct fl_route *k = key; /* first in fl_route_status too */

	if (funclat_tgt_of(f->fl, k->tgid))
		return;
	if (bpf_map__delete_elem(f->map, key, bpf_map__key_size(f->map), 0) == 0 &&
	    f->map == f->fl->skel->maps.routes && strcmp(k->path, "(other)") != 0)
		f->counted++;
}

static void funclat_forget_routes(struct funclat *fl)
{
	struct funclat_forget f = { fl, fl->skel->maps.routes, 0 };
	uint32_t zero = 0;
	uint64_t n = 0;
	size_t j = 0;

	bpfload_each_key(f.map, sizeof(struct fl_route), funclat_forget_key, &f);
	f.map = fl->skel->maps.route_status;
	bpfload_each_key(f.map, sizeof(struct fl_route_status), funclat_forget_key, &f);
	/* Racy against a probe adding a route now: the bound is approximate by a few. */
	if (f.counted &&
	    bpf_map__lookup_elem(fl->skel->maps.nroutes, &zero, sizeof(zero), &n, sizeof(n), 0) == 0) {
		n = n > f.counted ? n - f.counted : 0;
		bpf_map__update_elem(fl->skel->maps.nroutes, &zero, sizeof(zero), &n, sizeof(n),
				     BPF_ANY);
	}
	for (size_t i = 0; i < fl->nprev_routes; i++)
		if (funclat_tgt_of(fl, fl->prev_routes[i].key.tgid))
			fl->prev_routes[j++] = fl->prev_routes[i];
	fl->nprev_routes = j;
	j = 0;
	for (size_t i = 0; i < fl->nprev_status; i++)
		if (funclat_tgt_of(fl, fl->prev_status[i].key.route.tgid))
			fl->prev_status[j++] = fl->prev_status[i];
	fl->nprev_status = j;
}

int funclat_read_routes(struct funclat *fl, double seconds, struct funclat_routes *r)
{
	struct funclat_route_walk w = { fl, r, 0, 0 };

	memset(r, 0, sizeof(*r));
	r->seconds = seconds;
	bpfload_each_key(fl->skel->maps.routes, sizeof(struct fl_route), funclat_route_key, &w);
	bpfload_each_key(fl->skel->maps.route_status, sizeof(struct fl_route_status),
			 funclat_status_key, &w);
	if (fl->c.recycle)
		funclat_forget_routes(fl);
	if (r->n)
		qsort(r->r, r->n, sizeof(*r->r), funclat_route_cmp);
	return w.rc;
}

void funclat_routes_free(struct funclat_routes *r)
{
	free(r->r);
	r->r = NULL;
	r->n = 0;
}

/* CPU seconds (utime + stime) of the live targets: the probes' time is charged to them. */
static double funclat_target_cpu(struct funclat *fl)
{
	long tck = sysconf(_SC_CLK_TCK);
	double sum = 0;

	for (size_t i = 0; i < fl->ntgts; i++) {
		char path[64], buf[1024];
		unsigned long long ut = 0, st = 0;
		const char *p;
		FILE *f;
		size_t n;

		if (fl->tgts[i]->gone)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)fl->tgts[i]->pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				&ut, &st) == 2)
			sum += (double)(ut + st) / (double)(tck > 0 ? tck : 100);
	}
	return sum;
}

void funclat_cost_begin(struct funclat *fl, double now_s)
{
	fl->cost_t0 = now_s;
	fl->cost_cpu0 = funclat_target_cpu(fl);
	fl->cost_hits0 = funclat_hits(fl);
}

bool funclat_cost_check(struct funclat *fl, double now_s, char *msg, size_t len)
{
	double dt = now_s - fl->cost_t0, rate, probe, cpu, share;

	if (dt <= 0)
		return false;
	rate = (double)(funclat_hits(fl) - fl->cost_hits0) / dt;
	probe = rate * FUNCLAT_HIT_COST_NS / 1e9;     /* cores */
	cpu = (funclat_target_cpu(fl) - fl->cost_cpu0) / dt; /* cores, probes included */
	if (cpu < probe)
		cpu = probe;
	share = cpu > 0 ? probe / cpu : 0;
	/* Below 1% of a CPU the target cannot lose much, whatever the share. */
	if (share <= FUNCLAT_COST_WARN || probe < 0.01)
		return false;
	snprintf(msg, len,
		 "%.0f probe hits/s take about %.0f%% of the target's CPU time (%.2f CPU): it runs slower while traced; probe fewer or colder functions",
		 rate, 100.0 * share, probe);
	return true;
}

void funclat_close(struct funclat *fl)
{
	if (!fl)
		return;
	for (size_t i = 0; i < fl->ntgts; i++) {
		struct funclat_tgt *tg = fl->tgts[i];

		uprobe_links_destroy(&tg->links);
		funclat_pend_free(tg);
		procmem_close(&tg->pm);
		gobin_close(tg->gb);
		free(tg->name);
		free(tg);
	}
	free(fl->tgts);
	for (size_t i = 0; i < fl->nfns; i++)
		free(fl->fns[i].name);
	free(fl->fns);
	free(fl->prev_routes);
	free(fl->prev_status);
	ring_buffer__free(fl->rb);
	funclat_bpf__destroy(fl->skel);
	free(fl);
}
