/*
 * goscope syscalls: which system calls a Go process makes, how often, how
 * slow (p50/p95/p99/max from in-kernel log-linear histograms), how often
 * they fail and with which errno — per syscall, thread or goroutine — and
 * the slow calls and network-rule violations with their Go stacks. Glue:
 * options, a session, collect/sysstat, report/syscalls.
 */
#include "cli.h"

#include "../collect/netrules.h"
#include "../collect/sysstat.h"
#include "../core/session.h"
#include "../output/jsonw.h"
#include "../report/syscalls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCC_MAX_RATE_ALERTS 64
/* The default view's share of time with the tracepoints attached. */
#define SCC_DUTY_PCT 10

struct scc_list {
	uint32_t spec[SC_NR_MAX];
	bool filter;
};

struct scc {
	struct session_opts so;
	int by;
	double slow_ms;
	bool slow_set;
	const char *rules_path;
	bool hist;
	bool exact;
	double duty_pct;
	long long top;
	struct scc_list list;
	struct netrules rules;
	struct sysstat *ss;
	struct jsonw jw;
	uint64_t alerts;
};

static int scc_parse_e(const char *val, void *dst, char *err, size_t errlen)
{
	struct scc_list *l = dst;

	l->filter = true;
	return sysstat_parse_list(val, l->spec, err, errlen);
}

static int scc_parse_slow(const char *val, void *dst, char *err, size_t errlen)
{
	struct scc *c = dst;

	if (opts_parse_double(val, 0, 86400000, &c->slow_ms, err, errlen) != 0)
		return -1;
	c->slow_set = true;
	return 0;
}

/* --slow MS in ns (0: not asked; --slow 0 shows every call: 1 ns). */
static uint64_t scc_slow_ns(const struct scc *c)
{
	return c->slow_set ? (uint64_t)(c->slow_ms * 1e6) + (c->slow_ms == 0) : 0;
}

static void scc_on_event(const struct sc_event *e, void *arg)
{
	struct session *s = arg;
	struct scc *c = s->arg;
	struct sysstat_call call;

	sysstat_decode(e, c->rules_path ? &c->rules : NULL, scc_slow_ns(c), &call);
	if (!call.show)
		return;
	c->alerts += call.alert;
	syscalls_print_call(s->out, c->so.json ? &c->jw : NULL, &call,
			    session_find(s, (pid_t)e->tgid), c->rules_path);
	fflush(s->out);
}

static int scc_events(struct session *s, void *arg)
{
	(void)arg;
	return sysstat_poll(((struct scc *)s->arg)->ss, 0) < 0 ? -1 : 0;
}

#define SCC_ATTACH_ERR "cannot attach to the raw_syscalls tracepoints: %s"

static int scc_tick(struct session *s, void *arg)
{
	(void)arg;
	if (sysstat_sampler_tick(((struct scc *)s->arg)->ss) == 0)
		return 0;
	session_error(s, SCC_ATTACH_ERR, strerror(errno));
	return -1;
}

static int scc_start(struct session *s, char *err, size_t errlen)
{
	if (sysstat_sampler_start(((struct scc *)s->arg)->ss) == 0)
		return 0;
	snprintf(err, errlen, SCC_ATTACH_ERR, strerror(errno));
	return -1;
}

static int scc_take(struct session *s, struct target *t, char *err, size_t errlen)
{
	struct scc *c = s->arg;

	if (sysstat_add_pid(c->ss, t->pid, t->gb->offsets_known ? t->gb->off.g_goid : -1) != 0) {
		snprintf(err, errlen, "cannot add it to the kernel's target map");
		return -1;
	}
	return 0;
}

static void scc_drop(struct session *s, struct target *t)
{
	sysstat_remove_pid(((struct scc *)s->arg)->ss, t->pid);
}

static int scc_report(struct session *s, bool last)
{
	struct scc *c = s->arg;
	struct syscalls_report r = { .targets = s->targets, .ntargets = s->ntargets,
				     .by = c->by, .hist = c->hist, .top = (size_t)c->top,
				     .rules_path = c->rules_path };
	struct sysstat_rate_alert ra[SCC_MAX_RATE_ALERTS];
	pid_t pids[OPTS_MAX_PIDS];
	size_t na, np = 0;
	struct sysstat_row *rows;
	struct sysstat_err *errs;

	sysstat_poll(c->ss, 0);
	if (sysstat_read(c->ss, &rows, &r.nrows, &errs, &r.nerrs) != 0) {
		session_error(s, "cannot read the kernel's aggregates");
		return -1;
	}
	r.rows = rows;
	r.errs = errs;
	sysstat_sampling(c->ss, &r.samp);
	r.secs = session_window_s(s);
	for (size_t i = 0; i < s->ntargets && np < OPTS_MAX_PIDS; i++)
		pids[np++] = s->targets[i]->pid;
	na = sysstat_rate_alerts(&c->rules, rows, r.nrows, pids, np, r.secs, ra, SCC_MAX_RATE_ALERTS);
	for (size_t i = 0; i < na; i++)
		syscalls_print_rate_alert(s->out, c->so.json ? &c->jw : NULL, &ra[i]);
	c->alerts += na;
	r.alerts = c->alerts;
	for (int i = 0; i < SC_DROP_MAX; i++)
		r.drops[i] = sysstat_drops(c->ss, i);
	if (!last || c->so.interval > 0) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		r.interval_end = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	}
	syscalls_report_sort(rows, r.nrows);
	if (c->so.json)
		syscalls_print_json(&c->jw, &r);
	else
		syscalls_print_table(s->out, &r);
	return 0;
}

static const struct session_ops scc_ops = {
	.start = scc_start, .take = scc_take, .drop = scc_drop, .report = scc_report,
};

int cmd_syscalls(int argc, char **argv)
{
	static const char *const by_names[] = { "syscall", "tid", "goid", NULL };
	static const struct opts_cmd cmd = {
		"syscalls",
		"[-p PID ...] [-d SEC] [-i SEC] [-e LIST|GROUP] [--by syscall|tid|goid]\n"
		"                        [--exact | --duty PCT] [--slow MS] [--rules FILE] [--hist] [-n N]\n"
		"                        [--json] [-o FILE]",
		"Per-syscall counts, errors (by errno) and latency (p50/p95/p99/max) of Go\n"
		"processes, aggregated in the kernel from the raw_syscalls tracepoints; the\n"
		"runtime's waits on goroutine 0 (idle threads, network poller, sysmon) are shown apart.\n"
		"By default sampled: the tracepoints are attached 10% of the time (100 ms windows\n"
		"at random times; while attached every syscall of every process on the host is\n"
		"slower) and counts are scaled, so they are estimates; calls longer than a window\n"
		"are counted but not timed. --exact (implied by --slow and --rules) sees every call.",
		"groups for -e: file, net, time, sync, mem, proc",
	};
	struct scc *c = calloc(1, sizeof(*c));
	struct sysstat_opts so = { 0 };
	struct session s;
	char err[600];
	int rc = 1;

	if (!c) {
		fprintf(stderr, "goscope: syscalls: out of memory\n");
		return 1;
	}
	c->top = 25;
	c->duty_pct = SCC_DUTY_PCT;
	sysstat_default_spec(c->list.spec);
	const struct opt own[] = {
		{ "syscalls", 'e', OPT_FN, &c->list, "LIST", "only these syscalls: names and groups, comma-separated", .parse = scc_parse_e },
		{ "by", 0, OPT_CHOICE, &c->by, "KEY", "break down by syscall (default), tid or goid", .choices = by_names },
		{ "slow", 0, OPT_FN, c, "MS", "print every call slower than MS ms with its arguments, result and Go stack", .parse = scc_parse_slow },
		{ "rules", 0, OPT_STR, &c->rules_path, "FILE", "alert on connect/sendto/bind/listen/accept and rates FILE forbids" },
		{ "exact", 0, OPT_FLAG, &c->exact, NULL, "trace every call (exact counts and latency; costs every syscall on the host ~175 ns more)" },
		{ "duty", 0, OPT_DOUBLE, &c->duty_pct, "PCT", "sampled: attach PCT% of the time (default 10; 100 = --exact)", .min = 1, .max = 100 },
		{ "hist", 0, OPT_FLAG, &c->hist, NULL, "print a latency histogram per row" },
		{ "top", 'n', OPT_INT, &c->top, "N", "rows shown per report section (default 25)", .min = 1, .max = 1000000 },
		{ NULL },
	};
	const struct opt *tables[] = { session_opt_table(&c->so, SESSION_OPTS_ALL), own, NULL };

	rc = opts_parse(&cmd, tables, argc, argv, NULL);
	if (rc != 0) {
		free(c);
		return rc > 0 ? 0 : 2;
	}
	if (c->rules_path && netrules_load(c->rules_path, &c->rules, err, sizeof(err)) != 0) {
		fprintf(stderr, "goscope: syscalls: %s\n", err);
		free(c);
		return 2;
	}
	rc = 1;
	if (session_init(&s, "syscalls", &c->so, &scc_ops, c) != 0)
		goto out;
	jsonw_init(&c->jw, s.out);
	so.by = c->by;
	so.slow_ns = scc_slow_ns(c);
	so.net_events = c->rules_path != NULL;
	so.spec = c->list.spec;
	so.filter = c->list.filter;
	so.verbose = c->so.verbose;
	so.single = c->so.pids.n == 1;
	/* --slow and --rules look at every call */
	if (!c->exact && !c->slow_set && !c->rules_path && c->duty_pct < 100)
		so.duty = c->duty_pct / 100;
	if (sysstat_open(&c->ss, &so, scc_on_event, &s, err, sizeof(err)) != 0) {
		session_error(&s, "%s", err);
		goto out;
	}
	if (session_add_fd(&s, sysstat_event_fd(c->ss), scc_events, NULL) != 0 ||
	    (sysstat_sampler_fd(c->ss) >= 0 &&
	     session_add_fd(&s, sysstat_sampler_fd(c->ss), scc_tick, NULL) != 0) ||
	    session_open_targets(&s) != 0)
		goto out;
	rc = session_run(&s);
out:
	session_free(&s);
	sysstat_close(c->ss);
	netrules_free(&c->rules);
	free(c);
	return rc;
}
