// SPDX-License-Identifier: GPL-2.0
/*
 * health.bpf.c: the kernel-level causes of a Go service's latency, per
 * process, from tracepoints and one software perf event:
 *   run-queue delay   sched_wakeup(_new) / sched_switch (BTF tracepoints)
 *   direct reclaim    vmscan:mm_vmscan_direct_reclaim_begin/end
 *   major faults      perf software event major-faults, with user stacks
 *   OOM kills         oom:mark_victim
 *   TCP               tcp_retransmit_skb, skb:kfree_skb (drop reasons),
 *                     sock:inet_sock_set_state, keyed by socket inode so
 *                     user space can give them to the process owning it
 *                     (they mostly fire in softirq or timer context).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "common.bpf.h"
#include "health.h"

#define HL_TASK_RUNNING 0
#define HL_TCP_TIME_WAIT 6
#define HL_TCP_NEW_SYN_RECV 12

/* Set before load: keep per-thread run-queue totals (the health command). */
const volatile bool hl_per_thread = true;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HL_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hl_lat);
} zero_lat SEC(".maps");

static __always_inline void hl_drop(__u32 why)
{
	gs_count_drop(&drops, why);
}

static __always_inline bool hl_target(__u32 tgid)
{
	return bpf_map_lookup_elem(&targets, &tgid) != NULL;
}

static __always_inline void hl_lat_add(void *map, __u32 tgid, __u64 d)
{
	struct hl_lat *l = bpf_map_lookup_elem(map, &tgid);
	__u32 zero = 0;

	if (!l) {
		struct hl_lat *z = bpf_map_lookup_elem(&zero_lat, &zero);

		if (!z)
			return;
		bpf_map_update_elem(map, &tgid, z, BPF_NOEXIST);
		l = bpf_map_lookup_elem(map, &tgid);
		if (!l) {
			hl_drop(HL_DROP_MAPS);
			return;
		}
	}
	__sync_fetch_and_add(&l->count, 1);
	__sync_fetch_and_add(&l->total_ns, d);
	__sync_fetch_and_add(&l->hist[gs_hist_bucket(d, HL_HIST_BUCKETS)], 1);
	if (d > l->max_ns)
		l->max_ns = d;
}

/* A thread of a target became runnable: start its run-queue wait. */
static __always_inline void hl_enqueue(struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid), tid = BPF_CORE_READ(p, pid);
	__u64 now;

	if (!hl_target(tgid))
		return;
	now = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&runq_start, &tid, &now, BPF_ANY))
		hl_drop(HL_DROP_RUNQ);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(hl_sched_wakeup, struct task_struct *p)
{
	hl_enqueue(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(hl_sched_wakeup_new, struct task_struct *p)
{
	hl_enqueue(p);
	return 0;
}

static __always_inline long hl_task_state(struct task_struct *t)
{
	/* task_struct.state became __state in 5.14. */
	struct task_struct___old {
		long state;
	} *o = (void *)t;

	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ(o, state);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(hl_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 tgid, tid;
	__u64 *ts, d;

	/* Preempted while runnable: it waits in the run queue again. */
	if (hl_task_state(prev) == HL_TASK_RUNNING)
		hl_enqueue(prev);
	tgid = BPF_CORE_READ(next, tgid);
	if (!hl_target(tgid))
		return 0;
	tid = BPF_CORE_READ(next, pid);
	ts = bpf_map_lookup_elem(&runq_start, &tid);
	if (!ts)
		return 0;
	d = bpf_ktime_get_ns() - *ts;
	bpf_map_delete_elem(&runq_start, &tid);
	hl_lat_add(&runq, tgid, d);
	if (!hl_per_thread)
		return 0;

	struct hl_tid *t = bpf_map_lookup_elem(&runq_tid, &tid);

	if (!t) {
		struct hl_tid n = { .tgid = tgid };

		bpf_map_update_elem(&runq_tid, &tid, &n, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&runq_tid, &tid);
		if (!t) {
			hl_drop(HL_DROP_MAPS);
			return 0;
		}
	}
	__sync_fetch_and_add(&t->count, 1);
	__sync_fetch_and_add(&t->total_ns, d);
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
	__u64 one = 1, *c;

	if (!hl_target(k.tgid))
		return 0;
	k.stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	c = bpf_map_lookup_elem(&faults, &k);
	if (c)
		__sync_fetch_and_add(c, 1);
	else if (bpf_map_update_elem(&faults, &k, &one, BPF_NOEXIST))
		hl_drop(HL_DROP_MAPS);
	return 0;
}

SEC("tp/oom/mark_victim")
int hl_oom(struct trace_event_raw_mark_victim *ctx)
{
	__u32 pid = (__u32)ctx->pid;
	__u64 one = 1, *c = bpf_map_lookup_elem(&ooms, &pid);

	if (c)
		__sync_fetch_and_add(c, 1);
	else
		bpf_map_update_elem(&ooms, &pid, &one, BPF_NOEXIST);
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
		struct hl_tcp_val n = {};

		n.family = BPF_CORE_READ(sk, __sk_common.skc_family);
		n.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
		n.dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (n.family == 2) {
			BPF_CORE_READ_INTO(&n.saddr, sk, __sk_common.skc_rcv_saddr);
			BPF_CORE_READ_INTO(&n.daddr, sk, __sk_common.skc_daddr);
		} else {
			BPF_CORE_READ_INTO(&n.saddr, sk, __sk_common.skc_v6_rcv_saddr);
			BPF_CORE_READ_INTO(&n.daddr, sk, __sk_common.skc_v6_daddr);
		}
		if (bpf_map_update_elem(&tcp, &k, &n, BPF_NOEXIST) == 0)
			v = bpf_map_lookup_elem(&tcp, &k);
		if (!v) {
			hl_drop(HL_DROP_MAPS);
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
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(hl_tcp_retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = (const void *)skb->cb;
	__u16 segs;

	if (bpf_core_field_exists(struct trace_event_raw_tcp_retransmit_skb___err, err) &&
	    (int)ctx[2] != 0)
		return 0;
	segs = BPF_CORE_READ(cb, tcp_gso_segs);
	hl_tcp(sk, HL_TCP_RETRANS, BPF_CORE_READ(sk, __sk_common.skc_state), segs ? segs : 1);
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
