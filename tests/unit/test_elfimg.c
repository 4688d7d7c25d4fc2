/*
 * test_elfimg: the ELF view on images whose every header the test wrote
 * (sections, segments, byte order, class, relocations), on damaged ones,
 * and on real binaries compared with what readelf says.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>

#include "gobin/elfimg.h"

static struct elfimg *open_image(const uint8_t *buf, size_t len)
{
	struct elfimg *img = NULL;
	char err[256];

	if (elfimg_open_mem(buf, len, &img, err, sizeof(err)) != 0)
		fail_msg("elfimg_open_mem: %s", err);
	return img;
}

static const uint8_t text_bytes[] = { 0x55, 0x48, 0x89, 0xe5, 0xc3, 0x90, 0x90, 0x90 };
static const char rodata_bytes[] = "0123456789abcdefghijklmnopqrstuvwxyz";

/* ---- a plain 64-bit executable --------------------------------------- */

static void test_sections_and_segments(void **state)
{
	uint8_t data[64];
	const struct tu_elf_sec secs[] = {
		{ ".text", 0, SHF_ALLOC | SHF_EXECINSTR, 0x401000, text_bytes, sizeof(text_bytes) },
		{ ".rodata", 0, SHF_ALLOC, 0x480000, rodata_bytes, sizeof(rodata_bytes) },
		{ ".data", 0, SHF_ALLOC | SHF_WRITE, 0x500000, data, sizeof(data) },
		{ ".bss", SHT_NOBITS, SHF_ALLOC | SHF_WRITE, 0x500040, NULL, 0x1000 },
		{ ".debug_info", 0, 0, 0, "dwarf", 5 },
		{ ".symtab", SHT_SYMTAB, 0, 0, NULL, 24 },
	};
	const struct tu_elf e = { .secs = secs, .nsecs = 6, .entry = 0x401000 };
	uint64_t off[6], v, o;
	const struct elfimg_section *s;
	struct elfimg *img;
	uint8_t *buf;
	const uint8_t *p;
	size_t len, flen;
	int64_t delta;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0xa0 + i);
	buf = tu_elf_build(&e, &len, off);
	img = open_image(buf, len);

	assert_int_equal(elfimg_arch(img), ELFIMG_ARCH_AMD64);
	assert_string_equal(elfimg_arch_name(elfimg_arch(img)), "amd64");
	assert_int_equal(elfimg_ptrsize(img), 8);
	assert_false(elfimg_big_endian(img));
	assert_false(elfimg_is_pie(img));
	assert_true(elfimg_is_static(img));
	assert_true(elfimg_has_symtab(img));
	assert_true(elfimg_has_dwarf(img));
	assert_non_null(elfimg_elf(img));
	assert_non_null(elfimg_file(img, &flen));
	assert_int_equal(flen, len);

	/* Sections 1..n: ours, then .shstrtab (the null section is skipped). */
	assert_int_equal(elfimg_nsections(img), 7);
	assert_string_equal(elfimg_section_at(img, 0)->name, ".text");
	assert_string_equal(elfimg_section_at(img, 6)->name, ".shstrtab");
	assert_null(elfimg_section_at(img, 7));
	assert_null(elfimg_section(img, ".gopclntab"));
	assert_null(elfimg_section(img, ".tex"));
	s = elfimg_section(img, ".rodata");
	assert_non_null(s);
	assert_int_equal(s->addr, 0x480000);
	assert_int_equal(s->size, sizeof(rodata_bytes));
	assert_int_equal(s->offset, off[1]);
	assert_int_equal(s->flags, SHF_ALLOC);
	assert_int_equal(s->type, SHT_PROGBITS);
	assert_memory_equal(elfimg_section_data(img, s), rodata_bytes, sizeof(rodata_bytes));
	s = elfimg_section(img, ".bss");
	assert_non_null(s);
	assert_int_equal(s->type, SHT_NOBITS);
	assert_null(elfimg_section_data(img, s));

	/* By virtual address, through the PT_LOAD segments. */
	p = elfimg_vptr(img, 0x401000, sizeof(text_bytes));
	assert_non_null(p);
	assert_memory_equal(p, text_bytes, sizeof(text_bytes));
	p = elfimg_vptr(img, 0x480000 + 10, 26);
	assert_non_null(p);
	assert_memory_equal(p, "abcdefghijklmnopqrstuvwxyz", 26);
	assert_null(elfimg_vptr(img, 0x480000 + 10, 28)); /* one past the segment */
	assert_null(elfimg_vptr(img, 0x47ffff, 1));
	assert_null(elfimg_vptr(img, 0x500040, 1)); /* .bss: no file bytes */
	assert_null(elfimg_vptr(img, UINT64_MAX, 1));
	assert_null(elfimg_vptr(img, 0x401000, SIZE_MAX));
	assert_int_equal(elfimg_vavail(img, 0x480000), sizeof(rodata_bytes));
	assert_int_equal(elfimg_vavail(img, 0x480000 + 30), sizeof(rodata_bytes) - 30);
	assert_int_equal(elfimg_vavail(img, 0x480000 + sizeof(rodata_bytes)), 0);
	assert_int_equal(elfimg_vavail(img, 0), 0);

	/* Pointer-sized words: little-endian, no relocations in an EXEC. */
	assert_true(elfimg_read_ptr(img, 0x500000, &v));
	assert_int_equal(v, 0xa7a6a5a4a3a2a1a0ull);
	assert_true(elfimg_read_ptr(img, 0x500000 + 56, &v));
	assert_false(elfimg_read_ptr(img, 0x500000 + 57, &v));
	assert_int_equal(elfimg_u16(img, data), 0xa1a0);
	assert_int_equal(elfimg_u32(img, data), 0xa3a2a1a0u);
	assert_int_equal(elfimg_u64(img, data), 0xa7a6a5a4a3a2a1a0ull);
	assert_int_equal(elfimg_uptr(img, data), 0xa7a6a5a4a3a2a1a0ull);

	/* Load addresses. */
	assert_true(elfimg_first_load(img, &v, &o));
	assert_int_equal(v, 0x401000);
	assert_int_equal(o, off[0]);
	assert_true(elfimg_offset_delta(img, off[1] + 3, &delta));
	assert_int_equal(delta, (int64_t)(0x480000 - off[1]));
	assert_false(elfimg_offset_delta(img, len + 100, &delta));

	elfimg_close(img);
	free(buf);
}

/* ---- byte order and class -------------------------------------------- */

static void test_big_endian_32(void **state)
{
	static const uint8_t words[] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	const struct tu_elf_sec secs[] = {
		{ ".data", 0, SHF_ALLOC | SHF_WRITE, 0x10000, words, sizeof(words) },
	};
	const struct tu_elf e = { .cls = ELFCLASS32, .big_endian = true, .machine = EM_PPC,
				  .secs = secs, .nsecs = 1 };
	struct elfimg *img;
	uint64_t v;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = tu_elf_build(&e, &len, NULL);
	img = open_image(buf, len);
	assert_int_equal(elfimg_ptrsize(img), 4);
	assert_true(elfimg_big_endian(img));
	assert_int_equal(elfimg_arch(img), ELFIMG_ARCH_OTHER);
	assert_string_equal(elfimg_arch_name(elfimg_arch(img)), "unknown");
	assert_int_equal(elfimg_u16(img, words), 0x1122);
	assert_int_equal(elfimg_u32(img, words), 0x11223344u);
	assert_int_equal(elfimg_u64(img, words), 0x1122334455667788ull);
	assert_int_equal(elfimg_uptr(img, words), 0x11223344u);
	assert_true(elfimg_read_ptr(img, 0x10004, &v));
	assert_int_equal(v, 0x55667788u);
	assert_false(elfimg_read_ptr(img, 0x10005, &v));
	assert_string_equal(elfimg_section(img, ".data")->name, ".data");
	assert_int_equal(elfimg_section(img, ".data")->addr, 0x10000);
	elfimg_close(img);
	free(buf);
}

static void test_arches(void **state)
{
	static const struct {
		uint16_t machine;
		int cls;
		enum elfimg_arch arch;
		const char *name;
	} cases[] = {
		{ EM_X86_64, ELFCLASS64, ELFIMG_ARCH_AMD64, "amd64" },
		{ EM_AARCH64, ELFCLASS64, ELFIMG_ARCH_ARM64, "arm64" },
		{ EM_386, ELFCLASS32, ELFIMG_ARCH_386, "386" },
		{ EM_ARM, ELFCLASS32, ELFIMG_ARCH_ARM, "arm" },
		{ EM_RISCV, ELFCLASS64, ELFIMG_ARCH_OTHER, "unknown" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tu_elf_sec secs[] = {
			{ ".text", 0, SHF_ALLOC | SHF_EXECINSTR, 0x10000, text_bytes, 8 },
		};
		const struct tu_elf e = { .cls = cases[i].cls, .machine = cases[i].machine,
					  .secs = secs, .nsecs = 1 };
		struct elfimg *img;
		uint8_t *buf;
		size_t len;

		buf = tu_elf_build(&e, &len, NULL);
		img = open_image(buf, len);
		assert_int_equal(elfimg_arch(img), cases[i].arch);
		assert_string_equal(elfimg_arch_name(elfimg_arch(img)), cases[i].name);
		assert_int_equal(elfimg_ptrsize(img), cases[i].cls == ELFCLASS64 ? 8 : 4);
		elfimg_close(img);
		free(buf);
	}
	assert_string_equal(elfimg_arch_name(ELFIMG_ARCH_UNKNOWN), "unknown");
}

/* ---- PIE relocations ------------------------------------------------- */

static void check_relocs(uint16_t machine, uint32_t relative)
{
	struct tu_buf rela = { 0 };
	uint8_t data[48];
	/* Stored words: 1, 2, 3, 4, 5, 6; relocations for words 4, 0, 2 and a
	 * non-RELATIVE one for word 5. */
	static const uint64_t targets[] = { 0x500020, 0x500000, 0x500010 };
	static const uint64_t addends[] = { 0xdead0020, 0xdead0000, 0xdead0010 };
	struct elfimg *img;
	uint64_t v;
	uint8_t *buf;
	size_t len;

	for (int i = 0; i < 6; i++) {
		struct tu_buf w = { .p = data, .len = 0, .cap = sizeof(data) };

		tu_set(&w, (size_t)i * 8, (uint64_t)i + 1, 8);
	}
	for (int i = 0; i < 3; i++) {
		tu_u64(&rela, targets[i]);
		tu_u64(&rela, relative);
		tu_u64(&rela, addends[i]);
	}
	tu_u64(&rela, 0x500028);
	tu_u64(&rela, relative + 1);
	tu_u64(&rela, 0xbad);

	const struct tu_elf_sec secs[] = {
		{ ".rela.dyn", SHT_RELA, SHF_ALLOC, 0x400400, rela.p, rela.len },
		{ ".data", 0, SHF_ALLOC | SHF_WRITE, 0x500000, data, sizeof(data) },
	};
	const struct tu_elf e = { .type = ET_DYN, .machine = machine, .secs = secs, .nsecs = 2 };

	buf = tu_elf_build(&e, &len, NULL);
	img = open_image(buf, len);
	assert_true(elfimg_is_pie(img));
	for (int i = 0; i < 6; i++) {
		uint64_t want = (uint64_t)i + 1;

		for (int r = 0; r < 3; r++)
			if (targets[r] == 0x500000 + (uint64_t)i * 8)
				want = addends[r];
		assert_true(elfimg_read_ptr(img, 0x500000 + (uint64_t)i * 8, &v));
		assert_int_equal(v, want);
	}
	/* Unaligned reads see the stored bytes. */
	assert_true(elfimg_read_ptr(img, 0x500001, &v));
	assert_int_equal(v, 0x0200000000000000ull);
	elfimg_close(img);
	free(buf);
	tu_buf_free(&rela);
}

static void test_relocs_amd64(void **state)
{
	(void)state;
	check_relocs(EM_X86_64, 8 /* R_X86_64_RELATIVE */);
}

static void test_relocs_arm64(void **state)
{
	(void)state;
	check_relocs(EM_AARCH64, 1027 /* R_AARCH64_RELATIVE */);
}

/* ---- static or dynamic ----------------------------------------------- */

static void test_static_dynamic(void **state)
{
	uint8_t dyn_needed[32] = { 0 }, dyn_none[32] = { 0 };
	struct tu_buf w = { .p = dyn_needed, .cap = 32 };

	(void)state;
	tu_set(&w, 0, DT_NEEDED, 8);
	tu_set(&w, 8, 1, 8);
	for (int variant = 0; variant < 3; variant++) {
		const struct tu_elf_sec with_interp[] = {
			{ ".interp", 0, SHF_ALLOC, 0x400200, "/lib64/ld-linux-x86-64.so.2", 28 },
		};
		const struct tu_elf_sec with_needed[] = {
			{ ".dynamic", SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE, 0x500000, dyn_needed, 32 },
		};
		const struct tu_elf_sec with_nothing[] = {
			{ ".dynamic", SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE, 0x500000, dyn_none, 32 },
		};
		const struct tu_elf e = {
			.secs = variant == 0 ? with_interp : variant == 1 ? with_needed : with_nothing,
			.nsecs = 1,
		};
		struct elfimg *img;
		uint8_t *buf;
		size_t len;

		buf = tu_elf_build(&e, &len, NULL);
		img = open_image(buf, len);
		assert_int_equal(elfimg_is_static(img), variant == 2);
		elfimg_close(img);
		free(buf);
	}
}

/* ---- damaged and odd images ----------------------------------------- */

static void test_no_section_headers(void **state)
{
	const struct tu_elf_sec secs[] = {
		{ ".rodata", 0, SHF_ALLOC, 0x480000, rodata_bytes, sizeof(rodata_bytes) },
	};
	const struct tu_elf e = { .secs = secs, .nsecs = 1, .no_sections = true };
	struct elfimg *img;
	const uint8_t *p;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = tu_elf_build(&e, &len, NULL);
	img = open_image(buf, len);
	assert_int_equal(elfimg_nsections(img), 0);
	assert_null(elfimg_section(img, ".rodata"));
	assert_false(elfimg_has_symtab(img));
	assert_false(elfimg_has_dwarf(img));
	p = elfimg_vptr(img, 0x480000, 10);
	assert_non_null(p);
	assert_memory_equal(p, "0123456789", 10);
	elfimg_close(img);
	free(buf);
}

/* No program headers: addresses come from the allocated sections. */
static void test_no_segments(void **state)
{
	const struct tu_elf_sec secs[] = {
		{ ".rodata", 0, SHF_ALLOC, 0x480000, rodata_bytes, sizeof(rodata_bytes) },
		{ ".comment", 0, 0, 0x490000, "not loaded", 10 },
	};
	const struct tu_elf_seg none[1] = { { 0 } };
	const struct tu_elf e = { .secs = secs, .nsecs = 2, .segs = none, .nsegs = 0 };
	struct elfimg *img;
	uint64_t v, o;
	int64_t d;
	const uint8_t *p;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = tu_elf_build(&e, &len, NULL);
	img = open_image(buf, len);
	p = elfimg_vptr(img, 0x480000 + 4, 4);
	assert_non_null(p);
	assert_memory_equal(p, "4567", 4);
	assert_int_equal(elfimg_vavail(img, 0x480000), sizeof(rodata_bytes));
	assert_null(elfimg_vptr(img, 0x490000, 1)); /* not SHF_ALLOC */
	assert_false(elfimg_first_load(img, &v, &o));
	assert_false(elfimg_offset_delta(img, 0, &d));
	elfimg_close(img);
	free(buf);
}

/* Segments that claim more of the file than there is are clamped. */
static void test_oversized_segments(void **state)
{
	const struct tu_elf_sec secs[] = {
		{ ".rodata", 0, SHF_ALLOC, 0x480000, rodata_bytes, sizeof(rodata_bytes) },
	};
	const struct tu_elf_seg segs[] = {
		{ PT_LOAD, 0, 0, 0x480000, 1ull << 40, 1ull << 40 },     /* runs off the file */
		{ PT_LOAD, -1, 1ull << 50, 0x900000, 16, 16 },           /* starts past it */
		{ PT_LOAD, -1, UINT64_MAX - 8, 0xa00000, 64, 64 },       /* offset + size wraps */
		{ PT_LOAD, -1, 2, UINT64_MAX - 4, 64, 64 },              /* vaddr + size wraps */
	};
	const struct tu_elf e = { .secs = secs, .nsecs = 1, .segs = segs, .nsegs = 4 };
	struct elfimg *img;
	uint64_t off[1], v;
	size_t len, flen;
	uint8_t *buf;

	(void)state;
	buf = tu_elf_build(&e, &len, off);
	img = open_image(buf, len);
	elfimg_file(img, &flen);
	assert_non_null(elfimg_vptr(img, 0x480000, sizeof(rodata_bytes)));
	assert_int_equal(elfimg_vavail(img, 0x480000), flen - off[0]);
	assert_null(elfimg_vptr(img, 0x480000, flen - off[0] + 1));
	assert_null(elfimg_vptr(img, 0x900000, 1));
	assert_int_equal(elfimg_vavail(img, 0x900000), 0);
	assert_null(elfimg_vptr(img, 0xa00000, 1));
	assert_false(elfimg_read_ptr(img, 0xa00000, &v));
	/* Wrapping addresses still map only to bytes inside the file. */
	assert_true(elfimg_vavail(img, UINT64_MAX - 2) <= flen - 2);
	elfimg_close(img);
	free(buf);
}

static void test_open_errors(void **state)
{
	char err[512], path[] = "/tmp/goscope-elfimg-XXXXXX";
	struct elfimg *img = (struct elfimg *)1;
	const struct tu_elf_sec secs[] = {
		{ ".text", 0, SHF_ALLOC | SHF_EXECINSTR, 0x10000, text_bytes, 8 },
	};
	uint8_t *buf;
	size_t len;
	int fd;

	(void)state;
	assert_int_equal(elfimg_open("/nonexistent/goscope", &img, err, sizeof(err)), -1);
	assert_null(img);
	assert_non_null(strstr(err, "/nonexistent/goscope"));
	assert_non_null(strstr(err, strerror(ENOENT)));

	assert_int_equal(elfimg_open("/tmp", &img, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x7f" "ELF", 4), 4);
	close(fd);
	assert_int_equal(elfimg_open(path, &img, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too short"));
	assert_non_null(strstr(err, path));

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\necho this is not an ELF file\n", 39), 39);
	close(fd);
	assert_int_equal(elfimg_open(path, &img, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not an ELF file"));
	unlink(path);

	assert_int_equal(elfimg_open_mem("", 0, &img, err, sizeof(err)), -1);
	assert_null(img);
	assert_non_null(strstr(err, "not an ELF file"));
	assert_int_equal(elfimg_open_mem("MZ\x90\x00", 4, &img, err, sizeof(err)), -1);

	/* A relocatable object is not an executable. */
	{
		const struct tu_elf e = { .type = ET_REL, .secs = secs, .nsecs = 1 };

		buf = tu_elf_build(&e, &len, NULL);
		assert_int_equal(elfimg_open_mem(buf, len, &img, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "not an executable"));
		free(buf);
	}
	/* Unknown class byte. */
	{
		const struct tu_elf e = { .secs = secs, .nsecs = 1 };

		buf = tu_elf_build(&e, &len, NULL);
		buf[EI_CLASS] = 7;
		assert_int_equal(elfimg_open_mem(buf, len, &img, err, sizeof(err)), -1);
		assert_null(img);
		free(buf);
	}
	/* NULL error buffers are allowed. */
	assert_int_equal(elfimg_open_mem("nope", 4, &img, NULL, 0), -1);
}

/* Every prefix of a valid image, in an exact-size buffer: open or fail. */
static void test_truncated(void **state)
{
	uint8_t data[32] = { 1, 2, 3 };
	const struct tu_elf_sec secs[] = {
		{ ".text", 0, SHF_ALLOC | SHF_EXECINSTR, 0x401000, text_bytes, 8 },
		{ ".data", 0, SHF_ALLOC | SHF_WRITE, 0x500000, data, sizeof(data) },
		{ ".dynamic", SHT_DYNAMIC, SHF_ALLOC, 0x500100, data, sizeof(data) },
		{ ".rela.dyn", SHT_RELA, SHF_ALLOC, 0x500200, data, 24 },
	};
	const struct tu_elf e = { .type = ET_DYN, .secs = secs, .nsecs = 4 };
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = tu_elf_build(&e, &len, NULL);
	for (size_t n = 0; n <= len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		struct elfimg *img = NULL;
		uint64_t v;

		assert_non_null(copy);
		memcpy(copy, buf, n);
		if (elfimg_open_mem(copy, n, &img, NULL, 0) == 0) {
			for (size_t i = 0; i < elfimg_nsections(img); i++) {
				const struct elfimg_section *s = elfimg_section_at(img, i);
				const uint8_t *d = elfimg_section_data(img, s);

				if (d && s->size)
					assert_true(d[s->size - 1] == d[s->size - 1]);
			}
			elfimg_read_ptr(img, 0x500000, &v);
			elfimg_vptr(img, 0x401000, 8);
			elfimg_is_static(img);
			elfimg_close(img);
		}
		free(copy);
	}
	free(buf);
}

/* ---- real binaries against readelf ---------------------------------- */

static void check_readelf(const char *rel, bool pie, bool dwarf, bool symtab)
{
	char path[PATH_MAX], cmd[PATH_MAX + 64], err[256];
	struct elfimg *img = NULL;
	char *out, *line, *save = NULL;
	size_t nseen = 0;

	TU_REQUIRE(tu_fixture(rel, path, sizeof(path)), rel);
	TU_REQUIRE(tu_have("readelf"), "no readelf");
	if (elfimg_open(path, &img, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(elfimg_is_pie(img), pie);
	assert_int_equal(elfimg_has_dwarf(img), dwarf);
	assert_int_equal(elfimg_has_symtab(img), symtab);

	/* "  [Nr] Name Type Address Off Size ES Flg Lk Inf Al", -W: one line each. */
	snprintf(cmd, sizeof(cmd), "readelf -SW '%s'", path);
	out = tu_run(cmd);
	assert_non_null(out);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], type[32];
		unsigned long long addr, off, size;
		unsigned idx;
		const struct elfimg_section *s;

		if (sscanf(line, " [%u] %127s %31s %llx %llx %llx", &idx, name, type, &addr, &off,
			   &size) != 6 || idx == 0)
			continue;
		s = elfimg_section_at(img, idx - 1);
		assert_non_null(s);
		assert_string_equal(s->name, name);
		assert_int_equal(s->addr, addr);
		assert_int_equal(s->offset, off);
		assert_int_equal(s->size, size);
		assert_true(elfimg_section(img, name) != NULL);
		nseen++;
	}
	assert_int_equal(nseen, elfimg_nsections(img));
	assert_true(nseen > 5);
	free(out);

	/* Every allocated section with bytes reads back by address. */
	for (size_t i = 0; i < elfimg_nsections(img); i++) {
		const struct elfimg_section *s = elfimg_section_at(img, i);
		const uint8_t *d = elfimg_section_data(img, s);

		if (!(s->flags & SHF_ALLOC) || s->type == SHT_NOBITS || !s->size || !d)
			continue;
		assert_ptr_equal(elfimg_vptr(img, s->addr, (size_t)s->size), d);
	}
	print_message("  %s: %zu sections as readelf\n", rel, nseen);
	elfimg_close(img);
}

static void test_real_hello(void **state)
{
	(void)state;
	check_readelf("build/fixtures/hello", false, true, true);
}

static void test_real_stripped(void **state)
{
	(void)state;
	check_readelf("build/fixtures/hello-stripped", false, false, false);
}

static void test_real_pie(void **state)
{
	(void)state;
	check_readelf("build/fixtures/hello-pie", true, true, true);
}

static void test_real_386(void **state)
{
	(void)state;
	check_readelf("build/fixtures/hello-386", false, true, true);
}

static void test_real_caddy(void **state)
{
	(void)state;
	check_readelf("/usr/bin/caddy", false, false, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections_and_segments),
		cmocka_unit_test(test_big_endian_32),
		cmocka_unit_test(test_arches),
		cmocka_unit_test(test_relocs_amd64),
		cmocka_unit_test(test_relocs_arm64),
		cmocka_unit_test(test_static_dynamic),
		cmocka_unit_test(test_no_section_headers),
		cmocka_unit_test(test_no_segments),
		cmocka_unit_test(test_oversized_segments),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_real_hello),
		cmocka_unit_test(test_real_stripped),
		cmocka_unit_test(test_real_pie),
		cmocka_unit_test(test_real_386),
		cmocka_unit_test(test_real_caddy),
	};

	return cmocka_run_group_tests_name("elfimg", tests, NULL, NULL);
}
