/*
 * test_uprobe: where collect/uprobe puts a Go function's probes, checked
 * on the Go 1.19 fixtures (amd64, amd64 PIE, arm64) against the raw bytes
 * of the file, located through the program headers read with libelf here
 * (not through goscope's elfimg): the entry site right after the stack
 * check's conditional branch (amd64 JBE: 0f 86 rel32 or 76 rel8; arm64
 * B.LS), each exit site a RET (amd64 c3, arm64 d65f03c0), and the file
 * offset of each site the one the PT_LOAD segment gives.
 */
#include "testutil.h"

#include <fcntl.h>
#include <gelf.h>

#include "collect/uprobe.h"
#include "gobin/gobin.h"

/* File offset of VADDR from PATH's PT_LOAD headers (libelf), or -1. */
static long long phdr_offset(const char *path, uint64_t vaddr)
{
	int fd = open(path, O_RDONLY);
	long long off = -1;
	size_t n = 0;
	Elf *e;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	assert_int_equal(elf_getphdrnum(e, &n), 0);
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz)
			off = (long long)(vaddr - ph.p_vaddr + ph.p_offset);
	}
	elf_end(e);
	close(fd);
	return off;
}

static void check_fixture(const char *rel, bool arm64)
{
	char path[PATH_MAX], err[512];
	struct gobin *gb = NULL;
	struct uprobe_func f;
	uint64_t off;
	size_t len = 0;
	const uint8_t *file;
	long long want;

	TU_REQUIRE(tu_fixture(rel, path, sizeof(path)), rel);
	if (gobin_open(path, &gb, err, sizeof(err)) != 0)
		fail_msg("gobin_open %s: %s", path, err);
	file = elfimg_file(gb->img, &len);
	if (uprobe_func_by_name(gb, "main.main", &f, err, sizeof(err)) != 0)
		fail_msg("main.main: %s", err);
	assert_true(f.sites.prologue);
	assert_true(f.sites.entry > f.entry && f.sites.entry < f.end);
	assert_true(f.sites.nrets >= 1);
	assert_int_equal(uprobe_func_nsites(&f), 1 + f.sites.nrets + f.sites.ntails);

	assert_true(uprobe_file_offset(gb, f.sites.entry, &off));
	want = phdr_offset(path, f.sites.entry);
	assert_true(want >= 8);
	assert_int_equal((long long)off, want);
	if (arm64) {
		/* B.cond: 0101010 0 imm19 0 cond, LS = 0b1001 */
		uint32_t w = (uint32_t)file[off - 4] | (uint32_t)file[off - 3] << 8 |
			     (uint32_t)file[off - 2] << 16 | (uint32_t)file[off - 1] << 24;

		assert_int_equal(w & 0xff00001f, 0x54000009);
	} else {
		assert_true((file[off - 6] == 0x0f && file[off - 5] == 0x86) || file[off - 2] == 0x76);
	}
	for (size_t i = 0; i < f.sites.nrets; i++) {
		assert_true(uprobe_file_offset(gb, f.sites.rets[i], &off));
		assert_int_equal((long long)off, phdr_offset(path, f.sites.rets[i]));
		if (arm64)
			assert_true(file[off] == 0xc0 && file[off + 1] == 0x03 && file[off + 2] == 0x5f &&
				    file[off + 3] == 0xd6);
		else
			assert_int_equal(file[off], 0xc3);
	}
	uprobe_func_free(&f);

	assert_int_equal(uprobe_func_by_name(gb, "main.noSuchFunction", &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no function main.noSuchFunction"));
	assert_false(uprobe_file_offset(gb, 0x10, &off));
	gobin_close(gb);
}

static void test_amd64(void **state)
{
	(void)state;
	check_fixture("build/fixtures/hello", false);
}

static void test_amd64_pie(void **state)
{
	(void)state;
	check_fixture("build/fixtures/hello-pie", false);
}

static void test_arm64(void **state)
{
	(void)state;
	check_fixture("build/fixtures/hello-arm64", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amd64),
		cmocka_unit_test(test_amd64_pie),
		cmocka_unit_test(test_arm64),
	};

	return cmocka_run_group_tests_name("uprobe", tests, NULL, NULL);
}
