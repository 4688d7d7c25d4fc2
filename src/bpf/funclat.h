/*
 * funclat.h: the structs funclat.bpf.c and collect/funclat.c share: the
 * probed functions, the per-goroutine stack of calls in flight, the
 * per-function statistics and the slow-call event.
 */
#ifndef GOSCOPE_FUNCLAT_H
#define GOSCOPE_FUNCLAT_H

#include "lib/hist.h"

#define FL_MAX_FUNCS 1024     /* probed (target, function) pairs, all targets */
#define FL_INFLIGHT 32        /* probed calls in flight on one goroutine */
#define FL_NARGS 6            /* integer argument registers kept with --args */
#define FL_STACK_DEPTH 64     /* user stack frames of a slow-call event */
#define FL_MAX_GOROUTINES 65536

#define FL_METHOD 8           /* HTTP method bytes kept (NUL-padded) */
#define FL_PATH 64            /* URL path bytes kept (NUL-padded, cut) */
#define FL_MAX_ROUTES 1024    /* distinct (process, method, path); then "(other)" */

/* fl_func.flags */
#define FL_F_REG_G 1 /* g is in R14 (amd64) / X28 (arm64): Go >= 1.17 ABIInternal */
#define FL_F_HTTP 2  /* net/http.serverHandler.ServeHTTP: time per route */

/*
 * Where net/http keeps the route (the same in every release since Go 1.5):
 * serverHandler.ServeHTTP(sh, rw, req): req is the 4th integer argument
 * register (sh: 1 word, rw: an interface, 2); Request.Method (a string) at
 * 0, Request.URL at 16; url.URL.Path (a string) at 56 (after Scheme,
 * Opaque, User and Host).
 */
#define FL_HTTP_REQ_ARG 3
#define FL_HTTP_METHOD_OFF 0
#define FL_HTTP_URL_OFF 16
#define FL_HTTP_PATH_OFF 56

/* One probed function of one target: the uprobe's cookie is its index. */
struct fl_func {
	__u32 tgid;
	__s32 goid_off; /* offset of goid in runtime.g, -1 unknown */
	__u32 flags;
	__u32 pad;
};

/* A goroutine: the process and its runtime.g pointer. */
struct fl_gkey {
	__u32 tgid;
	__u32 pad;
	__u64 g;
};

struct fl_route {
	__u32 tgid;
	__u32 func;
	char method[FL_METHOD];
	char path[FL_PATH];
};

struct fl_call {
	__u64 ts;    /* entry time, ns */
	__u64 depth; /* g.stack.hi - SP at entry (= at RET) */
	__u32 func;
	__u32 pad;
	__u64 args[FL_NARGS];
	struct fl_route route; /* FL_F_HTTP */
};

/* The probed calls in flight on one goroutine, innermost last. */
struct fl_gstate {
	__u64 goid; /* which goroutine owns the g now (g structs are reused) */
	__u32 n;
	__u32 pad;
	struct fl_call c[FL_INFLIGHT];
};

/*
 * A goroutine with a probed call in flight (`goscope why` watches these):
 * its goid and the outermost call's entry time.
 */
struct fl_watch {
	__u64 goid;
	__u64 ts;
};

/* Per function, since the start (user space takes differences). */
struct fl_stats {
	__u64 calls;    /* entries */
	__u64 timed;    /* calls timed (entry and RET seen) */
	__u64 total_ns;
	__u64 max_ns;
	__u64 unwound;  /* entered, left without a RET (panic, Goexit) */
	__u32 hist[GS_HIST_BUCKETS];
};

struct fl_event {
	__u64 ts;
	__u64 dur_ns;
	__u64 goid;
	__u64 g;        /* the runtime.g */
	__u32 tgid;
	__u32 tid;
	__u32 func;
	__s32 nstack;   /* bytes of stack[] written, or <0 */
	__u64 ip;       /* the RET's address */
	__u64 ret;      /* the return address into the caller */
	__u64 args[FL_NARGS];
	struct fl_route route; /* FL_F_HTTP: the request */
	__u64 stack[FL_STACK_DEPTH];
};

/* Per route (FL_F_HTTP), since the start. */
struct fl_route_stats {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
	__u32 hist[GS_HIST_BUCKETS];
};

enum fl_drop {
	FL_DROP_EVENTS,   /* ring buffer full */
	FL_DROP_GSTATE,   /* goroutine map full */
	FL_DROP_INFLIGHT, /* more than FL_INFLIGHT probed calls nested */
	FL_DROP_NOG,      /* no goroutine found */
	FL_DROP_ROUTES,   /* route table full even for "(other)" */
	FL_DROP_MAX,
};

enum fl_hit {
	FL_HIT_ENTRY,
	FL_HIT_EXIT,
	FL_HIT_MAX,
};

#endif
