/*
 * goscope leaks: goroutines grouped by creation site and blocking stack,
 * followed over the window; groups that only grow with their goroutines
 * parked are reported first as suspects. Glue: options, the session, a
 * timer that takes a snapshot, the report (collect/leaks, report/leaks).
 */
#include "cli.h"

#include "../collect/leaks.h"
#include "../core/session.h"
#include "../report/leaks.h"

#include <stdio.h>

struct leaks_cmd {
	struct leaks *lk;
	double freq;
	long long top;
};

static int leaks_cmd_take(struct session *s, struct target *t, char *err, size_t errlen)
{
	struct leaks_cmd *c = s->arg;

	t->priv = leaks_add(c->lk, t->pid, t->gb, t->bias, t->name, err, errlen);
	return t->priv ? 0 : -1;
}

static void leaks_cmd_drop(struct session *s, struct target *t)
{
	struct leaks_cmd *c = s->arg;

	if (t->priv)
		leaks_remove(c->lk, t->priv);
}

static int leaks_cmd_sample(struct session *s, void *arg)
{
	(void)s;
	leaks_sample(arg, session_now());
	return 0;
}

static int leaks_cmd_start(struct session *s, char *err, size_t errlen)
{
	struct leaks_cmd *c = s->arg;

	(void)err;
	(void)errlen;
	leaks_sample(c->lk, session_now()); /* the window's first snapshot */
	return 0;
}

static int leaks_cmd_report(struct session *s, bool last)
{
	struct leaks_cmd *c = s->arg;
	struct leaks_report *r;

	(void)last;
	leaks_sample(c->lk, session_now()); /* the window's last snapshot */
	r = leaks_report(c->lk, session_now());
	if (!r) {
		session_error(s, "out of memory building the report");
		return -1;
	}
	if (s->o->json)
		leaks_print_json(s->out, r);
	else
		leaks_print_text(s->out, r, (size_t)c->top);
	leaks_report_free(r);
	return 0;
}

int cmd_leaks(int argc, char **argv)
{
	static const struct opts_cmd cmd = {
		"leaks", "[-p PID ...] [-d SEC] [-i SEC] [-F HZ] [--top N] [--json] [-o FILE]",
		"Goroutines grouped by the go statement that created them and where they are\n"
		"parked; groups that only grow over the window, their goroutines parked, are\n"
		"suspected leaks and come first. Steady pools are not suspects.",
		"Sampling only: snapshots read every goroutine through process_vm_readv\n"
		"without stopping the target. Wait times are counted from when a goroutine\n"
		"was first seen parked where it is (\">=\": already there at the start).",
	};
	static const struct session_ops ops = {
		.take = leaks_cmd_take,
		.drop = leaks_cmd_drop,
		.start = leaks_cmd_start,
		.report = leaks_cmd_report,
	};
	static struct session_opts so;
	static struct leaks_cmd c = { .freq = 2, .top = 20 };
	static const struct opt own[] = {
		{ "freq", 'F', OPT_DOUBLE, &c.freq, "HZ", "snapshots per second (default 2)",
		  .min = 0.1, .max = 100 },
		{ "top", 'n', OPT_INT, &c.top, "N", "other groups shown in text (default 20; 0: all)",
		  .min = 0, .max = 1e9 },
		{ NULL },
	};
	struct session s;
	int rc;

	rc = session_parse(&cmd, &so, SESSION_OPTS_ALL & ~SESSION_OPT_VERBOSE, own, argc, argv,
			   NULL);
	if (rc >= 0)
		return rc;
	c.lk = leaks_new();
	if (!c.lk) {
		cli_error("leaks: out of memory");
		return 1;
	}
	rc = 1;
	if (session_init(&s, "leaks", &so, &ops, &c) != 0)
		goto out;
	if (session_open_targets(&s) == 0 &&
	    session_add_timer(&s, 1.0 / c.freq, leaks_cmd_sample, c.lk) == 0)
		rc = session_run(&s);
	session_free(&s);
out:
	leaks_free(c.lk);
	return rc;
}
