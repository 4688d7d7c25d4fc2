/*
 * gc: GC cycles, stop-the-world pauses, assists and sampled allocations of
 * Go processes (see gc.h). Chooses the probe points and the runtime
 * variables to read per binary, attaches them through collect/uprobe, and
 * turns the kernel's events and aggregates into plain structs.
 */
#include "gc.h"

#include "../core/target.h"
#include "../gobin/goglobals.h"
#include "../gobin/gobin.h"
#include "bpfload.h"
#include "../proc/procmem.h"
#include "uprobe.h"
#include "../core/session.h"

#include "gc.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bpf/gc.h"
#include "../bpf/lib/target.h"

/* The reads are indexed by figure (goruntime.h); m.preemptoff is read by the probe itself. */
_Static_assert(GCF_N <= GC_NREADS, "one read per GC figure of runtime.work and gcController");

/* runtime.MemProfileRate's default: the sampling rate the scaling assumes. */
#define GC_MEMPROFILE_RATE 524288.0

struct gc_tstate {
	struct target *t;          /* its target (t->priv is the caller's) */
	struct uprobe_links probes;
	bool from_runtime;         /* the reads give the cycle's figures */
	bool has_cpu;
	bool gomaxprocs;           /* timed mode: runtime.gomaxprocs is read */
	bool cycles;               /* timed mode: work.cycles is read */
	struct goglobals_waitreasons stw; /* stwReasonStrings (1.21+) */
	int reason_src;
	uint64_t swept_trigger;    /* trigger_ns whose sweep termination was seen */
	struct gc_stw sweep, markterm; /* the last GC pauses (for timed cycles) */
	/*
	 * Without a reason to tell it (Go 1.17-1.20 without the m layout), a
	 * pause is held until the next event: the one just before a cycle's
	 * end is that cycle's mark termination.
	 */
	struct gc_stw pending;
	bool has_pending;
	/* Assist rounds against the runtime's count (see gc.h), over the cycles seen. */
	bool seen_cycle;           /* the first cycle began before the probes: not weighed */
	double round_excess_ns;    /* probe-timed minus the runtime's */
	uint64_t rounds;
	/*
	 * When the last probe was attached. The probes go in one after the
	 * other (on a busy machine that takes a while): a cycle or pause that
	 * began before then may have been seen by some probes only, and is
	 * not reported (the window holds whole ones).
	 */
	uint64_t since_ns;
};

struct gc_collector {
	struct gc_bpf *skel;
	struct ring_buffer *rb;
	struct gc_config cfg;
	gc_cycle_fn on_cycle;
	gc_stw_fn on_stw;
	void *arg;
	struct gc_tstate *targets[GS_MAX_TARGETS];
	size_t ntargets;
};

const char *gc_trigger_name(enum gc_trigger t)
{
	switch (t) {
	case GC_TRIGGER_HEAP:
		return "heap";
	case GC_TRIGGER_TIME:
		return "time";
	case GC_TRIGGER_FORCED:
		return "forced";
	default:
		return "unknown";
	}
}

static struct gc_tstate *gc_find(struct gc_collector *c, pid_t pid)
{
	for (size_t i = 0; i < c->ntargets; i++)
		if (c->targets[i]->t->pid == pid)
			return c->targets[i];
	return NULL;
}

static struct gc_tstate *gc_find_target(struct gc_collector *c, const struct target *t)
{
	for (size_t i = 0; i < c->ntargets; i++)
		if (c->targets[i]->t == t)
			return c->targets[i];
	return NULL;
}

static uint64_t gc_val(const struct gc_event *e, int f)
{
	uint64_t v = e->vals[f];

	switch (goruntime_gc_fields[f].size) {
	case 1:
		return v & 0xff;
	case 4:
		return v & 0xffffffffu;
	default:
		return v;
	}
}

/* Deliver the held pause, as KIND. */
/*
 * Hand pause S of TS to the caller, unless it began before the probes were
 * all in; a mark termination only when its cycle's sweep termination was
 * handed over (so that a cycle's pauses come in pairs).
 */
static void gc_emit_stw(struct gc_collector *c, const struct gc_tstate *ts, const struct gc_stw *s)
{
	if (!c->on_stw || s->start_ns < ts->since_ns)
		return;
	if (s->kind == GC_STW_MARK_TERM && ts->sweep.start_ns < ts->since_ns)
		return;
	c->on_stw(s, c->arg);
}

static void gc_flush_pending(struct gc_collector *c, struct gc_tstate *ts, enum gc_stw_kind kind)
{
	if (!ts->has_pending)
		return;
	ts->has_pending = false;
	ts->pending.kind = kind;
	if (kind == GC_STW_MARK_TERM) {
		snprintf(ts->pending.reason, sizeof(ts->pending.reason), "GC mark termination");
		ts->markterm = ts->pending;
	}
	gc_emit_stw(c, ts, &ts->pending);
}

static void gc_on_cycle(struct gc_collector *c, struct gc_tstate *ts, const struct gc_event *e)
{
	const struct target *t = ts->t;
	struct gc_cycle cy;

	gc_flush_pending(c, ts, GC_STW_MARK_TERM);
	memset(&cy, 0, sizeof(cy));
	cy.pid = t->pid;
	cy.trigger = e->trigger <= 2 ? (enum gc_trigger)e->trigger : GC_TRIGGER_UNKNOWN;
	if (e->trigger == 2)
		cy.trigger = GC_TRIGGER_FORCED;
	if (ts->from_runtime) {
		uint64_t t0 = gc_val(e, GCF_TSWEEPTERM), t1 = gc_val(e, GCF_TMARK);
		uint64_t t2 = gc_val(e, GCF_TMARKTERM), t3 = gc_val(e, GCF_TEND);

		cy.from_runtime = true;
		cy.number = gc_val(e, GCF_CYCLES);
		cy.start_ns = t0;
		if (t0 && t1 >= t0 && t2 >= t1 && t3 >= t2) {
			cy.has_phases = true;
			cy.sweep_term_ns = t1 - t0;
			cy.mark_ns = t2 - t1;
			cy.mark_term_ns = t3 - t2;
		}
		cy.has_heap = true;
		cy.heap_start = gc_val(e, GCF_HEAP0);
		cy.heap_end = gc_val(e, GCF_HEAP1);
		cy.heap_live = gc_val(e, GCF_HEAP2);
		cy.heap_goal = gc_val(e, GCF_HEAPGOAL);
		cy.procs = (int)gc_val(e, GCF_MAXPROCS);
		if (gc_val(e, GCF_USERFORCED))
			cy.trigger = GC_TRIGGER_FORCED;
		if (ts->has_cpu) {
			cy.has_cpu = true;
			cy.cpu_assist_ns = gc_val(e, GCF_ASSIST);
			cy.cpu_background_ns = gc_val(e, GCF_DEDICATED) + gc_val(e, GCF_FRACTIONAL);
			cy.cpu_idle_ns = gc_val(e, GCF_IDLE);
			cy.cpu_stw_ns = gc_val(e, GCF_STWPROCS) * (cy.sweep_term_ns + cy.mark_term_ns);
			if (ts->seen_cycle && e->assist_rounds) {
				ts->round_excess_ns += (double)e->assist_ns - (double)cy.cpu_assist_ns;
				ts->rounds += e->assist_rounds;
			}
		}
		ts->seen_cycle = true;
	} else {
		/* Timed by the probes: the two GC pauses of this cycle. */
		const struct gc_stw *a = &ts->sweep, *b = &ts->markterm;

		/* runtime.gomaxprocs, when it was found (read in the MAXPROCS slot). */
		cy.procs = ts->gomaxprocs ? (int)gc_val(e, GCF_MAXPROCS) : 0;
		cy.number = ts->cycles ? gc_val(e, GCF_CYCLES) : 0;

		/* The window may have begun after the sweep termination: gcStart then. */
		cy.start_ns = a->start_ns ? a->start_ns : e->trigger_ns;
		/* Each pause belongs to one cycle only. */
		memset(&ts->sweep, 0, sizeof(ts->sweep));
		memset(&ts->markterm, 0, sizeof(ts->markterm));
		if (a->start_ns && b->start_ns > a->start_ns + a->stopping_ns + a->stopped_ns &&
		    e->ts - b->start_ns < 10000000000ull) {
			cy.has_phases = true;
			cy.sweep_term_ns = a->stopping_ns + a->stopped_ns;
			cy.mark_ns = b->start_ns - (a->start_ns + cy.sweep_term_ns);
			cy.mark_term_ns = b->stopping_ns + b->stopped_ns;
		}
	}
	if (c->on_cycle && (!cy.start_ns || cy.start_ns >= ts->since_ns))
		c->on_cycle(&cy, c->arg);
}

static void gc_on_stw(struct gc_collector *c, struct gc_tstate *ts, const struct gc_event *e)
{
	const struct target *t = ts->t;
	struct gc_stw s;

	gc_flush_pending(c, ts, GC_STW_OTHER);
	memset(&s, 0, sizeof(s));
	s.pid = t->pid;
	s.start_ns = e->stop_ns;
	s.stopping_ns = e->stopped_ns - e->stop_ns;
	s.stopped_ns = e->ts - e->stopped_ns;
	if (ts->reason_src == GC_REASON_ARG) {
		if (e->reason < ts->stw.n)
			snprintf(s.reason, sizeof(s.reason), "%.*s", (int)ts->stw.len[e->reason],
				 ts->stw.str[e->reason]);
		else
			snprintf(s.reason, sizeof(s.reason), "reason %u", e->reason);
		if (strcmp(s.reason, "GC sweep termination") == 0)
			s.kind = GC_STW_SWEEP_TERM;
		else if (strcmp(s.reason, "GC mark termination") == 0)
			s.kind = GC_STW_MARK_TERM;
	} else {
		snprintf(s.reason, sizeof(s.reason), "%.*s", GC_REASON_LEN, e->reason_str);
		/*
		 * Before 1.21 the GC's own pauses carry no reason of their own
		 * (m.preemptoff is "" at sweep termination, "gcing" at mark
		 * termination; other pauses name themselves): the first pause
		 * without a name after gcStart is the sweep termination. With
		 * m.preemptoff read, an empty one is the sweep termination
		 * whatever gcStart's probe saw (another goroutine's gcStart can
		 * enter while the world is being stopped: its time is then
		 * after this pause's start).
		 */
		if ((ts->reason_src == GC_REASON_PREEMPTOFF && s.reason[0] == 0) ||
		    (e->trigger_ns && e->trigger_ns != ts->swept_trigger &&
		     e->stop_ns >= e->trigger_ns && ts->reason_src == GC_REASON_NONE)) {
			s.kind = GC_STW_SWEEP_TERM;
			ts->swept_trigger = e->trigger_ns;
			snprintf(s.reason, sizeof(s.reason), "GC sweep termination");
		} else if (strcmp(s.reason, "gcing") == 0) {
			s.kind = GC_STW_MARK_TERM;
			snprintf(s.reason, sizeof(s.reason), "GC mark termination");
		}
	}
	if (s.kind == GC_STW_SWEEP_TERM)
		ts->sweep = s;
	else if (s.kind == GC_STW_MARK_TERM)
		ts->markterm = s;
	if (s.kind == GC_STW_OTHER && ts->reason_src == GC_REASON_NONE) {
		ts->pending = s;
		ts->has_pending = true;
		return;
	}
	gc_emit_stw(c, ts, &s);
}

static int gc_on_event(void *ctx, void *data, size_t len)
{
	struct gc_collector *c = ctx;
	const struct gc_event *e = data;
	struct gc_tstate *ts;

	if (len < sizeof(*e))
		return 0;
	ts = gc_find(c, (pid_t)e->pid);
	if (!ts)
		return 0;
	if (e->kind == GC_EV_CYCLE)
		gc_on_cycle(c, ts, e);
	else if (e->kind == GC_EV_STW)
		gc_on_stw(c, ts, e);
	return 0;
}

struct gc_collector *gc_open(const struct gc_config *cfg, gc_cycle_fn on_cycle,
			     gc_stw_fn on_stw, void *arg, char *err, size_t errlen)
{
	struct gc_collector *c = calloc(1, sizeof(*c));
	uint64_t dev, ino;
	int rc;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	c->on_cycle = on_cycle;
	c->on_stw = on_stw;
	c->arg = arg;
	bpfload_set_verbose(cfg->verbose);
	if (bpfload_prepare("GC tracing", false, err, errlen) != 0)
		goto fail;
	c->skel = gc_bpf__open();
	if (!c->skel) {
		snprintf(err, errlen, "cannot open the GC BPF programs: %s", strerror(errno));
		goto fail;
	}
	if (bpfload_pidns(&dev, &ino)) {
		c->skel->rodata->gs_pidns_dev = dev;
		c->skel->rodata->gs_pidns_ino = ino;
	}
	rc = gc_bpf__load(c->skel);
	if (rc) {
		bpfload_load_error(rc, err, errlen);
		goto fail;
	}
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), gc_on_event, c, NULL);
	if (!c->rb) {
		snprintf(err, errlen, "cannot open the event ring buffer: %s", strerror(errno));
		goto fail;
	}
	return c;
fail:
	gc_close(c);
	return NULL;
}

/* Address of runtime global NAME: the symbol table, else decoded from FUNC. */
static uint64_t gc_global(struct gobin *gb, const char *name, const char *func,
			  enum goruntime_gcvar var, const struct goruntime_gc_offsets *o,
			  uint64_t excl_lo, uint64_t excl_hi, char *why, size_t whylen)
{
	int offs[GCF_N];
	size_t n = 0;
	uint64_t a;

	if (elfimg_symbol(gb->img, name, &a, NULL))
		return a;
	for (int i = 0; i < GCF_N; i++)
		if (goruntime_gc_fields[i].var == var && o->off[i] >= 0)
			offs[n++] = o->off[i];
	if (n >= 3 && goglobals_struct_base_excl(gb, func, offs, n, 3, excl_lo, excl_hi, &a, why,
						 whylen))
		return a;
	if (n < 3)
		snprintf(why, whylen, "%s: no field offsets", name);
	return 0;
}

/* Append "; " and a sentence to NOTE. */
static void gc_note(char *note, size_t len, const char *fmt, const char *a, const char *b)
{
	size_t used = strlen(note);

	if (used >= len - 1)
		return;
	if (used)
		snprintf(note + used, len - used, "; ");
	used = strlen(note);
	if (used < len - 1)
		snprintf(note + used, len - used, fmt, a, b);
}

/* Entry and/or RET probes of runtime function NAME (no cookie: one program each). */
static int gc_probe(struct gc_tstate *ts, struct gobin *gb, const char *exe, pid_t pid,
		    const char *name, struct bpf_program *entry, struct bpf_program *ret,
		    size_t *ntails, char *err, size_t errlen)
{
	return uprobe_attach_name(&ts->probes, gb, exe, pid, name, entry, ret, 0, ntails, err,
				  errlen);
}

int gc_add_target(struct gc_collector *c, struct target *t, struct gc_target_info *info,
		  char *err, size_t errlen)
{
	struct gobin *gb = t->gb;
	struct gc_target cfg;
	struct gc_tstate *ts;
	struct goruntime_gc_offsets o;
	char why[256] = "", whygcc[256] = "";
	uint64_t work = 0, gcc = 0;
	const char *exe;
	char exebuf[64];
	size_t tails = 0;

	memset(info, 0, sizeof(*info));
	info->pid = t->pid;
	if (!gb->version_known || gb->go_minor < GOBIN_MIN_TRACE_MINOR) {
		snprintf(err, errlen, "%s: GC tracing needs Go 1.17 or newer (register ABI)",
			 gobin_go_version(gb));
		return -1;
	}
	if (gb->arch != ELFIMG_ARCH_AMD64 && gb->arch != ELFIMG_ARCH_ARM64) {
		snprintf(err, errlen, "GC tracing supports amd64 and arm64 only");
		return -1;
	}
	if (c->ntargets >= GS_MAX_TARGETS) {
		snprintf(err, errlen, "too many targets");
		return -1;
	}
	ts = calloc(1, sizeof(*ts));
	if (!ts) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.goid_off = gb->offsets_known ? gb->off.g_goid : -1;
	cfg.g_m_off = gb->offsets_known ? gb->off.g_m : -1;
	cfg.m_preemptoff_off = -1;

	/* The runtime's own figures: offsets, then the variables' addresses. */
	if (!(gb->dwarf && goruntime_gc_offsets_dwarf(gb->img, &o)) &&
	    !goruntime_gc_offsets_table(gb->go_minor, &o)) {
		gc_note(info->note, sizeof(info->note),
			"heap figures and CPU split not measured (%s%s: runtime.work layout unknown without DWARF); phases timed by the pause probes",
			gobin_go_version(gb), "");
	} else {
		int wmax = 0;

		work = gc_global(gb, "runtime.work", "runtime.gcMarkTermination", GCV_WORK, &o, 0, 0,
				 why, sizeof(why));
		for (int i = 0; i < GCF_N; i++)
			if (goruntime_gc_fields[i].var == GCV_WORK && o.off[i] > wmax)
				wmax = o.off[i];
		/*
		 * runtime.work's fields (to its last known one, and the words after
		 * it that later releases added) are not gcController's.
		 */
		gcc = gc_global(gb, "runtime.gcController", "runtime.gcMarkTermination",
				GCV_GCCONTROLLER, &o, work, work ? work + (uint64_t)wmax + 8 + 256 : 0, whygcc,
				sizeof(whygcc));
		if (!work)
			gc_note(info->note, sizeof(info->note),
				"cycle number and heap figures not measured (runtime.work not found: %s%s)",
				why, "");
	}
	if (work) {
		ts->from_runtime = true;
		for (int i = 0; i < GCF_N; i++) {
			uint64_t base = goruntime_gc_fields[i].var == GCV_WORK ? work
					: goruntime_gc_fields[i].var == GCV_GCCONTROLLER ? gcc : 0;

			if (base && o.off[i] >= 0 && i < GC_NREADS)
				cfg.reads[i] = base + (uint64_t)o.off[i] + t->bias;
		}
		ts->has_cpu = gcc && o.off[GCF_ASSIST] >= 0 && o.off[GCF_DEDICATED] >= 0 &&
			      o.off[GCF_IDLE] >= 0;
		if (!gcc || o.off[GCF_HEAPGOAL] < 0)
			gc_note(info->note, sizeof(info->note),
				"heap goal and CPU split not measured (%s%s)",
				gcc ? "no gcController.lastHeapGoal in this release" : whygcc, "");
		cfg.m_preemptoff_off = o.off[GCF_M_PREEMPTOFF];
	} else {
		uint64_t gmp;

		/* GOMAXPROCS at least: runtime.gomaxprocs, decoded (amd64). */
		if (goglobals_gomaxprocs(gb, &gmp, why, sizeof(why))) {
			cfg.reads[GCF_MAXPROCS] = gmp + t->bias;
			ts->gomaxprocs = true;
		}
		/* And the cycle's number: work.cycles, decoded whatever the layout. */
		if (goglobals_gc_cycles(gb, &gmp, why, sizeof(why))) {
			cfg.reads[GCF_CYCLES] = gmp + t->bias;
			ts->cycles = true;
		} else {
			gc_note(info->note, sizeof(info->note), "cycle number not measured (%s%s)", why,
				"");
		}
	}
	if (gb->go_minor >= 21) {
		cfg.reason_src = GC_REASON_ARG;
		if (goglobals_stwreasons(gb, &ts->stw) == 0)
			gc_note(info->note, sizeof(info->note),
				"pause reasons shown as numbers (stwReasonStrings not found%s%s)", "",
				"");
	} else {
		cfg.reason_src = cfg.m_preemptoff_off >= 0 && cfg.g_m_off >= 0 ? GC_REASON_PREEMPTOFF
									: GC_REASON_NONE;
	}
	if (cfg.reason_src == GC_REASON_NONE)
		gc_note(info->note, sizeof(info->note),
			"reasons of pauses other than the GC's not named (%s: m.preemptoff%s not known)",
			gobin_go_version(gb), " offset");
	ts->reason_src = (int)cfg.reason_src;
	cfg.alloc_size_arg = 2; /* profilealloc(mp *m, x unsafe.Pointer, size uintptr) */

	snprintf(exebuf, sizeof(exebuf), "/proc/%d/exe", (int)t->pid);
	exe = exebuf;
	ts->t = t;
	if (bpfload_target_add(c->skel->maps.tslots, c->skel->maps.targets, t->pid, &cfg,
			       sizeof(cfg)) != 0) {
		snprintf(err, errlen, "cannot add the target to the BPF map: %s", strerror(errno));
		goto fail;
	}
	/* The cycle: without these two points there is nothing to report. */
	if (gc_probe(ts, gb, exe, t->pid, "runtime.gcStart", c->skel->progs.gc_start, NULL, NULL,
		     err, errlen) != 0 ||
	    gc_probe(ts, gb, exe, t->pid, "runtime.gcMarkTermination", NULL,
		     c->skel->progs.gc_markterm_ret, &tails, err, errlen) != 0)
		goto fail;
	if (gc_probe(ts, gb, exe, t->pid, "runtime.stopTheWorldWithSema", c->skel->progs.gc_stw_stop,
		     c->skel->progs.gc_stw_stopped, NULL, why, sizeof(why)) != 0 ||
	    gc_probe(ts, gb, exe, t->pid, "runtime.startTheWorldWithSema", NULL,
		     c->skel->progs.gc_stw_started, NULL, why, sizeof(why)) != 0)
		gc_note(info->note, sizeof(info->note), "stop-the-world pauses not measured (%s%s)",
			why, "");
	if (c->cfg.assists &&
	    (gc_probe(ts, gb, exe, t->pid, "runtime.gcAssistAlloc", c->skel->progs.gc_assist,
		      c->skel->progs.gc_assist_ret, NULL, why, sizeof(why)) != 0 ||
	     gc_probe(ts, gb, exe, t->pid, "runtime.gcAssistAlloc1", c->skel->progs.gc_assist1,
		      c->skel->progs.gc_assist1_ret, NULL, why, sizeof(why)) != 0))
		gc_note(info->note, sizeof(info->note), "mark assists not measured (%s%s)", why, "");
	else if (c->cfg.assists && !ts->has_cpu)
		gc_note(info->note, sizeof(info->note),
			"assist times hold the probes' own cost per marking round (%s%s)",
			"no runtime assist count to weigh them against", "");
	if (c->cfg.allocs &&
	    gc_probe(ts, gb, exe, t->pid, "runtime.profilealloc", c->skel->progs.gc_alloc, NULL, NULL,
		     why, sizeof(why)) != 0)
		gc_note(info->note, sizeof(info->note), "sampled allocations not measured (%s%s)",
			why, "");
	c->targets[c->ntargets++] = ts;
	ts->since_ns = session_now();
	info->has_heap = ts->from_runtime;
	info->has_cpu = ts->has_cpu;
	if (ts->from_runtime && cfg.reads[GCF_HEAPGOAL] && cfg.reads[GCF_HEAP2]) {
		/* The figures of the cycle before attaching (the runtime's initial goal if none). */
		struct procmem pm;

		procmem_init(&pm, t->pid);
		info->has_now = procmem_u64(&pm, cfg.reads[GCF_HEAPGOAL], &info->heap_goal) &&
				procmem_u64(&pm, cfg.reads[GCF_HEAP2], &info->heap_live);
		procmem_close(&pm);
	}
	return 0;
fail:
	uprobe_links_destroy(&ts->probes);
	bpfload_target_remove(c->skel->maps.tslots, c->skel->maps.targets, t->pid);
	free(ts);
	return -1;
}

void gc_remove_target(struct gc_collector *c, struct target *t)
{
	struct gc_tstate *ts;

	/* Events already in the ring buffer still find the target. */
	gc_poll(c);
	ts = gc_find_target(c, t);
	if (!ts)
		return;
	gc_flush_pending(c, ts, GC_STW_OTHER);
	for (size_t i = 0; i < c->ntargets; i++) {
		if (c->targets[i] == ts) {
			c->targets[i] = c->targets[--c->ntargets];
			break;
		}
	}
	uprobe_links_destroy(&ts->probes); /* closed behind us: see uprobe.c */
	bpfload_target_remove(c->skel->maps.tslots, c->skel->maps.targets, t->pid);
	free(ts);
}

int gc_fd(const struct gc_collector *c)
{
	return ring_buffer__epoll_fd(c->rb);
}

int gc_poll(struct gc_collector *c)
{
	return ring_buffer__consume(c->rb);
}

/* The stack STACKID into PCS (at most 64); its depth. */
static size_t gc_stack(struct gc_collector *c, int32_t stackid, uint64_t *pcs)
{
	uint64_t buf[GC_STACK_DEPTH];
	size_t n = 0;

	if (stackid < 0)
		return 0;
	memset(buf, 0, sizeof(buf));
	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.stacks), &stackid, buf) != 0)
		return 0;
	while (n < GC_STACK_DEPTH && buf[n])
		n++;
	memcpy(pcs, buf, n * sizeof(*pcs));
	return n;
}

struct gc_walk {
	struct gc_collector *c;
	struct gc_report *r;
	size_t cap;
	int rc;
};

static void gc_walk_assist(const void *key, void *arg)
{
	struct gc_walk *w = arg;
	const struct gc_assist_key *k = key;
	struct gc_assist_val v;
	struct gc_tstate *ts;
	int fd = bpf_map__fd(w->c->skel->maps.assists);

	if (bpf_map_lookup_elem(fd, k, &v) != 0)
		return;
	bpf_map_delete_elem(fd, k);
	if (w->r->nassists == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct gc_assist *a = realloc(w->r->assists, cap * sizeof(*a));

		if (!a) {
			w->rc = -1;
			return;
		}
		w->r->assists = a;
		w->cap = cap;
	}
	struct gc_assist *a = &w->r->assists[w->r->nassists++];

	memset(a, 0, sizeof(*a));
	a->pid = (pid_t)k->pid;
	a->goid = k->goid;
	a->probe_ns = v.ns;
	a->ns = v.ns;
	ts = gc_find(w->c, a->pid);
	if (ts && ts->rounds && ts->round_excess_ns > 0) {
		/* The probes' own cost per round, as the runtime's count shows it. */
		double sub = (double)v.calls1 * ts->round_excess_ns / (double)ts->rounds;

		a->ns = (double)v.ns > sub ? v.ns - (uint64_t)sub : 0;
	}
	a->wall_ns = v.wall_ns;
	a->count = v.count;
	a->rounds = v.calls1;
	a->npcs = gc_stack(w->c, k->stackid, a->pcs);
}

static void gc_walk_alloc(const void *key, void *arg)
{
	struct gc_walk *w = arg;
	const struct gc_alloc_key *k = key;
	int fd = bpf_map__fd(w->c->skel->maps.allocs);
	uint64_t count, pcs[GC_STACK_DEPTH];
	size_t npcs;
	double scale;

	if (bpf_map_lookup_elem(fd, k, &count) != 0)
		return;
	bpf_map_delete_elem(fd, k);
	npcs = gc_stack(w->c, k->stackid, pcs);
	/* As runtime/pprof's scaleHeapSample: each sample stands for 1/(1-e^(-size/rate)). */
	scale = k->size ? 1.0 / (1.0 - exp(-(double)k->size / GC_MEMPROFILE_RATE)) : 1.0;
	for (size_t i = 0; i < w->r->nallocs; i++) {
		struct gc_alloc *a = &w->r->allocs[i];

		if (a->pid == (pid_t)k->pid && a->npcs == npcs &&
		    memcmp(a->pcs, pcs, npcs * sizeof(*pcs)) == 0) {
			a->samples += count;
			a->objects += (uint64_t)llround((double)count * scale);
			a->bytes += (uint64_t)llround((double)count * (double)k->size * scale);
			return;
		}
	}
	if (w->r->nallocs == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct gc_alloc *a = realloc(w->r->allocs, cap * sizeof(*a));

		if (!a) {
			w->rc = -1;
			return;
		}
		w->r->allocs = a;
		w->cap = cap;
	}
	struct gc_alloc *a = &w->r->allocs[w->r->nallocs++];

	memset(a, 0, sizeof(*a));
	a->pid = (pid_t)k->pid;
	a->samples = count;
	a->objects = (uint64_t)llround((double)count * scale);
	a->bytes = (uint64_t)llround((double)count * (double)k->size * scale);
	a->npcs = npcs;
	memcpy(a->pcs, pcs, npcs * sizeof(*pcs));
}

int gc_read(struct gc_collector *c, struct gc_report *r)
{
	struct gc_walk w = { .c = c, .r = r };

	memset(r, 0, sizeof(*r));
	/* A pause held for a while is not a mark termination. */
	for (size_t i = 0; i < c->ntargets; i++) {
		struct gc_tstate *ts = c->targets[i];

		if (ts->has_pending && session_now() - ts->pending.start_ns > 1000000000ull)
			gc_flush_pending(c, ts, GC_STW_OTHER);
	}
	bpfload_each_key(c->skel->maps.assists, sizeof(struct gc_assist_key), gc_walk_assist, &w);
	w.cap = 0;
	bpfload_each_key(c->skel->maps.allocs, sizeof(struct gc_alloc_key), gc_walk_alloc, &w);
	r->drops_events = bpfload_percpu_sum(c->skel->maps.drops, GC_DROP_RINGBUF);
	r->drops_assists = bpfload_percpu_sum(c->skel->maps.drops, GC_DROP_ASSIST);
	r->drops_allocs = bpfload_percpu_sum(c->skel->maps.drops, GC_DROP_ALLOC);
	r->drops_stacks = bpfload_percpu_sum(c->skel->maps.drops, GC_DROP_STACK);
	return w.rc;
}

void gc_report_free(struct gc_report *r)
{
	free(r->assists);
	free(r->allocs);
	memset(r, 0, sizeof(*r));
}

void gc_close(struct gc_collector *c)
{
	if (!c)
		return;
	while (c->ntargets > 0)
		gc_remove_target(c, c->targets[c->ntargets - 1]->t);
	ring_buffer__free(c->rb);
	gc_bpf__destroy(c->skel);
	free(c);
}
