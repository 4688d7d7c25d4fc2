/*
 * cpu: user side of cpu.bpf.c (see cpu.h).
 */
#include "cpu.h"

#include "cpu.skel.h"

#include "../core/target.h"
#include "../proc/ksyms.h"
#include "../proc/usyms.h"
#include "bpfload.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Per target: what the fix-up and the formatters need after it is gone. */
struct cpu_tgt {
	struct cpu_proc p; /* p.gb: a reference; p.exe, p.name: ours */
	bool active;
};

struct cpu {
	struct cpu_bpf *skel;
	struct cpu_opts o;
	int *pfd;
	struct bpf_link **links;
	size_t ncpu;
	const char *event;
	struct cpu_tgt *tg;
	size_t ntg;
	struct cpu_proc *procs; /* the last report's view of tg */
	struct ksyms *ks;
	bool ks_tried;
	char ks_err[200];
	struct ring_buffer *rb; /* newpcs */
	uint64_t *seen;         /* functions seeded: (pid << 40 ^ index) + 1 */
	size_t nseen, seen_cap;
};

static int cpu_on_newpc(void *ctx, void *data, size_t len);

const char *cpu_drop_name(int why)
{
	switch (why) {
	case CPU_DROP_KEYS:
		return "counts map full";
	case CPU_DROP_USTACK:
		return "user stack unavailable";
	case CPU_DROP_KSTACK:
		return "kernel stack unavailable";
	case CPU_DROP_GOIDS:
		return "per-goroutine map full";
	}
	return "?";
}

static int cpu_perf_open(uint32_t type, uint64_t config, unsigned hz, int cpu)
{
	struct perf_event_attr a = {
		.size = sizeof(a),
		.type = type,
		.config = config,
		.freq = 1,
		.sample_freq = hz,
	};

	return (int)syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* The one line saying why perf events cannot be opened. */
static void cpu_perf_error(int e, char *err, size_t errlen)
{
	char par[32] = "?";
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");

	if (f) {
		if (!fgets(par, sizeof(par), f))
			snprintf(par, sizeof(par), "?");
		par[strcspn(par, "\n")] = '\0';
		fclose(f);
	}
	if (e == ENOENT || e == ENODEV || e == EOPNOTSUPP || e == ENOSYS)
		snprintf(err, errlen, "no perf events: this kernel or container offers no "
				      "cpu-clock sampling event (perf_event_open: %s)", strerror(e));
	else
		snprintf(err, errlen, "no perf events: perf_event_open(cpu-clock) refused: %s "
				      "(kernel.perf_event_paranoid=%s; needs root or CAP_PERFMON, "
				      "and a container that allows perf_event_open)",
			 strerror(e), par);
}

/* One sampling event per online CPU: cycles if there are counters, else cpu-clock. */
static int cpu_events(struct cpu *c, char *err, size_t errlen)
{
	int n = libbpf_num_possible_cpus(), first_err = 0;
	bool hw = true;

	if (n <= 0) {
		snprintf(err, errlen, "cannot count the CPUs");
		return -1;
	}
	c->pfd = malloc((size_t)n * sizeof(*c->pfd));
	c->links = calloc((size_t)n, sizeof(*c->links));
	if (!c->pfd || !c->links) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		int fd = -1;

		if (hw) {
			fd = cpu_perf_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, c->o.hz, i);
			if (fd < 0 && i == 0)
				hw = false; /* no counters (VMs): the software clock for all */
		}
		if (!hw)
			fd = cpu_perf_open(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, c->o.hz, i);
		if (fd < 0) {
			if (errno != ENODEV && !first_err) /* ENODEV: an offline CPU */
				first_err = errno;
			continue;
		}
		c->pfd[c->ncpu++] = fd;
	}
	c->event = hw ? "cycles" : "cpu-clock";
	if (c->ncpu == 0) {
		cpu_perf_error(first_err ? first_err : ENODEV, err, errlen);
		return -1;
	}
	return 0;
}

int cpu_open(struct cpu **out, const struct cpu_opts *o, char *err, size_t errlen)
{
	struct cpu *c;
	uint64_t dev, ino;
	int rc;

	*out = NULL;
	if (bpfload_prepare("CPU sampling", false, err, errlen) != 0)
		return -1;
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->o = *o;
	/* Perf events first: their absence is the likeliest failure, and the clearest. */
	if (cpu_events(c, err, errlen) != 0)
		goto fail;
	c->skel = cpu_bpf__open();
	if (!c->skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	c->skel->rodata->kernel_stacks = o->kernel;
	c->skel->rodata->goid_only = o->goid_set;
	c->skel->rodata->goid_want = o->goid;
	if (bpfload_pidns(&dev, &ino)) {
		c->skel->rodata->gs_pidns_dev = dev;
		c->skel->rodata->gs_pidns_ino = ino;
	}
	if (!o->kernel)
		bpf_map__set_max_entries(c->skel->maps.kstacks, 1);
	rc = cpu_bpf__load(c->skel);
	if (rc) {
		bpfload_load_error(rc, err, errlen);
		goto fail;
	}
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.newpcs), cpu_on_newpc, c, NULL);
	if (!c->rb) {
		snprintf(err, errlen, "cannot open the BPF ring buffer: %s", strerror(errno));
		goto fail;
	}
	*out = c;
	return 0;
fail:
	cpu_close(c);
	return -1;
}

int cpu_add_target(struct cpu *c, struct target *t, char *err, size_t errlen)
{
	struct cpu_target v = { .goid_off = -1, .g_m = -1, .m_g0 = -1, .m_curg = -1 };
	struct cpu_tgt *tg;
	uint64_t lo = 0, hi = 0;
	char why[200], *exe;

	if (!gobin_traceable(t->gb, why, sizeof(why))) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (t->gb->offsets_known) {
		v.goid_off = t->gb->off.g_goid;
		v.g_m = t->gb->off.g_m;
		v.m_g0 = t->gb->off.m_g0;
		v.m_curg = t->gb->off.m_curg;
	}
	pclntab_range(t->gb->pcln, &lo, &hi);
	v.text_lo = lo + t->bias;
	v.text_hi = hi + t->bias;
	tg = realloc(c->tg, (c->ntg + 1) * sizeof(*tg));
	if (!tg) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->tg = tg;
	if (bpfload_target_add(c->skel->maps.tslots, c->skel->maps.targets, t->pid, &v,
			       sizeof(v)) != 0) {
		snprintf(err, errlen, "cannot add the target to the BPF filter: %s",
			 strerror(errno));
		return -1;
	}
	exe = strdup(t->exe);
	if (!exe) {
		bpfload_target_remove(c->skel->maps.tslots, c->skel->maps.targets, t->pid);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	tg = &c->tg[c->ntg++];
	tg->p = (struct cpu_proc){ t->pid, NULL, exe, gobin_ref(t->gb), t->bias, NULL };
	tg->p.name = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	tg->p.us = usyms_open(t->pid); /* NULL: native frames as addresses */
	tg->active = true;
	return 0;
}

void cpu_drop_target(struct cpu *c, struct target *t)
{
	for (size_t i = 0; i < c->ntg; i++) {
		if (c->tg[i].p.pid == t->pid && c->tg[i].active) {
			bpfload_target_remove(c->skel->maps.tslots, c->skel->maps.targets, t->pid);
			c->tg[i].active = false;
		}
	}
}

int cpu_start(struct cpu *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->ncpu; i++) {
		c->links[i] = bpf_program__attach_perf_event(c->skel->progs.cpu_sample, c->pfd[i]);
		if (!c->links[i]) {
			snprintf(err, errlen, "cannot attach to the %s perf event: %s", c->event,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

void cpu_close(struct cpu *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ncpu; i++) {
		bpf_link__destroy(c->links[i]);
		close(c->pfd[i]);
	}
	free(c->links);
	free(c->pfd);
	cpu_bpf__destroy(c->skel);
	for (size_t i = 0; i < c->ntg; i++) {
		gobin_close(c->tg[i].p.gb);
		usyms_free(c->tg[i].p.us);
		free((char *)c->tg[i].p.exe);
	}
	free(c->tg);
	free(c->procs);
	ring_buffer__free(c->rb);
	free(c->seen);
	ksyms_free(c->ks);
	free(c);
}

/* The latest target entry of PID (an exec'd pid has several: the last is current). */
static const struct cpu_tgt *cpu_tgt_of(const struct cpu *c, pid_t pid)
{
	for (size_t i = c->ntg; i-- > 0;)
		if (c->tg[i].p.pid == pid)
			return &c->tg[i];
	return NULL;
}

/* Add KEY (non-zero) to the seen set; false if it was there (or no memory). */
static bool cpu_seen_add(struct cpu *c, uint64_t key)
{
	size_t j;

	if ((c->nseen + 1) * 2 > c->seen_cap) {
		size_t cap = c->seen_cap ? c->seen_cap * 2 : 1024;
		uint64_t *v = calloc(cap, sizeof(*v));

		if (!v)
			return false;
		for (size_t i = 0; i < c->seen_cap; i++) {
			if (!c->seen[i])
				continue;
			for (j = (c->seen[i] * 0x9e3779b97f4a7c15ull >> 40) & (cap - 1); v[j];
			     j = (j + 1) & (cap - 1))
				;
			v[j] = c->seen[i];
		}
		free(c->seen);
		c->seen = v;
		c->seen_cap = cap;
	}
	for (j = (key * 0x9e3779b97f4a7c15ull >> 40) & (c->seen_cap - 1); c->seen[j];
	     j = (j + 1) & (c->seen_cap - 1))
		if (c->seen[j] == key)
			return false;
	c->seen[j] = key;
	c->nseen++;
	return true;
}

/*
 * The first time a function is seen: tell the kernel the frame size at
 * the pcs of its windows, so that their first samples are fixed up too.
 * The windows are found in the pcsp table alone: the bytes right after
 * the frame grows past 8 (the stores of BP, then its LEAQ: up to 16
 * bytes), and right before it drops back from more than 8 (the ADDQ: up
 * to 7 bytes). Offsets that are not instructions are never sampled.
 */
static void cpu_seed_func(struct cpu *c, const struct cpu_tgt *tg, uint64_t lpc)
{
	struct pclntab_func f;
	long idx = pclntab_find(tg->p.gb->pcln, lpc);
	int32_t *d;
	size_t n;

	if (idx < 0 || !pclntab_func_at(tg->p.gb->pcln, (size_t)idx, &f) || f.end <= f.entry ||
	    !cpu_seen_add(c, ((uint64_t)tg->p.pid << 40 ^ (uint64_t)idx) + 1))
		return;
	n = f.end - f.entry > 8192 ? 8192 : f.end - f.entry;
	d = malloc(n * sizeof(*d));
	if (!d)
		return;
	for (size_t i = 0; i < n; i++)
		if (!pclntab_spdelta(tg->p.gb->pcln, f.entry + i, &d[i]))
			d[i] = -1;
	for (size_t i = 0; i < n; i++) {
		struct cpu_pckey pk = { .pid = (uint32_t)tg->p.pid, .pc = f.entry + i + tg->p.bias };
		bool win = false;

		if (d[i] <= 8)
			continue;
		for (size_t b = 1; b <= 16 && b <= i && !win; b++)
			win = d[i - b] <= 8;
		for (size_t a = 1; a <= 7 && i + a < n && !win; a++)
			win = d[i + a] <= 8;
		if (win)
			bpf_map__update_elem(c->skel->maps.spd, &pk, sizeof(pk), &d[i], sizeof(d[i]),
					     BPF_NOEXIST);
	}
	free(d);
}

/* A new leaf pc from the kernel: write its frame size into spd. */
static int cpu_on_newpc(void *ctx, void *data, size_t len)
{
	struct cpu *c = ctx;
	const struct cpu_pckey *pk = data;
	const struct cpu_tgt *tg;
	int32_t d = -1; /* unknown: no fix-up, and no more events for it */

	if (len < sizeof(*pk))
		return 0;
	tg = cpu_tgt_of(c, (pid_t)pk->pid);
	if (tg && !pclntab_spdelta(tg->p.gb->pcln, pk->pc - tg->p.bias, &d))
		d = -1;
	bpf_map__update_elem(c->skel->maps.spd, pk, sizeof(*pk), &d, sizeof(d), BPF_NOEXIST);
	if (tg && d >= 0)
		cpu_seed_func(c, tg, pk->pc - tg->p.bias);
	return 0;
}

int cpu_fd(const struct cpu *c)
{
	return c->rb ? ring_buffer__epoll_fd(c->rb) : -1;
}

void cpu_poll(struct cpu *c)
{
	if (c->rb)
		ring_buffer__consume(c->rb);
}

struct cpu_read_ctx {
	struct cpu *c;
	struct cpu_report *r;
	size_t cap;
	uint64_t *buf;
	int fail;
};

/* Non-zero pcs of stack ID in MAP into a new array; its length in *N. */
static uint64_t *cpu_stack(const struct bpf_map *map, int32_t id, uint64_t *buf, size_t *n,
			   size_t extra)
{
	uint32_t k = (uint32_t)id;
	uint64_t *v;

	*n = 0;
	if (id < 0 || bpf_map__lookup_elem(map, &k, sizeof(k), buf,
					   CPU_STACK_DEPTH * sizeof(*buf), 0) != 0)
		return NULL;
	while (*n < CPU_STACK_DEPTH && buf[*n])
		(*n)++;
	v = malloc((*n + extra + 1) * sizeof(*v));
	if (v)
		memcpy(v, buf, *n * sizeof(*v));
	return v;
}

/*
 * The leaf fix-up (see cpu.bpf.c): insert the return address the frame
 * walk skipped when the pcsp table says the leaf's frame is not set up:
 * nothing pushed at ip (frame size 0: the address is at SP), or only BP
 * pushed (frame size 8, BP not yet moved: at SP+8); or, for a pc whose
 * frame size D user space told the kernel (cpu_on_newpc), when the kernel
 * found BP not yet (or no longer) at SP+D-8: at SP+D.
 */
static bool cpu_fix_leaf(const struct cpu_tgt *tg, const struct cpu_key *k, uint64_t *pcs,
			 size_t *n)
{
	int32_t d;

	if (!tg || !k->fix || *n == 0 || !(k->flags & (CPU_F_FIX0 | CPU_F_FIX8 | CPU_F_FIXD)))
		return false;
	if (!pclntab_spdelta(tg->p.gb->pcln, pcs[0] - tg->p.bias, &d))
		return false;
	if (!((d == 0 && (k->flags & CPU_F_FIX0)) || (d == 8 && (k->flags & CPU_F_FIX8)) ||
	      (k->flags & CPU_F_FIXD)))
		return false;
	if (*n > 1 && pcs[1] == k->fix)
		return false;
	memmove(pcs + 2, pcs + 1, (*n - 1) * sizeof(*pcs));
	pcs[1] = k->fix;
	(*n)++;
	return true;
}

static void cpu_read_key(const void *key, void *arg)
{
	struct cpu_read_ctx *x = arg;
	const struct cpu_key *k = key;
	struct cpu_report *r = x->r;
	struct cpu_row *row;
	uint64_t count = 0;

	if (x->fail || bpf_map__lookup_elem(x->c->skel->maps.counts, k, sizeof(*k), &count,
					    sizeof(count), 0) != 0 || count == 0)
		return;
	if (r->nrows == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 256;
		struct cpu_row *v = realloc(r->rows, cap * sizeof(*v));

		if (!v) {
			x->fail = 1;
			return;
		}
		r->rows = v;
		x->cap = cap;
	}
	row = &r->rows[r->nrows];
	memset(row, 0, sizeof(*row));
	row->pid = (pid_t)k->pid;
	row->tid = (pid_t)k->tid;
	row->goid = k->goid;
	row->flags = k->flags;
	row->count = count;
	row->user = cpu_stack(x->c->skel->maps.ustacks, k->ustack, x->buf, &row->nuser, 1);
	if (!row->user)
		row->user_err = k->ustack < 0 ? -k->ustack : ENOENT;
	if (k->kstack >= 0)
		row->kern = cpu_stack(x->c->skel->maps.kstacks, k->kstack, x->buf, &row->nkern, 0);
	if (row->user)
		row->fixed = cpu_fix_leaf(cpu_tgt_of(x->c, row->pid), k, row->user, &row->nuser);
	r->samples += count;
	if (row->fixed)
		r->fixed += count;
	r->nrows++;
}

static void cpu_read_goid(const void *key, void *arg)
{
	struct cpu_read_ctx *x = arg;
	struct cpu_report *r = x->r;
	const struct cpu_gkey *gk = key;
	uint64_t count = 0;

	if (x->fail || bpf_map__lookup_elem(x->c->skel->maps.goids, gk, sizeof(*gk), &count,
					    sizeof(count), 0) != 0)
		return;
	if (r->ngoids == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 256;
		struct cpu_goid *v = realloc(r->goids, cap * sizeof(*v));

		if (!v) {
			x->fail = 1;
			return;
		}
		r->goids = v;
		x->cap = cap;
	}
	r->goids[r->ngoids++] = (struct cpu_goid){ (pid_t)gk->pid, gk->goid, count };
}

static int cpu_goid_cmp(const void *a, const void *b)
{
	const struct cpu_goid *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->goid < y->goid ? -1 : x->goid > y->goid;
}

/* The processes as the formatters see them, native symbols refreshed. */
static int cpu_procs(struct cpu *c, struct cpu_report *r)
{
	struct cpu_proc *v = realloc(c->procs, (c->ntg ? c->ntg : 1) * sizeof(*v));

	if (!v)
		return -1;
	c->procs = v;
	for (size_t i = 0; i < c->ntg; i++) {
		if (c->tg[i].active)
			usyms_refresh(c->tg[i].p.us);
		v[i] = c->tg[i].p;
	}
	r->procs = v;
	r->nprocs = c->ntg;
	return 0;
}

int cpu_read(struct cpu *c, struct cpu_report *r)
{
	struct cpu_read_ctx x = { c, r, 0, NULL, 0 };
	bool kern = false;

	memset(r, 0, sizeof(*r));
	r->event = c->event;
	r->hz = c->o.hz;
	r->ncpus = c->ncpu;
	if (cpu_procs(c, r) != 0)
		return -1;
	x.buf = malloc(CPU_STACK_DEPTH * sizeof(*x.buf));
	if (!x.buf)
		return -1;
	bpfload_each_key(c->skel->maps.counts, sizeof(struct cpu_key), cpu_read_key, &x);
	x.cap = 0;
	bpfload_each_key(c->skel->maps.goids, sizeof(struct cpu_gkey), cpu_read_goid, &x);
	free(x.buf);
	if (r->ngoids)
		qsort(r->goids, r->ngoids, sizeof(*r->goids), cpu_goid_cmp);
	for (int i = 0; i < CPU_DROP_MAX; i++)
		r->drops[i] = bpfload_percpu_sum(c->skel->maps.drops, (uint32_t)i);
	for (size_t i = 0; i < r->nrows && !kern; i++)
		kern = r->rows[i].nkern > 0;
	if (kern && !c->ks_tried) {
		c->ks_tried = true;
		c->ks = ksyms_load(NULL, c->ks_err, sizeof(c->ks_err));
	}
	r->ks = c->ks;
	if (kern && !c->ks)
		snprintf(r->ks_err, sizeof(r->ks_err), "%s", c->ks_err);
	if (x.fail) {
		cpu_report_free(r);
		return -1;
	}
	return 0;
}

void cpu_report_free(struct cpu_report *r)
{
	for (size_t i = 0; i < r->nrows; i++) {
		free(r->rows[i].user);
		free(r->rows[i].kern);
	}
	free(r->rows);
	free(r->goids);
	memset(r, 0, sizeof(*r)); /* procs and ks are the collector's */
}
