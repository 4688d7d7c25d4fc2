/*
 * goscope health: the kernel-level causes behind a Go service's latency,
 * per process, each with a verdict (ok, warn, bad) and its evidence —
 * run-queue delay, CFS quota throttling (and GOMAXPROCS above the quota),
 * TCP retransmits and drops, major faults and reclaim stalls, OOM kills,
 * file descriptor growth.
 */
#include "cli.h"

#include "../collect/health.h"
#include "../gobin/goglobals.h"
#include "../output/jsonw.h"
#include "../proc/cgroup.h"
#include "../proc/discover.h"
#include "../proc/fdinfo.h"
#include "../proc/procmem.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HC_MAX_TARGETS 64
#define HC_MAX_FD_SAMPLES 4096
#define HC_MAX_INLINE 8

struct hc_tcp_prev {
	struct hl_tcp_key key;
	uint64_t count;
};

struct hc_snap {
	double t;
	struct health_lat runq, reclaim;
	uint64_t faults_bpf;
	uint64_t majflt;
	uint64_t schedstat_ns; /* sum of run_delay of /proc/PID/task/N/schedstat */
	uint64_t ooms;
	struct cgroup_stat cg;
};

struct hc_target {
	pid_t pid;
	char exe[4096];
	struct gobin *gb;
	uint64_t bias;
	bool exited;
	int gomaxprocs;         /* read from the process, 0 if unknown */
	struct hc_snap base;    /* at the start of the window */
	/* fd samples over the window */
	double fd_t[HC_MAX_FD_SAMPLES];
	int fd_n[HC_MAX_FD_SAMPLES];
	size_t nfd;
	/* socket inodes the process held during the window */
	struct fdinfo_inodes inodes;
	struct hc_tcp_prev *tcp_prev;
	size_t ntcp_prev;
};

struct hc {
	pid_t pids[HC_MAX_TARGETS];
	size_t npids;
	double duration, interval;
	bool json, verbose;
	struct hc_target t[HC_MAX_TARGETS];
	size_t nt;
	struct health *h;
	struct jsonw jw;
	char missing[512];
	bool faults_traced; /* major faults counted by the perf event program */
};

static volatile sig_atomic_t hc_stop;

static void hc_on_signal(int sig)
{
	(void)sig;
	hc_stop = 1;
}

static void hc_usage(FILE *out)
{
	fprintf(out,
		"usage: goscope health [-p PID ...] [-d SECONDS] [-i INTERVAL] [--json]\n"
		"The kernel-level causes behind a Go service's latency, per process, each\n"
		"with a verdict (ok, warn, bad) and its evidence: run-queue delay, CFS quota\n"
		"throttling, TCP retransmits and drops, major faults, direct reclaim, OOM\n"
		"kills and file descriptor growth.\n\n"
		"  -p, --pid PID        this process (repeatable); default: every Go process\n"
		"  -d, --duration SEC   window length (default 10; Ctrl-C ends it early)\n"
		"  -i, --interval SEC   a report every SEC seconds\n"
		"      --json           one JSON object per process (per interval)\n"
		"  -v, --verbose        libbpf's log\n");
}

static double hc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


/* The kernel's own run-queue delay of PID's threads (schedstat run_delay). */
static uint64_t hc_schedstat(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	uint64_t sum = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char p2[384];
		FILE *f;
		uint64_t run, delay;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p2, sizeof(p2), "%s/%s/schedstat", path, de->d_name);
		f = fopen(p2, "re");
		if (!f)
			continue;
		if (fscanf(f, "%" SCNu64 " %" SCNu64, &run, &delay) == 2)
			sum += delay;
		fclose(f);
	}
	closedir(d);
	return sum;
}

/* Is INO one of T's socket inodes? */
static bool hc_has_inode(const struct hc_target *t, uint64_t ino)
{
	return fdinfo_inodes_has(&t->inodes, ino);
}

/* Sweep fate of a TCP entry: kept while a target holds its socket. */
static enum health_tcp_fate hc_tcp_fate(const struct hl_tcp_key *k, void *arg)
{
	const struct hc *c = arg;

	for (size_t i = 0; i < c->nt; i++)
		if (!c->t[i].exited && hc_has_inode(&c->t[i], k->ino))
			return HEALTH_TCP_KEEP;
	return HEALTH_TCP_STRAY;
}

/* Count fds by kind and remember the socket inodes. Returns the count or -1. */
static int hc_scan_fds(struct hc_target *t, int kinds[4])
{
	return fdinfo_scan(t->pid, kinds, &t->inodes);
}

static void hc_snapshot(struct hc *c, struct hc_target *t, struct hc_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->t = hc_now();
	health_runq(c->h, t->pid, &s->runq);
	health_reclaim(c->h, t->pid, &s->reclaim);
	s->faults_bpf = health_faults(c->h, t->pid, NULL, NULL);
	proc_majflt(t->pid, &s->majflt);
	s->schedstat_ns = hc_schedstat(t->pid);
	s->ooms = health_ooms(c->h, t->pid);
	cgroup_read(t->pid, &s->cg);
}

static void hc_sample_fds(struct hc_target *t)
{
	int n = hc_scan_fds(t, NULL);

	if (n < 0 || t->nfd >= HC_MAX_FD_SAMPLES)
		return;
	t->fd_t[t->nfd] = hc_now();
	t->fd_n[t->nfd] = n;
	t->nfd++;
}

/* Least-squares slope of fd count over time (fds per second). */
static double hc_fd_slope(const struct hc_target *t)
{
	double st = 0, sn = 0, stt = 0, stn = 0;
	size_t n = t->nfd;

	if (n < 2)
		return 0;
	for (size_t i = 0; i < n; i++) {
		double x = t->fd_t[i] - t->fd_t[0];

		st += x;
		sn += t->fd_n[i];
		stt += x * x;
		stn += x * t->fd_n[i];
	}
	double den = (double)n * stt - st * st;

	return den > 0 ? ((double)n * stn - st * sn) / den : 0;
}

/* Leak suspicion: the count never went down and grew by a real amount. */
static bool hc_fd_leak(const struct hc_target *t)
{
	if (t->nfd < 4)
		return false;
	for (size_t i = 1; i < t->nfd; i++)
		if (t->fd_n[i] < t->fd_n[i - 1])
			return false;
	return t->fd_n[t->nfd - 1] - t->fd_n[0] >= 5;
}

struct hc_tcp_sum {
	struct hc_target *t;
	uint64_t retrans, rcvq_drops, other_drops, listen_overflows, states;
	uint64_t by_state[16];
	uint64_t by_reason[512];
	/* the connection with the most retransmits */
	uint64_t top_count;
	struct hl_tcp_val top;
	unsigned top_state;
	bool update_prev;
};

static uint64_t hc_tcp_prev_count(struct hc_target *t, const struct hl_tcp_key *k)
{
	for (size_t i = 0; i < t->ntcp_prev; i++)
		if (memcmp(&t->tcp_prev[i].key, k, sizeof(*k)) == 0)
			return t->tcp_prev[i].count;
	return 0;
}

static void hc_tcp_prev_set(struct hc_target *t, const struct hl_tcp_key *k, uint64_t c)
{
	for (size_t i = 0; i < t->ntcp_prev; i++)
		if (memcmp(&t->tcp_prev[i].key, k, sizeof(*k)) == 0) {
			t->tcp_prev[i].count = c;
			return;
		}
	struct hc_tcp_prev *n = realloc(t->tcp_prev, (t->ntcp_prev + 1) * sizeof(*n));

	if (!n)
		return;
	t->tcp_prev = n;
	t->tcp_prev[t->ntcp_prev].key = *k;
	t->tcp_prev[t->ntcp_prev].count = c;
	t->ntcp_prev++;
}

static void hc_tcp_cb(const struct hl_tcp_key *k, const struct hl_tcp_val *v, void *arg)
{
	struct hc_tcp_sum *s = arg;
	uint64_t d;

	if (!hc_has_inode(s->t, k->ino))
		return;
	d = v->count - hc_tcp_prev_count(s->t, k);
	if (s->update_prev)
		hc_tcp_prev_set(s->t, k, v->count);
	if (!d)
		return;
	switch (k->kind) {
	case HL_TCP_RETRANS:
		s->retrans += d;
		if (d > s->top_count) {
			s->top_count = d;
			s->top = *v;
			s->top_state = k->sub;
		}
		break;
	case HL_TCP_DROP:
		if (k->sub < 512)
			s->by_reason[k->sub] += d;
		break;
	case HL_TCP_STATE:
		s->states += d;
		if ((k->sub >> 8) < 16)
			s->by_state[k->sub >> 8] += d;
		break;
	}
}

static const char *hc_tcp_state(unsigned s)
{
	static const char *n[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
				   "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
				   "LISTEN", "CLOSING", "NEW_SYN_RECV" };

	return s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

static void hc_tcp_addr(const struct hl_tcp_val *v, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int af = v->family == 10 ? AF_INET6 : AF_INET;

	inet_ntop(af, v->saddr, a, sizeof(a));
	inet_ntop(af, v->daddr, b, sizeof(b));
	snprintf(buf, len, "%s:%u -> %s:%u", a, v->sport, b, v->dport);
}

/* Socket-level receive drops: the reasons a receive queue or backlog gives. */
static bool hc_rcvq_reason(const char *r)
{
	return strstr(r, "RCVBUFF") || strstr(r, "BACKLOG") || strstr(r, "PROTO_MEM") ||
	       strstr(r, "SOCKET_FILTER") || strstr(r, "RMEM");
}

static const char *hc_verdict_name(int v)
{
	return v == 2 ? "bad" : v == 1 ? "warn" : "ok";
}

static void hc_fmt_ms(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 1000000000ull)
		snprintf(buf, len, "%.2f s", (double)ns / 1e9);
	else
		snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
}

struct hc_thr {
	uint32_t tid;
	uint64_t ns;
};

struct hc_thr_ctx {
	struct hc_thr top[3];
	size_t nthreads;
};

static void hc_thr_cb(uint32_t tid, uint64_t count, uint64_t total_ns, void *arg)
{
	struct hc_thr_ctx *c = arg;

	(void)count;
	c->nthreads++;
	for (int i = 0; i < 3; i++) {
		if (total_ns > c->top[i].ns) {
			memmove(&c->top[i + 1], &c->top[i], (size_t)(2 - i) * sizeof(c->top[0]));
			c->top[i].tid = tid;
			c->top[i].ns = total_ns;
			break;
		}
	}
}

struct hc_fault_ctx {
	struct hc_target *t;
	uint64_t best;
	uint64_t ips[HL_STACK_DEPTH];
	int n;
};

static void hc_fault_cb(const uint64_t *ips, int n, uint64_t count, void *arg)
{
	struct hc_fault_ctx *c = arg;

	if (count > c->best && n > 0) {
		c->best = count;
		c->n = n;
		memcpy(c->ips, ips, (size_t)n * sizeof(*ips));
	}
}

/* Read runtime.gomaxprocs from the live process (0 if unknown). */
static int hc_gomaxprocs(struct hc_target *t)
{
	uint64_t addr;
	char why[128];
	struct procmem pm;
	int32_t v = 0;

	if (!goglobals_gomaxprocs(t->gb, &addr, why, sizeof(why)))
		return 0;
	procmem_init(&pm, t->pid);
	if (!procmem_read(&pm, addr + t->bias, &v, sizeof(v)) || v < 1 || v > 65536)
		v = 0;
	procmem_close(&pm);
	return v;
}

static void hc_report(struct hc *c, struct hc_target *t, struct hc_snap *now, bool last)
{
	struct hc_snap *b = &t->base;
	double secs = now->t - b->t;
	uint64_t runq_ns = now->runq.total_ns - b->runq.total_ns;
	uint64_t runq_n = now->runq.count - b->runq.count;
	struct hist rh = now->runq.h;
	uint64_t throttled = now->cg.nr_throttled - b->cg.nr_throttled;
	uint64_t periods = now->cg.nr_periods - b->cg.nr_periods;
	uint64_t throttled_us = now->cg.throttled_us - b->cg.throttled_us;
	uint64_t majflt = now->majflt - b->majflt;
	uint64_t faults_bpf = now->faults_bpf - b->faults_bpf;
	uint64_t reclaim_ns = now->reclaim.total_ns - b->reclaim.total_ns;
	uint64_t reclaim_n = now->reclaim.count - b->reclaim.count;
	uint64_t ooms = (now->ooms - b->ooms) + (now->cg.oom_kills - b->cg.oom_kills);
	struct hc_tcp_sum ts = { .t = t, .update_prev = true };
	struct hc_thr_ctx thr = { 0 };
	struct hc_fault_ctx fc = { .t = t };
	int kinds[4];
	int fds = hc_scan_fds(t, kinds);
	double slope = hc_fd_slope(t);
	bool leak = hc_fd_leak(t);
	double quota_cpus = now->cg.cpu_limited && now->cg.period_us > 0
				    ? (double)now->cg.quota_us / (double)now->cg.period_us
				    : 0;
	uint64_t sys_files = 0, sys_max = 0;
	char buf[256], a[32], bb[32];
	int v_sched, v_cfs, v_tcp, v_mem, v_fd;
	uint64_t p99;

	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		rh.b[i] -= b->runq.h.b[i];
	rh.count = runq_n;
	p99 = hist_quantile(&rh, 0.99);
	health_tcp_each(c->h, hc_tcp_cb, &ts);
	for (unsigned r = 0; r < 512; r++) {
		const char *name;

		if (!ts.by_reason[r])
			continue;
		name = health_drop_reason(c->h, r);
		if (strstr(name, "LISTEN_OVERFLOW"))
			ts.listen_overflows += ts.by_reason[r];
		else if (hc_rcvq_reason(name))
			ts.rcvq_drops += ts.by_reason[r];
		else
			ts.other_drops += ts.by_reason[r];
	}
	health_runq_threads(c->h, t->pid, hc_thr_cb, &thr);
	health_faults(c->h, t->pid, hc_fault_cb, &fc);
	{
		FILE *f = fopen("/proc/sys/fs/file-nr", "re");

		if (f) {
			if (fscanf(f, "%" SCNu64 " %*u %" SCNu64, &sys_files, &sys_max) != 2)
				sys_files = sys_max = 0;
			fclose(f);
		}
	}
	/* Verdicts: thresholds a reader can check against the evidence. */
	v_sched = (p99 > 10000000 || (secs > 0 && (double)runq_ns / 1e9 / secs > 0.10)) ? 2
		  : (p99 > 1000000)							? 1
											: 0;
	v_cfs = (periods && throttled * 10 > periods) ? 2
		: (throttled || (quota_cpus > 0 && t->gomaxprocs > 0 &&
				 (double)t->gomaxprocs > ceil(quota_cpus)))
			? 1
			: 0;
	v_tcp = ts.rcvq_drops || ts.listen_overflows ? 2 : ts.retrans ? 1 : 0;
	v_mem = ooms ? 2
		: (secs > 0 && (double)majflt / secs > 100) ? 2
		: (majflt || reclaim_n ||
		   (now->cg.mem_known && now->cg.mem_max != UINT64_MAX &&
		    now->cg.mem_current * 10 > now->cg.mem_max * 9))
			? 1
			: 0;
	v_fd = leak ? 1 : 0;

	if (c->json) {
		struct jsonw *w = &c->jw;

		jsonw_obj_begin(w);
		jsonw_kint(w, "pid", t->pid);
		jsonw_kstr(w, "exe", t->exe);
		jsonw_kstr(w, "go_version", gobin_go_version(t->gb));
		jsonw_kstr(w, "not_measured", c->missing);
		jsonw_kdouble(w, "seconds", secs);
		if (!last || c->interval > 0) {
			struct timespec rt;

			clock_gettime(CLOCK_REALTIME, &rt);
			jsonw_kdouble(w, "interval_end", (double)rt.tv_sec + (double)rt.tv_nsec / 1e9);
		}
		jsonw_kdouble(w, "runq_delay_us", (double)runq_ns / 1e3);
		jsonw_kuint(w, "runq_waits", runq_n);
		jsonw_kdouble(w, "runq_p99_us", (double)p99 / 1e3);
		jsonw_kdouble(w, "runq_max_us", (double)now->runq.max_ns / 1e3);
		jsonw_kdouble(w, "runq_delay_schedstat_us",
			      (double)(now->schedstat_ns - b->schedstat_ns) / 1e3);
		jsonw_kstr(w, "cgroup", now->cg.path);
		jsonw_kint(w, "cgroup_version", now->cg.version);
		jsonw_kint(w, "cfs_quota_us", now->cg.quota_us);
		jsonw_kint(w, "cfs_period_us", now->cg.period_us);
		jsonw_kuint(w, "cfs_periods", periods);
		jsonw_kuint(w, "cfs_throttled_periods", throttled);
		jsonw_kuint(w, "cfs_throttled_us", throttled_us);
		jsonw_kint(w, "gomaxprocs", t->gomaxprocs);
		jsonw_kuint(w, "tcp_retransmits", ts.retrans);
		jsonw_kuint(w, "tcp_rcvq_drops", ts.rcvq_drops);
		jsonw_kuint(w, "tcp_listen_overflows", ts.listen_overflows);
		jsonw_kuint(w, "tcp_other_drops", ts.other_drops);
		jsonw_kuint(w, "tcp_state_changes", ts.states);
		jsonw_key(w, "tcp_drop_reasons");
		jsonw_obj_begin(w);
		for (unsigned r = 0; r < 512; r++)
			if (ts.by_reason[r])
				jsonw_kuint(w, health_drop_reason(c->h, r), ts.by_reason[r]);
		jsonw_obj_end(w);
		jsonw_kuint(w, "major_faults", c->faults_traced ? faults_bpf : majflt);
		jsonw_kuint(w, "major_faults_proc", majflt);
		jsonw_kdouble(w, "direct_reclaim_us", (double)reclaim_ns / 1e3);
		jsonw_kuint(w, "direct_reclaims", reclaim_n);
		if (now->cg.mem_known)
			jsonw_kuint(w, "memory_bytes", now->cg.mem_current);
		if (now->cg.mem_max != UINT64_MAX)
			jsonw_kuint(w, "memory_limit_bytes", now->cg.mem_max);
		jsonw_kuint(w, "oom_kills", ooms);
		if (fds >= 0)
			jsonw_kint(w, "fd_count", fds);
		else
			jsonw_knull(w, "fd_count"); /* the process is gone */
		jsonw_kdouble(w, "fd_growth_per_s", slope);
		jsonw_kbool(w, "fd_leak_suspected", leak);
		jsonw_key(w, "fd_kinds");
		jsonw_obj_begin(w);
		jsonw_kint(w, "socket", kinds[0]);
		jsonw_kint(w, "file", kinds[1]);
		jsonw_kint(w, "pipe", kinds[2]);
		jsonw_kint(w, "anon", kinds[3]);
		jsonw_obj_end(w);
		jsonw_kuint(w, "system_files", sys_files);
		jsonw_key(w, "verdicts");
		jsonw_obj_begin(w);
		jsonw_kstr(w, "scheduler", hc_verdict_name(v_sched));
		jsonw_kstr(w, "cpu_quota", hc_verdict_name(v_cfs));
		jsonw_kstr(w, "tcp", hc_verdict_name(v_tcp));
		jsonw_kstr(w, "memory", hc_verdict_name(v_mem));
		jsonw_kstr(w, "fds", hc_verdict_name(v_fd));
		jsonw_obj_end(w);
		jsonw_obj_end(w);
		fflush(stdout);
		return;
	}
	printf("goscope health: pid %d %s %s, %.1f s%s\n", (int)t->pid, t->exe,
	       gobin_go_version(t->gb), secs, t->exited ? " (exited)" : "");
	hc_fmt_ms(a, sizeof(a), runq_ns);
	hc_fmt_ms(bb, sizeof(bb), p99);
	printf("  %-10s %-4s run-queue delay %s in %" PRIu64 " waits over %zu threads (%.1f%% of the window), p99 %s\n",
	       "scheduler", hc_verdict_name(v_sched), a, runq_n, thr.nthreads,
	       secs > 0 ? 100.0 * (double)runq_ns / 1e9 / secs : 0.0, bb);
	if (thr.top[0].ns) {
		printf("  %-15s most delayed threads:", "");
		for (int i = 0; i < 3 && thr.top[i].ns; i++) {
			hc_fmt_ms(a, sizeof(a), thr.top[i].ns);
			printf("%s tid %u %s", i ? "," : "", thr.top[i].tid, a);
		}
		printf("\n");
	}
	if (now->cg.cpu_limited)
		snprintf(buf, sizeof(buf), "quota %.2f CPUs (%" PRId64 "/%" PRId64 " us)", quota_cpus,
			 now->cg.quota_us, now->cg.period_us);
	else
		snprintf(buf, sizeof(buf), "no CPU quota");
	printf("  %-10s %-4s cgroup v%d %s: %s; throttled %" PRIu64 " of %" PRIu64
	       " periods, %.1f ms",
	       "cpu quota", hc_verdict_name(v_cfs), now->cg.version, now->cg.path[0] ? now->cg.path : "?",
	       buf, throttled, periods, (double)throttled_us / 1e3);
	if (t->gomaxprocs)
		printf("; GOMAXPROCS %d%s", t->gomaxprocs,
		       quota_cpus > 0 && (double)t->gomaxprocs > ceil(quota_cpus)
			       ? " exceeds the quota's CPUs"
			       : "");
	printf("\n");
	printf("  %-10s %-4s %" PRIu64 " retransmits, %" PRIu64 " receive-queue drops, %" PRIu64
	       " listen overflows, %" PRIu64 " other drops, %" PRIu64 " state changes\n",
	       "tcp", hc_verdict_name(v_tcp), ts.retrans, ts.rcvq_drops, ts.listen_overflows,
	       ts.other_drops, ts.states);
	if (ts.top_count) {
		hc_tcp_addr(&ts.top, buf, sizeof(buf));
		printf("  %-15s most retransmits: %s %s (%" PRIu64 ")\n", "", buf,
		       hc_tcp_state(ts.top_state), ts.top_count);
	}
	for (unsigned r = 0; r < 512; r++)
		if (ts.by_reason[r])
			printf("  %-15s drop reason %s: %" PRIu64 "\n", "", health_drop_reason(c->h, r),
			       ts.by_reason[r]);
	hc_fmt_ms(a, sizeof(a), reclaim_ns);
	printf("  %-10s %-4s %" PRIu64 " major faults, direct reclaim %s in %" PRIu64 " stalls, %" PRIu64
	       " OOM kills",
	       "memory", hc_verdict_name(v_mem), majflt, a, reclaim_n, ooms);
	if (now->cg.mem_known) {
		printf(", cgroup memory %.1f MiB", (double)now->cg.mem_current / 1048576.0);
		if (now->cg.mem_max != UINT64_MAX)
			printf(" of %.1f MiB", (double)now->cg.mem_max / 1048576.0);
	}
	printf("\n");
	if (fc.n > 0) {
		struct pclntab_frame fr[HC_MAX_INLINE];
		int shown = 0;

		printf("  %-15s top faulting stack (%" PRIu64 " faults):\n", "", fc.best);
		for (int i = 0; i < fc.n && shown < 8; i++) {
			int k = pclntab_symbolize(t->gb->pcln, fc.ips[i] - t->bias - (i ? 1 : 0), fr,
						  HC_MAX_INLINE);

			for (int j = 0; j < k && shown < 8; j++, shown++)
				printf("  %-17s %s  %s:%d\n", "", fr[j].func, fr[j].file, fr[j].line);
		}
	}
	printf("  %-10s %-4s %d open (socket %d, file %d, pipe %d, other %d), %+.1f/s over the window%s; system %" PRIu64 " of %" PRIu64 "\n",
	       "fds", hc_verdict_name(v_fd), fds, kinds[0], kinds[1], kinds[2], kinds[3], slope,
	       leak ? ", only grew: leak suspected" : "", sys_files, sys_max);
	if (c->missing[0])
		printf("  not measured: %s\n", c->missing);
	fflush(stdout);
}

/*
 * A bad command-line option as one "goscope: " line (not getopt's message
 * and the usage). ARG is the argv element getopt stopped at; MISSING: the
 * option needs an argument that is not there.
 */
static void hc_bad_option(const char *arg, bool missing)
{
	const char *eq = strchr(arg, '=');
	char name[64];

	if (strncmp(arg, "--", 2) != 0)
		snprintf(name, sizeof(name), "-%c", optopt > 0 && optopt < 128 ? optopt : '?');
	else
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - arg) : 63, arg);
	if (missing)
		cli_error("option '%s' needs an argument (try 'goscope health --help')", name);
	else if (optopt && eq && strncmp(arg, "--", 2) == 0)
		cli_error("option '%s' takes no argument (try 'goscope health --help')", name);
	else
		cli_error("unknown option '%s' (try 'goscope health --help')", name);
}

static int hc_parse(int argc, char **argv, struct hc *c)
{
	enum { O_JSON = 256 };
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, O_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;
	char *end;

	c->duration = 10;
	opterr = 0; /* one "goscope: " line, not getopt's message and the usage */
	while ((o = getopt_long(argc, argv, ":p:d:i:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			if (c->npids >= HC_MAX_TARGETS || !proc_parse_pid(optarg, &c->pids[c->npids])) {
				cli_error("invalid pid '%s'", optarg);
				return -1;
			}
			c->npids++;
			break;
		case 'd':
			c->duration = strtod(optarg, &end);
			if (*end || c->duration <= 0) {
				cli_error("invalid duration '%s' (seconds > 0)", optarg);
				return -1;
			}
			break;
		case 'i':
			c->interval = strtod(optarg, &end);
			if (*end || c->interval < 0.5) {
				cli_error("invalid interval '%s' (seconds >= 0.5)", optarg);
				return -1;
			}
			break;
		case O_JSON:
			c->json = true;
			break;
		case 'v':
			c->verbose = true;
			break;
		case 'h':
			hc_usage(stdout);
			exit(0);
		case ':':
			hc_bad_option(argv[optind - 1], true);
			return -1;
		default:
			hc_bad_option(argv[optind - 1], false);
			return -1;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s' (targets are given with -p PID)", argv[optind]);
		return -1;
	}
	return 0;
}

static int hc_targets(struct hc *c)
{
	pid_t found[HC_MAX_TARGETS];
	pid_t *pids = c->pids;
	size_t n = c->npids;
	char err[512];

	if (n == 0) {
		long k = discover_go_pids(found, HC_MAX_TARGETS);

		if (k <= 0) {
			cli_error(k < 0 ? "cannot read /proc to find Go processes"
					: "no Go processes found (give one with -p PID)");
			return -1;
		}
		pids = found;
		n = k > HC_MAX_TARGETS ? HC_MAX_TARGETS : (size_t)k;
	}
	for (size_t i = 0; i < n; i++) {
		char arg[32];
		struct cli_target ct;
		struct hc_target *t;

		snprintf(arg, sizeof(arg), "%d", (int)pids[i]);
		if (c->npids) {
			if (cli_target_open(arg, &ct) != 0)
				return -1;
		} else if (proc_target_parse(arg, &ct.proc, err, sizeof(err)) != 0 ||
			   gobin_open(ct.proc.open_path, &ct.gb, err, sizeof(err)) != 0) {
			continue;
		} else if (proc_load_bias(ct.proc.pid, ct.gb->img, &ct.bias, err, sizeof(err)) != 0) {
			gobin_close(ct.gb);
			continue;
		}
		t = &c->t[c->nt++];
		t->pid = ct.proc.pid;
		snprintf(t->exe, sizeof(t->exe), "%s", ct.proc.exe);
		t->gb = ct.gb;
		t->bias = ct.bias;
	}
	if (c->nt == 0) {
		cli_error("none of the Go processes found can be examined");
		return -1;
	}
	return 0;
}

int cmd_health(int argc, char **argv)
{
	struct hc *c = calloc(1, sizeof(*c));
	struct sigaction sa;
	char err[512];
	double start, next_fd, next_sweep, last;
	int rc = 1;

	if (!c) {
		cli_error("out of memory");
		return 1;
	}
	if (hc_parse(argc, argv, c) != 0) {
		rc = 2;
		goto out;
	}
	if (hc_targets(c) != 0)
		goto out;
	if (health_open(&c->h, HEALTH_SIG_ALL, c->verbose, c->missing, sizeof(c->missing), err,
			sizeof(err)) != 0) {
		cli_error("%s", err);
		goto out;
	}
	jsonw_init(&c->jw, stdout);
	c->faults_traced = !strstr(c->missing, "major-fault");
	for (size_t i = 0; i < c->nt; i++) {
		struct hc_target *t = &c->t[i];

		health_add_pid(c->h, t->pid);
		t->gomaxprocs = hc_gomaxprocs(t);
		hc_snapshot(c, t, &t->base);
		hc_sample_fds(t);
		/*
		 * TCP events are counted by socket from the moment the programs
		 * were attached: those of the target's sockets until now are
		 * not the window's.
		 */
		{
			struct hc_tcp_sum ts = { .t = t, .update_prev = true };

			health_tcp_each(c->h, hc_tcp_cb, &ts);
		}
	}
	if (c->missing[0] && !c->json)
		fprintf(stderr, "goscope: not measured on this kernel: %s\n", c->missing);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hc_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	start = last = hc_now();
	next_fd = start + 0.25;
	next_sweep = start + 2;
	rc = 0;
	for (;;) {
		double now;
		size_t alive = 0;
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		now = hc_now();
		for (size_t i = 0; i < c->nt; i++) {
			if (!c->t[i].exited && !proc_alive(c->t[i].pid)) {
				c->t[i].exited = true;
				fprintf(stderr, "goscope: pid %d (%s) exited during the window\n",
					(int)c->t[i].pid, c->t[i].exe);
			}
			alive += !c->t[i].exited;
		}
		if (now >= next_fd) {
			for (size_t i = 0; i < c->nt; i++)
				if (!c->t[i].exited)
					hc_sample_fds(&c->t[i]);
			next_fd += 0.25;
			/* Forget other processes' sockets: the TCP map is host-wide. */
			if (now >= next_sweep) {
				health_tcp_sweep(c->h, hc_tcp_fate, NULL, c);
				next_sweep = now + 2;
			}
		}
		bool done = hc_stop || alive == 0 || now - start >= c->duration;

		if ((c->interval > 0 && now - last >= c->interval) || done) {
			for (size_t i = 0; i < c->nt; i++) {
				struct hc_target *t = &c->t[i];
				struct hc_snap s;

				if (t->exited && !done)
					continue;
				hc_sample_fds(t);
				hc_snapshot(c, t, &s);
				if (t->exited) {
					/* /proc is gone: keep what the kernel side counted. */
					s.majflt = t->base.majflt;
					s.schedstat_ns = t->base.schedstat_ns;
					s.cg = t->base.cg;
				}
				hc_report(c, t, &s, done);
				t->base = s;
				t->nfd = 0;
				hc_sample_fds(t);
			}
			last = now;
		}
		if (done)
			break;
	}
out:
	health_close(c->h);
	for (size_t i = 0; i < c->nt; i++) {
		gobin_close(c->t[i].gb);
		fdinfo_inodes_free(&c->t[i].inodes);
		free(c->t[i].tcp_prev);
	}
	free(c);
	return rc;
}
