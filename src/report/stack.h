/*
 * stack: the one way goscope turns a captured Go stack (run-time
 * addresses, innermost first) into frames and prints them: symbolized from
 * the pclntab with inlined frames expanded, one stop rule, and a marker
 * where frames are left out. Text, JSON and folded printers share it.
 */
#ifndef GOSCOPE_STACK_H
#define GOSCOPE_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct gobin;
struct jsonw;

enum {
	STACK_PC_FIRST = 1 << 0,     /* pcs[0] is a pc (not a return address) */
	STACK_SKIP_RUNTIME = 1 << 1, /* start at the first frame outside package runtime */
	STACK_TRUNCATED = 1 << 2,    /* the capture was cut: frames are missing at the root */
};

struct stack_frame {
	const char *func; /* "?" when the pc is in no Go function */
	const char *file;
	int line;
	uint64_t pc;      /* run-time address as captured */
	bool inlined;
	bool known;
};

#define STACK_MAX_FRAMES 512

/*
 * Symbolize PCS[0..N) of the binary GB loaded at BIAS (GB may be NULL:
 * every frame unknown) into OUT (at most MAX), innermost first. The stop
 * rule: the walk ends before runtime.goexit and runtime.mstart (the root
 * of every goroutine and thread), after runtime.mcall, runtime.systemstack
 * and runtime.morestack (where a stack switched), and after the first pc
 * outside the binary. Returns the number of frames written.
 */
size_t stack_symbolize(struct gobin *gb, uint64_t bias, const uint64_t *pcs, size_t n,
		       unsigned flags, struct stack_frame *out, size_t max);

/*
 * Text: one frame a line, "INDENT func  file:line". At most MAXF frames
 * (0: all): the innermost MAXF-3, "(N frames elided)", the 3 at the root.
 */
void stack_print(FILE *out, struct gobin *gb, uint64_t bias, const uint64_t *pcs, size_t n,
		 unsigned flags, size_t maxf, const char *indent);

/* JSON: key "stack", an array of "func file:line" strings, innermost first. */
void stack_json(struct jsonw *w, struct gobin *gb, uint64_t bias, const uint64_t *pcs,
		size_t n, unsigned flags);

/*
 * Folded (flamegraph.pl): frames root first joined by ';' (';' in a name
 * becomes ':'), no newline. Writes nothing for an empty stack. Returns the
 * number of frames written.
 */
size_t stack_folded(FILE *out, struct gobin *gb, uint64_t bias, const uint64_t *pcs, size_t n,
		    unsigned flags);

/* Does any frame's function or file contain SUB? (NULL: true) */
bool stack_matches(struct gobin *gb, uint64_t bias, const uint64_t *pcs, size_t n,
		   unsigned flags, const char *sub);

/*
 * Goroutine-dump style, as the runtime's traceback prints a stack: each
 * frame "func()" (inlined ones "func(...)") then "\tfile:line pc=0x.."
 * (no pc on inlined frames); an unknown pc as "?()" / "\t?:0 pc=0x..".
 */
void stack_print_dump(FILE *out, struct gobin *gb, uint64_t bias, const uint64_t *pcs,
		      size_t n, unsigned flags);

/* A frame name safe for folded output. */
void stack_folded_name(FILE *out, const char *s);

#endif
