/*
 * agent/collect: the agent's collectors and per-process counters: which
 * processes it tracks, the goroutine sampling, and what each interval adds
 * (see agent.h).
 */
#include "agent.h"
#include "latency.h"

#include "../collect/health.h"
#include "../collect/hist.h"
#include "../collect/sysstat.h"
#include "../core/session.h"
#include "../proc/proc.h"
#include "../report/stack.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const double agent_le[AGENT_NLE] = { 1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3,
				     0.01, 0.05, 0.1, 0.5, 1, 5 };

void agent_le_add(uint64_t le[AGENT_NLE], const struct hist *h)
{
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		double v;

		if (!h->b[b])
			continue;
		/* A bucket counts under a bound its upper edge does not exceed. */
		v = (double)hist_bucket_low(b + 1) / 1e9;
		for (size_t k = 0; k < AGENT_NLE; k++)
			if (v <= agent_le[k] * 1.0000001)
				le[k] += h->b[b];
	}
}

void agent_sc_add(struct agent_sc *y, double count, double errors, double seconds,
		  const struct hist *h, double f)
{
	double le[AGENT_NLE] = { 0 }, hsum = 0;

	if (!(count > 0) || !(f > 0))
		return;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		double v;

		if (!h->b[b])
			continue;
		hsum += h->b[b];
		v = (double)hist_bucket_low(b + 1) / 1e9;
		for (size_t k = 0; k < AGENT_NLE; k++)
			if (v <= agent_le[k] * 1.0000001)
				le[k] += h->b[b];
	}
	count *= f;
	y->count += count;
	y->errors += errors * f;
	y->seconds += seconds * f;
	/*
	 * The buckets' shape, scaled to COUNT: a sampled histogram's total (its
	 * weights for calls straddling a window's edge, the untimed calls) is
	 * not the count's, and +Inf must be the count.
	 */
	for (size_t k = 0; hsum > 0 && k < AGENT_NLE; k++) {
		double add = le[k] * (count / hsum);

		y->le[k] += add < count ? add : count;
	}
}

const char *const agent_gc_phase_names[AGENT_GC_NPHASES] = { "sweep_termination",
							     "mark_termination", "other" };

static struct agent_proc *agent_find(struct session *s, pid_t pid);

/*
 * Make S valid UTF-8 in place. Prometheus rejects a whole scrape over one
 * label value that is not, and an executable's name is any bytes (and
 * cutting it to the label's size may split a character): every byte that
 * does not begin a complete, shortest-form sequence becomes '?'.
 */
void agent_utf8(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n, i;
		uint32_t cp;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 2;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 3;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 4;
			cp = *p & 0x07;
		} else {
			*p++ = '?';
			continue;
		}
		for (i = 1; i < n && (p[i] & 0xc0) == 0x80; i++)
			cp = (cp << 6) | (p[i] & 0x3f);
		if (i < n || (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

/* One GC cycle ended in a tracked process: its count and the runtime's figures. */
static void agent_gc_cycle(const struct gc_cycle *c, void *arg)
{
	struct agent *a = arg;
	struct agent_proc *p = a->sess ? agent_find(a->sess, c->pid) : NULL;

	if (!p)
		return;
	p->gc_cycles++;
	if (c->has_heap) {
		p->gc_has_heap = true;
		p->gc_heap_goal = c->heap_goal;
		p->gc_heap_live = c->heap_live;
	}
	if (c->has_cpu) {
		p->gc_has_cpu = true;
		p->gc_assist_seconds += (double)c->cpu_assist_ns / 1e9;
	}
}

/* One stop-the-world pause (the GC's two included): the histogram and the reason. */
static void agent_gc_stw(const struct gc_stw *w, void *arg)
{
	struct agent *a = arg;
	struct agent_proc *p = a->sess ? agent_find(a->sess, w->pid) : NULL;
	enum agent_gc_phase ph = w->kind == GC_STW_SWEEP_TERM ? AGENT_GC_SWEEP_TERM
				 : w->kind == GC_STW_MARK_TERM ? AGENT_GC_MARK_TERM
							       : AGENT_GC_OTHER;
	double secs = (double)(w->stopping_ns + w->stopped_ns) / 1e9;
	struct agent_sys *h;
	char r[sizeof(p->stw[0].reason)];
	size_t k;

	if (!p)
		return;
	h = &p->gc_pause[ph];
	h->count++;
	h->seconds += secs;
	for (k = 0; k < AGENT_NLE; k++)
		if (secs <= agent_le[k])
			h->le[k]++;
	snprintf(r, sizeof(r), "%s", w->reason[0] ? w->reason : "unknown");
	agent_utf8(r);
	for (k = 0; k < p->nstw && strcmp(p->stw[k].reason, r) != 0; k++)
		;
	if (k == p->nstw) {
		if (p->nstw == AGENT_MAX_STW)
			return; /* bounded: a release has about 20 reasons */
		snprintf(p->stw[p->nstw++].reason, sizeof(r), "%s", r);
	}
	p->stw[k].count++;
}

int agent_open(struct agent *a, const struct agent_config *cfg, char *err, size_t errlen)
{
	char why[512], missing[512];

	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	if (cfg->json_lines) {
		a->jl = strcmp(cfg->json_lines, "-") == 0 ? stdout : fopen(cfg->json_lines, "ae");
		if (!a->jl) {
			snprintf(err, errlen, "cannot write %s: %s", cfg->json_lines, strerror(errno));
			return -1;
		}
		jsonw_init(&a->jw, a->jl);
	}
	if (cfg->collectors & AGENT_COL_SYSCALLS) {
		/* An interval with less than a window attached is carried into the next. */
		struct sysstat_opts so = { .verbose = cfg->verbose, .carry_short = true };

		if (!cfg->syscalls_exact && cfg->syscalls_duty < 100)
			so.duty = cfg->syscalls_duty / 100;
		a->sc_sampled = so.duty > 0;
		a->sc_duty = a->sc_sampled ? so.duty : 1;

		if (sysstat_open(&a->ss, &so, NULL, NULL, why, sizeof(why)) != 0) {
			fprintf(stderr, "goscope: agent: syscall statistics disabled: %s\n", why);
			a->ss = NULL;
		}
	}
	if (cfg->collectors & AGENT_COL_HEALTH) {
		/* Only what the agent exports: no stacks, drops or state changes. */
		if (health_open(&a->h, HEALTH_SIG_RUNQ | HEALTH_SIG_TCP_RETRANS, cfg->verbose,
				missing, sizeof(missing), why, sizeof(why)) != 0) {
			fprintf(stderr, "goscope: agent: health signals disabled: %s\n", why);
			a->h = NULL;
		} else if (missing[0]) {
			fprintf(stderr, "goscope: agent: not measured on this kernel: %s\n", missing);
		}
	}
	a->lat = agent_lat_open(cfg);
	if (cfg->collectors & AGENT_COL_GC) {
		/* Cycles and pauses only: no assist or allocation probes (per event, not per cycle). */
		struct gc_config gcfg = { .allocs = false, .assists = false, .verbose = cfg->verbose };

		a->gc = gc_open(&gcfg, agent_gc_cycle, agent_gc_stw, a, why, sizeof(why));
		if (!a->gc)
			fprintf(stderr, "goscope: agent: GC metrics disabled: %s\n", why);
	}
	return 0;
}

static int agent_gc_poll(struct session *s, void *arg)
{
	(void)s;
	return gc_poll(arg) < 0 ? -1 : 0;
}

/* The syscall sampler's timer: open or close a window. */
static int agent_sc_tick(struct session *s, void *arg)
{
	if (sysstat_sampler_tick(arg) != 0) {
		/* Counters that stop growing would read as no calls: exit, be restarted. */
		session_error(s, "cannot attach to the raw_syscalls tracepoints: %s",
			      strerror(errno));
		session_stop(s);
		return -1;
	}
	return 0;
}

int agent_start(struct agent *a, struct session *s)
{
	a->sess = s;
	if (a->gc && session_add_fd(s, gc_fd(a->gc), agent_gc_poll, a->gc) != 0)
		return -1;
	if (a->ss && sysstat_sampler_fd(a->ss) >= 0) {
		if (session_add_fd(s, sysstat_sampler_fd(a->ss), agent_sc_tick, a->ss) != 0)
			return -1;
		if (sysstat_sampler_start(a->ss) != 0) {
			session_error(s, "cannot attach to the raw_syscalls tracepoints: %s",
				      strerror(errno));
			return -1;
		}
	}
	a->sc_last_ns = session_now();
	return 0;
}

void agent_close(struct agent *a)
{
	sysstat_close(a->ss);
	health_close(a->h);
	agent_lat_close(a->lat);
	a->lat = NULL;
	gc_close(a->gc);
	a->gc = NULL;
	if (a->jl && a->jl != stdout)
		fclose(a->jl);
	a->ss = NULL;
	a->h = NULL;
	a->jl = NULL;
}

/* Remember a process not tracked; true the first time (count it then). */
static bool agent_wanted(const struct agent *a, pid_t pid, const char *exe_base);

static bool agent_skip_once(struct agent *a, pid_t pid)
{
	for (size_t i = 0; i < a->nskipped; i++)
		if (a->skipped[i] == pid)
			return false;
	if (a->nskipped < sizeof(a->skipped) / sizeof(a->skipped[0]))
		a->skipped[a->nskipped++] = pid;
	return true;
}

void agent_skipped(struct agent *a, pid_t pid)
{
	char link[64], exe[PATH_MAX];
	const char *base;
	ssize_t n;

	/* Only processes the filters select count: not every Go process of the host. */
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = 0;
	base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	if (agent_wanted(a, pid, base) && agent_skip_once(a, pid))
		a->untraceable++;
}

static bool agent_wanted(const struct agent *a, pid_t pid, const char *exe_base)
{
	const struct agent_config *c = a->cfg;
	bool ok;

	if (c->exes.n) {
		ok = false;
		for (size_t i = 0; i < c->exes.n && !ok; i++)
			ok = strcmp(c->exes.item[i], exe_base) == 0;
		if (!ok)
			return false;
	}
	if (c->cgroups.n) {
		struct cgroup_stat cg;

		if (!cgroup_read(pid, &cg))
			return false;
		ok = false;
		for (size_t i = 0; i < c->cgroups.n && !ok; i++)
			ok = strncmp(cg.path, c->cgroups.item[i], strlen(c->cgroups.item[i])) == 0;
		if (!ok)
			return false;
	}
	return true;
}

int agent_take(struct agent *a, struct target *t, char *err, size_t errlen)
{
	struct agent_proc *p;
	struct timespec ts;

	if (!agent_wanted(a, t->pid, t->raw_name)) {
		snprintf(err, errlen, "not selected by --exe/--cgroup");
		return -1;
	}
	if (a->ntracked >= (size_t)a->cfg->max_procs) {
		if (agent_skip_once(a, t->pid))
			a->dropped_processes++;
		snprintf(err, errlen, "--max-processes reached");
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->t = t;
	clock_gettime(CLOCK_REALTIME, &ts);
	p->tracked_since = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	snprintf(p->exe, sizeof(p->exe), "%.63s", t->raw_name);
	snprintf(p->go_version, sizeof(p->go_version), "%s", gobin_go_version(t->gb));
	agent_utf8(p->exe);
	agent_utf8(p->go_version);
	if (a->cfg->collectors & AGENT_COL_OFFCPU) {
		struct offcpu_opts oo = { .goid = -1, .no_stacks = true, .max_stacks = 256 };
		char why[512];

		offcpu_init(&p->oc, &oo);
		/* The sampler takes its own reference to the binary's reader. */
		p->oc_ok = offcpu_add_target(&p->oc, t->pid, t->gb, t->bias, t->exe, why,
					     sizeof(why)) >= 0;
		if (p->oc_ok)
			offcpu_sample(&p->oc, 0);
		else
			offcpu_free(&p->oc);
		/* The leaks sampler borrows t->gb: it is freed in agent_drop, first. */
		p->lk = p->oc_ok ? leaks_new() : NULL;
		if (p->lk && !leaks_add(p->lk, t->pid, t->gb, t->bias, p->exe, why, sizeof(why))) {
			leaks_free(p->lk);
			p->lk = NULL;
		}
		if (p->lk)
			leaks_sample(p->lk, session_now());
	}
	if (a->ss) {
		sysstat_add_pid(a->ss, t->pid, t->gb->offsets_known ? t->gb->off.g_goid : -1);
		/* Sampled: what of the current interval went by before it was added. */
		if (a->sc_sampled && a->sess) {
			sysstat_sampling_now(a->ss, &p->sc_pre_wall, &p->sc_pre_traced);
			p->sc_joined = true;
		}
	}
	if (a->h)
		health_add_pid(a->h, t->pid);
	if (a->gc) {
		struct gc_target_info info;
		char why[256];

		/* Go < 1.17 or no probe point: no GC series for this process, the rest stays. */
		p->gc_ok = gc_add_target(a->gc, t, &info, why, sizeof(why)) == 0;
		/* Measured: the counter is there from the start, at 0 until an assist. */
		p->gc_has_cpu = p->gc_ok && info.has_cpu;
		/* The gauges from the start too: the runtime's figures of its last cycle. */
		if (p->gc_ok && info.has_now) {
			p->gc_has_heap = true;
			p->gc_heap_goal = info.heap_goal;
			p->gc_heap_live = info.heap_live;
		}
		if (p->gc_ok && info.note[0] && a->cfg->verbose)
			fprintf(stderr, "goscope: agent: pid %d: %s\n", (int)t->pid, info.note);
	}
	t->priv = p;
	a->ntracked++;
	agent_lat_take(a->lat, t, p->exe, p->go_version);
	return 0;
}

void agent_drop(struct agent *a, struct target *t)
{
	struct agent_proc *p = t->priv;

	if (!p)
		return;
	agent_lat_drop(a->lat, t);
	if (a->ss)
		sysstat_remove_pid(a->ss, t->pid);
	if (a->h)
		health_remove_pid(a->h, t->pid);
	if (p->gc_ok)
		gc_remove_target(a->gc, t);
	if (p->oc_ok)
		offcpu_free(&p->oc);
	leaks_free(p->lk);
	free(p->sys);
	fdinfo_inodes_free(&p->inodes);
	free(p);
	t->priv = NULL;
	a->ntracked--;
	/* Give a departed process's readers back to the system, not the heap. */
	malloc_trim(0);
}

void agent_sample(struct agent *a, struct session *s)
{
	uint64_t now = session_now();

	for (size_t i = 0; i < s->ntargets; i++) {
		struct agent_proc *p = s->targets[i]->priv;

		if (p && p->oc_ok)
			offcpu_sample(&p->oc, a->last_sample_ns ? now - a->last_sample_ns : 0);
		if (p && p->lk)
			leaks_sample(p->lk, now);
	}
	a->last_sample_ns = now;
}

static struct agent_proc *agent_find(struct session *s, pid_t pid)
{
	struct target *t = session_find(s, pid);

	return t && t->state == TARGET_ALIVE ? t->priv : NULL;
}

static void agent_add_errno(struct agent_proc *p, uint32_t nr, int err, double count)
{
	for (size_t i = 0; i < p->nerrnos; i++)
		if (p->errnos[i].nr == nr && p->errnos[i].err == err) {
			p->errnos[i].count += count;
			return;
		}
	if (p->nerrnos < AGENT_MAX_ERRNOS)
		p->errnos[p->nerrnos++] = (struct agent_errno){ nr, err, count };
}

/*
 * Sampled: sysstat scaled every row by the interval's wall / attached
 * time. A process added during the interval was traced only in its part
 * after that: its rows are scaled by that part's own ratio instead (the
 * factor returned), or left as they are when less than half a window was
 * attached in it.
 */
static double agent_sc_factor(const struct agent_proc *p, const struct sysstat_sampling *sm)
{
	double wall, traced;

	if (!sm->sampled || !p->sc_joined || !(sm->scale > 0))
		return 1;
	wall = sm->wall_s - p->sc_pre_wall;
	traced = sm->traced_s - p->sc_pre_traced;
	/* A part of a window: a few ms would decide; the interval's ratio instead. */
	if (!(traced >= sm->window_s / 2) || !(wall > 0))
		return 1;
	return wall / traced / sm->scale;
}

static void agent_collect_syscalls(struct agent *a, struct session *s)
{
	struct sysstat_sampling sm;
	struct sysstat_row *rows;
	struct sysstat_err *errs;
	uint64_t now = session_now();
	size_t n, ne;

	if (!a->ss || sysstat_read(a->ss, &rows, &n, &errs, &ne) != 0)
		return;
	sysstat_sampling(a->ss, &sm);
	/* Less than a window attached: nothing read, the next collection covers it. */
	if (sm.carried)
		return;
	if (sm.sampled) {
		a->sc_duty = sm.wall_s > 0 ? sm.traced_s / sm.wall_s : 0;
		a->sc_traced_s += sm.traced_s;
	} else {
		a->sc_duty = 1;
		a->sc_traced_s += (double)(now - a->sc_last_ns) / 1e9;
	}
	a->sc_last_ns = now;
	for (size_t i = 0; i < n; i++) {
		struct agent_proc *p = agent_find(s, (pid_t)rows[i].tgid);

		if (!p || rows[i].nr >= SC_NR_MAX)
			continue;
		if (!p->sys) {
			p->sys = calloc(SC_NR_MAX, sizeof(*p->sys));
			if (!p->sys)
				continue;
		}
		agent_sc_add(&p->sys[rows[i].nr], (double)rows[i].count, (double)rows[i].errors,
			     (double)rows[i].total_ns / 1e9, &rows[i].h, agent_sc_factor(p, &sm));
	}
	for (size_t i = 0; i < ne; i++) {
		struct agent_proc *p = agent_find(s, (pid_t)errs[i].tgid);

		if (p)
			agent_add_errno(p, errs[i].nr, errs[i].err,
					(double)errs[i].count * agent_sc_factor(p, &sm));
	}
	for (size_t i = 0; i < s->ntargets; i++) {
		struct agent_proc *p = s->targets[i]->priv;

		if (p)
			p->sc_joined = false;
	}
}

/* The tracked process holding socket INO, or NULL. */
static struct agent_proc *agent_socket_owner(struct session *s, uint64_t ino)
{
	for (size_t i = 0; i < s->ntargets; i++) {
		struct agent_proc *p = s->targets[i]->priv;

		if (p && s->targets[i]->state == TARGET_ALIVE && fdinfo_inodes_has(&p->inodes, ino))
			return p;
	}
	return NULL;
}

/*
 * TCP entries are consumed: a tracked process's are added to its counter
 * and deleted, other processes' are swept (the map is host-wide and
 * bounded), so the counters only grow and the map never fills up.
 */
static enum health_tcp_fate agent_tcp_fate(const struct hl_tcp_key *k, void *arg)
{
	return agent_socket_owner(arg, k->ino) ? HEALTH_TCP_TAKE : HEALTH_TCP_STRAY;
}

static void agent_tcp_take(const struct hl_tcp_key *k, const struct hl_tcp_val *v, void *arg)
{
	struct agent_proc *p = agent_socket_owner(arg, k->ino);

	if (p && k->kind == HL_TCP_RETRANS)
		p->tcp_retrans += v->count;
}

static void agent_add_reason(struct agent_proc *p, const char *reason, double secs)
{
	char r[sizeof(p->reasons[0].name)];

	snprintf(r, sizeof(r), "%s", reason); /* from the binary: any bytes */
	agent_utf8(r);
	for (size_t i = 0; i < p->nreasons; i++)
		if (strcmp(p->reasons[i].name, r) == 0) {
			p->reasons[i].seconds += secs;
			return;
		}
	if (p->nreasons < AGENT_MAX_REASONS) {
		snprintf(p->reasons[p->nreasons].name, sizeof(p->reasons[0].name), "%s", r);
		p->reasons[p->nreasons++].seconds = secs;
	}
}

/*
 * Goroutines by state, and the creation sites that grew or shrank most
 * (at most AGENT_MAX_SITES; steady sites fill the rest, at 0, so that a
 * healthy process still has its series).
 */
static void agent_collect_goroutines(struct agent_proc *p)
{
	struct leaks_report *r = leaks_report(p->lk, session_now());
	struct target *t = p->t;

	if (!r)
		return;
	memset(p->gstates, 0, sizeof(p->gstates));
	p->ngrowth = 0;
	for (size_t i = 0; i < r->nrows; i++)
		if (r->rows[i].status < AGENT_NSTATES)
			p->gstates[r->rows[i].status] += r->rows[i].count;
	/* Sites, not groups: a site's groups (states, stacks) add up. */
	for (size_t i = 0; i < r->nrows; i++) {
		struct leaks_row *row = &r->rows[i];
		struct stack_frame f;
		char site[128];
		size_t k;

		if (!row->gopc || stack_symbolize(t->gb, t->bias, &row->gopc, 1, 0, &f, 1) != 1 ||
		    !f.known)
			continue;
		snprintf(site, sizeof(site), "%s", f.func);
		agent_utf8(site);
		for (k = 0; k < p->ngrowth && strcmp(p->growth[k].site, site) != 0; k++)
			;
		if (k < p->ngrowth) {
			p->growth[k].growth += row->growth_per_s;
			continue;
		}
		if (p->ngrowth < AGENT_MAX_SITES) {
			snprintf(p->growth[p->ngrowth].site, sizeof(site), "%s", site);
			p->growth[p->ngrowth++].growth = row->growth_per_s;
		} else {
			/* Keep the largest movers: replace the smallest if this one is larger. */
			size_t min = 0;

			for (k = 1; k < AGENT_MAX_SITES; k++)
				if (fabs(p->growth[k].growth) < fabs(p->growth[min].growth))
					min = k;
			if (fabs(row->growth_per_s) > fabs(p->growth[min].growth)) {
				snprintf(p->growth[min].site, sizeof(site), "%s", site);
				p->growth[min].growth = row->growth_per_s;
			}
		}
	}
	leaks_report_free(r);
}

static void agent_collect_proc(struct agent *a, struct agent_proc *p)
{
	pid_t pid = p->t->pid;
	struct health_lat l;
	int n;

	if (p->oc_ok) {
		offcpu_flush(&p->oc);
		for (size_t i = 0; i < p->oc.nstacks; i++) {
			struct offcpu_stack *st = &p->oc.stacks[i];

			agent_add_reason(p, p->oc.reasons[st->reason], (double)st->total_ns / 1e9);
		}
		p->goroutines = p->oc.ntargets ? p->oc.targets[0].goroutines : 0;
		a->offcpu_torn += p->oc.torn;
		offcpu_reset(&p->oc);
	}
	if (p->lk)
		agent_collect_goroutines(p);
	n = fdinfo_scan(pid, NULL, &p->inodes);
	if (n >= 0)
		p->open_fds = (uint64_t)n;
	if (a->h && health_runq(a->h, pid, &l))
		p->runq_seconds = (double)l.total_ns / 1e9;
	cgroup_read(pid, &p->cg);
	proc_majflt(pid, &p->majflt);
}

void agent_collect(struct agent *a, struct session *s)
{
	if (a->gc)
		gc_poll(a->gc);
	agent_collect_syscalls(a, s);
	for (size_t i = 0; i < s->ntargets; i++)
		if (s->targets[i]->priv && s->targets[i]->state == TARGET_ALIVE)
			agent_collect_proc(a, s->targets[i]->priv);
	/* Not once per process: the map holds every socket of the host, and
	 * each entry costs bpf(2) calls. */
	if (a->h)
		health_tcp_sweep(a->h, agent_tcp_fate, agent_tcp_take, s);
	agent_lat_collect(a->lat, session_window_s(s));
}
