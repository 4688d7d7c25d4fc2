/*
 * pprof: build a profile.proto that `go tool pprof` opens, gzipped.
 *
 * Samples are Go stacks (run-time pcs of one executable); locations carry
 * their inlined frames as extra lines, already symbolized from the pclntab
 * so pprof needs no binary to show names and file:line.
 */
#ifndef GOSCOPE_PPROF_H
#define GOSCOPE_PPROF_H

#include <stddef.h>
#include <stdint.h>

struct gobin;
struct pprof;

struct pprof_label {
	const char *key;
	const char *str; /* string label, or NULL for a numeric one */
	int64_t num;
	const char *unit; /* for numeric labels, may be NULL */
};

/*
 * New profile with NTYPES sample types (TYPES[i], UNITS[i]), e.g.
 * {"waits","count"}, {"delay","nanoseconds"}. NULL when out of memory.
 */
struct pprof *pprof_new(size_t ntypes, const char *const *types, const char *const *units);
void pprof_free(struct pprof *pp);

void pprof_set_time(struct pprof *pp, int64_t time_nanos, int64_t duration_nanos);
void pprof_add_comment(struct pprof *pp, const char *comment);

/*
 * Register an executable mapping; returns its id (>0), 0 on failure.
 * GB symbolizes its pcs; BIAS is its load bias.
 */
uint64_t pprof_mapping(struct pprof *pp, struct gobin *gb, uint64_t bias, const char *path,
		       uint64_t start, uint64_t limit);

/*
 * Add a sample: PCS are run-time return addresses, innermost first (each
 * looked up at pc-1); FRAMES_PREFIX/SUFFIX are optional pseudo-frames added
 * as the leaf (e.g. "[chan receive]") and the root (e.g. "exe (pid)").
 * VALUES has ntypes entries. Returns 0, -1 when out of memory.
 */
int pprof_sample(struct pprof *pp, uint64_t mapping, const uint64_t *pcs, size_t npcs,
		 const char *leaf, const char *root, const int64_t *values,
		 const struct pprof_label *labels, size_t nlabels);

/*
 * One frame of pprof_sample_frames: a pc of MAPPING (looked up at pc-1, as
 * a return address: pass a leaf pc plus one), or, with NAME set, a
 * pseudo-frame of that name (kernel and native frames).
 */
struct pprof_frame {
	uint64_t mapping;
	uint64_t pc;
	const char *name;
};

/* A sample of frames FR[0..N), innermost first; otherwise as pprof_sample. */
int pprof_sample_frames(struct pprof *pp, const struct pprof_frame *fr, size_t n,
			const int64_t *values, const struct pprof_label *labels, size_t nlabels);

/* The sampling period in units of the last sample type (default 1). */
void pprof_set_period(struct pprof *pp, int64_t period);

/* Serialize, gzip and write to PATH. Returns 0, -1 with errno set. */
int pprof_write(struct pprof *pp, const char *path);

#endif
