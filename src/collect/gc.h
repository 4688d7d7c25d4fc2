/*
 * gc: the Go garbage collector and the runtime's stop-the-world pauses of
 * traced processes, from uprobes chosen per release (bpf/gc.bpf.c).
 *
 * Per GC cycle, the figures the runtime itself keeps and GODEBUG=gctrace=1
 * prints (runtime.work: its number, the clock of its phases, the heap at
 * start, end of mark and marked; runtime.gcController: the goal and the
 * CPU split), read in the target at the end of gcMarkTermination. Without
 * those variables (a release whose layout is unknown, no DWARF) the phases
 * come from the timing of the pauses themselves and the heap figures are
 * said to be unmeasured. Per pause: how long stopping took and how long
 * the world stood still, with the release's own reason. Mark assists per
 * goroutine and Go stack, and the runtime's sampled allocations per Go
 * stack, are summed in the kernel and read at each report.
 *
 * Assist time. A marking round timed from a uprobe at gcAssistAlloc1's
 * entry to one at its RET holds part of both traps (the single-step after
 * the entry handler, the trap before the RET handler): ~14 us a round on
 * the test VM, where the runtime's own rounds are ~7 us. And the runtime's
 * count (gcController.assistTime, gctrace's assist figure) leaves out what
 * each P has not flushed yet (< 5 us) when the next cycle starts. Where the
 * release exposes the runtime's count, each cycle's probe-timed rounds are
 * weighed against it: the excess per round, over every cycle seen, is taken
 * out of each goroutine's rounds, so that the goroutines' assist times add
 * up to the runtime's. Elsewhere the probe-timed figure is given, and said.
 */
#ifndef GOSCOPE_COLLECT_GC_H
#define GOSCOPE_COLLECT_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct target;

enum gc_trigger {
	GC_TRIGGER_HEAP,   /* the heap reached its trigger */
	GC_TRIGGER_TIME,   /* forced by sysmon: no GC for 2 minutes */
	GC_TRIGGER_FORCED, /* runtime.GC(), debug.FreeOSMemory */
	GC_TRIGGER_UNKNOWN,
};

const char *gc_trigger_name(enum gc_trigger t);

struct gc_cycle {
	pid_t pid;
	uint64_t number;         /* the runtime's cycle number (gctrace's gc N); 0: unknown */
	uint64_t start_ns;       /* CLOCK_MONOTONIC: sweep termination began */
	enum gc_trigger trigger;
	bool has_phases;         /* the three phases below are known */
	uint64_t sweep_term_ns;  /* STW sweep termination (clock) */
	uint64_t mark_ns;        /* concurrent mark (clock) */
	uint64_t mark_term_ns;   /* STW mark termination (clock) */
	bool has_heap;           /* the heap figures and procs were read */
	uint64_t heap_start, heap_end, heap_live, heap_goal;
	int procs;               /* GOMAXPROCS; 0: unknown (set without has_heap too) */
	bool has_cpu;            /* the CPU split was read */
	uint64_t cpu_assist_ns, cpu_background_ns, cpu_idle_ns, cpu_stw_ns;
	bool from_runtime;       /* figures read from the runtime (else timed by the probes) */
};

enum gc_stw_kind { GC_STW_OTHER, GC_STW_SWEEP_TERM, GC_STW_MARK_TERM };

struct gc_stw {
	pid_t pid;
	uint64_t start_ns;       /* stopTheWorldWithSema entered */
	uint64_t stopping_ns;    /* until every P stopped */
	uint64_t stopped_ns;     /* the world stood still */
	enum gc_stw_kind kind;
	char reason[48];         /* the release's name; "" if none */
};

/* One goroutine's assists on one stack, in the report window. */
struct gc_assist {
	pid_t pid;
	uint64_t goid;
	uint64_t ns;        /* marking work (gcAssistAlloc1) as the runtime counts it:
			     * probe_ns less the probes' own cost per round (see gc_read) */
	uint64_t probe_ns;  /* from the entry probe to the RET probe of each round */
	uint64_t wall_ns;   /* time drafted in gcAssistAlloc, waiting for credit included */
	uint64_t count;     /* gcAssistAlloc calls */
	uint64_t rounds;    /* gcAssistAlloc1 calls (a call may mark several rounds) */
	uint64_t pcs[64];   /* innermost first; pcs[0] is the probe's pc */
	size_t npcs;
};

/* Sampled allocations on one stack, scaled as runtime/pprof scales them. */
struct gc_alloc {
	pid_t pid;
	uint64_t bytes, objects;   /* estimated totals */
	uint64_t samples;          /* samples seen */
	uint64_t pcs[64];
	size_t npcs;
};

/* What one target can be measured with: said once per target. */
struct gc_target_info {
	pid_t pid;
	char note[512];          /* "" or the figures not measured, and why */
	bool has_heap;           /* each cycle will carry the heap figures */
	bool has_cpu;            /* ... and the CPU split */
	bool has_now;            /* heap_goal, heap_live read at attach (the last cycle's) */
	uint64_t heap_goal, heap_live;
};

struct gc_report {
	struct gc_assist *assists;
	size_t nassists;
	struct gc_alloc *allocs;
	size_t nallocs;
	uint64_t drops_events, drops_assists, drops_allocs, drops_stacks;
};

struct gc_config {
	bool allocs;     /* probe the sampled allocations */
	bool assists;    /* probe mark assists */
	bool verbose;
};

struct gc_collector;

typedef void (*gc_cycle_fn)(const struct gc_cycle *c, void *arg);
typedef void (*gc_stw_fn)(const struct gc_stw *s, void *arg);

/* Load the BPF programs. NULL with the reason in ERR. */
struct gc_collector *gc_open(const struct gc_config *cfg, gc_cycle_fn on_cycle,
			     gc_stw_fn on_stw, void *arg, char *err, size_t errlen);

/*
 * Attach to target T. 0, or -1 with the reason in ERR (Go older than 1.17,
 * no probe point at all). Figures that cannot be measured in this release
 * are named in INFO->note; the rest is measured.
 */
int gc_add_target(struct gc_collector *c, struct target *t, struct gc_target_info *info,
		  char *err, size_t errlen);

/* Detach from T (exited or exec'd). */
void gc_remove_target(struct gc_collector *c, struct target *t);

/* The ring buffer's epoll fd, and a call consuming what it holds. */
int gc_fd(const struct gc_collector *c);
int gc_poll(struct gc_collector *c);

/*
 * Read (and clear) the assists and allocations of the window into R
 * (freed with gc_report_free). 0, or -1 out of memory.
 */
int gc_read(struct gc_collector *c, struct gc_report *r);
void gc_report_free(struct gc_report *r);

void gc_close(struct gc_collector *c);

#endif
