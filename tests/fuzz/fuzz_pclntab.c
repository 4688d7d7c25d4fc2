/*
 * fuzz_pclntab: the raw bytes are a pclntab loaded at FUZZ_VADDR; the same
 * bytes also serve every other address (inline trees, through
 * pclntab_mem), and for 1.18+ the funcdata base points into them too.
 * Every query runs over the table's own function entries and a spread of
 * pcs taken from the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gobin/pclntab.h"

#define FUZZ_VADDR 0x400000ull

struct fuzz_mem {
	const uint8_t *data;
	size_t size;
};

static const uint8_t *fuzz_ptr(void *ctx, uint64_t vaddr, size_t len)
{
	struct fuzz_mem *m = ctx;
	uint64_t off = vaddr - FUZZ_VADDR;

	if (vaddr < FUZZ_VADDR || off > m->size || len > m->size - off)
		return NULL;
	return m->data + off;
}

static unsigned fuzz_frames(const struct pclntab_frame *fr, int n)
{
	unsigned sum = 0;

	for (int i = 0; i < n; i++) {
		sum += (unsigned)strlen(fr[i].func) + (unsigned)strlen(fr[i].file);
		sum += (unsigned)fr[i].line + fr[i].inlined;
	}
	return sum;
}

static unsigned fuzz_pc(struct pclntab *p, uint64_t pc)
{
	struct pclntab_frame fr[16];
	unsigned sum = 0;
	int32_t sp;
	long ix = pclntab_find(p, pc);
	int n;

	sum += (unsigned)ix;
	sum += (unsigned)pclntab_funcid(p, ix);
	if (pclntab_addr2line(p, pc, &fr[0]) != (ix >= 0) && ix < 0)
		__builtin_trap(); /* addr2line found a function find did not */
	sum += fuzz_frames(fr, 1);
	n = pclntab_symbolize(p, pc, fr, 16);
	if (n < 0 || n > 16)
		__builtin_trap();
	sum += fuzz_frames(fr, n);
	n = pclntab_symbolize(p, pc, fr, 2); /* truncated, then cached */
	sum += fuzz_frames(fr, n);
	if (pclntab_spdelta(p, pc, &sp))
		sum += (unsigned)sp;
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_mem m = { data, size };
	struct pclntab_mem mem = { fuzz_ptr, &m };
	volatile unsigned sink = 0;
	struct pclntab *p;
	uint64_t lo, hi;
	size_t n;
	char err[256];

	if (pclntab_open(data, size, FUZZ_VADDR, &mem, &p, err, sizeof(err)) != 0)
		return 0;
	if (pclntab_format(p) >= PCLNTAB_GO118)
		pclntab_set_gofunc(p, FUZZ_VADDR);
	sink += (unsigned)pclntab_ptrsize(p) + (unsigned)pclntab_quantum(p);
	sink += (unsigned)pclntab_header_text(p) + (unsigned)pclntab_funcnametab_off(p);
	pclntab_range(p, &lo, &hi);
	n = pclntab_nfunc(p);
	for (size_t i = 0; i < n; i += n / 64 + 1) {
		struct pclntab_func f;

		if (!pclntab_func_at(p, i, &f))
			continue;
		sink += (unsigned)strlen(f.name);
		sink += fuzz_pc(p, f.entry);
		sink += fuzz_pc(p, f.entry + 1);
		if (f.end > f.entry) {
			sink += fuzz_pc(p, f.entry + (f.end - f.entry) / 2);
			sink += fuzz_pc(p, f.end - 1);
		}
	}
	/* pcs from the input, relative to the table's range */
	for (size_t off = 0; off + 4 <= size && off < 256; off += 4) {
		uint32_t r;

		memcpy(&r, data + off, 4);
		sink += fuzz_pc(p, lo + (hi > lo && hi - lo < UINT64_MAX ? r % (hi - lo + 1) : r));
	}
	sink += fuzz_pc(p, 0);
	sink += fuzz_pc(p, UINT64_MAX);
	sink += fuzz_pc(p, hi);
	/* Another text base (as moduledata would give): the cache must follow. */
	pclntab_set_text(p, pclntab_text(p) + 0x1000);
	sink += fuzz_pc(p, lo + 0x1000);
	(void)sink;
	pclntab_close(p);
	return 0;
}
