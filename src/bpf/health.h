/*
 * health.h: what health.bpf.c and the user side share (plain data).
 */
#ifndef GOSCOPE_BPF_HEALTH_H
#define GOSCOPE_BPF_HEALTH_H

#include "lib/hist.h"
#define HL_HIST_BUCKETS GS_HIST_BUCKETS
#define HL_STACK_DEPTH 64

/* Per-process latency-like totals (run-queue delay, direct reclaim). */
struct hl_lat {
	unsigned long long count;
	unsigned long long total_ns;
	unsigned long long max_ns;
	unsigned int hist[HL_HIST_BUCKETS];
};

struct hl_tid {
	unsigned int tgid;
	unsigned int pad;
	unsigned long long count;
	unsigned long long total_ns;
};

struct hl_fault_key {
	unsigned int tgid;
	int stack_id; /* user stack in the stacks map, or <0 */
};

enum hl_tcp_kind {
	HL_TCP_RETRANS = 1, /* sub: TCP state */
	HL_TCP_DROP = 2,    /* sub: skb drop reason */
	HL_TCP_STATE = 3,   /* sub: new state << 8 | old state */
};

/* TCP events by the socket's inode (matched to a process's fds). */
struct hl_tcp_key {
	unsigned long long ino;
	unsigned int kind;
	unsigned int sub;
};

struct hl_tcp_val {
	unsigned long long count;
	unsigned short family;
	unsigned short sport; /* host order */
	unsigned short dport; /* host order */
	unsigned short pad;
	unsigned char saddr[16];
	unsigned char daddr[16];
};

enum hl_drop {
	HL_DROP_RUNQ = 0,  /* wakeup start slots full */
	HL_DROP_MAPS = 1,  /* some aggregate map full */
	HL_DROP_MAX = 2,
};

#endif
