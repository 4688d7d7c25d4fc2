// SPDX-License-Identifier: GPL-2.0
/*
 * gc.bpf.c: the Go garbage collector and the runtime's stop-the-world
 * pauses, from uprobes at points that fire a few times per GC cycle or per
 * sampled allocation (never per malloc). User space (collect/gc.c) chooses
 * the points per release and attaches each program to a function entry
 * (after the prologue) or to each RET instruction of a function: no
 * uretprobes on Go code.
 *
 * - gcStart entry: the trigger kind. gcMarkTermination RETs: the cycle's
 *   figures, read from the runtime's own variables (work, gcController)
 *   at addresses user space gives, sent as one event.
 * - stopTheWorldWithSema entry/RETs and startTheWorldWithSema RETs: one
 *   event per pause with its reason (the stwReason argument from Go 1.21,
 *   m.preemptoff before).
 * - gcAssistAlloc entry/RETs (the user goroutine: its goid and Go stack)
 *   and gcAssistAlloc1 entry/RETs (the system stack: the marking work),
 *   summed per goroutine and stack in the kernel.
 * - the sampled-allocation function (profilealloc): count per stack and
 *   size in the kernel.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "gc.h"
#include "lib/maps.bpf.h"
#include "lib/target.bpf.h"

GS_TARGET_MAPS(struct gc_target);

GS_EVENTS_MAP(1 << 20);

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, GC_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct gc_assist_key);
	__type(value, struct gc_assist_val);
} assists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* the goroutine's g */
	__type(value, struct gc_assist_cur);
} assist_cur SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* thread id */
	__type(value, struct gc_assist1);
} assist1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct gc_alloc_key);
	__type(value, __u64);
} allocs SEC(".maps");

GS_DROPS_MAP(GC_DROP_MAX);

/*
 * Go's register ABI (ABIInternal, Go >= 1.17): argument N and g. Every
 * register is loaded with a constant offset (the verifier refuses a
 * context pointer moved by a variable), then one is chosen.
 */
#if defined(__TARGET_ARCH_x86)
#define GC_ARG0(ctx) ((ctx)->ax)
#define GC_ARG1(ctx) ((ctx)->bx)
#define GC_ARG2(ctx) ((ctx)->cx)
#define GC_ARG3(ctx) ((ctx)->di)
#define GC_G(ctx) ((ctx)->r14)
#elif defined(__TARGET_ARCH_arm64)
#define GC_ARG0(ctx) (((struct user_pt_regs *)(ctx))->regs[0])
#define GC_ARG1(ctx) (((struct user_pt_regs *)(ctx))->regs[1])
#define GC_ARG2(ctx) (((struct user_pt_regs *)(ctx))->regs[2])
#define GC_ARG3(ctx) (((struct user_pt_regs *)(ctx))->regs[3])
#define GC_G(ctx) (((struct user_pt_regs *)(ctx))->regs[28])
#endif

static __always_inline __u64 gc_arg(struct pt_regs *ctx, __u32 n)
{
	__u64 a0 = GC_ARG0(ctx), a1 = GC_ARG1(ctx), a2 = GC_ARG2(ctx), a3 = GC_ARG3(ctx);

	return n == 0 ? a0 : n == 1 ? a1 : n == 2 ? a2 : n == 3 ? a3 : 0;
}

static __always_inline struct gc_target *gc_target(__u32 *pid)
{
	*pid = gs_tgid();
	return bpf_map_lookup_elem(&targets, pid);
}

SEC("uprobe")
int gc_start(struct pt_regs *ctx)
{
	__u32 pid;
	struct gc_target *t = gc_target(&pid);

	if (!t)
		return 0;
	t->trigger = gc_arg(ctx, 0); /* gcTrigger.kind: heap, time, cycle */
	t->trigger_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("uprobe")
int gc_markterm_ret(struct pt_regs *ctx)
{
	__u32 pid;
	struct gc_target *t = gc_target(&pid);
	struct gc_event *e;

	if (!t)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		gs_count_drop(&drops, GC_DROP_RINGBUF);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = GC_EV_CYCLE;
	e->pid = pid;
	e->ts = bpf_ktime_get_ns();
	e->trigger = t->trigger;
	e->trigger_ns = t->trigger_ns;
	/* The cycle's assists (they run during mark only): taken, not cleared, so
	 * that a round ending now on another CPU is the next cycle's, not lost. */
	e->assist_ns = t->assist_ns;
	e->assist_rounds = t->assist_rounds;
	__sync_fetch_and_add(&t->assist_ns, -e->assist_ns);
	__sync_fetch_and_add(&t->assist_rounds, -e->assist_rounds);
	for (int i = 0; i < GC_NREADS; i++) {
		__u64 a = t->reads[i];

		if (a)
			bpf_probe_read_user(&e->vals[i], sizeof(e->vals[i]), (void *)a);
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("uprobe")
int gc_stw_stop(struct pt_regs *ctx)
{
	__u32 pid;
	struct gc_target *t = gc_target(&pid);

	if (!t)
		return 0;
	t->stop_ns = bpf_ktime_get_ns();
	t->stopped_ns = 0;
	t->reason = 0;
	t->reason_str[0] = 0;
	if (t->reason_src == GC_REASON_ARG) {
		t->reason = (__u32)(gc_arg(ctx, 0) & 0xff);
	} else if (t->reason_src == GC_REASON_PREEMPTOFF && t->g_m_off >= 0 &&
		   t->m_preemptoff_off >= 0) {
		/* On the system stack: g is g0, and g0.m is the thread's m. */
		__u64 m = 0, s[2] = { 0, 0 };

		if (bpf_probe_read_user(&m, sizeof(m), (void *)(GC_G(ctx) + t->g_m_off)) || !m)
			return 0;
		if (bpf_probe_read_user(s, sizeof(s), (void *)(m + t->m_preemptoff_off)) || !s[0])
			return 0;
		__u64 n = s[1] < GC_REASON_LEN - 1 ? s[1] : GC_REASON_LEN - 1;

		bpf_probe_read_user(t->reason_str, n & (GC_REASON_LEN - 1), (void *)s[0]);
		t->reason_str[n & (GC_REASON_LEN - 1)] = 0;
	}
	return 0;
}

SEC("uprobe")
int gc_stw_stopped(struct pt_regs *ctx)
{
	__u32 pid;
	struct gc_target *t = gc_target(&pid);

	if (t && t->stop_ns)
		t->stopped_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("uprobe")
int gc_stw_started(struct pt_regs *ctx)
{
	__u32 pid;
	struct gc_target *t = gc_target(&pid);
	struct gc_event *e;

	if (!t || !t->stop_ns)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		gs_count_drop(&drops, GC_DROP_RINGBUF);
		t->stop_ns = 0;
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = GC_EV_STW;
	e->pid = pid;
	e->ts = bpf_ktime_get_ns();
	e->stop_ns = t->stop_ns;
	e->stopped_ns = t->stopped_ns ? t->stopped_ns : t->stop_ns;
	e->reason = t->reason;
	e->trigger_ns = t->trigger_ns;
	__builtin_memcpy(e->reason_str, t->reason_str, GC_REASON_LEN);
	t->stop_ns = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* gcAssistAlloc(gp) entry: on the goroutine's own stack (g = gp). */
SEC("uprobe")
int gc_assist(struct pt_regs *ctx)
{
	__u32 pid;
	struct gc_target *t = gc_target(&pid);
	struct gc_assist_cur cur = {};
	__u64 g = GC_G(ctx);

	if (!t || !g)
		return 0;
	cur.start_ns = bpf_ktime_get_ns();
	cur.pid = pid;
	if (t->goid_off >= 0)
		bpf_probe_read_user(&cur.goid, sizeof(cur.goid), (void *)(g + t->goid_off));
	cur.stackid = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	if (cur.stackid < 0)
		gs_count_drop(&drops, GC_DROP_STACK);
	bpf_map_update_elem(&assist_cur, &g, &cur, BPF_ANY);
	return 0;
}

static __always_inline struct gc_assist_val *gc_assist_slot(struct gc_assist_cur *cur)
{
	struct gc_assist_key k = { .pid = cur->pid, .stackid = cur->stackid, .goid = cur->goid };
	static const struct gc_assist_val zero;
	struct gc_assist_val *v = gs_lookup_or_init(&assists, &k, &zero);

	if (!v)
		gs_count_drop(&drops, GC_DROP_ASSIST);
	return v;
}

SEC("uprobe")
int gc_assist_ret(struct pt_regs *ctx)
{
	__u64 g = GC_G(ctx);
	struct gc_assist_cur *cur = bpf_map_lookup_elem(&assist_cur, &g);
	struct gc_assist_val *v;

	if (!cur)
		return 0;
	v = gc_assist_slot(cur);
	if (v) {
		__sync_fetch_and_add(&v->wall_ns, bpf_ktime_get_ns() - cur->start_ns);
		__sync_fetch_and_add(&v->count, 1);
	}
	bpf_map_delete_elem(&assist_cur, &g);
	return 0;
}

/* gcAssistAlloc1(gp, scanWork): on the system stack; gp is the argument. */
SEC("uprobe")
int gc_assist1(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct gc_assist1 a = { .gp = gc_arg(ctx, 0) };

	a.start_ns = bpf_ktime_get_ns(); /* last: see gc_assist1_ret */
	bpf_map_update_elem(&assist1, &tid, &a, BPF_ANY);
	return 0;
}

SEC("uprobe")
int gc_assist1_ret(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns(); /* first: the probe's own cost is not the assist's */
	struct gc_assist1 *a = bpf_map_lookup_elem(&assist1, &tid);
	struct gc_assist_cur *cur;
	struct gc_assist_val *v;
	struct gc_target *t;
	__u64 gp;

	if (!a)
		return 0;
	gp = a->gp;
	cur = bpf_map_lookup_elem(&assist_cur, &gp);
	if (cur) {
		v = gc_assist_slot(cur);
		if (v) {
			__sync_fetch_and_add(&v->ns, now - a->start_ns);
			__sync_fetch_and_add(&v->calls1, 1);
		}
		/* Per cycle too: user space weighs them against the runtime's own count. */
		t = bpf_map_lookup_elem(&targets, &cur->pid);
		if (t) {
			__sync_fetch_and_add(&t->assist_ns, now - a->start_ns);
			__sync_fetch_and_add(&t->assist_rounds, 1);
		}
	}
	bpf_map_delete_elem(&assist1, &tid);
	return 0;
}

/* The runtime's sampled allocation (about one per MemProfileRate bytes). */
SEC("uprobe")
int gc_alloc(struct pt_regs *ctx)
{
	__u32 pid;
	struct gc_target *t = gc_target(&pid);
	struct gc_alloc_key k = {};
	static const __u64 zero;
	__u64 *v;

	if (!t)
		return 0;
	k.pid = pid;
	k.size = gc_arg(ctx, t->alloc_size_arg);
	k.stackid = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	if (k.stackid < 0)
		gs_count_drop(&drops, GC_DROP_STACK);
	v = gs_lookup_or_init(&allocs, &k, &zero);
	if (!v) {
		gs_count_drop(&drops, GC_DROP_ALLOC);
		return 0;
	}
	__sync_fetch_and_add(v, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
