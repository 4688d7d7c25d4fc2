/*
 * goglobals: link-time addresses of the runtime's global variables that a
 * stripped binary no longer names (runtime.allgs), found by decoding the
 * runtime functions that use them (capstone), and the runtime's own table
 * of wait reason strings.
 */
#ifndef GOSCOPE_GOGLOBALS_H
#define GOSCOPE_GOGLOBALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gobin;

/*
 * Address of the runtime.allgs slice header {ptr, len, cap}: the one
 * address A such that A, A+8 and A+16 are all referenced by
 * runtime.allgadd. Returns false with a reason in WHY.
 */
bool goglobals_allgs(struct gobin *gb, uint64_t *addr, char *why, size_t whylen);

/*
 * Address of runtime.gomaxprocs (int32): the first 32-bit sign-extending
 * load from data in runtime.GOMAXPROCS ("ret := int(gomaxprocs)"), amd64.
 */
bool goglobals_gomaxprocs(struct gobin *gb, uint64_t *addr, char *why, size_t whylen);

/*
 * The runtime's waitReasonStrings array, read from the binary: entry i is
 * the string goroutine dumps print for waitReason i ("" for 0). Found as
 * the array of string headers whose entries 1 and 2 are "GC assist
 * marking" and "IO wait" (stable since Go 1.12). Strings point into the
 * image. Returns the number of entries, 0 if not found.
 */
#define GOGLOBALS_MAX_WAITREASONS 128
struct goglobals_waitreasons {
	size_t n;
	const char *str[GOGLOBALS_MAX_WAITREASONS];
	size_t len[GOGLOBALS_MAX_WAITREASONS];
	uint64_t addr; /* link-time address of the array */
};
size_t goglobals_waitreasons(struct gobin *gb, struct goglobals_waitreasons *wr);

/*
 * Address of runtime.semtable (the semaphore table: SIZE bytes of
 * semaRoots, each the root of a treap of waiting sudogs): the one .bss
 * address referenced by both runtime.semacquire1 and runtime.semrelease1
 * with SIZE bytes of .bss after it. Returns false with a reason in WHY.
 */
bool goglobals_semtable(struct gobin *gb, uint64_t size, uint64_t *addr, char *why,
			size_t whylen);

/*
 * The address of a runtime global struct (runtime.work, runtime.gcController)
 * in a stripped binary: the one base B such that at least MIN_MATCH of
 * B + OFFS[i] (fields at known offsets, -1 ignored) are data addresses the
 * function FUNC references (a field whose offset is not a multiple of 8
 * weighs twice). False with a reason in WHY when no base, or more than
 * one, fits best.
 */
bool goglobals_struct_base(struct gobin *gb, const char *func, const int *offs, size_t noffs,
			   size_t min_match, uint64_t *base, char *why, size_t whylen);

/* The same, leaving out the references in [EXCL_LO, EXCL_HI) (a struct already found). */
bool goglobals_struct_base_excl(struct gobin *gb, const char *func, const int *offs,
				size_t noffs, size_t min_match, uint64_t excl_lo, uint64_t excl_hi,
				uint64_t *base, char *why, size_t whylen);

/*
 * The runtime's stwReasonStrings (Go 1.21+): entry i names stwReason i, the
 * reason of a stop-the-world pause ("GC mark termination", "GOMAXPROCS",
 * "read mem stats", ...). Found as the array of string headers starting
 * "unknown", "GC mark termination", "GC sweep termination". Returns the
 * number of entries, 0 if not found (releases before 1.21 have none).
 */
size_t goglobals_stwreasons(struct gobin *gb, struct goglobals_waitreasons *wr);

/*
 * Address of runtime.work.cycles (uint32: the GC cycle number gctrace
 * prints) whatever the release's layout of runtime.work: the first 32-bit
 * load from data in runtime.gcWaitOnMark ("nMarks := work.cycles.Load()"),
 * checked to be referenced by runtime.gcStart too. amd64.
 */
bool goglobals_gc_cycles(struct gobin *gb, uint64_t *addr, char *why, size_t whylen);

#endif
