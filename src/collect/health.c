/*
 * health: load health.bpf.c, attach each signal on its own (so one
 * missing kernel feature costs one signal, not all), read the maps, and
 * follow processes over windows into struct health_report.
 */
#include "health.h"

#include "health.skel.h"

#include "bpfload.h"
#include "../gobin/gobin.h"
#include "../gobin/goglobals.h"
#include "../proc/fdinfo.h"
#include "../proc/proc.h"
#include "../proc/procmem.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define HEALTH_MAX_CPUS 1024
#define HEALTH_MAX_REASONS 512

/* Seconds an entry stays stray before a sweep deletes it. */
#define HEALTH_STRAY_SECS 5.0

struct health_stray {
	struct hl_tcp_key key; /* first: compared by health_tcp_key_cmp */
	double since;
};

struct health {
	struct health_bpf *skel;
	struct bpf_link *links[16 + HEALTH_MAX_CPUS]; /* programs, then a perf event link per CPU */
	size_t nlinks;
	int *perf_fds;
	int ncpus;
	bool faults_traced;
	bool runq_measured; /* a sched_switch program is attached */
	char *reasons[HEALTH_MAX_REASONS];
	/* TCP entries no counted process held at the last sweep, sorted by key. */
	struct health_stray *stray;
	size_t nstray;
	struct health_target *targets; /* followed by health_target_new */
};

static void health_missing(char *missing, size_t len, const char *what)
{
	size_t n = strlen(missing);

	snprintf(missing + n, len - n, "%s%s", n ? ", " : "", what);
}

/* Names of enum skb_drop_reason values, from the kernel's BTF. */
static void health_load_reasons(struct health *h, const struct btf *btf)
{
	int id;

	if (!btf)
		return;
	id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	if (id > 0) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *e = btf_enum(t);

		for (int i = 0; i < btf_vlen(t); i++) {
			const char *name = btf__name_by_offset(btf, e[i].name_off);
			unsigned v = (unsigned)e[i].val;

			if (v < HEALTH_MAX_REASONS && name) {
				if (strncmp(name, "SKB_DROP_REASON_", 16) == 0)
					name += 16;
				free(h->reasons[v]);
				h->reasons[v] = strdup(name);
			}
		}
	}
}

/*
 * tp_btf programs, or their raw_tp twins: the twins when the kernel has no
 * tp_btf, or when GOSCOPE_NO_TP_BTF is set (non-empty, not "0": how the
 * tests run the twins on a kernel that has both).
 */
static bool health_use_tp_btf(void)
{
	const char *e = getenv("GOSCOPE_NO_TP_BTF");

	if (e && *e && strcmp(e, "0") != 0)
		return false;
	return bpfload_has_tp_btf();
}

/* Software event major-faults on every CPU, sampled at every fault. */
static bool health_attach_faults(struct health *h)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_PAGE_FAULTS_MAJ,
		.sample_period = 1,
	};
	int n = libbpf_num_possible_cpus();

	if (n <= 0 || n > HEALTH_MAX_CPUS)
		return false;
	h->perf_fds = calloc((size_t)n, sizeof(int));
	if (!h->perf_fds)
		return false;
	h->ncpus = n;
	for (int cpu = 0; cpu < n; cpu++)
		h->perf_fds[cpu] = -1; /* not opened: health_close must not close fd 0 */
	for (int cpu = 0; cpu < n; cpu++) {
		struct bpf_link *l;
		int fd = (int)syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

		h->perf_fds[cpu] = fd;
		if (fd < 0) {
			if (errno == ENODEV)
				continue; /* offline CPU */
			return false;
		}
		l = bpf_program__attach_perf_event(h->skel->progs.hl_major_fault, fd);
		if (!l)
			return false;
		if (h->nlinks < sizeof(h->links) / sizeof(h->links[0]))
			h->links[h->nlinks++] = l;
		else
			bpf_link__destroy(l);
	}
	return true;
}

/*
 * Open the skeleton with only the programs SIGS needs: the scheduler and
 * retransmit programs as tp_btf (BTF_TP) or as their raw_tp twins.
 */
static struct health_bpf *health_skel(unsigned sigs, bool btf_tp)
{
	struct health_bpf *s = health_bpf__open();
	bool runq = (sigs & HEALTH_SIG_RUNQ) != 0;
	bool retrans = (sigs & HEALTH_SIG_TCP_RETRANS) != 0;

	if (!s)
		return NULL;
	s->rodata->hl_per_thread = (sigs & HEALTH_SIG_RUNQ_THREADS) != 0;
	bpf_program__set_autoload(s->progs.hl_sched_wakeup, runq && btf_tp);
	bpf_program__set_autoload(s->progs.hl_sched_wakeup_new, runq && btf_tp);
	bpf_program__set_autoload(s->progs.hl_sched_switch, runq && btf_tp);
	bpf_program__set_autoload(s->progs.hl_raw_sched_wakeup, runq && !btf_tp);
	bpf_program__set_autoload(s->progs.hl_raw_sched_wakeup_new, runq && !btf_tp);
	bpf_program__set_autoload(s->progs.hl_raw_sched_switch, runq && !btf_tp);
	bpf_program__set_autoload(s->progs.hl_reclaim_begin, (sigs & HEALTH_SIG_RECLAIM) != 0);
	bpf_program__set_autoload(s->progs.hl_reclaim_end, (sigs & HEALTH_SIG_RECLAIM) != 0);
	bpf_program__set_autoload(s->progs.hl_major_fault, (sigs & HEALTH_SIG_FAULTS) != 0);
	bpf_program__set_autoload(s->progs.hl_oom, (sigs & HEALTH_SIG_OOM) != 0);
	bpf_program__set_autoload(s->progs.hl_tcp_retransmit, retrans && btf_tp);
	bpf_program__set_autoload(s->progs.hl_raw_tcp_retransmit, retrans && !btf_tp);
	bpf_program__set_autoload(s->progs.hl_kfree_skb, (sigs & HEALTH_SIG_TCP_DROPS) != 0);
	bpf_program__set_autoload(s->progs.hl_set_state, (sigs & HEALTH_SIG_TCP_STATES) != 0);
	return s;
}

int health_open(struct health **out, unsigned sigs, bool verbose, char *missing,
		size_t missinglen, char *err, size_t errlen)
{
	struct health *h;
	struct btf *btf;
	bool btf_tp = health_use_tp_btf();
	const struct {
		size_t off; /* of the program in struct health_bpf's progs */
		const char *what;
	} progs[] = {
#define HP(p, w) { offsetof(struct health_bpf, progs.p), w }
		HP(hl_sched_wakeup, "run-queue delay (sched_wakeup)"),
		HP(hl_sched_wakeup_new, "run-queue delay (sched_wakeup_new)"),
		HP(hl_sched_switch, "run-queue delay (sched_switch)"),
		HP(hl_raw_sched_wakeup, "run-queue delay (raw sched_wakeup)"),
		HP(hl_raw_sched_wakeup_new, "run-queue delay (raw sched_wakeup_new)"),
		HP(hl_raw_sched_switch, "run-queue delay (raw sched_switch)"),
		HP(hl_reclaim_begin, "direct reclaim"),
		HP(hl_reclaim_end, "direct reclaim (end)"),
		HP(hl_oom, "OOM kills (oom:mark_victim)"),
		HP(hl_tcp_retransmit, "TCP retransmits"),
		HP(hl_raw_tcp_retransmit, "TCP retransmits (raw tracepoint)"),
		HP(hl_kfree_skb, "TCP drops (skb:kfree_skb)"),
		HP(hl_set_state, "TCP state changes"),
#undef HP
	};
	int rc;

	*out = NULL;
	missing[0] = 0;
	bpfload_set_verbose(verbose);
	if (bpfload_need_host_pidns("health tracing", err, errlen) != 0 ||
	    bpfload_prepare("health tracing", true, err, errlen) != 0)
		return -1;
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	btf = btf__load_vmlinux_btf();
	h->skel = health_skel(sigs, btf_tp);
	rc = h->skel ? health_bpf__load(h->skel) : -errno;
	if (rc && btf_tp && (sigs & (HEALTH_SIG_RUNQ | HEALTH_SIG_TCP_RETRANS))) {
		/* The probe said yes but the load failed: try the raw_tp twins. */
		health_bpf__destroy(h->skel);
		h->skel = health_skel(sigs, false);
		rc = h->skel ? health_bpf__load(h->skel) : -errno;
	}
	if (rc) {
		bpfload_load_error(rc, err, errlen);
		btf__free(btf);
		health_close(h);
		return -1;
	}
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_program *prog =
			*(struct bpf_program **)((char *)h->skel + progs[i].off);
		struct bpf_link *l;

		if (!bpf_program__autoload(prog))
			continue;
		l = bpf_program__attach(prog);
		if (!l) {
			health_missing(missing, missinglen, progs[i].what);
			continue;
		}
		h->links[h->nlinks++] = l;
		if (prog == h->skel->progs.hl_sched_switch || prog == h->skel->progs.hl_raw_sched_switch)
			h->runq_measured = true;
	}
	h->faults_traced = (sigs & HEALTH_SIG_FAULTS) && health_attach_faults(h);
	if ((sigs & HEALTH_SIG_FAULTS) && !h->faults_traced)
		health_missing(missing, missinglen,
			       "major-fault stacks (perf software events; counts still come from /proc)");
	health_load_reasons(h, btf);
	btf__free(btf);
	*out = h;
	return 0;
}

void health_close(struct health *h)
{
	if (!h)
		return;
	while (h->targets)
		health_target_free(h->targets, false);
	for (size_t i = 0; i < h->nlinks; i++)
		bpf_link__destroy(h->links[i]);
	for (int i = 0; h->perf_fds && i < h->ncpus; i++)
		if (h->perf_fds[i] >= 0)
			close(h->perf_fds[i]);
	free(h->perf_fds);
	for (int i = 0; i < HEALTH_MAX_REASONS; i++)
		free(h->reasons[i]);
	free(h->stray);
	health_bpf__destroy(h->skel);
	free(h);
}

int health_add_pid(struct health *h, pid_t pid)
{
	uint8_t one = 1;

	return bpfload_target_add(h->skel->maps.tslots, h->skel->maps.targets, pid, &one,
				  sizeof(one));
}

struct health_forget {
	const struct bpf_map *map;
	uint32_t tgid;
};

static void health_forget_tid(const void *key, void *arg)
{
	struct health_forget *f = arg;
	struct hl_tid v;

	if (bpf_map__lookup_elem(f->map, key, sizeof(uint32_t), &v, sizeof(v), 0) == 0 &&
	    v.tgid == f->tgid)
		bpf_map__delete_elem(f->map, key, sizeof(uint32_t), 0);
}

static void health_forget_fault(const void *key, void *arg)
{
	struct health_forget *f = arg;
	const struct hl_fault_key *k = key;

	if (k->tgid == f->tgid)
		bpf_map__delete_elem(f->map, k, sizeof(*k), 0);
}

void health_remove_pid(struct health *h, pid_t pid)
{
	uint32_t k = (uint32_t)pid;
	struct health_forget f = { h->skel->maps.runq_tid, k };

	bpfload_target_remove(h->skel->maps.tslots, h->skel->maps.targets, pid);
	bpf_map__delete_elem(h->skel->maps.runq, &k, sizeof(k), 0);
	bpf_map__delete_elem(h->skel->maps.reclaim, &k, sizeof(k), 0);
	bpf_map__delete_elem(h->skel->maps.ooms, &k, sizeof(k), 0);
	/* Its threads' run-queue totals and its fault stacks. */
	bpfload_each_key(h->skel->maps.runq_tid, sizeof(uint32_t), health_forget_tid, &f);
	f.map = h->skel->maps.faults;
	bpfload_each_key(h->skel->maps.faults, sizeof(struct hl_fault_key), health_forget_fault, &f);
}

static bool health_lat(struct bpf_map *m, pid_t pid, struct health_lat *l)
{
	uint32_t k = (uint32_t)pid;
	struct hl_lat v;

	memset(l, 0, sizeof(*l));
	if (bpf_map__lookup_elem(m, &k, sizeof(k), &v, sizeof(v), 0) != 0)
		return false;
	l->count = v.count;
	l->total_ns = v.total_ns;
	l->max_ns = v.max_ns;
	for (int i = 0; i < HL_HIST_BUCKETS; i++) {
		if (!v.hist[i])
			continue;
		if (!l->h.count)
			l->h.min = hist_bucket_low((unsigned)i);
		l->h.b[i] = v.hist[i];
		l->h.count += v.hist[i];
	}
	l->h.sum = v.total_ns;
	l->h.max = v.max_ns;
	return true;
}

bool health_runq(struct health *h, pid_t pid, struct health_lat *l)
{
	return health_lat(h->skel->maps.runq, pid, l);
}

bool health_reclaim(struct health *h, pid_t pid, struct health_lat *l)
{
	return health_lat(h->skel->maps.reclaim, pid, l);
}

struct health_thr_walk {
	const struct bpf_map *map;
	uint32_t tgid;
	void (*fn)(uint32_t tid, uint64_t count, uint64_t total_ns, void *arg);
	void *arg;
};

static void health_thr_key(const void *key, void *arg)
{
	struct health_thr_walk *w = arg;
	struct hl_tid v;

	if (bpf_map__lookup_elem(w->map, key, sizeof(uint32_t), &v, sizeof(v), 0) == 0 &&
	    v.tgid == w->tgid)
		w->fn(*(const uint32_t *)key, v.count, v.total_ns, w->arg);
}

void health_runq_threads(struct health *h, pid_t pid,
			 void (*fn)(uint32_t tid, uint64_t count, uint64_t total_ns, void *arg),
			 void *arg)
{
	struct health_thr_walk w = { h->skel->maps.runq_tid, (uint32_t)pid, fn, arg };

	bpfload_each_key(h->skel->maps.runq_tid, sizeof(uint32_t), health_thr_key, &w);
}

struct health_fault_walk {
	struct health *h;
	uint32_t tgid;
	uint64_t total;
	void (*fn)(const uint64_t *ips, int n, uint64_t count, void *arg);
	void *arg;
};

static void health_fault_key(const void *key, void *arg)
{
	struct health_fault_walk *w = arg;
	const struct hl_fault_key *k = key;
	uint64_t c, ips[HL_STACK_DEPTH];
	int n = 0;

	if (k->tgid != w->tgid ||
	    bpf_map__lookup_elem(w->h->skel->maps.faults, k, sizeof(*k), &c, sizeof(c), 0) != 0)
		return;
	w->total += c;
	if (!w->fn)
		return;
	if (k->stack_id >= 0 &&
	    bpf_map__lookup_elem(w->h->skel->maps.stacks, &k->stack_id, sizeof(k->stack_id), ips,
				 sizeof(ips), 0) == 0)
		while (n < HL_STACK_DEPTH && ips[n])
			n++;
	w->fn(ips, n, c, w->arg);
}

uint64_t health_faults(struct health *h, pid_t pid,
		       void (*fn)(const uint64_t *ips, int n, uint64_t count, void *arg), void *arg)
{
	struct health_fault_walk w = { h, (uint32_t)pid, 0, fn, arg };

	bpfload_each_key(h->skel->maps.faults, sizeof(struct hl_fault_key), health_fault_key, &w);
	return w.total;
}

uint64_t health_ooms(struct health *h, pid_t pid)
{
	uint32_t k = (uint32_t)pid;
	uint64_t v = 0;

	if (bpf_map__lookup_elem(h->skel->maps.ooms, &k, sizeof(k), &v, sizeof(v), 0) != 0)
		return 0;
	return v;
}

struct health_tcp_walk {
	const struct bpf_map *map;
	void (*fn)(const struct hl_tcp_key *k, const struct hl_tcp_val *v, void *arg);
	void *arg;
};

static void health_tcp_key(const void *key, void *arg)
{
	struct health_tcp_walk *w = arg;
	struct hl_tcp_val v;

	if (bpf_map__lookup_elem(w->map, key, sizeof(struct hl_tcp_key), &v, sizeof(v), 0) == 0)
		w->fn(key, &v, w->arg);
}

void health_tcp_each(struct health *h,
		     void (*fn)(const struct hl_tcp_key *k, const struct hl_tcp_val *v, void *arg),
		     void *arg)
{
	struct health_tcp_walk w = { h->skel->maps.tcp, fn, arg };

	bpfload_each_key(h->skel->maps.tcp, sizeof(struct hl_tcp_key), health_tcp_key, &w);
}

static int health_tcp_key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct hl_tcp_key));
}

static double health_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct health_sweep {
	struct health *h;
	enum health_tcp_fate (*fate)(const struct hl_tcp_key *k, void *arg);
	void (*take_fn)(const struct hl_tcp_key *k, const struct hl_tcp_val *v, void *arg);
	void *arg;
	double now;
	struct health_stray *stray; /* this sweep's strays */
	size_t nstray, cap;
	size_t deleted;
};

static void health_sweep_key(const void *key, void *arg)
{
	struct health_sweep *w = arg;
	const struct hl_tcp_key *k = key;
	int fd = bpf_map__fd(w->h->skel->maps.tcp);
	struct health_stray *was;
	struct hl_tcp_val v;

	switch (w->fate(k, w->arg)) {
	case HEALTH_TCP_KEEP:
		break;
	case HEALTH_TCP_TAKE:
		/* Atomic where the kernel has it for hash maps (5.14). */
		if (bpf_map_lookup_and_delete_elem(fd, k, &v) != 0) {
			if (bpf_map_lookup_elem(fd, k, &v) != 0)
				break;
			bpf_map_delete_elem(fd, k);
		}
		w->deleted++;
		w->take_fn(k, &v, w->arg);
		break;
	case HEALTH_TCP_STRAY:
		/*
		 * Deleted once stray at two sweeps HEALTH_STRAY_SECS apart: a
		 * process found by the caller's next discovery (or a socket
		 * opened after its fd scan) still gets it.
		 */
		was = w->h->nstray ? bsearch(k, w->h->stray, w->h->nstray, sizeof(*w->h->stray),
					     health_tcp_key_cmp)
				   : NULL;
		if (was && w->now - was->since >= HEALTH_STRAY_SECS) {
			if (bpf_map_delete_elem(fd, k) == 0)
				w->deleted++;
			break;
		}
		if (w->nstray == w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 64;
			struct health_stray *ns = realloc(w->stray, cap * sizeof(*ns));

			if (!ns)
				break; /* forgotten: its clock starts again next sweep */
			w->stray = ns;
			w->cap = cap;
		}
		w->stray[w->nstray].key = *k;
		w->stray[w->nstray++].since = was ? was->since : w->now;
		break;
	}
}

size_t health_tcp_sweep(struct health *h,
			enum health_tcp_fate (*fate)(const struct hl_tcp_key *k, void *arg),
			void (*take_fn)(const struct hl_tcp_key *k, const struct hl_tcp_val *v,
					void *arg),
			void *arg)
{
	struct health_sweep w = { h, fate, take_fn, arg, health_now(), NULL, 0, 0, 0 };

	bpfload_each_key(h->skel->maps.tcp, sizeof(struct hl_tcp_key), health_sweep_key, &w);
	if (w.nstray)
		qsort(w.stray, w.nstray, sizeof(*w.stray), health_tcp_key_cmp);
	free(h->stray);
	h->stray = w.stray;
	h->nstray = w.nstray;
	return w.deleted;
}

const char *health_drop_reason(struct health *h, unsigned r)
{
	if (r < HEALTH_MAX_REASONS && h->reasons[r])
		return h->reasons[r];
	return "UNKNOWN";
}

uint64_t health_drops(struct health *h, int why)
{
	return bpfload_percpu_sum(h->skel->maps.drops, (uint32_t)why);
}

bool health_rss(pid_t pid, uint64_t *bytes)
{
	long long kb;

	/* "VmRSS:     1234 kB" (absent for a zombie or a kernel thread) */
	if (!proc_status_value(pid, "VmRSS", &kb) || kb < 0) {
		*bytes = 0;
		return false;
	}
	*bytes = (uint64_t)kb * 1024;
	return true;
}

/* ---- one process over windows ---- */

#define HEALTH_MAX_FD_SAMPLES 4096

/* The figures differences are taken of, at one instant. */
struct health_snap {
	uint64_t t_ns;
	struct health_lat runq, reclaim;
	uint64_t faults_bpf, ooms;
	uint64_t majflt, schedstat_ns; /* /proc: kept from the last read once gone */
	struct cgroup_stat cg;
};

struct health_tcp_prev {
	struct hl_tcp_key key;
	uint64_t count;
};

struct health_target {
	struct health *h;
	struct health_target *next;
	pid_t pid;
	struct gobin *gb;
	uint64_t bias;
	bool exited;
	int gomaxprocs;
	struct health_snap base;        /* the window's start */
	uint64_t last_majflt, last_schedstat; /* last /proc reads */
	struct cgroup_stat last_cg;
	bool last_rss_known;
	uint64_t last_rss;
	/* fd samples of the window */
	int fd_n[HEALTH_MAX_FD_SAMPLES];
	uint64_t fd_t[HEALTH_MAX_FD_SAMPLES];
	size_t nfd;
	int last_kinds[FDINFO_NKINDS];
	/* socket inodes the process held during the window, and the TCP counts already given */
	struct fdinfo_inodes inodes;
	struct health_tcp_prev *tcp_prev;
	size_t ntcp_prev;
};

static uint64_t health_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* runtime.gomaxprocs of the live process (0 if unknown). */
static int health_gomaxprocs(struct health_target *t)
{
	uint64_t addr;
	char why[128];
	struct procmem pm;
	int32_t v = 0;

	if (!t->gb || !goglobals_gomaxprocs(t->gb, &addr, why, sizeof(why)))
		return 0;
	procmem_init(&pm, t->pid);
	if (!procmem_read(&pm, addr + t->bias, &v, sizeof(v)) || v < 1 || v > 65536)
		v = 0;
	procmem_close(&pm);
	return v;
}

/* The /proc counters, or the last ones read once the process is gone. */
static void health_read_proc(struct health_target *t)
{
	uint64_t v;
	struct cgroup_stat cg;

	if (t->exited)
		return;
	if (proc_majflt(t->pid, &v))
		t->last_majflt = v;
	if (proc_run_delay(t->pid, &v))
		t->last_schedstat = v;
	if (cgroup_read(t->pid, &cg))
		t->last_cg = cg;
	t->last_rss_known = health_rss(t->pid, &t->last_rss);
}

static void health_snapshot(struct health_target *t, struct health_snap *s)
{
	struct health *h = t->h;

	memset(s, 0, sizeof(*s));
	s->t_ns = health_now_ns();
	health_runq(h, t->pid, &s->runq);
	health_reclaim(h, t->pid, &s->reclaim);
	s->faults_bpf = health_faults(h, t->pid, NULL, NULL);
	s->ooms = health_ooms(h, t->pid);
	health_read_proc(t);
	s->majflt = t->last_majflt;
	s->schedstat_ns = t->last_schedstat;
	s->cg = t->last_cg;
}

static struct health_tcp_prev *health_tcp_prev_find(struct health_target *t,
						    const struct hl_tcp_key *k)
{
	for (size_t i = 0; i < t->ntcp_prev; i++)
		if (memcmp(&t->tcp_prev[i].key, k, sizeof(*k)) == 0)
			return &t->tcp_prev[i];
	return NULL;
}

/* Remember C as the count of K already given to the window. */
static void health_tcp_prev_set(struct health_target *t, const struct hl_tcp_key *k, uint64_t c)
{
	struct health_tcp_prev *p = health_tcp_prev_find(t, k), *n;

	if (p) {
		p->count = c;
		return;
	}
	n = realloc(t->tcp_prev, (t->ntcp_prev + 1) * sizeof(*n));
	if (!n)
		return;
	t->tcp_prev = n;
	t->tcp_prev[t->ntcp_prev].key = *k;
	t->tcp_prev[t->ntcp_prev].count = c;
	t->ntcp_prev++;
}

/* The TCP counts of a window, by kind, before drop reasons are classified. */
struct health_tcp_sum {
	struct health_target *t;
	struct health_report *r; /* NULL: only move the baseline */
	uint64_t by_reason[HEALTH_MAX_REASONS];
};

static void health_tcp_cb(const struct hl_tcp_key *k, const struct hl_tcp_val *v, void *arg)
{
	struct health_tcp_sum *s = arg;
	struct health_tcp_prev *p;
	struct health_report *r = s->r;
	uint64_t d;

	if (!fdinfo_inodes_has(&s->t->inodes, k->ino))
		return;
	p = health_tcp_prev_find(s->t, k);
	d = v->count - (p ? p->count : 0);
	health_tcp_prev_set(s->t, k, v->count);
	if (!d || !r)
		return;
	switch (k->kind) {
	case HL_TCP_RETRANS:
		r->tcp_retrans += d;
		if (d > r->tcp_top_count) {
			r->tcp_top_count = d;
			r->tcp_top = *v;
			r->tcp_top_state = k->sub;
		}
		break;
	case HL_TCP_DROP:
		if (k->sub < HEALTH_MAX_REASONS)
			s->by_reason[k->sub] += d;
		break;
	case HL_TCP_STATE:
		r->tcp_states += d;
		break;
	}
}

/* Socket-level receive drops: the reasons a receive queue or backlog gives. */
static bool health_rcvq_reason(const char *r)
{
	return strstr(r, "RCVBUFF") || strstr(r, "BACKLOG") || strstr(r, "PROTO_MEM") ||
	       strstr(r, "SOCKET_FILTER") || strstr(r, "RMEM");
}

static void health_tcp_report(struct health_target *t, struct health_report *r)
{
	struct health_tcp_sum *s = calloc(1, sizeof(*s));

	if (!s)
		return;
	s->t = t;
	s->r = r;
	health_tcp_each(t->h, health_tcp_cb, s);
	for (unsigned i = 0; r && i < HEALTH_MAX_REASONS; i++) {
		const char *name;

		if (!s->by_reason[i])
			continue;
		name = health_drop_reason(t->h, i);
		if (strstr(name, "LISTEN_OVERFLOW"))
			r->tcp_listen_overflows += s->by_reason[i];
		else if (health_rcvq_reason(name))
			r->tcp_rcvq_drops += s->by_reason[i];
		else
			r->tcp_other_drops += s->by_reason[i];
		if (r->nreasons < HEALTH_REPORT_REASONS)
			r->reasons[r->nreasons++] = (struct health_reason){ name, s->by_reason[i] };
	}
	free(s);
}

static void health_thr_cb(uint32_t tid, uint64_t count, uint64_t total_ns, void *arg)
{
	struct health_report *r = arg;
	struct health_thread *top = r->top_threads;

	(void)count;
	r->runq_threads++;
	for (int i = 0; i < HEALTH_TOP_THREADS; i++) {
		if (total_ns > top[i].ns) {
			memmove(&top[i + 1], &top[i],
				(size_t)(HEALTH_TOP_THREADS - 1 - i) * sizeof(top[0]));
			top[i] = (struct health_thread){ tid, total_ns };
			break;
		}
	}
}

static void health_fault_cb(const uint64_t *ips, int n, uint64_t count, void *arg)
{
	struct health_report *r = arg;

	if (count > r->fault_stack_count && n > 0) {
		r->fault_stack_count = count;
		r->fault_stack_n = (size_t)n;
		memcpy(r->fault_stack, ips, (size_t)n * sizeof(*ips));
	}
}

void health_target_sample(struct health_target *t)
{
	int n;

	if (t->exited)
		return;
	n = fdinfo_scan(t->pid, t->last_kinds, &t->inodes);
	if (n < 0)
		return;
	health_read_proc(t);
	if (t->nfd >= HEALTH_MAX_FD_SAMPLES)
		return;
	t->fd_t[t->nfd] = health_now_ns();
	t->fd_n[t->nfd] = n;
	t->nfd++;
}

void health_target_rebase(struct health_target *t)
{
	struct health_tcp_sum s = { .t = t };

	health_snapshot(t, &t->base);
	t->nfd = 0;
	health_target_sample(t);
	/*
	 * TCP events are counted by socket from the moment the programs were
	 * attached: those of the target's sockets until now are not the
	 * window's.
	 */
	health_tcp_each(t->h, health_tcp_cb, &s);
}

struct health_target *health_target_new(struct health *h, pid_t pid, struct gobin *gb,
					 uint64_t bias)
{
	struct health_target *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->h = h;
	t->pid = pid;
	t->gb = gb;
	t->bias = bias;
	health_add_pid(h, pid);
	t->gomaxprocs = health_gomaxprocs(t);
	health_target_rebase(t);
	t->next = h->targets;
	h->targets = t;
	return t;
}

void health_target_exited(struct health_target *t)
{
	t->exited = true;
}

/* Least-squares slope of the fd count over time (fds per second). */
static double health_fd_slope(const struct health_target *t)
{
	double st = 0, sn = 0, stt = 0, stn = 0, den;
	size_t n = t->nfd;

	if (n < 2)
		return 0;
	for (size_t i = 0; i < n; i++) {
		double x = (double)(t->fd_t[i] - t->fd_t[0]) / 1e9;

		st += x;
		sn += t->fd_n[i];
		stt += x * x;
		stn += x * t->fd_n[i];
	}
	den = (double)n * stt - st * st;
	return den > 0 ? ((double)n * stn - st * sn) / den : 0;
}

static void health_file_nr(uint64_t *files, uint64_t *max)
{
	FILE *f = fopen("/proc/sys/fs/file-nr", "re");

	*files = *max = 0;
	if (!f)
		return;
	if (fscanf(f, "%" SCNu64 " %*u %" SCNu64, files, max) != 2)
		*files = *max = 0;
	fclose(f);
}

/*
 * NOW - BASE of a counter read from /proc or cgroupfs, 0 if it went back:
 * schedstat is summed over live threads (an exited thread takes its
 * run_delay away), and a process can move to another cgroup.
 */
static uint64_t health_sub(uint64_t now, uint64_t base)
{
	return now > base ? now - base : 0;
}

void health_target_report(struct health_target *t, struct health_report *r)
{
	struct health_snap now, *b = &t->base;
	struct hist rh;

	memset(r, 0, sizeof(*r));
	health_target_sample(t);
	health_snapshot(t, &now);
	r->pid = t->pid;
	r->exited = t->exited;
	r->seconds = (double)(now.t_ns - b->t_ns) / 1e9;

	r->runq_measured = t->h->runq_measured;
	r->runq_ns = now.runq.total_ns - b->runq.total_ns;
	r->runq_waits = now.runq.count - b->runq.count;
	rh = now.runq.h;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		rh.b[i] -= b->runq.h.b[i];
	rh.count = r->runq_waits;
	r->runq_p99_ns = hist_quantile(&rh, 0.99);
	r->runq_max_ns = now.runq.max_ns;
	r->schedstat_ns = health_sub(now.schedstat_ns, b->schedstat_ns);
	health_runq_threads(t->h, t->pid, health_thr_cb, r);

	r->cg = now.cg;
	r->cfs_periods = health_sub(now.cg.nr_periods, b->cg.nr_periods);
	r->cfs_throttled = health_sub(now.cg.nr_throttled, b->cg.nr_throttled);
	r->cfs_throttled_us = health_sub(now.cg.throttled_us, b->cg.throttled_us);
	r->gomaxprocs = t->gomaxprocs;

	health_tcp_report(t, r);

	r->faults_traced = t->h->faults_traced;
	r->faults_bpf = now.faults_bpf - b->faults_bpf;
	r->majflt_proc = health_sub(now.majflt, b->majflt);
	health_faults(t->h, t->pid, health_fault_cb, r);
	r->reclaim_ns = now.reclaim.total_ns - b->reclaim.total_ns;
	r->reclaims = now.reclaim.count - b->reclaim.count;
	r->ooms = (now.ooms - b->ooms) + health_sub(now.cg.oom_kills, b->cg.oom_kills);
	r->rss_known = !t->exited && t->last_rss_known;
	r->rss_bytes = r->rss_known ? t->last_rss : 0;

	r->fd_count = t->exited || !t->nfd ? -1 : t->fd_n[t->nfd - 1];
	memcpy(r->fd_kinds, t->last_kinds, sizeof(r->fd_kinds));
	r->fd_samples = t->nfd;
	r->fd_first = t->nfd ? t->fd_n[0] : 0;
	r->fd_last = t->nfd ? t->fd_n[t->nfd - 1] : 0;
	r->fd_only_grew = true;
	for (size_t i = 1; i < t->nfd; i++)
		if (t->fd_n[i] < t->fd_n[i - 1])
			r->fd_only_grew = false;
	r->fd_growth_per_s = health_fd_slope(t);
	health_file_nr(&r->system_files, &r->system_files_max);

	/* The next window starts here. */
	t->base = now;
	t->nfd = 0;
	health_target_sample(t);
}

void health_target_free(struct health_target *t, bool forget)
{
	struct health_target **pp;

	if (!t)
		return;
	for (pp = &t->h->targets; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	if (forget)
		health_remove_pid(t->h, t->pid);
	fdinfo_inodes_free(&t->inodes);
	free(t->tcp_prev);
	free(t);
}

static enum health_tcp_fate health_targets_fate(const struct hl_tcp_key *k, void *arg)
{
	struct health *h = arg;

	for (struct health_target *t = h->targets; t; t = t->next)
		if (!t->exited && fdinfo_inodes_has(&t->inodes, k->ino))
			return HEALTH_TCP_KEEP;
	return HEALTH_TCP_STRAY;
}

size_t health_tcp_sweep_targets(struct health *h)
{
	return health_tcp_sweep(h, health_targets_fate, NULL, h);
}
