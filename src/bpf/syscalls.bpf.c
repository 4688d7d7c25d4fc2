// SPDX-License-Identifier: GPL-2.0
/*
 * syscalls.bpf.c: per-syscall counts, errors and latency of chosen
 * processes, aggregated in the kernel, from the raw_syscalls tracepoints.
 *
 * sys_enter stores the start time and arguments in per-task storage (no
 * hash-map churn; a tid-keyed hash on kernels before 5.11); sys_exit adds
 * the call to its histogram, counts its errno and, when asked, sends one
 * event for a slow call or a call the network rules check, with the
 * caller's Go stack and goroutine id.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "common.bpf.h"
#include "syscalls.h"

const volatile bool filter_nr = false;
const volatile __u32 by = SC_BY_NONE;
const volatile __u64 slow_ns = 0;
const volatile bool net_events = false;
/* Keep the arguments at entry: only events (slow calls, rules) use them. */
const volatile bool need_args = false;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SC_TSLOTS);
	__type(key, __u32);
	__type(value, __u32);
} tslots SEC(".maps");
/* Traced processes: tgid -> offset of goid in their runtime.g (-1: unknown). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct sc_target);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SC_NR_MAX);
	__type(key, __u32);
	__type(value, __u32);
} argspec SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sc_start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct sc_start);
} starts_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, struct sc_key);
	__type(value, struct sc_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sc_errkey);
	__type(value, __u64);
} errs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SC_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* A zeroed stats value to insert from (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sc_stats);
} zero_stats SEC(".maps");

static __always_inline void sc_drop(__u32 why)
{
	gs_count_drop(&drops, why);
}

/* The goroutine on this thread: runtime.g at fsbase-8 (amd64), its goid. */
static __always_inline __u64 sc_goid(__s32 goid_off)
{
#if defined(__TARGET_ARCH_x86)
	struct task_struct *task = (void *)bpf_get_current_task();
	__u64 fsbase = BPF_CORE_READ(task, thread.fsbase);
	__u64 g = 0, goid = 0;

	if (goid_off < 0 || !fsbase)
		return 0;
	if (bpf_probe_read_user(&g, sizeof(g), (void *)(fsbase - 8)) || !g)
		return 0;
	if (bpf_probe_read_user(&goid, sizeof(goid), (void *)(g + goid_off)))
		return 0;
	return goid;
#else
	return 0;
#endif
}

/* Is the current process traced? (see SC_TSLOTS) */
static __always_inline bool sc_is_target(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 i = tgid & (SC_TSLOTS - 1);
	__u32 *v = bpf_map_lookup_elem(&tslots, &i);

	if (!v || !*v)
		return false;
	if (*v == tgid)
		return true;
	return *v == SC_TSLOT_SHARED && bpf_map_lookup_elem(&targets, &tgid);
}

static __always_inline struct sc_target *sc_target(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpf_map_lookup_elem(&targets, &tgid);
}

static __always_inline void sc_enter(struct trace_event_raw_sys_enter *ctx,
				     struct sc_start *st)
{
	st->nr = (__u64)ctx->id;
	if (need_args) {
		st->args[0] = ctx->args[0];
		st->args[1] = ctx->args[1];
		st->args[2] = ctx->args[2];
		st->args[3] = ctx->args[3];
		st->args[4] = ctx->args[4];
		st->args[5] = ctx->args[5];
	}
	st->ts = bpf_ktime_get_ns();
}

static __always_inline bool sc_wanted(long id)
{
	__u32 nr = (__u32)id;
	__u32 *spec;

	if (!filter_nr)
		return true;
	if (id < 0 || nr >= SC_NR_MAX)
		return false;
	spec = bpf_map_lookup_elem(&argspec, &nr);
	return spec && (*spec & SC_SPEC_TRACED);
}

static __always_inline void sc_event(struct trace_event_raw_sys_exit *ctx,
				     struct sc_start *st, __u64 dur, __u32 kind,
				     __u32 spec, __u64 goid)
{
	struct sc_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pa, aa, la;

	if (!e) {
		sc_drop(SC_DROP_EVENTS);
		return;
	}
	e->ts = bpf_ktime_get_ns();
	e->dur_ns = dur;
	e->goid = goid;
	e->ret = ctx->ret;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->nr = (__u32)st->nr;
	e->kind = kind;
	e->args[0] = st->args[0];
	e->args[1] = st->args[1];
	e->args[2] = st->args[2];
	e->args[3] = st->args[3];
	e->args[4] = st->args[4];
	e->args[5] = st->args[5];
	e->str[0] = 0;
	e->addrlen = 0;
	pa = SC_SPEC_PATH(spec);
	if (pa >= 1 && pa <= 6)
		bpf_probe_read_user_str(e->str, sizeof(e->str), (void *)st->args[pa - 1]);
	aa = SC_SPEC_ADDR(spec);
	la = SC_SPEC_ALEN(spec);
	if (aa >= 1 && aa <= 6 && la >= 1 && la <= 6 && st->args[aa - 1]) {
		__u64 len = st->args[la - 1];

		if (spec & SC_SPEC_ALEN_PTR) {
			__u32 l = 0;

			bpf_probe_read_user(&l, sizeof(l), (void *)len);
			len = l;
		}
		__u32 n = len > SC_ADDR_MAX ? SC_ADDR_MAX : (__u32)len;

		if (n > 0 && n <= SC_ADDR_MAX &&
		    !bpf_probe_read_user(e->addr, n, (void *)st->args[aa - 1]))
			e->addrlen = (int)n;
	}
	e->nstack = bpf_get_stack(ctx, e->stack, sizeof(e->stack), BPF_F_USER_STACK);
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void sc_exit(struct trace_event_raw_sys_exit *ctx,
				    struct sc_start *st)
{
	__u64 now = bpf_ktime_get_ns(), dur;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sc_key key = {};
	struct sc_stats *s;
	__u32 spec = 0, nr, zero = 0;
	__u32 *sp;
	__u64 goid = 0;
	long ret = ctx->ret;

	if (!st->ts)
		return;
	dur = now - st->ts;
	st->ts = 0;
	nr = (__u32)st->nr;
	if (nr < SC_NR_MAX) {
		sp = bpf_map_lookup_elem(&argspec, &nr);
		if (sp)
			spec = *sp;
	}
	if (by == SC_BY_GOID || slow_ns || (net_events && (spec & SC_SPEC_NET))) {
		struct sc_target *t = sc_target();

		if (t)
			goid = sc_goid(t->goid_off);
	}

	key.tgid = pid_tgid >> 32;
	key.nr = nr;
	if (by == SC_BY_TID)
		key.id = (__u32)pid_tgid;
	else if (by == SC_BY_GOID)
		key.id = goid;
	s = bpf_map_lookup_elem(&stats, &key);
	if (!s) {
		struct sc_stats *z = bpf_map_lookup_elem(&zero_stats, &zero);

		if (!z)
			return;
		/* Fails harmlessly if another CPU inserted it first. */
		bpf_map_update_elem(&stats, &key, z, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&stats, &key);
		if (!s) {
			sc_drop(SC_DROP_STATS);
			return;
		}
	}
	__sync_fetch_and_add(&s->count, 1);
	__sync_fetch_and_add(&s->total_ns, dur);
	__sync_fetch_and_add(&s->hist[gs_hist_bucket(dur, SC_HIST_BUCKETS)], 1);
	if (dur > s->max_ns)
		s->max_ns = dur; /* racy by design: a lost max is one bucket's worth */
	if (!s->min_ns || dur < s->min_ns)
		s->min_ns = dur; /* likewise */
	if (ret < 0 && ret >= -4095) {
		struct sc_errkey ek = { .tgid = key.tgid, .nr = nr, .err = (int)-ret, .id = key.id };
		__u64 one = 1, *c;

		__sync_fetch_and_add(&s->errors, 1);
		c = bpf_map_lookup_elem(&errs, &ek);
		if (c)
			__sync_fetch_and_add(c, 1);
		else if (bpf_map_update_elem(&errs, &ek, &one, BPF_NOEXIST))
			sc_drop(SC_DROP_ERRS);
	}
	if (slow_ns && dur >= slow_ns)
		sc_event(ctx, st, dur, SC_EV_SLOW, spec, goid);
	else if (net_events && (spec & SC_SPEC_NET))
		sc_event(ctx, st, dur, SC_EV_NET, spec, goid);
}

SEC("tp/raw_syscalls/sys_enter")
int sys_enter_ts(struct trace_event_raw_sys_enter *ctx)
{
	struct sc_start *st;

	if (!sc_is_target() || !sc_wanted(ctx->id))
		return 0;
	st = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), NULL,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) {
		sc_drop(SC_DROP_START);
		return 0;
	}
	sc_enter(ctx, st);
	return 0;
}

SEC("tp/raw_syscalls/sys_exit")
int sys_exit_ts(struct trace_event_raw_sys_exit *ctx)
{
	struct sc_start *st;

	if (!sc_is_target())
		return 0;
	st = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), NULL, 0);
	if (st)
		sc_exit(ctx, st);
	return 0;
}

/* Kernels before 5.11 (no task storage for tracing): a tid-keyed hash. */
SEC("tp/raw_syscalls/sys_enter")
int sys_enter_hash(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sc_start st = {};

	if (!sc_is_target() || !sc_wanted(ctx->id))
		return 0;
	sc_enter(ctx, &st);
	if (bpf_map_update_elem(&starts_hash, &tid, &st, BPF_ANY))
		sc_drop(SC_DROP_START);
	return 0;
}

SEC("tp/raw_syscalls/sys_exit")
int sys_exit_hash(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sc_start *st;

	if (!sc_is_target())
		return 0;
	st = bpf_map_lookup_elem(&starts_hash, &tid);
	if (st) {
		sc_exit(ctx, st);
		bpf_map_delete_elem(&starts_hash, &tid);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
