/*
 * verdict: the health verdicts and their thresholds (see verdict.h).
 */
#include "verdict.h"

#include "health.h"

#include <math.h>

const char *verdict_name(enum verdict v)
{
	return v == VERDICT_BAD ? "bad" : v == VERDICT_WARN ? "warn" : "ok";
}

enum verdict verdict_runq(uint64_t p99_ns, uint64_t delay_ns, double seconds)
{
	if (p99_ns > VERDICT_RUNQ_P99_BAD_NS ||
	    (seconds > 0 && (double)delay_ns / 1e9 / seconds > VERDICT_RUNQ_SHARE_BAD))
		return VERDICT_BAD;
	return p99_ns > VERDICT_RUNQ_P99_WARN_NS ? VERDICT_WARN : VERDICT_OK;
}

enum verdict verdict_cfs(uint64_t periods, uint64_t throttled, double quota_cpus, int gomaxprocs)
{
	if (periods && (double)throttled > VERDICT_CFS_THROTTLED_BAD * (double)periods)
		return VERDICT_BAD;
	if (throttled || (quota_cpus > 0 && gomaxprocs > 0 && (double)gomaxprocs > ceil(quota_cpus)))
		return VERDICT_WARN;
	return VERDICT_OK;
}

enum verdict verdict_tcp(uint64_t retrans, uint64_t rcvq_drops, uint64_t listen_overflows)
{
	if (rcvq_drops || listen_overflows)
		return VERDICT_BAD;
	return retrans ? VERDICT_WARN : VERDICT_OK;
}

enum verdict verdict_memory(uint64_t ooms, uint64_t majflt, double seconds, uint64_t reclaims,
			    uint64_t mem_bytes, uint64_t mem_limit)
{
	if (ooms || (seconds > 0 && (double)majflt / seconds > VERDICT_MAJFLT_BAD_PER_S))
		return VERDICT_BAD;
	if (majflt || reclaims ||
	    (mem_limit && (double)mem_bytes > VERDICT_MEM_LIMIT_WARN * (double)mem_limit))
		return VERDICT_WARN;
	return VERDICT_OK;
}

double verdict_quota_cpus(const struct health_report *r)
{
	if (!r->cg.cpu_limited || r->cg.quota_us <= 0 || r->cg.period_us <= 0)
		return 0;
	return (double)r->cg.quota_us / (double)r->cg.period_us;
}

bool verdict_gomaxprocs_over_quota(const struct health_report *r)
{
	double q = verdict_quota_cpus(r);

	return q > 0 && r->gomaxprocs > 0 && (double)r->gomaxprocs > ceil(q);
}

bool verdict_fd_leak(const struct health_report *r)
{
	return r->fd_samples >= VERDICT_FD_LEAK_MIN_SAMPLES && r->fd_only_grew &&
	       r->fd_last - r->fd_first >= VERDICT_FD_LEAK_MIN_GROWTH;
}

uint64_t verdict_major_faults(const struct health_report *r)
{
	return r->faults_traced ? r->faults_bpf : r->majflt_proc;
}

void verdict_health(const struct health_report *r, struct health_verdicts *v)
{
	bool limit = r->cg.mem_known && r->cg.mem_max != UINT64_MAX;

	v->scheduler = verdict_runq(r->runq_p99_ns, r->runq_ns, r->seconds);
	v->cpu_quota = verdict_cfs(r->cfs_periods, r->cfs_throttled, verdict_quota_cpus(r),
				   r->gomaxprocs);
	v->tcp = verdict_tcp(r->tcp_retrans, r->tcp_rcvq_drops, r->tcp_listen_overflows);
	v->memory = verdict_memory(r->ooms, r->majflt_proc, r->seconds, r->reclaims,
				   limit ? r->cg.mem_current : 0, limit ? r->cg.mem_max : 0);
	v->fds = verdict_fd_leak(r) ? VERDICT_WARN : VERDICT_OK;
}
