/*
 * test_goruntime: runtime struct offsets. The per-release table must agree
 * with the DWARF of real binaries built by that release (the fixtures are
 * Go 1.19, amd64 and arm64, whose 64-bit layouts are the same); DWARF
 * reading must fail cleanly on binaries without it or with junk in it.
 */
#include "testutil.h"

#include "gobin/elfimg.h"
#include "gobin/goruntime.h"

struct collect {
	int n;
	const char *names[32];
	int vals[32];
};

static void collect_field(const char *name, int off, void *arg)
{
	struct collect *c = arg;

	if (c->n < 32) {
		c->names[c->n] = name;
		c->vals[c->n] = off;
	}
	c->n++;
}

/* Compare every field through goruntime_offsets_each. */
static void assert_offsets_equal(const struct goruntime_offsets *a,
				 const struct goruntime_offsets *b)
{
	struct collect ca = { 0 }, cb = { 0 };
	int bad = 0;

	goruntime_offsets_each(a, collect_field, &ca);
	goruntime_offsets_each(b, collect_field, &cb);
	assert_int_equal(ca.n, cb.n);
	for (int i = 0; i < ca.n; i++) {
		if (ca.vals[i] != cb.vals[i]) {
			print_message("  %s: %s 0x%x, %s 0x%x\n", ca.names[i], a->source,
				      (unsigned)ca.vals[i], b->source, (unsigned)cb.vals[i]);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void test_each(void **state)
{
	struct goruntime_offsets o;
	struct collect c = { 0 };

	(void)state;
	assert_true(goruntime_offsets_table(19, &o));
	goruntime_offsets_each(&o, collect_field, &c);
	assert_int_equal(c.n, 20);
	for (int i = 0; i < c.n; i++)
		for (int j = i + 1; j < c.n; j++)
			assert_string_not_equal(c.names[i], c.names[j]);
	/* Spot checks against GO-INTERNALS.md's table for 1.17-1.22. */
	for (int i = 0; i < c.n; i++) {
		if (strcmp(c.names[i], "g_goid") == 0)
			assert_int_equal(c.vals[i], 0x98);
		if (strcmp(c.names[i], "g_atomicstatus") == 0)
			assert_int_equal(c.vals[i], 0x90);
		if (strcmp(c.names[i], "m_curg") == 0)
			assert_int_equal(c.vals[i], 0xc0);
		if (strcmp(c.names[i], "g_syscallbp") == 0)
			assert_int_equal(c.vals[i], -1);
	}
}

static void test_table_range(void **state)
{
	struct goruntime_offsets o;

	(void)state;
	for (int minor = -1; minor <= 40; minor++) {
		bool known = goruntime_offsets_table(minor, &o);

		assert_int_equal(known, minor >= 17 && minor <= 27);
		assert_string_equal(o.source, "table");
		/* Filled in either way. */
		assert_true(o.g_goid > 0);
		assert_true(o.m_curg > 0);
	}
	/* GO-INTERNALS.md: the three g layouts and the 1.25 gobuf change. */
	goruntime_offsets_table(22, &o);
	assert_int_equal(o.g_goid, 0x98);
	assert_int_equal(o.g_waitreason, 0xb0);
	assert_int_equal(o.gobuf_bp, 0x30);
	goruntime_offsets_table(23, &o);
	assert_int_equal(o.g_syscallbp, 0x80);
	assert_int_equal(o.g_atomicstatus, 0x98);
	assert_int_equal(o.g_goid, 0xa0);
	assert_int_equal(o.g_waitreason, 0xb8);
	goruntime_offsets_table(25, &o);
	assert_int_equal(o.g_syscallsp, 0x68);
	assert_int_equal(o.g_syscallbp, 0x78);
	assert_int_equal(o.g_goid, 0x98);
	assert_int_equal(o.gobuf_ret, -1);
	assert_int_equal(o.gobuf_lr, 0x20);
	assert_int_equal(o.gobuf_bp, 0x28);
	assert_int_equal(o.m_curg, 0xb8);
	/* g.trackingSeq: read off casgstatus in released binaries (goruntime.c). */
	assert_int_equal(o.g_trackingseq, 0xbf);
	goruntime_offsets_table(17, &o);
	assert_int_equal(o.g_trackingseq, 0xbd);
	goruntime_offsets_table(23, &o);
	assert_int_equal(o.g_trackingseq, 0xc7);
	goruntime_offsets_table(18, &o);
	assert_int_equal(o.g_trackingseq, 0xbd);
	goruntime_offsets_table(21, &o); /* buf 1.28.1: one byte before 1.20's */
	assert_int_equal(o.g_trackingseq, 0xbc);
	goruntime_offsets_table(24, &o); /* tsgo: as 1.23 */
	assert_int_equal(o.g_trackingseq, 0xc7);
	goruntime_offsets_table(16, &o);
	assert_int_equal(o.g_trackingseq, -1);
}

static struct elfimg *open_fixture(const char *rel)
{
	char path[PATH_MAX], err[256];
	struct elfimg *img = NULL;

	TU_REQUIRE(tu_fixture(rel, path, sizeof(path)), rel);
	if (elfimg_open(path, &img, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	return img;
}

/* Go 1.19 DWARF (compressed .debug_* sections) against table(19). */
static void check_dwarf_19(const char *rel)
{
	struct goruntime_offsets dw, tab;
	struct elfimg *img = open_fixture(rel);

	assert_true(goruntime_offsets_dwarf(img, &dw));
	assert_string_equal(dw.source, "dwarf");
	assert_true(goruntime_offsets_table(19, &tab));
	assert_offsets_equal(&dw, &tab);
	elfimg_close(img);
}

static void test_dwarf_hello(void **state)
{
	(void)state;
	check_dwarf_19("build/fixtures/hello");
}

static void test_dwarf_pie(void **state)
{
	(void)state;
	check_dwarf_19("build/fixtures/hello-pie");
}

static void test_dwarf_arm64(void **state)
{
	(void)state;
	check_dwarf_19("build/fixtures/hello-arm64");
}

/*
 * 386: every pointer is 4 bytes. runtime.stack is {lo, hi uintptr}, so hi
 * follows lo by 4; gobuf is {sp, pc, g, ctxt, ret, lr, bp}, 4 bytes each.
 */
static void test_dwarf_386(void **state)
{
	struct goruntime_offsets dw;
	struct elfimg *img = open_fixture("build/fixtures/hello-386");

	(void)state;
	assert_true(goruntime_offsets_dwarf(img, &dw));
	assert_int_equal(dw.g_stack_lo, 0);
	assert_int_equal(dw.g_stack_hi, 4);
	assert_int_equal(dw.gobuf_sp, 0);
	assert_int_equal(dw.gobuf_pc, 4);
	assert_int_equal(dw.gobuf_ret, 16);
	assert_int_equal(dw.gobuf_lr, 20);
	assert_int_equal(dw.gobuf_bp, 24);
	assert_int_equal(dw.m_g0, 0);
	/* stack, stackguard0, stackguard1, _panic, _defer: m at 6 words. */
	assert_int_equal(dw.g_m, 24);
	assert_int_equal(dw.g_sched, 28);
	elfimg_close(img);
}

/*
 * esbuild 0.5.26 (Go 1.14, zlib-compressed .zdebug_*): runtime.g has the
 * 1.17 layout already from m to waitreason.
 */
static void test_dwarf_go114(void **state)
{
	struct goruntime_offsets dw, tab;
	struct elfimg *img = open_fixture(".cache/testbins/esbuild-0.5.26/esbuild");

	(void)state;
	assert_true(goruntime_offsets_dwarf(img, &dw));
	goruntime_offsets_table(17, &tab);
	assert_int_equal(dw.g_m, tab.g_m);
	assert_int_equal(dw.g_sched, tab.g_sched);
	assert_int_equal(dw.g_syscallsp, tab.g_syscallsp);
	assert_int_equal(dw.g_syscallpc, tab.g_syscallpc);
	assert_int_equal(dw.g_atomicstatus, tab.g_atomicstatus);
	assert_int_equal(dw.g_goid, tab.g_goid);
	assert_int_equal(dw.g_waitsince, tab.g_waitsince);
	assert_int_equal(dw.g_waitreason, tab.g_waitreason);
	assert_int_equal(dw.gobuf_bp, tab.gobuf_bp);
	assert_int_equal(dw.g_syscallbp, -1);
	assert_int_equal(dw.g_trackingseq, -1); /* added in 1.17 */
	elfimg_close(img);
}

static void test_no_dwarf(void **state)
{
	struct goruntime_offsets o;
	struct elfimg *img = open_fixture("build/fixtures/hello-stripped");

	(void)state;
	memset(&o, 0x5a, sizeof(o));
	assert_false(goruntime_offsets_dwarf(img, &o));
	elfimg_close(img);
}

/* Sections named like DWARF that hold junk, or DWARF without runtime.g. */
static void test_junk_dwarf(void **state)
{
	static const uint8_t junk[] = {
		/* unit_length, version 4, abbrev_offset, address_size 8, then a DIE
		 * with an abbrev code no table defines. */
		0x0b, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x01,
		0x00, 0x00, 0x00,
	};
	static const uint8_t abbrev[] = { 0x01, 0x11, 0x00, 0x00, 0x00, 0x00 };
	const struct tu_elf_sec variants[][2] = {
		{ { ".debug_info", 0, 0, 0, junk, sizeof(junk) },
		  { ".debug_abbrev", 0, 0, 0, abbrev, sizeof(abbrev) } },
		{ { ".debug_info", 0, 0, 0, "\xff\xff\xff\xff", 4 },
		  { ".debug_abbrev", 0, 0, 0, "", 0 } },
		{ { ".zdebug_info", 0, 0, 0, "ZLIB\x00\x00\x00\x00\x00\x00\x10\x00\x78\x9c", 14 },
		  { ".debug_abbrev", 0, 0, 0, abbrev, sizeof(abbrev) } },
		{ { ".debug_info", 0, SHF_COMPRESSED, 0, "\x01\x00\x00\x00", 4 },
		  { ".debug_abbrev", 0, 0, 0, abbrev, sizeof(abbrev) } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		const struct tu_elf e = { .secs = variants[i], .nsecs = 2 };
		struct goruntime_offsets o;
		struct elfimg *img = NULL;
		uint8_t *buf;
		size_t len;

		buf = tu_elf_build(&e, &len, NULL);
		assert_int_equal(elfimg_open_mem(buf, len, &img, NULL, 0), 0);
		assert_true(elfimg_has_dwarf(img));
		assert_false(goruntime_offsets_dwarf(img, &o));
		elfimg_close(img);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each),
		cmocka_unit_test(test_table_range),
		cmocka_unit_test(test_dwarf_hello),
		cmocka_unit_test(test_dwarf_pie),
		cmocka_unit_test(test_dwarf_arm64),
		cmocka_unit_test(test_dwarf_386),
		cmocka_unit_test(test_dwarf_go114),
		cmocka_unit_test(test_no_dwarf),
		cmocka_unit_test(test_junk_dwarf),
	};

	return cmocka_run_group_tests_name("goruntime", tests, NULL, NULL);
}
