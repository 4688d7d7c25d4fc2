/*
 * bpfload: what every BPF collector does around its skeleton, written
 * once: libbpf's log (set once, shown with -v), the checks that name the
 * missing piece (BTF, privileges, tracefs), the tp_btf probe that decides
 * between a program and its raw_tp twin, the load error sentence, the
 * target filter of bpf/lib/target.bpf.h, and map walks.
 */
#ifndef GOSCOPE_BPFLOAD_H
#define GOSCOPE_BPFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_map;
struct bpf_object;

/* Show libbpf's messages on stderr (-v); set before the first open. */
void bpfload_set_verbose(bool verbose);

/*
 * Checks before opening a skeleton for WHAT ("syscall tracing"): libbpf's
 * print installed (once), BTF present (CO-RE), tracefs mounted when
 * NEED_TRACEFS (mounted if it can be). 0, or -1 with the missing piece
 * named in ERR.
 */
int bpfload_prepare(const char *what, bool need_tracefs, char *err, size_t errlen);

/* Does this kernel support tp_btf programs (BTF-typed tracepoints)? Cached. */
bool bpfload_has_tp_btf(void);

/* Can this kernel run bpf_get_ns_current_pid_tgid? (5.7+) */
bool bpfload_has_ns_pid(void);

/* The sentence for a failed skeleton load (RC from __load): EPERM named. */
void bpfload_load_error(int rc, char *err, size_t errlen);

/*
 * goscope's own pid namespace, when it is not the initial one: the values
 * for a program's gs_pidns_dev/gs_pidns_ino (see target.bpf.h). False when
 * goscope sees the kernel's pids (the common case: leave them 0).
 */
bool bpfload_pidns(uint64_t *dev, uint64_t *ino);

/*
 * For collectors whose BPF side keys other tasks by the kernel's pids (the
 * task woken, a socket's owner): 0 in the initial pid namespace, else -1
 * with a sentence saying why WHAT is not measured from inside one.
 */
int bpfload_need_host_pidns(const char *what, char *err, size_t errlen);

/*
 * The target filter (bpf/lib/target.bpf.h): add or remove TGID in the
 * TARGETS hash (VALUE of VLEN bytes) and rewrite its slot in TSLOTS.
 */
int bpfload_target_add(struct bpf_map *tslots, struct bpf_map *targets, pid_t tgid,
		       const void *value, size_t vlen);
int bpfload_target_remove(struct bpf_map *tslots, struct bpf_map *targets, pid_t tgid);

/*
 * Call FN for each key of MAP (KEYSZ bytes); FN may delete the key it is
 * given. Returns the number of keys visited.
 */
typedef void (*bpfload_key_fn)(const void *key, void *arg);
size_t bpfload_each_key(const struct bpf_map *map, size_t keysz, bpfload_key_fn fn, void *arg);

/* Sum over CPUs of the u64 at KEY of a per-CPU array; 0 if unreadable. */
uint64_t bpfload_percpu_sum(const struct bpf_map *map, uint32_t key);

#endif
