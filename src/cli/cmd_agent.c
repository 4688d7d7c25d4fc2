/*
 * goscope agent: the always-on node agent. Every Go process on the host
 * (rediscovered every 2 s) gets the cheap collectors; the figures are
 * served as Prometheus text at /metrics and optionally written as JSON
 * lines each interval. The parts live in src/agent/: config (option table
 * and file), collect (processes and counters), metrics (exposition), http.
 */
#include "cli.h"

#include "../agent/agent.h"
#include "../agent/http.h"
#include "../core/session.h"
#include "../output/promtext.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

struct agent_cmd {
	struct agent a;
	struct agent_http http;
	struct promtext pt;
	const char *listen;
};

static int agent_cmd_take(struct session *s, struct target *t, char *err, size_t errlen)
{
	struct agent_cmd *c = s->arg;

	return agent_take(&c->a, t, err, errlen);
}

static void agent_cmd_drop(struct session *s, struct target *t)
{
	struct agent_cmd *c = s->arg;

	agent_drop(&c->a, t);
}

static void agent_cmd_skipped(struct session *s, pid_t pid, const char *why)
{
	struct agent_cmd *c = s->arg;

	(void)why;
	agent_skipped(&c->a, pid);
}

static int agent_cmd_sample(struct session *s, void *arg)
{
	agent_sample(arg, s);
	return 0;
}

/* Collect, render and publish: every interval, and once at the start. */
static int agent_cmd_report(struct session *s, bool last)
{
	struct agent_cmd *c = s->arg;
	char err[256];
	bool first = c->http.d == NULL;

	if (last)
		return 0;
	agent_collect(&c->a, s);
	c->a.scrapes = agent_http_scrapes(&c->http);
	agent_render(&c->a, s, &c->pt);
	if (c->pt.oom)
		return -1;
	if (agent_http_publish(&c->http, c->pt.buf, c->pt.len, err, sizeof(err)) != 0) {
		session_error(s, "%s on %s", err, c->listen);
		session_stop(s);
		return -1;
	}
	if (first)
		fprintf(stderr, "goscope: agent serving http://%s/metrics\n", c->listen);
	if (c->a.jl)
		agent_json(&c->a, s);
	return 0;
}

static int agent_cmd_start(struct session *s, char *err, size_t errlen)
{
	struct agent_cmd *c = s->arg;

	if (agent_start(&c->a, s) != 0) {
		snprintf(err, errlen, "cannot watch the GC event ring buffer");
		return -1;
	}
	return agent_cmd_report(s, false);
}

/* --config FILE is read before the other options, which override it. */
static int agent_cmd_config(int argc, char **argv, const struct opt *const *tables,
			    struct agent_config *cfg)
{
	char err[1200];

	for (int i = 1; i < argc; i++) {
		const char *path = NULL;

		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
		if (path && agent_config_file(tables, path, err, sizeof(err)) != 0) {
			cli_error("%s", err);
			return -1;
		}
	}
	cfg->exes.from_file = cfg->exes.n > 0;
	cfg->cgroups.from_file = cfg->cgroups.n > 0;
	cfg->funclat.from_file = cfg->funclat.n > 0;
	return 0;
}

int cmd_agent(int argc, char **argv)
{
	static const struct opts_cmd cmd = {
		"agent", "[--listen ADDR:PORT] [--interval SEC] [--json-lines FILE|-] [--config FILE]\n"
		"                     [--exe NAME,...] [--cgroup PREFIX,...] [--collectors LIST]\n"
		"                     [--offcpu-freq HZ] [--max-processes N]\n"
		"                     [--funclat PATTERN,... [--funclat-max-funcs N]] [--http]\n"
		"                     [--syscalls-exact | --syscalls-duty PCT]",
		"Always-on node agent: every Go process on the host, Prometheus metrics at\n"
		"http://ADDR:PORT/metrics (default 127.0.0.1:9464). Syscalls are sampled by\n"
		"default (tracepoints attached 10% of the time, counts scaled: estimates).",
		NULL,
	};
	static const struct session_ops ops = {
		.take = agent_cmd_take,
		.drop = agent_cmd_drop,
		.start = agent_cmd_start,
		.report = agent_cmd_report,
		.skipped = agent_cmd_skipped,
	};
	static struct agent_config cfg;
	static struct agent_cmd c;
	struct session_opts so = { .duration = 0 };
	const struct opt *const tables[] = { agent_config_table(&cfg), NULL };
	struct session s;
	char err[600];
	int rc;

	agent_config_init(&cfg);
	if (agent_cmd_config(argc, argv, tables, &cfg) != 0)
		return 2;
	rc = opts_parse(&cmd, tables, argc, argv, NULL);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	c.listen = cfg.listen;
	if (agent_http_listen(&c.http, cfg.listen, err, sizeof(err)) != 0) {
		cli_error("%s", err);
		agent_http_close(&c.http);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	promtext_init(&c.pt);
	so.interval = cfg.interval;
	so.verbose = cfg.verbose;
	rc = 1;
	if (agent_open(&c.a, &cfg, err, sizeof(err)) != 0) {
		cli_error("%s", err);
		goto out;
	}
	if (session_init(&s, "agent", &so, &ops, &c) != 0)
		goto out_agent;
	s.keep_running = true;
	s.quiet_targets = true;
	s.rediscover_s = 2;
	s.max_targets = AGENT_MAX_PROCS_LIMIT;
	if (session_open_targets(&s) == 0 &&
	    ((cfg.collectors & AGENT_COL_OFFCPU) == 0 ||
	     session_add_timer(&s, 1.0 / cfg.offcpu_freq, agent_cmd_sample, &c.a) == 0))
		rc = session_run(&s);
	fprintf(stderr, "goscope: agent stopping\n");
	for (size_t i = 0; i < s.ntargets; i++)
		agent_drop(&c.a, s.targets[i]);
	session_free(&s);
out_agent:
	agent_close(&c.a);
out:
	agent_http_close(&c.http);
	promtext_free(&c.pt);
	return rc;
}
