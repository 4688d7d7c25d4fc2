/*
 * sysstat: user side of syscalls.bpf.c (see sysstat.h).
 *
 * The kernel keeps cumulative per-CPU counters; every read sums the CPUs
 * and turns the sums into deltas against the previous read kept here, so
 * intervals need no map deletes (which would race with the kernel's
 * updates).
 *
 * Sampled (sysstat_opts.duty): the two programs are attached only during
 * windows (a bpf_link each, created and destroyed), one window at a random
 * offset in each period, so that no periodic behaviour of the program
 * lines up with them. The time attached is measured around each window;
 * a read scales what the kernel saw by wall / attached time. Calls are
 * counted at exit; a call is timed only if it also began in the window,
 * which a call of length L does with probability sum(max(0, W_i - L)) /
 * sum(W_i) over the windows W_i: each latency bucket is weighted by the
 * inverse, and the calls counted but not accounted for by the weighted
 * buckets are those longer than a window (shown in the window's bucket,
 * as `untimed`).
 */
#include "sysstat.h"

#include "syscalls.skel.h"

#include "../proc/names.h"
#include "../proc/syscalls.h"
#include "bpfload.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/*
 * Above this many CPUs statistics are kept in one shared hash (atomic
 * increments) instead of per-CPU maps: a per-CPU row is 2.7 KB a CPU, the
 * single-target array 2.8 MB a CPU.
 */
#define SYSSTAT_PERCPU_MAX_CPUS 32
/* A sampling window's default length. */
#define SYSSTAT_WINDOW_MS 100
/* A latency bucket's weight is capped (calls nearly as long as a window). */
#define SYSSTAT_MAX_WEIGHT 20.0

struct sysstat_prev {
	struct sc_key key;
	uint64_t count, errors, total_ns, max_ns, min_ns;
	uint32_t hist[GS_HIST_BUCKETS];
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
	bool single;
	bool shared;
	pid_t single_pid;
	int ncpu;
	struct sc_stats *pcpu;    /* one value per CPU, for reads */
	uint64_t *pcpu_u64;
	struct sysstat_prev *prev;
	size_t prev_cap;
	struct sysstat_prev_err *preverr;
	size_t preverr_cap;
	struct sysstat_row *rows;
	size_t nrows, rows_cap;
	struct sysstat_err *errs;
	size_t nerrs, errs_cap;
	int read_rc;
	/* sampling */
	bool sampled;
	bool carry_short;
	double duty;
	uint64_t window_ns, period_ns;
	int tfd;
	bool on;
	struct bpf_link *links[2];
	uint64_t t_on;            /* when the open window (or its part) began */
	uint64_t period_start;
	uint64_t last_read;       /* monotonic ns */
	uint64_t *wins;           /* lengths of the windows since the last read */
	size_t nwins, wins_cap;
	uint64_t rng;
	double scale;             /* of the current read */
	struct sysstat_sampling samp;
};

_Static_assert(GS_HIST_BUCKETS <= HIST_BUCKETS, "kernel histogram larger than hist.h's");

static uint64_t sysstat_key_hash(const void *k, size_t n)
{
	const uint8_t *p = k;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t sysstat_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t sysstat_rand(struct sysstat *s)
{
	/* xorshift64: placement of windows only */
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static int sysstat_arm(struct sysstat *s, uint64_t at)
{
	struct itimerspec its = { .it_value = { (time_t)(at / 1000000000ull),
						(long)(at % 1000000000ull) } };

	return timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Close the sampler's part of the interval that ends now (T). */
static int sysstat_win_push(struct sysstat *s, uint64_t t)
{
	if (s->nwins == s->wins_cap) {
		size_t cap = s->wins_cap ? s->wins_cap * 2 : 64;
		uint64_t *n = realloc(s->wins, cap * sizeof(*n));

		if (!n)
			return -1;
		s->wins = n;
		s->wins_cap = cap;
	}
	s->wins[s->nwins++] = t > s->t_on ? t - s->t_on : 0;
	return 0;
}

static int sysstat_attach(struct sysstat *s)
{
	struct bpf_program *p[2];

	p[0] = s->task_storage ? s->skel->progs.sys_enter_ts : s->skel->progs.sys_enter_hash;
	p[1] = s->task_storage ? s->skel->progs.sys_exit_ts : s->skel->progs.sys_exit_hash;
	s->skel->bss->window++;
	for (int i = 0; i < 2; i++) {
		s->links[i] = bpf_program__attach(p[i]);
		if (!s->links[i]) {
			int e = errno;

			for (int j = 0; j < i; j++) {
				bpf_link__destroy(s->links[j]);
				s->links[j] = NULL;
			}
			s->links[i] = NULL;
			errno = e;
			return -1;
		}
	}
	s->on = true;
	s->t_on = sysstat_now();
	return 0;
}

static void sysstat_detach(struct sysstat *s)
{
	uint64_t t = sysstat_now();

	/* stamps left behind carry this window's number: the next one does not use them */
	for (int i = 1; i >= 0; i--) {
		bpf_link__destroy(s->links[i]);
		s->links[i] = NULL;
	}
	s->on = false;
	sysstat_win_push(s, t);
}

int sysstat_sampler_fd(const struct sysstat *s)
{
	return s->sampled ? s->tfd : -1;
}

int sysstat_sampler_start(struct sysstat *s)
{
	if (!s->sampled)
		return 0;
	s->last_read = sysstat_now();
	s->period_start = s->last_read;
	if (sysstat_attach(s) != 0)
		return -1;
	return sysstat_arm(s, s->t_on + s->window_ns);
}

int sysstat_sampler_tick(struct sysstat *s)
{
	uint64_t exp, now;

	if (!s->sampled)
		return 0;
	if (read(s->tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		return -1;
	now = sysstat_now();
	if (s->on) {
		uint64_t next;

		sysstat_detach(s);
		/* the next period's window, at a random offset in it */
		do
			s->period_start += s->period_ns;
		while (s->period_start + s->period_ns <= now);
		next = s->period_start + sysstat_rand(s) % (s->period_ns - s->window_ns + 1);
		return sysstat_arm(s, next > now ? next : now + 1);
	}
	if (sysstat_attach(s) != 0)
		return -1;
	return sysstat_arm(s, s->t_on + s->window_ns);
}

void sysstat_sampling(const struct sysstat *s, struct sysstat_sampling *out)
{
	*out = s->samp;
}

void sysstat_sampling_now(const struct sysstat *s, double *wall_s, double *traced_s)
{
	uint64_t now = sysstat_now(), traced = 0;

	*wall_s = *traced_s = 0;
	if (!s->sampled)
		return;
	for (size_t j = 0; j < s->nwins; j++)
		traced += s->wins[j];
	if (s->on && now > s->t_on)
		traced += now - s->t_on;
	*wall_s = now > s->last_read ? (double)(now - s->last_read) / 1e9 : 0;
	*traced_s = (double)traced / 1e9;
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
	uint64_t dev, ino;
	int rc;

	*out = NULL;
	bpfload_set_verbose(o->verbose);
	/* raw_tp programs attach by name: no tracefs needed. */
	if (bpfload_prepare("syscall tracing", false, err, errlen) != 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->fn = fn;
	s->arg = arg;
	s->tfd = -1;
	s->sampled = o->duty > 0 && o->duty < 1 && !o->slow_ns && !o->net_events;
	s->carry_short = o->carry_short;
	s->duty = s->sampled ? o->duty : 1;
	s->window_ns = (uint64_t)(o->window_ms ? o->window_ms : SYSSTAT_WINDOW_MS) * 1000000ull;
	s->period_ns = (uint64_t)((double)s->window_ns / s->duty);
	s->rng = sysstat_now() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	s->scale = 1;
	s->ncpu = libbpf_num_possible_cpus();
	if (s->ncpu <= 0) {
		snprintf(err, errlen, "cannot count the CPUs: %s", strerror(-s->ncpu));
		free(s);
		return -1;
	}
	s->shared = s->ncpu > SYSSTAT_PERCPU_MAX_CPUS;
	s->single = o->single && o->by == SC_BY_NONE && !s->shared;
	s->pcpu = calloc((size_t)s->ncpu, sizeof(*s->pcpu));
	s->pcpu_u64 = calloc((size_t)s->ncpu, sizeof(*s->pcpu_u64));
	s->skel = syscalls_bpf__open();
	if (!s->pcpu || !s->pcpu_u64 || !s->skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		sysstat_close(s);
		return -1;
	}
	s->skel->rodata->filter_nr = o->filter;
	s->skel->rodata->by = (uint32_t)o->by;
	s->skel->rodata->slow_ns = o->slow_ns;
	s->skel->rodata->net_events = o->net_events;
	s->skel->rodata->need_args = o->slow_ns || o->net_events;
	s->skel->rodata->single = s->single;
	s->skel->rodata->nr_connect = (int32_t)syscalls_number("connect");
	s->skel->rodata->nr_getsockopt = (int32_t)syscalls_number("getsockopt");
	if (bpfload_pidns(&dev, &ino)) {
		if (!bpfload_has_ns_pid()) {
			snprintf(err, errlen, "goscope runs in a pid namespace and this kernel cannot "
					      "map pids to it (bpf_get_ns_current_pid_tgid, 5.7+)");
			sysstat_close(s);
			return -1;
		}
		s->skel->rodata->gs_pidns_dev = dev;
		s->skel->rodata->gs_pidns_ino = ino;
	}
	s->skel->rodata->shared = s->shared;
	s->skel->rodata->sampled = s->sampled;
	bpf_map__set_max_entries(s->skel->maps.slots, s->single ? SC_SLOTS : 1);
	if (s->shared)
		bpf_map__set_max_entries(s->skel->maps.stats, 1);
	else
		bpf_map__set_max_entries(s->skel->maps.stats_sh, 1);
	s->task_storage = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 1;
	bpf_program__set_autoload(s->skel->progs.sys_enter_ts, s->task_storage);
	bpf_program__set_autoload(s->skel->progs.sys_exit_ts, s->task_storage);
	bpf_program__set_autoload(s->skel->progs.sys_enter_hash, !s->task_storage);
	bpf_program__set_autoload(s->skel->progs.sys_exit_hash, !s->task_storage);
	bpf_map__set_autocreate(s->skel->maps.starts, s->task_storage);
	bpf_map__set_max_entries(s->skel->maps.starts_hash, s->task_storage ? 1 : 65536);
	rc = syscalls_bpf__load(s->skel);
	if (rc) {
		bpfload_load_error(rc, err, errlen);
		sysstat_close(s);
		return -1;
	}
	for (uint32_t nr = 0; o->spec && nr < SC_NR_MAX; nr++) {
		if (o->spec[nr])
			bpf_map__update_elem(s->skel->maps.argspec, &nr, sizeof(nr), &o->spec[nr],
					     sizeof(o->spec[nr]), BPF_ANY);
	}
	if (s->sampled) {
		s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		rc = s->tfd < 0 ? -errno : 0;
		/* one window now: a failure to attach is reported here, not later */
		if (!rc && sysstat_attach(s) != 0)
			rc = -errno;
		else if (!rc)
			sysstat_detach(s);
		s->nwins = 0;
	} else {
		rc = syscalls_bpf__attach(s->skel);
	}
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
	for (int i = 0; i < 2; i++)
		bpf_link__destroy(s->links[i]);
	if (s->tfd >= 0)
		close(s->tfd);
	free(s->wins);
	syscalls_bpf__destroy(s->skel);
	free(s->pcpu);
	free(s->pcpu_u64);
	free(s->prev);
	free(s->preverr);
	free(s->rows);
	free(s->errs);
	free(s);
}

int sysstat_add_pid(struct sysstat *s, pid_t pid, int goid_off)
{
	struct sc_target t = { .goid_off = goid_off };

	if (s->single) {
		if (s->single_pid && s->single_pid != pid)
			return -1;
		s->single_pid = pid;
		s->skel->data->single_goid_off = goid_off;
	}
	return bpfload_target_add(s->skel->maps.tslots, s->skel->maps.targets, pid, &t, sizeof(t));
}

int sysstat_remove_pid(struct sysstat *s, pid_t pid)
{
	return bpfload_target_remove(s->skel->maps.tslots, s->skel->maps.targets, pid);
}

int sysstat_poll(struct sysstat *s, int timeout_ms)
{
	return ring_buffer__poll(s->rb, timeout_ms);
}

int sysstat_event_fd(const struct sysstat *s)
{
	return ring_buffer__epoll_fd(s->rb);
}

/* The previous reading of KEY (added, zeroed, if new); NULL when out of memory. */
static struct sysstat_prev *sysstat_prev_get(struct sysstat *s, const struct sc_key *key)
{
	size_t j;

	if (!s->prev_cap) {
		s->prev = calloc(1024, sizeof(*s->prev));
		if (!s->prev)
			return NULL;
		s->prev_cap = 1024;
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

/* The sum over CPUs of the per-CPU statistics in S->pcpu into V. */
static void sysstat_sum(const struct sysstat *s, struct sc_stats *v)
{
	memset(v, 0, sizeof(*v));
	for (int c = 0; c < s->ncpu; c++) {
		const struct sc_stats *p = &s->pcpu[c];

		v->count += p->count;
		v->errors += p->errors;
		v->total_ns += p->total_ns;
		if (p->max_ns > v->max_ns)
			v->max_ns = p->max_ns;
		if (p->min_ns && (!v->min_ns || p->min_ns < v->min_ns))
			v->min_ns = p->min_ns;
		if (!p->count)
			continue;
		for (int i = 0; i < GS_HIST_BUCKETS; i++)
			v->hist[i] += p->hist[i];
	}
}

/*
 * Sampled: turn row R (what the programs saw in the windows) into the
 * estimate for the whole interval (see the header comment).
 */
static void sysstat_estimate(const struct sysstat *s, struct sysstat_row *r)
{
	double wsum = 0, timed_seen = 0, straddle = 0, extra_ns = 0, untimed;
	uint64_t wmax = 0;

	for (size_t j = 0; j < s->nwins; j++) {
		wsum += (double)s->wins[j];
		if (s->wins[j] > wmax)
			wmax = s->wins[j];
	}
	r->seen = r->count;
	r->h.count = 0;
	for (unsigned i = 0; i < GS_HIST_BUCKETS; i++) {
		double lo, hi, mid, den = 0, w, est;

		if (!r->h.b[i])
			continue;
		lo = (double)hist_bucket_low(i);
		hi = i + 1 < HIST_BUCKETS ? (double)hist_bucket_low(i + 1) : lo;
		mid = (lo + hi) / 2;
		for (size_t j = 0; j < s->nwins; j++)
			if ((double)s->wins[j] > mid)
				den += (double)s->wins[j] - mid;
		w = den > 0 ? wsum / den : SYSSTAT_MAX_WEIGHT;
		if (w > SYSSTAT_MAX_WEIGHT)
			w = SYSSTAT_MAX_WEIGHT;
		timed_seen += r->h.b[i] * w;
		straddle += r->h.b[i] * (w - 1);
		extra_ns += r->h.b[i] * (w - 1) * mid;
		est = r->h.b[i] * w * s->scale;
		r->h.b[i] = est >= UINT32_MAX ? UINT32_MAX : (uint32_t)llround(est);
		r->h.count += r->h.b[i];
	}
	r->total_ns = (uint64_t)llround(((double)r->total_ns + extra_ns) * s->scale);
	/*
	 * Calls seen but not accounted for by the weighted buckets began before
	 * their window: longer than it. Not when within the noise of the
	 * weights (3 sigma of the straddling calls they add back).
	 */
	untimed = (double)r->seen - timed_seen;
	if (wmax && untimed >= 1 + 3 * sqrt(straddle)) {
		uint64_t u = (uint64_t)llround(untimed * s->scale);
		unsigned b = hist_bucket(wmax);

		r->untimed = u;
		r->h.b[b] += u > UINT32_MAX - r->h.b[b] ? UINT32_MAX - r->h.b[b] : (uint32_t)u;
		r->h.count += u;
		r->total_ns += u * wmax;
		if (r->max_ns < wmax)
			r->max_ns = wmax;
	}
	r->count = (uint64_t)llround((double)r->count * s->scale);
	r->errors = (uint64_t)llround((double)r->errors * s->scale);
	r->h.sum = r->total_ns;
	r->h.max = r->max_ns;
}

/* Append the delta of KEY's cumulative statistics V since the last read. */
static int sysstat_delta(struct sysstat *s, const struct sc_key *key, const struct sc_stats *v)
{
	struct sysstat_prev *p = sysstat_prev_get(s, key);
	struct sysstat_row *r;
	int lo = -1, hi = -1;

	if (!p)
		return -1;
	if (v->count == p->count)
		return 0;
	if (s->nrows == s->rows_cap) {
		size_t cap = s->rows_cap ? s->rows_cap * 2 : 128;
		struct sysstat_row *nr = realloc(s->rows, cap * sizeof(*nr));

		if (!nr)
			return -1;
		s->rows = nr;
		s->rows_cap = cap;
	}
	r = &s->rows[s->nrows++];
	memset(r, 0, sizeof(*r));
	r->tgid = key->tgid;
	r->nr = key->nr;
	r->id = key->id;
	r->idle = (key->flags & SC_KEY_IDLE) != 0;
	r->count = v->count - p->count;
	r->errors = v->errors - p->errors;
	r->total_ns = v->total_ns - p->total_ns;
	for (int i = 0; i < GS_HIST_BUCKETS; i++) {
		uint32_t d = v->hist[i] - p->hist[i];

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
	if (v->max_ns > p->max_ns || p->count == 0 || hi < 0) {
		r->max_ns = v->max_ns;
	} else {
		uint64_t top = hi + 1 < GS_HIST_BUCKETS ? hist_bucket_low((unsigned)hi + 1) - 1
							: v->max_ns;

		r->max_ns = top < v->max_ns ? top : v->max_ns;
	}
	if (p->count == 0 || (v->min_ns && v->min_ns < p->min_ns) || lo < 0) {
		r->h.min = v->min_ns;
	} else {
		uint64_t low = hist_bucket_low((unsigned)lo);

		r->h.min = low > v->min_ns ? low : v->min_ns;
	}
	r->h.sum = r->total_ns;
	r->h.max = r->max_ns;
	p->max_ns = v->max_ns;
	p->min_ns = v->min_ns;
	p->count = v->count;
	p->errors = v->errors;
	p->total_ns = v->total_ns;
	memcpy(p->hist, v->hist, sizeof(p->hist));
	r->seen = r->count;
	if (s->sampled)
		sysstat_estimate(s, r);
	return 0;
}

static void sysstat_stats_key(const void *k, void *arg)
{
	struct sysstat *s = arg;
	struct sc_stats v;

	if (s->read_rc)
		return;
	if (s->shared) {
		if (bpf_map__lookup_elem(s->skel->maps.stats_sh, k, sizeof(struct sc_key), &v,
					 sizeof(v), 0))
			return;
	} else {
		if (bpf_map__lookup_elem(s->skel->maps.stats, k, sizeof(struct sc_key), s->pcpu,
					 (size_t)s->ncpu * sizeof(*s->pcpu), 0))
			return;
		sysstat_sum(s, &v);
	}
	if (sysstat_delta(s, k, &v) != 0)
		s->read_rc = -1;
}

static void sysstat_err_key(const void *k, void *arg)
{
	struct sysstat *s = arg;
	const struct sc_errkey *ek = k;
	struct sysstat_prev_err *p;
	uint64_t c = 0;

	if (s->read_rc || bpf_map__lookup_elem(s->skel->maps.errs, k, sizeof(*ek), s->pcpu_u64,
					       (size_t)s->ncpu * sizeof(uint64_t), 0))
		return;
	for (int i = 0; i < s->ncpu; i++)
		c += s->pcpu_u64[i];
	p = sysstat_preverr_get(s, ek);
	if (!p) {
		s->read_rc = -1;
		return;
	}
	if (c == p->count)
		return;
	if (s->nerrs == s->errs_cap) {
		size_t cap = s->errs_cap ? s->errs_cap * 2 : 64;
		struct sysstat_err *n = realloc(s->errs, cap * sizeof(*n));

		if (!n) {
			s->read_rc = -1;
			return;
		}
		s->errs = n;
		s->errs_cap = cap;
	}
	s->errs[s->nerrs++] = (struct sysstat_err){
		.tgid = ek->tgid, .nr = ek->nr, .id = ek->id,
		.idle = (ek->flags & SC_KEY_IDLE) != 0, .err = ek->err,
		.count = s->sampled ? (uint64_t)llround((double)(c - p->count) * s->scale)
				    : c - p->count,
	};
	p->count = c;
}

int sysstat_read(struct sysstat *s, struct sysstat_row **rows, size_t *nrows,
		 struct sysstat_err **errs, size_t *nerrs)
{
	s->nrows = s->nerrs = 0;
	s->read_rc = 0;
	if (s->sampled) {
		uint64_t now = sysstat_now(), traced = 0;

		for (size_t j = 0; j < s->nwins; j++)
			traced += s->wins[j];
		if (s->carry_short && traced + (s->on && now > s->t_on ? now - s->t_on : 0) <
					      s->window_ns) {
			/*
			 * Less than a window's worth attached: an estimate from a part
			 * of one would rest on a few ms. The kernel's counters, the
			 * windows and last_read stay (an open window keeps running):
			 * the next read takes both intervals.
			 */
			s->samp = (struct sysstat_sampling){
				.sampled = true, .duty = s->duty,
				.wall_s = (double)(now - s->last_read) / 1e9,
				.window_s = (double)s->window_ns / 1e9, .carried = true,
			};
			*rows = s->rows;
			*nrows = 0;
			*errs = s->errs;
			*nerrs = 0;
			return 0;
		}
		if (s->on) {
			/* the open window's part so far; calls begun before now are not timed after */
			if (sysstat_win_push(s, now) != 0)
				return -1;
			traced += s->wins[s->nwins - 1];
			s->t_on = now;
			s->skel->bss->window++;
		}
		s->scale = traced ? (double)(now - s->last_read) / (double)traced : 0;
		s->samp = (struct sysstat_sampling){
			.sampled = true, .duty = s->duty, .wall_s = (double)(now - s->last_read) / 1e9,
			.traced_s = (double)traced / 1e9, .scale = s->scale,
			.window_s = (double)s->window_ns / 1e9, .windows = (unsigned)s->nwins,
		};
		s->last_read = now;
	} else {
		s->samp = (struct sysstat_sampling){ .duty = 1, .scale = 1 };
	}
	if (s->single) {
		for (uint32_t slot = 0; slot < SC_SLOTS && s->read_rc == 0; slot++) {
			struct sc_key key = { .tgid = (uint32_t)s->single_pid };
			struct sc_stats v;

			if (bpf_map__lookup_elem(s->skel->maps.slots, &slot, sizeof(slot), s->pcpu,
						 (size_t)s->ncpu * sizeof(*s->pcpu), 0))
				continue;
			sysstat_sum(s, &v);
			if (!v.count)
				continue;
			key.nr = (uint16_t)(slot % SC_NR_MAX);
			key.flags = slot >= SC_NR_MAX ? SC_KEY_IDLE : 0;
			if (sysstat_delta(s, &key, &v) != 0)
				s->read_rc = -1;
		}
	} else {
		bpfload_each_key(s->shared ? s->skel->maps.stats_sh : s->skel->maps.stats,
				 sizeof(struct sc_key), sysstat_stats_key, s);
	}
	bpfload_each_key(s->skel->maps.errs, sizeof(struct sc_errkey), sysstat_err_key, s);
	s->nwins = 0;
	*rows = s->rows;
	*nrows = s->nrows;
	*errs = s->errs;
	*nerrs = s->nerrs;
	return s->read_rc;
}

uint64_t sysstat_drops(struct sysstat *s, int why)
{
	return bpfload_percpu_sum(s->skel->maps.drops, (uint32_t)why);
}

const char *sysstat_start_store(const struct sysstat *s)
{
	return s->task_storage ? "task storage" : "hash";
}

/* The system calls the Go runtime waits or wakes threads with. */
static const char *const sysstat_waits[] = {
	"futex", "nanosleep", "epoll_pwait", "epoll_pwait2", "epoll_wait", "sched_yield",
};

static void sysstat_spec_set(uint32_t *spec, const char *name, uint32_t bits)
{
	long nr = syscalls_number(name);

	if (nr >= 0 && nr < SC_NR_MAX)
		spec[nr] |= bits;
}

void sysstat_default_spec(uint32_t *spec)
{
	static const struct {
		const char *name;
		uint32_t bits;
	} t[] = {
		{ "open", 1 }, { "stat", 1 }, { "lstat", 1 }, { "access", 1 }, { "execve", 1 },
		{ "unlink", 1 }, { "mkdir", 1 }, { "rmdir", 1 }, { "chdir", 1 }, { "readlink", 1 },
		{ "truncate", 1 }, { "creat", 1 }, { "chmod", 1 }, { "statfs", 1 }, { "rename", 1 },
		{ "openat", 2 }, { "newfstatat", 2 }, { "faccessat", 2 }, { "faccessat2", 2 },
		{ "unlinkat", 2 }, { "mkdirat", 2 }, { "readlinkat", 2 }, { "statx", 2 },
		{ "openat2", 2 }, { "fchmodat", 2 }, { "renameat", 2 }, { "renameat2", 2 },
		{ "connect", (2 << 4) | (3 << 8) | SC_SPEC_NET },
		{ "bind", (2 << 4) | (3 << 8) | SC_SPEC_NET },
		{ "sendto", (5 << 4) | (6 << 8) | SC_SPEC_NET },
		{ "accept", (2 << 4) | (3 << 8) | SC_SPEC_ALEN_PTR | SC_SPEC_NET },
		{ "accept4", (2 << 4) | (3 << 8) | SC_SPEC_ALEN_PTR | SC_SPEC_NET },
		{ "recvfrom", (5 << 4) | (6 << 8) | SC_SPEC_ALEN_PTR },
		{ "listen", SC_SPEC_NET },
	};

	memset(spec, 0, SC_NR_MAX * sizeof(*spec));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		sysstat_spec_set(spec, t[i].name, t[i].bits);
	/*
	 * The runtime's waits: made on goroutine 0 (an idle M parking, the
	 * scheduler polling the network, sysmon) they get their own row. Only
	 * these: reading the goroutine id costs two user-memory reads a call.
	 */
	for (size_t i = 0; i < sizeof(sysstat_waits) / sizeof(sysstat_waits[0]); i++)
		sysstat_spec_set(spec, sysstat_waits[i], SC_SPEC_IDLE);
}

int sysstat_parse_list(const char *list, uint32_t *spec, char *err, size_t errlen)
{
	const char *p = list;
	int ntok = 0;

	while (*p) {
		char tok[64];
		size_t n = strcspn(p, ",");
		const char *const *g;
		long nr;

		if (n == 0) {
			p++;
			continue;
		}
		if (n >= sizeof(tok)) {
			snprintf(err, errlen, "unknown syscall or group '%.*s'", (int)n, p);
			return -1;
		}
		memcpy(tok, p, n);
		tok[n] = 0;
		p += n;
		ntok++;
		g = syscalls_group(tok);
		if (g) {
			for (; *g; g++)
				sysstat_spec_set(spec, *g, SC_SPEC_TRACED);
			continue;
		}
		nr = syscalls_number(tok);
		if (nr < 0 || nr >= SC_NR_MAX) {
			snprintf(err, errlen, "unknown syscall or group '%s' (groups: file, net, "
					      "time, sync, mem, proc)", tok);
			return -1;
		}
		spec[nr] |= SC_SPEC_TRACED;
	}
	if (ntok == 0) {
		snprintf(err, errlen, "empty syscall list '%s' (names or groups, comma-separated)",
			 list);
		return -1;
	}
	return 0;
}

/* fd-taking syscalls: describe args[0]. */
static bool sysstat_fd_arg(const char *name)
{
	static const char *const fds[] = {
		"read", "write", "close", "pread64", "pwrite64", "readv", "writev", "fsync",
		"fdatasync", "sendto", "recvfrom", "sendmsg", "recvmsg", "connect", "accept",
		"accept4", "bind", "listen", "shutdown", "getsockname", "getpeername", "setsockopt",
		"getsockopt", "fstat", "lseek", "ftruncate", "getdents64", "fcntl", "flock",
		"epoll_wait", "epoll_pwait", "epoll_ctl", "ioctl", "sendfile", "splice", NULL,
	};

	for (size_t i = 0; fds[i]; i++)
		if (strcmp(fds[i], name) == 0)
			return true;
	return false;
}

/* The network-rule verb a syscall falls under, or -1. */
static int sysstat_verb(const char *name)
{
	if (strcmp(name, "connect") == 0)
		return NETRULES_CONNECT;
	if (strcmp(name, "sendto") == 0)
		return NETRULES_SENDTO;
	if (strcmp(name, "bind") == 0 || strcmp(name, "listen") == 0 ||
	    strcmp(name, "accept") == 0 || strcmp(name, "accept4") == 0)
		return NETRULES_LISTEN;
	return -1;
}

void sysstat_decode(const struct sc_event *e, const struct netrules *rules, uint64_t slow_ns,
		    struct sysstat_call *c)
{
	const struct sockaddr_storage *sa = NULL;
	struct sockaddr_storage tmp;
	size_t salen = 0;
	int verb;

	memset(c, 0, sizeof(*c));
	c->e = e;
	c->verb = -1;
	{
		char nbuf[32];

		snprintf(c->name, sizeof(c->name), "%s", names_syscall(e->nr, nbuf, sizeof(nbuf)));
	}
	verb = sysstat_verb(c->name);
	if (sysstat_fd_arg(c->name))
		c->has_fd = fdinfo_get((pid_t)e->tgid, (int)e->args[0], &c->fi);
	if (e->addrlen > 0) {
		memset(&tmp, 0, sizeof(tmp));
		memcpy(&tmp, e->addr, (size_t)e->addrlen < sizeof(tmp) ? (size_t)e->addrlen : sizeof(tmp));
		sa = &tmp;
		salen = (size_t)e->addrlen;
		netrules_format_addr(sa, salen, c->addr, sizeof(c->addr));
	}
	if (e->kind != SC_EV_NET) {
		c->show = true;
		return;
	}
	/* listen/accept: the port that matters is the socket's own. */
	if ((strcmp(c->name, "listen") == 0 || strncmp(c->name, "accept", 6) == 0) && c->has_fd &&
	    c->fi.has_local) {
		sa = &c->fi.local;
		salen = sizeof(c->fi.local);
		netrules_format_addr(sa, salen, c->addr, sizeof(c->addr));
	}
	/*
	 * connect and sendto are checked whatever they return: Go's
	 * non-blocking connect returns EINPROGRESS, a refused one
	 * ECONNREFUSED, and the attempt is what the rules forbid.
	 * bind/listen/accept only when they succeed (a non-blocking accept
	 * fails with EAGAIN all the time).
	 */
	if (rules && verb >= 0 && sa && !(e->ret < 0 && verb == NETRULES_LISTEN) &&
	    !netrules_allowed(rules, (enum netrules_verb)verb, sa, salen)) {
		c->alert = true;
		c->verb = verb;
		c->show = true;
		return;
	}
	c->show = slow_ns > 0 && e->dur_ns >= slow_ns;
}

size_t sysstat_rate_alerts(const struct netrules *r, const struct sysstat_row *rows, size_t n,
			   const pid_t *pids, size_t npids, double secs,
			   struct sysstat_rate_alert *out, size_t max)
{
	size_t k = 0;

	for (size_t ri = 0; r && ri < r->nrate && secs > 0; ri++) {
		const struct netrules_rate *rt = &r->rate[ri];

		for (size_t ti = 0; ti < npids && k < max; ti++) {
			uint64_t count = 0;

			for (size_t i = 0; i < n; i++)
				if (rows[i].tgid == (uint32_t)pids[ti] && (long)rows[i].nr == rt->nr)
					count += rows[i].count;
			if ((double)count / secs <= rt->per_sec)
				continue;
			out[k++] = (struct sysstat_rate_alert){ pids[ti], rt->name,
								(double)count / secs, rt->per_sec };
		}
	}
	return k;
}
