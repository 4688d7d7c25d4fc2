// SPDX-License-Identifier: GPL-2.0
/*
 * why.bpf.c: what the kernel does to the threads of goroutines inside a
 * watched call (`goscope why`).
 *
 * funclat.bpf.c keeps the goroutines with a probed call in flight in
 * `watched` (shared with this program). When a thread of a target leaves
 * its CPU, the goroutine on it (its TLS g) is looked up there; if watched,
 * the thread's time off the CPU is recorded until it runs again: preempted
 * (the run queue, or the cgroup's CPU quota when its cfs_rq is throttled),
 * or asleep: in a system call when the g is in _Gsyscall (its number from
 * the thread's saved registers), in a page fault when the g was running Go
 * code. The wakeup splits a sleep from the run-queue wait that follows.
 * One event per interval, for watched goroutines only; for the target's
 * other threads, an event only when the CPU quota held them or they waited
 * 200 us or more in the run queue (a goroutine waiting for a P waits for
 * them). TCP retransmits are sent with the
 * socket's inode; user space keeps the target's.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "funclat.h"
#include "why.h"
#include "lib/go.bpf.h"
#include "lib/maps.bpf.h"
#include "lib/sched.bpf.h"
#include "lib/target.bpf.h"
#include "lib/watched.bpf.h"

#define WHY_MAX_THREADS 16384
#define WHY_GSYSCALL 3
#define WHY_GRUNNING 2
#define WHY_MIN_PREEMPT_NS 200000 /* shorter run-queue waits of unwatched threads are not sent */

GS_TARGET_MAPS(struct why_target);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WHY_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct why_off);
} off SEC(".maps");

GS_EVENTS_MAP(1 << 20);

GS_DROPS_MAP(WHY_DROP_MAX);

/* Is T's CFS group (or a parent of it) held back by its CPU quota? */
static __always_inline bool why_throttled(struct task_struct *t)
{
	struct cfs_rq *cr;

	if (!bpf_core_field_exists(t->se.cfs_rq))
		return false;
	cr = BPF_CORE_READ(t, se.cfs_rq);
	if (!cr || !bpf_core_field_exists(cr->throttle_count))
		return false;
	/* throttle_count counts throttled ancestors too (throttled became a bit-field). */
	return BPF_CORE_READ(cr, throttle_count) > 0;
}

/*
 * T's CFS group run queue and the time it has been throttled so far
 * (throttled_clock_self_time counts the throttling of ancestors too): the
 * difference between a thread's switch-out and switch-in on the same run
 * queue is how long the quota held it back meanwhile, even if the throttle
 * began after it left the CPU. 0 when the kernel does not keep it.
 */
static __always_inline __u64 why_thr_time(struct task_struct *t, __u64 *cfs_rq)
{
	struct cfs_rq *cr;

	*cfs_rq = 0;
	if (!bpf_core_field_exists(t->se.cfs_rq))
		return 0;
	cr = BPF_CORE_READ(t, se.cfs_rq);
	*cfs_rq = (__u64)cr;
	if (!cr || !bpf_core_field_exists(cr->throttled_clock_self_time))
		return 0;
	return BPF_CORE_READ(cr, throttled_clock_self_time);
}

/* The system call T is in (-1: unknown), from its saved user registers. */
static __always_inline __s64 why_syscall_nr(struct task_struct *t, bool btf)
{
	struct pt_regs *regs;

	if (!btf)
		return -1;
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	if (!regs)
		return -1;
#if defined(__TARGET_ARCH_x86)
	return (__s64)BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	return (__s64)BPF_CORE_READ(regs, syscallno);
#else
	return -1;
#endif
}

/*
 * Is T asleep in a system call made without entersyscall (the runtime's
 * raw calls on the system stack: futex, mmap, madvise...)? Its saved user
 * pc follows the syscall instruction; a page fault's is the faulting
 * instruction. *NR gets the call.
 */
static __always_inline bool why_raw_syscall(struct task_struct *t, bool btf, __s64 *nr)
{
	struct pt_regs *regs;

	if (!btf)
		return false;
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	if (!regs)
		return false;
#if defined(__TARGET_ARCH_x86)
	{
		__u16 ins = 0;
		__u64 ip = BPF_CORE_READ(regs, ip);

		if (ip < 2 || bpf_probe_read_user(&ins, sizeof(ins), (void *)(ip - 2)) || ins != 0x050f)
			return false; /* 0f 05: syscall */
		*nr = (__s64)BPF_CORE_READ(regs, orig_ax);
		return true;
	}
#elif defined(__TARGET_ARCH_arm64)
	{
		__u32 ins = 0;
		__u64 pc = BPF_CORE_READ(regs, pc);

		if (pc < 4 || bpf_probe_read_user(&ins, sizeof(ins), (void *)(pc - 4)) ||
		    ins != 0xd4000001)
			return false; /* svc #0 */
		*nr = (__s64)BPF_CORE_READ(regs, syscallno);
		return true;
	}
#else
	return false;
#endif
}

static __always_inline void why_leave(struct task_struct *prev, bool btf)
{
	__u32 tgid = BPF_CORE_READ(prev, tgid), tid;
	struct why_target *tg;
	struct fl_gkey key = {};
	struct why_off o = {};
	__u32 status = 0;

	if (!gs_is_target_tgid(tgid))
		return;
	key.tgid = tgid;
	key.g = gs_current_g(); /* sched_switch runs in PREV's context */
	tid = BPF_CORE_READ(prev, pid);
	o.tgid = tgid;
	o.start = bpf_ktime_get_ns();
	o.nr = -1;
	o.thr0 = why_thr_time(prev, &o.cfs_rq);
	if (key.g && !bpf_map_lookup_elem(&watched, &key)) {
		/* On g0 (the system stack: an assist marking, a stack growth...), the
		 * goroutine the thread works for is m.curg. */
		struct why_target *t0 = bpf_map_lookup_elem(&targets, &tgid);
		__u64 m = 0, curg = 0;

		if (t0 && t0->g_m_off > 0 && t0->m_curg_off > 0 &&
		    !bpf_probe_read_user(&m, sizeof(m), (void *)(key.g + t0->g_m_off)) && m &&
		    !bpf_probe_read_user(&curg, sizeof(curg), (void *)(m + t0->m_curg_off)) && curg &&
		    curg != key.g) {
			key.g = curg;
		}
	}
	if (!key.g || !bpf_map_lookup_elem(&watched, &key)) {
		/* Another thread of the target: only whether it is preempted (the quota, or not). */
		if (gs_task_state(prev) == GS_TASK_RUNNING)
			o.kind = why_throttled(prev) ? WHY_K_THROTTLED : WHY_K_RUNQ;
		else
			o.kind = WHY_K_OTHER;
		if (bpf_map_update_elem(&off, &tid, &o, BPF_ANY))
			gs_count_drop(&drops, WHY_DROP_OFF);
		return;
	}
	o.g = key.g;
	if (gs_task_state(prev) == GS_TASK_RUNNING) {
		o.kind = why_throttled(prev) ? WHY_K_THROTTLED : WHY_K_RUNQ;
	} else {
		tg = bpf_map_lookup_elem(&targets, &tgid);
		if (tg && tg->status_off > 0)
			bpf_probe_read_user(&status, sizeof(status), (void *)(key.g + tg->status_off));
		status &= ~0x1000u; /* _Gscan */
		if (status == WHY_GSYSCALL) {
			o.kind = WHY_K_SYSCALL;
			o.nr = why_syscall_nr(prev, btf);
		} else if (why_raw_syscall(prev, btf, &o.nr)) {
			o.kind = WHY_K_SYSCALL;
		} else {
			o.kind = status == WHY_GRUNNING ? WHY_K_FAULT : WHY_K_OTHER;
		}
	}
	if (bpf_map_update_elem(&off, &tid, &o, BPF_ANY))
		gs_count_drop(&drops, WHY_DROP_OFF);
}

static __always_inline void why_enter(struct task_struct *next)
{
	__u32 tid = BPF_CORE_READ(next, pid);
	struct why_off *o = bpf_map_lookup_elem(&off, &tid);
	struct why_event *e;
	__u64 cr, thr;

	if (!o)
		return;
	thr = why_thr_time(next, &cr);
	thr = cr && cr == o->cfs_rq && thr > o->thr0 ? thr - o->thr0 : 0;
	if (!o->g && !thr && o->kind != WHY_K_THROTTLED &&
	    (o->kind != WHY_K_RUNQ || bpf_ktime_get_ns() - o->start < WHY_MIN_PREEMPT_NS)) {
		bpf_map_delete_elem(&off, &tid); /* not watched, not held back */
		return;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		gs_count_drop(&drops, WHY_DROP_EVENTS);
	} else {
		e->ev = o->g ? WHY_EV_OFF : WHY_EV_THROTTLED;
		e->kind = o->kind;
		e->tgid = o->tgid;
		e->tid = tid;
		e->g = o->g;
		e->start = o->start;
		e->wake = o->wake;
		e->end = bpf_ktime_get_ns();
		e->nr = o->nr;
		e->wake_throttled = o->wake_throttled;
		e->pad = 0;
		e->thr_ns = thr;
		e->ino = 0;
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&off, &tid);
}

static __always_inline void why_switch(struct task_struct *prev, struct task_struct *next,
				       bool btf)
{
	why_leave(prev, btf);
	why_enter(next);
}

/* P woke: a sleep recorded for it ends here; what follows is a run-queue wait. */
static __always_inline void why_wakeup(struct task_struct *p)
{
	__u32 tid = BPF_CORE_READ(p, pid);
	struct why_off *o = bpf_map_lookup_elem(&off, &tid);

	if (!o || o->wake || o->kind == WHY_K_RUNQ || o->kind == WHY_K_THROTTLED)
		return;
	o->wake = bpf_ktime_get_ns();
	o->wake_throttled = why_throttled(p);
}

static __always_inline void why_retrans(const struct sock *sk)
{
	struct why_event *e;
	__u64 ino = 0;
	struct socket *so = BPF_CORE_READ(sk, sk_socket);

	if (so)
		ino = BPF_CORE_READ(so, file, f_inode, i_ino);
	if (!ino)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		gs_count_drop(&drops, WHY_DROP_EVENTS);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ev = WHY_EV_RETRANS;
	e->end = bpf_ktime_get_ns();
	e->ino = ino;
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(why_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	why_switch(prev, next, true);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(why_sched_wakeup, struct task_struct *p)
{
	why_wakeup(p);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(why_tcp_retransmit, const struct sock *sk, const struct sk_buff *skb)
{
	why_retrans(sk);
	return 0;
}

/* raw_tp twins for kernels without tp_btf (the system call is then unnamed). */
SEC("raw_tp/sched_switch")
int why_raw_sched_switch(struct bpf_raw_tracepoint_args *ctx)
{
	why_switch((struct task_struct *)ctx->args[1], (struct task_struct *)ctx->args[2], false);
	return 0;
}

SEC("raw_tp/sched_wakeup")
int why_raw_sched_wakeup(struct bpf_raw_tracepoint_args *ctx)
{
	why_wakeup((struct task_struct *)ctx->args[0]);
	return 0;
}

SEC("raw_tp/tcp_retransmit_skb")
int why_raw_tcp_retransmit(struct bpf_raw_tracepoint_args *ctx)
{
	why_retrans((const struct sock *)ctx->args[0]);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
