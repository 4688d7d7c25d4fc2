// SPDX-License-Identifier: GPL-2.0
/*
 * cpu.bpf.c: on-CPU samples of chosen Go processes, aggregated in the
 * kernel. Attached to one perf event per CPU (cpu-clock, or cycles).
 *
 * Each sample of a traced process (target.bpf.h) records its user stack
 * (frame-pointer walk, BPF_F_USER_STACK) and kernel stack as stack ids,
 * its thread, its goroutine (the thread's current g, go.bpf.h) and whether
 * that g is the thread's g0 (runtime or GC work on the system stack), and
 * adds one to the count of that row.
 *
 * Leaf fix-up. The frame-pointer walk starts at the sample's ip and
 * follows BP. A Go function sets BP to its own frame only after its
 * prologue (and restores the caller's before returning); frameless leaf
 * functions never do. A sample landing there has BP still pointing at the
 * caller's frame, so the walk skips the caller. Where the return address
 * is depends on the frame size at ip (the pclntab's pcsp table, known in
 * user space only): at SP when nothing is pushed yet (entry, stack check,
 * frameless functions, at RET), at SP+8 right after PUSHQ BP (then the
 * word at SP is BP itself). Both are read here from the user registers at
 * the sample, kept in the key when they look like a return address into
 * the target's Go text, and user space applies the one the pcsp table
 * says is right (collect/cpu.c). That guess misses where the frame size D
 * is more than 8 (Go <= 1.20's SUBQ $n, SP before BP is saved, or its ADDQ
 * after BP is restored) and may pick a stale return address left in an
 * uninitialized slot at SP. So the first sample at a pc sends the pc to
 * user space (ring buffer newpcs), which writes D into the spd map (and
 * the D of every prologue and epilogue window of that function); from
 * then on the rule is exact: the frame is not set up when BP != SP + D - 8
 * (the invariant of both prologue styles once it is), and the return
 * address is the word at SP + D.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "cpu.h"
#include "lib/go.bpf.h"
#include "lib/maps.bpf.h"
#include "lib/target.bpf.h"

const volatile bool kernel_stacks = true;
const volatile bool goid_only = false; /* --goid: only goroutine goid_want */
const volatile __u64 goid_want = 0;

GS_TARGET_MAPS(struct cpu_target);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CPU_MAX_KEYS);
	__type(key, struct cpu_key);
	__type(value, __u64);
} counts SEC(".maps");

/* (pid, goid) -> samples, for every goroutine while there is room. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CPU_MAX_GOIDS);
	__type(key, struct cpu_gkey);
	__type(value, __u64);
} goids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, CPU_MAX_USTACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, CPU_STACK_DEPTH * sizeof(__u64));
} ustacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, CPU_MAX_KSTACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, CPU_STACK_DEPTH * sizeof(__u64));
} kstacks SEC(".maps");

/* (pid, leaf pc) -> frame size there, when more than 8 (see the top). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CPU_MAX_SPD);
	__type(key, struct cpu_pckey);
	__type(value, __s32);
} spd SEC(".maps");

/* Leaf pcs not in spd yet, for user space to look up. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 10);
} newpcs SEC(".maps");

GS_DROPS_MAP(CPU_DROP_MAX);

/*
 * Is G the g0 of its m? Then *CURG is the goroutine the m runs for
 * (m.curg: a cgo call or systemstack work on its behalf), or 0.
 */
static __always_inline bool cpu_on_g0(__u64 g, const struct cpu_target *t, __u64 *curg)
{
	__u64 m = 0, g0 = 0;

	*curg = 0;
	if (t->g_m < 0 || t->m_g0 < 0)
		return false;
	if (bpf_probe_read_user(&m, sizeof(m), (void *)(g + t->g_m)) || !m)
		return false;
	if (bpf_probe_read_user(&g0, sizeof(g0), (void *)(m + t->m_g0)) || g0 != g)
		return false;
	if (t->m_curg >= 0)
		bpf_probe_read_user(curg, sizeof(*curg), (void *)(m + t->m_curg));
	return true;
}

/* The return address the leaf fix-up may need (see the top), into K. */
static __always_inline void cpu_leaf_fix(struct cpu_key *k, const struct cpu_target *t)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct cpu_pckey pk = { .pid = k->pid };
	__u64 sp = 0, bp = 0, w[2] = {};
	__s32 *d;

	if (!regs)
		return;
#if defined(__TARGET_ARCH_x86)
	sp = BPF_CORE_READ(regs, sp);
	bp = BPF_CORE_READ(regs, bp);
	pk.pc = BPF_CORE_READ(regs, ip);
#elif defined(__TARGET_ARCH_arm64)
	/* arm64 keeps the return address in LR: nothing on the stack to read. */
	return;
#endif
	if (!sp)
		return;
	/* The frame size at this pc is known: the exact rule. */
	d = bpf_map_lookup_elem(&spd, &pk);
	if (d) {
		if (*d < 0 || *d > 1 << 20 || bp == sp + *d - 8)
			return;
		if (bpf_probe_read_user(w, sizeof(w[0]), (void *)(sp + *d)) ||
		    !(w[0] >= t->text_lo && w[0] < t->text_hi))
			return;
		k->fix = w[0];
		k->flags |= CPU_F_FIXD;
		return;
	}
	/* Not yet: ask user space, and guess from the two likeliest places. */
	bpf_ringbuf_output(&newpcs, &pk, sizeof(pk), 0);
	if (bpf_probe_read_user(w, sizeof(w), (void *)sp))
		return;
	if (w[0] >= t->text_lo && w[0] < t->text_hi) {
		k->fix = w[0];
		k->flags |= CPU_F_FIX0;
	} else if (w[0] == bp && w[1] >= t->text_lo && w[1] < t->text_hi) {
		k->fix = w[1];
		k->flags |= CPU_F_FIX8;
	}
}

SEC("perf_event")
int cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 pid_tgid = gs_pid_tgid(), g, curg, goid = 0, one = 1, *v;
	__u32 tgid = pid_tgid >> 32;
	struct cpu_target *t;
	struct cpu_key k = {};
	struct cpu_gkey gk = {};

	if (!tgid || !gs_is_target_tgid(tgid))
		return 0;
	t = bpf_map_lookup_elem(&targets, &tgid);
	if (!t)
		return 0;
	k.pid = tgid;
	k.tid = (__u32)pid_tgid;
	g = gs_current_g();
	if (!g) {
		k.flags |= CPU_F_NOG;
	} else if (cpu_on_g0(g, t, &curg)) {
		k.flags |= CPU_F_G0;
		goid = gs_goid_of(curg, t->goid_off);
	} else {
		goid = gs_goid_of(g, t->goid_off);
	}
	if (goid_only && goid != goid_want)
		return 0;
	/* The interrupted pc is a kernel address (top half, amd64 and arm64). */
	if (PT_REGS_IP(&ctx->regs) >= 0xffff000000000000ull)
		k.flags |= CPU_F_KERNEL;
	if (goid) {
		gk.pid = tgid;
		gk.goid = goid;
		v = bpf_map_lookup_elem(&goids, &gk);
		if (v) {
			__sync_fetch_and_add(v, 1);
		} else if (bpf_map_update_elem(&goids, &gk, &one, BPF_NOEXIST) != 0 &&
			   !bpf_map_lookup_elem(&goids, &gk)) {
			gs_count_drop(&drops, CPU_DROP_GOIDS);
			goid = goid_only ? goid : 0;
		}
		/* Lost a race with another CPU inserting it: counted there. */
	}
	if (goid) {
		k.goid = goid;
		k.flags |= CPU_F_GOID;
	}
	k.ustack = bpf_get_stackid(ctx, &ustacks, BPF_F_USER_STACK);
	if (k.ustack < 0)
		gs_count_drop(&drops, CPU_DROP_USTACK);
	if (kernel_stacks && (k.flags & CPU_F_KERNEL)) {
		k.kstack = bpf_get_stackid(ctx, &kstacks, 0);
		if (k.kstack < 0)
			gs_count_drop(&drops, CPU_DROP_KSTACK);
	} else {
		k.kstack = -1;
	}
	cpu_leaf_fix(&k, t);
	if (!gs_count_key(&counts, &k))
		gs_count_drop(&drops, CPU_DROP_KEYS);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
