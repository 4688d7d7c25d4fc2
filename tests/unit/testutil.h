/*
 * testutil: helpers shared by the unit tests and the fuzz seed generator.
 *
 * - tu_buf: a growable byte buffer with fixed-endian integer writers, the
 *   LEB128 uvarint and the Go pcvalue encoder (zig-zag value deltas, pc
 *   deltas divided by the pc quantum), written from the Go linker's
 *   description, not from goscope's reader.
 * - tu_elf_build: a small ELF writer (32/64-bit, either byte order) for
 *   images whose every header the test chooses.
 * - tu_pcln_build: a .gopclntab writer for the 1.2, 1.16, 1.18 and 1.20
 *   layouts (header, functab, _func records, pcdata/funcdata, CU and file
 *   tables, inline trees), so tests know the truth they look up; the demo
 *   program (tu_demo_*) is the one they all use.
 * - tu_goelf_build: the demo program as a whole Go executable (pclntab,
 *   moduledata, build info), for gobin and the fuzz seeds.
 * - fixtures: the repository root from the test binary's path, files under
 *   it, and commands whose output is an independent truth (go, readelf).
 *
 * Everything is static inline so each test includes only what it uses;
 * allocation failure aborts (tests have no use for recovery). Define
 * TU_NO_CMOCKA to use the writers outside cmocka.
 */
#ifndef GOSCOPE_TESTUTIL_H
#define GOSCOPE_TESTUTIL_H

#include <elf.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The fuzz seed generator shares the writers but not cmocka. */
#ifndef TU_NO_CMOCKA
#include <cmocka.h>
#endif

/* ---- memory ---------------------------------------------------------- */

static inline void *tu_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p) {
		fprintf(stderr, "testutil: out of memory\n");
		abort();
	}
	return p;
}

/* ---- byte buffer ----------------------------------------------------- */

struct tu_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool be; /* write multi-byte integers big-endian */
};

static inline void tu_buf_free(struct tu_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Append N zero bytes; returns the offset of the first. */
static inline size_t tu_grow(struct tu_buf *b, size_t n)
{
	size_t at = b->len;

	if (b->len + n > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;

		while (ncap < b->len + n)
			ncap *= 2;
		b->p = realloc(b->p, ncap);
		if (!b->p) {
			fprintf(stderr, "testutil: out of memory\n");
			abort();
		}
		b->cap = ncap;
	}
	memset(b->p + b->len, 0, n);
	b->len += n;
	return at;
}

static inline size_t tu_put(struct tu_buf *b, const void *d, size_t n)
{
	size_t at = tu_grow(b, n);

	if (n)
		memcpy(b->p + at, d, n);
	return at;
}

/* Store the N-byte integer V at OFF in the buffer's byte order. */
static inline void tu_set(struct tu_buf *b, size_t off, uint64_t v, int n)
{
	for (int i = 0; i < n; i++) {
		int shift = b->be ? 8 * (n - 1 - i) : 8 * i;

		b->p[off + (size_t)i] = (uint8_t)(v >> shift);
	}
}

static inline size_t tu_uint(struct tu_buf *b, uint64_t v, int n)
{
	size_t at = tu_grow(b, (size_t)n);

	tu_set(b, at, v, n);
	return at;
}

static inline size_t tu_u8(struct tu_buf *b, uint8_t v)
{
	return tu_uint(b, v, 1);
}

static inline size_t tu_u16(struct tu_buf *b, uint16_t v)
{
	return tu_uint(b, v, 2);
}

static inline size_t tu_u32(struct tu_buf *b, uint32_t v)
{
	return tu_uint(b, v, 4);
}

static inline size_t tu_u64(struct tu_buf *b, uint64_t v)
{
	return tu_uint(b, v, 8);
}

/* Pad with zeros to a multiple of A. */
static inline void tu_align(struct tu_buf *b, size_t a)
{
	if (b->len % a)
		tu_grow(b, a - b->len % a);
}

/* NUL-terminated string; returns its offset. */
static inline size_t tu_str(struct tu_buf *b, const char *s)
{
	return tu_put(b, s, strlen(s) + 1);
}

static inline size_t tu_uvarint(struct tu_buf *b, uint64_t v)
{
	size_t at = b->len;

	while (v >= 0x80) {
		tu_u8(b, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	tu_u8(b, (uint8_t)v);
	return at;
}

/*
 * One run of a pcvalue table: VAL holds from the previous run's END (0 for
 * the first) up to END, both byte offsets from the function's entry.
 */
struct tu_pcv {
	int32_t val;
	uint32_t end;
};

/*
 * Append a pcvalue table as cmd/internal/obj/pcln.go writes it: for each
 * run the zig-zag uvarint of the value delta (the value starts at -1),
 * then the uvarint of the pc delta divided by QUANTUM; a 0 byte ends the
 * table. Returns the table's offset in B. Consecutive runs must differ in
 * value (a 0 delta after the first would end the table).
 */
static inline size_t tu_pcvalue(struct tu_buf *b, const struct tu_pcv *v, size_t n,
				int quantum)
{
	size_t at = b->len;
	int32_t prev = -1;
	uint32_t pc = 0;

	for (size_t i = 0; i < n; i++) {
		/* Deltas wrap as Go's int32 arithmetic does. */
		uint32_t d = (uint32_t)v[i].val - (uint32_t)prev;
		uint32_t zz = (d << 1) ^ (uint32_t)((int32_t)d >> 31);

		if ((i > 0 && d == 0) || v[i].end <= pc || (v[i].end - pc) % (uint32_t)quantum) {
			fprintf(stderr, "testutil: bad pcvalue run %zu\n", i);
			abort();
		}
		tu_uvarint(b, zz);
		tu_uvarint(b, (v[i].end - pc) / (uint32_t)quantum);
		prev = v[i].val;
		pc = v[i].end;
	}
	tu_u8(b, 0);
	return at;
}

/* ---- ELF writer ------------------------------------------------------ */

struct tu_elf_sec {
	const char *name;
	uint32_t type; /* SHT_PROGBITS when 0 */
	uint64_t flags;
	uint64_t addr;
	const void *data; /* SIZE bytes, or NULL for zeros */
	size_t size;
	uint64_t claim;   /* sh_size to write instead of SIZE, when nonzero */
};

struct tu_elf_seg {
	uint32_t type;
	int sec;         /* offset is relative to this section's file offset; -1: absolute */
	uint64_t offset;
	uint64_t vaddr;
	uint64_t filesz;
	uint64_t memsz;
};

struct tu_elf {
	int cls;          /* ELFCLASS64 when 0, or ELFCLASS32 */
	bool big_endian;
	uint16_t type;    /* ET_EXEC when 0 */
	uint16_t machine; /* EM_X86_64 when 0 */
	uint64_t entry;
	const struct tu_elf_sec *secs;
	size_t nsecs;
	/* NULL: one PT_LOAD per allocated section with file bytes (and a
	 * PT_INTERP over ".interp" when there is one). */
	const struct tu_elf_seg *segs;
	size_t nsegs;
	bool no_sections; /* write no section headers at all (e_shnum 0) */
};

/*
 * Lay out ehdr, phdrs, every section's bytes (16-aligned, in order),
 * .shstrtab, then the section headers. Returns a malloc'ed image of *LEN
 * bytes; SEC_OFF (optional, NSECS entries) receives the sections' file
 * offsets.
 */
static inline uint8_t *tu_elf_build(const struct tu_elf *e, size_t *len, uint64_t *sec_off)
{
	bool is64 = e->cls != ELFCLASS32;
	int ws = is64 ? 8 : 4;
	size_t ehsz = is64 ? 64 : 52, phsz = is64 ? 56 : 32, shsz = is64 ? 64 : 40;
	struct tu_buf b = { .be = e->big_endian };
	struct tu_buf shstr = { 0 };
	uint64_t *off = tu_xcalloc(e->nsecs + 1, sizeof(*off));
	uint32_t *nameoff = tu_xcalloc(e->nsecs + 1, sizeof(*nameoff));
	struct tu_elf_seg *segs = tu_xcalloc(e->nsecs + e->nsegs + 1, sizeof(*segs));
	size_t nsegs = 0, phoff, shoff, shstr_off, shstr_name;

	if (e->segs) {
		memcpy(segs, e->segs, e->nsegs * sizeof(*segs));
		nsegs = e->nsegs;
	} else {
		for (size_t i = 0; i < e->nsecs; i++) {
			const struct tu_elf_sec *s = &e->secs[i];

			if (strcmp(s->name, ".interp") == 0)
				segs[nsegs++] = (struct tu_elf_seg){ PT_INTERP, (int)i, 0, s->addr,
								     s->size, s->size };
		}
		for (size_t i = 0; i < e->nsecs; i++) {
			const struct tu_elf_sec *s = &e->secs[i];

			if (!(s->flags & SHF_ALLOC) || s->type == SHT_NOBITS || !s->size)
				continue;
			segs[nsegs++] = (struct tu_elf_seg){ PT_LOAD, (int)i, 0, s->addr, s->size,
							     s->size };
		}
	}

	/* ELF header, patched at the end. */
	tu_grow(&b, ehsz);
	phoff = b.len;
	tu_grow(&b, nsegs * phsz);
	for (size_t i = 0; i < e->nsecs; i++) {
		const struct tu_elf_sec *s = &e->secs[i];

		tu_align(&b, 16);
		off[i] = b.len;
		if (s->type == SHT_NOBITS)
			continue;
		if (s->data)
			tu_put(&b, s->data, s->size);
		else
			tu_grow(&b, s->size);
	}
	tu_u8(&shstr, 0);
	for (size_t i = 0; i < e->nsecs; i++)
		nameoff[i] = (uint32_t)tu_str(&shstr, e->secs[i].name);
	shstr_name = tu_str(&shstr, ".shstrtab");
	tu_align(&b, 16);
	shstr_off = tu_put(&b, shstr.p, shstr.len);
	tu_align(&b, 8);
	shoff = b.len;

	if (!e->no_sections) {
		/* Null section, the caller's, .shstrtab. */
		tu_grow(&b, shsz);
		for (size_t i = 0; i <= e->nsecs; i++) {
			bool last = i == e->nsecs;
			const struct tu_elf_sec *s = last ? NULL : &e->secs[i];
			uint32_t type = last ? SHT_STRTAB : s->type ? s->type : SHT_PROGBITS;

			tu_uint(&b, last ? shstr_name : nameoff[i], 4);
			tu_uint(&b, type, 4);
			tu_uint(&b, last ? 0 : s->flags, ws);
			tu_uint(&b, last ? 0 : s->addr, ws);
			tu_uint(&b, last ? shstr_off : off[i], ws);
			tu_uint(&b, last ? shstr.len : s->claim ? s->claim : s->size, ws);
			tu_uint(&b, 0, 4); /* link */
			tu_uint(&b, 0, 4); /* info */
			tu_uint(&b, 1, ws); /* addralign */
			tu_uint(&b, type == SHT_RELA ? (is64 ? 24 : 12) :
				    type == SHT_DYNAMIC ? 2 * (uint64_t)ws : 0, ws);
		}
	}

	/* Program headers. */
	for (size_t i = 0; i < nsegs; i++) {
		const struct tu_elf_seg *sg = &segs[i];
		uint64_t o = sg->offset + (sg->sec >= 0 ? off[sg->sec] : 0);
		size_t at = phoff + i * phsz;

		if (is64) {
			tu_set(&b, at, sg->type, 4);
			tu_set(&b, at + 4, PF_R, 4);
			tu_set(&b, at + 8, o, 8);
			tu_set(&b, at + 16, sg->vaddr, 8);
			tu_set(&b, at + 24, sg->vaddr, 8);
			tu_set(&b, at + 32, sg->filesz, 8);
			tu_set(&b, at + 40, sg->memsz, 8);
			tu_set(&b, at + 48, 16, 8);
		} else {
			tu_set(&b, at, sg->type, 4);
			tu_set(&b, at + 4, o, 4);
			tu_set(&b, at + 8, sg->vaddr, 4);
			tu_set(&b, at + 12, sg->vaddr, 4);
			tu_set(&b, at + 16, sg->filesz, 4);
			tu_set(&b, at + 20, sg->memsz, 4);
			tu_set(&b, at + 24, PF_R, 4);
			tu_set(&b, at + 28, 16, 4);
		}
	}

	/* ELF header. */
	memcpy(b.p, ELFMAG, SELFMAG);
	b.p[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	b.p[EI_DATA] = e->big_endian ? ELFDATA2MSB : ELFDATA2LSB;
	b.p[EI_VERSION] = EV_CURRENT;
	tu_set(&b, 16, e->type ? e->type : ET_EXEC, 2);
	tu_set(&b, 18, e->machine ? e->machine : EM_X86_64, 2);
	tu_set(&b, 20, EV_CURRENT, 4);
	tu_set(&b, 24, e->entry, ws);
	tu_set(&b, 24 + (size_t)ws, nsegs ? phoff : 0, ws);
	tu_set(&b, 24 + 2 * (size_t)ws, e->no_sections ? 0 : shoff, ws);
	tu_set(&b, 24 + 3 * (size_t)ws, 0, 4); /* flags */
	tu_set(&b, 28 + 3 * (size_t)ws, ehsz, 2);
	tu_set(&b, 30 + 3 * (size_t)ws, phsz, 2);
	tu_set(&b, 32 + 3 * (size_t)ws, nsegs, 2);
	tu_set(&b, 34 + 3 * (size_t)ws, shsz, 2);
	tu_set(&b, 36 + 3 * (size_t)ws, e->no_sections ? 0 : e->nsecs + 2, 2);
	tu_set(&b, 38 + 3 * (size_t)ws, e->no_sections ? 0 : e->nsecs + 1, 2);

	if (sec_off)
		memcpy(sec_off, off, e->nsecs * sizeof(*off));
	free(off);
	free(nameoff);
	free(segs);
	tu_buf_free(&shstr);
	*len = b.len;
	return b.p;
}

/* ---- .gopclntab writer ----------------------------------------------- */

enum tu_pcln_fmt {
	TU_GO12 = 12,   /* magic 0xfffffffb */
	TU_GO116 = 116, /* 0xfffffffa */
	TU_GO118 = 118, /* 0xfffffff0 */
	TU_GO120 = 120, /* 0xfffffff1 */
};

/* One inlinedCall. */
struct tu_inl {
	const char *name;
	int32_t parentpc; /* offset from the function's entry */
	int16_t parent;   /* written by <=1.19 layouts */
	int32_t startline;/* written by 1.20+ layouts */
	uint8_t funcid;
};

struct tu_func {
	const char *name;
	uint32_t off; /* entry, as an offset from text */
	uint8_t funcid;
	int cu;       /* index into tu_pcln.cus */
	/* pcvalue runs; file values are CU-local file indexes */
	const struct tu_pcv *sp, *file, *line, *inl;
	size_t nsp, nfile, nline, ninl;
	const struct tu_inl *tree; /* inline tree (needs INL runs) */
	size_t ntree;
};

struct tu_cu {
	const int *files; /* indexes into tu_pcln.files */
	size_t nfiles;
};

struct tu_pcln {
	int fmt;
	int ptrsize;
	int quantum;
	uint64_t vaddr;   /* where the table is loaded (8-aligned) */
	uint64_t text;    /* runtime.text; function entries count from it */
	bool zero_text;   /* write textStart 0 in the header (Go 1.26) */
	uint32_t end;     /* end pc of the last function, from text */
	const char *const *files;
	size_t nfiles;
	const struct tu_cu *cus;
	size_t ncus;
	const struct tu_func *funcs;
	size_t nfuncs;
	uint64_t rodata;  /* vaddr of RO (inline trees) */
	uint64_t gofunc;  /* base of 1.18+ funcdata offsets; 0: rodata */
};

/*
 * Write the table into TAB and the inline trees into RO (served at
 * o->rodata), both little-endian, as the Go linker of that format lays
 * them out. TAB and RO must start empty.
 */
static inline void tu_pcln_build(const struct tu_pcln *o, struct tu_buf *tab, struct tu_buf *ro)
{
	const int ps = o->ptrsize;
	const bool go12 = o->fmt == TU_GO12, go116 = o->fmt == TU_GO116;
	const bool u32tab = o->fmt >= TU_GO118, go120 = o->fmt == TU_GO120;
	const uint32_t magic = go12 ? 0xfffffffb : go116 ? 0xfffffffa :
			       o->fmt == TU_GO118 ? 0xfffffff0 : 0xfffffff1;
	const size_t nwords = go12 ? 1 : go116 ? 7 : 8;
	size_t nf = o->nfuncs, ntrees = 0, k, ftab_pos = 0, filetaboff_pos = 0;
	size_t names_base, cutab_pos = 0, filetab_pos, pctab_base, pcln_pos;
	size_t *fname, *inlname, *cu_start, *file_rel, *file_abs;
	size_t (*pcs)[4];
	size_t ncutab = 0;

	for (size_t i = 0; i < nf; i++)
		ntrees += o->funcs[i].ntree;
	fname = tu_xcalloc(nf, sizeof(*fname));
	inlname = tu_xcalloc(ntrees, sizeof(*inlname));
	cu_start = tu_xcalloc(o->ncus, sizeof(*cu_start));
	file_rel = tu_xcalloc(o->nfiles, sizeof(*file_rel));
	file_abs = tu_xcalloc(o->nfiles, sizeof(*file_abs));
	pcs = tu_xcalloc(nf, sizeof(*pcs));

	/* Header: magic, pad, pad, quantum, ptrsize, then words (patched). */
	tu_u32(tab, magic);
	tu_u8(tab, 0);
	tu_u8(tab, 0);
	tu_u8(tab, (uint8_t)o->quantum);
	tu_u8(tab, (uint8_t)ps);
	tu_grow(tab, nwords * (size_t)ps);
	if (go12) {
		/* functab pairs and the end pc follow the header directly. */
		ftab_pos = tu_grow(tab, (2 * nf + 1) * (size_t)ps);
		filetaboff_pos = tu_grow(tab, 4);
		tu_align(tab, (size_t)ps);
	}

	/* funcnametab (1.2: names live anywhere, offsets from the table). */
	names_base = go12 ? 0 : tab->len;
	k = 0;
	for (size_t i = 0; i < nf; i++) {
		fname[i] = tu_str(tab, o->funcs[i].name) - names_base;
		for (size_t t = 0; t < o->funcs[i].ntree; t++)
			inlname[k++] = tu_str(tab, o->funcs[i].tree[t].name) - names_base;
	}

	if (go12) {
		/* File names, then filetab: count (files + 1), then offsets. */
		for (size_t j = 0; j < o->nfiles; j++)
			file_abs[j] = tu_str(tab, o->files[j]);
		tu_align(tab, 4);
		filetab_pos = tu_u32(tab, (uint32_t)o->nfiles + 1);
		for (size_t j = 0; j < o->nfiles; j++)
			tu_u32(tab, (uint32_t)file_abs[j]);
		tu_set(tab, filetaboff_pos, filetab_pos, 4);
	} else {
		/* cutab: per CU, u32 offsets into filetab; then filetab. */
		size_t at = 0;

		for (size_t j = 0; j < o->nfiles; j++) {
			file_rel[j] = at;
			at += strlen(o->files[j]) + 1;
		}
		tu_align(tab, 4);
		cutab_pos = tab->len;
		for (size_t c = 0; c < o->ncus; c++) {
			cu_start[c] = ncutab;
			for (size_t j = 0; j < o->cus[c].nfiles; j++) {
				tu_u32(tab, (uint32_t)file_rel[o->cus[c].files[j]]);
				ncutab++;
			}
		}
		filetab_pos = tab->len;
		for (size_t j = 0; j < o->nfiles; j++)
			tu_str(tab, o->files[j]);
	}

	/* pctab: offset 0 means "no table", so never start a table there. */
	pctab_base = go12 ? 0 : tab->len;
	tu_u8(tab, 0);
	for (size_t i = 0; i < nf; i++) {
		const struct tu_func *f = &o->funcs[i];

		if (f->nsp)
			pcs[i][0] = tu_pcvalue(tab, f->sp, f->nsp, o->quantum) - pctab_base;
		if (f->nfile && go12) {
			/* 1.2 pcfile values are global filetab indexes, 1-based. */
			struct tu_pcv *g = tu_xcalloc(f->nfile, sizeof(*g));

			for (size_t j = 0; j < f->nfile; j++) {
				g[j] = f->file[j];
				if (g[j].val >= 0)
					g[j].val = o->cus[f->cu].files[g[j].val] + 1;
			}
			pcs[i][1] = tu_pcvalue(tab, g, f->nfile, o->quantum) - pctab_base;
			free(g);
		} else if (f->nfile) {
			pcs[i][1] = tu_pcvalue(tab, f->file, f->nfile, o->quantum) - pctab_base;
		}
		if (f->nline)
			pcs[i][2] = tu_pcvalue(tab, f->line, f->nline, o->quantum) - pctab_base;
		if (f->ninl)
			pcs[i][3] = tu_pcvalue(tab, f->inl, f->ninl, o->quantum) - pctab_base;
	}

	/* pclntable: functab (1.16+), then the _func records. */
	tu_align(tab, 8);
	pcln_pos = go12 ? 0 : tab->len;
	if (!go12) {
		ftab_pos = tab->len;
		if (u32tab)
			tu_grow(tab, nf * 8 + 4);
		else
			tu_grow(tab, (2 * nf + 1) * (size_t)ps);
	}
	k = 0;
	for (size_t i = 0; i < nf; i++) {
		const struct tu_func *f = &o->funcs[i];
		/* Field offsets of each layout (runtime/runtime2.go _func). */
		const size_t w = u32tab ? 4 : (size_t)ps; /* entry field width */
		const size_t size = go12 ? w + 32 : go116 ? w + 36 : go120 ? 44 : 40;
		const size_t o_funcid = go12 ? w + 28 : go116 ? w + 32 : go120 ? 40 : 36;
		const size_t o_nfd = size - 1;
		const uint32_t npcdata = f->ntree ? 3 : 0;
		const uint8_t nfuncdata = f->ntree ? (go12 ? 5 : 4) : 0;
		const unsigned fd_inl = go12 ? 4 : 3;
		size_t tree_off = 0, rec;

		if (f->ntree) {
			tu_align(ro, 4);
			tree_off = ro->len;
			for (size_t t = 0; t < f->ntree; t++, k++) {
				const struct tu_inl *in = &f->tree[t];

				if (go120) {
					tu_u8(ro, in->funcid);
					tu_grow(ro, 3);
					tu_u32(ro, (uint32_t)inlname[k]);
					tu_u32(ro, (uint32_t)in->parentpc);
					tu_u32(ro, (uint32_t)in->startline);
				} else {
					tu_u16(ro, (uint16_t)in->parent);
					tu_u8(ro, in->funcid);
					tu_u8(ro, 0);
					tu_u32(ro, 0); /* file */
					tu_u32(ro, 0); /* line */
					tu_u32(ro, (uint32_t)inlname[k]);
					tu_u32(ro, (uint32_t)in->parentpc);
				}
			}
		}

		tu_align(tab, u32tab ? 4 : (size_t)ps);
		rec = tu_grow(tab, size);
		if (u32tab) {
			tu_set(tab, ftab_pos + 8 * i, f->off, 4);
			tu_set(tab, ftab_pos + 8 * i + 4, rec - pcln_pos, 4);
			tu_set(tab, rec, f->off, 4);
		} else {
			tu_set(tab, ftab_pos + 2 * i * (size_t)ps, o->text + f->off, ps);
			tu_set(tab, ftab_pos + (2 * i + 1) * (size_t)ps, rec - pcln_pos, ps);
			tu_set(tab, rec, o->text + f->off, ps);
		}
		tu_set(tab, rec + w, fname[i], 4);           /* nameoff */
		tu_set(tab, rec + w + 12, pcs[i][0], 4);     /* pcsp */
		tu_set(tab, rec + w + 16, pcs[i][1], 4);     /* pcfile */
		tu_set(tab, rec + w + 20, pcs[i][2], 4);     /* pcln */
		tu_set(tab, rec + w + 24, npcdata, 4);
		if (!go12)
			tu_set(tab, rec + w + 28, cu_start[f->cu], 4); /* cuOffset */
		if (go120)
			tu_set(tab, rec + 36, f->nline ? (uint64_t)f->line[0].val : 0, 4);
		tab->p[rec + o_funcid] = f->funcid;
		tab->p[rec + o_nfd] = nfuncdata;
		for (uint32_t j = 0; j < npcdata; j++)
			tu_u32(tab, j == 2 ? (uint32_t)pcs[i][3] : 0);
		if (!nfuncdata)
			continue;
		if (u32tab) {
			uint64_t base = o->gofunc ? o->gofunc : o->rodata;

			for (unsigned j = 0; j < nfuncdata; j++)
				tu_u32(tab, j == fd_inl ? (uint32_t)(o->rodata + tree_off - base) :
							  UINT32_MAX);
		} else {
			/* Absolute pointers, aligned in memory (runtime.funcdata). */
			if (ps == 8 && ((o->vaddr + tab->len) & 4))
				tu_grow(tab, 4);
			for (unsigned j = 0; j < nfuncdata; j++)
				tu_uint(tab, j == fd_inl ? o->rodata + tree_off : 0, ps);
		}
	}
	/* End pc. */
	if (u32tab)
		tu_set(tab, ftab_pos + 8 * nf, o->end, 4);
	else
		tu_set(tab, ftab_pos + 2 * nf * (size_t)ps, o->text + o->end, ps);

	/* Header words. */
	{
		uint64_t words[8] = { 0 };
		size_t n = 0;

		words[n++] = nf;
		if (!go12) {
			words[n++] = ncutab;
			if (u32tab)
				words[n++] = o->zero_text ? 0 : o->text;
			words[n++] = names_base;
			words[n++] = cutab_pos;
			words[n++] = filetab_pos;
			words[n++] = pctab_base;
			words[n++] = pcln_pos;
		}
		for (size_t i = 0; i < n; i++)
			tu_set(tab, 8 + i * (size_t)ps, words[i], ps);
	}
	free(fname);
	free(inlname);
	free(cu_start);
	free(file_rel);
	free(file_abs);
	free(pcs);
}

/* ---- the demo program ------------------------------------------------ */

/*
 * Three functions at text + 0x00, 0x40, 0x100 (end 0x110), the truth the
 * pclntab tests assert:
 *
 * main.main [0x00,0x40) CU 0: sp 0 on [0,4), 0x18 on [4,0x3c), 0 after;
 *   file main.go; line 10 [0,8), 12 [8,0x20), 11 [0x20,0x30) (a negative
 *   delta), 200 [0x30,0x40) (a two-byte uvarint).
 * main.work [0x40,0x100) CU 1: sp 0x28 throughout; files work.go [0,0x10),
 *   print.go [0x10,0x30), work.go after; lines 20, 30, 40, 21 at 0x00,
 *   0x10, 0x20, 0x30; inline index -1, 0, 1, -1 over the same runs, where
 *   tree[0] is fmt.Println called at +0x0c and tree[1] strings.Index
 *   called (inside fmt.Println) at +0x18.
 * runtime.goexit [0x100,0x110) CU 0, funcID 4: tables cover [0,8) only
 *   (sp 0, main.go, line 300), the rest is padding.
 */
static const char *const tu_demo_files[] = {
	"/src/main.go",
	"/src/work.go",
	"/usr/lib/go/src/fmt/print.go",
};
static const int tu_demo_cu0[] = { 0, 2 };
static const int tu_demo_cu1[] = { 1, 2 };
static const struct tu_cu tu_demo_cus[] = {
	{ tu_demo_cu0, 2 },
	{ tu_demo_cu1, 2 },
};
static const struct tu_pcv tu_demo_f0_sp[] = { { 0, 4 }, { 0x18, 0x3c }, { 0, 0x40 } };
static const struct tu_pcv tu_demo_f0_file[] = { { 0, 0x40 } };
static const struct tu_pcv tu_demo_f0_line[] = { { 10, 8 }, { 12, 0x20 }, { 11, 0x30 },
						 { 200, 0x40 } };
static const struct tu_pcv tu_demo_f1_sp[] = { { 0x28, 0xc0 } };
static const struct tu_pcv tu_demo_f1_file[] = { { 0, 0x10 }, { 1, 0x30 }, { 0, 0xc0 } };
static const struct tu_pcv tu_demo_f1_line[] = { { 20, 0x10 }, { 30, 0x20 }, { 40, 0x30 },
						 { 21, 0xc0 } };
static const struct tu_pcv tu_demo_f1_inl[] = { { -1, 0x10 }, { 0, 0x20 }, { 1, 0x30 },
						{ -1, 0xc0 } };
static const struct tu_inl tu_demo_f1_tree[] = {
	{ "fmt.Println", 0x0c, -1, 29, 0 },
	{ "strings.Index", 0x18, 0, 39, 0 },
};
static const struct tu_pcv tu_demo_f2_sp[] = { { 0, 8 } };
static const struct tu_pcv tu_demo_f2_file[] = { { 0, 8 } };
static const struct tu_pcv tu_demo_f2_line[] = { { 300, 8 } };
static const struct tu_func tu_demo_funcs[] = {
	{ "main.main", 0x00, 0, 0, tu_demo_f0_sp, tu_demo_f0_file, tu_demo_f0_line, NULL,
	  3, 1, 4, 0, NULL, 0 },
	{ "main.work", 0x40, 0, 1, tu_demo_f1_sp, tu_demo_f1_file, tu_demo_f1_line,
	  tu_demo_f1_inl, 1, 3, 4, 4, tu_demo_f1_tree, 2 },
	{ "runtime.goexit", 0x100, 4, 0, tu_demo_f2_sp, tu_demo_f2_file, tu_demo_f2_line, NULL,
	  1, 1, 1, 0, NULL, 0 },
};
#define TU_DEMO_NFUNCS 3
#define TU_DEMO_END 0x110

/* ---- a synthetic Go executable -------------------------------------- */

#define TU_GO_TEXT 0x401000ull
#define TU_GO_RODATA 0x480000ull
#define TU_GO_PCLN 0x4a0000ull
#define TU_GO_BUILDINFO 0x500000ull
#define TU_GO_DATA 0x510000ull /* moduledata, then string headers */
#define TU_GO_MD_WORDS 64
#define TU_GO_END 0x130 /* text size: the demo program and main.hot */

struct tu_goelf {
	int fmt;            /* TU_GO12 ... TU_GO120 */
	int ptrsize;        /* 8: ELFCLASS64, 4: ELFCLASS32 */
	int quantum;        /* 4: arm64 (or arm for 32-bit) */
	bool zero_text;     /* Go 1.26: textStart 0, runtime.text from moduledata */
	bool pie;           /* ET_DYN, pointers in RELATIVE relocations */
	bool hide_pclntab;  /* name the table's section ".rodata.x": found by scan */
	bool no_buildinfo;  /* version only through runtime.buildVersion */
	bool no_moduledata;
	bool huge_section;  /* add a writable section claiming 1 TiB, 1 byte in the file */
	const char *version;/* "go1.21.0" */
	const char *modinfo;/* text without sentinels, or NULL */
};

/* Write word V at moduledata word I (or a RELATIVE relocation for PIE). */
static inline void tu_go_ptr(struct tu_buf *sec, uint64_t sec_addr, size_t off, uint64_t v,
			     int ps, bool pie, struct tu_buf *rela)
{
	if (pie) {
		tu_u64(rela, sec_addr + off);
		tu_u64(rela, 8); /* R_X86_64_RELATIVE; R_AARCH64 is 1027, see below */
		tu_u64(rela, v);
		v = 0;
	}
	tu_set(sec, off, v, ps);
}

/*
 * The demo program, plus main.hot [0x110,0x130) (fmt.Sprint inlined over
 * [4,0x20), called at +0; there for gobin's funcdata-base scoring, whose
 * probes miss main.work's short inlined runs), as a Go executable:
 * .text, .rodata (inline trees and
 * strings), .gopclntab (.data.rel.ro.gopclntab for PIE), .go.buildinfo
 * (inline format for 1.18+, pointer format before), .noptrdata holding
 * runtime.firstmoduledata (pclntab, funcnametab, minpc, text, gofunc at
 * the words gobin reads) and the string headers. Returns a malloc'ed
 * image of *LEN bytes.
 */
static inline uint8_t *tu_goelf_build(const struct tu_goelf *g, size_t *len)
{
	static const char sent_a[] = "0w\xaf\x0c\x92t\b\x02A\xe1\xc1\a\xe6\xd6\x18\xe6";
	static const char sent_b[] = "\xf9" "2C1\x86\x18 r\x00\x82" "B\x10" "A\x16\xd8\xf2";
	const int ps = g->ptrsize;
	const bool arm = g->quantum == 4;
	struct tu_buf text = { 0 }, ro = { 0 }, tab = { 0 }, trees = { 0 }, bi = { 0 };
	struct tu_buf data = { 0 }, rela = { 0 }, mod = { 0 };
	static const struct tu_pcv hot_sp[] = { { 8, 0x20 } };
	static const struct tu_pcv hot_file[] = { { 0, 0x20 } };
	static const struct tu_pcv hot_line[] = { { 50, 4 }, { 51, 0x20 } };
	static const struct tu_pcv hot_inl[] = { { -1, 4 }, { 0, 0x20 } };
	static const struct tu_inl hot_tree[] = { { "fmt.Sprint", 0, -1, 0, 0 } };
	struct tu_func funcs[TU_DEMO_NFUNCS + 1];
	struct tu_pcln o = {
		.fmt = g->fmt, .ptrsize = ps, .quantum = g->quantum, .vaddr = TU_GO_PCLN,
		.text = TU_GO_TEXT, .zero_text = g->zero_text, .end = TU_GO_END,
		.files = tu_demo_files, .nfiles = 3, .cus = tu_demo_cus, .ncus = 2,
		.funcs = funcs, .nfuncs = TU_DEMO_NFUNCS + 1, .rodata = TU_GO_RODATA,
	};
	uint64_t names_off = 0, ver_at, mod_at = 0;
	const size_t hdrs = TU_GO_MD_WORDS * 8; /* string headers after moduledata */
	uint8_t *img;

	memcpy(funcs, tu_demo_funcs, sizeof(tu_demo_funcs));
	funcs[TU_DEMO_NFUNCS] = (struct tu_func){ "main.hot", TU_DEMO_END, 0, 0, hot_sp,
						  hot_file, hot_line, hot_inl, 1, 1, 2, 2,
						  hot_tree, 1 };
	tu_pcln_build(&o, &tab, &trees);
	if (g->fmt == TU_GO116)
		names_off = tab.p[8 + 2 * ps] | (uint64_t)tab.p[9 + 2 * ps] << 8 |
			    (uint64_t)tab.p[10 + 2 * ps] << 16;
	else if (g->fmt >= TU_GO118)
		names_off = tab.p[8 + 3 * ps] | (uint64_t)tab.p[9 + 3 * ps] << 8 |
			    (uint64_t)tab.p[10 + 3 * ps] << 16;

	/* .text: NOPs; .rodata: the trees first (at TU_GO_RODATA), then strings. */
	tu_grow(&text, TU_GO_END);
	memset(text.p, 0x90, TU_GO_END);
	tu_put(&ro, trees.p, trees.len);
	tu_align(&ro, 16);
	ver_at = TU_GO_RODATA + tu_put(&ro, g->version, strlen(g->version));
	if (g->modinfo) {
		tu_put(&mod, sent_a, 16);
		tu_put(&mod, g->modinfo, strlen(g->modinfo));
		tu_put(&mod, sent_b, 16);
		mod_at = TU_GO_RODATA + tu_put(&ro, mod.p, mod.len);
	}

	/* .noptrdata: moduledata, then {ptr, len} string headers. */
	tu_grow(&data, hdrs + 4 * (size_t)ps);
	if (!g->no_moduledata && ps == 8) {
		tu_go_ptr(&data, TU_GO_DATA, 0, TU_GO_PCLN, ps, g->pie, &rela);
		if (g->fmt != TU_GO12)
			tu_go_ptr(&data, TU_GO_DATA, 8, TU_GO_PCLN + names_off, ps, g->pie, &rela);
		tu_go_ptr(&data, TU_GO_DATA, 20 * 8, TU_GO_TEXT, ps, g->pie, &rela);
		tu_go_ptr(&data, TU_GO_DATA, 22 * 8, TU_GO_TEXT, ps, g->pie, &rela);
		if (g->fmt >= TU_GO118)
			tu_go_ptr(&data, TU_GO_DATA, (g->fmt == TU_GO118 ? 38 : 40) * 8,
				  TU_GO_RODATA, ps, g->pie, &rela);
	}
	tu_go_ptr(&data, TU_GO_DATA, hdrs, ver_at, ps, g->pie, &rela);
	tu_set(&data, hdrs + (size_t)ps, strlen(g->version), ps);
	tu_go_ptr(&data, TU_GO_DATA, hdrs + 2 * (size_t)ps, mod_at, ps, g->pie, &rela);
	tu_set(&data, hdrs + 3 * (size_t)ps, mod.len, ps);

	/* .go.buildinfo */
	tu_put(&bi, "\xff Go buildinf:", 14);
	tu_u8(&bi, (uint8_t)ps);
	if (g->fmt >= TU_GO118) {
		tu_u8(&bi, 2);
		tu_grow(&bi, 16);
		tu_uvarint(&bi, strlen(g->version));
		tu_put(&bi, g->version, strlen(g->version));
		tu_uvarint(&bi, mod.len);
		tu_put(&bi, mod.p, mod.len);
	} else {
		tu_u8(&bi, 0);
		tu_grow(&bi, 2 * (size_t)ps);
		tu_go_ptr(&bi, TU_GO_BUILDINFO, 16, TU_GO_DATA + hdrs, ps, g->pie, &rela);
		tu_go_ptr(&bi, TU_GO_BUILDINFO, 16 + (size_t)ps, TU_GO_DATA + hdrs + 2 * (size_t)ps,
			  ps, g->pie, &rela);
		tu_align(&bi, 16);
	}
	if (arm) /* the relocation type of arm64 */
		for (size_t r = 0; r + 24 <= rela.len; r += 24)
			tu_set(&rela, r + 8, 1027, 8);

	{
		struct tu_elf_sec secs[7] = {
			{ ".text", 0, SHF_ALLOC | SHF_EXECINSTR, TU_GO_TEXT, text.p, text.len },
			{ ".rodata", 0, SHF_ALLOC, TU_GO_RODATA, ro.p, ro.len },
			{ g->hide_pclntab ? ".rodata.x" : g->pie ? ".data.rel.ro.gopclntab" : ".gopclntab",
			  0, SHF_ALLOC | (g->pie ? SHF_WRITE : 0), TU_GO_PCLN, tab.p, tab.len },
			{ ".noptrdata", 0, SHF_ALLOC | SHF_WRITE, TU_GO_DATA, data.p, data.len },
			{ ".rela.dyn", SHT_RELA, SHF_ALLOC, 0x400400, rela.p, rela.len },
		};
		size_t n = 5;

		if (!g->no_buildinfo)
			secs[n++] = (struct tu_elf_sec){ ".go.buildinfo", 0, SHF_ALLOC | SHF_WRITE,
							 TU_GO_BUILDINFO, bi.p, bi.len };
		/* One byte in the file, a terabyte claimed. */
		if (g->huge_section)
			secs[n++] = (struct tu_elf_sec){ ".data.huge", 0, SHF_ALLOC | SHF_WRITE,
							 0x10000000, "", 1, 1ull << 40 };

		const struct tu_elf e = {
			.cls = ps == 8 ? ELFCLASS64 : ELFCLASS32,
			.type = g->pie ? ET_DYN : ET_EXEC,
			.machine = ps == 8 ? (arm ? EM_AARCH64 : EM_X86_64) : (arm ? EM_ARM : EM_386),
			.entry = TU_GO_TEXT, .secs = secs, .nsecs = n,
		};

		img = tu_elf_build(&e, len, NULL);
	}
	tu_buf_free(&text);
	tu_buf_free(&ro);
	tu_buf_free(&tab);
	tu_buf_free(&trees);
	tu_buf_free(&bi);
	tu_buf_free(&data);
	tu_buf_free(&rela);
	tu_buf_free(&mod);
	return img;
}

/* ---- files and fixtures --------------------------------------------- */

static inline uint8_t *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct tu_buf b = { 0 };
	char chunk[65536];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		tu_put(&b, chunk, n);
	fclose(f);
	*len = b.len;
	if (!b.p)
		b.p = tu_xcalloc(1, 1);
	return b.p;
}

/*
 * The repository root: $GOSCOPE_ROOT, else three levels above this test
 * binary (ROOT/build[-san]/tests/test_x).
 */
static inline const char *tu_root(void)
{
	static char root[PATH_MAX];
	const char *env = getenv("GOSCOPE_ROOT");
	ssize_t n;

	if (root[0])
		return root;
	if (env && *env) {
		snprintf(root, sizeof(root), "%s", env);
		return root;
	}
	n = readlink("/proc/self/exe", root, sizeof(root) - 1);
	if (n <= 0) {
		snprintf(root, sizeof(root), ".");
		return root;
	}
	root[n] = 0;
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(root, '/');

		if (!slash)
			break;
		*slash = 0;
	}
	if (!root[0])
		snprintf(root, sizeof(root), "/");
	return root;
}

/*
 * Path of a fixture (absolute, or relative to the repository root) into
 * BUF, or NULL if it is not there.
 */
static inline const char *tu_fixture(const char *rel, char *buf, size_t buflen)
{
	struct stat st;
	int n;

	if (rel[0] == '/')
		n = snprintf(buf, buflen, "%s", rel);
	else
		n = snprintf(buf, buflen, "%s/%s", tu_root(), rel);
	if (n < 0 || (size_t)n >= buflen || stat(buf, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	return buf;
}

/* True if PROG is on $PATH. */
static inline bool tu_have(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* Standard output of the shell command CMD, or NULL unless it exits 0. */
static inline char *tu_run(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	struct tu_buf b = { 0 };
	char chunk[65536];
	size_t n;
	int st;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		tu_put(&b, chunk, n);
	tu_u8(&b, 0);
	st = pclose(f);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		tu_buf_free(&b);
		return NULL;
	}
	return (char *)b.p;
}

/* cmocka: skip the current test (with a reason) unless COND holds. */
#define TU_REQUIRE(cond, why)                                   \
	do {                                                    \
		if (!(cond)) {                                  \
			print_message("  skipped: %s\n", (why)); \
			skip();                                 \
		}                                               \
	} while (0)

#endif
