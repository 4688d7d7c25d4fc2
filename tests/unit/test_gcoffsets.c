/*
 * test_gcoffsets: what `goscope gc` reads in the runtime, checked against
 * independent truth in the Go 1.19 fixtures (amd64, amd64 PIE, arm64):
 * the per-release table of runtime.work / runtime.gcController / runtime.m
 * offsets equals what DWARF says for every field; runtime.work and
 * runtime.gcController decoded from runtime.gcMarkTermination (as in a
 * stripped binary) and read from the symbol table are where `go tool nm`
 * puts them; work.cycles decoded from runtime.gcWaitOnMark (amd64, any
 * layout) is runtime.work plus DWARF's offset of cycles; a function's file offset maps back to its address; and Go
 * 1.19 has no stwReasonStrings (1.21+). On the released stripped binaries
 * of Go 1.17 to 1.26 (esbuild, buf, tsgo), the table's offsets decode one
 * runtime.work whose cycles field is where gcWaitOnMark loads it.
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

/*
 * The table on the released, stripped binaries (scripts/testbins.sh): the
 * offsets of each release find one runtime.work in gcMarkTermination (as
 * `goscope gc` does), and its cycles field is where gcWaitOnMark's first
 * 32-bit load goes, found without any layout; gcController is found
 * outside runtime.work's words. (The values behind them are checked
 * against gctrace by test_gc_esbuild.)
 */
static void test_released(void **state)
{
	static const struct {
		const char *rel;
		int minor;
	} bins[] = {
		{ ".cache/testbins/esbuild-0.13.15/esbuild", 17 },
		{ ".cache/testbins/esbuild-0.14.49/esbuild", 18 },
		{ ".cache/testbins/esbuild-0.17.19/esbuild", 20 },
		{ ".cache/testbins/buf-1.28.1/buf", 21 },
		{ ".cache/testbins/esbuild-0.22.0/esbuild", 22 },
		{ ".cache/testbins/esbuild-0.25.12/esbuild", 23 },
		{ ".cache/testbins/tsgo-7.0.0-dev.20250707.2/tsgo", 24 },
		{ ".cache/testbins/esbuild-0.27.7/esbuild", 25 },
		{ ".cache/testbins/esbuild-0.28.2/esbuild", 26 },
	};
	size_t checked = 0;

	(void)state;
	for (size_t b = 0; b < sizeof(bins) / sizeof(bins[0]); b++) {
		char path[PATH_MAX], err[512], why[256];
		struct goruntime_gc_offsets tab;
		struct gobin *gb = NULL;
		uint64_t work, gcc, cycles;
		int offs[GCF_N], wmax = 0;
		size_t n = 0;

		if (!tu_fixture(bins[b].rel, path, sizeof(path)))
			continue;
		if (gobin_open(path, &gb, err, sizeof(err)) != 0)
			fail_msg("gobin_open %s: %s", path, err);
		assert_int_equal(gb->go_minor, bins[b].minor);
		assert_false(gb->dwarf);
		assert_true(goruntime_gc_offsets_table(gb->go_minor, &tab));
		for (int i = 0; i < GCF_N; i++)
			if (goruntime_gc_fields[i].var == GCV_WORK && tab.off[i] >= 0) {
				offs[n++] = tab.off[i];
				if (tab.off[i] > wmax)
					wmax = tab.off[i];
			}
		if (!goglobals_struct_base(gb, "runtime.gcMarkTermination", offs, n, 3, &work, why,
					   sizeof(why)))
			fail_msg("%s: runtime.work not decoded: %s", bins[b].rel, why);
		if (!goglobals_gc_cycles(gb, &cycles, why, sizeof(why)))
			fail_msg("%s: work.cycles not decoded: %s", bins[b].rel, why);
		if (cycles != work + (uint64_t)tab.off[GCF_CYCLES])
			fail_msg("%s: work.cycles at %#llx, table says %#llx", bins[b].rel,
				 (unsigned long long)cycles,
				 (unsigned long long)(work + (uint64_t)tab.off[GCF_CYCLES]));
		n = 0;
		for (int i = 0; i < GCF_N; i++)
			if (goruntime_gc_fields[i].var == GCV_GCCONTROLLER && tab.off[i] >= 0)
				offs[n++] = tab.off[i];
		if (!goglobals_struct_base_excl(gb, "runtime.gcMarkTermination", offs, n, 3, work,
						work + (uint64_t)wmax + 8 + 256, &gcc, why,
						sizeof(why)))
			fail_msg("%s: runtime.gcController not decoded: %s", bins[b].rel, why);
		assert_true(gcc != work);
		gobin_close(gb);
		checked++;
	}
	TU_REQUIRE(checked > 0, "no released test binaries (scripts/testbins.sh)");
	print_message("  %zu released binaries\n", checked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amd64),
		cmocka_unit_test(test_amd64_pie),
		cmocka_unit_test(test_arm64),
		cmocka_unit_test(test_released),
	};

	return cmocka_run_group_tests_name("gcoffsets", tests, NULL, NULL);
}
