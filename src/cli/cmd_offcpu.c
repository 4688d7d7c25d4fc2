/*
 * goscope offcpu: where goroutines wait, by their own Go stack and the
 * runtime's wait reason, for one, several or every Go process.
 *
 * Default mode samples every goroutine from outside (no probes in the
 * target): see collect/offcpu.h for what that measures and how exactly.
 * Output: a table of the top stacks, folded stacks for flamegraph.pl, or
 * a gzipped pprof profile.
 */
#include "cli.h"

#include "../collect/offcpu.h"
#include "../output/pprof.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OC_MAX_TARGETS 256
#define OC_MAX_INLINE 16

enum oc_format { OC_TOP, OC_FOLDED, OC_PPROF };

struct oc_args {
	pid_t pids[OC_MAX_TARGETS];
	size_t npids;
	double duration;   /* seconds, 0 = until Ctrl-C */
	double interval;   /* seconds, 0 = one report at the end */
	double freq;       /* snapshots per second */
	enum oc_format fmt;
	const char *out;
	const char *stack_filter;
	int top;           /* stacks shown by -f top */
	int depth;         /* frames shown per stack by -f top */
	struct offcpu_opts opts;
};

static volatile sig_atomic_t oc_stop;

static void oc_on_signal(int sig)
{
	(void)sig;
	oc_stop = 1;
}

static void oc_usage(FILE *out)
{
	fprintf(out,
		"usage: goscope offcpu [-p PID ...] [-d SECONDS] [-i INTERVAL] [-f top|folded|pprof]\n"
		"                      [-o FILE] [filters]\n"
		"Where goroutines wait: time not running, by the goroutine's own Go stack and\n"
		"the runtime's wait reason (chan receive, IO wait, sync.Mutex.Lock, select,\n"
		"sleep, syscall: read, runnable, ...).\n\n"
		"  -p, --pid PID        trace this process (repeatable); default: every Go process\n"
		"  -d, --duration SEC   stop after SEC seconds (default: until Ctrl-C)\n"
		"  -i, --interval SEC   print a report every SEC seconds\n"
		"  -F, --freq HZ        goroutine snapshots per second (default 49)\n"
		"  -f, --format FMT     top (default), folded (flamegraph.pl), pprof (needs -o)\n"
		"  -o, --output FILE    write the report to FILE\n"
		"  -n, --top N          stacks shown by -f top (default 10)\n"
		"      --depth N        frames shown per stack by -f top (default 12)\n"
		"filters:\n"
		"      --min-wait MS    ignore waits shorter than MS milliseconds\n"
		"      --reason STR     only waits whose reason contains STR\n"
		"      --goid N         only goroutine N\n"
		"      --stack STR      only stacks with a frame containing STR\n\n"
		"Sampling reads goroutines through process_vm_readv without stopping the\n"
		"target; total time per stack is exact to one sampling interval, and waits\n"
		"shorter than an interval are seen in proportion to their length.\n");
}

static int oc_parse_double(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return (errno || end == s || *end || *v < 0) ? -1 : 0;
}

static int oc_parse_args(int argc, char **argv, struct oc_args *a)
{
	enum { O_MINWAIT = 256, O_REASON, O_GOID, O_STACK, O_DEPTH };
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "freq", required_argument, NULL, 'F' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "top", required_argument, NULL, 'n' },
		{ "depth", required_argument, NULL, O_DEPTH },
		{ "min-wait", required_argument, NULL, O_MINWAIT },
		{ "reason", required_argument, NULL, O_REASON },
		{ "goid", required_argument, NULL, O_GOID },
		{ "stack", required_argument, NULL, O_STACK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c;

	memset(a, 0, sizeof(*a));
	a->freq = 49;
	a->top = 10;
	a->depth = 12;
	a->opts.goid = -1;
	while ((c = getopt_long(argc, argv, "p:d:i:F:f:o:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (a->npids >= OC_MAX_TARGETS || !proc_parse_pid(optarg, &a->pids[a->npids])) {
				cli_error("invalid pid '%s'", optarg);
				return -1;
			}
			a->npids++;
			break;
		case 'd':
			if (oc_parse_double(optarg, &a->duration) || a->duration == 0) {
				cli_error("invalid duration '%s' (seconds > 0)", optarg);
				return -1;
			}
			break;
		case 'i':
			if (oc_parse_double(optarg, &a->interval) || a->interval < 0.1) {
				cli_error("invalid interval '%s' (seconds >= 0.1)", optarg);
				return -1;
			}
			break;
		case 'F':
			if (oc_parse_double(optarg, &a->freq) || a->freq < 1 || a->freq > 1000) {
				cli_error("invalid frequency '%s' (1..1000 Hz)", optarg);
				return -1;
			}
			break;
		case 'f':
			if (strcmp(optarg, "top") == 0)
				a->fmt = OC_TOP;
			else if (strcmp(optarg, "folded") == 0)
				a->fmt = OC_FOLDED;
			else if (strcmp(optarg, "pprof") == 0)
				a->fmt = OC_PPROF;
			else {
				cli_error("unknown format '%s' (top, folded or pprof)", optarg);
				return -1;
			}
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'n':
			a->top = atoi(optarg);
			if (a->top <= 0) {
				cli_error("invalid --top '%s'", optarg);
				return -1;
			}
			break;
		case O_DEPTH:
			a->depth = atoi(optarg);
			if (a->depth <= 0) {
				cli_error("invalid --depth '%s'", optarg);
				return -1;
			}
			break;
		case O_MINWAIT:
			if (oc_parse_double(optarg, &v)) {
				cli_error("invalid --min-wait '%s' (milliseconds)", optarg);
				return -1;
			}
			a->opts.min_wait_ns = (uint64_t)(v * 1e6);
			break;
		case O_REASON:
			a->opts.reason = optarg;
			break;
		case O_GOID:
			if (oc_parse_double(optarg, &v)) {
				cli_error("invalid --goid '%s'", optarg);
				return -1;
			}
			a->opts.goid = (int64_t)v;
			break;
		case O_STACK:
			a->stack_filter = optarg;
			break;
		case 'h':
			oc_usage(stdout);
			exit(0);
		default:
			oc_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s' (targets are given with -p PID)", argv[optind]);
		return -1;
	}
	if (a->fmt == OC_PPROF && !a->out) {
		cli_error("-f pprof writes a binary profile: give a file with -o FILE");
		return -1;
	}
	if (a->fmt == OC_PPROF && a->interval > 0) {
		cli_error("-f pprof writes one profile: it cannot be combined with -i");
		return -1;
	}
	return 0;
}

static uint64_t oc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Does any frame of stack S contain the --stack substring? */
static bool oc_stack_matches(struct offcpu *oc, const struct offcpu_stack *s, const char *sub)
{
	struct offcpu_target *t = &oc->targets[s->target];
	struct pclntab_frame fr[OC_MAX_INLINE];

	if (!sub)
		return true;
	for (uint32_t i = 0; i < s->depth; i++) {
		int k = pclntab_symbolize(t->gb->pcln, s->pcs[i] - t->bias - 1, fr, OC_MAX_INLINE);

		for (int j = 0; j < k; j++)
			if (strstr(fr[j].func, sub) || strstr(fr[j].file, sub))
				return true;
	}
	return false;
}

static void oc_dur(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 10000000000ull)
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
	else if (ns >= 1000000000ull)
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, len, "%.1fms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.0fus", (double)ns / 1e3);
}

struct oc_row {
	uint32_t stack;
	uint64_t goroutines;
};

static int oc_cmp_rows(const void *a, const void *b, void *arg)
{
	const struct offcpu *oc = arg;
	uint64_t x = oc->stacks[((const struct oc_row *)a)->stack].total_ns;
	uint64_t y = oc->stacks[((const struct oc_row *)b)->stack].total_ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Stacks with time, filtered and sorted by total time; caller frees. */
static struct oc_row *oc_rows(struct offcpu *oc, const struct oc_args *a, size_t *nrows,
			      uint64_t *total)
{
	struct oc_row *rows = calloc(oc->nstacks + 1, sizeof(*rows));
	uint64_t *gcount = calloc(oc->nstacks + 1, sizeof(*gcount));
	size_t n = 0;

	*total = 0;
	if (!rows || !gcount) {
		free(rows);
		free(gcount);
		*nrows = 0;
		return NULL;
	}
	for (size_t i = 0; i < oc->nsgs; i++)
		if (oc->sgs[i].ns > 0)
			gcount[oc->sgs[i].stack]++;
	for (size_t i = 0; i < oc->nstacks; i++) {
		if (oc->stacks[i].total_ns == 0 ||
		    !oc_stack_matches(oc, &oc->stacks[i], a->stack_filter))
			continue;
		rows[n].stack = (uint32_t)i;
		rows[n].goroutines = gcount[i];
		*total += oc->stacks[i].total_ns;
		n++;
	}
	free(gcount);
	qsort_r(rows, n, sizeof(*rows), oc_cmp_rows, oc);
	*nrows = n;
	return rows;
}

static void oc_print_header(FILE *out, struct offcpu *oc, const struct oc_args *a,
			    uint64_t elapsed_ns)
{
	fprintf(out, "goscope offcpu: %zu process%s, %.2f s, %.0f Hz goroutine snapshots (%" PRIu64
		     " taken)\n",
		oc->ntargets, oc->ntargets == 1 ? "" : "es", (double)elapsed_ns / 1e9, a->freq,
		oc->samples);
	for (size_t i = 0; i < oc->ntargets; i++) {
		struct offcpu_target *t = &oc->targets[i];

		fprintf(out, "  pid %d %s %s: %" PRIu64 " goroutines (peak %" PRIu64 ")%s\n",
			(int)t->pid, t->exe, gobin_go_version(t->gb), t->goroutines,
			t->goroutines_peak, t->exited ? ", exited during the trace" : "");
	}
	if (oc->dropped_stacks || oc->torn)
		fprintf(out,
			"  dropped: %" PRIu64 " waits (stack table full), %" PRIu64
			" stack reads discarded (goroutine moved while read)\n",
			oc->dropped_stacks, oc->torn);
}

/* The ids of the goroutines that waited on stack I, the longest first. */
static void oc_print_goids(FILE *out, struct offcpu *oc, uint32_t stack)
{
	enum { SHOW = 8 };
	const struct offcpu_sg *best[SHOW] = { NULL };
	size_t n = 0;

	for (size_t i = 0; i < oc->nsgs; i++) {
		const struct offcpu_sg *g = &oc->sgs[i];
		size_t j;

		if (g->stack != stack || g->ns == 0)
			continue;
		n++;
		/* Insertion into the top SHOW by time. */
		for (j = SHOW; j > 0 && (!best[j - 1] || best[j - 1]->ns < g->ns); j--)
			if (j < SHOW)
				best[j] = best[j - 1];
		if (j < SHOW)
			best[j] = g;
	}
	fprintf(out, "        goroutines:");
	for (size_t j = 0; j < SHOW && best[j]; j++)
		fprintf(out, "%s %" PRIu64, j ? "," : "", best[j]->goid);
	if (n > SHOW)
		fprintf(out, " (+%zu more)", n - SHOW);
	fputc('\n', out);
}

static void oc_report_top(FILE *out, struct offcpu *oc, const struct oc_args *a,
			  uint64_t elapsed_ns)
{
	struct pclntab_frame fr[OC_MAX_INLINE];
	uint64_t total;
	size_t n;
	struct oc_row *rows = oc_rows(oc, a, &n, &total);

	oc_print_header(out, oc, a, elapsed_ns);
	fprintf(out, "\n%10s %6s %7s %6s %8s %8s %8s  %s\n", "TOTAL", "%", "WAITS", "GORS",
		"P50", "P99", "MAX", "[REASON], then the goroutines' stack, innermost first");
	for (size_t r = 0; r < n && r < (size_t)a->top; r++) {
		struct offcpu_stack *s = &oc->stacks[rows[r].stack];
		struct offcpu_target *t = &oc->targets[s->target];
		char tot[32], p50[32], p99[32], mx[32];
		int shown = 0;

		oc_dur(tot, sizeof(tot), s->total_ns);
		oc_dur(p50, sizeof(p50), s->h ? hist_quantile(s->h, 0.5) : 0);
		oc_dur(p99, sizeof(p99), s->h ? hist_quantile(s->h, 0.99) : 0);
		oc_dur(mx, sizeof(mx), s->h ? s->h->max : 0);
		fprintf(out, "%10s %5.1f%% %7" PRIu64 " %6" PRIu64 " %8s %8s %8s  [%s]", tot,
			total ? 100.0 * (double)s->total_ns / (double)total : 0.0, s->waits,
			rows[r].goroutines, s->h ? p50 : "-", s->h ? p99 : "-", s->h ? mx : "-",
			oc->reasons[s->reason]);
		if (oc->ntargets > 1)
			fprintf(out, " pid %d %s", (int)t->pid, t->exe);
		fputc('\n', out);
		oc_print_goids(out, oc, rows[r].stack);
		/*
		 * The reason already says what the runtime is doing: start the
		 * listing at the first frame outside package runtime.
		 */
		bool lead = true;

		for (uint32_t i = 0; i < s->depth && shown < a->depth; i++) {
			int k = pclntab_symbolize(t->gb->pcln, s->pcs[i] - t->bias - 1, fr,
						  OC_MAX_INLINE);

			for (int j = 0; j < k && shown < a->depth; j++) {
				if (lead && strncmp(fr[j].func, "runtime.", 8) == 0 &&
				    i + 1 < s->depth)
					continue;
				lead = false;
				fprintf(out, "        %s  %s:%d\n", fr[j].func, fr[j].file,
					fr[j].line);
				shown++;
			}
		}
		fputc('\n', out);
	}
	if (n == 0)
		fprintf(out, "(no waiting goroutines seen)\n");
	else if (n > (size_t)a->top)
		fprintf(out, "... %zu more stacks (-n to show more, -f folded for all)\n",
			n - (size_t)a->top);
	free(rows);
}

/*
 * Frame names may not contain the folded format's frame separator;
 * spaces are fine (flamegraph.pl splits the count off at the last one).
 */
static void oc_folded_name(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(*s == ';' ? ':' : *s, out);
}

static void oc_report_folded(FILE *out, struct offcpu *oc, const struct oc_args *a)
{
	struct pclntab_frame fr[OC_MAX_INLINE];
	uint64_t total;
	size_t n;
	struct oc_row *rows = oc_rows(oc, a, &n, &total);
	bool multi = oc->ntargets > 1 || a->npids == 0;

	for (size_t r = 0; r < n; r++) {
		struct offcpu_stack *s = &oc->stacks[rows[r].stack];
		struct offcpu_target *t = &oc->targets[s->target];
		bool first = true;

		if (s->total_ns < 1000)
			continue;
		if (multi) {
			const char *base = strrchr(t->exe, '/');

			fprintf(out, "%s (%d)", base ? base + 1 : t->exe, (int)t->pid);
			first = false;
		}
		for (uint32_t i = s->depth; i-- > 0;) {
			int k = pclntab_symbolize(t->gb->pcln, s->pcs[i] - t->bias - 1, fr,
						  OC_MAX_INLINE);

			for (int j = k; j-- > 0;) {
				if (!first)
					fputc(';', out);
				oc_folded_name(out, fr[j].func);
				first = false;
			}
		}
		fprintf(out, "%s[", first ? "" : ";");
		oc_folded_name(out, oc->reasons[s->reason]);
		fprintf(out, "] %" PRIu64 "\n", s->total_ns / 1000);
	}
	free(rows);
}

static int oc_report_pprof(struct offcpu *oc, const struct oc_args *a, uint64_t elapsed_ns)
{
	static const char *const types[] = { "waits", "delay" };
	static const char *const units[] = { "count", "nanoseconds" };
	struct pprof *pp = pprof_new(2, types, units);
	uint64_t *mapping = calloc(oc->ntargets + 1, sizeof(*mapping));
	bool *keep = calloc(oc->nstacks + 1, sizeof(*keep));
	bool multi = oc->ntargets > 1 || a->npids == 0;
	char root[300];
	int rc = -1;

	if (!pp || !mapping || !keep) {
		cli_error("out of memory building the profile");
		goto out;
	}
	pprof_set_time(pp, (int64_t)time(NULL) * 1000000000ll - (int64_t)elapsed_ns,
		       (int64_t)elapsed_ns);
	pprof_add_comment(pp, "goscope offcpu: goroutine waits by Go stack and wait reason");
	for (size_t i = 0; i < oc->ntargets; i++) {
		struct offcpu_target *t = &oc->targets[i];
		uint64_t lo, hi;

		pclntab_range(t->gb->pcln, &lo, &hi);
		mapping[i] = pprof_mapping(pp, t->gb, t->bias, t->exe, lo + t->bias, hi + t->bias);
	}
	for (size_t i = 0; i < oc->nstacks; i++)
		keep[i] = oc->stacks[i].total_ns > 0 &&
			  oc_stack_matches(oc, &oc->stacks[i], a->stack_filter);
	for (size_t i = 0; i < oc->nsgs; i++) {
		struct offcpu_sg *g = &oc->sgs[i];
		struct offcpu_stack *s = &oc->stacks[g->stack];
		struct offcpu_target *t = &oc->targets[s->target];
		char leaf[128];
		int64_t values[2] = { (int64_t)g->waits, (int64_t)g->ns };
		struct pprof_label labels[3] = {
			{ .key = "reason", .str = oc->reasons[s->reason] },
			{ .key = "goid", .num = (int64_t)g->goid },
			{ .key = "pid", .num = t->pid },
		};

		if (!keep[g->stack] || g->ns == 0)
			continue;
		snprintf(leaf, sizeof(leaf), "[%s]", oc->reasons[s->reason]);
		snprintf(root, sizeof(root), "%s (%d)", t->exe, (int)t->pid);
		if (pprof_sample(pp, mapping[s->target], s->pcs, s->depth, leaf,
				 multi ? root : NULL, values, labels, 3) != 0) {
			cli_error("out of memory building the profile");
			goto out;
		}
	}
	if (pprof_write(pp, a->out) != 0) {
		cli_error("cannot write %s: %s", a->out, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	pprof_free(pp);
	free(mapping);
	free(keep);
	return rc;
}

static int oc_report(struct offcpu *oc, const struct oc_args *a, uint64_t elapsed_ns)
{
	FILE *out = stdout;
	int rc = 0;

	if (a->fmt == OC_PPROF)
		return oc_report_pprof(oc, a, elapsed_ns);
	if (a->out) {
		out = fopen(a->out, a->interval > 0 ? "a" : "w");
		if (!out) {
			cli_error("cannot write %s: %s", a->out, strerror(errno));
			return -1;
		}
	}
	if (a->fmt == OC_TOP)
		oc_report_top(out, oc, a, elapsed_ns);
	else
		oc_report_folded(out, oc, a);
	if (out != stdout && fclose(out) != 0)
		rc = -1;
	fflush(stdout);
	return rc;
}

/* Take one target: start sampling it. */
static int oc_take_target(struct cli_target *t, bool discovered, void *udata)
{
	struct offcpu *oc = udata;
	char err[512];

	if (offcpu_add_target(oc, t->proc.pid, t->gb, t->bias, t->proc.exe, err,
			      sizeof(err)) == 0)
		return 0;
	if (discovered)
		fprintf(stderr, "goscope: skipping pid %d (%s): %s\n", (int)t->proc.pid,
			t->proc.exe, err);
	else
		cli_error("pid %d (%s): %s", (int)t->proc.pid, t->proc.exe, err);
	return -1;
}

int cmd_offcpu(int argc, char **argv)
{
	struct oc_args a;
	struct offcpu oc;
	struct sigaction sa;
	uint64_t start, last, next_report, period_ns, end = 0;
	int rc = 0;

	if (oc_parse_args(argc, argv, &a) != 0)
		return 2;
	offcpu_init(&oc, &a.opts);
	if (cli_targets_open(a.pids, a.npids, OC_MAX_TARGETS, oc_take_target, &oc) != 0) {
		offcpu_free(&oc);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = oc_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (a.duration == 0 && a.interval == 0)
		fprintf(stderr, "goscope: tracing %zu Go process%s; Ctrl-C to stop and report\n",
			oc.ntargets, oc.ntargets == 1 ? "" : "es");

	period_ns = (uint64_t)(1e9 / a.freq);
	start = last = oc_now();
	if (a.duration > 0)
		end = start + (uint64_t)(a.duration * 1e9);
	next_report = a.interval > 0 ? start + (uint64_t)(a.interval * 1e9) : 0;
	uint64_t interval_start = start;
	size_t alive = oc.ntargets;

	/* First snapshot only learns the goroutines; time accrues from the next. */
	alive = offcpu_sample(&oc, 0);
	while (!oc_stop && alive > 0) {
		uint64_t now = oc_now(), wake = last + period_ns;
		struct timespec ts;

		if (end && wake > end)
			wake = end;
		if (wake > now) {
			ts.tv_sec = (time_t)((wake - now) / 1000000000ull);
			ts.tv_nsec = (long)((wake - now) % 1000000000ull);
			if (nanosleep(&ts, NULL) != 0 && oc_stop)
				break;
		}
		now = oc_now();
		alive = offcpu_sample(&oc, now - last);
		last = now;
		if (next_report && now >= next_report && alive > 0) {
			offcpu_flush(&oc);
			if (oc_report(&oc, &a, now - interval_start) != 0)
				rc = 1;
			offcpu_reset(&oc);
			interval_start = now;
			next_report += (uint64_t)(a.interval * 1e9);
		}
		if (end && now >= end)
			break;
	}
	offcpu_flush(&oc);
	for (size_t i = 0; i < oc.ntargets; i++)
		if (oc.targets[i].exited)
			fprintf(stderr, "goscope: pid %d (%s) exited during the trace; reporting what was collected\n",
				(int)oc.targets[i].pid, oc.targets[i].exe);
	/* An interval report may have just covered the end: no empty report. */
	if ((a.interval == 0 || last > interval_start) &&
	    oc_report(&oc, &a, last - interval_start) != 0)
		rc = 1;
	offcpu_free(&oc);
	return rc;
}
