/*
 * agent/latency: the agent's function and HTTP request latency (see
 * latency.h).
 */
#include "latency.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../collect/funclat.h"
#include "../collect/hist.h"
#include "../core/session.h"
#include "../core/target.h"
#include "../output/jsonw.h"
#include "../output/promtext.h"
#include "agent.h"

#define AGENT_LAT_MAX_ROUTES 64 /* per process; the rest are route "(other)" */
#define AGENT_LAT_COST_S 10.0   /* the probes' cost is checked over this long */

struct agent_lat_hist {
	uint64_t count;
	double seconds;
	uint64_t le[AGENT_NLE];
};

struct agent_lat_func {
	char *name;
	uint64_t calls, unwound;
	struct agent_lat_hist h;
};

struct agent_lat_route {
	char method[FUNCLAT_METHOD];
	char path[FUNCLAT_PATH];
	struct agent_lat_hist h;
	struct funclat_status status[FUNCLAT_NSTATUS];
	size_t nstatus;
};

struct agent_lat_proc {
	pid_t pid;
	char exe[64], go_version[32];
	bool tg_fn, tg_http;     /* the collectors probe this target */
	struct agent_lat_func *funcs;
	size_t nfuncs;
	struct agent_lat_route *routes;
	size_t nroutes;
};

struct agent_lat_col {
	const char *name;        /* "funclat", "http" */
	struct funclat *fl;
	char **patterns;
	uint64_t hits;           /* probe hits, since the start */
	double hits_per_s;       /* over the last interval */
	double cost_t0;
	bool warned;
	long long max_funcs;     /* per process */
};

struct agent_lat {
	struct agent_lat_col col[2]; /* funclat, http */
	struct agent_lat_proc **procs;
	size_t nprocs;
};

static char *agent_lat_http_pattern[] = { "net/http.serverHandler.ServeHTTP" };

struct agent_lat *agent_lat_open(const struct agent_config *cfg)
{
	struct agent_lat *f;
	char err[600];

	if (!cfg->funclat.n && !cfg->http)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f) {
		fprintf(stderr, "goscope: agent: funclat, http: out of memory\n");
		return NULL;
	}
	f->col[0].name = "funclat";
	f->col[1].name = "http";
	if (cfg->funclat.n) {
		struct funclat_config c = { .max_funcs = cfg->funclat_max_funcs, .sample = 1,
					    .partial = true, .recycle = true };

		f->col[0].patterns = calloc(cfg->funclat.n, sizeof(char *));
		if (!f->col[0].patterns) {
			fprintf(stderr, "goscope: agent: funclat: out of memory\n");
			goto http;
		}
		for (size_t i = 0; i < cfg->funclat.n; i++)
			f->col[0].patterns[i] = (char *)cfg->funclat.item[i];
		c.patterns = f->col[0].patterns;
		c.npatterns = cfg->funclat.n;
		f->col[0].max_funcs = c.max_funcs;
		f->col[0].fl = funclat_open(&c, cfg->verbose, err, sizeof(err));
		if (!f->col[0].fl)
			fprintf(stderr, "goscope: agent: function latency disabled: %s\n", err);
	}
http:
	if (cfg->http) {
		struct funclat_config c = { .patterns = agent_lat_http_pattern, .npatterns = 1,
					    .max_funcs = 1, .sample = 1, .http = true,
					    .recycle = true };

		f->col[1].fl = funclat_open(&c, cfg->verbose, err, sizeof(err));
		if (!f->col[1].fl)
			fprintf(stderr, "goscope: agent: HTTP requests disabled: %s\n", err);
	}
	if (!f->col[0].fl && !f->col[1].fl) {
		agent_lat_close(f);
		return NULL;
	}
	return f;
}

static void agent_lat_proc_free(struct agent_lat_proc *p)
{
	for (size_t i = 0; i < p->nfuncs; i++)
		free(p->funcs[i].name);
	free(p->funcs);
	free(p->routes);
	free(p);
}

void agent_lat_close(struct agent_lat *f)
{
	if (!f)
		return;
	for (int k = 0; k < 2; k++) {
		funclat_close(f->col[k].fl);
		free(f->col[k].patterns);
	}
	for (size_t i = 0; i < f->nprocs; i++)
		agent_lat_proc_free(f->procs[i]);
	free(f->procs);
	free(f);
}

/*
 * Resolve and attach one collector's probes in T (the collector finds its
 * state of T by pid). True when something is probed; a process whose
 * binary matches too many functions is said on stderr.
 */
static bool agent_lat_attach(struct agent_lat_col *c, struct target *t)
{
	struct funclat_match m;
	char err[600];

	if (funclat_resolve(c->fl, t, &m, err, sizeof(err)) == 0 &&
	    funclat_attach(c->fl, t, err, sizeof(err)) == 0)
		return true;
	if (strstr(err, "--max-funcs"))
		fprintf(stderr,
			"goscope: agent: %s: pid %d (%s) left out: the patterns match more than funclat-max-funcs = %lld of its functions\n",
			c->name, (int)t->pid, t->name, c->max_funcs);
	funclat_detach(c->fl, t); /* resolved but not attached: forget it */
	return false;
}

static void agent_lat_detach(struct agent_lat_col *c, struct target *t, bool probed)
{
	if (probed)
		funclat_detach(c->fl, t);
}

void agent_lat_take(struct agent_lat *f, struct target *t, const char *exe, const char *go_version)
{
	struct agent_lat_proc *p, **v;

	if (!f)
		return;
	p = calloc(1, sizeof(*p));
	v = p ? realloc(f->procs, (f->nprocs + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(p);
		return;
	}
	f->procs = v;
	p->pid = t->pid;
	snprintf(p->exe, sizeof(p->exe), "%s", exe);
	snprintf(p->go_version, sizeof(p->go_version), "%s", go_version);
	if (f->col[0].fl)
		p->tg_fn = agent_lat_attach(&f->col[0], t);
	if (f->col[1].fl)
		p->tg_http = agent_lat_attach(&f->col[1], t);
	if (!p->tg_fn && !p->tg_http) {
		free(p);
		return;
	}
	f->procs[f->nprocs++] = p;
}

void agent_lat_drop(struct agent_lat *f, struct target *t)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nprocs; i++) {
		struct agent_lat_proc *p = f->procs[i];

		if (p->pid != t->pid)
			continue;
		agent_lat_detach(&f->col[0], t, p->tg_fn);
		agent_lat_detach(&f->col[1], t, p->tg_http);
		agent_lat_proc_free(p);
		f->procs[i] = f->procs[--f->nprocs];
		return;
	}
}

static struct agent_lat_proc *agent_lat_proc_of(struct agent_lat *f, pid_t pid)
{
	for (size_t i = 0; i < f->nprocs; i++)
		if (f->procs[i]->pid == pid)
			return f->procs[i];
	return NULL;
}

/* Fold a window's log-linear histogram into the cumulative le buckets. */
static void agent_lat_hist_add(struct agent_lat_hist *a, const struct hist *h, uint64_t count,
			      uint64_t total_ns)
{
	a->count += count;
	a->seconds += (double)total_ns / 1e9;
	agent_le_add(a->le, h);
}

static void agent_lat_add_func(struct agent_lat_proc *p, const struct funclat_func_report *r)
{
	struct agent_lat_func *fn = NULL, *v;

	for (size_t i = 0; i < p->nfuncs && !fn; i++)
		if (strcmp(p->funcs[i].name, r->name) == 0)
			fn = &p->funcs[i];
	if (!fn) {
		char *name = strdup(r->name);

		v = name ? realloc(p->funcs, (p->nfuncs + 1) * sizeof(*v)) : NULL;
		if (!v) {
			free(name);
			return;
		}
		p->funcs = v;
		fn = &p->funcs[p->nfuncs++];
		memset(fn, 0, sizeof(*fn));
		fn->name = name;
		agent_utf8(fn->name);
	}
	fn->calls += r->calls;
	fn->unwound += r->unwound;
	agent_lat_hist_add(&fn->h, &r->h, r->timed, r->total_ns);
}

static void agent_lat_add_status(struct agent_lat_route *a, uint32_t code, uint64_t count)
{
	size_t i;

	for (i = 0; i < a->nstatus && a->status[i].code != code; i++)
		;
	if (i == a->nstatus) {
		if (a->nstatus == FUNCLAT_NSTATUS) {
			code = FUNCLAT_STATUS_OTHER; /* bounded: the rest share one series */
			for (i = 0; i < a->nstatus && a->status[i].code != code; i++)
				;
			if (i == a->nstatus)
				i = a->nstatus - 1; /* past the bound, and no "other" yet: the last */
		} else {
			a->status[a->nstatus].code = code;
			a->status[a->nstatus++].count = 0;
		}
	}
	a->status[i].count += count;
}

static void agent_lat_add_route(struct agent_lat_proc *p, const struct funclat_route_report *r)
{
	struct agent_lat_route *a = NULL, *v;
	char method[FUNCLAT_METHOD], path[FUNCLAT_PATH];

	snprintf(method, sizeof(method), "%s", r->method);
	snprintf(path, sizeof(path), "%s", r->path);
	agent_utf8(method);
	agent_utf8(path);
	for (int pass = 0; pass < 2 && !a; pass++) {
		if (pass == 1) {
			if (p->nroutes < AGENT_LAT_MAX_ROUTES)
				break;
			/* Bounded: a new route past the bound joins "(other)". */
			method[0] = 0;
			snprintf(path, sizeof(path), "(other)");
		}
		for (size_t i = 0; i < p->nroutes && !a; i++)
			if (strcmp(p->routes[i].method, method) == 0 &&
			    strcmp(p->routes[i].path, path) == 0)
				a = &p->routes[i];
	}
	if (!a) {
		v = realloc(p->routes, (p->nroutes + 1) * sizeof(*v));
		if (!v)
			return;
		p->routes = v;
		a = &p->routes[p->nroutes++];
		memset(a, 0, sizeof(*a));
		memcpy(a->method, method, sizeof(method));
		memcpy(a->path, path, sizeof(path));
	}
	agent_lat_hist_add(&a->h, &r->h, r->count, r->total_ns);
	for (size_t k = 0; k < r->nstatus; k++)
		agent_lat_add_status(a, r->status[k].code, r->status[k].count);
}

static void agent_lat_cost(struct agent_lat_col *c)
{
	double now = (double)session_now() / 1e9;
	char msg[300];

	if (c->cost_t0 > 0 && now - c->cost_t0 < AGENT_LAT_COST_S)
		return;
	if (c->cost_t0 > 0) {
		bool high = funclat_cost_check(c->fl, now, msg, sizeof(msg));

		if (high && !c->warned)
			fprintf(stderr, "goscope: agent: %s: warning: %s\n", c->name, msg);
		c->warned = high; /* said again once it came down and went back up */
	}
	funclat_cost_begin(c->fl, now);
	c->cost_t0 = now;
}

void agent_lat_collect(struct agent_lat *f, double seconds)
{
	if (!f)
		return;
	for (int k = 0; k < 2; k++) {
		struct agent_lat_col *c = &f->col[k];
		struct funclat_report r;
		struct funclat_routes rt;

		if (!c->fl)
			continue;
		funclat_sweep(c->fl);
		if (funclat_read(c->fl, seconds, &r) != 0)
			continue;
		c->hits += r.hits;
		c->hits_per_s = r.hits_per_s;
		for (size_t i = 0; k == 0 && i < r.n; i++) {
			struct agent_lat_proc *p = agent_lat_proc_of(f, r.f[i].pid);

			if (p)
				agent_lat_add_func(p, &r.f[i]);
		}
		funclat_report_free(&r);
		if (k == 1) {
			if (funclat_read_routes(c->fl, seconds, &rt) == 0) {
				for (size_t i = 0; i < rt.n; i++) {
					struct agent_lat_proc *p = agent_lat_proc_of(f, rt.r[i].pid);

					if (p)
						agent_lat_add_route(p, &rt.r[i]);
				}
			}
			funclat_routes_free(&rt);
		}
		agent_lat_cost(c);
	}
}

static void agent_lat_hist_render(struct promtext *pt, const char *base,
				 const struct promtext_label *lab, size_t nlab,
				 const struct agent_lat_hist *h)
{
	char name[128], le[32];
	struct promtext_label x[8];

	if (nlab >= 8)
		return;
	memcpy(x, lab, nlab * sizeof(*x));
	x[nlab].name = "le";
	x[nlab].value = le;
	snprintf(name, sizeof(name), "%s_bucket", base);
	for (size_t k = 0; k < AGENT_NLE; k++) {
		snprintf(le, sizeof(le), "%g", agent_le[k]);
		promtext_sample(pt, name, x, nlab + 1, NULL, 0, (double)h->le[k]);
	}
	snprintf(le, sizeof(le), "+Inf");
	promtext_sample(pt, name, x, nlab + 1, NULL, 0, (double)h->count);
	snprintf(name, sizeof(name), "%s_sum", base);
	promtext_sample(pt, name, lab, nlab, NULL, 0, h->seconds);
	snprintf(name, sizeof(name), "%s_count", base);
	promtext_sample(pt, name, lab, nlab, NULL, 0, (double)h->count);
}

void agent_lat_render(struct agent_lat *f, struct promtext *pt)
{
	char pidbuf[16];

	if (!f)
		return;
#define AGLAT_LABELS(p)                                                                     \
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)(p)->pid);                              \
	struct promtext_label lab[5] = { { "pid", pidbuf }, { "exe", (p)->exe },           \
					 { "go_version", (p)->go_version } }

	if (f->col[0].fl) {
		promtext_family(pt, "goscope_func_calls_total", "counter",
				"Calls of the configured Go functions (entries).");
		for (size_t i = 0; i < f->nprocs; i++) {
			AGLAT_LABELS(f->procs[i]);
			for (size_t j = 0; j < f->procs[i]->nfuncs; j++) {
				struct promtext_label x = { "func", f->procs[i]->funcs[j].name };

				promtext_sample(pt, "goscope_func_calls_total", lab, 3, &x, 1,
						(double)f->procs[i]->funcs[j].calls);
			}
		}
		promtext_family(pt, "goscope_func_duration_seconds", "histogram",
				"Duration of the calls of the configured Go functions (entry to RET).");
		for (size_t i = 0; i < f->nprocs; i++) {
			AGLAT_LABELS(f->procs[i]);
			for (size_t j = 0; j < f->procs[i]->nfuncs; j++) {
				lab[3] = (struct promtext_label){ "func", f->procs[i]->funcs[j].name };
				agent_lat_hist_render(pt, "goscope_func_duration_seconds", lab, 4,
						     &f->procs[i]->funcs[j].h);
			}
		}
		promtext_family(pt, "goscope_func_unwound_total", "counter",
				"Calls that left without a RET (a panic unwinding through, Goexit).");
		for (size_t i = 0; i < f->nprocs; i++) {
			AGLAT_LABELS(f->procs[i]);
			for (size_t j = 0; j < f->procs[i]->nfuncs; j++) {
				struct promtext_label x = { "func", f->procs[i]->funcs[j].name };

				promtext_sample(pt, "goscope_func_unwound_total", lab, 3, &x, 1,
						(double)f->procs[i]->funcs[j].unwound);
			}
		}
	}
	if (f->col[1].fl) {
		promtext_family(pt, "goscope_http_requests_total", "counter",
				"net/http requests served, by method, route (URL path) and response "
				"status (unknown: not an HTTP/1 response; none: the handler wrote "
				"no header).");
		for (size_t i = 0; i < f->nprocs; i++) {
			AGLAT_LABELS(f->procs[i]);
			for (size_t j = 0; j < f->procs[i]->nroutes; j++) {
				struct agent_lat_route *r = &f->procs[i]->routes[j];

				for (size_t k = 0; k < r->nstatus; k++) {
					char sb[16];
					struct promtext_label x[3] = {
						{ "method", r->method },
						{ "route", r->path },
						{ "status", funclat_status_name(r->status[k].code, sb,
										 sizeof(sb)) },
					};

					promtext_sample(pt, "goscope_http_requests_total", lab, 3, x,
							3, (double)r->status[k].count);
				}
			}
		}
		promtext_family(pt, "goscope_http_request_duration_seconds", "histogram",
				"Duration of net/http requests (serverHandler.ServeHTTP), by method "
				"and route.");
		for (size_t i = 0; i < f->nprocs; i++) {
			AGLAT_LABELS(f->procs[i]);
			for (size_t j = 0; j < f->procs[i]->nroutes; j++) {
				lab[3] = (struct promtext_label){ "method", f->procs[i]->routes[j].method };
				lab[4] = (struct promtext_label){ "route", f->procs[i]->routes[j].path };
				agent_lat_hist_render(pt, "goscope_http_request_duration_seconds", lab, 5,
						     &f->procs[i]->routes[j].h);
			}
		}
	}
#undef AGLAT_LABELS
	promtext_family(pt, "goscope_probe_hits_total", "counter",
			"Uprobe hits of the function and HTTP probes (goscope's own cost: each "
			"takes the target 10-20 microseconds of CPU).");
	for (int k = 0; k < 2; k++) {
		struct promtext_label x = { "collector", f->col[k].name };

		if (f->col[k].fl)
			promtext_sample(pt, "goscope_probe_hits_total", NULL, 0, &x, 1,
					(double)f->col[k].hits);
	}
	promtext_family(pt, "goscope_probe_hits_per_second", "gauge",
			"Uprobe hits per second over the last interval.");
	for (int k = 0; k < 2; k++) {
		struct promtext_label x = { "collector", f->col[k].name };

		if (f->col[k].fl)
			promtext_sample(pt, "goscope_probe_hits_per_second", NULL, 0, &x, 1,
					f->col[k].hits_per_s);
	}
	promtext_family(pt, "goscope_probe_cpu_seconds_total", "counter",
			"Target CPU time the probe hits are estimated to take (15 microseconds each).");
	for (int k = 0; k < 2; k++) {
		struct promtext_label x = { "collector", f->col[k].name };

		if (f->col[k].fl)
			promtext_sample(pt, "goscope_probe_cpu_seconds_total", NULL, 0, &x, 1,
					(double)f->col[k].hits * FUNCLAT_HIT_COST_NS / 1e9);
	}
}

void agent_lat_json(struct agent_lat *f, struct jsonw *w, pid_t pid)
{
	struct agent_lat_proc *p = f ? agent_lat_proc_of(f, pid) : NULL;

	if (!p)
		return;
	if (p->tg_fn) {
		jsonw_key(w, "funcs");
		jsonw_obj_begin(w);
		for (size_t i = 0; i < p->nfuncs; i++) {
			jsonw_key(w, p->funcs[i].name);
			jsonw_obj_begin(w);
			jsonw_kuint(w, "calls", p->funcs[i].calls);
			jsonw_kuint(w, "unwound", p->funcs[i].unwound);
			jsonw_kuint(w, "timed", p->funcs[i].h.count);
			jsonw_kdouble(w, "seconds", p->funcs[i].h.seconds);
			jsonw_obj_end(w);
		}
		jsonw_obj_end(w);
	}
	if (p->tg_http) {
		jsonw_key(w, "http");
		jsonw_obj_begin(w);
		for (size_t i = 0; i < p->nroutes; i++) {
			struct agent_lat_route *r = &p->routes[i];
			char key[FUNCLAT_METHOD + FUNCLAT_PATH + 2];

			snprintf(key, sizeof(key), "%s %s", r->method, r->path);
			jsonw_key(w, key);
			jsonw_obj_begin(w);
			jsonw_kuint(w, "requests", r->h.count);
			jsonw_kdouble(w, "seconds", r->h.seconds);
			jsonw_key(w, "status");
			jsonw_obj_begin(w);
			for (size_t k = 0; k < r->nstatus; k++) {
				char sb[16];

				jsonw_kuint(w, funclat_status_name(r->status[k].code, sb, sizeof(sb)),
					    r->status[k].count);
			}
			jsonw_obj_end(w);
			jsonw_obj_end(w);
		}
		jsonw_obj_end(w);
	}
}
