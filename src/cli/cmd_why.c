/*
 * goscope why: where the time of each slow call went. Calls of a function
 * (--func) or HTTP requests (--http) are timed as funclat/http time them;
 * each one at least --slow long is cut into parts (on CPU, runnable, run
 * queue, CPU quota, stop-the-world, assist, lock, IO wait, system calls,
 * page faults ... unexplained) that add up to its wall time, then a
 * verdict ranks the causes over the window. Glue between the options, the
 * session, collect/why and report/why.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../collect/why.h"
#include "../core/session.h"
#include "../report/why.h"

#define WHY_SWEEP_S 2.0

struct why_cmd {
	struct session_opts so;
	struct why_config cfg;
	const char *func;
	bool http;
	const char *perfetto;
	FILE *pf;
	struct why_perfetto pfw;
	struct why *w;
	double slow_ms;
};

static void why_on_call(const struct why_call *c, void *arg)
{
	struct session *s = arg;
	struct why_cmd *wc = s->arg;

	why_print_call(s->out, c, s->o->json);
	if (wc->pf)
		why_perfetto_call(&wc->pfw, c);
}

static int why_take(struct session *s, struct target *t, char *err, size_t errlen)
{
	struct why_cmd *c = s->arg;
	struct funclat_match m;
	char note[600];

	if (why_add_target(c->w, t, &m, note, sizeof(note), err, errlen) != 0)
		return -1;
	fprintf(stderr, "goscope: why: pid %d (%s): %zu function%s (%s%s), %zu probe sites\n",
		(int)t->pid, t->name, m.nfuncs, m.nfuncs == 1 ? "" : "s", m.first,
		m.nfuncs > 1 ? ", ..." : "", m.nsites);
	if (note[0])
		fprintf(stderr, "goscope: why: pid %d: %s\n", (int)t->pid, note);
	return 0;
}

static void why_drop(struct session *s, struct target *t)
{
	struct why_cmd *c = s->arg;

	why_remove_target(c->w, t);
}

static int why_events(struct session *s, void *arg)
{
	struct why_cmd *c = arg;

	(void)s;
	return why_poll(c->w);
}

static int why_tick_fn(struct session *s, void *arg)
{
	struct why_cmd *c = arg;

	(void)s;
	why_tick(c->w);
	return 0;
}

static int why_sweep_fn(struct session *s, void *arg)
{
	struct why_cmd *c = arg;

	(void)s;
	why_sweep(c->w);
	return 0;
}

static int why_start(struct session *s, char *err, size_t errlen)
{
	struct why_cmd *c = s->arg;
	int fds[4];
	size_t n = why_fds(c->w, fds, 4);

	for (size_t i = 0; i < n; i++)
		if (session_add_fd(s, fds[i], why_events, c) != 0) {
			snprintf(err, errlen, "cannot watch the ring buffers");
			return -1;
		}
	if (session_add_timer(s, c->cfg.tick_ms / 1e3, why_tick_fn, c) != 0 ||
	    session_add_timer(s, WHY_SWEEP_S, why_sweep_fn, c) != 0) {
		snprintf(err, errlen, "cannot add the sampling timer");
		return -1;
	}
	return 0;
}

static int why_report(struct session *s, bool last)
{
	struct why_cmd *c = s->arg;
	struct why_verdict v;

	why_poll(c->w);
	if (!last)
		return 0;
	if (why_verdict(c->w, session_window_s(s), &v) != 0) {
		session_error(s, "out of memory");
		return -1;
	}
	why_print_verdict(s->out, &v, c->slow_ms, s->o->json);
	if (c->pf)
		why_perfetto_end(&c->pfw, &v);
	why_verdict_free(&v);
	return 0;
}

static char *why_http_pattern[] = { "net/http.serverHandler.ServeHTTP" };

int cmd_why(int argc, char **argv)
{
	static struct why_cmd c = { .cfg = { .tick_ms = 1, .fl = { .max_funcs = 64, .sample = 1 } } };
	const struct opt own[] = {
		{ "func", 0, OPT_STR, &c.func, "PATTERN",
		  "the calls to explain: functions matching this glob ('main.(*Store).Get')" },
		{ "http", 0, OPT_FLAG, &c.http, NULL,
		  "the calls to explain: requests of a net/http server (Go >= 1.17)" },
		{ "route", 0, OPT_STR, &c.cfg.route, "PATH",
		  "with --http: only requests whose URL path starts with PATH" },
		{ "slow", 0, OPT_DOUBLE, &c.slow_ms, "MS", "explain each call at least MS long",
		  .min = 0.01, .max = 3600000 },
		{ "perfetto", 0, OPT_STR, &c.perfetto, "FILE",
		  "write the slow calls as a timeline for ui.perfetto.dev (trace-event JSON)" },
		{ "tick", 0, OPT_DOUBLE, &c.cfg.tick_ms, "MS",
		  "read the goroutines inside a call every MS (default 1)", .min = 0.1,
		  .max = 100 },
		{ NULL },
	};
	const struct opt *tables[] = {
		session_opt_table(&c.so, SESSION_OPT_PID | SESSION_OPT_DURATION | SESSION_OPT_JSON |
						 SESSION_OPT_OUTPUT | SESSION_OPT_VERBOSE),
		own, NULL,
	};
	const struct opts_cmd cmd = {
		"why", "-p PID (--func PATTERN | --http [--route PATH]) --slow MS [-d SEC] [--json] [--perfetto FILE]",
		"Where the time of slow calls went: each call at least --slow long is cut into parts "
		"that add up to its wall time (on_cpu, runnable, runq, cfs_throttled, gc_stw, "
		"gc_assist, lock, chan, select, io_wait, sleep, syscall:NAME, major_fault, ..., "
		"unexplained), then the causes are ranked over the window. Costs the target two "
		"probe hits per call (10-20 us each); only goroutines inside a call are read.",
		"-p PID, --slow MS and one of --func/--http are required.",
	};
	static const struct session_ops ops = {
		.take = why_take,
		.drop = why_drop,
		.start = why_start,
		.report = why_report,
	};
	struct session s;
	char err[600];
	char *pat[1];
	int rc;

	rc = opts_parse(&cmd, tables, argc, argv, NULL);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (c.so.pids.n == 0 || !(c.slow_ms > 0) || (!c.func == !c.http)) {
		cli_error("why: give %s (goscope why -p PID (--func PATTERN | --http) --slow MS)",
			  c.so.pids.n == 0 ? "the process with -p PID"
			  : !(c.slow_ms > 0) ? "--slow MS"
			  : c.http ? "--func or --http, not both" : "--func PATTERN or --http");
		return 2;
	}
	if (c.cfg.route && !c.http) {
		cli_error("why: --route goes with --http");
		return 2;
	}
	if (c.http) {
		c.cfg.fl.patterns = why_http_pattern;
		c.cfg.fl.http = true;
		c.cfg.fl.max_funcs = 1;
	} else {
		pat[0] = (char *)c.func;
		c.cfg.fl.patterns = pat;
	}
	c.cfg.fl.npatterns = 1;
	c.cfg.fl.slow_ms = c.slow_ms;
	c.cfg.verbose = c.so.verbose;
	if (c.perfetto) {
		c.pf = fopen(c.perfetto, "w");
		if (!c.pf) {
			cli_error("why: --perfetto %s: %s", c.perfetto, strerror(errno));
			return 2;
		}
		why_perfetto_begin(&c.pfw, c.pf);
	}
	if (session_init(&s, "why", &c.so, &ops, &c) != 0)
		return 1;
	c.w = why_open(&c.cfg, why_on_call, &s, err, sizeof(err));
	if (!c.w) {
		session_error(&s, "%s", err);
		session_free(&s);
		return 1;
	}
	rc = session_open_targets(&s) == 0 ? session_run(&s) : 1;
	why_close(c.w); /* before the session frees the targets the gc collector holds */
	session_free(&s);
	if (c.pf)
		fclose(c.pf);
	return rc;
}
