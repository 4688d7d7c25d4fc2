/*
 * gc.h: what gc.bpf.c and collect/gc.c share: the per-target
 * configuration and probe state, the ring buffer events (one per GC cycle
 * and per stop-the-world pause) and the keys of the assist and allocation
 * aggregates.
 */
#ifndef GOSCOPE_BPF_GC_H
#define GOSCOPE_BPF_GC_H

#define GC_NREADS 20       /* run-time words read at the end of a cycle */
#define GC_REASON_LEN 32
#define GC_STACK_DEPTH 64

enum gc_event_kind {
	GC_EV_CYCLE = 1, /* gcMarkTermination returned: the cycle's figures */
	GC_EV_STW = 2,   /* startTheWorldWithSema returned: one pause */
};

enum gc_drop {
	GC_DROP_RINGBUF,  /* ring buffer full */
	GC_DROP_ASSIST,   /* assist table full */
	GC_DROP_ALLOC,    /* allocation table full */
	GC_DROP_STACK,    /* stack not captured (stack table full) */
	GC_DROP_MAX
};

/* How stopTheWorldWithSema names its reason. */
enum gc_reason_src {
	GC_REASON_NONE = 0,
	GC_REASON_PREEMPTOFF = 1, /* <= 1.20: the string in m.preemptoff */
	GC_REASON_ARG = 2,        /* >= 1.21: the stwReason argument (RAX / X0) */
};

/* Per target: set by user space, then the probes' state. */
struct gc_target {
	/* configuration */
	__u64 reads[GC_NREADS];  /* run-time addresses; 0: none */
	__s32 goid_off;          /* runtime.g goid */
	__s32 g_m_off;           /* runtime.g m */
	__s32 m_preemptoff_off;  /* runtime.m preemptoff (string), -1 */
	__u32 reason_src;        /* enum gc_reason_src */
	__u32 alloc_size_arg;    /* argument number (0-based) of the size at the alloc probe */
	__u32 pad0;
	/* state, written by the probes */
	__u64 trigger_ns;        /* last gcStart entry */
	__u64 trigger;           /* its gcTrigger.kind */
	__u64 stop_ns;           /* stopTheWorldWithSema entered */
	__u64 stopped_ns;        /* ... returned */
	__u32 reason;            /* stwReason (GC_REASON_ARG) */
	__u32 pad1;
	char reason_str[GC_REASON_LEN];
	__u64 assist_ns;         /* gcAssistAlloc1 probe-timed, since the last cycle ended */
	__u64 assist_rounds;     /* ... its calls */
};

struct gc_event {
	__u32 kind;              /* enum gc_event_kind */
	__u32 pid;
	__u64 ts;                /* CLOCK_MONOTONIC ns */
	/* GC_EV_CYCLE */
	__u64 trigger;
	__u64 trigger_ns;
	__u64 vals[GC_NREADS];   /* the words at gc_target.reads */
	/* GC_EV_STW */
	__u64 stop_ns, stopped_ns; /* ts: the world restarted */
	__u32 reason;
	__u32 pad;
	char reason_str[GC_REASON_LEN];
	/* GC_EV_CYCLE: the marking rounds of the cycle, as the probes timed them */
	__u64 assist_ns, assist_rounds;
};

/* Assist time per goroutine and stack. */
struct gc_assist_key {
	__u32 pid;
	__s32 stackid;
	__u64 goid;
};

struct gc_assist_val {
	__u64 ns;       /* in gcAssistAlloc1: marking work (the runtime's assist CPU) */
	__u64 wall_ns;  /* in gcAssistAlloc: drafted, waiting for credit included */
	__u64 count;    /* gcAssistAlloc calls */
	__u64 calls1;   /* gcAssistAlloc1 calls (marking rounds) */
};

/* A goroutine in gcAssistAlloc (keyed by its g). */
struct gc_assist_cur {
	__u64 start_ns;
	__u64 goid;
	__s32 stackid;
	__u32 pid;
};

/* A thread in gcAssistAlloc1 (system stack, keyed by thread id). */
struct gc_assist1 {
	__u64 start_ns;
	__u64 gp;
};

/* Sampled allocations per stack and size. */
struct gc_alloc_key {
	__u32 pid;
	__s32 stackid;
	__u64 size;
};

#endif
