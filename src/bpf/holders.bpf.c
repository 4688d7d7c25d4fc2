// SPDX-License-Identifier: GPL-2.0
/*
 * holders.bpf.c: who releases the semaphores goroutines wait on. A uprobe
 * at the entry of sync.runtime_Semrelease (after its stack check), which
 * sync.Mutex.Unlock, RWMutex.Unlock/RUnlock and WaitGroup.Done reach only
 * when a goroutine waits (the slow paths), counts each release by
 * (process, semaphore address, releasing stack) in the kernel. Go's
 * register ABI passes the address in RAX (amd64).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "holders.h"
#include "lib/target.bpf.h"

GS_TARGET_MAPS(__u32);

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, HOLDERS_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, HOLDERS_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HOLDERS_MAX_KEYS);
	__type(key, struct holders_key);
	__type(value, __u64);
} releases SEC(".maps");

SEC("uprobe")
int holders_semrelease(struct pt_regs *ctx)
{
	struct holders_key k = {};
	__u64 one = 1, *v;

	if (!gs_is_target())
		return 0;
	k.tgid = gs_tgid();
#if defined(__TARGET_ARCH_x86)
	k.addr = ctx->ax;
	bpf_probe_read_user(&k.ret, sizeof(k.ret), (void *)ctx->sp);
#else
	return 0;
#endif
	k.stackid = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	v = bpf_map_lookup_elem(&releases, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&releases, &k, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
