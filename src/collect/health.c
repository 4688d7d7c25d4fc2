/*
 * health: load health.bpf.c, attach each signal on its own (so one
 * missing kernel feature costs one signal, not all), and read the maps.
 */
#include "health.h"

#include "health.skel.h"

#include "bpfutil.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdarg.h>
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
	struct bpf_link *links[16];
	size_t nlinks;
	int *perf_fds;
	int ncpus;
	char *reasons[HEALTH_MAX_REASONS];
	/* TCP entries no counted process held at the last sweep, sorted by key. */
	struct health_stray *stray;
	size_t nstray;
};

static bool health_verbose;

static int health_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (!health_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void health_missing(char *missing, size_t len, const char *what)
{
	size_t n = strlen(missing);

	snprintf(missing + n, len - n, "%s%s", n ? ", " : "", what);
}

/* Names of enum skb_drop_reason values, from the kernel's BTF. */
static void health_load_reasons(struct health *h)
{
	struct btf *btf = btf__load_vmlinux_btf();
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
	btf__free(btf);
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

/* Open the skeleton with only the programs SIGS needs (and BTF ones if BTF_TP). */
static struct health_bpf *health_skel(unsigned sigs, bool btf_tp)
{
	struct health_bpf *s = health_bpf__open();
	bool runq = (sigs & HEALTH_SIG_RUNQ) && btf_tp;

	if (!s)
		return NULL;
	s->rodata->hl_per_thread = (sigs & HEALTH_SIG_RUNQ_THREADS) != 0;
	bpf_program__set_autoload(s->progs.hl_sched_wakeup, runq);
	bpf_program__set_autoload(s->progs.hl_sched_wakeup_new, runq);
	bpf_program__set_autoload(s->progs.hl_sched_switch, runq);
	bpf_program__set_autoload(s->progs.hl_reclaim_begin, (sigs & HEALTH_SIG_RECLAIM) != 0);
	bpf_program__set_autoload(s->progs.hl_reclaim_end, (sigs & HEALTH_SIG_RECLAIM) != 0);
	bpf_program__set_autoload(s->progs.hl_major_fault, (sigs & HEALTH_SIG_FAULTS) != 0);
	bpf_program__set_autoload(s->progs.hl_oom, (sigs & HEALTH_SIG_OOM) != 0);
	bpf_program__set_autoload(s->progs.hl_tcp_retransmit,
				  (sigs & HEALTH_SIG_TCP_RETRANS) && btf_tp);
	bpf_program__set_autoload(s->progs.hl_kfree_skb, (sigs & HEALTH_SIG_TCP_DROPS) != 0);
	bpf_program__set_autoload(s->progs.hl_set_state, (sigs & HEALTH_SIG_TCP_STATES) != 0);
	return s;
}

int health_open(struct health **out, unsigned sigs, bool verbose, char *missing,
		size_t missinglen, char *err, size_t errlen)
{
	struct health *h;
	struct {
		struct bpf_program *prog;
		const char *what;
	} progs[9];
	int rc;

	*out = NULL;
	missing[0] = 0;
	health_verbose = verbose;
	libbpf_set_print(health_libbpf_print);
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(err, errlen, "the kernel has no BTF (/sys/kernel/btf/vmlinux): "
				      "health tracing needs CONFIG_DEBUG_INFO_BTF");
		return -1;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	h->skel = health_skel(sigs, true);
	if (!h->skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		free(h);
		return -1;
	}
	rc = health_bpf__load(h->skel);
	if (rc && (sigs & (HEALTH_SIG_RUNQ | HEALTH_SIG_TCP_RETRANS))) {
		/* Retry without the BTF tracepoints (kernels without them). */
		health_bpf__destroy(h->skel);
		h->skel = health_skel(sigs, false);
		if (h->skel) {
			rc = health_bpf__load(h->skel);
			if (rc == 0)
				health_missing(missing, missinglen,
					       "run-queue delay and TCP retransmits (BTF tracepoints)");
		}
	}
	if (rc || !h->skel) {
		if (rc == -EPERM || errno == EPERM)
			snprintf(err, errlen, "permission denied loading BPF programs "
					      "(run as root, or with CAP_BPF and CAP_PERFMON)");
		else
			snprintf(err, errlen, "cannot load the BPF programs: %s (run with -v)",
				 strerror(rc ? -rc : errno));
		health_close(h);
		return -1;
	}
	progs[0].prog = h->skel->progs.hl_sched_wakeup;
	progs[0].what = "run-queue delay (sched_wakeup)";
	progs[1].prog = h->skel->progs.hl_sched_wakeup_new;
	progs[1].what = "run-queue delay (sched_wakeup_new)";
	progs[2].prog = h->skel->progs.hl_sched_switch;
	progs[2].what = "run-queue delay (sched_switch)";
	progs[3].prog = h->skel->progs.hl_reclaim_begin;
	progs[3].what = "direct reclaim";
	progs[4].prog = h->skel->progs.hl_reclaim_end;
	progs[4].what = "direct reclaim (end)";
	progs[5].prog = h->skel->progs.hl_oom;
	progs[5].what = "OOM kills (oom:mark_victim)";
	progs[6].prog = h->skel->progs.hl_tcp_retransmit;
	progs[6].what = "TCP retransmits";
	progs[7].prog = h->skel->progs.hl_kfree_skb;
	progs[7].what = "TCP drops (skb:kfree_skb)";
	progs[8].prog = h->skel->progs.hl_set_state;
	progs[8].what = "TCP state changes";
	for (size_t i = 0; i < 9; i++) {
		struct bpf_link *l;

		if (!bpf_program__autoload(progs[i].prog))
			continue;
		l = bpf_program__attach(progs[i].prog);
		if (!l) {
			health_missing(missing, missinglen, progs[i].what);
			continue;
		}
		h->links[h->nlinks++] = l;
	}
	if ((sigs & HEALTH_SIG_FAULTS) && !health_attach_faults(h))
		health_missing(missing, missinglen,
			       "major-fault stacks (perf software events; counts still come from /proc)");
	health_load_reasons(h);
	*out = h;
	return 0;
}

void health_close(struct health *h)
{
	if (!h)
		return;
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
	uint32_t k = (uint32_t)pid;
	uint8_t one = 1;

	return bpf_map__update_elem(h->skel->maps.targets, &k, sizeof(k), &one, sizeof(one),
				    BPF_ANY);
}

/*
 * Every key of map FD (KSZ bytes each) into a malloc'd array, so that the
 * caller can delete while it walks: deleting the key get_next_key stands
 * on restarts a hash map's walk from the beginning.
 */
static void *health_keys(int fd, size_t ksz, size_t max, size_t *n)
{
	unsigned char *keys = malloc((max ? max : 1) * ksz);
	unsigned char cur[64];
	const void *kp = NULL;

	*n = 0;
	if (!keys || ksz > sizeof(cur))
		return keys;
	while (*n < max && bpf_map_get_next_key(fd, kp, keys + *n * ksz) == 0) {
		memcpy(cur, keys + *n * ksz, ksz);
		kp = cur;
		(*n)++;
	}
	return keys;
}

void health_remove_pid(struct health *h, pid_t pid)
{
	uint32_t k = (uint32_t)pid, *tids;
	struct hl_fault_key *fk;
	int fd;
	size_t n;

	bpf_map__delete_elem(h->skel->maps.targets, &k, sizeof(k), 0);
	bpf_map__delete_elem(h->skel->maps.runq, &k, sizeof(k), 0);
	bpf_map__delete_elem(h->skel->maps.reclaim, &k, sizeof(k), 0);
	bpf_map__delete_elem(h->skel->maps.ooms, &k, sizeof(k), 0);
	/* Its threads' run-queue totals and its fault stacks. */
	fd = bpf_map__fd(h->skel->maps.runq_tid);
	tids = health_keys(fd, sizeof(*tids), bpf_map__max_entries(h->skel->maps.runq_tid), &n);
	for (size_t i = 0; tids && i < n; i++) {
		struct hl_tid v;

		if (bpf_map_lookup_elem(fd, &tids[i], &v) == 0 && v.tgid == k)
			bpf_map_delete_elem(fd, &tids[i]);
	}
	free(tids);
	fd = bpf_map__fd(h->skel->maps.faults);
	fk = health_keys(fd, sizeof(*fk), bpf_map__max_entries(h->skel->maps.faults), &n);
	for (size_t i = 0; fk && i < n; i++)
		if (fk[i].tgid == k)
			bpf_map_delete_elem(fd, &fk[i]);
	free(fk);
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

void health_runq_threads(struct health *h, pid_t pid,
			 void (*fn)(uint32_t tid, uint64_t count, uint64_t total_ns, void *arg),
			 void *arg)
{
	int fd = bpf_map__fd(h->skel->maps.runq_tid);
	uint32_t key, next, *kp = NULL;
	struct hl_tid v;

	while (bpf_map_get_next_key(fd, kp, &next) == 0) {
		key = next;
		kp = &key;
		if (bpf_map_lookup_elem(fd, &key, &v) == 0 && v.tgid == (uint32_t)pid)
			fn(key, v.count, v.total_ns, arg);
	}
}

uint64_t health_faults(struct health *h, pid_t pid,
		       void (*fn)(const uint64_t *ips, int n, uint64_t count, void *arg), void *arg)
{
	int fd = bpf_map__fd(h->skel->maps.faults);
	int sfd = bpf_map__fd(h->skel->maps.stacks);
	struct hl_fault_key key, next, *kp = NULL;
	uint64_t c, total = 0, ips[HL_STACK_DEPTH];

	while (bpf_map_get_next_key(fd, kp, &next) == 0) {
		int n = 0;

		key = next;
		kp = &key;
		if (key.tgid != (uint32_t)pid || bpf_map_lookup_elem(fd, &key, &c) != 0)
			continue;
		total += c;
		if (!fn)
			continue;
		if (key.stack_id >= 0 && bpf_map_lookup_elem(sfd, &key.stack_id, ips) == 0)
			while (n < HL_STACK_DEPTH && ips[n])
				n++;
		fn(ips, n, c, arg);
	}
	return total;
}

uint64_t health_ooms(struct health *h, pid_t pid)
{
	uint32_t k = (uint32_t)pid;
	uint64_t v = 0;

	if (bpf_map__lookup_elem(h->skel->maps.ooms, &k, sizeof(k), &v, sizeof(v), 0) != 0)
		return 0;
	return v;
}

void health_tcp_each(struct health *h,
		     void (*fn)(const struct hl_tcp_key *k, const struct hl_tcp_val *v, void *arg),
		     void *arg)
{
	int fd = bpf_map__fd(h->skel->maps.tcp);
	struct hl_tcp_key key, next, *kp = NULL;
	struct hl_tcp_val v;

	while (bpf_map_get_next_key(fd, kp, &next) == 0) {
		key = next;
		kp = &key;
		if (bpf_map_lookup_elem(fd, &key, &v) == 0)
			fn(&key, &v, arg);
	}
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

size_t health_tcp_sweep(struct health *h,
			enum health_tcp_fate (*fate)(const struct hl_tcp_key *k, void *arg),
			void (*take_fn)(const struct hl_tcp_key *k, const struct hl_tcp_val *v,
					void *arg),
			void *arg)
{
	int fd = bpf_map__fd(h->skel->maps.tcp);
	size_t n, nstray = 0, deleted = 0;
	struct hl_tcp_key *keys =
		health_keys(fd, sizeof(*keys), bpf_map__max_entries(h->skel->maps.tcp), &n);
	struct health_stray *stray = malloc((n ? n : 1) * sizeof(*stray));
	double now = health_now();

	if (!keys || !stray) {
		free(keys);
		free(stray);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct health_stray *was;
		struct hl_tcp_val v;

		switch (fate(&keys[i], arg)) {
		case HEALTH_TCP_KEEP:
			break;
		case HEALTH_TCP_TAKE:
			/* Atomic where the kernel has it for hash maps (5.14). */
			if (bpf_map_lookup_and_delete_elem(fd, &keys[i], &v) != 0) {
				if (bpf_map_lookup_elem(fd, &keys[i], &v) != 0)
					break;
				bpf_map_delete_elem(fd, &keys[i]);
			}
			deleted++;
			take_fn(&keys[i], &v, arg);
			break;
		case HEALTH_TCP_STRAY:
			/*
			 * Deleted once stray at two sweeps HEALTH_STRAY_SECS
			 * apart: a process found by the caller's next discovery
			 * (or a socket opened after its fd scan) still gets it.
			 */
			was = h->nstray ? bsearch(&keys[i], h->stray, h->nstray, sizeof(*h->stray),
						  health_tcp_key_cmp)
					: NULL;
			if (was && now - was->since >= HEALTH_STRAY_SECS) {
				if (bpf_map_delete_elem(fd, &keys[i]) == 0)
					deleted++;
				break;
			}
			stray[nstray].key = keys[i];
			stray[nstray++].since = was ? was->since : now;
			break;
		}
	}
	qsort(stray, nstray, sizeof(*stray), health_tcp_key_cmp);
	free(h->stray);
	h->stray = stray;
	h->nstray = nstray;
	free(keys);
	return deleted;
}

const char *health_drop_reason(struct health *h, unsigned r)
{
	if (r < HEALTH_MAX_REASONS && h->reasons[r])
		return h->reasons[r];
	return "UNKNOWN";
}

uint64_t health_drops(struct health *h, int why)
{
	return bpfutil_percpu_sum(h->skel->maps.drops, (uint32_t)why);
}
