/*
 * goscope offcpu: where goroutines wait, by their own Go stack and the
 * runtime's wait reason, for one, several or every Go process.
 *
 * Glue: the option table, a session whose timer takes a snapshot at -F Hz
 * (collect/offcpu), and the formatters of report/offcpu at each -i and at
 * the end.
 */
#include "cli.h"

#include "../collect/offcpu.h"
#include "../core/opts.h"
#include "../core/session.h"
#include "../report/offcpu.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum oc_format { OC_TOP, OC_FOLDED, OC_PPROF };

struct oc_cmd {
	struct session_opts so;
	double freq;
	int fmt;
	long long top, depth, goid;
	double min_wait_ms;
	const char *reason, *stack;
	struct offcpu oc;
	uint64_t last_ns; /* the previous snapshot */
	uint64_t gone_ns; /* the snapshot that found every target gone, or 0 */
};

static int oc_take(struct session *s, struct target *t, char *err, size_t errlen)
{
	struct oc_cmd *c = s->arg;

	return offcpu_add_target(&c->oc, t->pid, t->gb, t->bias, t->exe, err, errlen) < 0 ? -1 : 0;
}

static void oc_drop(struct session *s, struct target *t)
{
	struct oc_cmd *c = s->arg;

	offcpu_target_gone(&c->oc, t->pid);
}

static int oc_start(struct session *s, char *err, size_t errlen)
{
	struct oc_cmd *c = s->arg;

	(void)err;
	(void)errlen;
	/* The first snapshot only learns the goroutines; time accrues from the next. */
	offcpu_sample(&c->oc, 0);
	c->oc.samples = 0;
	c->last_ns = session_now();
	return 0;
}

static int oc_tick(struct session *s, void *arg)
{
	struct oc_cmd *c = arg;
	uint64_t now = session_now();

	if (offcpu_sample(&c->oc, now - c->last_ns) == 0 && !c->gone_ns) {
		c->gone_ns = now; /* the window ends here, not at the session's exit check */
	}
	(void)s;
	c->last_ns = now;
	return 0;
}

static int oc_report(struct session *s, bool last)
{
	struct oc_cmd *c = s->arg;
	struct offcpu_fmt f = {
		.stack = c->stack,
		.top = (size_t)c->top,
		.depth = (size_t)c->depth,
		.multi = c->oc.ntargets > 1 || s->discovery,
		.seconds = c->gone_ns && c->gone_ns < s->now_ns
				   ? (double)(c->gone_ns - s->win_start_ns) / 1e9
				   : session_window_s(s),
		.freq = c->freq,
		.start_wall = s->start_wall + (double)(s->win_start_ns - s->start_ns) / 1e9,
	};
	char err[600];
	int rc = 0;

	offcpu_flush(&c->oc);
	if (s->o->json)
		offcpu_print_json(s->out, &c->oc, &f);
	else if (c->fmt == OC_TOP)
		offcpu_print_top(s->out, &c->oc, &f);
	else if (c->fmt == OC_FOLDED)
		offcpu_print_folded(s->out, &c->oc, &f);
	else if (offcpu_write_pprof(s->o->out, &c->oc, &f, err, sizeof(err)) != 0) {
		session_error(s, "%s", err);
		rc = -1;
	}
	if (!last)
		offcpu_reset(&c->oc);
	return rc;
}

int cmd_offcpu(int argc, char **argv)
{
	static const char *const formats[] = { "top", "folded", "pprof", NULL };
	static struct oc_cmd c = {
		.freq = 49, .top = 10, .depth = 12, .goid = -1,
	};
	const struct opt rows[] = {
		{ "freq", 'F', OPT_DOUBLE, &c.freq, "HZ", "goroutine snapshots per second (default 49)",
		  .min = 1, .max = 1000 },
		{ "format", 'f', OPT_CHOICE, &c.fmt, "FMT",
		  "top (default), folded (flamegraph.pl), pprof (needs -o)", .choices = formats },
		{ "top", 'n', OPT_INT, &c.top, "N", "stacks shown by -f top (default 10)", .min = 1,
		  .max = 1e9 },
		{ "depth", 0, OPT_INT, &c.depth, "N", "frames shown per stack by -f top (default 12)",
		  .min = 1, .max = 4096 },
		{ "min-wait", 0, OPT_DOUBLE, &c.min_wait_ms, "MS",
		  "ignore waits shorter than MS milliseconds", .min = 0, .max = 1e9 },
		{ "reason", 0, OPT_STR, &c.reason, "STR", "only waits whose reason contains STR" },
		{ "goid", 0, OPT_INT, &c.goid, "N", "only goroutine N", .min = 0, .max = 9e18 },
		{ "stack", 0, OPT_STR, &c.stack, "STR", "only stacks with a frame containing STR" },
		{ NULL },
	};
	const struct opt *tables[] = {
		session_opt_table(&c.so, SESSION_OPTS_ALL), rows, NULL,
	};
	static const struct opts_cmd cmd = {
		"offcpu", "[-p PID ...] [-d SEC] [-i SEC] [-F HZ] [-f top|folded|pprof] [-o FILE] [filters]",
		"Where goroutines wait: time not running, by the goroutine's own Go stack and\n"
		"the runtime's wait reason (chan receive, IO wait, sync.Mutex.Lock, select,\n"
		"sleep, syscall: read, runnable, ...).",
		"Sampling reads goroutines through process_vm_readv without stopping the\n"
		"target; total time per stack is exact to one sampling interval, and waits\n"
		"shorter than an interval are seen in proportion to their length."
	};
	static const struct session_ops ops = { oc_take, oc_drop, oc_start, oc_report };
	struct offcpu_opts oo = { .goid = -1 };
	struct session s;
	int rc;

	rc = opts_parse(&cmd, tables, argc, argv, NULL);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (c.fmt == OC_PPROF && !c.so.out) {
		fprintf(stderr, "goscope: offcpu: -f pprof writes a binary profile: give a file with -o FILE\n");
		return 2;
	}
	if (c.fmt == OC_PPROF && (c.so.interval > 0 || c.so.json)) {
		fprintf(stderr, "goscope: offcpu: -f pprof writes one profile: not with -i or --json\n");
		return 2;
	}
	if (c.fmt == OC_PPROF) {
		/* Written at the end: an unwritable path is said now, not after the window. */
		FILE *probe = fopen(c.so.out, "we");

		if (!probe) {
			fprintf(stderr, "goscope: offcpu: cannot write %s: %s\n", c.so.out,
				strerror(errno));
			return 1;
		}
		fclose(probe);
	}
	oo.min_wait_ns = (uint64_t)(c.min_wait_ms * 1e6);
	oo.reason = c.reason;
	oo.goid = c.goid;
	offcpu_init(&c.oc, &oo);
	/* pprof is written at the end by its own writer: -o is not opened as text. */
	struct session_opts so = c.so;

	if (c.fmt == OC_PPROF)
		so.out = NULL;
	if (session_init(&s, "offcpu", &so, &ops, &c) != 0 ||
	    session_open_targets(&s) != 0 ||
	    session_add_timer(&s, 1.0 / c.freq, oc_tick, &c) != 0) {
		session_free(&s);
		offcpu_free(&c.oc);
		return 1;
	}
	s.o = &c.so; /* the report sees the -o path */
	rc = session_run(&s);
	session_free(&s);
	offcpu_free(&c.oc);
	return rc;
}
