/*
 * test_disasm: the uprobe sites of Go functions (gobin/disasm.c) in the
 * amd64 and arm64 hello fixtures, against `go tool objdump` of the same
 * binary as the truth: the entry probe goes right after the stack check's
 * branch to morestack (JBE on amd64, BLS on arm64) when the function has
 * that prologue and at the entry otherwise, and every RET the Go
 * disassembler lists is found, no more.
 */
#include "testutil.h"

#include <inttypes.h>

#include "gobin/disasm.h"
#include "gofixture.h"

/* What `go tool objdump` says of one function. */
struct od_truth {
	uint64_t entry;    /* after the prologue's branch, or the function's start */
	bool prologue;
	size_t nrets;
	size_t ninsns;
};

/* Parse `go tool objdump -s '^NAME$' BIN`: "  file:line\t0xADDR\tHEX\tINSN". */
static bool od_truth(const char *bin, const char *name, bool arm64, struct od_truth *t)
{
	char cmd[2 * PATH_MAX], pat[256], *out, *line, *save = NULL;
	size_t k = 0;
	bool want_next = false;

	memset(t, 0, sizeof(*t));
	/* Escape the dots of the name for the regexp. */
	for (const char *s = name; *s && k + 3 < sizeof(pat); s++) {
		if (*s == '.')
			pat[k++] = '\\';
		pat[k++] = *s;
	}
	pat[k] = 0;
	snprintf(cmd, sizeof(cmd), "go tool objdump -s '^%s$' %s", pat, bin);
	out = tu_run(cmd);
	if (!out)
		return false;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = { 0 }, *tok, *s2 = NULL;
		int nf = 0;
		uint64_t addr;

		if (strncmp(line, "TEXT ", 5) == 0)
			continue;
		for (tok = strtok_r(line, "\t", &s2); tok && nf < 4; tok = strtok_r(NULL, "\t", &s2))
			if (*tok)
				f[nf++] = tok;
		if (nf < 4 || sscanf(f[1], "0x%" SCNx64, &addr) != 1)
			continue;
		t->ninsns++;
		if (t->ninsns == 1)
			t->entry = addr;
		if (want_next) {
			t->entry = addr;
			want_next = false;
		}
		if (!t->prologue && t->ninsns <= 6 &&
		    strncmp(f[3], arm64 ? "BLS " : "JBE ", 4) == 0) {
			t->prologue = true;
			want_next = true;
		}
		if (strncmp(f[3], "RET", 3) == 0)
			t->nrets++;
	}
	free(out);
	return t->ninsns > 0;
}

static void check_fixture(const char *fixture, bool arm64)
{
	static const char *const funcs[] = { "main.main", "main.outer", "runtime.mallocgc",
					     "runtime.gopark", "runtime.chanrecv",
					     "runtime.newobject", "runtime.goexit" };
	char rel[64], bin[PATH_MAX];
	struct gobin *gb;
	size_t checked = 0;

	snprintf(rel, sizeof(rel), "build/fixtures/%s", fixture);
	TU_REQUIRE(tu_fixture(rel, bin, sizeof(bin)), "fixture missing (make fixtures)");
	TU_REQUIRE(tu_have("go"), "no go toolchain");
	gb = gf_open(fixture);
	assert_non_null(gb);
	assert_int_equal(gb->arch, arm64 ? ELFIMG_ARCH_ARM64 : ELFIMG_ARCH_AMD64);
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		struct pclntab_func f;
		struct od_truth t;
		struct disasm_sites ds;
		char err[256];

		if (!gf_func(gb, funcs[i], &f) || !od_truth(bin, funcs[i], arm64, &t))
			continue;
		if (disasm_func_sites(gb, f.entry, f.end, &ds, err, sizeof(err)) != 0)
			fail_msg("%s %s: %s", fixture, funcs[i], err);
		if (ds.entry != t.entry || ds.prologue != t.prologue || ds.nrets != t.nrets)
			fail_msg("%s %s: entry 0x%" PRIx64 " prologue %d rets %zu; objdump: entry "
				 "0x%" PRIx64 " prologue %d rets %zu",
				 fixture, funcs[i], ds.entry, ds.prologue, ds.nrets, t.entry,
				 t.prologue, t.nrets);
		assert_int_equal(ds.func, f.entry);
		assert_int_equal(ds.end, f.end);
		for (size_t r = 0; r < ds.nrets; r++)
			assert_true(ds.rets[r] >= f.entry && ds.rets[r] < f.end);
		for (size_t r = 0; r < ds.ntails; r++)
			assert_true(ds.tails[r] >= f.entry && ds.tails[r] < f.end);
		/* Go's own disassembler decodes at least what capstone does. */
		assert_true(ds.ninsns >= t.ninsns * 9 / 10);
		disasm_sites_free(&ds);
		checked++;
	}
	/* main.main has the prologue, main.outer (a leaf) does not. */
	assert_true(checked >= 5);
	gobin_close(gb);
}

static void test_amd64(void **state)
{
	(void)state;
	check_fixture("hello", false);
}

static void test_arm64(void **state)
{
	(void)state;
	check_fixture("hello-arm64", true);
}

static void test_prologue_kinds(void **state)
{
	struct gobin *gb = gf_open("hello");
	struct pclntab_func f;
	struct disasm_sites ds;
	char err[256];

	(void)state;
	TU_REQUIRE(gb, "build/fixtures/hello missing (make fixtures)");
	/* A leaf without a stack check: the entry is the function's start. */
	assert_true(gf_func(gb, "main.outer", &f));
	assert_int_equal(disasm_func_sites(gb, f.entry, f.end, &ds, err, sizeof(err)), 0);
	assert_false(ds.prologue);
	assert_int_equal(ds.entry, f.entry);
	assert_int_equal(ds.nrets, 1);
	disasm_sites_free(&ds);
	/* With the check: after its branch, inside the function. */
	assert_true(gf_func(gb, "main.main", &f));
	assert_int_equal(disasm_func_sites(gb, f.entry, f.end, &ds, err, sizeof(err)), 0);
	assert_true(ds.prologue);
	assert_true(ds.entry > f.entry && ds.entry < f.entry + 32);
	disasm_sites_free(&ds);
	/* Bytes not in the file. */
	assert_int_equal(disasm_func_sites(gb, 0x10, 0x20, &ds, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not in the file"));
	gobin_close(gb);
	/* A 386 binary: no probes. */
	gb = gf_open("hello-386");
	if (gb) {
		assert_true(gf_func(gb, "main.main", &f));
		assert_int_equal(disasm_func_sites(gb, f.entry, f.end, &ds, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "amd64 and arm64"));
		gobin_close(gb);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amd64),
		cmocka_unit_test(test_arm64),
		cmocka_unit_test(test_prologue_kinds),
	};

	return cmocka_run_group_tests_name("disasm", tests, NULL, NULL);
}
