/*
 * goscope gc: every GC cycle and stop-the-world pause of Go processes as
 * it happens, who paid for marking (assists per goroutine and stack), the
 * runtime's sampled allocations (--allocs), and a summary with a verdict.
 * Glue only: collect/gc measures, report/gc prints.
 */
#include "cli.h"

#include "../collect/gc.h"
#include "../core/session.h"
#include "../report/gc.h"

#include <stdlib.h>
#include <string.h>

struct gc_cmd {
	struct session_opts so;
	int fmt;              /* enum gc_format */
	bool allocs;
	bool no_assists;
	struct gc_collector *gc;
	struct gc_summary sum;
	struct session *s;
};

static bool gc_cmd_multi(const struct gc_cmd *g)
{
	return g->s->ntargets > 1 || g->s->discovery;
}

static void gc_cmd_on_cycle(const struct gc_cycle *c, void *arg)
{
	struct gc_cmd *g = arg;

	gc_summary_cycle(&g->sum, c);
	if (g->fmt == GC_FMT_TOP)
		gc_print_cycle(g->s->out, c, g->so.json, gc_cmd_multi(g));
}

static void gc_cmd_on_stw(const struct gc_stw *p, void *arg)
{
	struct gc_cmd *g = arg;

	gc_summary_stw(&g->sum, p);
	/* The GC's own pauses are in its cycle's line. */
	if (g->fmt == GC_FMT_TOP && p->kind == GC_STW_OTHER)
		gc_print_stw(g->s->out, p, g->so.json, gc_cmd_multi(g));
}

static int gc_cmd_take(struct session *s, struct target *t, char *err, size_t errlen)
{
	struct gc_cmd *g = s->arg;
	struct gc_target_info info;

	if (gc_add_target(g->gc, t, &info, err, errlen) != 0)
		return -1;
	if (info.note[0]) {
		char label[PATH_MAX + 32];

		fprintf(stderr, "goscope: gc: %s: %s\n", target_label(t, label, sizeof(label)),
			info.note);
	}
	return 0;
}

static void gc_cmd_drop(struct session *s, struct target *t)
{
	struct gc_cmd *g = s->arg;

	gc_remove_target(g->gc, t);
}

static int gc_cmd_poll(struct session *s, void *arg)
{
	(void)s;
	return gc_poll(arg) < 0 ? -1 : 0;
}

static int gc_cmd_start(struct session *s, char *err, size_t errlen)
{
	struct gc_cmd *g = s->arg;

	if (session_add_fd(s, gc_fd(g->gc), gc_cmd_poll, g->gc) != 0) {
		snprintf(err, errlen, "cannot watch the event ring buffer");
		return -1;
	}
	return 0;
}

static int gc_cmd_report(struct session *s, bool last)
{
	struct gc_cmd *g = s->arg;
	struct gc_report r;
	double secs = session_window_s(s);
	int rc = 0;

	(void)last;
	gc_poll(g->gc);
	if (gc_read(g->gc, &r) != 0) {
		session_error(s, "out of memory reading the window");
		rc = -1;
	}
	if (g->fmt == GC_FMT_FOLDED)
		gc_print_allocs_folded(s->out, &r, s->targets, s->ntargets);
	else if (g->fmt == GC_FMT_PPROF) {
		if (gc_write_allocs_pprof(g->so.out, &r, s->targets, s->ntargets, secs) != 0) {
			session_error(s, "cannot write %s", g->so.out);
			rc = -1;
		}
	} else
		gc_print_summary(s->out, &g->sum, &r, s->targets, s->ntargets, secs, g->so.json);
	gc_report_free(&r);
	gc_summary_reset(&g->sum);
	return rc;
}

int cmd_gc(int argc, char **argv)
{
	static const char *const formats[] = { "top", "folded", "pprof", NULL };
	static struct gc_cmd g;
	const struct opt rows[] = {
		{ "format", 'f', OPT_CHOICE, &g.fmt, "FMT",
		  "top (default: cycles and pauses, then a summary); folded or pprof: the "
		  "sampled allocations (implies --allocs; pprof needs -o)",
		  0, 0, formats, NULL },
		{ "allocs", 0, OPT_FLAG, &g.allocs, NULL,
		  "probe the runtime's sampled allocations (one per ~512 KiB allocated)", 0, 0,
		  NULL, NULL },
		{ "no-assists", 0, OPT_FLAG, &g.no_assists, NULL, "do not probe mark assists", 0, 0,
		  NULL, NULL },
		{ NULL },
	};
	const struct opts_cmd cmd = {
		.name = "gc",
		.usage = "[-p PID ...] [-d SEC] [-i SEC] [--json] [-f top|folded|pprof] [-o FILE] "
			 "[--allocs]",
		.summary = "Every GC cycle (numbered as the runtime numbers it, with its trigger, "
			   "stop-the-world phases, concurrent mark, heap and goal), every other "
			   "stop-the-world pause with its reason, mark assists per goroutine and Go "
			   "stack, the runtime's sampled allocations, and a verdict.",
		.footer = "Uprobes at points that fire a few times per GC cycle or per sampled "
			  "allocation; figures are the runtime's own (as GODEBUG=gctrace=1 prints).",
	};
	const struct session_ops ops = {
		.take = gc_cmd_take,
		.drop = gc_cmd_drop,
		.start = gc_cmd_start,
		.report = gc_cmd_report,
	};
	struct gc_config cfg;
	struct session s;
	char err[512];
	int rc;

	memset(&g, 0, sizeof(g));
	rc = session_parse(&cmd, &g.so, SESSION_OPTS_ALL, rows, argc, argv, NULL);
	if (rc >= 0)
		return rc;
	if (g.fmt == GC_FMT_PPROF && !g.so.out) {
		cli_error("gc: -f pprof writes a binary profile: give a file with -o FILE");
		return 2;
	}
	if (g.fmt == GC_FMT_PPROF && g.so.interval > 0) {
		cli_error("gc: -f pprof writes one profile: it cannot be combined with -i");
		return 2;
	}
	cfg.allocs = g.allocs || g.fmt != GC_FMT_TOP;
	cfg.assists = !g.no_assists;
	cfg.verbose = g.so.verbose;
	g.gc = gc_open(&cfg, gc_cmd_on_cycle, gc_cmd_on_stw, &g, err, sizeof(err));
	if (!g.gc) {
		cli_error("gc: %s", err);
		return 1;
	}
	if (session_init(&s, "gc", &g.so, &ops, &g) != 0) {
		gc_close(g.gc);
		return 1;
	}
	g.s = &s;
	rc = session_open_targets(&s) != 0 ? 1 : session_run(&s);
	gc_close(g.gc);
	session_free(&s);
	gc_summary_free(&g.sum);
	return rc;
}
