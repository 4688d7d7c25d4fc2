/*
 * goglobals: find runtime globals in stripped binaries.
 *
 * allgs: runtime.allgadd appends to allgs and stores its ptr, len and cap,
 * so its code references three consecutive words; capstone decodes the
 * function and collects the data addresses it touches (RIP-relative on
 * amd64, ADRP+ADD/LDR on arm64).
 *
 * waitReasonStrings: an array of Go string headers in .data whose entries
 * the runtime prints in goroutine dumps; found by its first entries.
 */
#include "goglobals.h"

#include "gobin.h"

#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GG_MAX_REFS 512
#define GG_MAX_FUNC_BYTES (64 * 1024)

/* Data addresses referenced by the function ENTRY..END (amd64). */
static size_t gg_refs_amd64(csh cs, const uint8_t *code, size_t len, uint64_t entry,
			    uint64_t *refs, size_t max)
{
	cs_insn *insn = cs_malloc(cs);
	size_t n = 0;

	if (!insn)
		return 0;
	while (n < max && cs_disasm_iter(cs, &code, &len, &entry, insn)) {
		cs_x86 *x = &insn->detail->x86;

		for (int i = 0; i < x->op_count && n < max; i++) {
			if (x->operands[i].type == X86_OP_MEM &&
			    x->operands[i].mem.base == X86_REG_RIP &&
			    x->operands[i].mem.index == X86_REG_INVALID)
				refs[n++] = insn->address + insn->size +
					    (uint64_t)x->operands[i].mem.disp;
		}
	}
	cs_free(insn, 1);
	return n;
}

/* Data addresses referenced by ADRP + ADD/LDR/STR pairs (arm64). */
static size_t gg_refs_arm64(csh cs, const uint8_t *code, size_t len, uint64_t entry,
			    uint64_t *refs, size_t max)
{
	cs_insn *insn = cs_malloc(cs);
	uint64_t page[32] = { 0 }; /* per register: ADRP result, 0 if none */
	size_t n = 0;

	if (!insn)
		return 0;
	while (n < max && len >= 4) {
		/* Fixed-width: step over what capstone cannot decode (newer atomics). */
		if (!cs_disasm_iter(cs, &code, &len, &entry, insn)) {
			code += 4;
			len -= 4;
			entry += 4;
			continue;
		}
		cs_arm64 *a = &insn->detail->arm64;

		if (insn->id == ARM64_INS_ADRP && a->op_count == 2 &&
		    a->operands[0].type == ARM64_OP_REG) {
			unsigned r = a->operands[0].reg - ARM64_REG_X0;

			if (r < 32)
				page[r] = (uint64_t)a->operands[1].imm;
			continue;
		}
		if (insn->id == ARM64_INS_ADD && a->op_count == 3 &&
		    a->operands[1].type == ARM64_OP_REG && a->operands[2].type == ARM64_OP_IMM) {
			unsigned r = a->operands[1].reg - ARM64_REG_X0;
			unsigned d = a->operands[0].reg - ARM64_REG_X0;

			if (r < 32 && page[r]) {
				refs[n++] = page[r] + (uint64_t)a->operands[2].imm;
				/* The register now holds that address: [Xd, #off] is relative to it. */
				if (d < 32 && a->operands[0].type == ARM64_OP_REG)
					page[d] = page[r] + (uint64_t)a->operands[2].imm;
			}
			continue;
		}
		for (int i = 0; i < a->op_count && n < max; i++) {
			if (a->operands[i].type != ARM64_OP_MEM)
				continue;
			unsigned r = a->operands[i].mem.base - ARM64_REG_X0;

			if (r < 32 && page[r])
				refs[n++] = page[r] + (uint64_t)(int64_t)a->operands[i].mem.disp;
		}
	}
	cs_free(insn, 1);
	return n;
}

static int gg_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool gg_has(const uint64_t *v, size_t n, uint64_t x)
{
	return bsearch(&x, v, n, sizeof(*v), gg_cmp_u64) != NULL;
}

/* Find function NAME; fill its code bytes. */
static const uint8_t *gg_func(struct gobin *gb, const char *name, uint64_t *entry,
			      size_t *len)
{
	size_t n = pclntab_nfunc(gb->pcln);

	for (size_t i = 0; i < n; i++) {
		struct pclntab_func f;

		if (!pclntab_func_at(gb->pcln, i, &f) || strcmp(f.name, name) != 0)
			continue;
		if (f.end <= f.entry || f.end - f.entry > GG_MAX_FUNC_BYTES)
			return NULL;
		*entry = f.entry;
		*len = (size_t)(f.end - f.entry);
		return elfimg_vptr(gb->img, f.entry, *len);
	}
	return NULL;
}

bool goglobals_allgs(struct gobin *gb, uint64_t *addr, char *why, size_t whylen)
{
	uint64_t refs[GG_MAX_REFS];
	uint64_t entry;
	size_t len, n = 0;
	const uint8_t *code = gg_func(gb, "runtime.allgadd", &entry, &len);
	csh cs;
	cs_err e;

	if (!code) {
		snprintf(why, whylen, "runtime.allgadd not found in the pclntab");
		return false;
	}
	if (gb->arch == ELFIMG_ARCH_AMD64)
		e = cs_open(CS_ARCH_X86, CS_MODE_64, &cs);
	else if (gb->arch == ELFIMG_ARCH_ARM64)
		e = cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &cs);
	else {
		snprintf(why, whylen, "cannot decode %s code", elfimg_arch_name(gb->arch));
		return false;
	}
	if (e != CS_ERR_OK) {
		snprintf(why, whylen, "capstone: %s", cs_strerror(e));
		return false;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	if (gb->arch == ELFIMG_ARCH_AMD64)
		n = gg_refs_amd64(cs, code, len, entry, refs, GG_MAX_REFS);
	else
		n = gg_refs_arm64(cs, code, len, entry, refs, GG_MAX_REFS);
	cs_close(&cs);
	qsort(refs, n, sizeof(refs[0]), gg_cmp_u64);
	for (size_t i = 0; i < n; i++) {
		if (gg_has(refs, n, refs[i] + 8) && gg_has(refs, n, refs[i] + 16)) {
			*addr = refs[i];
			return true;
		}
	}
	snprintf(why, whylen, "runtime.allgs not recognised in runtime.allgadd");
	return false;
}

bool goglobals_gomaxprocs(struct gobin *gb, uint64_t *addr, char *why, size_t whylen)
{
	uint64_t entry;
	size_t len;
	const uint8_t *code = gg_func(gb, "runtime.GOMAXPROCS", &entry, &len);
	cs_insn *insn;
	csh cs;
	bool found = false;

	if (!code) {
		snprintf(why, whylen, "runtime.GOMAXPROCS not found in the pclntab");
		return false;
	}
	if (gb->arch != ELFIMG_ARCH_AMD64) {
		snprintf(why, whylen, "runtime.gomaxprocs is located on amd64 only");
		return false;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		snprintf(why, whylen, "capstone cannot decode amd64");
		return false;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	while (insn && !found && cs_disasm_iter(cs, &code, &len, &entry, insn)) {
		cs_x86 *x = &insn->detail->x86;

		if (insn->id != X86_INS_MOVSXD || x->op_count != 2 ||
		    x->operands[1].type != X86_OP_MEM || x->operands[1].mem.base != X86_REG_RIP)
			continue;
		*addr = insn->address + insn->size + (uint64_t)x->operands[1].mem.disp;
		found = true;
	}
	if (insn)
		cs_free(insn, 1);
	cs_close(&cs);
	if (!found)
		snprintf(why, whylen, "runtime.gomaxprocs not recognised in runtime.GOMAXPROCS");
	return found;
}

/* The Go string header at VADDR, if it names bytes in the image. */
static const char *gg_gostring(struct gobin *gb, uint64_t vaddr, size_t *len)
{
	uint64_t p, l;
	const uint8_t *lp;

	if (!elfimg_read_ptr(gb->img, vaddr, &p))
		return NULL;
	lp = elfimg_vptr(gb->img, vaddr + 8, 8);
	if (!lp)
		return NULL;
	l = elfimg_u64(gb->img, lp);
	if (l > 256)
		return NULL;
	*len = (size_t)l;
	if (l == 0)
		return "";
	return (const char *)elfimg_vptr(gb->img, p, (size_t)l);
}

static bool gg_streq(const char *s, size_t n, const char *lit)
{
	return s && n == strlen(lit) && memcmp(s, lit, n) == 0;
}

/* Wait reasons are short phrases: "chan receive (nil chan)", "sync.Mutex.Lock". */
static bool gg_reason_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr(" ().:_-/", c)))
			return false;
	}
	return true;
}

/*
 * Find in the writable data an array of Go strings whose first three are
 * FIRST, SECOND and THIRD (one of the runtime's tables of reasons) and read
 * it into WR, up to where the headers stop naming a reason. Returns WR->n.
 */
static size_t gg_reason_table(struct gobin *gb, const char *first, const char *second,
			      const char *third, struct goglobals_waitreasons *wr)
{
	memset(wr, 0, sizeof(*wr));
	if (elfimg_ptrsize(gb->img) != 8)
		return 0;
	for (size_t si = 0; si < elfimg_nsections(gb->img); si++) {
		const struct elfimg_section *s = elfimg_section_at(gb->img, si);

		if (!(s->flags & 2) || !(s->flags & 1) || s->type == 8 /* NOBITS */)
			continue;
		for (uint64_t a = s->addr; a + 48 <= s->addr + s->size; a += 8) {
			size_t l0, l1, l2;
			const char *s1 = gg_gostring(gb, a + 16, &l1);

			if (!gg_streq(s1, l1, second))
				continue;
			const char *s2 = gg_gostring(gb, a + 32, &l2);
			const char *s0 = gg_gostring(gb, a, &l0);

			if (!gg_streq(s2, l2, third) || !s0 || !gg_streq(s0, l0, first))
				continue;
			wr->addr = a;
			for (size_t i = 0; i < GOGLOBALS_MAX_WAITREASONS; i++) {
				size_t l;
				const char *str = gg_gostring(gb, a + 16 * i, &l);

				/* The array ends where headers stop naming a reason. */
				if (!str || (i > 0 && (l == 0 || !gg_reason_text(str, l))))
					break;
				wr->str[i] = str;
				wr->len[i] = l;
				wr->n = i + 1;
			}
			return wr->n;
		}
	}
	return 0;
}

size_t goglobals_waitreasons(struct gobin *gb, struct goglobals_waitreasons *wr)
{
	/* waitReasonZero is "" */
	return gg_reason_table(gb, "", "GC assist marking", "IO wait", wr);
}

/* The data addresses function NAME references, sorted; 0 with WHY if none. */
static size_t gg_func_refs(struct gobin *gb, const char *name, uint64_t *refs, size_t max,
			   char *why, size_t whylen)
{
	uint64_t entry;
	size_t len, n;
	const uint8_t *code = gg_func(gb, name, &entry, &len);
	csh cs;
	cs_err e;

	if (!code) {
		snprintf(why, whylen, "%s not found in the pclntab", name);
		return 0;
	}
	if (gb->arch == ELFIMG_ARCH_AMD64)
		e = cs_open(CS_ARCH_X86, CS_MODE_64, &cs);
	else if (gb->arch == ELFIMG_ARCH_ARM64)
		e = cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &cs);
	else {
		snprintf(why, whylen, "cannot decode %s code", elfimg_arch_name(gb->arch));
		return 0;
	}
	if (e != CS_ERR_OK) {
		snprintf(why, whylen, "capstone: %s", cs_strerror(e));
		return 0;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	if (gb->arch == ELFIMG_ARCH_AMD64)
		n = gg_refs_amd64(cs, code, len, entry, refs, max);
	else
		n = gg_refs_arm64(cs, code, len, entry, refs, max);
	cs_close(&cs);
	qsort(refs, n, sizeof(refs[0]), gg_cmp_u64);
	if (n == 0)
		snprintf(why, whylen, "%s references no data", name);
	return n;
}

bool goglobals_struct_base(struct gobin *gb, const char *func, const int *offs, size_t noffs,
			   size_t min_match, uint64_t *base, char *why, size_t whylen)
{
	return goglobals_struct_base_excl(gb, func, offs, noffs, min_match, 0, 0, base, why,
					  whylen);
}

bool goglobals_struct_base_excl(struct gobin *gb, const char *func, const int *offs,
				size_t noffs, size_t min_match, uint64_t excl_lo, uint64_t excl_hi,
				uint64_t *base, char *why, size_t whylen)
{
	enum { MAXREFS = 8192 }; /* gcMarkTermination: ~1500 on arm64 */
	uint64_t *refs = malloc(MAXREFS * sizeof(*refs));
	size_t n, m = 0, best = 0, best_match = 0, nbest = 0;
	uint64_t best_base = 0;

	if (!refs) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	n = gg_func_refs(gb, func, refs, MAXREFS, why, whylen);
	if (n == 0) {
		free(refs);
		return false;
	}
	/* Another struct's fields (one already found) are not this one's. */
	for (size_t i = 0; i < n; i++)
		if (refs[i] < excl_lo || refs[i] >= excl_hi)
			refs[m++] = refs[i];
	n = m;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < noffs; k++) {
			uint64_t b;
			size_t match = 0, score = 0;

			if (offs[k] < 0 || refs[i] < (uint64_t)offs[k])
				continue;
			b = refs[i] - (uint64_t)offs[k];
			if (b == best_base && best)
				continue;
			/*
			 * A field off the 8-byte grid counts twice: a function that
			 * touches a run of neighbouring words (Go 1.20's
			 * gcMarkTermination reads most of runtime.work) fits the
			 * 8-byte fields at several bases, a 4-byte one at one only.
			 */
			for (size_t j = 0; j < noffs; j++)
				if (offs[j] >= 0 && gg_has(refs, n, b + (uint64_t)offs[j])) {
					match++;
					score += offs[j] % 8 ? 2 : 1;
				}
			if (score > best) {
				best = score;
				best_match = match;
				best_base = b;
				nbest = 1;
			} else if (score == best && b != best_base) {
				nbest++;
			}
		}
	}
	free(refs);
	if (best_match < min_match || nbest != 1) {
		snprintf(why, whylen, "no unique struct base in %s (%zu of %zu fields at best)", func,
			 best_match, noffs);
		return false;
	}
	*base = best_base;
	return true;
}

size_t goglobals_stwreasons(struct gobin *gb, struct goglobals_waitreasons *wr)
{
	return gg_reason_table(gb, "unknown", "GC mark termination", "GC sweep termination", wr);
}

bool goglobals_gc_cycles(struct gobin *gb, uint64_t *addr, char *why, size_t whylen)
{
	uint64_t entry, refs[GG_MAX_REFS];
	size_t len, nrefs;
	const uint8_t *code = gg_func(gb, "runtime.gcWaitOnMark", &entry, &len);
	cs_insn *insn;
	csh cs;
	bool found = false;

	if (!code) {
		snprintf(why, whylen, "runtime.gcWaitOnMark not found in the pclntab");
		return false;
	}
	if (gb->arch != ELFIMG_ARCH_AMD64) {
		snprintf(why, whylen, "runtime.work.cycles is located on amd64 only");
		return false;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		snprintf(why, whylen, "capstone cannot decode amd64");
		return false;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	/* "nMarks := work.cycles.Load()": the first 32-bit load from data. */
	while (insn && !found && cs_disasm_iter(cs, &code, &len, &entry, insn)) {
		cs_x86 *x = &insn->detail->x86;

		if (insn->id != X86_INS_MOV || x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
		    x->operands[0].size != 4 || x->operands[1].type != X86_OP_MEM ||
		    x->operands[1].mem.base != X86_REG_RIP ||
		    x->operands[1].mem.index != X86_REG_INVALID)
			continue;
		*addr = insn->address + insn->size + (uint64_t)x->operands[1].mem.disp;
		found = true;
	}
	if (insn)
		cs_free(insn, 1);
	cs_close(&cs);
	if (!found) {
		snprintf(why, whylen, "work.cycles not recognised in runtime.gcWaitOnMark");
		return false;
	}
	/* gcStart increments it: a load of something else would not be there. */
	nrefs = gg_func_refs(gb, "runtime.gcStart", refs, GG_MAX_REFS, why, whylen);
	if (!gg_has(refs, nrefs, *addr)) {
		snprintf(why, whylen, "the word gcWaitOnMark loads first is not used by gcStart");
		return false;
	}
	return true;
}

bool goglobals_semtable(struct gobin *gb, uint64_t size, uint64_t *addr, char *why,
			size_t whylen)
{
	uint64_t acq[GG_MAX_REFS], rel[GG_MAX_REFS];
	const struct elfimg_section *bss = elfimg_section(gb->img, ".bss");
	size_t na = gg_func_refs(gb, "runtime.semacquire1", acq, GG_MAX_REFS, why, whylen);
	size_t nr = gg_func_refs(gb, "runtime.semrelease1", rel, GG_MAX_REFS, why, whylen);
	uint64_t found = 0;

	if (!na || !nr) {
		snprintf(why, whylen, "runtime.semacquire1/semrelease1 not decoded");
		return false;
	}
	if (!bss) {
		snprintf(why, whylen, "no .bss section");
		return false;
	}
	for (size_t i = 0; i < na; i++) {
		uint64_t a = acq[i];

		if ((i > 0 && acq[i - 1] == a) || !gg_has(rel, nr, a))
			continue;
		if (a < bss->addr || a + size > bss->addr + bss->size)
			continue;
		if (found && found != a) {
			snprintf(why, whylen, "two candidates for runtime.semtable");
			return false;
		}
		found = a;
	}
	if (!found) {
		snprintf(why, whylen, "runtime.semtable not recognised in runtime.semacquire1");
		return false;
	}
	*addr = found;
	return true;
}
