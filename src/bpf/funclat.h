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

/*
 * The response's status at the RET (FL_F_HTTP, fl_func.resp_header set):
 * rw (argument registers 1 and 2: itab, data) is an HTTP/1 *net/http.response
 * when its itab's first method (Header, the interface's methods sorted by
 * name; itab.fun at 24 in every release) is (*response).Header. Its fields are
 * then checked before the status is trusted: response.req is the request,
 * response.cw.res points back at the response, and wroteHeader agrees with
 * the status (0 before any header, 100..999 after).
 */
#define FL_HTTP_RW_ITAB_ARG 1
#define FL_HTTP_RW_DATA_ARG 2
#define FL_HTTP_ITAB_FUN0 24
#define FL_STATUS_UNKNOWN 0 /* not an HTTP/1 *http.response (HTTP/2, a wrapper) */
#define FL_STATUS_NONE 1    /* the handler wrote no header (net/http then sends 200,
			       unless the connection was hijacked) */
#define FL_STATUS_BAD 2     /* a *http.response whose fields did not check out */
#define FL_MAX_STATUS (FL_MAX_ROUTES * 4) /* distinct (route, status) pairs */

/* One probed function of one target: the uprobe's cookie is its index. */
struct fl_func {
	__u32 tgid;
	__s32 goid_off; /* offset of goid in runtime.g, -1 unknown */
	__u32 flags;
	__u32 pad;
	/* FL_F_HTTP: reading the response status at the RET (resp_header 0: not read) */
	__u64 resp_header;     /* runtime address of net/http.(*response).Header */
	__s32 resp_req_off;    /* response.req */
	__s32 resp_wrote_off;  /* response.wroteHeader (bool) */
	__s32 resp_cw_off;     /* response.cw (its first field cw.res points back) */
	__s32 resp_status_off; /* response.status (int) */
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
	__u32 status;          /* FL_F_HTTP: the response status, or FL_STATUS_* */
	__u32 pad;
	__u64 stack[FL_STACK_DEPTH];
};

/* Per route (FL_F_HTTP), since the start. */
struct fl_route_stats {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
	__u32 hist[GS_HIST_BUCKETS];
};

/* A route's requests by response status (FL_F_HTTP). */
struct fl_route_status {
	struct fl_route route;
	__u32 status; /* 100..999, or FL_STATUS_* */
	__u32 pad;
};

enum fl_drop {
	FL_DROP_EVENTS,   /* ring buffer full */
	FL_DROP_GSTATE,   /* goroutine map full */
	FL_DROP_INFLIGHT, /* more than FL_INFLIGHT probed calls nested */
	FL_DROP_NOG,      /* no goroutine found */
	FL_DROP_ROUTES,   /* route table full even for "(other)" */
	FL_DROP_STATUS,   /* (route, status) table full */
	FL_DROP_STATUS_BAD, /* a *http.response whose fields did not check out */
	FL_DROP_MAX,
};

enum fl_hit {
	FL_HIT_ENTRY,
	FL_HIT_EXIT,
	FL_HIT_MAX,
};

#endif
