/*
 * goscope health: the kernel-level causes behind a Go service's latency,
 * per process, each with a verdict (ok, warn, bad) and its evidence.
 * Glue: the session owns targets, window and signals; collect/health.c
 * fills a struct health_report per process and window, collect/verdict.c
 * judges it and report/health.c prints it.
 */
#include "cli.h"

#include "../collect/health.h"
#include "../core/opts.h"
#include "../core/session.h"
#include "../output/jsonw.h"
#include "../report/health.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HC_FD_PERIOD 0.25  /* fd samples a second: growth and leak evidence */
#define HC_SWEEP_PERIOD 2.0 /* TCP map sweeps (the map is host-wide) */

struct hc {
	struct health *h;
	char missing[512];
	struct jsonw jw;
	bool started;
};

static int hc_take(struct session *s, struct target *t, char *err, size_t errlen)
{
	struct hc *c = s->arg;

	t->priv = health_target_new(c->h, t->pid, t->gb, t->bias);
	if (!t->priv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void hc_drop(struct session *s, struct target *t)
{
	(void)s;
	health_target_exited(t->priv);
}

static int hc_start(struct session *s, char *err, size_t errlen)
{
	struct hc *c = s->arg;

	(void)err;
	(void)errlen;
	/* The window opens now: the snapshots taken at take() were before the ready line. */
	for (size_t i = 0; i < s->ntargets; i++)
		health_target_rebase(s->targets[i]->priv);
	if (c->missing[0] && !s->o->json)
		fprintf(stderr, "goscope: health: not measured on this kernel: %s\n", c->missing);
	c->started = true;
	return 0;
}

static int hc_sample(struct session *s, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < s->ntargets; i++)
		if (s->targets[i]->state == TARGET_ALIVE)
			health_target_sample(s->targets[i]->priv);
	return 0;
}

static int hc_sweep(struct session *s, void *arg)
{
	struct hc *c = arg;

	(void)s;
	health_tcp_sweep_targets(c->h);
	return 0;
}

/* Does another live target (the image an exec started) have T's pid? */
static bool hc_pid_reused(const struct session *s, const struct target *t)
{
	for (size_t i = 0; i < s->ntargets; i++)
		if (s->targets[i] != t && s->targets[i]->pid == t->pid &&
		    s->targets[i]->state == TARGET_ALIVE)
			return true;
	return false;
}

static int hc_report(struct session *s, bool last)
{
	struct hc *c = s->arg;
	struct health_report *r = malloc(sizeof(*r));
	struct timespec rt;

	if (!r) {
		session_error(s, "out of memory");
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &rt);
	for (size_t i = 0; i < s->ntargets; i++) {
		struct target *t = s->targets[i];
		struct health_report_ctx ctx = { t->exe, t->gb, t->bias, c->missing, 0 };

		if (!t->priv)
			continue;
		if (!last || s->o->interval > 0)
			ctx.interval_end = (double)rt.tv_sec + (double)rt.tv_nsec / 1e9;
		health_target_report(t->priv, r);
		if (s->o->json)
			health_report_json(&c->jw, r, &ctx);
		else
			health_report_text(s->out, r, &ctx);
		if (t->state != TARGET_ALIVE) {
			/* Reported for the last time: the session forgets it next. */
			health_target_free(t->priv, !hc_pid_reused(s, t));
			t->priv = NULL;
		}
	}
	free(r);
	return 0;
}

int cmd_health(int argc, char **argv)
{
	static const struct opts_cmd cmd = {
		"health", "[-p PID ...] [-d SEC] [-i SEC] [--json] [-o FILE] [-v]",
		"The kernel-level causes behind a Go service's latency, per process, each with a\n"
		"verdict (ok, warn, bad) and its evidence: run-queue delay, CFS quota throttling,\n"
		"TCP retransmits and drops, major faults, direct reclaim, OOM kills, memory and\n"
		"file descriptor growth.",
		"A window of 10 s unless -d says otherwise; Ctrl-C ends it early."
	};
	struct session_opts so = { .duration = 10 };
	const struct session_ops ops = { hc_take, hc_drop, hc_start, hc_report };
	struct hc c = { 0 };
	struct session s;
	char err[600];
	int rc;

	rc = session_parse(&cmd, &so, SESSION_OPTS_ALL, NULL, argc, argv, NULL);
	if (rc >= 0)
		return rc;
	if (session_init(&s, "health", &so, &ops, &c) != 0) {
		session_free(&s);
		return 1;
	}
	jsonw_init(&c.jw, s.out);
	if (health_open(&c.h, HEALTH_SIG_ALL, so.verbose, c.missing, sizeof(c.missing), err,
			sizeof(err)) != 0) {
		session_error(&s, "%s", err);
		session_free(&s);
		return 1;
	}
	rc = 1;
	if (session_open_targets(&s) == 0 &&
	    session_add_timer(&s, HC_FD_PERIOD, hc_sample, &c) == 0 &&
	    session_add_timer(&s, HC_SWEEP_PERIOD, hc_sweep, &c) == 0)
		rc = session_run(&s);
	for (size_t i = 0; i < s.ntargets; i++)
		if (s.targets[i]->priv) {
			health_target_free(s.targets[i]->priv, false);
			s.targets[i]->priv = NULL;
		}
	health_close(c.h);
	session_free(&s);
	return rc;
}
