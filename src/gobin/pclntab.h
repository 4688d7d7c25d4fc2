/*
 * pclntab: the Go runtime's own function and line table (.gopclntab).
 *
 * This is what makes stripped Go binaries readable: every function's name,
 * entry, file:line table and inline tree lives here, for the runtime's own
 * tracebacks. Formats Go 1.2-1.15, 1.16-1.17, 1.18-1.19 and 1.20+ (1.26
 * included) are parsed. All reads are bounds-checked; a damaged table
 * yields unknown frames, never a crash.
 */
#ifndef GOSCOPE_PCLNTAB_H
#define GOSCOPE_PCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pclntab_format {
	PCLNTAB_UNKNOWN = 0,
	PCLNTAB_GO12,  /* magic 0xfffffffb, Go 1.2-1.15 */
	PCLNTAB_GO116, /* magic 0xfffffffa, Go 1.16-1.17 */
	PCLNTAB_GO118, /* magic 0xfffffff0, Go 1.18-1.19 */
	PCLNTAB_GO120, /* magic 0xfffffff1, Go 1.20+ */
};

/*
 * Bytes outside the table, by virtual address: inline trees hang off
 * funcdata pointers into .rodata. Returns NULL when not readable.
 */
struct pclntab_mem {
	const uint8_t *(*ptr)(void *ctx, uint64_t vaddr, size_t len);
	void *ctx;
};

struct pclntab_frame {
	const char *func; /* never NULL; "?" when unknown */
	const char *file; /* never NULL; "?" when unknown */
	int line;         /* 0 when unknown */
	uint64_t entry;   /* entry of the physical function */
	bool inlined;     /* an inlined call inside the physical function */
};

struct pclntab_func {
	uint64_t entry;
	uint64_t end; /* next function's entry, or the table's end pc */
	const char *name;
};

struct pclntab;

/* Format from the magic at DATA, or PCLNTAB_UNKNOWN. */
enum pclntab_format pclntab_sniff(const uint8_t *data, size_t len);
/* "1.2", "1.16", "1.18", "1.20" (the first release of the format). */
const char *pclntab_format_name(enum pclntab_format f);

/*
 * Parse the table of LEN bytes at DATA, loaded at virtual address VADDR.
 * MEM may be NULL (no inline trees then). DATA must outlive the table.
 * Returns 0, or -1 with a one-line reason in ERR.
 */
int pclntab_open(const uint8_t *data, size_t len, uint64_t vaddr,
		 const struct pclntab_mem *mem, struct pclntab **out, char *err,
		 size_t errlen);
void pclntab_close(struct pclntab *p);

enum pclntab_format pclntab_format(const struct pclntab *p);
int pclntab_ptrsize(const struct pclntab *p);
int pclntab_quantum(const struct pclntab *p);
/* textStart from the header (1.18+); 0 for older formats and for Go 1.26+. */
uint64_t pclntab_header_text(const struct pclntab *p);
/* Offsets (from the table start) of the name table, for moduledata checks. */
uint64_t pclntab_funcnametab_off(const struct pclntab *p);

/*
 * Where 1.18+ entry offsets count from (runtime.text), when the header says
 * 0 (Go 1.26) or to override it; and the base of 1.18+ funcdata offsets
 * (moduledata.gofunc). Both come from moduledata (see gobin).
 */
void pclntab_set_text(struct pclntab *p, uint64_t text);
uint64_t pclntab_text(const struct pclntab *p);
void pclntab_set_gofunc(struct pclntab *p, uint64_t gofunc);
uint64_t pclntab_gofunc(const struct pclntab *p);

size_t pclntab_nfunc(const struct pclntab *p);
/* The i-th function in entry order. False if I is out of range. */
bool pclntab_func_at(const struct pclntab *p, size_t i, struct pclntab_func *f);
/* Index of the function containing PC, or -1. */
long pclntab_find(const struct pclntab *p, uint64_t pc);
/* Lowest and highest (exclusive) pc covered by the table. */
void pclntab_range(const struct pclntab *p, uint64_t *lo, uint64_t *hi);

/*
 * The physical function containing PC with the file:line the line table
 * gives at PC (which is the innermost inlined position): exactly what
 * `go tool addr2line` prints: where the function's tables do not cover PC
 * (padding after its last instruction) file is "" and line -1, as
 * debug/gosym says. Returns false (and "?", "?", 0) if PC is in no function.
 */
bool pclntab_addr2line(struct pclntab *p, uint64_t pc, struct pclntab_frame *fr);

/*
 * PC expanded into inlined frames, innermost first, the physical function
 * last; at most MAX frames. Returns the number written, 0 if PC is in no
 * function. Results are cached.
 */
int pclntab_symbolize(struct pclntab *p, uint64_t pc, struct pclntab_frame *out,
		      int max);

/*
 * Frame size at PC from the pcsp table (bytes of stack the function has
 * pushed at PC, the return address excluded). False if unknown.
 */
bool pclntab_spdelta(const struct pclntab *p, uint64_t pc, int32_t *sp);

/* funcID byte of the function containing PC (runtime's abi.FuncID). */
/*
 * Size of function IDX's code without the padding after it: where its
 * pc-to-SP table ends (what the linker's symbol size is). 0 if unknown.
 */
uint64_t pclntab_code_size(const struct pclntab *p, long idx);

int pclntab_funcid(const struct pclntab *p, long idx);

#endif
