// SPDX-License-Identifier: GPL-2.0
/*
 * health.bpf.c: the kernel-level causes of a Go service's latency, per
 * process, from tracepoints and one software perf event:
 *   run-queue delay   sched_wakeup(_new) / sched_switch (BTF tracepoints,
 *                     or their raw_tp twins on kernels without tp_btf)
 *   direct reclaim    vmscan:mm_vmscan_direct_reclaim_begin/end
 *   major faults      perf software event major-faults, with user stacks
 *   OOM kills         oom:mark_victim
 *   TCP               tcp_retransmit_skb, skb:kfree_skb (drop reasons),
 *                     sock:inet_sock_set_state, keyed by socket inode so
 *                     user space can give them to the process owning it
 *                     (they mostly fire in softirq or timer context).
 *
 * Targets are the kernel's tgids (task->tgid): the scheduler events name
 * another task than the current one.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "lib/hist.bpf.h"
#include "lib/maps.bpf.h"
#include "lib/sched.bpf.h"
#include "lib/target.bpf.h"
#include "health.h"

#define HL_TCP_TIME_WAIT 6
#define HL_TCP_NEW_SYN_RECV 12

/* Set before load: keep per-thread run-queue totals (the health command). */
const volatile bool hl_per_thread = true;
GS_TARGET_MAPS(__u8);

/* Thread id -> the scheduler clock when its current run-queue wait began. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} runq_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct hl_lat);
} runq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct hl_tid);
} runq_tid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} reclaim_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct hl_lat);
} reclaim SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 4096);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, HL_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct hl_fault_key);
	__type(value, __u64);
} faults SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} ooms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct hl_tcp_key);
	__type(value, struct hl_tcp_val);
} tcp SEC(".maps");

GS_DROPS_MAP(HL_DROP_MAX);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hl_lat);
} zero_lat SEC(".maps");

static __always_inline bool hl_target(__u32 tgid)
{
	return gs_is_target_tgid(tgid);
}

static __always_inline void hl_lat_add(void *map, __u32 tgid, __u64 d)
{
	__u32 zero = 0;
	struct hl_lat *l = gs_lookup_or_init(map, &tgid, bpf_map_lookup_elem(&zero_lat, &zero));

	if (!l) {
		gs_count_drop(&drops, HL_DROP_MAPS);
		return;
	}
	__sync_fetch_and_add(&l->count, 1);
	__sync_fetch_and_add(&l->total_ns, d);
	__sync_fetch_and_add(&l->hist[gs_hist_bucket(d)], 1);
	if (d > l->max_ns)
		l->max_ns = d;
}

/*
 * The clock run-queue waits are measured with: the scheduler's own clock
 * of the run queue P is on (rq->clock, reached as p->se.cfs_rq->rq), which
 * the kernel's schedstat run_delay uses too. A task woken onto an idle CPU
 * is enqueued at that CPU's clock and switched in without the clock moving
 * (the idle CPU's schedule skips the update): the microseconds the CPU
 * takes to leave idle are wake-up latency, not waiting behind other tasks,
 * and are not counted. With ktime they were: 2-16 us for each of 15k IO
 * wakeups a second made a process that waited 5 ms/s look like 120 ms/s.
 * Kernels without group scheduling (no cfs_rq->rq): ktime, for every event.
 */
static __always_inline __u64 hl_clock(struct task_struct *p)
{
	if (bpf_core_field_exists(p->se.cfs_rq) && bpf_core_field_exists(struct cfs_rq, rq)) {
		struct rq *rq = BPF_CORE_READ(p, se.cfs_rq, rq);

		return rq ? BPF_CORE_READ(rq, clock) : 0;
	}
	return bpf_ktime_get_ns();
}

/*
 * P was woken: its run-queue wait begins, unless one is already counting
 * (a wakeup of a task still queued since it was preempted, or still on its
 * CPU, does not put it in the run queue again: the kernel's run_delay
 * keeps the first start too).
 */
static __always_inline void hl_wakeup(struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid), tid = BPF_CORE_READ(p, pid);
	__u64 now;

	if (!hl_target(tgid))
		return;
	now = hl_clock(p);
	if (!now)
		return;
	if (bpf_map_update_elem(&runq_start, &tid, &now, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&runq_start, &tid))
		gs_count_drop(&drops, HL_DROP_RUNQ);
}

static __always_inline void hl_thread_add(__u32 tgid, __u32 tid, __u64 d)
{
	struct hl_tid n = { .tgid = tgid };
	struct hl_tid *t = gs_lookup_or_init(&runq_tid, &tid, &n);

	if (!t) {
		gs_count_drop(&drops, HL_DROP_MAPS);
		return;
	}
	__sync_fetch_and_add(&t->count, 1);
	__sync_fetch_and_add(&t->total_ns, d);
}

/*
 * CPU switches from PREV to NEXT. PREV still runnable (preempted, or
 * yielding) waits in the run queue from now; PREV blocked forgets any start
 * left by a wakeup that found it still running (it never waited then). NEXT
 * ends its wait.
 */
static __always_inline void hl_switch(struct task_struct *prev, struct task_struct *next)
{
	__u64 *ts, now = hl_clock(next), d;
	__u32 tgid, tid;

	tgid = BPF_CORE_READ(prev, tgid);
	if (hl_target(tgid)) {
		tid = BPF_CORE_READ(prev, pid);
		if (gs_task_state(prev) == GS_TASK_RUNNING) {
			if (now && bpf_map_update_elem(&runq_start, &tid, &now, BPF_ANY))
				gs_count_drop(&drops, HL_DROP_RUNQ);
		} else {
			bpf_map_delete_elem(&runq_start, &tid);
		}
	}
	tgid = BPF_CORE_READ(next, tgid);
	if (!hl_target(tgid))
		return;
	tid = BPF_CORE_READ(next, pid);
	ts = bpf_map_lookup_elem(&runq_start, &tid);
	if (!ts)
		return;
	d = now > *ts ? now - *ts : 0;
	bpf_map_delete_elem(&runq_start, &tid);
	hl_lat_add(&runq, tgid, d);
	if (hl_per_thread)
		hl_thread_add(tgid, tid, d);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(hl_sched_wakeup, struct task_struct *p)
{
	hl_wakeup(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(hl_sched_wakeup_new, struct task_struct *p)
{
	hl_wakeup(p);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(hl_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	hl_switch(prev, next);
	return 0;
}

/* raw_tp twins of the three above, for kernels without tp_btf (before 5.5). */
SEC("raw_tp/sched_wakeup")
int hl_raw_sched_wakeup(struct bpf_raw_tracepoint_args *ctx)
{
	hl_wakeup((struct task_struct *)ctx->args[0]);
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int hl_raw_sched_wakeup_new(struct bpf_raw_tracepoint_args *ctx)
{
	hl_wakeup((struct task_struct *)ctx->args[0]);
	return 0;
}

SEC("raw_tp/sched_switch")
int hl_raw_sched_switch(struct bpf_raw_tracepoint_args *ctx)
{
	hl_switch((struct task_struct *)ctx->args[1], (struct task_struct *)ctx->args[2]);
	return 0;
}

SEC("tp/vmscan/mm_vmscan_direct_reclaim_begin")
int hl_reclaim_begin(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), now;
	__u32 tid = (__u32)id;

	if (!hl_target(id >> 32))
		return 0;
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&reclaim_start, &tid, &now, BPF_ANY);
	return 0;
}

SEC("tp/vmscan/mm_vmscan_direct_reclaim_end")
int hl_reclaim_end(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u64 *ts = bpf_map_lookup_elem(&reclaim_start, &tid);

	if (!ts)
		return 0;
	hl_lat_add(&reclaim, id >> 32, bpf_ktime_get_ns() - *ts);
	bpf_map_delete_elem(&reclaim_start, &tid);
	return 0;
}

SEC("perf_event")
int hl_major_fault(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct hl_fault_key k = { .tgid = id >> 32 };
	__u64 zero = 0, *c;

	if (!hl_target(k.tgid))
		return 0;
	k.stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	c = gs_lookup_or_init(&faults, &k, &zero);
	if (c)
		__sync_fetch_and_add(c, 1);
	else
		gs_count_drop(&drops, HL_DROP_MAPS);
	return 0;
}

SEC("tp/oom/mark_victim")
int hl_oom(struct trace_event_raw_mark_victim *ctx)
{
	__u32 pid = (__u32)ctx->pid;
	__u64 zero = 0, *c = gs_lookup_or_init(&ooms, &pid, &zero);

	if (c)
		__sync_fetch_and_add(c, 1);
	return 0;
}

/* Count N TCP events against the socket's inode; 0 when it has none. */
static __always_inline void hl_tcp(const struct sock *sk, __u32 kind, __u32 sub, __u64 n)
{
	struct hl_tcp_key k = { .kind = kind, .sub = sub };
	struct hl_tcp_val *v;
	__u8 state;

	if (!sk)
		return;
	state = BPF_CORE_READ(sk, __sk_common.skc_state);
	/* Time-wait and request socks are not full sockets: no inode. */
	if (state == HL_TCP_TIME_WAIT || state == HL_TCP_NEW_SYN_RECV)
		return;
	k.ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	if (!k.ino)
		return;
	v = bpf_map_lookup_elem(&tcp, &k);
	if (!v) {
		struct hl_tcp_val nv = {};

		nv.family = BPF_CORE_READ(sk, __sk_common.skc_family);
		nv.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
		nv.dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (nv.family == 2) {
			BPF_CORE_READ_INTO(&nv.saddr, sk, __sk_common.skc_rcv_saddr);
			BPF_CORE_READ_INTO(&nv.daddr, sk, __sk_common.skc_daddr);
		} else {
			BPF_CORE_READ_INTO(&nv.saddr, sk, __sk_common.skc_v6_rcv_saddr);
			BPF_CORE_READ_INTO(&nv.daddr, sk, __sk_common.skc_v6_daddr);
		}
		v = gs_lookup_or_init(&tcp, &k, &nv);
		if (!v) {
			gs_count_drop(&drops, HL_DROP_MAPS);
			return;
		}
	}
	__sync_fetch_and_add(&v->count, n);
}

/* The tracepoint's record in kernels where it has an err argument. */
struct trace_event_raw_tcp_retransmit_skb___err {
	int err;
} __attribute__((preserve_access_index));

/*
 * Count what the kernel's TcpRetransSegs (and tcp_info's total_retrans)
 * count: segments, tcp_skb_pcount(skb) — a retransmitted TSO/GSO skb
 * carries up to 64 KiB — of retransmits that went out. Since the
 * tracepoint has its err argument it also fires for attempts given up
 * before sending (-EBUSY: the previous copy still in the host's queue,
 * -EAGAIN, -ENOMEM...), which the kernel does not count: skip those.
 */
static __always_inline void hl_retransmit(const struct sock *sk, const struct sk_buff *skb,
					  int err)
{
	const struct tcp_skb_cb *cb = (const void *)skb + bpf_core_field_offset(skb->cb);
	__u16 segs;

	if (bpf_core_field_exists(struct trace_event_raw_tcp_retransmit_skb___err, err) && err)
		return;
	segs = BPF_CORE_READ(cb, tcp_gso_segs);
	hl_tcp(sk, HL_TCP_RETRANS, BPF_CORE_READ(sk, __sk_common.skc_state), segs ? segs : 1);
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(hl_tcp_retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	hl_retransmit(sk, skb, (int)ctx[2]);
	return 0;
}

SEC("raw_tp/tcp_retransmit_skb")
int hl_raw_tcp_retransmit(struct bpf_raw_tracepoint_args *ctx)
{
	hl_retransmit((const struct sock *)ctx->args[0], (const struct sk_buff *)ctx->args[1],
		      (int)ctx->args[2]);
	return 0;
}

SEC("tp/skb/kfree_skb")
int hl_kfree_skb(struct trace_event_raw_kfree_skb *ctx)
{
	struct sk_buff *skb = ctx->skbaddr;
	const struct sock *sk = NULL;
	__u32 reason = 0;

	if (bpf_core_field_exists(ctx->reason))
		reason = BPF_CORE_READ(ctx, reason);
	/* 2 = SKB_DROP_REASON_NOT_SPECIFIED... only socket-level drops matter. */
	if (reason <= 2)
		return 0;
	if (bpf_core_field_exists(ctx->rx_sk))
		sk = BPF_CORE_READ(ctx, rx_sk);
	if (!sk)
		sk = BPF_CORE_READ(skb, sk);
	hl_tcp(sk, HL_TCP_DROP, reason, 1);
	return 0;
}

SEC("tp/sock/inet_sock_set_state")
int hl_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != 6 /* IPPROTO_TCP */)
		return 0;
	hl_tcp(ctx->skaddr, HL_TCP_STATE, ((__u32)ctx->newstate << 8) | (__u32)ctx->oldstate, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
