/*
 * uprobe: attach BPF programs to the entry and the exits of a Go function
 * of one traced process, the way Go code must be probed: the entry probe
 * after the stack-check prologue (a morestack re-run does not fire it
 * twice), the exits as plain uprobes on each RET instruction (never a
 * uretprobe: the runtime moves goroutine stacks and would find a foreign
 * return address). Sites come from gobin/disasm (capstone); uprobes are
 * placed by file offset in the process's executable.
 *
 * Used by `goscope gc`; meant for any command that times a Go function
 * (funclat). Tail jumps out of the function (JMP to another function) are
 * exits no RET probe sees: uprobe_attach_func reports how many there were.
 */
#ifndef GOSCOPE_UPROBE_H
#define GOSCOPE_UPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_link;
struct bpf_program;
struct gobin;

/* The probes attached for one target: detached together. */
struct uprobe_set {
	struct bpf_link **links;
	size_t n, cap;
};

/*
 * The entry and end (link-time) of function NAME in GB's pclntab, or false.
 * A linear search: call it a few times per target, not per event.
 */
bool uprobe_func_find(const struct gobin *gb, const char *name, uint64_t *entry, uint64_t *end);

/*
 * Attach ENTRY_PROG (may be NULL) to function NAME's entry (after the
 * prologue) and RET_PROG (may be NULL) to each of its RET instructions, in
 * process PID running the executable EXE (/proc/PID/exe works) read as GB.
 * *NTAILS (may be NULL) gets the number of tail jumps (exits not probed).
 * 0, or -1 with the reason in ERR ("runtime.gcStart not found", a libbpf
 * error); on failure nothing of this call stays attached.
 */
int uprobe_attach_func(struct uprobe_set *set, const struct gobin *gb, pid_t pid,
		       const char *exe, const char *name, struct bpf_program *entry_prog,
		       struct bpf_program *ret_prog, size_t *ntails, char *err, size_t errlen);

/* Detach and free every probe of SET (SET itself is left empty, reusable). */
void uprobe_set_free(struct uprobe_set *set);

#endif
