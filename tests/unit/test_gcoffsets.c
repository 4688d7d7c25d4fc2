/*
 * test_gcoffsets: what `goscope gc` reads in the runtime, checked against
 * independent truth in the Go 1.19 fixtures (amd64, amd64 PIE, arm64):
 * the per-release table of runtime.work / runtime.gcController / runtime.m
 * offsets equals what DWARF says for every field; runtime.work and
 * runtime.gcController decoded from runtime.gcMarkTermination (as in a
 * stripped binary) and read from the symbol table are where `go tool nm`
 * puts them; work.cycles decoded from runtime.gcWaitOnMark (amd64, any
 * layout) is runtime.work plus DWARF's offset of cycles; a function's file offset maps back to its address; and Go
 * 1.19 has no stwReasonStrings (1.21+).
 */
#include "testutil.h"

#include "gobin/gobin.h"
#include "gobin/goglobals.h"
#include "gobin/goruntime.h"

static uint64_t nm_addr(const char *path, const char *sym)
{
	char cmd[PATH_MAX + 128], *out, *line, *save = NULL;
	uint64_t addr = 0;

	snprintf(cmd, sizeof(cmd), "go tool nm '%s'", path);
	out = tu_run(cmd);
	assert_non_null(out);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a;
		char type, name[256];

		if (sscanf(line, " %llx %c %255s", &a, &type, name) == 3 && strcmp(name, sym) == 0)
			addr = a;
	}
	free(out);
	return addr;
}

static void check_fixture(const char *rel)
{
	char path[PATH_MAX], err[512], why[256];
	struct goruntime_gc_offsets dw, tab;
	struct goglobals_waitreasons stw;
	struct gobin *gb = NULL;
	int offs[GCF_N];
	size_t n;
	uint64_t a, off, entry, end;
	int64_t delta;

	TU_REQUIRE(tu_fixture(rel, path, sizeof(path)), rel);
	TU_REQUIRE(tu_have("go"), "no go toolchain");
	if (gobin_open(path, &gb, err, sizeof(err)) != 0)
		fail_msg("gobin_open %s: %s", path, err);
	assert_int_equal(gb->go_minor, 19);
	assert_true(goruntime_gc_offsets_dwarf(gb->img, &dw));
	assert_true(goruntime_gc_offsets_table(19, &tab));
	for (int i = 0; i < GCF_N; i++)
		if (dw.off[i] != tab.off[i])
			fail_msg("%s: %s: DWARF %d, table %d", rel, goruntime_gc_fields[i].name,
				 dw.off[i], tab.off[i]);
	/*
	 * Releases measured on stripped esbuild, buf (1.21) and tsgo (1.24)
	 * binaries (test_gc_esbuild); the others unknown.
	 */
	for (int m = 16; m <= 27; m++)
		assert_int_equal(goruntime_gc_offsets_table(m, &tab), m >= 17 && m <= 26);
	assert_true(goruntime_gc_offsets_table(23, &tab));
	assert_int_equal(tab.off[GCF_HEAP0] - tab.off[GCF_TSWEEPTERM], 40); /* no pauseNS */
	assert_true(goruntime_gc_offsets_table(24, &tab));
	assert_int_equal(tab.off[GCF_HEAP0] - tab.off[GCF_TSWEEPTERM], 40);
	assert_true(goruntime_gc_offsets_table(21, &tab)); /* pauseNS still there */
	assert_int_equal(tab.off[GCF_HEAP0] - tab.off[GCF_TSWEEPTERM], 48);
	assert_int_equal(tab.off[GCF_USERFORCED], 288);   /* as 1.20: no totaltime */
	assert_true(goruntime_gc_offsets_table(18, &tab));
	assert_int_equal(tab.off[GCF_USERFORCED], 280);   /* as 1.19 */
	assert_int_equal(tab.off[GCF_MAXSTACKSCAN], 160); /* 1.18's stackScan */
	assert_int_equal(tab.off[GCF_HEAPGOAL], 128);

	for (int v = GCV_WORK; v <= GCV_GCCONTROLLER; v++) {
		const char *sym = v == GCV_WORK ? "runtime.work" : "runtime.gcController";
		uint64_t want = nm_addr(path, sym);

		n = 0;
		for (int i = 0; i < GCF_N; i++)
			if (goruntime_gc_fields[i].var == (enum goruntime_gcvar)v)
				offs[n++] = dw.off[i];
		if (!goglobals_struct_base(gb, "runtime.gcMarkTermination", offs, n, 3, &a, why,
					   sizeof(why)))
			fail_msg("%s: %s not decoded: %s", rel, sym, why);
		assert_int_equal(a, want);
		assert_true(elfimg_symbol(gb->img, sym, &a, NULL));
		assert_int_equal(a, want);
	}
	assert_false(elfimg_symbol(gb->img, "runtime.noSuchSymbolHere", &a, NULL));

	/* A function's file offset and back (uprobes are placed by offset). */
	{
		size_t nf = pclntab_nfunc(gb->pcln);
		struct pclntab_func f;

		assert_true(nf > 0);
		assert_true(pclntab_func_at(gb->pcln, nf / 2, &f));
		entry = f.entry;
		end = f.end;
		assert_true(end > entry);
		assert_true(elfimg_vaddr_offset(gb->img, entry, &off));
		assert_true(elfimg_offset_delta(gb->img, off, &delta));
		assert_int_equal(off + (uint64_t)delta, entry);
	}
	assert_int_equal(goglobals_stwreasons(gb, &stw), 0);
	/*
	 * work.cycles found without any layout: runtime.work + DWARF's offset
	 * (hello never calls runtime.GC, so gcWaitOnMark is linked out: then
	 * it must say so; test_gc_esbuild checks the numbers on five releases).
	 */
	if (gb->arch == ELFIMG_ARCH_AMD64 && goglobals_gc_cycles(gb, &a, why, sizeof(why)))
		assert_int_equal(a, nm_addr(path, "runtime.work") + (uint64_t)dw.off[GCF_CYCLES]);
	else if (gb->arch == ELFIMG_ARCH_AMD64)
		assert_non_null(strstr(why, "gcWaitOnMark"));
	gobin_close(gb);
}

static void test_amd64(void **state)
{
	(void)state;
	check_fixture("build/fixtures/hello");
}

static void test_amd64_pie(void **state)
{
	(void)state;
	check_fixture("build/fixtures/hello-pie");
}

static void test_arm64(void **state)
{
	(void)state;
	check_fixture("build/fixtures/hello-arm64");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amd64),
		cmocka_unit_test(test_amd64_pie),
		cmocka_unit_test(test_arm64),
	};

	return cmocka_run_group_tests_name("gcoffsets", tests, NULL, NULL);
}
