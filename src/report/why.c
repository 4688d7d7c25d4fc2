/*
 * report/why: slow calls' anatomies, the verdict and the Perfetto
 * timeline. See why.h.
 */
#include "why.h"

#include <inttypes.h>
#include <string.h>

#include "../output/jsonw.h"
#include "fmt.h"
#include "stack.h"

#define WHY_BAR 24

static double why_us(uint64_t ns)
{
	return (double)ns / 1e3;
}

static void why_call_title(FILE *out, const struct why_call *c)
{
	char d[32];

	if (c->path[0])
		fprintf(out, "slow %s %s  %s  pid %d goroutine %" PRIu64 "\n", c->method, c->path,
			fmt_dur(d, sizeof(d), c->wall_ns), (int)c->pid, c->goid);
	else
		fprintf(out, "slow %s  %s  pid %d goroutine %" PRIu64 "\n", c->func,
			fmt_dur(d, sizeof(d), c->wall_ns), (int)c->pid, c->goid);
}

void why_print_call(FILE *out, const struct why_call *c, bool json)
{
	if (json) {
		struct jsonw w;

		jsonw_init(&w, out);
		jsonw_obj_begin(&w);
		jsonw_kstr(&w, "event", "slow");
		jsonw_kint(&w, "pid", c->pid);
		jsonw_kstr(&w, "func", c->func);
		if (c->path[0]) {
			char route[FUNCLAT_METHOD + FUNCLAT_PATH + 2];

			snprintf(route, sizeof(route), "%s %s", c->method, c->path);
			jsonw_kstr(&w, "route", route);
		}
		jsonw_kuint(&w, "goid", c->goid);
		jsonw_kuint(&w, "start_ns", c->start_ns);
		jsonw_kdouble(&w, "wall_us", why_us(c->wall_ns));
		jsonw_key(&w, "parts");
		jsonw_obj_begin(&w);
		for (size_t i = 0; i < c->nparts; i++)
			if (c->parts[i].ns)
				jsonw_kdouble(&w, c->parts[i].cause, why_us(c->parts[i].ns));
		jsonw_obj_end(&w);
		jsonw_kstr(&w, "top", c->nparts ? c->parts[0].cause : "unexplained");
		jsonw_kuint(&w, "tcp_retransmits", c->retrans);
		jsonw_kuint(&w, "samples", c->samples);
		if (c->nwait_pcs) {
			jsonw_kstr(&w, "wait_cause", c->wait_cause);
			jsonw_key(&w, "wait");
			jsonw_obj_begin(&w);
			stack_json(&w, c->gb, c->bias, c->wait_pcs, c->nwait_pcs, STACK_PC_FIRST);
			jsonw_obj_end(&w);
		}
		stack_json(&w, c->gb, c->bias, c->pcs, c->npcs, STACK_PC_FIRST);
		jsonw_obj_end(&w);
		fflush(out);
		return;
	}
	why_call_title(out, c);
	for (size_t i = 0; i < c->nparts; i++) {
		char d[32], bar[WHY_BAR + 1];
		double share = c->wall_ns ? (double)c->parts[i].ns / (double)c->wall_ns : 0;
		int nb = (int)(share * WHY_BAR + 0.5);

		if (!c->parts[i].ns)
			continue;
		memset(bar, '#', (size_t)nb);
		bar[nb] = 0;
		fprintf(out, "  %-18s %9s %5.1f%%  %s\n", c->parts[i].cause,
			fmt_dur(d, sizeof(d), c->parts[i].ns), 100 * share, bar);
	}
	if (c->retrans)
		fprintf(out, "  (%" PRIu64 " TCP retransmits on the process's sockets during the call)\n",
			c->retrans);
	if (c->nwait_pcs) {
		fprintf(out, "  longest wait (%s):\n", c->wait_cause);
		stack_print(out, c->gb, c->bias, c->wait_pcs, c->nwait_pcs, STACK_PC_FIRST, 8,
			    "    ");
	}
	fflush(out);
}

void why_print_verdict(FILE *out, const struct why_verdict *v, double slow_ms, bool json)
{
	if (json) {
		struct jsonw w;

		jsonw_init(&w, out);
		jsonw_obj_begin(&w);
		jsonw_kstr(&w, "event", "verdict");
		jsonw_kdouble(&w, "seconds", v->seconds);
		jsonw_kdouble(&w, "slow_ms", slow_ms);
		jsonw_kuint(&w, "slow_calls", v->slow_calls);
		jsonw_kdouble(&w, "slow_us", why_us(v->total_ns));
		jsonw_key(&w, "causes");
		jsonw_arr_begin(&w);
		for (size_t i = 0; i < v->ncauses; i++) {
			jsonw_obj_begin(&w);
			jsonw_kstr(&w, "cause", v->causes[i].cause);
			jsonw_kdouble(&w, "us", why_us(v->causes[i].ns));
			jsonw_kdouble(&w, "share", v->causes[i].share);
			jsonw_kuint(&w, "calls_top", v->causes[i].calls_top);
			if (v->causes[i].evidence[0])
				jsonw_kstr(&w, "evidence", v->causes[i].evidence);
			jsonw_obj_end(&w);
		}
		jsonw_arr_end(&w);
		jsonw_kdouble(&w, "explained_share", v->explained_share);
		jsonw_kdouble(&w, "tick_ms", v->tick_ms);
		jsonw_kuint(&w, "ticks", v->ticks);
		jsonw_kuint(&w, "ticks_late", v->ticks_late);
		jsonw_kuint(&w, "drops", v->drops);
		jsonw_obj_end(&w);
		fflush(out);
		return;
	}
	char d[32];

	fprintf(out, "\nverdict over %.1fs: %" PRIu64 " slow call%s (>= %g ms), %s in all, %.0f%% explained\n",
		v->seconds, v->slow_calls, v->slow_calls == 1 ? "" : "s", slow_ms,
		fmt_dur(d, sizeof(d), v->total_ns), 100 * v->explained_share);
	for (size_t i = 0; i < v->ncauses && i < 10; i++) {
		const struct why_cause *c = &v->causes[i];

		fprintf(out, "  %2zu. %-18s %9s %5.1f%%  the largest part of %" PRIu64 " call%s\n", i + 1,
			c->cause, fmt_dur(d, sizeof(d), c->ns), 100 * c->share, c->calls_top,
			c->calls_top == 1 ? "" : "s");
		if (c->evidence[0] && i < 4)
			fprintf(out, "      %s\n", c->evidence);
	}
	if (v->drops || v->ticks_late)
		fprintf(out, "  (%" PRIu64 " events lost; %" PRIu64 " of %" PRIu64
			" sampling ticks late by more than a tick)\n",
			v->drops, v->ticks_late, v->ticks);
	fflush(out);
}

/* --- Perfetto (Chrome trace-event JSON) ------------------------------------------------ */

#define WHY_GTID 1000000000LL /* goroutine tracks: tid = WHY_GTID + goid */

static void why_pf_sep(struct why_perfetto *p)
{
	fputs(p->nevents++ ? ",\n" : "\n", p->f);
}

static double why_pf_ts(const struct why_perfetto *p, uint64_t ns)
{
	return ns >= p->t0 ? (double)(ns - p->t0) / 1e3 : 0;
}

static void why_pf_x(struct why_perfetto *p, int pid, long long tid, const char *name,
		     const char *cat, uint64_t s, uint64_t e)
{
	why_pf_sep(p);
	fprintf(p->f, "{\"ph\":\"X\",\"pid\":%d,\"tid\":%lld,\"ts\":%.3f,\"dur\":%.3f,\"cat\":\"%s\",\"name\":",
		pid, tid, why_pf_ts(p, s), e > s ? (double)(e - s) / 1e3 : 0, cat);
	jsonw_escape(p->f, name);
	fputc('}', p->f);
}

static void why_pf_name(struct why_perfetto *p, int pid, long long tid, const char *what,
			const char *name)
{
	why_pf_sep(p);
	fprintf(p->f, "{\"ph\":\"M\",\"pid\":%d,\"tid\":%lld,\"name\":\"%s\",\"args\":{\"name\":", pid,
		tid, what);
	jsonw_escape(p->f, name);
	fputs("}}", p->f);
}

void why_perfetto_begin(struct why_perfetto *p, FILE *f)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
	fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", f);
}

void why_perfetto_call(struct why_perfetto *p, const struct why_call *c)
{
	char name[128];
	long long gt = WHY_GTID + (long long)c->goid;

	if (!p->f)
		return;
	if (!p->t0)
		p->t0 = c->start_ns;
	snprintf(name, sizeof(name), "goroutine %" PRIu64, c->goid);
	why_pf_name(p, c->pid, gt, "thread_name", name);
	if (c->path[0])
		snprintf(name, sizeof(name), "%s %s", c->method, c->path);
	else
		snprintf(name, sizeof(name), "%s", c->func);
	why_pf_x(p, c->pid, gt, name, "call", c->start_ns, c->start_ns + c->wall_ns);
	for (size_t i = 0; i < c->nsegs; i++)
		why_pf_x(p, c->pid, gt, c->parts[c->segs[i].part].cause, "state", c->segs[i].start,
			 c->segs[i].end);
	for (size_t i = 0; i < c->nkoffs; i++) {
		const struct why_koff *k = &c->koffs[i];

		snprintf(name, sizeof(name), "thread %d", (int)k->tid);
		why_pf_name(p, c->pid, k->tid, "thread_name", name);
		if (k->wake) {
			why_pf_x(p, c->pid, k->tid, k->cause, "kernel", k->start, k->wake);
			why_pf_x(p, c->pid, k->tid, "runq", "kernel", k->wake, k->end);
		} else {
			why_pf_x(p, c->pid, k->tid, k->cause, "kernel", k->start, k->end);
		}
	}
	fflush(p->f);
}

void why_perfetto_end(struct why_perfetto *p, const struct why_verdict *v)
{
	if (!p->f)
		return;
	for (size_t i = 0; v && i < v->nstws; i++) {
		if (v->stws[i].start < p->t0)
			continue;
		why_pf_name(p, v->stws[i].pid, 0, "thread_name", "stop the world");
		why_pf_x(p, v->stws[i].pid, 0, v->stws[i].reason, "gc", v->stws[i].start,
			 v->stws[i].end);
	}
	fputs("\n]}\n", p->f);
	fflush(p->f);
}
