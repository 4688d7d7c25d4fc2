/*
 * go.bpf.h: the Go runtime as seen from a BPF program: the current
 * goroutine (runtime.g) of a thread and its id, and the stack depth that
 * survives stack copies. amd64 and arm64.
 *
 * In a tracepoint or perf event the registers may not be Go's: on amd64
 * the runtime keeps g in TLS at fsbase-8 too (linux/amd64); on arm64 g
 * lives only in R28 of the user registers (task_pt_regs).
 */
#ifndef GOSCOPE_BPF_LIB_GO_BPF_H
#define GOSCOPE_BPF_LIB_GO_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

/* The current thread's runtime.g (0 if unknown: not a Go thread, g0 not set). */
static __always_inline __u64 gs_current_g(void)
{
	__u64 g = 0;
#if defined(__TARGET_ARCH_x86)
	struct task_struct *task = (void *)bpf_get_current_task();
	__u64 fsbase = BPF_CORE_READ(task, thread.fsbase);

	if (!fsbase || bpf_probe_read_user(&g, sizeof(g), (void *)(fsbase - 8)))
		return 0;
#elif defined(__TARGET_ARCH_arm64)
	struct task_struct *task = (void *)bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

	if (!regs || bpf_probe_read_kernel(&g, sizeof(g), &regs->regs[28]))
		return 0;
#endif
	return g;
}

/* The goid of G at offset GOID_OFF (the release's); 0 if unknown. */
static __always_inline __u64 gs_goid_of(__u64 g, __s32 goid_off)
{
	__u64 goid = 0;

	if (!g || goid_off < 0)
		return 0;
	if (bpf_probe_read_user(&goid, sizeof(goid), (void *)(g + goid_off)))
		return 0;
	return goid;
}

/* The goroutine id running on this thread (0: the runtime's own, or unknown). */
static __always_inline __u64 gs_current_goid(__s32 goid_off)
{
	return gs_goid_of(gs_current_g(), goid_off);
}

/*
 * The depth of SP in G's stack, g.stack.hi - sp (stack.hi at offset 8 of
 * runtime.g in every release): unlike SP it survives the runtime copying
 * the stack, and it tells apart the frames of a recursion.
 */
static __always_inline __u64 gs_stack_depth(__u64 g, __u64 sp)
{
	__u64 hi = 0;

	if (!g || bpf_probe_read_user(&hi, sizeof(hi), (void *)(g + 8)) || hi < sp)
		return 0;
	return hi - sp;
}

#endif
