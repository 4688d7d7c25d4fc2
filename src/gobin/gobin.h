/*
 * gobin: everything goscope knows about one Go executable, read once.
 *
 * Ties the readers together: the ELF image, the pclntab (found by section
 * or by scanning), the runtime's moduledata (for runtime.text and the
 * funcdata base), the build info and Go version, and the runtime struct
 * offsets. Every command starts here.
 */
#ifndef GOSCOPE_GOBIN_H
#define GOSCOPE_GOBIN_H

#include <stdbool.h>
#include <stdint.h>

#include "buildinfo.h"
#include "elfimg.h"
#include "goruntime.h"
#include "pclntab.h"

/* Oldest release whose goroutines goscope can trace (register ABI, offsets). */
#define GOBIN_MIN_TRACE_MINOR 17

struct gobin {
	char *path;
	struct elfimg *img;
	struct pclntab *pcln;
	uint64_t pclntab_addr;
	const char *pclntab_where; /* section name, or "scan" */
	struct buildinfo bi;
	bool version_known;
	int go_minor;              /* 1.N */
	int go_patch;
	struct goruntime_offsets off;
	bool offsets_known;        /* false: release outside the table, no DWARF */
	uint64_t moduledata;       /* vaddr of runtime.firstmoduledata, 0 if unknown */
	uint64_t text;             /* runtime.text */
	enum elfimg_arch arch;
	bool pie;
	bool is_static;
	bool cgo;
	bool stripped;
	bool dwarf;
	unsigned refs;             /* gobin_ref()s not yet closed, plus one */
};

/*
 * Open the Go executable at PATH. Returns 0, or -1 with a one-line reason
 * in ERR ("not a Go program", "corrupt pclntab", ...). Free with
 * gobin_close().
 */
int gobin_open(const char *path, struct gobin **out, char *err, size_t errlen);

/* Same, from a buffer (fuzzers, tests); BUF is copied. */
int gobin_open_mem(const void *buf, size_t len, struct gobin **out, char *err,
		   size_t errlen);

/*
 * Share GB (one reader for every process of the same executable): returns
 * GB; each reference is released by its own gobin_close(). Not thread-safe.
 */
struct gobin *gobin_ref(struct gobin *gb);

/* Release a reference; the last one frees everything. */
void gobin_close(struct gobin *gb);

/* "go1.19.8", or "unknown". */
const char *gobin_go_version(const struct gobin *gb);

/* True when goroutine tracing supports this binary (Go >= 1.17, amd64/arm64). */
bool gobin_traceable(const struct gobin *gb, char *why, size_t whylen);

#endif
