/*
 * holders.h: what holders.bpf.c shares with user space (collect/holders.c):
 * the key of a counted semaphore release.
 */
#ifndef GOSCOPE_HOLDERS_H
#define GOSCOPE_HOLDERS_H

#define HOLDERS_MAX_KEYS 16384
#define HOLDERS_MAX_STACKS 4096
#define HOLDERS_STACK_DEPTH 32

struct holders_key {
	__u32 tgid;
	__s32 stackid;  /* user stack from the caller's frame pointer (bpf_get_stackid) */
	__u64 addr;     /* the semaphore released (sync.runtime_Semrelease's first argument) */
	__u64 ret;      /* return address into the immediate caller (at the entry's sp) */
};

#endif
