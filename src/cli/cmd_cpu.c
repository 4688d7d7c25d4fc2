/*
 * goscope cpu: where a Go process spends its CPU: on-CPU samples with the
 * Go stack, the kernel stack and the goroutine, as pprof -top, folded
 * stacks, JSON lines or a profile.proto. Glue only: options, the session,
 * the collector (collect/cpu) and the formatters (report/cpu).
 */
#include "cli.h"

#include "../collect/bpfload.h"
#include "../collect/cpu.h"
#include "../core/session.h"
#include "../report/cpu.h"

#include <stdio.h>

struct cc_state {
	struct cpu *cpu;
	struct cpu_view_opts view;
	bool no_kernel;
};

static int cc_take(struct session *s, struct target *t, char *err, size_t errlen)
{
	struct cc_state *st = s->arg;

	return cpu_add_target(st->cpu, t, err, errlen);
}

static void cc_drop(struct session *s, struct target *t)
{
	struct cc_state *st = s->arg;

	cpu_drop_target(st->cpu, t);
}

static int cc_poll(struct session *s, void *arg)
{
	(void)s;
	cpu_poll(arg);
	return 0;
}

static int cc_start(struct session *s, char *err, size_t errlen)
{
	struct cc_state *st = s->arg;

	if (session_add_fd(s, cpu_fd(st->cpu), cc_poll, st->cpu) != 0) {
		snprintf(err, errlen, "cannot watch the BPF ring buffer");
		return -1;
	}
	return cpu_start(st->cpu, err, errlen);
}

static int cc_report(struct session *s, bool last)
{
	struct cc_state *st = s->arg;
	struct cpu_report r;
	int rc;

	(void)last;
	if (cpu_read(st->cpu, &r) != 0) {
		session_error(s, "out of memory reading the samples");
		return -1;
	}
	if (r.ks_err[0] && !st->view.json)
		fprintf(stderr, "goscope: cpu: kernel frames as addresses: %s\n", r.ks_err);
	st->view.seconds = session_window_s(s);
	st->view.start_wall = s->start_wall;
	rc = cpu_print(s->out, &r, &st->view);
	if (rc == 0 && st->view.fmt == CPU_FMT_PPROF && !st->view.json)
		fprintf(stderr, "goscope: cpu: %llu samples in %.1f s written to %s "
				"(go tool pprof -top %s)\n", (unsigned long long)r.samples,
			st->view.seconds, st->view.out, st->view.out);
	cpu_report_free(&r);
	return rc;
}

static const struct session_ops cc_ops = { cc_take, cc_drop, cc_start, cc_report };

int cmd_cpu(int argc, char **argv)
{
	static const char *const fmts[] = { "top", "folded", "pprof", NULL };
	static const struct opts_cmd cmd = {
		"cpu",
		"[-p PID ...] [-d SEC] [-F HZ] [-f top|folded|pprof] [-o FILE] [--goid N] "
		"[--func PATTERN] [--kernel|--no-kernel] [--json]",
		"Where Go processes spend their CPU: samples HZ times a second per CPU "
		"(perf events, filtered in the kernel) with the Go stack (inlined frames "
		"expanded), the kernel stack and the goroutine; functions by flat and "
		"cumulative share like `go tool pprof -top`, the runtime's share (g0, GC "
		"mark workers, mallocgc) and the hottest stacks.",
		"-f pprof needs -o FILE: a profile.proto `go tool pprof` opens (labels goid, "
		"thread). -f folded: root first, kernel frames suffixed _[k] (flamegraph.pl).",
	};
	struct session_opts so = { 0 };
	struct cc_state st = { 0 };
	struct cpu_opts co = { .hz = 99, .kernel = true };
	long long hz = 99, goid = -1;
	int fmt = CPU_FMT_TOP;
	bool kernel = false;
	const struct opt rows[] = {
		{ "frequency", 'F', OPT_INT, &hz, "HZ", "samples per second per CPU (default 99)",
		  .min = 1, .max = 1000 },
		{ "format", 'f', OPT_CHOICE, &fmt, "FMT", "top (default), folded, pprof (needs -o)",
		  .choices = fmts },
		{ "goid", 0, OPT_INT, &goid, "N", "only samples of goroutine N", .min = 1,
		  .max = 9e18 },
		{ "func", 0, OPT_STR, &st.view.func, "PATTERN",
		  "only samples with a frame whose function contains PATTERN" },
		{ "kernel", 0, OPT_FLAG, &kernel, NULL, "capture kernel stacks (default)" },
		{ "no-kernel", 0, OPT_FLAG, &st.no_kernel, NULL, "user stacks only" },
		{ NULL },
	};
	const struct opt *tables[] = {
		session_opt_table(&so, SESSION_OPT_PID | SESSION_OPT_DURATION | SESSION_OPT_OUTPUT |
					       SESSION_OPT_JSON | SESSION_OPT_VERBOSE),
		rows, NULL,
	};
	struct session s;
	char err[600];
	int rc;

	rc = opts_parse(&cmd, tables, argc, argv, NULL);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (kernel && st.no_kernel) {
		fprintf(stderr, "goscope: cpu: --kernel and --no-kernel contradict each other\n");
		return 2;
	}
	if (so.json && fmt != CPU_FMT_TOP) {
		fprintf(stderr, "goscope: cpu: --json and -f %s: choose one\n", fmts[fmt]);
		return 2;
	}
	if (fmt == CPU_FMT_PPROF && !so.out) {
		fprintf(stderr, "goscope: cpu: -f pprof needs -o FILE\n");
		return 2;
	}
	co.hz = (unsigned)hz;
	co.kernel = !st.no_kernel;
	co.goid_set = goid > 0;
	co.goid = goid > 0 ? (uint64_t)goid : 0;
	st.view.fmt = (enum cpu_fmt)fmt;
	st.view.json = so.json;
	st.view.out = so.out;
	bpfload_set_verbose(so.verbose);
	if (session_init(&s, "cpu", &so, &cc_ops, &st) != 0) {
		session_free(&s);
		return 1;
	}
	if (cpu_open(&st.cpu, &co, err, sizeof(err)) != 0) {
		session_error(&s, "%s", err);
		session_free(&s);
		return 1;
	}
	rc = session_open_targets(&s) == 0 ? session_run(&s) : 1;
	session_free(&s);
	cpu_close(st.cpu);
	return rc;
}
