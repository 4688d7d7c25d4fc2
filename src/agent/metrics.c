/*
 * agent/metrics: the agent's counters as Prometheus text and JSON lines
 * (see agent.h for the label rules).
 */
#include "agent.h"
#include "latency.h"

#include "../collect/health.h"
#include "../collect/sysstat.h"
#include "../core/session.h"
#include "../output/promtext.h"
#include "../proc/names.h"
#include "../proc/syscalls.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

void agent_render(struct agent *a, struct session *s, struct promtext *pt)
{
	char pidbuf[16], nbuf[32], ebuf[16], le[32];
	size_t ntracked = 0;
	struct rusage ru;
	long rss_pages = 0;
	FILE *f;

	promtext_reset(pt);
	for (size_t i = 0; i < s->ntargets; i++)
		ntracked += s->targets[i]->priv != NULL;

#define AG_FOR_PROCS                                                                     \
	for (size_t i = 0; i < s->ntargets; i++)                                         \
		if (s->targets[i]->priv)
#define AG_LABELS(p)                                                                     \
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)(p)->t->pid);                         \
	struct promtext_label lab[3] = { { "pid", pidbuf }, { "exe", (p)->exe },         \
					 { "go_version", (p)->go_version } }

	if ((a->cfg->collectors & AGENT_COL_SYSCALLS)) {
		/*
		 * Sampled, the counts are estimates accumulated as doubles; calls
		 * are shown rounded (rounding keeps a growing value growing).
		 */
		promtext_family(pt, "goscope_syscalls_total", "counter",
				a->sc_sampled ? "System calls made (sampled: an estimate, see "
						"goscope_syscalls_sampling_duty)."
					      : "System calls made.");
		AG_FOR_PROCS {
			struct agent_proc *p = s->targets[i]->priv;

			AG_LABELS(p);
			for (uint32_t nr = 0; p->sys && nr < SC_NR_MAX; nr++) {
				struct promtext_label x = { "syscall", NULL };

				if (!(p->sys[nr].count > 0))
					continue;
				x.value = names_syscall(nr, nbuf, sizeof(nbuf));
				promtext_sample(pt, "goscope_syscalls_total", lab, 3, &x, 1,
						round(p->sys[nr].count));
			}
		}
		promtext_family(pt, "goscope_syscall_errors_total", "counter",
				a->sc_sampled ? "System calls that failed, by errno (sampled: an "
						"estimate)."
					      : "System calls that failed, by errno.");
		AG_FOR_PROCS {
			struct agent_proc *p = s->targets[i]->priv;

			AG_LABELS(p);
			for (size_t k = 0; k < p->nerrnos; k++) {
				struct promtext_label x[2] = {
					{ "syscall", names_syscall(p->errnos[k].nr, nbuf, sizeof(nbuf)) },
					{ "errno", names_errno(p->errnos[k].err, ebuf, sizeof(ebuf)) },
				};

				promtext_sample(pt, "goscope_syscall_errors_total", lab, 3, x, 2,
						round(p->errnos[k].count));
			}
		}
		promtext_family(pt, "goscope_syscall_duration_seconds", "histogram",
				a->sc_sampled ? "Time spent in system calls (sampled: an estimate)."
					      : "Time spent in system calls.");
		AG_FOR_PROCS {
			struct agent_proc *p = s->targets[i]->priv;

			AG_LABELS(p);
			for (uint32_t nr = 0; p->sys && nr < SC_NR_MAX; nr++) {
				struct agent_sc *y = &p->sys[nr];
				struct promtext_label x[2] = { { "syscall", names_syscall(nr, nbuf, sizeof(nbuf)) },
							       { "le", le } };

				if (!(y->count > 0))
					continue;
				for (size_t k = 0; k < AGENT_NLE; k++) {
					snprintf(le, sizeof(le), "%g", agent_le[k]);
					promtext_sample(pt, "goscope_syscall_duration_seconds_bucket", lab, 3, x,
							2, round(y->le[k]));
				}
				snprintf(le, sizeof(le), "+Inf");
				promtext_sample(pt, "goscope_syscall_duration_seconds_bucket", lab, 3, x, 2,
						round(y->count));
				promtext_sample(pt, "goscope_syscall_duration_seconds_sum", lab, 3, x, 1,
						y->seconds);
				promtext_sample(pt, "goscope_syscall_duration_seconds_count", lab, 3, x, 1,
						round(y->count));
			}
		}
		if (a->ss) {
			promtext_family(pt, "goscope_syscalls_sampling_duty", "gauge",
				"Share of the last collection interval the syscall tracepoints were "
				"attached (1: every call traced). Below 1 the syscall counts, errors and "
				"durations are estimates: what the sampling windows saw, scaled by "
				"wall time / attached time.");
			promtext_sample(pt, "goscope_syscalls_sampling_duty", NULL, 0, NULL, 0,
					a->sc_duty);
			promtext_family(pt, "goscope_syscalls_traced_seconds_total", "counter",
					"Seconds the syscall tracepoints were attached (the sample behind "
					"the estimates: 100 ms windows at random times).");
			promtext_sample(pt, "goscope_syscalls_traced_seconds_total", NULL, 0, NULL, 0,
					a->sc_traced_s);
		}
	}
	if ((a->cfg->collectors & AGENT_COL_OFFCPU)) {
		promtext_family(pt, "goscope_goroutines", "gauge",
				"Goroutines (not dead) at the last snapshot, by state.");
		AG_FOR_PROCS {
			struct agent_proc *p = s->targets[i]->priv;

			AG_LABELS(p);
			if (!p->oc_ok)
				continue;
			if (!p->lk) {
				promtext_sample(pt, "goscope_goroutines", lab, 3, NULL, 0,
						(double)p->goroutines);
				continue;
			}
			for (uint32_t st = 0; st < AGENT_NSTATES; st++) {
				struct promtext_label x = { "state", names_gstatus(st) };

				if (st == GS_DEAD || (!p->gstates[st] && st != GS_RUNNING &&
						      st != GS_WAITING && st != GS_RUNNABLE))
					continue;
				promtext_sample(pt, "goscope_goroutines", lab, 3, &x, 1,
						(double)p->gstates[st]);
			}
		}
		promtext_family(pt, "goscope_goroutine_growth", "gauge",
				"Goroutines per second at the creation sites (go statements) that grew or "
				"shrank most over the last interval (at most 5 a process).");
		AG_FOR_PROCS {
			struct agent_proc *p = s->targets[i]->priv;

			AG_LABELS(p);
			for (size_t k = 0; k < p->ngrowth; k++) {
				struct promtext_label x = { "created_by", p->growth[k].site };

				promtext_sample(pt, "goscope_goroutine_growth", lab, 3, &x, 1,
						p->growth[k].growth);
			}
		}
		promtext_family(pt, "goscope_goroutine_blocked_seconds_total", "counter",
				"Goroutine time not running, by the runtime's wait reason (sampled).");
		AG_FOR_PROCS {
			struct agent_proc *p = s->targets[i]->priv;

			AG_LABELS(p);
			for (size_t k = 0; k < p->nreasons; k++) {
				struct promtext_label x = { "reason", p->reasons[k].name };

				promtext_sample(pt, "goscope_goroutine_blocked_seconds_total", lab, 3, &x, 1,
						p->reasons[k].seconds);
			}
		}
	}
	if ((a->cfg->collectors & AGENT_COL_HEALTH)) {
		promtext_family(pt, "goscope_runq_delay_seconds_total", "counter",
				"Time the process's threads waited in the CPU run queue.");
		AG_FOR_PROCS {
			AG_LABELS((struct agent_proc *)s->targets[i]->priv);
			promtext_sample(pt, "goscope_runq_delay_seconds_total", lab, 3, NULL, 0,
					((struct agent_proc *)s->targets[i]->priv)->runq_seconds);
		}
		promtext_family(pt, "goscope_cfs_throttled_periods_total", "counter",
				"CFS periods in which the process's cgroup was throttled.");
		AG_FOR_PROCS {
			AG_LABELS((struct agent_proc *)s->targets[i]->priv);
			promtext_sample(pt, "goscope_cfs_throttled_periods_total", lab, 3, NULL, 0,
					(double)((struct agent_proc *)s->targets[i]->priv)->cg.nr_throttled);
		}
		promtext_family(pt, "goscope_tcp_retransmits_total", "counter",
				"TCP segments retransmitted on the process's sockets.");
		AG_FOR_PROCS {
			AG_LABELS((struct agent_proc *)s->targets[i]->priv);
			promtext_sample(pt, "goscope_tcp_retransmits_total", lab, 3, NULL, 0,
					(double)((struct agent_proc *)s->targets[i]->priv)->tcp_retrans);
		}
		promtext_family(pt, "goscope_major_faults_total", "counter", "Major page faults.");
		AG_FOR_PROCS {
			AG_LABELS((struct agent_proc *)s->targets[i]->priv);
			promtext_sample(pt, "goscope_major_faults_total", lab, 3, NULL, 0,
					(double)((struct agent_proc *)s->targets[i]->priv)->majflt);
		}
		promtext_family(pt, "goscope_open_fds", "gauge", "Open file descriptors.");
		AG_FOR_PROCS {
			AG_LABELS((struct agent_proc *)s->targets[i]->priv);
			promtext_sample(pt, "goscope_open_fds", lab, 3, NULL, 0, (double)((struct agent_proc *)s->targets[i]->priv)->open_fds);
		}
	}
	if (a->gc) {
		promtext_family(pt, "goscope_gc_cycles_total", "counter",
				"GC cycles ended since the agent attached.");
		AG_FOR_PROCS {
			struct agent_proc *p = s->targets[i]->priv;

			AG_LABELS(p);
			if (p->gc_ok)
				promtext_sample(pt, "goscope_gc_cycles_total", lab, 3, NULL, 0,
						(double)p->gc_cycles);
		}
		promtext_family(pt, "goscope_gc_pause_seconds", "histogram",
				"Stop-the-world pauses (stopping included), by phase: the GC's sweep "
				"and mark termination, other (any other reason).");
		AG_FOR_PROCS {
			struct agent_proc *p = s->targets[i]->priv;

			AG_LABELS(p);
			if (!p->gc_ok)
				continue;
			for (int ph = 0; ph < AGENT_GC_NPHASES; ph++) {
				struct agent_sys *y = &p->gc_pause[ph];
				struct promtext_label x[2] = { { "phase", agent_gc_phase_names[ph] },
							       { "le", le } };

				for (size_t k = 0; k < AGENT_NLE; k++) {
					snprintf(le, sizeof(le), "%g", agent_le[k]);
					promtext_sample(pt, "goscope_gc_pause_seconds_bucket", lab, 3, x, 2,
							(double)y->le[k]);
				}
				snprintf(le, sizeof(le), "+Inf");
				promtext_sample(pt, "goscope_gc_pause_seconds_bucket", lab, 3, x, 2,
						(double)y->count);
				promtext_sample(pt, "goscope_gc_pause_seconds_sum", lab, 3, x, 1, y->seconds);
				promtext_sample(pt, "goscope_gc_pause_seconds_count", lab, 3, x, 1,
						(double)y->count);
			}
		}
		promtext_family(pt, "goscope_gc_heap_goal_bytes", "gauge",
				"The heap goal at the last GC cycle (the runtime's).");
		AG_FOR_PROCS {
			struct agent_proc *p = s->targets[i]->priv;

			AG_LABELS(p);
			if (p->gc_ok && p->gc_has_heap)
				promtext_sample(pt, "goscope_gc_heap_goal_bytes", lab, 3, NULL, 0,
						(double)p->gc_heap_goal);
		}
		promtext_family(pt, "goscope_gc_heap_live_bytes", "gauge",
				"The heap marked live by the last GC cycle (the runtime's).");
		AG_FOR_PROCS {
			struct agent_proc *p = s->targets[i]->priv;

			AG_LABELS(p);
			if (p->gc_ok && p->gc_has_heap)
				promtext_sample(pt, "goscope_gc_heap_live_bytes", lab, 3, NULL, 0,
						(double)p->gc_heap_live);
		}
		promtext_family(pt, "goscope_gc_assist_seconds_total", "counter",
				"CPU time goroutines spent in mark assists, as the runtime accounts it.");
		AG_FOR_PROCS {
			struct agent_proc *p = s->targets[i]->priv;

			AG_LABELS(p);
			if (p->gc_ok && p->gc_has_cpu)
				promtext_sample(pt, "goscope_gc_assist_seconds_total", lab, 3, NULL, 0,
						p->gc_assist_seconds);
		}
		promtext_family(pt, "goscope_stw_pauses_total", "counter",
				"Stop-the-world pauses, by the release's reason (the GC's included).");
		AG_FOR_PROCS {
			struct agent_proc *p = s->targets[i]->priv;

			AG_LABELS(p);
			for (size_t k = 0; p->gc_ok && k < p->nstw; k++) {
				struct promtext_label x = { "reason", p->stw[k].reason };

				promtext_sample(pt, "goscope_stw_pauses_total", lab, 3, &x, 1,
						(double)p->stw[k].count);
			}
		}
	}
#undef AG_FOR_PROCS
#undef AG_LABELS
	agent_lat_render(a->lat, pt);

	promtext_family(pt, "goscope_tracked_processes", "gauge", "Go processes the agent traces.");
	promtext_sample(pt, "goscope_tracked_processes", NULL, 0, NULL, 0, (double)ntracked);
	promtext_family(pt, "goscope_dropped_events_total", "counter",
			"What the agent could not record, by source.");
	{
		struct promtext_label x = { "source", NULL };
		struct {
			const char *name;
			uint64_t v;
		} d[] = {
			{ "syscall_stats", a->ss ? sysstat_drops(a->ss, SC_DROP_STATS) : 0 },
			{ "syscall_errnos", a->ss ? sysstat_drops(a->ss, SC_DROP_ERRS) : 0 },
			{ "syscall_starts", a->ss ? sysstat_drops(a->ss, SC_DROP_START) : 0 },
			{ "health_runq", a->h ? health_drops(a->h, HL_DROP_RUNQ) : 0 },
			{ "health_maps", a->h ? health_drops(a->h, HL_DROP_MAPS) : 0 },
			{ "offcpu_torn_stacks", a->offcpu_torn },
			{ "processes_over_limit", a->dropped_processes },
			{ "processes_untraceable", a->untraceable },
		};

		for (size_t k = 0; k < sizeof(d) / sizeof(d[0]); k++) {
			x.value = d[k].name;
			promtext_sample(pt, "goscope_dropped_events_total", NULL, 0, &x, 1, (double)d[k].v);
		}
	}
	getrusage(RUSAGE_SELF, &ru);
	promtext_family(pt, "process_cpu_seconds_total", "counter", "CPU time of the agent.");
	promtext_sample(pt, "process_cpu_seconds_total", NULL, 0, NULL, 0,
			(double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
				(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%*d %ld", &rss_pages) != 1)
			rss_pages = 0;
		fclose(f);
	}
	promtext_family(pt, "process_resident_memory_bytes", "gauge", "Resident memory of the agent.");
	promtext_sample(pt, "process_resident_memory_bytes", NULL, 0, NULL, 0,
			(double)rss_pages * (double)sysconf(_SC_PAGESIZE));
	promtext_family(pt, "goscope_scrapes_total", "counter", "Requests for /metrics served.");
	promtext_sample(pt, "goscope_scrapes_total", NULL, 0, NULL, 0, (double)a->scrapes);
}

void agent_json(struct agent *a, struct session *s)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	for (size_t i = 0; i < s->ntargets; i++) {
		struct agent_proc *p = s->targets[i]->priv;

		if (!p)
			continue;
		jsonw_obj_begin(&a->jw);
		jsonw_kdouble(&a->jw, "time", (double)now.tv_sec + (double)now.tv_nsec / 1e9);
		jsonw_kint(&a->jw, "pid", p->t->pid);
		jsonw_kstr(&a->jw, "exe", p->exe);
		jsonw_kstr(&a->jw, "go_version", p->go_version);
		jsonw_kdouble(&a->jw, "tracked_since", p->tracked_since);
		if (p->oc_ok) /* not read: no offcpu collector, or Go < 1.17 */
			jsonw_kuint(&a->jw, "goroutines", p->goroutines);
		jsonw_kuint(&a->jw, "open_fds", p->open_fds);
		jsonw_kdouble(&a->jw, "runq_delay_seconds_total", p->runq_seconds);
		jsonw_kuint(&a->jw, "cfs_throttled_periods_total", p->cg.nr_throttled);
		jsonw_kuint(&a->jw, "tcp_retransmits_total", p->tcp_retrans);
		jsonw_kuint(&a->jw, "major_faults_total", p->majflt);
		jsonw_key(&a->jw, "syscalls_total");
		jsonw_obj_begin(&a->jw);
		for (uint32_t nr = 0; p->sys && nr < SC_NR_MAX; nr++)
			if (p->sys[nr].count > 0 && syscalls_name(nr))
				jsonw_kuint(&a->jw, syscalls_name(nr), (uint64_t)llround(p->sys[nr].count));
		jsonw_obj_end(&a->jw);
		if (a->ss) {
			jsonw_kdouble(&a->jw, "syscalls_sampling_duty", a->sc_duty);
			jsonw_kdouble(&a->jw, "syscalls_traced_seconds_total", a->sc_traced_s);
		}
		if (p->gc_ok) {
			jsonw_kuint(&a->jw, "gc_cycles_total", p->gc_cycles);
			if (p->gc_has_heap) {
				jsonw_kuint(&a->jw, "gc_heap_goal_bytes", p->gc_heap_goal);
				jsonw_kuint(&a->jw, "gc_heap_live_bytes", p->gc_heap_live);
			}
			if (p->gc_has_cpu)
				jsonw_kdouble(&a->jw, "gc_assist_seconds_total", p->gc_assist_seconds);
			jsonw_key(&a->jw, "stw_pauses_total");
			jsonw_obj_begin(&a->jw);
			for (size_t k = 0; k < p->nstw; k++)
				jsonw_kuint(&a->jw, p->stw[k].reason, p->stw[k].count);
			jsonw_obj_end(&a->jw);
		}
		jsonw_key(&a->jw, "blocked_seconds_total");
		jsonw_obj_begin(&a->jw);
		for (size_t k = 0; k < p->nreasons; k++)
			jsonw_kdouble(&a->jw, p->reasons[k].name, p->reasons[k].seconds);
		jsonw_obj_end(&a->jw);
		agent_lat_json(a->lat, &a->jw, p->t->pid);
		jsonw_obj_end(&a->jw);
	}
	fflush(a->jl);
}

