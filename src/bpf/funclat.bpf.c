// SPDX-License-Identifier: GPL-2.0
/*
 * funclat.bpf.c: latency of chosen Go functions, per call, without
 * uretprobes.
 *
 * fl_entry runs at a function's entry (after its stack-check prologue, so a
 * morestack re-run does not fire it twice), fl_exit at each of its RETs and
 * tail jumps; the uprobe's cookie is the function's index in `funcs`. A call
 * in flight is kept on its goroutine (runtime.g, from R14/X28 in Go's
 * register ABI), not its thread: a goroutine may leave on another thread.
 * Its depth g.stack.hi - SP is the same at the entry site and at a RET (the
 * frame is not yet allocated at the one and popped at the other), survives
 * the runtime copying the stack, and tells recursive calls apart.
 *
 * A goroutine's calls in flight form a stack, innermost last. A call that
 * never reaches a RET (a panic unwinding through it, runtime.Goexit) is
 * found when the goroutine next enters a probed function at the same or a
 * shallower depth, or returns from a shallower one, or when its g is reused
 * by another goroutine (another goid): it is counted as unwound and
 * forgotten. User space sweeps the goroutines that exited meanwhile.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "funclat.h"
#include "lib/go.bpf.h"
#include "lib/hist.bpf.h"
#include "lib/maps.bpf.h"
#include "lib/watched.bpf.h"

const volatile __u64 slow_ns = 0;
const volatile bool keep_args = false;
const volatile __u32 sample = 1; /* time one call in SAMPLE */
const volatile bool watch = false; /* keep `watched` (goscope why) */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FL_MAX_FUNCS);
	__type(key, __u32);
	__type(value, struct fl_func);
} funcs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FL_MAX_FUNCS);
	__type(key, __u32);
	__type(value, struct fl_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, FL_MAX_GOROUTINES);
	__type(key, struct fl_gkey);
	__type(value, struct fl_gstate);
} gstates SEC(".maps");

/* A zeroed goroutine state to insert from (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fl_gstate);
} zero_gstate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, FL_MAX_ROUTES + 64);
	__type(key, struct fl_route);
	__type(value, struct fl_route_stats);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fl_route_stats);
} zero_route SEC(".maps");

/* Distinct routes inserted (the table keeps room for each "(other)"). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} nroutes SEC(".maps");

/* Requests per (route, response status), since the start. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, FL_MAX_STATUS);
	__type(key, struct fl_route_status);
	__type(value, __u64);
} route_status SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fl_route_status);
} status_key SEC(".maps");

GS_EVENTS_MAP(1 << 20);

GS_DROPS_MAP(FL_DROP_MAX);

/* Probe hits by kind (goscope's own cost in the target). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FL_HIT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

/* --sample: entries seen on this CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sample_ctr SEC(".maps");

static __always_inline void fl_hit(__u32 kind)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &kind);

	if (v)
		*v += 1;
}

/* The goroutine running the probed code. */
static __always_inline __u64 fl_g(struct pt_regs *ctx, const struct fl_func *f)
{
	if (f->flags & FL_F_REG_G) {
#if defined(__TARGET_ARCH_x86)
		return ctx->r14;
#elif defined(__TARGET_ARCH_arm64)
		return ctx->regs[28];
#endif
	}
	return gs_current_g();
}

static __always_inline void fl_args(struct pt_regs *ctx, __u64 *a)
{
#if defined(__TARGET_ARCH_x86)
	a[0] = ctx->ax;
	a[1] = ctx->bx;
	a[2] = ctx->cx;
	a[3] = ctx->di;
	a[4] = ctx->si;
	a[5] = ctx->r8;
#elif defined(__TARGET_ARCH_arm64)
	a[0] = ctx->regs[0];
	a[1] = ctx->regs[1];
	a[2] = ctx->regs[2];
	a[3] = ctx->regs[3];
	a[4] = ctx->regs[4];
	a[5] = ctx->regs[5];
#endif
}

/* Read the request's method and URL path (FL_F_HTTP) into R. */
static __always_inline void fl_http_route(const __u64 *args, struct fl_route *r)
{
	__u64 req = args[FL_HTTP_REQ_ARG], m[2] = {}, p[2] = {}, url = 0;

	__builtin_memset(r->method, 0, sizeof(r->method));
	__builtin_memset(r->path, 0, sizeof(r->path));
	if (!req || bpf_probe_read_user(m, sizeof(m), (void *)(req + FL_HTTP_METHOD_OFF)) ||
	    bpf_probe_read_user(&url, sizeof(url), (void *)(req + FL_HTTP_URL_OFF)) || !url ||
	    bpf_probe_read_user(p, sizeof(p), (void *)(url + FL_HTTP_PATH_OFF)))
		return;
	if (m[1] > FL_METHOD - 1)
		m[1] = FL_METHOD - 1;
	if (p[1] > FL_PATH - 1)
		p[1] = FL_PATH - 1;
	if (m[0] && m[1])
		bpf_probe_read_user(r->method, m[1] & (FL_METHOD - 1), (void *)m[0]);
	if (p[0] && p[1])
		bpf_probe_read_user(r->path, p[1] & (FL_PATH - 1), (void *)p[0]);
}

/*
 * The response status of a request at its RET, from the response writer
 * kept at entry (see FL_HTTP_ITAB_FUN0 in funclat.h): 100..999, or
 * FL_STATUS_UNKNOWN / _NONE / _BAD.
 */
static __always_inline __u32 fl_http_status(const struct fl_func *f, const struct fl_call *c)
{
	__u64 itab = c->args[FL_HTTP_RW_ITAB_ARG], rw = c->args[FL_HTTP_RW_DATA_ARG];
	__u64 fun0 = 0, req = 0, self = 0;
	__s64 status = 0;
	__u8 wrote = 0;

	if (!f->resp_header || !itab || !rw ||
	    bpf_probe_read_user(&fun0, sizeof(fun0), (void *)(itab + FL_HTTP_ITAB_FUN0)) ||
	    fun0 != f->resp_header)
		return FL_STATUS_UNKNOWN;
	if (bpf_probe_read_user(&req, sizeof(req), (void *)(rw + f->resp_req_off)) ||
	    bpf_probe_read_user(&self, sizeof(self), (void *)(rw + f->resp_cw_off)) ||
	    bpf_probe_read_user(&wrote, sizeof(wrote), (void *)(rw + f->resp_wrote_off)) ||
	    bpf_probe_read_user(&status, sizeof(status), (void *)(rw + f->resp_status_off)))
		return FL_STATUS_BAD;
	if (req != c->args[FL_HTTP_REQ_ARG] || self != rw || wrote > 1)
		return FL_STATUS_BAD;
	if (!wrote)
		return status == 0 ? FL_STATUS_NONE : FL_STATUS_BAD;
	if (status < 100 || status > 999)
		return FL_STATUS_BAD;
	return (__u32)status;
}

/* Count a finished request under its (final) route and STATUS. */
static __always_inline void fl_status_add(const struct fl_route *r, __u32 status)
{
	__u32 zero = 0;
	struct fl_route_status *k = bpf_map_lookup_elem(&status_key, &zero);

	if (!k)
		return;
	__builtin_memcpy(&k->route, r, sizeof(k->route));
	k->status = status;
	k->pad = 0;
	if (!gs_count_key(&route_status, k))
		gs_count_drop(&drops, FL_DROP_STATUS);
}

/* Add a finished request to its route's statistics. */
static __always_inline void fl_route_add(struct fl_route *r, __u64 dur, __u32 status)
{
	struct fl_route_stats *s = bpf_map_lookup_elem(&routes, r);
	__u32 zero = 0;

	if (!s) {
		__u64 *n = bpf_map_lookup_elem(&nroutes, &zero);

		if (n && *n >= FL_MAX_ROUTES) {
			/* Bounded: the rest of this process's routes share one row. */
			__builtin_memset(r->path, 0, sizeof(r->path));
			__builtin_memcpy(r->path, "(other)", 8);
			__builtin_memset(r->method, 0, sizeof(r->method));
		} else if (n) {
			__sync_fetch_and_add(n, 1);
		}
		s = gs_lookup_or_init(&routes, r, bpf_map_lookup_elem(&zero_route, &zero));
		if (!s) {
			gs_count_drop(&drops, FL_DROP_ROUTES);
			return;
		}
	}
	__sync_fetch_and_add(&s->count, 1);
	__sync_fetch_and_add(&s->total_ns, dur);
	__sync_fetch_and_add(&s->hist[gs_hist_bucket(dur)], 1);
	if (dur > s->max_ns)
		s->max_ns = dur;
	fl_status_add(r, status);
}

/* G has no call in flight any more. */
static __always_inline void fl_forget(struct fl_gkey *key)
{
	bpf_map_delete_elem(&gstates, key);
	if (watch)
		bpf_map_delete_elem(&watched, key);
}

static __always_inline void fl_unwound(__u32 func)
{
	struct fl_stats *s = bpf_map_lookup_elem(&stats, &func);

	if (s)
		__sync_fetch_and_add(&s->unwound, 1);
}

/* Forget the calls in flight at DEPTH or deeper (DEEPER_ONLY: deeper only). */
static __always_inline void fl_pop_stale(struct fl_gstate *st, __u64 depth, bool deeper_only)
{
	for (int i = 0; i < FL_INFLIGHT; i++) {
		__u32 n = st->n, top;

		if (n == 0 || n > FL_INFLIGHT)
			break;
		top = (n - 1) & (FL_INFLIGHT - 1); /* for the verifier */
		if (st->c[top].depth < depth || (deeper_only && st->c[top].depth == depth))
			break;
		fl_unwound(st->c[top].func);
		st->n = top;
	}
}

SEC("uprobe")
int fl_entry(struct pt_regs *ctx)
{
	__u32 id = (__u32)bpf_get_attach_cookie(ctx), zero = 0;
	struct fl_func *f = bpf_map_lookup_elem(&funcs, &id);
	struct fl_gkey key = {};
	struct fl_gstate *st;
	struct fl_stats *s;
	struct fl_call *c;
	__u64 g, depth, goid;
	bool timed = true;

	fl_hit(FL_HIT_ENTRY);
	if (!f || !f->tgid)
		return 0;
	s = bpf_map_lookup_elem(&stats, &id);
	if (s)
		__sync_fetch_and_add(&s->calls, 1);
	g = fl_g(ctx, f);
	depth = gs_stack_depth(g, PT_REGS_SP(ctx));
	if (!g || !depth) {
		gs_count_drop(&drops, FL_DROP_NOG);
		return 0;
	}
	goid = gs_goid_of(g, f->goid_off);
	if (sample > 1) {
		__u64 *n = bpf_map_lookup_elem(&sample_ctr, &zero);

		if (n && (*n)++ % sample)
			timed = false;
	}
	key.tgid = f->tgid;
	key.g = g;
	st = bpf_map_lookup_elem(&gstates, &key);
	if (st && st->goid != goid) {
		/* The g now runs another goroutine: the old one's calls are gone. */
		fl_pop_stale(st, 0, false);
		st->goid = goid;
	}
	if (st)
		fl_pop_stale(st, depth, false);
	if (!timed) {
		if (st && st->n == 0)
			fl_forget(&key);
		return 0;
	}
	if (!st) {
		st = gs_lookup_or_init(&gstates, &key, bpf_map_lookup_elem(&zero_gstate, &zero));
		if (!st) {
			gs_count_drop(&drops, FL_DROP_GSTATE);
			return 0;
		}
		st->goid = goid;
		st->n = 0;
	}
	if (st->n >= FL_INFLIGHT) {
		gs_count_drop(&drops, FL_DROP_INFLIGHT);
		return 0;
	}
	c = &st->c[st->n & (FL_INFLIGHT - 1)];
	c->depth = depth;
	c->func = id;
	if (keep_args || (f->flags & FL_F_HTTP))
		fl_args(ctx, c->args);
	if (f->flags & FL_F_HTTP) {
		fl_http_route(c->args, &c->route);
		c->route.tgid = f->tgid;
		c->route.func = id;
	}
	c->ts = bpf_ktime_get_ns();
	st->n++;
	if (watch && st->n == 1) {
		struct fl_watch w = { .goid = goid, .ts = c->ts };

		bpf_map_update_elem(&watched, &key, &w, BPF_ANY);
	}
	return 0;
}

static __always_inline void fl_event(struct pt_regs *ctx, struct fl_call *c, __u64 dur,
				     __u64 goid, __u64 g, __u32 status)
{
	struct fl_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u64 id = bpf_get_current_pid_tgid();

	if (!e) {
		gs_count_drop(&drops, FL_DROP_EVENTS);
		return;
	}
	e->ts = bpf_ktime_get_ns();
	e->dur_ns = dur;
	e->goid = goid;
	e->g = g;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->func = c->func;
	e->ip = PT_REGS_IP(ctx);
#if defined(__TARGET_ARCH_x86)
	/* At a RET (or tail jump) the frame is popped: [SP] is the return address. */
	e->ret = 0;
	bpf_probe_read_user(&e->ret, sizeof(e->ret), (void *)PT_REGS_SP(ctx));
#elif defined(__TARGET_ARCH_arm64)
	e->ret = ctx->regs[30];
#endif
	for (int i = 0; i < FL_NARGS; i++)
		e->args[i] = c->args[i];
	__builtin_memcpy(&e->route, &c->route, sizeof(e->route));
	e->status = status;
	e->pad = 0;
	e->nstack = bpf_get_stack(ctx, e->stack, sizeof(e->stack), BPF_F_USER_STACK);
	bpf_ringbuf_submit(e, 0);
}

SEC("uprobe")
int fl_exit(struct pt_regs *ctx)
{
	__u32 id = (__u32)bpf_get_attach_cookie(ctx);
	struct fl_func *f = bpf_map_lookup_elem(&funcs, &id);
	struct fl_gkey key = {};
	struct fl_gstate *st;
	struct fl_stats *s;
	struct fl_call *c;
	__u64 g, depth, goid, dur;
	__u32 top, status = FL_STATUS_UNKNOWN;

	fl_hit(FL_HIT_EXIT);
	if (!f || !f->tgid)
		return 0;
	g = fl_g(ctx, f);
	if (!g)
		return 0;
	key.tgid = f->tgid;
	key.g = g;
	st = bpf_map_lookup_elem(&gstates, &key);
	if (!st)
		return 0;
	goid = gs_goid_of(g, f->goid_off);
	depth = gs_stack_depth(g, PT_REGS_SP(ctx));
	if (st->goid != goid) {
		fl_pop_stale(st, 0, false);
		fl_forget(&key);
		return 0;
	}
	fl_pop_stale(st, depth, true);
	if (st->n == 0 || st->n > FL_INFLIGHT)
		goto out;
	top = (st->n - 1) & (FL_INFLIGHT - 1);
	c = &st->c[top];
	if (c->depth != depth || c->func != id)
		goto out; /* a call that started before the probes were attached */
	dur = bpf_ktime_get_ns() - c->ts;
	st->n = top;
	s = bpf_map_lookup_elem(&stats, &id);
	if (s) {
		__sync_fetch_and_add(&s->timed, 1);
		__sync_fetch_and_add(&s->total_ns, dur);
		__sync_fetch_and_add(&s->hist[gs_hist_bucket(dur)], 1);
		if (dur > s->max_ns)
			s->max_ns = dur; /* racy by design: a lost max is rare and close */
	}
	if (f->flags & FL_F_HTTP) {
		status = fl_http_status(f, c);
		if (status == FL_STATUS_BAD)
			gs_count_drop(&drops, FL_DROP_STATUS_BAD);
		fl_route_add(&c->route, dur, status);
	}
	if (slow_ns && dur >= slow_ns)
		fl_event(ctx, c, dur, goid, g, status);
out:
	if (st->n == 0)
		fl_forget(&key);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
