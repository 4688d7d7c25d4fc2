/*
 * gofixture: the Go fixtures of build/fixtures (make fixtures) as the
 * stack, pprof and disasm tests use them: open one, find a function by
 * its pclntab name, and find pcs inside a function by what they
 * symbolize to (an inlined call site, say).
 */
#ifndef GOSCOPE_GOFIXTURE_H
#define GOSCOPE_GOFIXTURE_H

#include "testutil.h"

#include "gobin/gobin.h"

/* The fixture NAME opened, or NULL (the test should skip). */
static inline struct gobin *gf_open(const char *name)
{
	char rel[128], path[PATH_MAX], err[256];
	struct gobin *gb = NULL;

	snprintf(rel, sizeof(rel), "build/fixtures/%s", name);
	if (!tu_fixture(rel, path, sizeof(path)))
		return NULL;
	if (gobin_open(path, &gb, err, sizeof(err)) != 0) {
		fprintf(stderr, "gofixture: %s: %s\n", path, err);
		return NULL;
	}
	return gb;
}

/* The function named NAME (exactly) in GB's pclntab; false if absent. */
static inline bool gf_func(const struct gobin *gb, const char *name, struct pclntab_func *f)
{
	size_t n = pclntab_nfunc(gb->pcln);

	for (size_t i = 0; i < n; i++)
		if (pclntab_func_at(gb->pcln, i, f) && strcmp(f->name, name) == 0)
			return true;
	return false;
}

/* The entry of NAME; fails the test if absent. */
static inline uint64_t gf_entry(const struct gobin *gb, const char *name)
{
	struct pclntab_func f;

	if (!gf_func(gb, name, &f))
		fail_msg("fixture has no function %s", name);
	return f.entry;
}

/*
 * The first pc of function NAME whose symbolization has NFRAMES frames
 * (2: an inlined call inside it); 0 if none.
 */
static inline uint64_t gf_pc_with_frames(struct gobin *gb, const char *name, int nframes)
{
	struct pclntab_func f;
	struct pclntab_frame fr[8];

	if (!gf_func(gb, name, &f))
		return 0;
	for (uint64_t pc = f.entry; pc < f.end; pc++)
		if (pclntab_symbolize(gb->pcln, pc, fr, 8) == nframes)
			return pc;
	return 0;
}

#endif
