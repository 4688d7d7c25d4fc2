/*
 * disasm: where to put uprobes in a Go function, found by decoding its
 * machine code with capstone (amd64 and arm64). Go code must never get a
 * uretprobe (the runtime moves goroutine stacks and finds a foreign return
 * address), so a function's exits are its RET instructions, and the entry
 * probe goes after the stack-check prologue, where a morestack re-run of
 * the prologue does not fire it twice.
 */
#ifndef GOSCOPE_DISASM_H
#define GOSCOPE_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gobin;

struct disasm_sites {
	uint64_t func;     /* the function's entry (link-time address) */
	uint64_t end;      /* one past its last byte */
	uint64_t entry;    /* the entry probe: after the prologue's stack check */
	bool prologue;     /* a stack-check prologue was recognised */
	uint64_t *rets;    /* RET instructions */
	size_t nrets;
	uint64_t *tails;   /* jumps to outside the function (tail calls) */
	size_t ntails;
	size_t ninsns;     /* instructions decoded */
};

/*
 * Decode the function [FUNC, END) of GB. Returns 0, or -1 with the reason
 * in ERR (bytes not in the file, architecture not supported, capstone).
 * Free with disasm_sites_free().
 */
int disasm_func_sites(const struct gobin *gb, uint64_t func, uint64_t end,
		      struct disasm_sites *out, char *err, size_t errlen);

void disasm_sites_free(struct disasm_sites *s);

#endif
