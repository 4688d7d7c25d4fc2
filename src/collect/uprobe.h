/*
 * uprobe: put probes on a Go function of a running process the safe way:
 * one uprobe at its entry (after the stack-check prologue, where a
 * morestack re-run does not fire it twice) and one on each of its exits
 * (every RET and every tail jump out of it), found by decoding the
 * function (gobin/disasm). Never a uretprobe: the Go runtime moves
 * goroutine stacks and would find the kernel's trampoline as a return
 * address.
 *
 * Shared by every command that times or watches Go functions (funclat,
 * gc, why): they give a BPF program for the entry and one for the exits,
 * and a cookie each probe hands its program (bpf_get_attach_cookie()).
 */
#ifndef GOSCOPE_UPROBE_H
#define GOSCOPE_UPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../gobin/disasm.h"

struct bpf_link;
struct bpf_program;
struct gobin;

/* A function of a binary and where its probes go (link-time addresses). */
struct uprobe_func {
	const char *name;  /* the pclntab's (owned by the binary's reader) */
	uint64_t entry, end;
	struct disasm_sites sites;
};

/* The probes attached, to be destroyed together. */
struct uprobe_links {
	struct bpf_link **v;
	size_t n, cap;
};

/*
 * Find the function named exactly NAME in GB and decode its probe sites
 * into F. 0; -1 with the reason in ERR (no such function, or undecodable).
 * Release F with uprobe_func_free().
 */
int uprobe_func_by_name(const struct gobin *gb, const char *name, struct uprobe_func *f,
			char *err, size_t errlen);

/* Decode the probe sites of [ENTRY, END) of GB into F (NAME kept as given). */
int uprobe_func_at(const struct gobin *gb, const char *name, uint64_t entry, uint64_t end,
		   struct uprobe_func *f, char *err, size_t errlen);

void uprobe_func_free(struct uprobe_func *f);

/* Probe sites of F: the entry plus its exits. */
size_t uprobe_func_nsites(const struct uprobe_func *f);

/*
 * The file offset of link-time address VADDR in GB's executable (what a
 * uprobe is attached at). False when VADDR is not backed by the file.
 */
bool uprobe_file_offset(const struct gobin *gb, uint64_t vaddr, uint64_t *off);

/*
 * Attach ENTRY_PROG (may be NULL: exits only) at F's entry and EXIT_PROG
 * (may be NULL: entry only) at
 * each of its exits, in process PID only (PATH: the executable, e.g.
 * /proc/PID/exe), each with COOKIE. The links are appended to L. 0, or -1
 * with the reason in ERR (the links already made for F stay in L).
 */
int uprobe_attach_func(struct uprobe_links *l, const struct gobin *gb, const char *path,
		       pid_t pid, const struct uprobe_func *f, struct bpf_program *entry_prog,
		       struct bpf_program *exit_prog, uint64_t cookie, char *err, size_t errlen);

/*
 * uprobe_func_by_name + uprobe_attach_func for function NAME; *NTAILS (may
 * be NULL) gets how many of its exits are tail jumps. On failure nothing
 * of this call stays attached.
 */
int uprobe_attach_name(struct uprobe_links *l, const struct gobin *gb, const char *path,
		       pid_t pid, const char *name, struct bpf_program *entry_prog,
		       struct bpf_program *exit_prog, uint64_t cookie, size_t *ntails, char *err,
		       size_t errlen);

/* Detach and free every link of L. */
void uprobe_links_destroy(struct uprobe_links *l);

#endif
