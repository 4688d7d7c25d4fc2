/*
 * test_gobin: the facade end to end on synthetic Go executables (the demo
 * program of testutil.h with its moduledata and build info, in each
 * pclntab format, PIE or not, with the table found by name or by scan)
 * and on the real fixtures.
 */
#include "testutil.h"

#include "gobin/gobin.h"

static const char modtext[] = "path\texample.com/demo\nmod\texample.com/demo\t(devel)\t\n"
			      "build\tCGO_ENABLED=0\n";

static struct gobin *open_goelf(const struct tu_goelf *g)
{
	struct gobin *gb = NULL;
	char err[256] = "";
	uint8_t *buf;
	size_t len;

	buf = tu_goelf_build(g, &len);
	if (gobin_open_mem(buf, len, &gb, err, sizeof(err)) != 0)
		fail_msg("gobin_open_mem: %s", err);
	free(buf); /* gobin keeps its own copy */
	return gb;
}

/* The inline tree resolves only when moduledata gave the funcdata base. */
static void expect_demo(struct gobin *gb, bool inl)
{
	struct pclntab_frame fr[8];
	int n = pclntab_symbolize(gb->pcln, TU_GO_TEXT + 0x40 + 0x24, fr, 8);

	assert_int_equal(n, inl ? 3 : 1);
	assert_string_equal(fr[n - 1].func, "main.work");
	if (inl) {
		assert_string_equal(fr[0].func, "strings.Index");
		assert_string_equal(fr[1].func, "fmt.Println");
	}
	assert_int_equal(pclntab_nfunc(gb->pcln), 4);
}

static void test_formats(void **state)
{
	static const struct {
		int fmt;
		const char *version;
		int minor;
		bool traceable;
	} cases[] = {
		{ TU_GO12, "go1.14.2", 14, false },
		{ TU_GO116, "go1.17.2", 17, true },
		{ TU_GO118, "go1.19.8", 19, true },
		{ TU_GO120, "go1.22.5", 22, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tu_goelf g = { .fmt = cases[i].fmt, .ptrsize = 8, .quantum = 1,
					    .version = cases[i].version, .modinfo = modtext };
		struct gobin *gb = open_goelf(&g);
		char why[256];

		assert_string_equal(gb->pclntab_where, ".gopclntab");
		assert_int_equal(gb->pclntab_addr, TU_GO_PCLN);
		assert_int_equal(gb->moduledata, TU_GO_DATA);
		assert_int_equal(gb->text, cases[i].fmt == TU_GO12 ? 0 : TU_GO_TEXT);
		assert_int_equal(pclntab_gofunc(gb->pcln), cases[i].fmt >= TU_GO118 ? TU_GO_RODATA : 0);
		expect_demo(gb, true);
		assert_string_equal(gobin_go_version(gb), cases[i].version);
		assert_true(gb->version_known);
		assert_int_equal(gb->go_minor, cases[i].minor);
		assert_string_equal(gb->bi.path, "example.com/demo");
		assert_int_equal(gb->arch, ELFIMG_ARCH_AMD64);
		assert_false(gb->pie);
		assert_true(gb->is_static);
		assert_true(gb->stripped);
		assert_false(gb->dwarf);
		assert_false(gb->cgo);
		assert_int_equal(gb->offsets_known, cases[i].minor >= 17);
		assert_int_equal(gobin_traceable(gb, why, sizeof(why)), cases[i].traceable);
		if (!cases[i].traceable)
			assert_non_null(strstr(why, "older than 1.17"));
		gobin_close(gb);
	}
}

/* Go 1.26: textStart is 0; runtime.text must come from moduledata. */
static void test_zero_text(void **state)
{
	struct tu_goelf g = { .fmt = TU_GO120, .ptrsize = 8, .quantum = 1, .zero_text = true,
			      .version = "go1.26.5", .modinfo = modtext };
	struct gobin *gb;
	char err[256] = "";
	uint8_t *buf;
	size_t len;

	(void)state;
	gb = open_goelf(&g);
	assert_int_equal(pclntab_header_text(gb->pcln), 0);
	assert_int_equal(pclntab_text(gb->pcln), TU_GO_TEXT);
	expect_demo(gb, true);
	assert_int_equal(gb->go_minor, 26);
	gobin_close(gb);

	g.no_moduledata = true;
	buf = tu_goelf_build(&g, &len);
	assert_int_equal(gobin_open_mem(buf, len, &gb, err, sizeof(err)), -1);
	assert_null(gb);
	assert_non_null(strstr(err, "runtime.text"));
	free(buf);
}

static void test_pie(void **state)
{
	for (int arm = 0; arm <= 1; arm++) {
		const struct tu_goelf g = { .fmt = TU_GO120, .ptrsize = 8, .quantum = arm ? 4 : 1,
					    .pie = true, .version = "go1.21.0", .modinfo = modtext };
		struct gobin *gb = open_goelf(&g);

		(void)state;
		assert_true(gb->pie);
		assert_string_equal(gb->pclntab_where, ".data.rel.ro.gopclntab");
		/* Every moduledata word came through a RELATIVE relocation. */
		assert_int_equal(gb->moduledata, TU_GO_DATA);
		assert_int_equal(pclntab_gofunc(gb->pcln), TU_GO_RODATA);
		assert_int_equal(gb->arch, arm ? ELFIMG_ARCH_ARM64 : ELFIMG_ARCH_AMD64);
		expect_demo(gb, true);
		gobin_close(gb);
	}
	/* And the pointer-format build info of a 1.16 PIE. */
	{
		const struct tu_goelf g = { .fmt = TU_GO116, .ptrsize = 8, .quantum = 1,
					    .pie = true, .version = "go1.16.3", .modinfo = modtext };
		struct gobin *gb = open_goelf(&g);

		assert_string_equal(gobin_go_version(gb), "go1.16.3");
		assert_string_equal(gb->bi.main.path, "example.com/demo");
		gobin_close(gb);
	}
}

static void test_scan(void **state)
{
	for (int fmt = 0; fmt < 4; fmt++) {
		static const int fmts[] = { TU_GO12, TU_GO116, TU_GO118, TU_GO120 };
		const struct tu_goelf g = { .fmt = fmts[fmt], .ptrsize = 8, .quantum = 1,
					    .hide_pclntab = true, .version = "go1.20.1" };
		struct gobin *gb = open_goelf(&g);

		(void)state;
		assert_string_equal(gb->pclntab_where, "scan");
		assert_int_equal(gb->pclntab_addr, TU_GO_PCLN);
		expect_demo(gb, true);
		gobin_close(gb);
	}
}

static void test_32bit(void **state)
{
	static const int fmts[] = { TU_GO12, TU_GO116, TU_GO118, TU_GO120 };

	(void)state;
	for (int i = 0; i < 4; i++) {
		const struct tu_goelf g = { .fmt = fmts[i], .ptrsize = 4, .quantum = 1,
					    .version = "go1.19.8", .modinfo = modtext };
		struct gobin *gb = open_goelf(&g);
		char why[256];

		assert_int_equal(gb->arch, ELFIMG_ARCH_386);
		assert_int_equal(pclntab_ptrsize(gb->pcln), 4);
		/* moduledata is looked for in 64-bit images only: no tree for 1.18+. */
		expect_demo(gb, fmts[i] < TU_GO118);
		assert_string_equal(gobin_go_version(gb), "go1.19.8");
		assert_false(gobin_traceable(gb, why, sizeof(why)));
		assert_non_null(strstr(why, "386"));
		gobin_close(gb);
	}
}

static void test_version_sources(void **state)
{
	struct tu_goelf g = { .fmt = TU_GO120, .ptrsize = 8, .quantum = 1, .no_buildinfo = true,
			      .version = "go1.25.7" };
	struct gobin *gb;

	(void)state;
	gb = open_goelf(&g);
	assert_string_equal(gobin_go_version(gb), "go1.25.7");
	assert_string_equal(gb->bi.source, "runtime.buildVersion");
	assert_int_equal(gb->go_minor, 25);
	assert_int_equal(gb->go_patch, 7);
	gobin_close(gb);

	/* No usable version: the pclntab format names the oldest release. */
	g.version = "devel +0123abcd";
	for (int fmt = 0; fmt < 4; fmt++) {
		static const int fmts[] = { TU_GO12, TU_GO116, TU_GO118, TU_GO120 };
		static const int minors[] = { 2, 16, 18, 20 };

		g.fmt = fmts[fmt];
		gb = open_goelf(&g);
		assert_false(gb->version_known);
		assert_int_equal(gb->go_minor, minors[fmt]);
		assert_string_equal(gobin_go_version(gb), "unknown");
		gobin_close(gb);
	}
}

static void test_not_go(void **state)
{
	char err[256] = "";
	struct gobin *gb = (struct gobin *)1;
	uint8_t *buf;
	size_t len;

	(void)state;
	{
		const struct tu_elf_sec secs[] = {
			{ ".text", 0, SHF_ALLOC | SHF_EXECINSTR, 0x401000, "\xc3", 1 },
		};
		const struct tu_elf e = { .secs = secs, .nsecs = 1 };

		buf = tu_elf_build(&e, &len, NULL);
		assert_int_equal(gobin_open_mem(buf, len, &gb, err, sizeof(err)), -1);
		assert_null(gb);
		assert_non_null(strstr(err, "not a Go program"));
		free(buf);
	}
	{
		const struct tu_elf_sec secs[] = {
			{ ".gopclntab", 0, SHF_ALLOC, 0x401000, "not a table at all, no", 22 },
		};
		const struct tu_elf e = { .secs = secs, .nsecs = 1 };

		buf = tu_elf_build(&e, &len, NULL);
		assert_int_equal(gobin_open_mem(buf, len, &gb, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "corrupt pclntab"));
		free(buf);
	}
	assert_int_equal(gobin_open_mem("\x7f" "ELF", 4, &gb, err, sizeof(err)), -1);
	assert_int_equal(gobin_open("/nonexistent", &gb, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent"));
}

/*
 * A writable section whose header claims a terabyte the file does not
 * hold: the moduledata search (which reaches it when no moduledata is
 * found first) must skip it, not walk 2^37 addresses.
 */
static void test_huge_section(void **state)
{
	static const int fmts[] = { TU_GO118, TU_GO120 };

	(void)state;
	for (int i = 0; i < 2; i++) {
		const struct tu_goelf g = { .fmt = fmts[i], .ptrsize = 8, .quantum = 1,
					    .no_moduledata = true, .huge_section = true,
					    .version = "go1.20.1" };
		struct gobin *gb = open_goelf(&g);

		assert_non_null(elfimg_section(gb->img, ".data.huge"));
		assert_int_equal(gb->moduledata, 0);
		expect_demo(gb, false);
		gobin_close(gb);
	}
}

/* Functions out of order: the header is not believed. */
static void test_unsorted(void **state)
{
	struct tu_func fs[3];
	struct tu_buf tab = { 0 }, ro = { 0 };
	struct gobin *gb = NULL;
	char err[256] = "";
	uint8_t *buf;
	size_t len;

	(void)state;
	memcpy(fs, tu_demo_funcs, sizeof(fs));
	fs[1].off = 0x200; /* after runtime.goexit */
	{
		const struct tu_pcln o = {
			.fmt = TU_GO120, .ptrsize = 8, .quantum = 1, .vaddr = 0x4a0000,
			.text = 0x401000, .end = 0x300, .files = tu_demo_files, .nfiles = 3,
			.cus = tu_demo_cus, .ncus = 2, .funcs = fs, .nfuncs = 3, .rodata = 0x480000,
		};

		tu_pcln_build(&o, &tab, &ro);
	}
	{
		const struct tu_elf_sec secs[] = {
			{ ".gopclntab", 0, SHF_ALLOC, 0x4a0000, tab.p, tab.len },
		};
		const struct tu_elf e = { .secs = secs, .nsecs = 1 };

		buf = tu_elf_build(&e, &len, NULL);
	}
	assert_int_equal(gobin_open_mem(buf, len, &gb, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not sorted"));
	free(buf);
	tu_buf_free(&tab);
	tu_buf_free(&ro);
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

/* runtime.text and runtime.firstmoduledata, as `go tool nm` lists them. */
static void check_nm(const char *rel)
{
	char path[PATH_MAX], cmd[PATH_MAX + 64], *out, *line, *save = NULL;
	uint64_t text = 0, md = 0;
	struct gobin *gb = open_fixture(rel);

	TU_REQUIRE(tu_have("go"), "no go toolchain");
	tu_fixture(rel, path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "go tool nm '%s'", path);
	out = tu_run(cmd);
	assert_non_null(out);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a;
		char type, name[256];

		if (sscanf(line, " %llx %c %255s", &a, &type, name) != 3)
			continue;
		if (strcmp(name, "runtime.text") == 0)
			text = a;
		if (strcmp(name, "runtime.firstmoduledata") == 0)
			md = a;
	}
	free(out);
	assert_true(text && md);
	assert_int_equal(gb->text, text);
	assert_int_equal(pclntab_text(gb->pcln), text);
	assert_int_equal(gb->moduledata, md);
	assert_true(pclntab_gofunc(gb->pcln) != 0);
	gobin_close(gb);
}

static void test_real_hello(void **state)
{
	struct gobin *gb;
	char why[256];

	(void)state;
	check_nm("build/fixtures/hello");
	gb = open_fixture("build/fixtures/hello");
	assert_string_equal(gobin_go_version(gb), "go1.19.8");
	assert_false(gb->cgo);
	assert_false(gb->stripped);
	assert_true(gb->dwarf);
	assert_true(gb->offsets_known);
	assert_string_equal(gb->off.source, "dwarf");
	assert_true(gobin_traceable(gb, why, sizeof(why)));
	gobin_close(gb);
}

static void test_real_pie(void **state)
{
	(void)state;
	check_nm("build/fixtures/hello-pie");
}

static void test_real_arm64(void **state)
{
	(void)state;
	check_nm("build/fixtures/hello-arm64");
}

static void test_real_caddy(void **state)
{
	struct gobin *gb = open_fixture("/usr/bin/caddy");

	(void)state;
	assert_true(gb->cgo);
	assert_true(gb->stripped);
	assert_false(gb->dwarf);
	assert_false(gb->is_static);
	assert_string_equal(gb->off.source, "table");
	/* cgo puts C code first: runtime.text is not the .text section. */
	assert_true(gb->text > elfimg_section(gb->img, ".text")->addr);
	gobin_close(gb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_zero_text),
		cmocka_unit_test(test_pie),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_32bit),
		cmocka_unit_test(test_version_sources),
		cmocka_unit_test(test_not_go),
		cmocka_unit_test(test_huge_section),
		cmocka_unit_test(test_unsorted),
		cmocka_unit_test(test_real_hello),
		cmocka_unit_test(test_real_pie),
		cmocka_unit_test(test_real_arm64),
		cmocka_unit_test(test_real_caddy),
	};

	return cmocka_run_group_tests_name("gobin", tests, NULL, NULL);
}
