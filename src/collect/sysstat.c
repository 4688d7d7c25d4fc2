/*
 * sysstat: user side of syscalls.bpf.c (see sysstat.h).
 *
 * The kernel keeps cumulative counters; every read turns them into
 * deltas against the previous read kept here, so intervals need no map
 * deletes (which would race with the kernel's updates).
 */
#include "sysstat.h"

#include "syscalls.skel.h"

#include "bpfload.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

struct sysstat_prev {
	struct sc_key key;
	uint64_t count, errors, total_ns, max_ns, min_ns;
	uint32_t hist[SC_HIST_BUCKETS];
	bool used;
};

struct sysstat_prev_err {
	struct sc_errkey key;
	uint64_t count;
	bool used;
};

struct sysstat {
	struct syscalls_bpf *skel;
	struct ring_buffer *rb;
	sysstat_event_fn fn;
	void *arg;
	bool task_storage;
	struct sysstat_prev *prev;
	size_t prev_cap;
	struct sysstat_prev_err *preverr;
	size_t preverr_cap;
	struct sysstat_row *rows;
	size_t rows_cap;
	struct sysstat_err *errs;
	size_t errs_cap;
};

static bool sysstat_verbose;

static int sysstat_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!sysstat_verbose && level != LIBBPF_WARN)
		return 0;
	if (!sysstat_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* tracefs holds the tracepoint ids libbpf attaches by; mount it if missing. */
static int sysstat_tracefs(char *err, size_t errlen)
{
	if (access("/sys/kernel/tracing/events/raw_syscalls", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events/raw_syscalls", F_OK) == 0)
		return 0;
	if (access("/sys/kernel/tracing/events", F_OK) != 0)
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	if (access("/sys/kernel/tracing/events/raw_syscalls", F_OK) == 0)
		return 0;
	if (access("/sys/kernel/tracing/events", F_OK) == 0)
		snprintf(err, errlen, "the kernel has no raw_syscalls tracepoints "
				      "(CONFIG_FTRACE_SYSCALLS)");
	else
		snprintf(err, errlen, "tracefs is not mounted and could not be "
				      "(mount -t tracefs tracefs /sys/kernel/tracing)");
	return -1;
}

static uint64_t sysstat_key_hash(const void *k, size_t n)
{
	const uint8_t *p = k;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static int sysstat_on_event(void *ctx, void *data, size_t len)
{
	struct sysstat *s = ctx;

	if (len >= sizeof(struct sc_event) && s->fn)
		s->fn(data, s->arg);
	return 0;
}

int sysstat_open(struct sysstat **out, const struct sysstat_opts *o, sysstat_event_fn fn,
		 void *arg, char *err, size_t errlen)
{
	struct sysstat *s;
	int rc;

	*out = NULL;
	sysstat_verbose = o->verbose;
	libbpf_set_print(sysstat_libbpf_print);
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(err, errlen, "the kernel has no BTF (/sys/kernel/btf/vmlinux): "
				      "syscall tracing needs CONFIG_DEBUG_INFO_BTF");
		return -1;
	}
	if (sysstat_tracefs(err, errlen) != 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->fn = fn;
	s->arg = arg;
	s->skel = syscalls_bpf__open();
	if (!s->skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		free(s);
		return -1;
	}
	s->skel->rodata->filter_nr = o->filter;
	s->skel->rodata->by = (uint32_t)o->by;
	s->skel->rodata->slow_ns = o->slow_ns;
	s->skel->rodata->net_events = o->net_events;
	s->skel->rodata->need_args = o->slow_ns || o->net_events;
	s->task_storage = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 1;
	bpf_program__set_autoload(s->skel->progs.sys_enter_ts, s->task_storage);
	bpf_program__set_autoload(s->skel->progs.sys_exit_ts, s->task_storage);
	bpf_program__set_autoload(s->skel->progs.sys_enter_hash, !s->task_storage);
	bpf_program__set_autoload(s->skel->progs.sys_exit_hash, !s->task_storage);
	bpf_map__set_autocreate(s->skel->maps.starts, s->task_storage);
	if (!s->task_storage)
		bpf_map__set_max_entries(s->skel->maps.starts_hash, 65536);
	else
		bpf_map__set_max_entries(s->skel->maps.starts_hash, 1);
	rc = syscalls_bpf__load(s->skel);
	if (rc) {
		if (rc == -EPERM || errno == EPERM)
			snprintf(err, errlen, "permission denied loading BPF programs "
					      "(run as root, or with CAP_BPF and CAP_PERFMON)");
		else
			snprintf(err, errlen, "cannot load the BPF programs: %s (run with -v for "
					      "the verifier log)", strerror(-rc));
		sysstat_close(s);
		return -1;
	}
	for (uint32_t nr = 0; o->spec && nr < SC_NR_MAX; nr++) {
		if (o->spec[nr])
			bpf_map__update_elem(s->skel->maps.argspec, &nr, sizeof(nr), &o->spec[nr],
					     sizeof(o->spec[nr]), BPF_ANY);
	}
	rc = syscalls_bpf__attach(s->skel);
	if (rc) {
		snprintf(err, errlen, "cannot attach to the raw_syscalls tracepoints: %s",
			 strerror(-rc));
		sysstat_close(s);
		return -1;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), sysstat_on_event, s, NULL);
	if (!s->rb) {
		snprintf(err, errlen, "cannot open the event ring buffer: %s", strerror(errno));
		sysstat_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void sysstat_close(struct sysstat *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	syscalls_bpf__destroy(s->skel);
	free(s->prev);
	free(s->preverr);
	free(s->rows);
	free(s->errs);
	free(s);
}

/* Rewrite target slot I from the targets map (see SC_TSLOTS). */
static void sysstat_tslot(struct sysstat *s, uint32_t i)
{
	int fd = bpf_map__fd(s->skel->maps.targets);
	uint32_t key, next, *kp = NULL, v = 0;

	while (bpf_map_get_next_key(fd, kp, &next) == 0) {
		key = next;
		kp = &key;
		if ((key & (SC_TSLOTS - 1)) == i)
			v = v ? SC_TSLOT_SHARED : key;
	}
	bpf_map__update_elem(s->skel->maps.tslots, &i, sizeof(i), &v, sizeof(v), BPF_ANY);
}

int sysstat_add_pid(struct sysstat *s, pid_t pid, int goid_off)
{
	uint32_t k = (uint32_t)pid;
	struct sc_target t = { .goid_off = goid_off };
	int rc = bpf_map__update_elem(s->skel->maps.targets, &k, sizeof(k), &t, sizeof(t),
				      BPF_ANY);

	if (rc == 0)
		sysstat_tslot(s, k & (SC_TSLOTS - 1));
	return rc;
}

int sysstat_remove_pid(struct sysstat *s, pid_t pid)
{
	uint32_t k = (uint32_t)pid;
	int rc = bpf_map__delete_elem(s->skel->maps.targets, &k, sizeof(k), 0);

	sysstat_tslot(s, k & (SC_TSLOTS - 1));
	return rc;
}

int sysstat_poll(struct sysstat *s, int timeout_ms)
{
	return ring_buffer__poll(s->rb, timeout_ms);
}

/* The previous reading of KEY (added, zeroed, if new); NULL when out of memory. */
static struct sysstat_prev *sysstat_prev_get(struct sysstat *s, const struct sc_key *key)
{
	size_t j;

	if (!s->prev_cap) {
		s->prev_cap = 1024;
		s->prev = calloc(s->prev_cap, sizeof(*s->prev));
		if (!s->prev)
			return NULL;
	}
	for (;;) {
		size_t used = 0;

		for (j = sysstat_key_hash(key, sizeof(*key)) & (s->prev_cap - 1);
		     s->prev[j].used; j = (j + 1) & (s->prev_cap - 1), used++) {
			if (memcmp(&s->prev[j].key, key, sizeof(*key)) == 0)
				return &s->prev[j];
			if (used > s->prev_cap / 2)
				break;
		}
		if (!s->prev[j].used && used <= s->prev_cap / 2) {
			memset(&s->prev[j], 0, sizeof(s->prev[j]));
			s->prev[j].used = true;
			s->prev[j].key = *key;
			return &s->prev[j];
		}
		/* Too full: double and rehash. */
		size_t ncap = s->prev_cap * 2;
		struct sysstat_prev *n = calloc(ncap, sizeof(*n));

		if (!n)
			return NULL;
		for (size_t i = 0; i < s->prev_cap; i++) {
			if (!s->prev[i].used)
				continue;
			size_t k = sysstat_key_hash(&s->prev[i].key, sizeof(struct sc_key)) & (ncap - 1);

			while (n[k].used)
				k = (k + 1) & (ncap - 1);
			n[k] = s->prev[i];
		}
		free(s->prev);
		s->prev = n;
		s->prev_cap = ncap;
	}
}

static struct sysstat_prev_err *sysstat_preverr_get(struct sysstat *s,
						    const struct sc_errkey *key)
{
	/* Errno keys are few: a linear table is enough. */
	for (size_t i = 0; i < s->preverr_cap; i++)
		if (s->preverr[i].used && memcmp(&s->preverr[i].key, key, sizeof(*key)) == 0)
			return &s->preverr[i];
	for (size_t i = 0; i < s->preverr_cap; i++)
		if (!s->preverr[i].used) {
			s->preverr[i].used = true;
			s->preverr[i].key = *key;
			s->preverr[i].count = 0;
			return &s->preverr[i];
		}
	size_t ncap = s->preverr_cap ? s->preverr_cap * 2 : 64;
	struct sysstat_prev_err *n = realloc(s->preverr, ncap * sizeof(*n));

	if (!n)
		return NULL;
	memset(n + s->preverr_cap, 0, (ncap - s->preverr_cap) * sizeof(*n));
	s->preverr = n;
	n += s->preverr_cap;
	s->preverr_cap = ncap;
	n->used = true;
	n->key = *key;
	return n;
}

int sysstat_read(struct sysstat *s, struct sysstat_row **rows, size_t *nrows,
		 struct sysstat_err **errs, size_t *nerrs)
{
	int fd = bpf_map__fd(s->skel->maps.stats);
	struct sc_key key, next, *kp = NULL;
	struct sc_stats v;
	size_t n = 0, ne = 0;

	while (bpf_map_get_next_key(fd, kp, &next) == 0) {
		struct sysstat_prev *p;
		struct sysstat_row *r;

		key = next;
		kp = &key;
		if (bpf_map_lookup_elem(fd, &key, &v) != 0)
			continue;
		p = sysstat_prev_get(s, &key);
		if (!p)
			return -1;
		if (v.count == p->count)
			continue;
		if (n == s->rows_cap) {
			size_t cap = s->rows_cap ? s->rows_cap * 2 : 128;
			struct sysstat_row *nr = realloc(s->rows, cap * sizeof(*nr));

			if (!nr)
				return -1;
			s->rows = nr;
			s->rows_cap = cap;
		}
		r = &s->rows[n++];
		memset(r, 0, sizeof(*r));
		r->tgid = key.tgid;
		r->nr = key.nr;
		r->id = key.id;
		r->count = v.count - p->count;
		r->errors = v.errors - p->errors;
		r->total_ns = v.total_ns - p->total_ns;
		int lo = -1, hi = -1;

		for (int i = 0; i < SC_HIST_BUCKETS; i++) {
			uint32_t d = v.hist[i] - p->hist[i];

			if (!d)
				continue;
			r->h.b[i] = d;
			r->h.count += d;
			if (lo < 0)
				lo = i;
			hi = i;
		}
		/*
		 * The kernel keeps the max and min since the start. A new max (min)
		 * happened in this interval and is exact; otherwise the interval's
		 * own lies in its highest (lowest) bucket, within the overall ones.
		 */
		if (v.max_ns > p->max_ns || p->count == 0 || hi < 0) {
			r->max_ns = v.max_ns;
		} else {
			uint64_t top = hi + 1 < SC_HIST_BUCKETS ? hist_bucket_low((unsigned)hi + 1) - 1
							      : v.max_ns;

			r->max_ns = top < v.max_ns ? top : v.max_ns;
		}
		if (p->count == 0 || (v.min_ns && v.min_ns < p->min_ns) || lo < 0) {
			r->h.min = v.min_ns;
		} else {
			uint64_t low = hist_bucket_low((unsigned)lo);

			r->h.min = low > v.min_ns ? low : v.min_ns;
		}
		r->h.sum = r->total_ns;
		r->h.max = r->max_ns;
		p->max_ns = v.max_ns;
		p->min_ns = v.min_ns;
		p->count = v.count;
		p->errors = v.errors;
		p->total_ns = v.total_ns;
		memcpy(p->hist, v.hist, sizeof(p->hist));
	}

	fd = bpf_map__fd(s->skel->maps.errs);
	struct sc_errkey ek, enext, *ekp = NULL;
	uint64_t c;

	while (bpf_map_get_next_key(fd, ekp, &enext) == 0) {
		struct sysstat_prev_err *p;

		ek = enext;
		ekp = &ek;
		if (bpf_map_lookup_elem(fd, &ek, &c) != 0)
			continue;
		p = sysstat_preverr_get(s, &ek);
		if (!p)
			return -1;
		if (c == p->count)
			continue;
		if (ne == s->errs_cap) {
			size_t cap = s->errs_cap ? s->errs_cap * 2 : 64;
			struct sysstat_err *nerr = realloc(s->errs, cap * sizeof(*nerr));

			if (!nerr)
				return -1;
			s->errs = nerr;
			s->errs_cap = cap;
		}
		s->errs[ne].tgid = ek.tgid;
		s->errs[ne].nr = ek.nr;
		s->errs[ne].id = ek.id;
		s->errs[ne].err = ek.err;
		s->errs[ne].count = c - p->count;
		p->count = c;
		ne++;
	}
	*rows = s->rows;
	*nrows = n;
	*errs = s->errs;
	*nerrs = ne;
	return 0;
}

uint64_t sysstat_drops(struct sysstat *s, int why)
{
	return bpfload_percpu_sum(s->skel->maps.drops, (uint32_t)why);
}

const char *sysstat_start_store(const struct sysstat *s)
{
	return s->task_storage ? "task storage" : "hash";
}
