/*
 * target.bpf.h: is the current task one of the traced processes?
 *
 * A program that includes this declares the two maps with
 * GS_TARGET_MAPS(value type): an array of slots indexed by tgid & (slots-1)
 * holding the tgid (or GS_TSLOT_SHARED when two targets share the slot),
 * checked first because an array lookup is inlined by the verifier, and a
 * hash tgid -> VALUE consulted only for shared slots and for per-target
 * data. collect/bpfload.c fills both (bpfload_target_add/remove).
 *
 * Pids are the kernel's (init namespace). When goscope runs in another pid
 * namespace, user space sets gs_pidns_dev/gs_pidns_ino and the pid is read
 * in goscope's namespace instead (bpf_get_ns_current_pid_tgid, 5.7+), so
 * that -p PID means what the user sees.
 */
#ifndef GOSCOPE_BPF_LIB_TARGET_BPF_H
#define GOSCOPE_BPF_LIB_TARGET_BPF_H

#include "target.h"

const volatile __u64 gs_pidns_dev = 0;
const volatile __u64 gs_pidns_ino = 0;

#define GS_TARGET_MAPS(value_type)                          \
	struct {                                            \
		__uint(type, BPF_MAP_TYPE_ARRAY);           \
		__uint(max_entries, GS_TSLOTS);             \
		__type(key, __u32);                         \
		__type(value, __u32);                       \
	} tslots SEC(".maps");                              \
	struct {                                            \
		__uint(type, BPF_MAP_TYPE_HASH);            \
		__uint(max_entries, GS_MAX_TARGETS);        \
		__type(key, __u32);                         \
		__type(value, value_type);                  \
	} targets SEC(".maps")

/* pid_tgid of the current task as goscope's namespace sees it. */
static __always_inline __u64 gs_pid_tgid(void)
{
	struct bpf_pidns_info ns = {};

	if (!gs_pidns_ino)
		return bpf_get_current_pid_tgid();
	if (bpf_get_ns_current_pid_tgid(gs_pidns_dev, gs_pidns_ino, &ns, sizeof(ns)))
		return 0; /* not visible in goscope's namespace: not a target */
	return ((__u64)ns.tgid << 32) | ns.pid;
}

static __always_inline __u32 gs_tgid(void)
{
	return gs_pid_tgid() >> 32;
}

/* Is TGID traced? (the slots first: see above) */
#define gs_is_target_tgid(tgid)                                           \
	({                                                                \
		__u32 __t = (tgid), __i = __t & (GS_TSLOTS - 1);          \
		__u32 *__v = bpf_map_lookup_elem(&tslots, &__i);          \
		__v && *__v && (*__v == __t ||                            \
				(*__v == GS_TSLOT_SHARED &&               \
				 bpf_map_lookup_elem(&targets, &__t)));   \
	})

#define gs_is_target() gs_is_target_tgid(gs_tgid())

#endif
