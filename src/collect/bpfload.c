/*
 * bpfload: libbpf set-up, checks, target filter and map walks shared by
 * every BPF collector (see bpfload.h).
 */
#include "bpfload.h"

#include "../bpf/lib/target.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static bool bpfload_verbose;
static bool bpfload_print_set;

static int bpfload_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!bpfload_verbose && level != LIBBPF_WARN)
		return 0;
	if (!bpfload_verbose)
		return 0; /* warnings too: the caller's one line says what failed */
	return vfprintf(stderr, fmt, ap);
}

void bpfload_set_verbose(bool verbose)
{
	bpfload_verbose = verbose;
}

static int bpfload_tracefs(char *err, size_t errlen)
{
	if (access("/sys/kernel/tracing/events", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0 &&
	    access("/sys/kernel/tracing/events", F_OK) == 0)
		return 0;
	snprintf(err, errlen, "tracefs is not mounted (mount -t tracefs tracefs "
			      "/sys/kernel/tracing) and cannot be mounted here");
	return -1;
}

int bpfload_prepare(const char *what, bool need_tracefs, char *err, size_t errlen)
{
	if (!bpfload_print_set) {
		libbpf_set_print(bpfload_print);
		bpfload_print_set = true;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(err, errlen, "the kernel has no BTF (/sys/kernel/btf/vmlinux): "
				      "%s needs CONFIG_DEBUG_INFO_BTF", what);
		return -1;
	}
	if (need_tracefs && bpfload_tracefs(err, errlen) != 0)
		return -1;
	return 0;
}

/*
 * Load "return 0" as a tp_btf program on sched_switch. libbpf's probe of
 * BPF_PROG_TYPE_TRACING tries an fentry program, which kernels without
 * BPF trampolines refuse although they run tp_btf programs.
 */
static bool bpfload_probe_tp_btf(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct btf *btf = btf__load_vmlinux_btf();
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_RAW_TP);
	int id, fd;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "btf_trace_sched_switch", BTF_KIND_TYPEDEF);
	btf__free(btf);
	if (id <= 0)
		return false;
	o.attach_btf_id = (__u32)id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "gs_probe", "GPL", insns, 2, &o);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

bool bpfload_has_tp_btf(void)
{
	static int known = -1;

	if (known < 0)
		known = bpfload_probe_tp_btf();
	return known == 1;
}

bool bpfload_has_ns_pid(void)
{
	static int known = -1;

	if (known < 0)
		known = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT,
						BPF_FUNC_get_ns_current_pid_tgid, NULL) == 1;
	return known == 1;
}

void bpfload_load_error(int rc, char *err, size_t errlen)
{
	if (rc == -EPERM || errno == EPERM)
		snprintf(err, errlen, "permission denied loading BPF programs "
				      "(run as root, or with CAP_BPF and CAP_PERFMON)");
	else
		snprintf(err, errlen, "cannot load the BPF programs: %s (run with -v for the "
				      "verifier log)", strerror(rc < 0 ? -rc : rc));
}

bool bpfload_pidns(uint64_t *dev, uint64_t *ino)
{
	struct stat self, init;

	*dev = *ino = 0;
	if (stat("/proc/self/ns/pid", &self) != 0)
		return false;
	/*
	 * The initial pid namespace has a fixed inode (PROC_PID_INIT_INO);
	 * /proc/1/ns/pid is the same namespace only when goscope shares it.
	 */
	if (self.st_ino == 0xEFFFFFFCu)
		return false;
	if (stat("/proc/1/ns/pid", &init) == 0 && init.st_ino == self.st_ino &&
	    init.st_ino == 0xEFFFFFFCu)
		return false;
	*dev = (uint64_t)self.st_dev;
	*ino = (uint64_t)self.st_ino;
	return true;
}

int bpfload_need_host_pidns(const char *what, char *err, size_t errlen)
{
	uint64_t dev, ino;

	if (!bpfload_pidns(&dev, &ino))
		return 0;
	snprintf(err, errlen, "goscope runs in a pid namespace of its own: %s matches the "
			      "kernel's pids of other tasks and does not map them to this namespace "
			      "yet (run goscope in the host's pid namespace)", what);
	return -1;
}

/* Rewrite slot I from the TARGETS hash (see target.bpf.h). */
static void bpfload_tslot(struct bpf_map *tslots, struct bpf_map *targets, uint32_t i)
{
	int fd = bpf_map__fd(targets);
	uint32_t key, next, *kp = NULL, v = 0;

	while (bpf_map_get_next_key(fd, kp, &next) == 0) {
		key = next;
		kp = &key;
		if ((key & (GS_TSLOTS - 1)) == i)
			v = v ? GS_TSLOT_SHARED : key;
	}
	bpf_map__update_elem(tslots, &i, sizeof(i), &v, sizeof(v), BPF_ANY);
}

int bpfload_target_add(struct bpf_map *tslots, struct bpf_map *targets, pid_t tgid,
		       const void *value, size_t vlen)
{
	uint32_t k = (uint32_t)tgid;
	int rc = bpf_map__update_elem(targets, &k, sizeof(k), value, vlen, BPF_ANY);

	if (rc == 0)
		bpfload_tslot(tslots, targets, k & (GS_TSLOTS - 1));
	return rc;
}

int bpfload_target_remove(struct bpf_map *tslots, struct bpf_map *targets, pid_t tgid)
{
	uint32_t k = (uint32_t)tgid;
	int rc = bpf_map__delete_elem(targets, &k, sizeof(k), 0);

	bpfload_tslot(tslots, targets, k & (GS_TSLOTS - 1));
	return rc;
}

size_t bpfload_each_key(const struct bpf_map *map, size_t keysz, bpfload_key_fn fn, void *arg)
{
	int fd = bpf_map__fd(map);
	size_t n = 0, max = (size_t)bpf_map__max_entries(map) * 2 + 16;
	unsigned char *cur = calloc(2, keysz), *next;

	if (!cur)
		return 0;
	next = cur + keysz;
	if (bpf_map_get_next_key(fd, NULL, next) != 0) {
		free(cur);
		return 0;
	}
	/*
	 * The next key is found before FN sees the current one, so FN may
	 * delete it without the walk restarting from the first key. Bounded:
	 * BPF programs insert while we walk.
	 */
	while (n < max) {
		bool more;

		memcpy(cur, next, keysz);
		more = bpf_map_get_next_key(fd, cur, next) == 0;
		fn(cur, arg);
		n++;
		if (!more)
			break;
	}
	free(cur);
	return n;
}

uint64_t bpfload_percpu_sum(const struct bpf_map *map, uint32_t key)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v, sum = 0;

	if (ncpu <= 0)
		return 0;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return 0;
	if (bpf_map__lookup_elem(map, &key, sizeof(key), v, (size_t)ncpu * sizeof(*v), 0) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}
