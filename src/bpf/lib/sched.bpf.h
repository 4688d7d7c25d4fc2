/*
 * sched.bpf.h: the scheduler's view of a task, for the programs on the
 * sched_switch / sched_wakeup tracepoints: its state (the field's name
 * changed in 5.14).
 */
#ifndef GOSCOPE_BPF_LIB_SCHED_BPF_H
#define GOSCOPE_BPF_LIB_SCHED_BPF_H

#include <bpf/bpf_core_read.h>

#define GS_TASK_RUNNING 0

/* T's state: GS_TASK_RUNNING when preempted (still runnable), else why it sleeps. */
static __always_inline long gs_task_state(struct task_struct *t)
{
	struct task_struct___old {
		long state;
	} *o = (void *)t;

	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ(o, state);
}

#endif
