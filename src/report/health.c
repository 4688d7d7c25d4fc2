/*
 * report/health: print a struct health_report as text or JSON (see
 * health.h). Decides nothing: verdicts come from collect/verdict.c.
 */
#include "health.h"

#include "fmt.h"
#include "stack.h"
#include "../collect/health.h"
#include "../collect/verdict.h"
#include "../gobin/gobin.h"
#include "../output/jsonw.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <sys/socket.h>

#define HR_FAULT_FRAMES 8

static const char *hr_tcp_state(unsigned s)
{
	static const char *n[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
				   "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
				   "LISTEN", "CLOSING", "NEW_SYN_RECV" };

	return s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

static void hr_tcp_addr(const struct hl_tcp_val *v, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?", b[INET6_ADDRSTRLEN] = "?";
	int af = v->family == 10 ? AF_INET6 : AF_INET;

	inet_ntop(af, v->saddr, a, sizeof(a));
	inet_ntop(af, v->daddr, b, sizeof(b));
	snprintf(buf, len, "%s:%u -> %s:%u", a, v->sport, b, v->dport);
}

static const char *hr_go_version(const struct health_report_ctx *c)
{
	return c->gb ? gobin_go_version(c->gb) : "?";
}

static void hr_scheduler(FILE *out, const struct health_report *r, enum verdict v)
{
	char a[32], b[32];

	if (!r->runq_measured) {
		fprintf(out, "  %-10s %-4s run-queue delay not measured; schedstat %s\n", "scheduler",
			"?", fmt_dur(a, sizeof(a), r->schedstat_ns));
		return;
	}
	fprintf(out, "  %-10s %-4s run-queue delay %s in %" PRIu64
		" waits over %zu threads (%.1f%% of the window), p99 %s\n",
		"scheduler", verdict_name(v), fmt_dur(a, sizeof(a), r->runq_ns), r->runq_waits,
		r->runq_threads, fmt_pct((double)r->runq_ns / 1e9, r->seconds),
		fmt_dur(b, sizeof(b), r->runq_p99_ns));
	if (!r->top_threads[0].ns)
		return;
	fprintf(out, "  %-15s most delayed threads:", "");
	for (int i = 0; i < HEALTH_TOP_THREADS && r->top_threads[i].ns; i++)
		fprintf(out, "%s tid %u %s", i ? "," : "", r->top_threads[i].tid,
			fmt_dur(a, sizeof(a), r->top_threads[i].ns));
	fprintf(out, "\n");
}

static void hr_cpu(FILE *out, const struct health_report *r, enum verdict v)
{
	double q = verdict_quota_cpus(r);

	fprintf(out, "  %-10s %-4s cgroup v%d %s: ", "cpu quota", verdict_name(v), r->cg.version,
		r->cg.path[0] ? r->cg.path : "?");
	if (q > 0)
		fprintf(out, "quota %.2f CPUs (%" PRId64 "/%" PRId64 " us)", q, r->cg.quota_us,
			r->cg.period_us);
	else
		fprintf(out, "no CPU quota");
	fprintf(out, "; throttled %" PRIu64 " of %" PRIu64 " periods, %.1f ms", r->cfs_throttled,
		r->cfs_periods, (double)r->cfs_throttled_us / 1e3);
	if (r->gomaxprocs)
		fprintf(out, "; GOMAXPROCS %d%s", r->gomaxprocs,
			verdict_gomaxprocs_over_quota(r) ? " exceeds the quota's CPUs" : "");
	fprintf(out, "\n");
}

static void hr_tcp(FILE *out, const struct health_report *r, enum verdict v)
{
	char buf[160];

	fprintf(out, "  %-10s %-4s %" PRIu64 " retransmits, %" PRIu64 " receive-queue drops, %" PRIu64
		" listen overflows, %" PRIu64 " other drops, %" PRIu64 " state changes\n",
		"tcp", verdict_name(v), r->tcp_retrans, r->tcp_rcvq_drops, r->tcp_listen_overflows,
		r->tcp_other_drops, r->tcp_states);
	if (r->tcp_top_count) {
		hr_tcp_addr(&r->tcp_top, buf, sizeof(buf));
		fprintf(out, "  %-15s most retransmits: %s %s (%" PRIu64 ")\n", "", buf,
			hr_tcp_state(r->tcp_top_state), r->tcp_top_count);
	}
	for (size_t i = 0; i < r->nreasons; i++)
		fprintf(out, "  %-15s drop reason %s: %" PRIu64 "\n", "", r->reasons[i].name,
			r->reasons[i].count);
}

static void hr_memory(FILE *out, const struct health_report *r, enum verdict v,
		      const struct health_report_ctx *c)
{
	char a[32];

	fprintf(out, "  %-10s %-4s %" PRIu64 " major faults, direct reclaim %s in %" PRIu64
		" stalls, %" PRIu64 " OOM kills",
		"memory", verdict_name(v), r->majflt_proc, fmt_dur(a, sizeof(a), r->reclaim_ns),
		r->reclaims, r->ooms);
	if (r->rss_known)
		fprintf(out, ", RSS %.1f MiB", (double)r->rss_bytes / 1048576.0);
	if (r->cg.mem_known) {
		fprintf(out, ", cgroup memory %.1f MiB", (double)r->cg.mem_current / 1048576.0);
		if (r->cg.mem_max != UINT64_MAX)
			fprintf(out, " of %.1f MiB", (double)r->cg.mem_max / 1048576.0);
		else
			fprintf(out, " (no limit)");
	} else if (r->cg.mem_root) {
		fprintf(out, ", no cgroup limit");
	}
	fprintf(out, "\n");
	if (r->fault_stack_n > 0) {
		fprintf(out, "  %-15s top faulting stack (%" PRIu64 " faults):\n", "",
			r->fault_stack_count);
		stack_print(out, c->gb, c->bias, r->fault_stack, r->fault_stack_n, STACK_PC_FIRST,
			    HR_FAULT_FRAMES, "                    ");
	}
}

static void hr_fds(FILE *out, const struct health_report *r, enum verdict v)
{
	bool leak = verdict_fd_leak(r);

	if (r->fd_count < 0) {
		fprintf(out, "  %-10s %-4s not read: the process exited; system %" PRIu64 " of %" PRIu64
			"\n", "fds", verdict_name(v), r->system_files, r->system_files_max);
		return;
	}
	fprintf(out, "  %-10s %-4s %d open (socket %d, file %d, pipe %d, other %d), %+.1f/s over the window%s; system %" PRIu64 " of %" PRIu64 "\n",
		"fds", verdict_name(v), r->fd_count, r->fd_kinds[0], r->fd_kinds[1], r->fd_kinds[2],
		r->fd_kinds[3], r->fd_growth_per_s, leak ? ", only grew: leak suspected" : "",
		r->system_files, r->system_files_max);
}

void health_report_text(FILE *out, const struct health_report *r,
			const struct health_report_ctx *c)
{
	struct health_verdicts v;

	verdict_health(r, &v);
	fprintf(out, "goscope health: pid %d %s %s, %.1f s%s\n", (int)r->pid, c->exe,
		hr_go_version(c), r->seconds, r->exited ? " (exited)" : "");
	hr_scheduler(out, r, v.scheduler);
	hr_cpu(out, r, v.cpu_quota);
	hr_tcp(out, r, v.tcp);
	hr_memory(out, r, v.memory, c);
	hr_fds(out, r, v.fds);
	if (c->missing && c->missing[0])
		fprintf(out, "  not measured: %s\n", c->missing);
}

void health_report_json(struct jsonw *w, const struct health_report *r,
			const struct health_report_ctx *c)
{
	struct health_verdicts v;

	verdict_health(r, &v);
	jsonw_obj_begin(w);
	jsonw_kint(w, "pid", r->pid);
	jsonw_kstr(w, "exe", c->exe);
	jsonw_kstr(w, "go_version", hr_go_version(c));
	jsonw_kbool(w, "exited", r->exited);
	jsonw_kstr(w, "not_measured", c->missing ? c->missing : "");
	jsonw_kdouble(w, "seconds", r->seconds);
	if (c->interval_end > 0)
		jsonw_kdouble(w, "interval_end", c->interval_end);
	if (r->runq_measured) {
		jsonw_kdouble(w, "runq_delay_us", (double)r->runq_ns / 1e3);
		jsonw_kuint(w, "runq_waits", r->runq_waits);
		jsonw_kdouble(w, "runq_p99_us", (double)r->runq_p99_ns / 1e3);
		jsonw_kdouble(w, "runq_max_us", (double)r->runq_max_ns / 1e3);
	} else {
		jsonw_knull(w, "runq_delay_us");
		jsonw_knull(w, "runq_waits");
		jsonw_knull(w, "runq_p99_us");
		jsonw_knull(w, "runq_max_us");
	}
	jsonw_kdouble(w, "runq_delay_schedstat_us", (double)r->schedstat_ns / 1e3);
	jsonw_kstr(w, "cgroup", r->cg.path);
	jsonw_kint(w, "cgroup_version", r->cg.version);
	jsonw_kint(w, "cfs_quota_us", r->cg.quota_us);
	jsonw_kint(w, "cfs_period_us", r->cg.period_us);
	jsonw_kuint(w, "cfs_periods", r->cfs_periods);
	jsonw_kuint(w, "cfs_throttled_periods", r->cfs_throttled);
	jsonw_kuint(w, "cfs_throttled_us", r->cfs_throttled_us);
	jsonw_kint(w, "gomaxprocs", r->gomaxprocs);
	jsonw_kuint(w, "tcp_retransmits", r->tcp_retrans);
	jsonw_kuint(w, "tcp_rcvq_drops", r->tcp_rcvq_drops);
	jsonw_kuint(w, "tcp_listen_overflows", r->tcp_listen_overflows);
	jsonw_kuint(w, "tcp_other_drops", r->tcp_other_drops);
	jsonw_kuint(w, "tcp_state_changes", r->tcp_states);
	jsonw_key(w, "tcp_drop_reasons");
	jsonw_obj_begin(w);
	for (size_t i = 0; i < r->nreasons; i++)
		jsonw_kuint(w, r->reasons[i].name, r->reasons[i].count);
	jsonw_obj_end(w);
	jsonw_kuint(w, "major_faults", verdict_major_faults(r));
	jsonw_kuint(w, "major_faults_proc", r->majflt_proc);
	if (r->fault_stack_n > 0) {
		jsonw_key(w, "top_fault");
		jsonw_obj_begin(w);
		jsonw_kuint(w, "faults", r->fault_stack_count);
		stack_json(w, c->gb, c->bias, r->fault_stack, r->fault_stack_n, STACK_PC_FIRST);
		jsonw_obj_end(w);
	}
	jsonw_kdouble(w, "direct_reclaim_us", (double)r->reclaim_ns / 1e3);
	jsonw_kuint(w, "direct_reclaims", r->reclaims);
	if (r->rss_known)
		jsonw_kuint(w, "rss_bytes", r->rss_bytes);
	else
		jsonw_knull(w, "rss_bytes");
	jsonw_kstr(w, "memory_cgroup", r->cg.mem_path);
	if (r->cg.mem_known)
		jsonw_kuint(w, "memory_bytes", r->cg.mem_current);
	else
		jsonw_knull(w, "memory_bytes"); /* no cgroup of its own: not the machine's figure */
	if (r->cg.mem_known && r->cg.mem_max != UINT64_MAX)
		jsonw_kuint(w, "memory_limit_bytes", r->cg.mem_max);
	else
		jsonw_knull(w, "memory_limit_bytes");
	jsonw_kuint(w, "oom_kills", r->ooms);
	if (r->fd_count >= 0) {
		jsonw_kint(w, "fd_count", r->fd_count);
	} else {
		jsonw_knull(w, "fd_count"); /* the process is gone */
	}
	jsonw_kdouble(w, "fd_growth_per_s", r->fd_growth_per_s);
	jsonw_kbool(w, "fd_leak_suspected", verdict_fd_leak(r));
	if (r->fd_count >= 0) {
		jsonw_key(w, "fd_kinds");
		jsonw_obj_begin(w);
		jsonw_kint(w, "socket", r->fd_kinds[0]);
		jsonw_kint(w, "file", r->fd_kinds[1]);
		jsonw_kint(w, "pipe", r->fd_kinds[2]);
		jsonw_kint(w, "anon", r->fd_kinds[3]);
		jsonw_obj_end(w);
	} else {
		jsonw_knull(w, "fd_kinds");
	}
	jsonw_kuint(w, "system_files", r->system_files);
	jsonw_key(w, "verdicts");
	jsonw_obj_begin(w);
	jsonw_kstr(w, "scheduler", r->runq_measured ? verdict_name(v.scheduler) : NULL);
	jsonw_kstr(w, "cpu_quota", verdict_name(v.cpu_quota));
	jsonw_kstr(w, "tcp", verdict_name(v.tcp));
	jsonw_kstr(w, "memory", verdict_name(v.memory));
	jsonw_kstr(w, "fds", verdict_name(v.fds));
	jsonw_obj_end(w);
	jsonw_obj_end(w);
}
