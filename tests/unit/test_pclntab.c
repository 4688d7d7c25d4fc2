/*
 * test_pclntab: the pclntab reader against tables whose truth is known.
 *
 * Synthetic tables come from testutil's writer, in each format (1.2, 1.16,
 * 1.18, 1.20), pointer size (8, 4) and pc quantum (1 as amd64, 4 as
 * arm64), all holding testutil's demo program: the functions, lines,
 * files, frame sizes and inlined frames expected below are read off the
 * runs it lists. Real binaries are checked against `go tool addr2line`
 * and the ELF symbol table, when those are present.
 */
#include "testutil.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>

#include "gobin/gobin.h"
#include "gobin/pclntab.h"

#define TEXT 0x401000ull
#define RODATA 0x600000ull
#define TABADDR 0x500000ull

/* The demo program of testutil.h (tu_demo_*): its comment lists the truth. */

struct variant {
	const char *name;
	int fmt;
	int ptrsize;
	int quantum;
};

static const struct variant variants[] = {
	{ "go1.2/ptr8/q1", TU_GO12, 8, 1 },
	{ "go1.2/ptr4/q4", TU_GO12, 4, 4 },
	{ "go1.16/ptr8/q1", TU_GO116, 8, 1 },
	{ "go1.16/ptr8/q4", TU_GO116, 8, 4 },
	{ "go1.16/ptr4/q1", TU_GO116, 4, 1 },
	{ "go1.18/ptr8/q1", TU_GO118, 8, 1 },
	{ "go1.18/ptr4/q4", TU_GO118, 4, 4 },
	{ "go1.20/ptr8/q1", TU_GO120, 8, 1 },
	{ "go1.20/ptr8/q4", TU_GO120, 8, 4 },
	{ "go1.20/ptr4/q1", TU_GO120, 4, 1 },
};

/* Inline trees are served from a separate "rodata" buffer. */
struct romem {
	const uint8_t *p;
	size_t len;
	uint64_t base;
};

static const uint8_t *romem_ptr(void *ctx, uint64_t vaddr, size_t len)
{
	struct romem *m = ctx;

	if (vaddr < m->base || vaddr - m->base > m->len || len > m->len - (vaddr - m->base))
		return NULL;
	return m->p + (vaddr - m->base);
}

struct built {
	struct tu_buf tab, ro;
	struct romem rm;
	struct pclntab_mem mem;
};

static void build(const struct variant *v, const struct tu_func *fs, size_t nfs,
		  bool zero_text, struct built *b)
{
	struct tu_pcln o = {
		.fmt = v->fmt, .ptrsize = v->ptrsize, .quantum = v->quantum,
		.vaddr = TABADDR, .text = TEXT, .zero_text = zero_text, .end = 0x110,
		.files = tu_demo_files, .nfiles = 3, .cus = tu_demo_cus, .ncus = 2,
		.funcs = fs, .nfuncs = nfs, .rodata = RODATA,
	};

	memset(b, 0, sizeof(*b));
	tu_pcln_build(&o, &b->tab, &b->ro);
	b->rm = (struct romem){ b->ro.p, b->ro.len, RODATA };
	b->mem = (struct pclntab_mem){ romem_ptr, &b->rm };
}

static void built_free(struct built *b)
{
	tu_buf_free(&b->tab);
	tu_buf_free(&b->ro);
}

static struct pclntab *open_built(const struct variant *v, struct built *b, bool with_mem)
{
	struct pclntab *p = NULL;
	char err[256] = "";

	if (pclntab_open(b->tab.p, b->tab.len, TABADDR, with_mem ? &b->mem : NULL, &p, err,
			 sizeof(err)) != 0)
		fail_msg("%s: pclntab_open: %s", v->name, err);
	if (v->fmt >= TU_GO118)
		pclntab_set_gofunc(p, RODATA);
	return p;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* ---- the pcvalue encoding itself ----------------------------------- */

static void test_pcvalue_encoding(void **state)
{
	struct tu_buf b = { 0 };
	/* zz(+11)=22, 8; zz(+2)=4, 0x18; zz(-1)=1, 0x10; zz(+189)=378, 0x10; end. */
	static const uint8_t want_q1[] = { 0x16, 0x08, 0x04, 0x18, 0x01, 0x10, 0xfa, 0x02,
					   0x10, 0x00 };
	/* Same runs, pc deltas in units of 4. */
	static const uint8_t want_q4[] = { 0x16, 0x02, 0x04, 0x06, 0x01, 0x04, 0xfa, 0x02,
					   0x04, 0x00 };

	(void)state;
	tu_pcvalue(&b, tu_demo_f0_line, 4, 1);
	assert_int_equal(b.len, sizeof(want_q1));
	assert_memory_equal(b.p, want_q1, sizeof(want_q1));
	b.len = 0;
	tu_pcvalue(&b, tu_demo_f0_line, 4, 4);
	assert_int_equal(b.len, sizeof(want_q4));
	assert_memory_equal(b.p, want_q4, sizeof(want_q4));
	tu_buf_free(&b);
}

/*
 * Values at the ends of int32: the decoder adds deltas as Go does, with
 * int32 wrap-around (no signed overflow for UBSan to find), in both the
 * decoded-table path and the inline-tree path.
 */
static void test_pcvalue_extremes(void **state)
{
	static const struct tu_pcv line[] = { { INT32_MAX, 4 }, { INT32_MIN, 8 }, { 0, 12 },
					      { -5, 16 } };
	static const struct tu_pcv file[] = { { 0, 16 } };
	static const struct tu_pcv sp[] = { { INT32_MIN, 8 }, { INT32_MAX, 16 } };
	const struct tu_func f = { "x.y", 0, 0, 0, sp, file, line, NULL, 2, 1, 4, 0, NULL, 0 };
	const struct tu_pcln o = {
		.fmt = TU_GO120, .ptrsize = 8, .quantum = 1, .vaddr = TABADDR, .text = TEXT,
		.end = 16, .files = tu_demo_files, .nfiles = 3, .cus = tu_demo_cus, .ncus = 2,
		.funcs = &f, .nfuncs = 1, .rodata = RODATA,
	};
	struct tu_buf tab = { 0 }, ro = { 0 };
	struct pclntab_frame fr;
	struct pclntab *p;
	int32_t v;

	(void)state;
	tu_pcln_build(&o, &tab, &ro);
	assert_int_equal(pclntab_open(tab.p, tab.len, TABADDR, NULL, &p, NULL, 0), 0);
	assert_true(pclntab_addr2line(p, TEXT + 0, &fr));
	assert_int_equal(fr.line, INT32_MAX);
	assert_true(pclntab_addr2line(p, TEXT + 4, &fr));
	assert_int_equal(fr.line, INT32_MIN);
	assert_true(pclntab_addr2line(p, TEXT + 8, &fr));
	assert_int_equal(fr.line, 0);
	assert_true(pclntab_addr2line(p, TEXT + 15, &fr));
	assert_int_equal(fr.line, -5);
	assert_true(pclntab_spdelta(p, TEXT + 7, &v));
	assert_int_equal(v, INT32_MIN);
	assert_true(pclntab_spdelta(p, TEXT + 8, &v));
	assert_int_equal(v, INT32_MAX);
	pclntab_close(p);
	tu_buf_free(&tab);
	tu_buf_free(&ro);
}

/* ---- sniffing -------------------------------------------------------- */

static void test_sniff(void **state)
{
	uint8_t h[16] = { 0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8 };

	(void)state;
	assert_int_equal(pclntab_sniff(h, sizeof(h)), PCLNTAB_GO120);
	h[0] = 0xf0;
	assert_int_equal(pclntab_sniff(h, sizeof(h)), PCLNTAB_GO118);
	h[0] = 0xfa;
	assert_int_equal(pclntab_sniff(h, sizeof(h)), PCLNTAB_GO116);
	h[0] = 0xfb;
	assert_int_equal(pclntab_sniff(h, sizeof(h)), PCLNTAB_GO12);
	assert_int_equal(pclntab_sniff(h, 15), PCLNTAB_UNKNOWN);
	h[0] = 0xf2;
	assert_int_equal(pclntab_sniff(h, sizeof(h)), PCLNTAB_UNKNOWN);
	h[0] = 0xf1;
	h[4] = 1; /* pad bytes must be zero */
	assert_int_equal(pclntab_sniff(h, sizeof(h)), PCLNTAB_UNKNOWN);
	h[4] = 0;
	h[6] = 3; /* quantum 1, 2 or 4 */
	assert_int_equal(pclntab_sniff(h, sizeof(h)), PCLNTAB_UNKNOWN);
	h[6] = 4;
	h[7] = 2; /* pointer size 4 or 8 */
	assert_int_equal(pclntab_sniff(h, sizeof(h)), PCLNTAB_UNKNOWN);
	h[7] = 4;
	assert_int_equal(pclntab_sniff(h, sizeof(h)), PCLNTAB_GO120);

	assert_string_equal(pclntab_format_name(PCLNTAB_GO12), "1.2");
	assert_string_equal(pclntab_format_name(PCLNTAB_GO116), "1.16");
	assert_string_equal(pclntab_format_name(PCLNTAB_GO118), "1.18");
	assert_string_equal(pclntab_format_name(PCLNTAB_GO120), "1.20");
	assert_string_equal(pclntab_format_name(PCLNTAB_UNKNOWN), "unknown");
}

/* ---- lookups, per variant ------------------------------------------- */

/* Macros, so that a failure names the caller's line. */
#define expect_a2l(p, off, fn_, file_, line_)                          \
	do {                                                          \
		struct pclntab_frame fr_;                             \
                                                                      \
		assert_true(pclntab_addr2line((p), TEXT + (off), &fr_)); \
		assert_string_equal(fr_.func, (fn_));                 \
		assert_string_equal(fr_.file, (file_));               \
		assert_int_equal(fr_.line, (line_));                  \
		assert_false(fr_.inlined);                            \
	} while (0)

#define expect_sp(p, off, ok, want)                                   \
	do {                                                          \
		int32_t sp_ = 12345;                                  \
                                                                      \
		assert_int_equal(pclntab_spdelta((p), TEXT + (off), &sp_), (ok)); \
		if (ok)                                               \
			assert_int_equal(sp_, (want));                \
	} while (0)

static void test_lookup(void **state)
{
	const struct variant *v = *state;
	struct built b;
	struct pclntab *p;
	struct pclntab_func f;
	uint64_t lo, hi;

	build(v, tu_demo_funcs, 3, false, &b);
	p = open_built(v, &b, true);

	assert_int_equal(pclntab_format(p), v->fmt == TU_GO12 ? PCLNTAB_GO12 :
					     v->fmt == TU_GO116 ? PCLNTAB_GO116 :
					     v->fmt == TU_GO118 ? PCLNTAB_GO118 : PCLNTAB_GO120);
	assert_int_equal(pclntab_ptrsize(p), v->ptrsize);
	assert_int_equal(pclntab_quantum(p), v->quantum);
	assert_int_equal(pclntab_nfunc(p), 3);
	assert_int_equal(pclntab_header_text(p), v->fmt >= TU_GO118 ? TEXT : 0);
	pclntab_range(p, &lo, &hi);
	assert_int_equal(lo, TEXT);
	assert_int_equal(hi, TEXT + 0x110);

	/* Binary search at every boundary. */
	assert_int_equal(pclntab_find(p, 0), -1);
	assert_int_equal(pclntab_find(p, TEXT - 1), -1);
	assert_int_equal(pclntab_find(p, TEXT), 0);
	assert_int_equal(pclntab_find(p, TEXT + 0x3f), 0);
	assert_int_equal(pclntab_find(p, TEXT + 0x40), 1);
	assert_int_equal(pclntab_find(p, TEXT + 0xff), 1);
	assert_int_equal(pclntab_find(p, TEXT + 0x100), 2);
	assert_int_equal(pclntab_find(p, TEXT + 0x10f), 2);
	assert_int_equal(pclntab_find(p, TEXT + 0x110), -1);
	assert_int_equal(pclntab_find(p, UINT64_MAX), -1);

	assert_true(pclntab_func_at(p, 0, &f));
	assert_int_equal(f.entry, TEXT);
	assert_int_equal(f.end, TEXT + 0x40);
	assert_string_equal(f.name, "main.main");
	assert_true(pclntab_func_at(p, 1, &f));
	assert_int_equal(f.entry, TEXT + 0x40);
	assert_int_equal(f.end, TEXT + 0x100);
	assert_string_equal(f.name, "main.work");
	assert_true(pclntab_func_at(p, 2, &f));
	assert_int_equal(f.end, TEXT + 0x110);
	assert_string_equal(f.name, "runtime.goexit");
	assert_false(pclntab_func_at(p, 3, &f));
	assert_false(pclntab_func_at(p, (size_t)-1, &f));

	assert_int_equal(pclntab_funcid(p, 0), 0);
	assert_int_equal(pclntab_funcid(p, 2), 4);
	assert_int_equal(pclntab_funcid(p, -1), -1);
	assert_int_equal(pclntab_funcid(p, 3), -1);

	/* Lines: each run holds on [previous end, end). */
	expect_a2l(p, 0x00, "main.main", "/src/main.go", 10);
	expect_a2l(p, 0x07, "main.main", "/src/main.go", 10);
	expect_a2l(p, 0x08, "main.main", "/src/main.go", 12);
	expect_a2l(p, 0x1f, "main.main", "/src/main.go", 12);
	expect_a2l(p, 0x20, "main.main", "/src/main.go", 11);
	expect_a2l(p, 0x30, "main.main", "/src/main.go", 200);
	expect_a2l(p, 0x3f, "main.main", "/src/main.go", 200);
	/* Files through the CU table: main.work's CU maps 0 and 1 elsewhere. */
	expect_a2l(p, 0x40, "main.work", "/src/work.go", 20);
	expect_a2l(p, 0x40 + 0x10, "main.work", "/usr/lib/go/src/fmt/print.go", 30);
	expect_a2l(p, 0x40 + 0x24, "main.work", "/usr/lib/go/src/fmt/print.go", 40);
	expect_a2l(p, 0x40 + 0x30, "main.work", "/src/work.go", 21);
	expect_a2l(p, 0xff, "main.work", "/src/work.go", 21);
	expect_a2l(p, 0x100, "runtime.goexit", "/src/main.go", 300);
	/* Padding the tables do not cover: "" and -1, as debug/gosym. */
	expect_a2l(p, 0x108, "runtime.goexit", "", -1);
	expect_a2l(p, 0x10f, "runtime.goexit", "", -1);
	{
		struct pclntab_frame fr;

		assert_false(pclntab_addr2line(p, TEXT + 0x110, &fr));
		assert_string_equal(fr.func, "?");
		assert_string_equal(fr.file, "?");
		assert_int_equal(fr.line, 0);
	}

	/* Frame sizes. */
	expect_sp(p, 0x00, true, 0);
	expect_sp(p, 0x03, true, 0);
	expect_sp(p, 0x04, true, 0x18);
	expect_sp(p, 0x3b, true, 0x18);
	expect_sp(p, 0x3c, true, 0);
	expect_sp(p, 0x40, true, 0x28);
	expect_sp(p, 0xff, true, 0x28);
	expect_sp(p, 0x107, true, 0);
	expect_sp(p, 0x108, false, 0);
	expect_sp(p, 0x110, false, 0);

	pclntab_close(p);
	built_free(&b);
}

#define expect_frame(fr, fn_, file_, line_, inl_)                     \
	do {                                                          \
		assert_string_equal((fr)->func, (fn_));               \
		assert_string_equal(base((fr)->file), (file_));       \
		assert_int_equal((fr)->line, (line_));                \
		assert_int_equal((fr)->inlined, (inl_));              \
		assert_int_equal((fr)->entry, TEXT + 0x40);           \
	} while (0)

static void test_inline(void **state)
{
	const struct variant *v = *state;
	struct pclntab_frame fr[8];
	struct built b;
	struct pclntab *p;
	int n;

	build(v, tu_demo_funcs, 3, false, &b);
	p = open_built(v, &b, true);

	/* Two levels: strings.Index in fmt.Println in main.work. */
	for (int round = 0; round < 2; round++) { /* the second is served from the cache */
		n = pclntab_symbolize(p, TEXT + 0x40 + 0x24, fr, 8);
		assert_int_equal(n, 3);
		expect_frame(&fr[0], "strings.Index", "print.go", 40, true);
		expect_frame(&fr[1], "fmt.Println", "print.go", 30, true);
		expect_frame(&fr[2], "main.work", "work.go", 20, false);
	}
	n = pclntab_symbolize(p, TEXT + 0x40 + 0x14, fr, 8);
	assert_int_equal(n, 2);
	expect_frame(&fr[0], "fmt.Println", "print.go", 30, true);
	expect_frame(&fr[1], "main.work", "work.go", 20, false);
	n = pclntab_symbolize(p, TEXT + 0x40 + 0x05, fr, 8);
	assert_int_equal(n, 1);
	expect_frame(&fr[0], "main.work", "work.go", 20, false);
	n = pclntab_symbolize(p, TEXT + 0x40 + 0x30, fr, 8);
	assert_int_equal(n, 1);
	expect_frame(&fr[0], "main.work", "work.go", 21, false);

	/* MAX bounds the output; the physical function is always last. */
	n = pclntab_symbolize(p, TEXT + 0x40 + 0x24, fr, 2);
	assert_int_equal(n, 2);
	assert_string_equal(fr[0].func, "strings.Index");
	assert_string_equal(fr[1].func, "main.work");
	n = pclntab_symbolize(p, TEXT + 0x40 + 0x24, fr, 1);
	assert_int_equal(n, 1);
	assert_string_equal(fr[0].func, "main.work");
	assert_int_equal(pclntab_symbolize(p, TEXT + 0x40 + 0x24, fr, 0), 0);
	/* And the cache still answers the full question afterwards. */
	assert_int_equal(pclntab_symbolize(p, TEXT + 0x40 + 0x24, fr, 8), 3);

	/* No inlining in main.main; nothing outside the table. */
	n = pclntab_symbolize(p, TEXT + 0x08, fr, 8);
	assert_int_equal(n, 1);
	assert_string_equal(fr[0].func, "main.main");
	assert_int_equal(fr[0].line, 12);
	assert_int_equal(pclntab_symbolize(p, TEXT + 0x110, fr, 8), 0);
	assert_int_equal(pclntab_symbolize(p, 0, fr, 8), 0);

	/* addr2line names the physical function at the innermost position. */
	expect_a2l(p, 0x40 + 0x24, "main.work", "/usr/lib/go/src/fmt/print.go", 40);
	pclntab_close(p);

	/* Without a memory reader there is no tree: the physical frame only. */
	p = open_built(v, &b, false);
	n = pclntab_symbolize(p, TEXT + 0x40 + 0x24, fr, 8);
	assert_int_equal(n, 1);
	assert_string_equal(fr[0].func, "main.work");
	assert_int_equal(fr[0].line, 40);
	pclntab_close(p);

	/* 1.18+: funcdata count from gofunc; unset, there is no tree either. */
	if (v->fmt >= TU_GO118) {
		assert_int_equal(pclntab_open(b.tab.p, b.tab.len, TABADDR, &b.mem, &p, NULL, 0), 0);
		assert_int_equal(pclntab_gofunc(p), 0);
		assert_int_equal(pclntab_symbolize(p, TEXT + 0x40 + 0x24, fr, 8), 1);
		pclntab_set_gofunc(p, RODATA);
		assert_int_equal(pclntab_gofunc(p), RODATA);
		assert_int_equal(pclntab_symbolize(p, TEXT + 0x40 + 0x24, fr, 8), 3);
		pclntab_close(p);
	}
	built_free(&b);
}

/* Go 1.26 writes textStart 0: entries count from whatever set_text says. */
static void test_zero_text(void **state)
{
	const struct variant v = { "go1.26", TU_GO120, 8, 1 };
	struct pclntab_frame fr[4];
	struct built b;
	struct pclntab *p;

	(void)state;
	build(&v, tu_demo_funcs, 3, true, &b);
	p = open_built(&v, &b, true);
	assert_int_equal(pclntab_header_text(p), 0);
	assert_int_equal(pclntab_text(p), 0);
	assert_int_equal(pclntab_find(p, TEXT + 0x40), -1);
	/* Offsets alone resolve, and fill the cache... */
	assert_int_equal(pclntab_symbolize(p, 0x40 + 0x24, fr, 4), 3);
	pclntab_set_text(p, TEXT);
	assert_int_equal(pclntab_text(p), TEXT);
	/* ...which set_text must forget. */
	assert_int_equal(pclntab_symbolize(p, 0x40 + 0x24, fr, 4), 0);
	assert_int_equal(pclntab_find(p, TEXT + 0x40), 1);
	assert_int_equal(pclntab_symbolize(p, TEXT + 0x40 + 0x24, fr, 4), 3);
	assert_string_equal(fr[0].func, "strings.Index");
	pclntab_close(p);
	built_free(&b);
}

/* ---- damaged tables ------------------------------------------------- */

/* Every query over a spread of pcs; the sanitizers judge the reads. */
static void poke(struct pclntab *p)
{
	struct pclntab_frame fr[8];
	struct pclntab_func f;
	uint64_t lo, hi;
	int32_t sp;

	pclntab_range(p, &lo, &hi);
	for (size_t i = 0; i < pclntab_nfunc(p) && i < 64; i++) {
		if (pclntab_func_at(p, i, &f))
			assert_non_null(f.name);
		pclntab_funcid(p, (long)i);
	}
	for (uint64_t off = 0; off < 0x120; off += 3) {
		uint64_t pc = TEXT + off;
		int n;

		if (pclntab_addr2line(p, pc, &fr[0]))
			assert_true(pclntab_find(p, pc) >= 0);
		assert_non_null(fr[0].func);
		assert_non_null(fr[0].file);
		n = pclntab_symbolize(p, pc, fr, 8);
		assert_in_range(n, 0, 8);
		for (int i = 0; i < n; i++) {
			assert_non_null(fr[i].func);
			assert_non_null(fr[i].file);
		}
		pclntab_spdelta(p, pc, &sp);
	}
}

/* 0, 1, ... 200, 205, ..., and always FULL itself. */
static size_t next_len(size_t len, size_t full)
{
	size_t next = len + (len < 200 ? 1 : 5);

	return len < full && next > full ? full : next;
}

static void test_truncated(void **state)
{
	const struct variant *v = *state;
	struct built b;
	size_t opened = 0;

	build(v, tu_demo_funcs, 3, false, &b);
	/* Every length through the header and functab, then every 5th (an open
	 * costs milliseconds under ASan: it allocates the decoding caches). */
	for (size_t len = 0; len <= b.tab.len; len = next_len(len, b.tab.len)) {
		/* A fresh allocation of exactly LEN bytes, so ASan sees overruns. */
		uint8_t *copy = malloc(len ? len : 1);
		struct pclntab *p = NULL;
		char err[128];

		assert_non_null(copy);
		memcpy(copy, b.tab.p, len);
		if (pclntab_open(copy, len, TABADDR, &b.mem, &p, err, sizeof(err)) == 0) {
			opened++;
			if (v->fmt >= TU_GO118)
				pclntab_set_gofunc(p, RODATA);
			poke(p);
			pclntab_close(p);
		} else {
			assert_null(p);
			assert_true(strlen(err) > 0);
		}
		free(copy);
	}
	/* The full table opens, and so do some prefixes (functab intact). */
	assert_true(opened >= 1);
	built_free(&b);
}

static void test_bitflips(void **state)
{
	const struct variant *v = *state;
	struct built b;
	uint8_t *copy;

	build(v, tu_demo_funcs, 3, false, &b);
	copy = malloc(b.tab.len);
	assert_non_null(copy);
	/* One bit of every other byte, a different bit each time. */
	for (size_t i = 0; i < b.tab.len; i += 2) {
		{
			struct pclntab *p = NULL;

			memcpy(copy, b.tab.p, b.tab.len);
			copy[i] ^= (uint8_t)(1u << (i / 2 % 8));
			if (pclntab_open(copy, b.tab.len, TABADDR, &b.mem, &p, NULL, 0) != 0)
				continue;
			if (v->fmt >= TU_GO118)
				pclntab_set_gofunc(p, RODATA);
			poke(p);
			pclntab_close(p);
		}
	}
	free(copy);
	built_free(&b);
}

static void set_word(struct tu_buf *tab, int ps, int idx, uint64_t v)
{
	tu_set(tab, 8 + (size_t)idx * (size_t)ps, v, ps);
}

static void test_corrupt_header(void **state)
{
	const struct variant v = { "go1.20", TU_GO120, 8, 1 };
	struct built b;
	struct pclntab *p = NULL;
	char err[128] = "";
	uint8_t *copy;

	(void)state;
	build(&v, tu_demo_funcs, 3, false, &b);
	copy = malloc(b.tab.len);
	assert_non_null(copy);

	/* Header words: nfunc, nfiles, text, funcname, cu, filetab, pctab, pcln. */
	static const struct {
		int word;
		uint64_t val;
	} bad[] = {
		{ 0, 0 },                 /* no functions */
		{ 0, 1ull << 40 },        /* more functions than bytes */
		{ 0, UINT64_MAX / 8 + 1 },/* (nfunc+1)*8 wraps */
		{ 3, 1ull << 32 },        /* funcnametab past the end */
		{ 4, UINT64_MAX },        /* cutab */
		{ 5, 1ull << 20 },        /* filetab */
		{ 6, 1ull << 20 },        /* pctab */
		{ 7, 1ull << 20 },        /* pclntable */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tu_buf t = { .p = copy, .len = b.tab.len, .cap = b.tab.len };

		memcpy(copy, b.tab.p, b.tab.len);
		set_word(&t, 8, bad[i].word, bad[i].val);
		err[0] = 0;
		assert_int_equal(pclntab_open(copy, b.tab.len, TABADDR, NULL, &p, err, sizeof(err)),
				 -1);
		assert_null(p);
		assert_non_null(strstr(err, "corrupt pclntab"));
	}
	/* Unknown magic. */
	memcpy(copy, b.tab.p, b.tab.len);
	copy[0] = 0x12;
	assert_int_equal(pclntab_open(copy, b.tab.len, TABADDR, NULL, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "magic"));
	free(copy);
	built_free(&b);
}

/*
 * Inline trees that point at each other: the expansion must stop (depth
 * bound, or a parent pc equal to the pc), never loop.
 */
static void test_inline_cycles(void **state)
{
	const struct variant *v = *state;
	static const struct tu_inl self[] = {
		{ "loop.Self", 0x14, -1, 0, 0 },     /* ix 0 region: points at itself */
		{ "loop.Other", 0x24, -1, 0, 0 },
	};
	static const struct tu_inl pingpong[] = {
		{ "loop.Ping", 0x24, 1, 0, 0 },      /* -> ix 1 region */
		{ "loop.Pong", 0x14, 0, 0, 0 },      /* -> ix 0 region */
	};
	static const struct tu_inl wild[] = {
		{ "loop.Wild", -8, 0, 0, 0 },        /* negative parent pc */
		{ "loop.Far", 0x7fffffff, 0, 0, 0 }, /* parent pc outside the function */
	};
	static const struct tu_inl bad_ix[] = {
		{ "only.One", 0x0c, -1, 0, 0 },      /* index 1 has no entry */
	};
	const struct tu_inl *trees[] = { self, pingpong, wild, bad_ix };
	const size_t ntrees[] = { 2, 2, 2, 1 };

	for (size_t t = 0; t < 4; t++) {
		struct tu_func fs[3];
		struct pclntab_frame fr[200];
		struct built b;
		struct pclntab *p;

		memcpy(fs, tu_demo_funcs, sizeof(fs));
		fs[1].tree = trees[t];
		fs[1].ntree = ntrees[t];
		build(v, fs, 3, false, &b);
		/* bad_ix: serve only the first entry, the second read fails. */
		if (t == 3)
			b.rm.len = b.ro.len;
		p = open_built(v, &b, true);
		for (uint64_t off = 0x40; off < 0x100; off += 4) {
			int n = pclntab_symbolize(p, TEXT + off, fr, 200);

			assert_in_range(n, 1, 65);
			assert_string_equal(fr[n - 1].func, "main.work");
			assert_false(fr[n - 1].inlined);
			for (int i = 0; i < n - 1; i++)
				assert_true(fr[i].inlined);
		}
		pclntab_close(p);
		built_free(&b);
	}
}

/* ---- real binaries --------------------------------------------------- */

static struct gobin *open_fixture(const char *rel)
{
	char path[PATH_MAX], err[512];
	struct gobin *gb = NULL;

	TU_REQUIRE(tu_fixture(rel, path, sizeof(path)), rel);
	if (gobin_open(path, &gb, err, sizeof(err)) != 0)
		fail_msg("gobin_open %s: %s", path, err);
	return gb;
}

/*
 * Sample pcs (entries, middles, last bytes) of about 600 functions and
 * compare with what `go tool addr2line` prints for them. (Go 1.19's tool
 * reads only .gopclntab, so no PIE; and for the 1.18+ format it counts
 * entries from the .text section, not from runtime.text: in a cgo binary,
 * where C code comes first, its answers are shifted by the difference, so
 * it is asked about pc - shift.)
 */
static void check_go_addr2line(const char *rel)
{
	char path[PATH_MAX], tmp[] = "/tmp/goscope-a2l-XXXXXX", cmd[PATH_MAX + 128];
	struct gobin *gb;
	const struct elfimg_section *text;
	size_t n, step, npcs = 0, mismatches = 0;
	uint64_t *pcs, shift = 0;
	char *out, *line, *save = NULL;
	FILE *f;
	int fd;

	TU_REQUIRE(tu_have("go"), "no go toolchain");
	gb = open_fixture(rel);
	tu_fixture(rel, path, sizeof(path));
	n = pclntab_nfunc(gb->pcln);
	step = n / 600 + 1;
	pcs = tu_xcalloc(3 * (n / step + 1), sizeof(*pcs));
	for (size_t i = 0; i < n; i += step) {
		struct pclntab_func fn;

		assert_true(pclntab_func_at(gb->pcln, i, &fn));
		pcs[npcs++] = fn.entry;
		if (fn.end > fn.entry + 1) {
			pcs[npcs++] = fn.entry + (fn.end - fn.entry) / 2;
			pcs[npcs++] = fn.end - 1;
		}
	}
	text = elfimg_section(gb->img, ".text");
	assert_non_null(text);
	if (pclntab_format(gb->pcln) >= PCLNTAB_GO118)
		shift = pclntab_text(gb->pcln) - text->addr;
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (size_t i = 0; i < npcs; i++)
		fprintf(f, "0x%llx\n", (unsigned long long)(pcs[i] - shift));
	fclose(f);
	snprintf(cmd, sizeof(cmd), "go tool addr2line '%s' < %s", path, tmp);
	out = tu_run(cmd);
	unlink(tmp);
	assert_non_null(out);

	line = strtok_r(out, "\n", &save);
	for (size_t i = 0; i < npcs; i++) {
		struct pclntab_frame fr;
		char want[PATH_MAX + 32];
		const char *gfunc = line, *gfl;

		gfl = gfunc ? strtok_r(NULL, "\n", &save) : NULL;
		assert_non_null(gfl);
		pclntab_addr2line(gb->pcln, pcs[i], &fr);
		snprintf(want, sizeof(want), "%s:%d", fr.file, fr.line);
		if (strcmp(gfunc, fr.func) != 0 || strcmp(gfl, want) != 0) {
			if (mismatches++ < 5)
				print_message("  0x%llx: go: %s %s, goscope: %s %s\n",
					      (unsigned long long)pcs[i], gfunc, gfl, fr.func, want);
		}
		line = strtok_r(NULL, "\n", &save);
	}
	print_message("  %s: %zu pcs compared with go tool addr2line (shift 0x%llx)\n", rel,
		      npcs, (unsigned long long)shift);
	assert_int_equal(mismatches, 0);
	free(out);
	free(pcs);
	gobin_close(gb);
}

static void test_go_addr2line_hello(void **state)
{
	(void)state;
	check_go_addr2line("build/fixtures/hello");
}

static void test_go_addr2line_hello_arm64(void **state)
{
	(void)state;
	check_go_addr2line("build/fixtures/hello-arm64");
}

static void test_go_addr2line_hello_386(void **state)
{
	(void)state;
	check_go_addr2line("build/fixtures/hello-386");
}

/* go 1.19's debug/gosym reads the 1.2 and 1.16 formats too. */
static void test_go_addr2line_go114(void **state)
{
	(void)state;
	check_go_addr2line(".cache/testbins/esbuild-0.5.26/esbuild");
}

static void test_go_addr2line_go116(void **state)
{
	(void)state;
	check_go_addr2line(".cache/testbins/esbuild-0.11.23/esbuild");
}

static void test_go_addr2line_go117(void **state)
{
	(void)state;
	check_go_addr2line(".cache/testbins/esbuild-0.13.15/esbuild");
}

static void test_go_addr2line_caddy(void **state)
{
	(void)state;
	check_go_addr2line("/usr/bin/caddy");
}

/*
 * Does the pclntab name PN denote the symbol SN? The linker writes
 * "[...]" for a bracketed type argument list in pclntab names, and ABI0
 * wrappers carry ".abi0" only in the symbol table.
 */
static bool same_func_name(const char *pn, const char *sn)
{
	size_t sl = strlen(sn);

	if (sl > 5 && strcmp(sn + sl - 5, ".abi0") == 0)
		sl -= 5;
	while (*pn && sl) {
		if (strncmp(pn, "[...]", 5) == 0 && *sn == '[') {
			int depth = 0;

			do {
				depth += *sn == '[' ? 1 : *sn == ']' ? -1 : 0;
				sn++;
				sl--;
			} while (sl && depth > 0);
			if (depth)
				return false;
			pn += 5;
			continue;
		}
		if (*pn != *sn)
			return false;
		pn++;
		sn++;
		sl--;
	}
	return !*pn && !sl;
}

/*
 * The linker's symbol table names every function at its entry: read it
 * with libelf, independently of goscope, and look each one up.
 */
static void check_symtab(const char *rel)
{
	char path[PATH_MAX];
	struct gobin *gb;
	Elf *elf;
	Elf_Scn *scn = NULL;
	int fd;
	size_t nsym = 0, found = 0, wrong = 0;

	gb = open_fixture(rel);
	tu_fixture(rel, path, sizeof(path));
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		assert_non_null(d);
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;
			struct pclntab_func fn;
			long ix;

			if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			/* Section markers, not functions. */
			if (!name || strcmp(name, "runtime.text") == 0 ||
			    strcmp(name, "runtime.etext") == 0)
				continue;
			ix = pclntab_find(gb->pcln, sym.st_value);
			nsym++;
			if (ix < 0 || !pclntab_func_at(gb->pcln, (size_t)ix, &fn) ||
			    fn.entry != sym.st_value)
				continue;
			found++;
			if (!same_func_name(fn.name, name) && wrong++ < 5)
				print_message("  0x%llx: symtab %s, pclntab %s\n",
					      (unsigned long long)sym.st_value, name, fn.name);
		}
	}
	elf_end(elf);
	close(fd);
	print_message("  %s: %zu of %zu function symbols found at their entries\n", rel, found,
		      nsym);
	assert_true(nsym > 500);
	assert_int_equal(found, nsym);
	assert_int_equal(wrong, 0);
	assert_int_equal(found, pclntab_nfunc(gb->pcln));
	gobin_close(gb);
}

static void test_symtab_hello(void **state)
{
	(void)state;
	check_symtab("build/fixtures/hello");
}

static void test_symtab_pie(void **state)
{
	(void)state;
	check_symtab("build/fixtures/hello-pie");
}

static void test_symtab_arm64(void **state)
{
	(void)state;
	check_symtab("build/fixtures/hello-arm64");
}

static void test_symtab_386(void **state)
{
	(void)state;
	check_symtab("build/fixtures/hello-386");
}

/* main.inner (main.go:16) is inlined into main.outer at main.go:12. */
static void check_real_inline(const char *rel)
{
	struct pclntab_frame fr[8];
	struct pclntab_func fn;
	struct gobin *gb = open_fixture(rel);
	size_t n = pclntab_nfunc(gb->pcln);
	bool seen = false;

	for (size_t i = 0; i < n; i++) {
		if (!pclntab_func_at(gb->pcln, i, &fn) || strcmp(fn.name, "main.outer") != 0)
			continue;
		for (uint64_t pc = fn.entry; pc < fn.end; pc++) {
			int k = pclntab_symbolize(gb->pcln, pc, fr, 8);

			assert_true(k >= 1);
			assert_string_equal(fr[k - 1].func, "main.outer");
			if (k != 2)
				continue;
			assert_string_equal(fr[0].func, "main.inner");
			assert_true(fr[0].inlined);
			assert_string_equal(base(fr[0].file), "main.go");
			assert_int_equal(fr[0].line, 16);
			assert_string_equal(base(fr[1].file), "main.go");
			assert_int_equal(fr[1].line, 12);
			seen = true;
		}
	}
	assert_true(seen);
	gobin_close(gb);
}

static void test_real_inline(void **state)
{
	(void)state;
	check_real_inline("build/fixtures/hello");
}

static void test_real_inline_pie(void **state)
{
	(void)state;
	check_real_inline("build/fixtures/hello-pie");
}

static void test_real_inline_arm64(void **state)
{
	(void)state;
	check_real_inline("build/fixtures/hello-arm64");
}

#define VARIANT_TESTS(fn) \
	{ #fn " " "go1.2/ptr8/q1", fn, NULL, NULL, (void *)&variants[0] }, \
	{ #fn " " "go1.2/ptr4/q4", fn, NULL, NULL, (void *)&variants[1] }, \
	{ #fn " " "go1.16/ptr8/q1", fn, NULL, NULL, (void *)&variants[2] }, \
	{ #fn " " "go1.16/ptr8/q4", fn, NULL, NULL, (void *)&variants[3] }, \
	{ #fn " " "go1.16/ptr4/q1", fn, NULL, NULL, (void *)&variants[4] }, \
	{ #fn " " "go1.18/ptr8/q1", fn, NULL, NULL, (void *)&variants[5] }, \
	{ #fn " " "go1.18/ptr4/q4", fn, NULL, NULL, (void *)&variants[6] }, \
	{ #fn " " "go1.20/ptr8/q1", fn, NULL, NULL, (void *)&variants[7] }, \
	{ #fn " " "go1.20/ptr8/q4", fn, NULL, NULL, (void *)&variants[8] }, \
	{ #fn " " "go1.20/ptr4/q1", fn, NULL, NULL, (void *)&variants[9] }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcvalue_encoding),
		cmocka_unit_test(test_pcvalue_extremes),
		cmocka_unit_test(test_sniff),
		VARIANT_TESTS(test_lookup),
		VARIANT_TESTS(test_inline),
		VARIANT_TESTS(test_truncated),
		VARIANT_TESTS(test_bitflips),
		VARIANT_TESTS(test_inline_cycles),
		cmocka_unit_test(test_zero_text),
		cmocka_unit_test(test_corrupt_header),
		cmocka_unit_test(test_go_addr2line_hello),
		cmocka_unit_test(test_go_addr2line_hello_arm64),
		cmocka_unit_test(test_go_addr2line_hello_386),
		cmocka_unit_test(test_go_addr2line_go114),
		cmocka_unit_test(test_go_addr2line_go116),
		cmocka_unit_test(test_go_addr2line_go117),
		cmocka_unit_test(test_go_addr2line_caddy),
		cmocka_unit_test(test_symtab_hello),
		cmocka_unit_test(test_symtab_pie),
		cmocka_unit_test(test_symtab_arm64),
		cmocka_unit_test(test_symtab_386),
		cmocka_unit_test(test_real_inline),
		cmocka_unit_test(test_real_inline_pie),
		cmocka_unit_test(test_real_inline_arm64),
	};

	return cmocka_run_group_tests_name("pclntab", tests, NULL, NULL);
}
