/*
 * cpu: on-CPU samples of chosen Go processes, collected by cpu.bpf.c from
 * one perf event per CPU (cycles where the CPU has hardware counters,
 * else the cpu-clock software event) and aggregated in the kernel; read
 * here into a plain report: one row per (process, thread, goroutine,
 * user stack, kernel stack) with its count, the user stack's leaf fixed
 * up from the pclntab's frame-size table (see cpu.bpf.c).
 */
#ifndef GOSCOPE_COLLECT_CPU_H
#define GOSCOPE_COLLECT_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include <sys/types.h>

#include "../bpf/cpu.h"

struct cpu;
struct gobin;
struct ksyms;
struct target;
struct usyms;

struct cpu_opts {
	unsigned hz;      /* samples per second per CPU */
	bool kernel;      /* capture kernel stacks */
	bool goid_set;    /* only goroutine goid */
	uint64_t goid;
};

/* One aggregated row. */
struct cpu_row {
	pid_t pid, tid;
	uint64_t goid;      /* 0: g0, no g, or not kept (see cpu.h) */
	uint32_t flags;     /* CPU_F_* */
	uint64_t count;     /* samples */
	uint64_t *user;     /* run-time pcs, innermost first: user[0] the sample's ip */
	size_t nuser;       /* 0: lost (see user_err) */
	int user_err;       /* the stack id's errno when the user stack is missing */
	uint64_t *kern;     /* kernel pcs, innermost first */
	size_t nkern;
	bool fixed;         /* the leaf fix-up inserted user[1] */
};

/* A sampled process, as the formatters need it (owned by struct cpu). */
struct cpu_proc {
	pid_t pid;
	const char *name;
	const char *exe;
	struct gobin *gb;
	uint64_t bias;
	struct usyms *us; /* native frames; may be NULL */
};

struct cpu_goid {
	pid_t pid;
	uint64_t goid;
	uint64_t count;
};

struct cpu_report {
	struct cpu_row *rows;
	size_t nrows;
	struct cpu_goid *goids; /* by count, largest first */
	size_t ngoids;
	uint64_t samples;
	uint64_t fixed;         /* samples whose leaf was fixed up */
	uint64_t drops[CPU_DROP_MAX];
	const char *event;      /* "cpu-clock" or "cycles" */
	unsigned hz;
	size_t ncpus;           /* perf events opened */
	const struct cpu_proc *procs; /* every process sampled (the latest image last) */
	size_t nprocs;
	const struct ksyms *ks; /* kernel symbols, NULL if unreadable or not needed */
	char ks_err[200];       /* why ks is NULL when kernel stacks were asked for */
};

/*
 * Load the BPF program and open one sampling perf event per online CPU
 * (not yet attached). Returns 0, or -1 with one line naming what is
 * missing in ERR (BTF, BPF privileges, perf events).
 */
int cpu_open(struct cpu **out, const struct cpu_opts *o, char *err, size_t errlen);

/* Sample T from now on (T stays valid until cpu_drop_target). */
int cpu_add_target(struct cpu *c, struct target *t, char *err, size_t errlen);

/* Stop sampling T (exited or exec'd); what it collected stays readable. */
void cpu_drop_target(struct cpu *c, struct target *t);

/* Attach the program to the perf events: sampling starts. */
int cpu_start(struct cpu *c, char *err, size_t errlen);

/*
 * The leaf fix-up of frames larger than 8 bytes (Go <= 1.20 prologues,
 * see cpu.bpf.c) needs user space to answer the kernel's questions: the
 * frame size at each new leaf pc. cpu_fd is readable when there are some;
 * cpu_poll answers them.
 */
int cpu_fd(const struct cpu *c);
void cpu_poll(struct cpu *c);

/*
 * Read everything sampled so far into R (R's own memory, except procs and
 * ks, which C owns until cpu_close; free it with cpu_report_free).
 * Native symbols are refreshed from the live processes' mappings and
 * kernel symbols loaded on first need. 0, or -1 when out of memory.
 */
int cpu_read(struct cpu *c, struct cpu_report *r);
void cpu_report_free(struct cpu_report *r);

void cpu_close(struct cpu *c);

/* Drop reason names ("counts map full", ...). */
const char *cpu_drop_name(int why);

#endif
