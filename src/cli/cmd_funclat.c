/*
 * goscope funclat: how long chosen Go functions take, per call, in a
 * running process: glob patterns over its function names, entry and RET
 * uprobes (never a uretprobe), calls timed per goroutine in the kernel;
 * slow calls streamed with their Go stacks. goscope http: the same preset
 * for net/http servers, per route. Glue between the options, the session,
 * collect/funclat and report/funclat, report/http.
 */
#include "cli.h"

#include <stdio.h>

#include "../collect/funclat.h"
#include "../core/session.h"
#include "../report/funclat.h"
#include "../report/http.h"

#define FUNCLAT_SWEEP_S 2.0
#define FUNCLAT_COST_S 1.0

struct funclat_cmd {
	struct session_opts so;
	struct funclat_config cfg;
	bool hist;
	long long routes;     /* http: rows shown */
	struct funclat *fl;
	bool cost_checked;
};

static int funclat_take(struct session *s, struct target *t, char *err, size_t errlen)
{
	struct funclat_cmd *c = s->arg;
	struct funclat_match m;

	if (funclat_resolve(c->fl, t, &m, err, errlen) != 0)
		return -1;
	fprintf(stderr, "goscope: %s: pid %d (%s): %zu function%s (%s%s), %zu probe sites", s->cmd,
		(int)t->pid, t->name, m.nfuncs, m.nfuncs == 1 ? "" : "s", m.first,
		m.nfuncs > 1 ? ", ..." : "", m.nsites);
	if (m.noret)
		fprintf(stderr, "; %zu matched function%s without a RET skipped", m.noret,
			m.noret == 1 ? "" : "s");
	if (c->cfg.http)
		fprintf(stderr, "; status codes: %s%s", m.status_src ? m.status_src : "not read",
			m.status_src ? " layout, checked on each response" : " (unknown layout)");
	fprintf(stderr, "\n");
	return funclat_attach(c->fl, t, err, errlen);
}

static void funclat_drop(struct session *s, struct target *t)
{
	struct funclat_cmd *c = s->arg;

	funclat_detach(c->fl, t);
}

static void funclat_on_event(const struct funclat_event *e, void *arg)
{
	struct session *s = arg;

	funclat_print_event(s->out, e, s->o->json);
}

static int funclat_events(struct session *s, void *arg)
{
	struct funclat_cmd *c = arg;

	return funclat_poll(c->fl, funclat_on_event, s);
}

static int funclat_sweep_tick(struct session *s, void *arg)
{
	struct funclat_cmd *c = arg;

	(void)s;
	funclat_sweep(c->fl);
	return 0;
}

static int funclat_cost_tick(struct session *s, void *arg)
{
	struct funclat_cmd *c = arg;
	char msg[300];

	if (c->cost_checked)
		return 0;
	c->cost_checked = true;
	if (funclat_cost_check(c->fl, (double)session_now() / 1e9, msg, sizeof(msg)))
		fprintf(stderr, "goscope: %s: warning: %s\n", s->cmd, msg);
	return 0;
}

static int funclat_start(struct session *s, char *err, size_t errlen)
{
	struct funclat_cmd *c = s->arg;

	if (session_add_fd(s, funclat_events_fd(c->fl), funclat_events, c) != 0 ||
	    session_add_timer(s, FUNCLAT_SWEEP_S, funclat_sweep_tick, c) != 0 ||
	    session_add_timer(s, FUNCLAT_COST_S, funclat_cost_tick, c) != 0) {
		snprintf(err, errlen, "cannot watch the ring buffer");
		return -1;
	}
	if (funclat_mark(c->fl) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	funclat_cost_begin(c->fl, (double)session_now() / 1e9);
	return 0;
}

static int funclat_report(struct session *s, bool last)
{
	struct funclat_cmd *c = s->arg;
	struct funclat_report r;

	funclat_poll(c->fl, funclat_on_event, s); /* slow calls first */
	if (last)
		funclat_sweep(c->fl);
	if (funclat_read(c->fl, session_window_s(s), &r) != 0) {
		session_error(s, "out of memory");
		return -1;
	}
	if (c->cfg.http) {
		struct funclat_routes rt;
		int rc = funclat_read_routes(c->fl, session_window_s(s), &rt);

		if (rc == 0 && s->o->json)
			http_print_json(s->out, &rt, &r, (size_t)c->routes);
		else if (rc == 0)
			http_print_text(s->out, &rt, &r, (size_t)c->routes, s->o->pids.n > 1);
		funclat_routes_free(&rt);
		funclat_report_free(&r);
		if (rc != 0)
			session_error(s, "out of memory");
		return rc;
	}
	if (s->o->json)
		funclat_print_json(s->out, &r);
	else
		funclat_print_text(s->out, &r, c->hist, s->o->pids.n > 1);
	funclat_report_free(&r);
	return 0;
}

static char *funclat_http_pattern[] = { "net/http.serverHandler.ServeHTTP" };

static int funclat_run(int argc, char **argv, bool http)
{
	static struct funclat_cmd c = { .cfg = { .max_funcs = 64, .sample = 1 }, .routes = 20 };
	const struct opt own[] = {
		{ "hist", 0, OPT_FLAG, &c.hist, NULL, "print each function's latency distribution" },
		{ "slow", 0, OPT_DOUBLE, &c.cfg.slow_ms, "MS",
		  "print each call at least MS long as it happens, with its goroutine and Go stack",
		  .min = 0.001, .max = 3600000 },
		{ "args", 0, OPT_FLAG, &c.cfg.args, NULL,
		  "with --slow: the first 6 integer argument registers (Go >= 1.17 register ABI)" },
		{ "max-funcs", 0, OPT_INT, &c.cfg.max_funcs, "N",
		  "refuse patterns matching more than N functions (default 64)", .min = 1, .max = 1024 },
		{ "force", 0, OPT_FLAG, &c.cfg.force, NULL, "probe more than --max-funcs functions" },
		{ "sample", 0, OPT_INT, &c.cfg.sample, "N",
		  "time one call in N (every call is still counted and still hits its probes)",
		  .min = 1, .max = 1000000 },
		{ NULL },
	};
	const struct opt http_own[] = {
		{ "slow", 0, OPT_DOUBLE, &c.cfg.slow_ms, "MS",
		  "print each request at least MS long as it ends, with its route, goroutine and stack",
		  .min = 0.001, .max = 3600000 },
		{ "routes", 0, OPT_INT, &c.routes, "N",
		  "show the N busiest routes, the others as one row (default 20)", .min = 1,
		  .max = 100000 },
		{ NULL },
	};
	const struct opt *tables[] = {
		session_opt_table(&c.so, SESSION_OPT_PID | SESSION_OPT_DURATION |
						 SESSION_OPT_INTERVAL | SESSION_OPT_JSON |
						 SESSION_OPT_OUTPUT | SESSION_OPT_VERBOSE),
		http ? http_own : own, NULL,
	};
	const struct opts_cmd http_cmd = {
		"http", "-p PID [-d SEC] [-i SEC] [--slow MS] [--routes N] [--json]",
		"Requests of a Go net/http server per route (method and URL path): count, rate, "
		"p50/p99/max, timed in net/http.serverHandler.ServeHTTP with entry and RET uprobes "
		"(Go >= 1.17). Each request costs the server two probe hits (10-20 microseconds each).",
		"-p PID is required.",
	};
	const struct opts_cmd cmd = {
		"funclat", "-p PID [-d SEC] [-i SEC] [--hist] [--slow MS [--args]] [--json] PATTERN...",
		"Latency of Go functions of a running process, per call: PATTERN is a glob over "
		"the binary's function names ('main.*', '*.(*Store).Get'). Calls are timed per "
		"goroutine with uprobes at each function's entry and at each of its RETs (never "
		"a uretprobe). Each probe hit costs the target 10-20 microseconds of CPU.",
		"-p PID is required (the patterns are resolved in each target's own binary).",
	};
	static const struct session_ops ops = {
		.take = funclat_take,
		.drop = funclat_drop,
		.start = funclat_start,
		.report = funclat_report,
	};
	struct opts_rest rest = { 0 };
	struct session s;
	char err[600];
	int rc;

	rc = opts_parse(http ? &http_cmd : &cmd, tables, argc, argv, http ? NULL : &rest);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (http) {
		rest.argv = funclat_http_pattern;
		rest.argc = 1;
		c.cfg.http = true;
		c.cfg.max_funcs = 1;
	}
	if (c.so.pids.n == 0 || rest.argc == 0) {
		cli_error("%s: give %s (goscope %s)", http ? "http" : "funclat",
			  c.so.pids.n == 0 ? "the process with -p PID" : "at least one PATTERN",
			  http ? "http -p PID" : "funclat -p PID PATTERN...");
		return 2;
	}
	if (c.cfg.args && c.cfg.slow_ms <= 0) {
		cli_error("funclat: --args goes with --slow MS");
		return 2;
	}
	c.cfg.patterns = rest.argv;
	c.cfg.npatterns = (size_t)rest.argc;
	if (session_init(&s, http ? "http" : "funclat", &c.so, &ops, &c) != 0)
		return 1;
	c.fl = funclat_open(&c.cfg, c.so.verbose, err, sizeof(err));
	if (!c.fl) {
		session_error(&s, "%s", err);
		session_free(&s);
		return 1;
	}
	rc = session_open_targets(&s) == 0 ? session_run(&s) : 1;
	session_free(&s);
	funclat_close(c.fl);
	return rc;
}

int cmd_funclat(int argc, char **argv)
{
	return funclat_run(argc, argv, false);
}

int cmd_http(int argc, char **argv)
{
	return funclat_run(argc, argv, true);
}
