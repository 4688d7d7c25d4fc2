/*
 * syscalls.h: what syscalls.bpf.c and the user side (collect/sysstat.c)
 * share (plain data).
 */
#ifndef GOSCOPE_BPF_SYSCALLS_H
#define GOSCOPE_BPF_SYSCALLS_H

#include "lib/hist.h"

#define SC_NR_MAX 512
/*
 * The single-target view keeps its statistics in a per-CPU array indexed
 * by SC_SLOT(nr, flags): no hash, no atomic increment per call.
 */
#define SC_SLOTS (2 * SC_NR_MAX)
#define SC_SLOT(nr, flags) ((nr) + (((flags) & SC_KEY_IDLE) ? SC_NR_MAX : 0))
/* Frames of an event's user stack: the kernel's perf_event_max_stack default. */
#define SC_STACK_DEPTH 127
#define SC_STR_MAX 256
#define SC_ADDR_MAX 128

enum sc_by {
	SC_BY_NONE = 0,
	SC_BY_TID = 1,
	SC_BY_GOID = 2,
};

enum sc_drop {
	SC_DROP_STATS = 0,  /* stats map full */
	SC_DROP_ERRS = 1,   /* errno map full */
	SC_DROP_EVENTS = 2, /* ring buffer full */
	SC_DROP_START = 3,  /* no per-thread start slot */
	SC_DROP_MAX = 4,
};

enum sc_event_kind {
	SC_EV_SLOW = 1, /* a call slower than the threshold */
	SC_EV_NET = 2,  /* a call the network rules look at */
};

struct sc_target {
	int goid_off; /* offset of goid in runtime.g, -1 if unknown */
};

/* argspec[nr] bits: which arguments to decode, and how nr is treated. */
#define SC_SPEC_PATH(s) ((s) & 0xf)          /* path argument index + 1 */
#define SC_SPEC_ADDR(s) (((s) >> 4) & 0xf)   /* sockaddr argument index + 1 */
#define SC_SPEC_ALEN(s) (((s) >> 8) & 0xf)   /* its length argument index + 1 */
#define SC_SPEC_ALEN_PTR (1u << 12)          /* the length is a pointer */
#define SC_SPEC_NET (1u << 13)               /* the network rules check it */
#define SC_SPEC_TRACED (1u << 14)            /* passes the -e filter */
#define SC_SPEC_IDLE (1u << 15)              /* goroutine 0's calls get their own row */

/* sc_key.flags */
#define SC_KEY_IDLE 1u /* made on goroutine 0: the runtime's own (g0, no user goroutine) */

struct sc_key {
	unsigned int tgid;
	unsigned short nr;
	unsigned short flags;  /* SC_KEY_* */
	unsigned long long id; /* tid, goid or 0, per `by` */
};

struct sc_stats {
	unsigned long long count;
	unsigned long long errors;
	unsigned long long total_ns;
	unsigned long long max_ns;
	unsigned long long min_ns; /* 0: none yet */
	unsigned int hist[GS_HIST_BUCKETS];
};

struct sc_errkey {
	unsigned int tgid;
	unsigned short nr;
	unsigned short flags;
	int err; /* positive errno */
	unsigned int pad;
	unsigned long long id; /* tid, goid or 0, as in sc_key */
};

/* A non-blocking connect waiting for its outcome (getsockopt SO_ERROR). */
struct sc_pending {
	struct sc_key key; /* the connect's row */
};

struct sc_start {
	unsigned long long ts;
	unsigned long long nr;
	unsigned long long args[6];
	unsigned long long win; /* sampled: the window the call entered in */
};

struct sc_event {
	unsigned long long ts;     /* bpf_ktime_get_ns at exit */
	unsigned long long dur_ns;
	unsigned long long goid;
	long long ret;
	unsigned long long args[6];
	unsigned int tgid;
	unsigned int tid;
	unsigned int nr;
	unsigned int kind;
	int nstack;                /* bytes of stack, or a negative error */
	int addrlen;               /* bytes in addr (a sockaddr), 0 if none */
	unsigned char addr[SC_ADDR_MAX];
	char str[SC_STR_MAX];      /* path argument, if any */
	unsigned long long stack[SC_STACK_DEPTH];
};

#endif
