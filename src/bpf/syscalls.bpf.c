// SPDX-License-Identifier: GPL-2.0
/*
 * syscalls.bpf.c: per-syscall counts, errors and latency of chosen
 * processes, aggregated in the kernel, from the raw_syscalls tracepoints
 * (raw_tp programs: no trace event record is built per call).
 *
 * sys_enter only stores the start time (and the arguments when an event
 * or the connect outcome needs them) in per-task storage (a tid-keyed hash
 * on kernels before 5.11). sys_exit adds the call to per-CPU statistics
 * (no atomic increment): with one target and no --by, a per-CPU array
 * indexed by syscall number (no hash lookup either); else a per-CPU hash.
 * Calls made on goroutine 0 (the runtime on g0: idle waits, wakeups,
 * sysmon) get their own row (SC_KEY_IDLE). A non-blocking connect that
 * returns EINPROGRESS is counted with its outcome, read from the program's
 * getsockopt(SOL_SOCKET, SO_ERROR) at its exit. When asked, one event per
 * slow call or per call the network rules check, with the Go stack.
 *
 * Sampled (the default view of `goscope syscalls`): user space attaches
 * both programs only during short windows (any program on raw_syscalls
 * puts every task of the host on the syscall slow path) and numbers them
 * (`window`). sys_exit then counts every call that ends in a window, its
 * number read from the registers; it is timed only when it also began in
 * the same window (its entry stamp carries the window's number).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "lib/go.bpf.h"
#include "lib/hist.bpf.h"
#include "lib/maps.bpf.h"
#include "lib/target.bpf.h"
#include "syscalls.h"

#define SC_EINPROGRESS 115
#define SC_SOL_SOCKET 1
#define SC_SO_ERROR 4

/* The sixth argument (libbpf 1.1 has no PT_REGS_PARM6_SYSCALL). */
#if defined(__TARGET_ARCH_x86)
#define SC_PARM6(r) ((r)->r9)
#elif defined(__TARGET_ARCH_arm64)
#define SC_PARM6(r) ((r)->regs[5])
#else
#define SC_PARM6(r) 0
#endif

const volatile bool filter_nr = false;
const volatile __u32 by = SC_BY_NONE;
const volatile __u64 slow_ns = 0;
const volatile bool net_events = false;
/* Keep every call's arguments at entry: only events use them. */
const volatile bool need_args = false;
/* One target, by syscall: statistics in the per-CPU array `slots`. */
const volatile bool single = false;
/* Many CPUs: one shared hash `stats_sh` with atomic increments (per-CPU values would cost
 * 2.7 KB x CPUs a row). */
const volatile bool shared = false;
/* Split goroutine 0's calls apart (SC_KEY_IDLE) for syscalls with SC_SPEC_IDLE. */
const volatile bool idle_split = true;
/* This architecture's connect and getsockopt numbers (-1: no outcome tracking). */
const volatile __s32 nr_connect = -1;
const volatile __s32 nr_getsockopt = -1;

/* Attached by windows (user space numbers them in `window`). */
const volatile bool sampled = false;

/* The single target's goid offset (set by user space after load). */
__s32 single_goid_off = -1;
/* The current sampling window's number (user space, before each attach). */
__u64 window = 0;

/* Traced processes: tgid -> offset of goid in their runtime.g (-1: unknown). */
GS_TARGET_MAPS(struct sc_target);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SC_NR_MAX);
	__type(key, __u32);
	__type(value, __u32);
} argspec SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sc_start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct sc_start);
} starts_hash SEC(".maps");

/* One target, by syscall: SC_SLOT(nr, flags) -> this CPU's statistics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SC_SLOTS);
	__type(key, __u32);
	__type(value, struct sc_stats);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, struct sc_key);
	__type(value, struct sc_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, struct sc_key);
	__type(value, struct sc_stats);
} stats_sh SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sc_errkey);
	__type(value, __u64);
} errs SEC(".maps");

/* (tgid << 32 | fd) -> the row of a connect that returned EINPROGRESS. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct sc_pending);
} pending SEC(".maps");

GS_EVENTS_MAP(4 << 20);

GS_DROPS_MAP(SC_DROP_MAX);

/* A zeroed stats value to insert from (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sc_stats);
} zero_stats SEC(".maps");

static __always_inline void sc_drop(__u32 why)
{
	gs_count_drop(&drops, why);
}

static __always_inline __u32 sc_spec(__u32 nr)
{
	__u32 *sp;

	if (nr >= SC_NR_MAX)
		return 0;
	sp = bpf_map_lookup_elem(&argspec, &nr);
	return sp ? *sp : 0;
}

/* The goid offset of the current process (-1: unknown). */
static __always_inline __s32 sc_goid_off(__u32 tgid)
{
	struct sc_target *t;

	if (single)
		return single_goid_off;
	t = bpf_map_lookup_elem(&targets, &tgid);
	return t ? t->goid_off : -1;
}

static __always_inline bool sc_wanted(long id)
{
	__u32 nr = (__u32)id;

	if (!filter_nr)
		return true;
	if (id < 0 || nr >= SC_NR_MAX)
		return false;
	return sc_spec(nr) & SC_SPEC_TRACED;
}

static __always_inline bool sc_outcome_nr(long id)
{
	return nr_connect >= 0 && (id == nr_connect || id == nr_getsockopt);
}

/* The 6 arguments of the system call in REGS. */
static __always_inline void sc_args(struct pt_regs *regs, struct sc_start *st)
{
	struct pt_regs r;

	if (bpf_probe_read_kernel(&r, sizeof(r), regs))
		return;
	st->args[0] = PT_REGS_PARM1_SYSCALL(&r);
	st->args[1] = PT_REGS_PARM2_SYSCALL(&r);
	st->args[2] = PT_REGS_PARM3_SYSCALL(&r);
	st->args[3] = PT_REGS_PARM4_SYSCALL(&r);
	st->args[4] = PT_REGS_PARM5_SYSCALL(&r);
	st->args[5] = SC_PARM6(&r);
}

static __always_inline void sc_enter(struct pt_regs *regs, long id, struct sc_start *st)
{
	st->nr = (__u64)id;
	if (need_args || sc_outcome_nr(id))
		sc_args(regs, st);
	st->win = window;
	st->ts = bpf_ktime_get_ns();
}

/* The statistics of KEY (inserted if new), or NULL (a drop is counted). */
static __always_inline struct sc_stats *sc_stats_of(const struct sc_key *key)
{
	struct sc_stats *s;
	__u32 zero = 0;

	if (single) {
		__u32 slot = SC_SLOT(key->nr, key->flags);

		s = bpf_map_lookup_elem(&slots, &slot);
	} else if (shared) {
		s = gs_lookup_or_init(&stats_sh, key, bpf_map_lookup_elem(&zero_stats, &zero));
	} else {
		s = gs_lookup_or_init(&stats, key, bpf_map_lookup_elem(&zero_stats, &zero));
	}
	if (!s)
		sc_drop(SC_DROP_STATS);
	return s;
}

/* Count errno ERR in KEY's row (S: its statistics). */
static __always_inline void sc_count_err(const struct sc_key *key, struct sc_stats *s, int err)
{
	struct sc_errkey ek = { .tgid = key->tgid, .nr = key->nr, .flags = key->flags,
				.err = err, .id = key->id };

	if (shared)
		__sync_fetch_and_add(&s->errors, 1);
	else
		s->errors++;
	if (!gs_count_key(&errs, &ek))
		sc_drop(SC_DROP_ERRS);
}

static __always_inline void sc_event(void *ctx, struct sc_start *st, long ret, __u64 dur,
				     __u32 kind, __u32 spec, __u64 goid, __u64 pid_tgid)
{
	struct sc_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u32 pa, aa, la;

	if (!e) {
		sc_drop(SC_DROP_EVENTS);
		return;
	}
	e->ts = bpf_ktime_get_ns();
	e->dur_ns = dur;
	e->goid = goid;
	e->ret = ret;
	e->tgid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->nr = (__u32)st->nr;
	e->kind = kind;
	e->args[0] = st->args[0];
	e->args[1] = st->args[1];
	e->args[2] = st->args[2];
	e->args[3] = st->args[3];
	e->args[4] = st->args[4];
	e->args[5] = st->args[5];
	e->str[0] = 0;
	e->addrlen = 0;
	pa = SC_SPEC_PATH(spec);
	if (pa >= 1 && pa <= 6)
		bpf_probe_read_user_str(e->str, sizeof(e->str), (void *)st->args[pa - 1]);
	aa = SC_SPEC_ADDR(spec);
	la = SC_SPEC_ALEN(spec);
	if (aa >= 1 && aa <= 6 && la >= 1 && la <= 6 && st->args[aa - 1]) {
		__u64 len = st->args[la - 1];

		if (spec & SC_SPEC_ALEN_PTR) {
			__u32 l = 0;

			bpf_probe_read_user(&l, sizeof(l), (void *)len);
			len = l;
		}
		__u32 n = len > SC_ADDR_MAX ? SC_ADDR_MAX : (__u32)len;

		if (n > 0 && n <= SC_ADDR_MAX &&
		    !bpf_probe_read_user(e->addr, n, (void *)st->args[aa - 1]))
			e->addrlen = (int)n;
	}
	e->nstack = bpf_get_stack(ctx, e->stack, sizeof(e->stack), BPF_F_USER_STACK);
	bpf_ringbuf_submit(e, 0);
}

/*
 * connect returned EINPROGRESS: remember its row until the program asks
 * for the outcome. getsockopt(fd, SOL_SOCKET, SO_ERROR) returned: count
 * the pending connect's outcome (an errno, or nothing for success).
 */
static __always_inline bool sc_outcome(struct sc_start *st, long ret, __u32 tgid,
				       const struct sc_key *key)
{
	__u64 pk = ((__u64)tgid << 32) | (__u32)st->args[0];
	struct sc_pending *p;
	struct sc_stats *s;
	int err = 0;

	if (st->nr == (__u64)nr_connect) {
		struct sc_pending np = { .key = *key };

		if (ret != -SC_EINPROGRESS)
			return false;
		bpf_map_update_elem(&pending, &pk, &np, BPF_ANY);
		return true; /* not an error: the outcome decides */
	}
	if (ret != 0 || st->args[1] != SC_SOL_SOCKET || st->args[2] != SC_SO_ERROR)
		return false;
	p = bpf_map_lookup_elem(&pending, &pk);
	if (!p)
		return false;
	if (!bpf_probe_read_user(&err, sizeof(err), (void *)st->args[3]) && err > 0 &&
	    err < 4096) {
		s = sc_stats_of(&p->key);
		if (s)
			sc_count_err(&p->key, s, err);
	}
	bpf_map_delete_elem(&pending, &pk);
	return false;
}

/*
 * Account one call of number NR that returned RET. ST: its entry (stamp
 * and arguments), or NULL when its entry was not seen (sampled: it began
 * before the window): then it is counted, not timed.
 */
static __always_inline void sc_account(void *ctx, long ret, __u32 nr, struct sc_start *st,
				       __u64 pid_tgid)
{
	__u64 dur = 0;
	struct sc_key key = {};
	struct sc_stats *s;
	__u32 spec = 0;
	__u64 goid = 0;
	__s32 goid_off = -1;
	long counted = ret;

	if (nr >= SC_NR_MAX)
		return;
	if (st) {
		dur = bpf_ktime_get_ns() - st->ts;
		st->ts = 0;
	}
	spec = sc_spec(nr);
	key.tgid = pid_tgid >> 32;
	key.nr = nr;
	if (by == SC_BY_GOID || slow_ns || (net_events && (spec & SC_SPEC_NET)) ||
	    (idle_split && (spec & SC_SPEC_IDLE))) {
		goid_off = sc_goid_off(key.tgid);
		goid = gs_current_goid(goid_off);
	}
	if (goid_off >= 0 && !goid && idle_split && (spec & SC_SPEC_IDLE))
		key.flags = SC_KEY_IDLE;
	if (by == SC_BY_TID)
		key.id = (__u32)pid_tgid;
	else if (by == SC_BY_GOID)
		key.id = goid;
	s = sc_stats_of(&key);
	if (!s)
		return;
	if (shared) {
		__sync_fetch_and_add(&s->count, 1);
		if (st) {
			__sync_fetch_and_add(&s->total_ns, dur);
			__sync_fetch_and_add(&s->hist[gs_hist_bucket(dur)], 1);
		}
	} else {
		s->count++;
		if (st) {
			s->total_ns += dur;
			s->hist[gs_hist_bucket(dur)]++;
		}
	}
	if (st) {
		/* Racy when shared: a lost max (min) is within its bucket. */
		if (dur > s->max_ns)
			s->max_ns = dur;
		if (!s->min_ns || dur < s->min_ns)
			s->min_ns = dur;
	}
	if (sc_outcome_nr(nr)) {
		if (st && sc_outcome(st, ret, key.tgid, &key))
			counted = 0;
		else if (!st && nr == (__u32)nr_connect && ret == -SC_EINPROGRESS)
			counted = 0; /* its outcome is unknown: not an error */
	}
	if (counted < 0 && counted >= -4095)
		sc_count_err(&key, s, (int)-counted);
	if (!st)
		return;
	if (slow_ns && dur >= slow_ns)
		sc_event(ctx, st, ret, dur, SC_EV_SLOW, spec, goid, pid_tgid);
	else if (net_events && (spec & SC_SPEC_NET))
		sc_event(ctx, st, ret, dur, SC_EV_NET, spec, goid, pid_tgid);
}

/* The system call number in REGS (sys_exit's first argument). */
static __always_inline long sc_regs_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return (long)BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	return (long)BPF_CORE_READ(regs, syscallno);
#else
	return -1;
#endif
}

/* sys_exit: ST is the thread's entry slot (NULL: none). */
static __always_inline void sc_exit(struct bpf_raw_tracepoint_args *ctx, struct sc_start *st,
				    __u64 pid_tgid)
{
	long ret = (long)ctx->args[1];
	long id;

	if (!sampled) {
		if (st && st->ts)
			sc_account(ctx, ret, (__u32)st->nr, st, pid_tgid);
		return;
	}
	if (st && st->ts && st->win == window) {
		sc_account(ctx, ret, (__u32)st->nr, st, pid_tgid);
		return;
	}
	if (st)
		st->ts = 0;
	id = sc_regs_nr((struct pt_regs *)ctx->args[0]);
	if (id >= 0 && sc_wanted(id))
		sc_account(ctx, ret, (__u32)id, NULL, pid_tgid);
}

SEC("raw_tp/sys_enter")
int sys_enter_ts(struct bpf_raw_tracepoint_args *ctx)
{
	long id = (long)ctx->args[1];
	struct sc_start *st;

	if (!gs_is_target() || !sc_wanted(id))
		return 0;
	st = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), NULL,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) {
		sc_drop(SC_DROP_START);
		return 0;
	}
	sc_enter((struct pt_regs *)ctx->args[0], id, st);
	return 0;
}

SEC("raw_tp/sys_exit")
int sys_exit_ts(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 pid_tgid = gs_pid_tgid();
	struct sc_start *st;

	if (!gs_is_target_tgid(pid_tgid >> 32))
		return 0;
	st = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), NULL, 0);
	sc_exit(ctx, st, pid_tgid);
	return 0;
}

/* Kernels before 5.11 (no task storage for tracing): a tid-keyed hash. */
SEC("raw_tp/sys_enter")
int sys_enter_hash(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	long id = (long)ctx->args[1];
	struct sc_start st = {};

	if (!gs_is_target() || !sc_wanted(id))
		return 0;
	sc_enter((struct pt_regs *)ctx->args[0], id, &st);
	if (bpf_map_update_elem(&starts_hash, &tid, &st, BPF_ANY))
		sc_drop(SC_DROP_START);
	return 0;
}

SEC("raw_tp/sys_exit")
int sys_exit_hash(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 pid_tgid = gs_pid_tgid();
	struct sc_start *st;

	if (!gs_is_target_tgid(pid_tgid >> 32))
		return 0;
	st = bpf_map_lookup_elem(&starts_hash, &tid);
	sc_exit(ctx, st, pid_tgid);
	if (st)
		bpf_map_delete_elem(&starts_hash, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
