/*
 * test_buildinfo: Go version strings, modinfo text, and .go.buildinfo in
 * both of its formats (synthetic ELF images built here), plus real
 * binaries compared with what `go version -m` says about them.
 */
#include "testutil.h"

#include "gobin/buildinfo.h"
#include "gobin/elfimg.h"

/* runtime/debug's modinfo sentinels (cmd/go/internal/modload/build.go). */
static const char sent_start[] = "0w\xaf\x0c\x92t\b\x02A\xe1\xc1\a\xe6\xd6\x18\xe6";
static const char sent_end[] = "\xf9" "2C1\x86\x18 r\x00\x82" "B\x10" "A\x16\xd8\xf2";

/* Build sentinel + TEXT + sentinel into B. */
static void wrap_modinfo(struct tu_buf *b, const char *text)
{
	tu_put(b, sent_start, 16);
	tu_put(b, text, strlen(text));
	tu_put(b, sent_end, 16);
}

static const char modtext[] =
	"path\texample.com/cmd/app\n"
	"mod\texample.com\tv1.2.3\th1:abc=\n"
	"dep\tgolang.org/x/sys\tv0.1.0\th1:sys=\n"
	"dep\tgithub.com/old/mod\tv1.0.0\t\n"
	"=>\tgithub.com/new/mod\tv1.1.0\th1:new=\n"
	"dep\tgithub.com/nover\n"
	"build\t-compiler=gc\n"
	"build\t-ldflags=\"-s -w -X main.v=a=b\"\n"
	"build\tCGO_ENABLED=1\n"
	"build\tGOARCH=amd64\n"
	"build\tnoequals\n"
	"unknown\tline\there\n";

static void check_modtext(const struct buildinfo *bi)
{
	assert_string_equal(bi->path, "example.com/cmd/app");
	assert_string_equal(bi->main.path, "example.com");
	assert_string_equal(bi->main.version, "v1.2.3");
	assert_string_equal(bi->main.sum, "h1:abc=");
	assert_int_equal(bi->ndeps, 3);
	assert_string_equal(bi->deps[0].path, "golang.org/x/sys");
	assert_string_equal(bi->deps[0].version, "v0.1.0");
	assert_string_equal(bi->deps[0].sum, "h1:sys=");
	/* The replaced module keeps its own version; "=>" adds no module. */
	assert_string_equal(bi->deps[1].path, "github.com/old/mod");
	assert_string_equal(bi->deps[1].version, "v1.0.0");
	assert_string_equal(bi->deps[1].sum, "");
	assert_string_equal(bi->deps[2].path, "github.com/nover");
	assert_string_equal(bi->deps[2].version, "");
	assert_int_equal(bi->nsettings, 4);
	assert_string_equal(buildinfo_setting(bi, "-compiler"), "gc");
	/* Split at the first '=' only. */
	assert_string_equal(buildinfo_setting(bi, "-ldflags"), "\"-s -w -X main.v=a=b\"");
	assert_string_equal(buildinfo_setting(bi, "CGO_ENABLED"), "1");
	assert_string_equal(buildinfo_setting(bi, "GOARCH"), "amd64");
	assert_null(buildinfo_setting(bi, "noequals"));
	assert_null(buildinfo_setting(bi, "GOOS"));
}

/* ---- goversion_parse ------------------------------------------------- */

static void test_goversion_parse(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		int minor, patch;
	} cases[] = {
		{ "go1.19.8", true, 19, 8 },
		{ "go1.21rc2", true, 21, 0 },
		{ "go1.21.0", true, 21, 0 },
		{ "go1.9", true, 9, 0 },
		{ "go1.2", true, 2, 0 },
		{ "go1.22beta1", true, 22, 0 },
		{ "go1.26.5 X:boringcrypto", true, 26, 5 },
		{ "go1.20.4-bigcorp", true, 20, 4 },
		{ "devel go1.23-abcdef Tue Jan 1", true, 23, 0 },
		{ "go1.19.", true, 19, 0 },
		{ "go1.1000.1000", true, 1000, 1000 },
		{ "go1.1001", false, 0, 0 },
		{ "go1.19.1001", false, 0, 0 },
		{ "go1.99999999999999999999999", false, 0, 0 },
		{ "devel +abc123 Tue Jan 1", false, 0, 0 },
		{ "devel ", false, 0, 0 },
		{ "go2.0", false, 0, 0 },
		{ "go1", false, 0, 0 },
		{ "go1.", false, 0, 0 },
		{ "go1.x", false, 0, 0 },
		{ "go1.-1", false, 0, 0 },
		{ "go1.+1", false, 0, 0 },
		{ "go", false, 0, 0 },
		{ "go+1.19", false, 0, 0 },
		{ "go 1.19", false, 0, 0 },
		{ "Go1.19", false, 0, 0 },
		{ "1.19", false, 0, 0 },
		{ "", false, 0, 0 },
		{ "\xff\xfe", false, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int maj = -7, min = -7, pat = -7;
		bool ok = goversion_parse(cases[i].s, &maj, &min, &pat);

		if (ok != cases[i].ok)
			fail_msg("goversion_parse(\"%s\") = %d", cases[i].s, ok);
		if (!ok)
			continue;
		assert_int_equal(maj, 1);
		assert_int_equal(min, cases[i].minor);
		assert_int_equal(pat, cases[i].patch);
	}
	assert_false(goversion_parse(NULL, &(int){ 0 }, &(int){ 0 }, &(int){ 0 }));
}

/* ---- modinfo --------------------------------------------------------- */

static void test_modinfo_sentinels(void **state)
{
	struct tu_buf b = { 0 };
	struct buildinfo bi = { 0 };

	(void)state;
	wrap_modinfo(&b, modtext);
	assert_int_equal(buildinfo_parse_modinfo((const char *)b.p, b.len, &bi), 0);
	check_modtext(&bi);
	buildinfo_free(&bi);
	/* Freed and zeroed: a second free is harmless. */
	assert_null(bi.path);
	assert_int_equal(bi.ndeps, 0);
	buildinfo_free(&bi);
	tu_buf_free(&b);
}

static void test_modinfo_plain(void **state)
{
	struct buildinfo bi = { 0 };

	(void)state;
	assert_int_equal(buildinfo_parse_modinfo(modtext, strlen(modtext), &bi), 0);
	check_modtext(&bi);
	buildinfo_free(&bi);
}

static void test_modinfo_edges(void **state)
{
	struct buildinfo bi = { 0 };
	static const char twice[] = "path\tfirst\npath\tsecond\nmod\tm1\tv1\t\nmod\tm2\tv2\t\n";
	static const char nul[] = "path\tbefore\n\0path\tafter\ndep\tx\tv\t\n";
	static const char noterm[] = "dep\ta\tv1\th1\tEXTRA\tMORE";
	static const char empties[] = "\n\n\t\t\npath\n\tpath\tx\npath\t\n";

	(void)state;
	assert_int_equal(buildinfo_parse_modinfo("", 0, &bi), 0);
	assert_null(bi.path);
	assert_int_equal(bi.ndeps, 0);
	buildinfo_free(&bi);

	/* The first path and mod lines win. */
	assert_int_equal(buildinfo_parse_modinfo(twice, strlen(twice), &bi), 0);
	assert_string_equal(bi.path, "first");
	assert_string_equal(bi.main.path, "m1");
	assert_string_equal(bi.main.version, "v1");
	buildinfo_free(&bi);

	/* Text stops at a NUL byte. */
	assert_int_equal(buildinfo_parse_modinfo(nul, sizeof(nul) - 1, &bi), 0);
	assert_string_equal(bi.path, "before");
	assert_int_equal(bi.ndeps, 0);
	buildinfo_free(&bi);

	/* Extra fields are ignored; no final newline is fine. */
	assert_int_equal(buildinfo_parse_modinfo(noterm, strlen(noterm), &bi), 0);
	assert_int_equal(bi.ndeps, 1);
	assert_string_equal(bi.deps[0].path, "a");
	assert_string_equal(bi.deps[0].sum, "h1");
	buildinfo_free(&bi);

	/* Lines with too few fields are skipped; an empty path is a path. */
	assert_int_equal(buildinfo_parse_modinfo(empties, strlen(empties), &bi), 0);
	assert_string_equal(bi.path, "");
	buildinfo_free(&bi);

	/* LEN bounds the text: nothing after it is read. */
	assert_int_equal(buildinfo_parse_modinfo(twice, 11, &bi), 0);
	assert_string_equal(bi.path, "first");
	assert_null(bi.main.path);
	buildinfo_free(&bi);

	/* Sentinel-sized junk around a too-short text is not stripped. */
	assert_int_equal(buildinfo_parse_modinfo("path\tshort\n", 11, &bi), 0);
	assert_string_equal(bi.path, "short");
	buildinfo_free(&bi);
}

/* Every prefix of a wrapped modinfo, in an exact-size allocation. */
static void test_modinfo_prefixes(void **state)
{
	struct tu_buf b = { 0 };

	(void)state;
	wrap_modinfo(&b, modtext);
	for (size_t len = 0; len <= b.len; len++) {
		char *copy = malloc(len ? len : 1);
		struct buildinfo bi = { 0 };

		assert_non_null(copy);
		memcpy(copy, b.p, len);
		assert_int_equal(buildinfo_parse_modinfo(copy, len, &bi), 0);
		buildinfo_free(&bi);
		free(copy);
	}
	tu_buf_free(&b);
}

/* ---- .go.buildinfo in synthetic images ------------------------------- */

#define BI_MAGIC "\xff Go buildinf:"

static struct elfimg *open_image(uint8_t *buf, size_t len)
{
	struct elfimg *img = NULL;
	char err[256];

	if (elfimg_open_mem(buf, len, &img, err, sizeof(err)) != 0)
		fail_msg("elfimg_open_mem: %s", err);
	return img;
}

/* Go 1.18+: inline uvarint-prefixed strings after the 32-byte header. */
static void test_read_inline(void **state)
{
	struct tu_buf sec = { 0 }, mod = { 0 };
	struct buildinfo bi;
	struct elfimg *img;
	uint8_t *buf;
	size_t len;

	(void)state;
	tu_put(&sec, BI_MAGIC, 14);
	tu_u8(&sec, 8);
	tu_u8(&sec, 2);
	tu_grow(&sec, 16);
	tu_uvarint(&sec, 9);
	tu_put(&sec, "go1.21rc2", 9);
	wrap_modinfo(&mod, modtext);
	tu_uvarint(&sec, mod.len); /* > 127: a two-byte uvarint */
	tu_put(&sec, mod.p, mod.len);

	const struct tu_elf_sec secs[] = {
		{ ".text", 0, SHF_ALLOC | SHF_EXECINSTR, 0x401000, "\xc3", 1 },
		{ ".go.buildinfo", 0, SHF_ALLOC | SHF_WRITE, 0x500000, sec.p, sec.len },
	};
	const struct tu_elf e = { .secs = secs, .nsecs = 2 };

	buf = tu_elf_build(&e, &len, NULL);
	img = open_image(buf, len);
	assert_int_equal(buildinfo_read(img, &bi), 0);
	assert_string_equal(bi.go_version, "go1.21rc2");
	assert_string_equal(bi.source, "buildinfo");
	check_modtext(&bi);
	buildinfo_free(&bi);
	elfimg_close(img);
	free(buf);
	tu_buf_free(&sec);
	tu_buf_free(&mod);
}

/*
 * Go 1.13-1.17: the header points at the string headers {ptr, len} of
 * runtime.buildVersion and runtime.modinfo. With PIE, the pointers are
 * zero in the file and R_X86_64_RELATIVE relocations carry them.
 */
static void build_pointer_image(bool pie, uint8_t **buf, size_t *len)
{
	struct tu_buf sec = { 0 }, data = { 0 }, ro = { 0 }, rela = { 0 }, mod = { 0 };
	const uint64_t ro_addr = 0x480000, data_addr = 0x520000, bi_addr = 0x510000;
	uint64_t ver_at, mod_at;

	wrap_modinfo(&mod, modtext);
	ver_at = ro_addr + tu_put(&ro, "go1.16.15", 9);
	mod_at = ro_addr + tu_put(&ro, mod.p, mod.len);
	/* .data: version header at +0, modinfo header at +16. */
	tu_u64(&data, pie ? 0 : ver_at);
	tu_u64(&data, 9);
	tu_u64(&data, pie ? 0 : mod_at);
	tu_u64(&data, mod.len);

	tu_put(&sec, BI_MAGIC, 14);
	tu_u8(&sec, 8);
	tu_u8(&sec, 0);
	tu_u64(&sec, pie ? 0 : data_addr);
	tu_u64(&sec, pie ? 0 : data_addr + 16);

	/* r_offset, r_info (type 8 = RELATIVE), r_addend; deliberately unsorted. */
	tu_u64(&rela, data_addr + 16);
	tu_u64(&rela, 8);
	tu_u64(&rela, mod_at);
	tu_u64(&rela, bi_addr + 16);
	tu_u64(&rela, 8);
	tu_u64(&rela, data_addr);
	tu_u64(&rela, data_addr);
	tu_u64(&rela, 8);
	tu_u64(&rela, ver_at);
	tu_u64(&rela, bi_addr + 24);
	tu_u64(&rela, 8);
	tu_u64(&rela, data_addr + 16);
	tu_u64(&rela, 0x999000); /* another type: ignored */
	tu_u64(&rela, 1);
	tu_u64(&rela, 0);

	const struct tu_elf_sec secs[] = {
		{ ".rodata", 0, SHF_ALLOC, ro_addr, ro.p, ro.len },
		{ ".go.buildinfo", 0, SHF_ALLOC | SHF_WRITE, bi_addr, sec.p, sec.len },
		{ ".data", 0, SHF_ALLOC | SHF_WRITE, data_addr, data.p, data.len },
		{ ".rela.dyn", SHT_RELA, SHF_ALLOC, 0x400800, rela.p, pie ? rela.len : 0 },
	};
	const struct tu_elf e = { .type = pie ? ET_DYN : ET_EXEC, .secs = secs, .nsecs = 4 };

	*buf = tu_elf_build(&e, len, NULL);
	tu_buf_free(&sec);
	tu_buf_free(&data);
	tu_buf_free(&ro);
	tu_buf_free(&rela);
	tu_buf_free(&mod);
}

static void test_read_pointer(void **state)
{
	for (int pie = 0; pie <= 1; pie++) {
		struct buildinfo bi;
		struct elfimg *img;
		uint8_t *buf;
		size_t len;

		(void)state;
		build_pointer_image(pie, &buf, &len);
		img = open_image(buf, len);
		assert_int_equal(elfimg_is_pie(img), pie);
		assert_int_equal(buildinfo_read(img, &bi), 0);
		assert_string_equal(bi.go_version, "go1.16.15");
		assert_string_equal(bi.source, "buildinfo");
		check_modtext(&bi);
		buildinfo_free(&bi);
		elfimg_close(img);
		free(buf);
	}
}

/* No section named .go.buildinfo: the header is found at 16-byte steps. */
static void test_read_scan(void **state)
{
	struct tu_buf sec = { 0 };
	struct buildinfo bi;
	struct elfimg *img;
	uint8_t *buf;
	size_t len;

	(void)state;
	/* A misaligned decoy first, then the real header 16-aligned. */
	tu_grow(&sec, 3);
	tu_put(&sec, BI_MAGIC, 14);
	tu_u8(&sec, 8);
	tu_u8(&sec, 2);
	tu_uvarint(&sec, 8);
	tu_put(&sec, "go1.99.0", 8);
	tu_align(&sec, 16);
	tu_put(&sec, BI_MAGIC, 14);
	tu_u8(&sec, 8);
	tu_u8(&sec, 2);
	tu_grow(&sec, 16);
	tu_uvarint(&sec, 8);
	tu_put(&sec, "go1.20.4", 8);
	tu_uvarint(&sec, 0);

	const struct tu_elf_sec secs[] = {
		{ ".data", 0, SHF_ALLOC | SHF_WRITE, 0x500000, sec.p, sec.len },
	};
	const struct tu_elf e = { .secs = secs, .nsecs = 1 };

	buf = tu_elf_build(&e, &len, NULL);
	img = open_image(buf, len);
	assert_int_equal(buildinfo_read(img, &bi), 0);
	assert_string_equal(bi.go_version, "go1.20.4");
	assert_string_equal(bi.source, "buildinfo");
	assert_null(bi.path);
	buildinfo_free(&bi);
	elfimg_close(img);
	free(buf);
	tu_buf_free(&sec);
}

/*
 * A header cut off by the end of the file at every length (16-aligned,
 * found by the scan): nothing to read, and no byte past the end may be
 * touched.
 */
static void test_read_truncated_header(void **state)
{
	(void)state;
	for (size_t keep = 14; keep <= 38; keep++) {
		const struct tu_elf_sec secs[] = {
			{ ".text", 0, SHF_ALLOC | SHF_EXECINSTR, 0x401000, "\xc3", 1 },
		};
		const struct tu_elf e = { .secs = secs, .nsecs = 1 };
		struct tu_buf b = { 0 };
		struct buildinfo bi;
		struct elfimg *img;
		uint8_t *img_bytes;
		size_t len;

		img_bytes = tu_elf_build(&e, &len, NULL);
		tu_put(&b, img_bytes, len);
		free(img_bytes);
		tu_align(&b, 16);
		tu_put(&b, BI_MAGIC, 14);
		tu_put(&b, "\x08\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
			   "\x00\x00\x05go1.9", keep - 14);
		img = open_image(b.p, b.len);
		assert_int_equal(buildinfo_read(img, &bi), 0);
		if (keep < 38) {
			assert_null(bi.go_version);
			assert_string_equal(bi.source, "none");
		} else {
			assert_string_equal(bi.go_version, "go1.9");
		}
		buildinfo_free(&bi);
		elfimg_close(img);
		tu_buf_free(&b);
	}
}

/*
 * No build info at all (esbuild 0.27+): the version comes from the string
 * header of runtime.buildVersion, or failing that the longest go1.N
 * string in .rodata.
 */
static void test_read_fallback(void **state)
{
	(void)state;
	for (int with_header = 0; with_header <= 1; with_header++) {
		struct tu_buf ro = { 0 }, data = { 0 };
		struct buildinfo bi;
		struct elfimg *img;
		uint8_t *buf;
		size_t len;
		uint64_t at;

		tu_str(&ro, "requires go1.2 or later; go1.x; go1.");
		at = 0x480000 + tu_put(&ro, "go1.25.7", 8);
		tu_str(&ro, "go1.25.7X:nocoverageredesign"); /* as long, but not referenced */
		tu_u64(&data, 0x1234);
		if (with_header) {
			tu_u64(&data, at);
			tu_u64(&data, 8);
		}
		tu_u64(&data, at); /* a pointer to it with a bad length */
		tu_u64(&data, 3);

		const struct tu_elf_sec secs[] = {
			{ ".rodata", 0, SHF_ALLOC, 0x480000, ro.p, ro.len },
			{ ".noptrdata", 0, SHF_ALLOC | SHF_WRITE, 0x520000, data.p, data.len },
		};
		const struct tu_elf e = { .secs = secs, .nsecs = 2 };

		buf = tu_elf_build(&e, &len, NULL);
		img = open_image(buf, len);
		assert_int_equal(buildinfo_read(img, &bi), 0);
		if (with_header) {
			assert_string_equal(bi.go_version, "go1.25.7");
			assert_string_equal(bi.source, "runtime.buildVersion");
		} else {
			/* Best guess: the longest version-shaped string. */
			assert_string_equal(bi.go_version, "go1.25.7");
			assert_string_equal(bi.source, "rodata");
		}
		assert_null(bi.path);
		buildinfo_free(&bi);
		elfimg_close(img);
		free(buf);
		tu_buf_free(&ro);
		tu_buf_free(&data);
	}
}

static void test_read_nothing(void **state)
{
	const struct tu_elf_sec secs[] = {
		{ ".text", 0, SHF_ALLOC | SHF_EXECINSTR, 0x401000, "\xc3\xc3\xc3\xc3", 4 },
		{ ".rodata", 0, SHF_ALLOC, 0x480000, "go1 go2 go1.x", 13 },
	};
	const struct tu_elf e = { .secs = secs, .nsecs = 2 };
	struct buildinfo bi;
	struct elfimg *img;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = tu_elf_build(&e, &len, NULL);
	img = open_image(buf, len);
	assert_int_equal(buildinfo_read(img, &bi), 0);
	assert_null(bi.go_version);
	assert_string_equal(bi.source, "none");
	assert_null(bi.path);
	assert_int_equal(bi.ndeps, 0);
	buildinfo_free(&bi);
	elfimg_close(img);
	free(buf);
}

/* Damaged inline headers: lengths past the end, huge uvarints. */
static void test_read_damaged(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
	} tails[] = {
		{ "\x09go1.2", 6 },                       /* length past the end */
		{ "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10 }, /* 2^63-ish */
		{ "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11 }, /* never ends */
		{ "\x00", 1 },                            /* empty version */
		{ "\x05go1.9\xff\xff\xff\xff\x0f", 11 },  /* modinfo length past the end */
		{ "\x05go1.9\x00", 7 },                   /* empty modinfo */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		struct tu_buf sec = { 0 };
		struct buildinfo bi;
		struct elfimg *img;
		uint8_t *buf;
		size_t len;

		tu_put(&sec, BI_MAGIC, 14);
		tu_u8(&sec, 8);
		tu_u8(&sec, 2);
		tu_grow(&sec, 16);
		tu_put(&sec, tails[i].bytes, tails[i].len);

		const struct tu_elf_sec secs[] = {
			{ ".go.buildinfo", 0, SHF_ALLOC | SHF_WRITE, 0x500000, sec.p, sec.len },
		};
		const struct tu_elf e = { .secs = secs, .nsecs = 1 };

		buf = tu_elf_build(&e, &len, NULL);
		img = open_image(buf, len);
		assert_int_equal(buildinfo_read(img, &bi), 0);
		if (i >= 4)
			assert_string_equal(bi.go_version, "go1.9");
		buildinfo_free(&bi);
		elfimg_close(img);
		free(buf);
		tu_buf_free(&sec);
	}
}

/* ---- real binaries against `go version -m` -------------------------- */

/*
 * Compare buildinfo_read with `go version -m`: its first line is
 * "PATH: goVERSION", then tab-indented modinfo lines.
 */
static void check_go_version_m(const char *rel)
{
	char path[PATH_MAX], cmd[PATH_MAX + 64];
	struct elfimg *img = NULL;
	struct buildinfo bi;
	char *out, *line, *save = NULL, err[256];
	size_t ndeps = 0, nsettings = 0;

	TU_REQUIRE(tu_fixture(rel, path, sizeof(path)), rel);
	TU_REQUIRE(tu_have("go"), "no go toolchain");
	snprintf(cmd, sizeof(cmd), "go version -m '%s'", path);
	out = tu_run(cmd);
	assert_non_null(out);
	if (elfimg_open(path, &img, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(buildinfo_read(img, &bi), 0);
	assert_string_equal(bi.source, "buildinfo");

	line = strtok_r(out, "\n", &save);
	assert_non_null(line);
	assert_non_null(strstr(line, ": "));
	assert_string_equal(strstr(line, ": ") + 2, bi.go_version);
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		char *f[5] = { 0 };
		int nf = 0;
		char *p = line + 1, *tok_save = NULL;

		assert_int_equal(line[0], '\t');
		for (char *t = strtok_r(p, "\t", &tok_save); t && nf < 5;
		     t = strtok_r(NULL, "\t", &tok_save))
			f[nf++] = t;
		if (strcmp(f[0], "path") == 0) {
			assert_string_equal(bi.path, f[1]);
		} else if (strcmp(f[0], "mod") == 0) {
			assert_string_equal(bi.main.path, f[1]);
			assert_string_equal(bi.main.version, f[2]);
			assert_string_equal(bi.main.sum, nf > 3 ? f[3] : "");
		} else if (strcmp(f[0], "dep") == 0) {
			assert_true(ndeps < bi.ndeps);
			assert_string_equal(bi.deps[ndeps].path, f[1]);
			assert_string_equal(bi.deps[ndeps].version, f[2]);
			assert_string_equal(bi.deps[ndeps].sum, nf > 3 ? f[3] : "");
			ndeps++;
		} else if (strcmp(f[0], "build") == 0) {
			char *eq = strchr(f[1], '=');

			assert_non_null(eq);
			*eq = 0;
			assert_true(nsettings < bi.nsettings);
			assert_string_equal(bi.settings[nsettings].key, f[1]);
			assert_string_equal(bi.settings[nsettings].value, eq + 1);
			nsettings++;
		}
	}
	assert_int_equal(ndeps, bi.ndeps);
	assert_int_equal(nsettings, bi.nsettings);
	print_message("  %s: %s, %zu deps, %zu settings, as go version -m\n", rel,
		      bi.go_version, ndeps, nsettings);
	buildinfo_free(&bi);
	elfimg_close(img);
	free(out);
}

static void test_real_hello(void **state)
{
	(void)state;
	check_go_version_m("build/fixtures/hello");
}

static void test_real_hello_pie(void **state)
{
	(void)state;
	check_go_version_m("build/fixtures/hello-pie");
}

static void test_real_hello_386(void **state)
{
	(void)state;
	check_go_version_m("build/fixtures/hello-386");
}

static void test_real_caddy(void **state)
{
	(void)state;
	check_go_version_m("/usr/bin/caddy");
}

static void test_real_go114(void **state)
{
	(void)state;
	check_go_version_m(".cache/testbins/esbuild-0.5.26/esbuild");
}

static void test_real_go117(void **state)
{
	(void)state;
	check_go_version_m(".cache/testbins/esbuild-0.13.15/esbuild");
}

static void test_real_go120(void **state)
{
	(void)state;
	check_go_version_m(".cache/testbins/esbuild-0.17.19/esbuild");
}

static void test_real_go123(void **state)
{
	(void)state;
	check_go_version_m(".cache/testbins/esbuild-0.25.12/esbuild");
}

/*
 * esbuild 0.27+ carries no build info; the release notes name the
 * toolchains (go1.25.7, go1.26.5), and the runtime's version string must
 * be found through its string header.
 */
static void check_no_buildinfo(const char *rel, const char *want)
{
	char path[PATH_MAX], err[256];
	struct elfimg *img = NULL;
	struct buildinfo bi;

	TU_REQUIRE(tu_fixture(rel, path, sizeof(path)), rel);
	if (elfimg_open(path, &img, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(buildinfo_read(img, &bi), 0);
	assert_string_equal(bi.go_version, want);
	assert_string_equal(bi.source, "runtime.buildVersion");
	buildinfo_free(&bi);
	elfimg_close(img);
}

static void test_real_go125(void **state)
{
	(void)state;
	check_no_buildinfo(".cache/testbins/esbuild-0.27.7/esbuild", "go1.25.7");
}

static void test_real_go126(void **state)
{
	(void)state;
	check_no_buildinfo(".cache/testbins/esbuild-0.28.2/esbuild", "go1.26.5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_goversion_parse),
		cmocka_unit_test(test_modinfo_sentinels),
		cmocka_unit_test(test_modinfo_plain),
		cmocka_unit_test(test_modinfo_edges),
		cmocka_unit_test(test_modinfo_prefixes),
		cmocka_unit_test(test_read_inline),
		cmocka_unit_test(test_read_pointer),
		cmocka_unit_test(test_read_scan),
		cmocka_unit_test(test_read_truncated_header),
		cmocka_unit_test(test_read_fallback),
		cmocka_unit_test(test_read_nothing),
		cmocka_unit_test(test_read_damaged),
		cmocka_unit_test(test_real_hello),
		cmocka_unit_test(test_real_hello_pie),
		cmocka_unit_test(test_real_hello_386),
		cmocka_unit_test(test_real_caddy),
		cmocka_unit_test(test_real_go114),
		cmocka_unit_test(test_real_go117),
		cmocka_unit_test(test_real_go120),
		cmocka_unit_test(test_real_go123),
		cmocka_unit_test(test_real_go125),
		cmocka_unit_test(test_real_go126),
	};

	return cmocka_run_group_tests_name("buildinfo", tests, NULL, NULL);
}
