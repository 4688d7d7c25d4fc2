/*
 * verdict: ok / warn / bad for each health signal, as pure functions of a
 * struct health_report (no I/O), so that the health command, the agent and
 * later commands judge the same way. Every threshold is named here, once:
 * a reader can check a verdict against the evidence printed beside it.
 */
#ifndef GOSCOPE_VERDICT_H
#define GOSCOPE_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

struct health_report;

enum verdict { VERDICT_OK = 0, VERDICT_WARN = 1, VERDICT_BAD = 2 };

/* scheduler: run-queue delay p99 (ns) and share of the window spent waiting */
#define VERDICT_RUNQ_P99_BAD_NS 10000000ull  /* 10 ms */
#define VERDICT_RUNQ_P99_WARN_NS 1000000ull  /* 1 ms */
#define VERDICT_RUNQ_SHARE_BAD 0.10          /* of the window, summed over threads */
/* cpu quota: share of CFS periods throttled */
#define VERDICT_CFS_THROTTLED_BAD 0.10
/* memory: major faults per second, memory use against the cgroup limit */
#define VERDICT_MAJFLT_BAD_PER_S 100.0
#define VERDICT_MEM_LIMIT_WARN 0.90
/* fds: growth over a window in which the count never went down */
#define VERDICT_FD_LEAK_MIN_GROWTH 5
#define VERDICT_FD_LEAK_MIN_SAMPLES 4

struct health_verdicts {
	enum verdict scheduler, cpu_quota, tcp, memory, fds;
};

const char *verdict_name(enum verdict v);

enum verdict verdict_runq(uint64_t p99_ns, uint64_t delay_ns, double seconds);
/* QUOTA_CPUS 0: no quota. */
enum verdict verdict_cfs(uint64_t periods, uint64_t throttled, double quota_cpus, int gomaxprocs);
enum verdict verdict_tcp(uint64_t retrans, uint64_t rcvq_drops, uint64_t listen_overflows);
/* MEM_LIMIT 0: no limit known. */
enum verdict verdict_memory(uint64_t ooms, uint64_t majflt, double seconds, uint64_t reclaims,
			    uint64_t mem_bytes, uint64_t mem_limit);

/* The CPUs a CFS quota grants (quota / period), 0 without a quota. */
double verdict_quota_cpus(const struct health_report *r);
/* GOMAXPROCS above the quota's CPUs (rounded up): more Ps than CPU time. */
bool verdict_gomaxprocs_over_quota(const struct health_report *r);
/* The fd count only grew, by VERDICT_FD_LEAK_MIN_GROWTH or more, over enough samples. */
bool verdict_fd_leak(const struct health_report *r);
/* The major faults of the report: the traced count, or /proc's when faults are not traced. */
uint64_t verdict_major_faults(const struct health_report *r);

void verdict_health(const struct health_report *r, struct health_verdicts *v);

#endif
