/*
 * report/syscalls: text and JSON formatters of `goscope syscalls` (see
 * syscalls.h).
 */
#include "syscalls.h"

#include "../core/target.h"
#include "../output/jsonw.h"
#include "../proc/names.h"
#include "fmt.h"
#include "stack.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Frames of a slow call's stack shown in text (the rest elided, root kept). */
#define SYSCALLS_TEXT_FRAMES 64
/* Sampled: a count seen fewer times than this is marked '~' (estimate). */
#define SYSCALLS_FEW_SEEN 10

static int syscalls_cmp_rows(const void *a, const void *b)
{
	const struct sysstat_row *x = a, *y = b;

	if (x->idle != y->idle)
		return x->idle ? 1 : -1;
	return x->total_ns < y->total_ns ? 1 : x->total_ns > y->total_ns ? -1 : 0;
}

void syscalls_report_sort(struct sysstat_row *rows, size_t n)
{
	if (n > 1)
		qsort(rows, n, sizeof(*rows), syscalls_cmp_rows);
}

static bool syscalls_errs_of(const struct sysstat_err *e, const struct sysstat_row *r)
{
	return e->tgid == r->tgid && e->nr == r->nr && e->id == r->id && e->idle == r->idle;
}

static void syscalls_print_hist(FILE *out, const struct hist *h)
{
	/* Regroup the fine buckets by power of two for a compact picture. */
	uint64_t pow2[64] = { 0 }, peak = 0;
	int lo = 64, hi = -1;

	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		if (!h->b[i])
			continue;
		uint64_t v = hist_bucket_low(i);
		int p = v ? 63 - __builtin_clzll(v) : 0;

		pow2[p] += h->b[i];
		if (p < lo)
			lo = p;
		if (p > hi)
			hi = p;
	}
	for (int p = lo; p <= hi; p++)
		if (pow2[p] > peak)
			peak = pow2[p];
	for (int p = lo; p <= hi && peak; p++) {
		char a[32], b[32];
		int bar = (int)(40 * pow2[p] / peak);

		fprintf(out, "      %9s .. %-9s %8" PRIu64 " |%.*s\n", fmt_dur(a, sizeof(a), 1ull << p),
			fmt_dur(b, sizeof(b), (2ull << p) - 1), pow2[p], bar,
			"########################################");
	}
}

static void syscalls_print_header(FILE *out, const struct syscalls_report *r, bool multi)
{
	fprintf(out, "%s%-16s%s %9s %7s %10s %9s %9s %9s %9s %9s  %s\n", multi ? "    PID " : "",
		"SYSCALL", r->by == SC_BY_TID ? "      TID" : r->by == SC_BY_GOID ? "     GOID" : "",
		"COUNT", "ERRORS", "TOTAL", "AVG", "P50", "P95", "P99", "MAX", "ERRNOS");
}

/*
 * Sampled, a quantile V of ROW in its untimed calls (longer than a
 * window, put in the window's bucket) reads ">" the window.
 */
static bool syscalls_untimed_q(const struct syscalls_report *r, const struct sysstat_row *row,
			       uint64_t v)
{
	uint64_t w = (uint64_t)(r->samp.window_s * 1e9);

	return row->untimed && w && hist_bucket(v) >= hist_bucket(w);
}

/* A duration cell: ">100ms" for untimed calls. */
static const char *syscalls_dur_cell(char *buf, size_t n, const struct syscalls_report *r,
				     const struct sysstat_row *row, uint64_t v)
{
	char d[32];

	if (!syscalls_untimed_q(r, row, v))
		return fmt_dur(buf, n, v);
	snprintf(buf, n, ">%s", fmt_dur(d, sizeof(d), (uint64_t)(r->samp.window_s * 1e9)));
	return buf;
}

static void syscalls_print_row(FILE *out, const struct syscalls_report *r,
			       const struct sysstat_row *row, bool multi)
{
	char nbuf[32], ebuf[16], tot[40], avg[40], p50[32], p95[32], p99[32], mx[32], cnt[32];
	char tb[32], ab[32];
	bool few = r->samp.sampled && row->seen < SYSCALLS_FEW_SEEN;

	if (multi)
		fprintf(out, "%7u ", row->tgid);
	fprintf(out, "%-16s", names_syscall(row->nr, nbuf, sizeof(nbuf)));
	if (r->by != SC_BY_NONE)
		fprintf(out, " %8" PRIu64, row->id);
	snprintf(cnt, sizeof(cnt), "%s%" PRIu64, few ? "~" : "", row->count);
	/* with untimed calls (longer than a window, counted as a window) TOTAL and AVG are at least */
	fmt_dur(tb, sizeof(tb), row->total_ns);
	fmt_dur(ab, sizeof(ab), row->count ? row->total_ns / row->count : 0);
	snprintf(tot, sizeof(tot), "%s%s", row->untimed ? ">" : "", tb);
	snprintf(avg, sizeof(avg), "%s%s", row->untimed ? ">" : "", ab);
	fprintf(out, " %9s %7" PRIu64 " %10s %9s %9s %9s %9s %9s ", cnt, row->errors, tot, avg,
		syscalls_dur_cell(p50, sizeof(p50), r, row, hist_quantile(&row->h, 0.50)),
		syscalls_dur_cell(p95, sizeof(p95), r, row, hist_quantile(&row->h, 0.95)),
		syscalls_dur_cell(p99, sizeof(p99), r, row, hist_quantile(&row->h, 0.99)),
		syscalls_dur_cell(mx, sizeof(mx), r, row, row->max_ns));
	for (size_t j = 0; j < r->nerrs; j++)
		if (syscalls_errs_of(&r->errs[j], row))
			fprintf(out, " %s:%" PRIu64, names_errno(r->errs[j].err, ebuf, sizeof(ebuf)),
				r->errs[j].count);
	fputc('\n', out);
	if (r->hist)
		syscalls_print_hist(out, &row->h);
}

/* Rows [from, to) as one section; at most r->top of them. */
static void syscalls_print_section(FILE *out, const struct syscalls_report *r, size_t from,
				   size_t to, bool multi)
{
	size_t shown = 0;

	syscalls_print_header(out, r, multi);
	for (size_t i = from; i < to && shown < r->top; i++, shown++)
		syscalls_print_row(out, r, &r->rows[i], multi);
	if (to - from > r->top)
		fprintf(out, "... %zu more rows (-n to show more)\n", to - from - r->top);
}

void syscalls_print_table(FILE *out, const struct syscalls_report *r)
{
	bool multi = r->ntargets > 1;
	size_t nuser = 0;

	while (nuser < r->nrows && !r->rows[nuser].idle)
		nuser++;
	fprintf(out, "\ngoscope syscalls: %.2f s, %zu process%s", r->secs, r->ntargets,
		r->ntargets == 1 ? "" : "es");
	for (size_t i = 0; i < r->ntargets; i++)
		fprintf(out, "%s pid %d %s", i ? "," : ":", (int)r->targets[i]->pid,
			r->targets[i]->exe);
	fputc('\n', out);
	if (r->samp.sampled) {
		char w[32];

		fprintf(out, "sampled: tracepoints attached %.1f%% of the time (%u windows of %s at "
			     "random times, %.2f s of %.2f s): COUNT, ERRORS, TOTAL are estimates (seen "
			     "x %.2f); ~: seen fewer than %d times; latency from calls that began and "
			     "ended in a window, >%s: longer; --exact for every call\n",
			r->samp.wall_s > 0 ? 100 * r->samp.traced_s / r->samp.wall_s : 0,
			r->samp.windows, fmt_dur(w, sizeof(w), (uint64_t)(r->samp.window_s * 1e9)),
			r->samp.traced_s, r->samp.wall_s, r->samp.scale, SYSCALLS_FEW_SEEN, w);
	}
	if (r->nrows == 0)
		fprintf(out, "(no system calls seen)\n");
	if (nuser > 0 || r->nrows == 0)
		syscalls_print_section(out, r, 0, nuser, multi);
	if (nuser < r->nrows) {
		fprintf(out, "runtime, goroutine 0 (idle threads, network poller, sysmon; not "
			     "your goroutines):\n");
		syscalls_print_section(out, r, nuser, r->nrows, multi);
	}
	if (r->drops[SC_DROP_STATS] || r->drops[SC_DROP_ERRS] || r->drops[SC_DROP_EVENTS] ||
	    r->drops[SC_DROP_START])
		fprintf(out, "dropped: %" PRIu64 " calls (stats table full), %" PRIu64
			     " errno counts, %" PRIu64 " events (ring buffer full), %" PRIu64
			     " calls (no start slot)\n",
			r->drops[SC_DROP_STATS], r->drops[SC_DROP_ERRS], r->drops[SC_DROP_EVENTS],
			r->drops[SC_DROP_START]);
	if (r->rules_path)
		fprintf(out, "alerts: %" PRIu64 "\n", r->alerts);
}

void syscalls_print_json(struct jsonw *w, const struct syscalls_report *r)
{
	char nbuf[32], ebuf[16];

	for (size_t i = 0; i < r->nrows; i++) {
		const struct sysstat_row *row = &r->rows[i];

		jsonw_obj_begin(w);
		jsonw_kstr(w, "syscall", names_syscall(row->nr, nbuf, sizeof(nbuf)));
		jsonw_kint(w, "pid", row->tgid);
		if (r->by == SC_BY_TID)
			jsonw_kuint(w, "tid", row->id);
		else if (r->by == SC_BY_GOID)
			jsonw_kuint(w, "goid", row->id);
		jsonw_kbool(w, "runtime_idle", row->idle);
		jsonw_kuint(w, "count", row->count);
		if (r->samp.sampled) {
			jsonw_kuint(w, "count_seen", row->seen);
			jsonw_kbool(w, "estimate", true);
			jsonw_kbool(w, "few_seen", row->seen < SYSCALLS_FEW_SEEN);
			jsonw_kuint(w, "untimed", row->untimed);
		}
		jsonw_kuint(w, "errors", row->errors);
		jsonw_key(w, "errnos");
		jsonw_obj_begin(w);
		for (size_t j = 0; j < r->nerrs; j++)
			if (syscalls_errs_of(&r->errs[j], row))
				jsonw_kuint(w, names_errno(r->errs[j].err, ebuf, sizeof(ebuf)),
					    r->errs[j].count);
		jsonw_obj_end(w);
		jsonw_kdouble(w, "total_us", (double)row->total_ns / 1e3);
		jsonw_kdouble(w, "p50_us", (double)hist_quantile(&row->h, 0.50) / 1e3);
		jsonw_kdouble(w, "p95_us", (double)hist_quantile(&row->h, 0.95) / 1e3);
		jsonw_kdouble(w, "p99_us", (double)hist_quantile(&row->h, 0.99) / 1e3);
		jsonw_kdouble(w, "max_us", (double)row->max_ns / 1e3);
		jsonw_kdouble(w, "rate_per_s", r->secs > 0 ? (double)row->count / r->secs : 0);
		if (r->interval_end > 0)
			jsonw_kdouble(w, "interval_end", r->interval_end);
		jsonw_obj_end(w);
	}
	jsonw_obj_begin(w);
	jsonw_kstr(w, "event", "summary");
	jsonw_kdouble(w, "seconds", r->secs);
	jsonw_kstr(w, "method", r->samp.sampled ? "sampled" : "exact");
	if (r->samp.sampled) {
		jsonw_kdouble(w, "duty", r->samp.duty);
		jsonw_kdouble(w, "traced_seconds", r->samp.traced_s);
		jsonw_kdouble(w, "scale", r->samp.scale);
		jsonw_kdouble(w, "window_ms", r->samp.window_s * 1e3);
		jsonw_kuint(w, "windows", r->samp.windows);
	}
	jsonw_kuint(w, "dropped_stats", r->drops[SC_DROP_STATS]);
	jsonw_kuint(w, "dropped_errnos", r->drops[SC_DROP_ERRS]);
	jsonw_kuint(w, "dropped_events", r->drops[SC_DROP_EVENTS]);
	jsonw_kuint(w, "dropped_starts", r->drops[SC_DROP_START]);
	jsonw_kuint(w, "alerts", r->alerts);
	jsonw_obj_end(w);
}

static const char *syscalls_verb_name(int verb)
{
	return verb == NETRULES_CONNECT ? "connect" : verb == NETRULES_SENDTO ? "sendto" : "listen";
}

void syscalls_print_call(FILE *out, struct jsonw *w, const struct sysstat_call *c,
			 const struct target *t, const char *rules_path)
{
	const struct sc_event *e = c->e;
	size_t n = e->nstack > 0 ? (size_t)e->nstack / 8 : 0;
	/* A full buffer: the capture stopped at its limit, deeper frames were not seen. */
	unsigned flags = STACK_PC_FIRST | (n >= SC_STACK_DEPTH ? STACK_TRUNCATED : 0);
	struct gobin *gb = t ? t->gb : NULL;
	uint64_t bias = t ? t->bias : 0;
	bool failed = e->ret < 0 && e->ret >= -4095;
	char ebuf[16], dur[32];

	if (w) {
		jsonw_obj_begin(w);
		jsonw_kstr(w, "event", c->alert ? "alert" : "slow");
		jsonw_kint(w, "pid", e->tgid);
		jsonw_kint(w, "tid", e->tid);
		jsonw_kuint(w, "goid", e->goid);
		jsonw_kstr(w, "syscall", c->name);
		jsonw_kdouble(w, "duration_us", (double)e->dur_ns / 1e3);
		jsonw_kint(w, "ret", e->ret);
		if (failed)
			jsonw_kstr(w, "errno", names_errno((int)-e->ret, ebuf, sizeof(ebuf)));
		if (e->str[0])
			jsonw_kstr(w, "path", e->str);
		if (c->addr[0])
			jsonw_kstr(w, "addr", c->addr);
		if (c->has_fd) {
			jsonw_kint(w, "fd", (int64_t)e->args[0]);
			jsonw_kstr(w, "fd_kind", c->fi.kind);
			jsonw_kstr(w, "fd_desc", c->fi.desc);
		}
		if (c->alert)
			jsonw_kstr(w, "rule", syscalls_verb_name(c->verb));
		jsonw_key(w, "args");
		jsonw_arr_begin(w);
		for (int i = 0; i < 6; i++)
			jsonw_uint(w, e->args[i]);
		jsonw_arr_end(w);
		stack_json(w, gb, bias, (const uint64_t *)e->stack, n, flags);
		if (flags & STACK_TRUNCATED)
			jsonw_kbool(w, "stack_truncated", true);
		jsonw_obj_end(w);
		return;
	}
	if (c->alert) {
		fprintf(out, "ALERT %s to %s not allowed by %s: pid %u goroutine %" PRIu64 "\n",
			c->name, c->addr, rules_path ? rules_path : "the rules", e->tgid,
			(uint64_t)e->goid);
	} else {
		fprintf(out, "slow %s %s: pid %u tid %u goroutine %" PRIu64 "%s, ", c->name,
			fmt_dur(dur, sizeof(dur), e->dur_ns), e->tgid, e->tid, (uint64_t)e->goid,
			e->goid ? "" : " (runtime)");
		if (failed)
			fprintf(out, "error %s\n", names_errno((int)-e->ret, ebuf, sizeof(ebuf)));
		else
			fprintf(out, "result %lld\n", (long long)e->ret);
	}
	if (e->str[0])
		fprintf(out, "    path: %s\n", e->str);
	if (c->addr[0] && !c->alert)
		fprintf(out, "    addr: %s\n", c->addr);
	if (c->has_fd)
		fprintf(out, "    fd %d: %s\n", (int)e->args[0], c->fi.desc);
	stack_print(out, gb, bias, (const uint64_t *)e->stack, n, flags, SYSCALLS_TEXT_FRAMES, "        ");
}

void syscalls_print_rate_alert(FILE *out, struct jsonw *w, const struct sysstat_rate_alert *a)
{
	if (w) {
		jsonw_obj_begin(w);
		jsonw_kstr(w, "event", "alert");
		jsonw_kstr(w, "rule", "rate");
		jsonw_kint(w, "pid", a->pid);
		jsonw_kstr(w, "syscall", a->syscall);
		jsonw_kdouble(w, "rate_per_s", a->rate_per_s);
		jsonw_kdouble(w, "limit_per_s", a->limit_per_s);
		jsonw_obj_end(w);
		return;
	}
	fprintf(out, "ALERT %s rate %.1f/s over the limit %.1f/s: pid %d\n", a->syscall,
		a->rate_per_s, a->limit_per_s, (int)a->pid);
}
