/*
 * pclntab: parse the Go runtime's function/line table and answer
 * "which function, file:line and inlined calls are at this pc".
 *
 * Layouts follow the Go linker (cmd/link/internal/ld/pcln.go) and the
 * runtime (runtime/symtab.go) of each format; see GO-INTERNALS.md. Every
 * offset read from the table is checked against the table's length before
 * use, because the table comes from a file we do not trust.
 */
#include "pclntab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fuzzers build with small caches: 4 MB per open is slow to fault in. */
#ifndef PCLNTAB_CACHE_SETS
#define PCLNTAB_CACHE_SETS 1024 /* symbolize cache: sets of PCLNTAB_CACHE_WAYS */
#endif
#define PCLNTAB_CACHE_WAYS 4
#ifndef PCLNTAB_DTABS
#define PCLNTAB_DTABS (1u << 17) /* decoded pcvalue tables kept, power of two */
#endif
#define PCLNTAB_DTAB_MAX (1u << 20) /* ranges in one table: more is corrupt */
#define PCLNTAB_BUCKET_SHIFT 12 /* function index: one slot per 4 KiB of text */
#define PCLNTAB_MAX_BUCKETS (1u << 22)
#define PCLNTAB_CACHE_FRAMES 6
#define PCLNTAB_MAX_INLINE 64   /* depth bound against corrupt trees */
#define PCDATA_INLTREEINDEX 2

/* Where each format keeps the fields of a _func record. */
struct pclntab_layout {
	unsigned ftab_entsz;  /* bytes per functab entry */
	bool ftab_u32;        /* functab entries are u32 offsets (1.18+) */
	unsigned func_size;   /* sizeof(_func) */
	unsigned off_nameoff;
	unsigned off_pcsp, off_pcfile, off_pcln;
	unsigned off_npcdata;
	int off_cuoff;        /* -1: no CUs (1.2) */
	unsigned off_funcid;
	unsigned off_nfuncdata;
	unsigned fd_inltree;  /* FUNCDATA_InlTree */
	bool fd_u32;          /* funcdata are u32 offsets from gofunc (1.18+) */
	unsigned inl_size;    /* sizeof(inlinedCall) */
	unsigned inl_nameoff; /* offset of the callee name in inlinedCall */
	unsigned inl_parentpc;
};

struct pclntab_cache_ent {
	uint64_t pc; /* 0 = empty */
	int n;
	struct pclntab_frame fr[PCLNTAB_CACHE_FRAMES];
};

/* A pcvalue table decoded once: range i covers [end[i-1], end[i]) from entry. */
struct pclntab_dtab {
	uint32_t taboff; /* 0 = empty slot */
	uint32_t n;
	uint32_t *end;
	int32_t *val;
};

struct pclntab {
	const uint8_t *data;
	size_t len;
	uint64_t vaddr;
	enum pclntab_format fmt;
	struct pclntab_layout lay;
	int ptrsize;
	int quantum;
	struct pclntab_mem mem;
	bool have_mem;
	uint64_t nfunc;
	uint64_t hdr_text;
	uint64_t text;
	uint64_t gofunc;
	/* Offsets from the table start. */
	uint64_t funcnametab, cutab, filetab, pctab, pclntable;
	uint64_t ftab;    /* functab start */
	uint64_t nfiles;  /* 1.2: files in filetab */
	struct pclntab_cache_ent *cache; /* PCLNTAB_CACHE_SETS * WAYS entries */
	uint8_t *cache_next;             /* per set: the way to replace next */
	struct pclntab_dtab *dtabs;      /* decoded tables, direct-mapped by offset */
	uint32_t ndtabs;                 /* slots in dtabs */
	uint32_t nsets;                  /* sets in cache */
	uint32_t *bucket;                /* first function of each 4 KiB of text */
	size_t nbuckets;
	uint64_t bucket_lo;
	bool bucket_built;
	uint64_t last_nul; /* offset of the table's last NUL byte (0 if none) */
};

static const struct pclntab_layout pclntab_lay_go12 = {
	.ftab_entsz = 16, .ftab_u32 = false, .func_size = 40, .off_nameoff = 8,
	.off_pcsp = 20, .off_pcfile = 24, .off_pcln = 28, .off_npcdata = 32,
	.off_cuoff = -1, .off_funcid = 36, .off_nfuncdata = 39, .fd_inltree = 4,
	.fd_u32 = false, .inl_size = 20, .inl_nameoff = 12, .inl_parentpc = 16,
};
static const struct pclntab_layout pclntab_lay_go116 = {
	.ftab_entsz = 16, .ftab_u32 = false, .func_size = 44, .off_nameoff = 8,
	.off_pcsp = 20, .off_pcfile = 24, .off_pcln = 28, .off_npcdata = 32,
	.off_cuoff = 36, .off_funcid = 40, .off_nfuncdata = 43, .fd_inltree = 3,
	.fd_u32 = false, .inl_size = 20, .inl_nameoff = 12, .inl_parentpc = 16,
};
static const struct pclntab_layout pclntab_lay_go118 = {
	.ftab_entsz = 8, .ftab_u32 = true, .func_size = 40, .off_nameoff = 4,
	.off_pcsp = 16, .off_pcfile = 20, .off_pcln = 24, .off_npcdata = 28,
	.off_cuoff = 32, .off_funcid = 36, .off_nfuncdata = 39, .fd_inltree = 3,
	.fd_u32 = true, .inl_size = 20, .inl_nameoff = 12, .inl_parentpc = 16,
};
static const struct pclntab_layout pclntab_lay_go120 = {
	.ftab_entsz = 8, .ftab_u32 = true, .func_size = 44, .off_nameoff = 4,
	.off_pcsp = 16, .off_pcfile = 20, .off_pcln = 24, .off_npcdata = 28,
	.off_cuoff = 32, .off_funcid = 40, .off_nfuncdata = 43, .fd_inltree = 3,
	.fd_u32 = true, .inl_size = 16, .inl_nameoff = 4, .inl_parentpc = 8,
};

/* Little-endian reads: every Go target goscope traces is little-endian. */
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

static inline bool pclntab_has(const struct pclntab *p, uint64_t off, uint64_t n)
{
	return off <= p->len && n <= p->len - off;
}

static uint64_t pclntab_word(const struct pclntab *p, uint64_t off)
{
	if (!pclntab_has(p, off, (uint64_t)p->ptrsize))
		return 0;
	return p->ptrsize == 8 ? rd64(p->data + off) : rd32(p->data + off);
}

static inline __attribute__((always_inline)) uint32_t pclntab_u32(const struct pclntab *p,
								   uint64_t off)
{
	if (!pclntab_has(p, off, 4))
		return 0;
	return rd32(p->data + off);
}

/* NUL-terminated string at OFF, or NULL if it runs off the table. */
static const char *pclntab_str(const struct pclntab *p, uint64_t off)
{
	if (off >= p->len)
		return NULL;
	/* Before the table's last NUL, every string ends inside the table. */
	if (off < p->last_nul)
		return (const char *)p->data + off;
	if (!memchr(p->data + off, 0, p->len - off))
		return NULL;
	return (const char *)p->data + off;
}

enum pclntab_format pclntab_sniff(const uint8_t *data, size_t len)
{
	if (len < 16 || data[4] != 0 || data[5] != 0)
		return PCLNTAB_UNKNOWN;
	if (data[6] != 1 && data[6] != 2 && data[6] != 4)
		return PCLNTAB_UNKNOWN;
	if (data[7] != 4 && data[7] != 8)
		return PCLNTAB_UNKNOWN;
	switch (rd32(data)) {
	case 0xfffffffb:
		return PCLNTAB_GO12;
	case 0xfffffffa:
		return PCLNTAB_GO116;
	case 0xfffffff0:
		return PCLNTAB_GO118;
	case 0xfffffff1:
		return PCLNTAB_GO120;
	default:
		return PCLNTAB_UNKNOWN;
	}
}

const char *pclntab_format_name(enum pclntab_format f)
{
	switch (f) {
	case PCLNTAB_GO12:
		return "1.2";
	case PCLNTAB_GO116:
		return "1.16";
	case PCLNTAB_GO118:
		return "1.18";
	case PCLNTAB_GO120:
		return "1.20";
	default:
		return "unknown";
	}
}

/* Functab entry i: its entry pc and the offset of its _func record. */
static bool pclntab_ftab(const struct pclntab *p, uint64_t i, uint64_t *entry,
			 uint64_t *funcoff)
{
	uint64_t off = p->ftab + i * p->lay.ftab_entsz;

	if (p->lay.ftab_u32) {
		if (!pclntab_has(p, off, 8))
			return false;
		*entry = p->text + rd32(p->data + off);
		*funcoff = rd32(p->data + off + 4);
	} else {
		unsigned ps = (unsigned)p->ptrsize;

		if (!pclntab_has(p, off, 2 * ps))
			return false;
		*entry = pclntab_word(p, off);
		*funcoff = pclntab_word(p, off + ps);
	}
	return true;
}

/* Entry pc of functab slot i (i == nfunc gives the end pc). */
static uint64_t pclntab_entry(const struct pclntab *p, uint64_t i)
{
	uint64_t off = p->ftab + i * p->lay.ftab_entsz;

	if (p->lay.ftab_u32)
		return p->text + pclntab_u32(p, off);
	return pclntab_word(p, off);
}

/* Offset (from table start) of function i's _func, or 0 if invalid. */
static uint64_t pclntab_funcrec(const struct pclntab *p, uint64_t i)
{
	uint64_t entry, funcoff, rec;

	if (i >= p->nfunc || !pclntab_ftab(p, i, &entry, &funcoff))
		return 0;
	rec = p->pclntable + funcoff;
	if (rec < p->pclntable || !pclntab_has(p, rec, p->lay.func_size))
		return 0;
	return rec;
}

int pclntab_open(const uint8_t *data, size_t len, uint64_t vaddr,
		 const struct pclntab_mem *mem, struct pclntab **out, char *err,
		 size_t errlen)
{
	struct pclntab *p;
	enum pclntab_format fmt = pclntab_sniff(data, len);

	*out = NULL;
	if (fmt == PCLNTAB_UNKNOWN) {
		snprintf(err, errlen, "no Go pclntab header (unknown magic)");
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->data = data;
	p->len = len;
	p->vaddr = vaddr;
	p->fmt = fmt;
	p->quantum = data[6];
	p->ptrsize = data[7];
	if (mem && mem->ptr) {
		p->mem = *mem;
		p->have_mem = true;
	}

	unsigned ps = (unsigned)p->ptrsize;
	p->nfunc = pclntab_word(p, 8);
	switch (fmt) {
	case PCLNTAB_GO12:
		p->lay = pclntab_lay_go12;
		p->ftab = 8 + ps;
		p->pclntable = 0;
		p->funcnametab = 0;
		p->pctab = 0;
		break;
	case PCLNTAB_GO116:
		p->lay = pclntab_lay_go116;
		p->nfiles = pclntab_word(p, 8 + ps);
		p->funcnametab = pclntab_word(p, 8 + 2 * ps);
		p->cutab = pclntab_word(p, 8 + 3 * ps);
		p->filetab = pclntab_word(p, 8 + 4 * ps);
		p->pctab = pclntab_word(p, 8 + 5 * ps);
		p->pclntable = pclntab_word(p, 8 + 6 * ps);
		p->ftab = p->pclntable;
		break;
	case PCLNTAB_GO118:
	case PCLNTAB_GO120:
		p->lay = fmt == PCLNTAB_GO118 ? pclntab_lay_go118 : pclntab_lay_go120;
		p->nfiles = pclntab_word(p, 8 + ps);
		p->hdr_text = pclntab_word(p, 8 + 2 * ps);
		p->funcnametab = pclntab_word(p, 8 + 3 * ps);
		p->cutab = pclntab_word(p, 8 + 4 * ps);
		p->filetab = pclntab_word(p, 8 + 5 * ps);
		p->pctab = pclntab_word(p, 8 + 6 * ps);
		p->pclntable = pclntab_word(p, 8 + 7 * ps);
		p->ftab = p->pclntable;
		p->text = p->hdr_text;
		break;
	default:
		break;
	}
	if (ps == 4 && !p->lay.ftab_u32) {
		/* <=1.17 _func starts with a uintptr entry: 4 bytes less on 32-bit. */
		p->lay.ftab_entsz = 8;
		p->lay.func_size -= 4;
		p->lay.off_nameoff -= 4;
		p->lay.off_pcsp -= 4;
		p->lay.off_pcfile -= 4;
		p->lay.off_pcln -= 4;
		p->lay.off_npcdata -= 4;
		if (p->lay.off_cuoff >= 0)
			p->lay.off_cuoff -= 4;
		p->lay.off_funcid -= 4;
		p->lay.off_nfuncdata -= 4;
	}
	/* Sanity: the functab (nfunc+1 entries) must fit in the table. */
	if (p->nfunc == 0 || p->nfunc > len / p->lay.ftab_entsz ||
	    !pclntab_has(p, p->ftab, (p->nfunc + 1) * p->lay.ftab_entsz) ||
	    p->funcnametab > len || p->pctab > len || p->pclntable > len ||
	    p->filetab > len || p->cutab > len) {
		snprintf(err, errlen, "corrupt pclntab (%s format): tables out of bounds",
			 pclntab_format_name(fmt));
		free(p);
		return -1;
	}
	if (fmt == PCLNTAB_GO12) {
		/* The file table offset follows the functab's end pc. */
		uint64_t ft = pclntab_u32(p, p->ftab + p->nfunc * p->lay.ftab_entsz + ps);

		p->filetab = ft;
		p->nfiles = pclntab_u32(p, ft);
		if (!pclntab_has(p, ft, 4 + 4 * p->nfiles))
			p->nfiles = 0;
	}
	for (size_t i = len; i-- > 0;) {
		if (data[i] == 0) {
			p->last_nul = i;
			break;
		}
	}
	p->ndtabs = 64;
	while (p->ndtabs < PCLNTAB_DTABS && p->ndtabs < 2 * p->nfunc)
		p->ndtabs *= 2;
	p->nsets = 16;
	while (p->nsets < PCLNTAB_CACHE_SETS && p->nsets * 4 < p->nfunc)
		p->nsets *= 2;
	p->cache = calloc((size_t)p->nsets * PCLNTAB_CACHE_WAYS, sizeof(*p->cache));
	p->cache_next = calloc(p->nsets, 1);
	p->dtabs = calloc(p->ndtabs, sizeof(*p->dtabs));
	if (!p->cache || !p->cache_next || !p->dtabs) {
		free(p->cache);
		free(p->cache_next);
		free(p->dtabs);
		free(p);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*out = p;
	return 0;
}

static void pclntab_clear_dtabs(struct pclntab *p)
{
	for (size_t i = 0; i < p->ndtabs; i++) {
		free(p->dtabs[i].end);
		free(p->dtabs[i].val);
	}
	memset(p->dtabs, 0, p->ndtabs * sizeof(*p->dtabs));
}

void pclntab_close(struct pclntab *p)
{
	if (!p)
		return;
	pclntab_clear_dtabs(p);
	free(p->dtabs);
	free(p->cache);
	free(p->cache_next);
	free(p->bucket);
	free(p);
}

enum pclntab_format pclntab_format(const struct pclntab *p)
{
	return p->fmt;
}

int pclntab_ptrsize(const struct pclntab *p)
{
	return p->ptrsize;
}

int pclntab_quantum(const struct pclntab *p)
{
	return p->quantum;
}

uint64_t pclntab_header_text(const struct pclntab *p)
{
	return p->hdr_text;
}

uint64_t pclntab_funcnametab_off(const struct pclntab *p)
{
	return p->funcnametab;
}

void pclntab_set_text(struct pclntab *p, uint64_t text)
{
	p->text = text;
	memset(p->cache, 0, (size_t)p->nsets * PCLNTAB_CACHE_WAYS * sizeof(*p->cache));
	/* Entries moved: the function index is rebuilt on the next lookup. */
	free(p->bucket);
	p->bucket = NULL;
	p->nbuckets = 0;
	p->bucket_built = false;
}

uint64_t pclntab_text(const struct pclntab *p)
{
	return p->text;
}

void pclntab_set_gofunc(struct pclntab *p, uint64_t gofunc)
{
	p->gofunc = gofunc;
	memset(p->cache, 0, (size_t)p->nsets * PCLNTAB_CACHE_WAYS * sizeof(*p->cache));
}

uint64_t pclntab_gofunc(const struct pclntab *p)
{
	return p->gofunc;
}

size_t pclntab_nfunc(const struct pclntab *p)
{
	return (size_t)p->nfunc;
}

void pclntab_range(const struct pclntab *p, uint64_t *lo, uint64_t *hi)
{
	*lo = pclntab_entry(p, 0);
	*hi = pclntab_entry(p, p->nfunc);
}

/* Name of the function whose _func record is at REC. */
static const char *pclntab_recname(const struct pclntab *p, uint64_t rec)
{
	uint32_t nameoff = pclntab_u32(p, rec + p->lay.off_nameoff);
	const char *s = pclntab_str(p, p->funcnametab + nameoff);

	return s ? s : "?";
}

bool pclntab_func_at(const struct pclntab *p, size_t i, struct pclntab_func *f)
{
	uint64_t rec = pclntab_funcrec(p, i);

	if (!rec && p->lay.ftab_u32 == false && i >= p->nfunc)
		return false;
	if (i >= p->nfunc)
		return false;
	f->entry = pclntab_entry(p, i);
	f->end = pclntab_entry(p, i + 1);
	f->name = rec ? pclntab_recname(p, rec) : "?";
	return true;
}

/*
 * The function index (as the runtime's findfunctab): for each 4 KiB of
 * text, the last function starting at or before it, so a lookup searches
 * only the functions of one bucket. Built on first use; without it (out of
 * memory, absurd text size) lookups search the whole table.
 */
static void pclntab_build_buckets(struct pclntab *p)
{
	uint64_t lo = pclntab_entry(p, 0), hi = pclntab_entry(p, p->nfunc);
	size_t nb;
	uint64_t f = 0;

	p->bucket_built = true;
	/* Real text has far fewer 4 KiB pages than functions: more is corrupt. */
	if (hi <= lo || ((hi - lo) >> PCLNTAB_BUCKET_SHIFT) + 1 > PCLNTAB_MAX_BUCKETS ||
	    ((hi - lo) >> PCLNTAB_BUCKET_SHIFT) > 4 * p->nfunc + 64)
		return;
	nb = (size_t)((hi - lo) >> PCLNTAB_BUCKET_SHIFT) + 1;
	p->bucket = malloc(nb * sizeof(*p->bucket));
	if (!p->bucket)
		return;
	for (size_t b = 0; b < nb; b++) {
		uint64_t start = lo + ((uint64_t)b << PCLNTAB_BUCKET_SHIFT);

		while (f + 1 < p->nfunc && pclntab_entry(p, f + 1) <= start)
			f++;
		p->bucket[b] = (uint32_t)f;
	}
	p->nbuckets = nb;
	p->bucket_lo = lo;
}

long pclntab_find(const struct pclntab *p, uint64_t pc)
{
	uint64_t lo = 0, hi = p->nfunc;

	if (!p->bucket_built)
		pclntab_build_buckets((struct pclntab *)p);
	if (pc < pclntab_entry(p, 0) || pc >= pclntab_entry(p, p->nfunc))
		return -1;
	if (p->bucket) {
		size_t b = (size_t)((pc - p->bucket_lo) >> PCLNTAB_BUCKET_SHIFT);

		if (b < p->nbuckets) {
			lo = p->bucket[b];
			hi = b + 1 < p->nbuckets ? (uint64_t)p->bucket[b + 1] + 1 : p->nfunc;
			if (hi > p->nfunc)
				hi = p->nfunc;
		}
	}
	/* Largest i in [lo, hi) with entry(i) <= pc. */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (pclntab_entry(p, mid) <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return (long)lo;
}

/* Read a LEB128 unsigned varint from the pc tables; false at table end. */
static bool pclntab_uvarint(const struct pclntab *p, uint64_t *off, uint32_t *v)
{
	uint32_t r = 0;
	unsigned shift = 0;

	while (*off < p->len) {
		uint8_t b = p->data[(*off)++];

		if (shift < 32)
			r |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
		shift += 7;
		if (shift > 35)
			return false;
	}
	return false;
}

/*
 * Decode the whole pcvalue table at pctab offset TABOFF into D: LEB128
 * uvarint value deltas (zig-zag, starting from -1) and pc deltas (times the
 * quantum); a zero value delta after the first pair ends it. A table that
 * breaks off (corrupt) keeps the ranges decoded before the break.
 */
static void pclntab_decode(const struct pclntab *p, uint32_t taboff, struct pclntab_dtab *d)
{
	uint64_t off = p->pctab + taboff;
	uint64_t pc = 0;
	int32_t val = -1;
	uint32_t cap = 0;

	d->taboff = taboff;
	d->n = 0;
	for (bool first = true;; first = false) {
		uint32_t uv, pcd;

		if (!pclntab_uvarint(p, &off, &uv) || (uv == 0 && !first))
			return;
		/* Wrapping int32 sums, as Go's: a corrupt delta must not overflow. */
		if (uv & 1)
			val = (int32_t)((uint32_t)val + ~(uv >> 1));
		else
			val = (int32_t)((uint32_t)val + (uv >> 1));
		if (!pclntab_uvarint(p, &off, &pcd))
			return;
		pc += (uint64_t)pcd * (uint64_t)p->quantum;
		if (pc > UINT32_MAX || d->n >= PCLNTAB_DTAB_MAX)
			return;
		if (d->n == cap) {
			uint32_t ncap = cap ? cap * 2 : 16;
			uint32_t *ne = realloc(d->end, ncap * sizeof(*ne));
			int32_t *nv;

			if (!ne)
				return;
			d->end = ne;
			nv = realloc(d->val, ncap * sizeof(*nv));
			if (!nv)
				return;
			d->val = nv;
			cap = ncap;
		}
		d->end[d->n] = (uint32_t)pc;
		d->val[d->n] = val;
		d->n++;
	}
}

/*
 * Value of the pcvalue table at pctab offset TABOFF for TARGET, in the
 * function starting at ENTRY. False when the table does not cover TARGET.
 * Tables are decoded once and kept (direct-mapped by offset; identical
 * tables are shared between functions, hence offsets relative to entry).
 */
static bool pclntab_pcvalue(const struct pclntab *p, uint32_t taboff,
			    uint64_t entry, uint64_t target, int32_t *out)
{
	struct pclntab_dtab *d;
	uint64_t rel;
	uint32_t lo, hi;

	if (taboff == 0 || p->pctab + taboff >= p->len)
		return false;
	d = &p->dtabs[(taboff * 0x9E3779B1u) >> 15 & (p->ndtabs - 1)];
	if (d->taboff != taboff)
		pclntab_decode(p, taboff, d);
	if (d->n == 0)
		return false;
	if (target < entry) {
		*out = d->val[0];
		return true;
	}
	rel = target - entry;
	/* First range whose end lies beyond TARGET. */
	lo = 0;
	hi = d->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (d->end[mid] > rel)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo == d->n)
		return false;
	*out = d->val[lo];
	return true;
}

/* File name for pcfile value FNO in the function at REC. */
static const char *pclntab_file(const struct pclntab *p, uint64_t rec, int32_t fno)
{
	const char *s;

	if (fno < 0)
		return NULL;
	if (p->lay.off_cuoff < 0) {
		/* 1.2: index into filetab, entries are offsets from the table. */
		if (fno == 0 || (uint64_t)fno >= p->nfiles)
			return NULL;
		s = pclntab_str(p, pclntab_u32(p, p->filetab + 4 * (uint64_t)fno));
		return s;
	}
	uint32_t cu = pclntab_u32(p, rec + (unsigned)p->lay.off_cuoff);
	uint64_t slot = p->cutab + 4 * ((uint64_t)cu + (uint64_t)fno);

	if (!pclntab_has(p, slot, 4))
		return NULL;
	uint32_t foff = rd32(p->data + slot);

	if (foff == UINT32_MAX)
		return NULL;
	return pclntab_str(p, p->filetab + foff);
}

/* file:line at PC within function REC (entry ENTRY); false if unknown. */
static bool pclntab_fileline(const struct pclntab *p, uint64_t rec, uint64_t entry,
			     uint64_t pc, const char **file, int *line)
{
	int32_t fno, ln;
	const char *f;

	if (!pclntab_pcvalue(p, pclntab_u32(p, rec + p->lay.off_pcfile), entry, pc, &fno))
		return false;
	if (!pclntab_pcvalue(p, pclntab_u32(p, rec + p->lay.off_pcln), entry, pc, &ln))
		return false;
	f = pclntab_file(p, rec, fno);
	*file = f ? f : "?";
	*line = ln;
	return true;
}

bool pclntab_addr2line(struct pclntab *p, uint64_t pc, struct pclntab_frame *fr)
{
	long i = pclntab_find(p, pc);
	uint64_t rec;

	fr->func = "?";
	fr->file = "?";
	fr->line = 0;
	fr->entry = 0;
	fr->inlined = false;
	if (i < 0)
		return false;
	rec = pclntab_funcrec(p, (uint64_t)i);
	if (!rec)
		return false;
	fr->entry = pclntab_entry(p, (uint64_t)i);
	fr->func = pclntab_recname(p, rec);
	/*
	 * As debug/gosym: each table on its own, "" and -1 where it does not
	 * cover PC (the padding after a function's last instruction).
	 */
	int32_t fno, ln;
	const char *f = NULL;

	if (pclntab_pcvalue(p, pclntab_u32(p, rec + p->lay.off_pcfile), fr->entry, pc, &fno))
		f = pclntab_file(p, rec, fno);
	fr->file = f ? f : "";
	if (pclntab_pcvalue(p, pclntab_u32(p, rec + p->lay.off_pcln), fr->entry, pc, &ln))
		fr->line = ln;
	else
		fr->line = -1;
	return true;
}

/* Address of the inline tree of function REC, or 0 if it has none. */
static uint64_t pclntab_inltree(const struct pclntab *p, uint64_t rec)
{
	uint32_t npcdata = pclntab_u32(p, rec + p->lay.off_npcdata);
	uint8_t nfuncdata;
	uint64_t fd;

	if (!pclntab_has(p, rec + p->lay.off_nfuncdata, 1))
		return 0;
	nfuncdata = p->data[rec + p->lay.off_nfuncdata];
	if (nfuncdata <= p->lay.fd_inltree || npcdata <= PCDATA_INLTREEINDEX)
		return 0;
	fd = rec + p->lay.func_size + 4 * (uint64_t)npcdata;
	if (p->lay.fd_u32) {
		uint32_t o = pclntab_u32(p, fd + 4 * p->lay.fd_inltree);

		if (o == UINT32_MAX || !p->gofunc)
			return 0;
		return p->gofunc + o;
	}
	/* <=1.17: absolute pointers, aligned to the pointer size. */
	if (p->ptrsize == 8 && ((p->vaddr + fd) & 4))
		fd += 4;
	return pclntab_word(p, fd + (uint64_t)p->ptrsize * p->lay.fd_inltree);
}

/* Callee name of an inlinedCall entry. */
static const char *pclntab_inlname(const struct pclntab *p, const uint8_t *ic)
{
	int32_t nameoff = (int32_t)rd32(ic + p->lay.inl_nameoff);
	const char *s;

	if (nameoff < 0)
		return "?";
	s = pclntab_str(p, p->funcnametab + (uint64_t)nameoff);
	return s ? s : "?";
}

static int pclntab_expand(const struct pclntab *p, uint64_t pc,
			  struct pclntab_frame *out, int max)
{
	long i = pclntab_find(p, pc);
	uint64_t rec, entry, tree;
	uint32_t inlidx_tab = 0;
	int n = 0;

	if (i < 0 || max <= 0)
		return 0;
	rec = pclntab_funcrec(p, (uint64_t)i);
	if (!rec)
		return 0;
	entry = pclntab_entry(p, (uint64_t)i);
	tree = p->have_mem ? pclntab_inltree(p, rec) : 0;
	if (tree)
		inlidx_tab = pclntab_u32(p, rec + p->lay.func_size + 4 * PCDATA_INLTREEINDEX);

	for (int depth = 0; tree && inlidx_tab && depth < PCLNTAB_MAX_INLINE && n < max - 1;
	     depth++) {
		int32_t ix;
		const uint8_t *ic;
		struct pclntab_frame *fr = &out[n];

		if (!pclntab_pcvalue(p, inlidx_tab, entry, pc, &ix) || ix < 0)
			break;
		ic = p->mem.ptr(p->mem.ctx, tree + (uint64_t)ix * p->lay.inl_size,
				p->lay.inl_size);
		if (!ic)
			break;
		fr->func = pclntab_inlname(p, ic);
		fr->entry = entry;
		fr->inlined = true;
		if (!pclntab_fileline(p, rec, entry, pc, &fr->file, &fr->line)) {
			fr->file = "?";
			fr->line = 0;
		}
		n++;
		int32_t parentpc = (int32_t)rd32(ic + p->lay.inl_parentpc);
		uint64_t npc = entry + (uint64_t)(int64_t)parentpc;

		if (parentpc < 0 || npc == pc)
			break;
		pc = npc;
	}
	out[n].func = pclntab_recname(p, rec);
	out[n].entry = entry;
	out[n].inlined = false;
	if (!pclntab_fileline(p, rec, entry, pc, &out[n].file, &out[n].line)) {
		out[n].file = "?";
		out[n].line = 0;
	}
	return n + 1;
}

int pclntab_symbolize(struct pclntab *p, uint64_t pc, struct pclntab_frame *out,
		      int max)
{
	size_t set = (size_t)((pc * 0x9E3779B97F4A7C15ull) >> 40) & (p->nsets - 1);
	struct pclntab_cache_ent *ways = &p->cache[set * PCLNTAB_CACHE_WAYS];
	struct pclntab_cache_ent *ce;
	int n;

	for (int w = 0; w < PCLNTAB_CACHE_WAYS; w++) {
		ce = &ways[w];
		if (ce->pc == pc && pc != 0 && ce->n <= max) {
			memcpy(out, ce->fr, (size_t)ce->n * sizeof(*out));
			return ce->n;
		}
	}
	n = pclntab_expand(p, pc, out, max);
	if (n > 0 && n < max && n <= PCLNTAB_CACHE_FRAMES) {
		/* Round-robin replacement within the set. */
		ce = &ways[p->cache_next[set]];
		p->cache_next[set] = (uint8_t)((p->cache_next[set] + 1) % PCLNTAB_CACHE_WAYS);
		ce->pc = pc;
		ce->n = n;
		memcpy(ce->fr, out, (size_t)n * sizeof(*out));
	}
	return n;
}

bool pclntab_spdelta(const struct pclntab *p, uint64_t pc, int32_t *sp)
{
	long i = pclntab_find(p, pc);
	uint64_t rec;

	if (i < 0)
		return false;
	rec = pclntab_funcrec(p, (uint64_t)i);
	if (!rec)
		return false;
	return pclntab_pcvalue(p, pclntab_u32(p, rec + p->lay.off_pcsp),
			       pclntab_entry(p, (uint64_t)i), pc, sp);
}

int pclntab_funcid(const struct pclntab *p, long idx)
{
	uint64_t rec;

	if (idx < 0)
		return -1;
	rec = pclntab_funcrec(p, (uint64_t)idx);
	if (!rec)
		return -1;
	return p->data[rec + p->lay.off_funcid];
}

uint64_t pclntab_code_size(const struct pclntab *p, long idx)
{
	const int32_t offs[3] = { p->lay.off_pcsp, p->lay.off_pcfile, p->lay.off_pcln };
	uint64_t rec, size = 0;

	if (idx < 0)
		return 0;
	rec = pclntab_funcrec(p, (uint64_t)idx);
	if (!rec)
		return 0;
	/* The tables may end at different pcs (assembly): the code spans them all. */
	for (int i = 0; i < 3; i++) {
		uint32_t taboff = pclntab_u32(p, rec + (uint64_t)offs[i]);
		struct pclntab_dtab *d;
		int32_t v;

		/* Decodes the table into its cache slot (the entry is irrelevant here). */
		if (!pclntab_pcvalue(p, taboff, 0, 0, &v))
			continue;
		d = &p->dtabs[(taboff * 0x9E3779B1u) >> 15 & (p->ndtabs - 1)];
		if (d->taboff == taboff && d->n && d->end[d->n - 1] > size)
			size = d->end[d->n - 1];
	}
	return size;
}
