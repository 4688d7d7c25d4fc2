/*
 * test_goglobals: the runtime globals goscope finds by decoding machine
 * code (runtime.allgs from runtime.allgadd, runtime.gomaxprocs from
 * runtime.GOMAXPROCS) and the wait-reason table found by its contents,
 * against the addresses `go tool nm` gives for the same symbols in the
 * Go 1.19 fixtures: amd64, amd64 PIE and arm64.
 */
#include "testutil.h"

#include "gobin/gobin.h"
#include "gobin/goglobals.h"

struct nm_syms {
	uint64_t allgs, gomaxprocs, waitreasons;
};

static struct gobin *open_fixture(const char *rel, struct nm_syms *sy)
{
	char path[PATH_MAX], cmd[PATH_MAX + 64], err[512], *out, *line, *save = NULL;
	struct gobin *gb = NULL;

	TU_REQUIRE(tu_fixture(rel, path, sizeof(path)), rel);
	TU_REQUIRE(tu_have("go"), "no go toolchain");
	if (gobin_open(path, &gb, err, sizeof(err)) != 0)
		fail_msg("gobin_open %s: %s", path, err);
	snprintf(cmd, sizeof(cmd), "go tool nm '%s'", path);
	out = tu_run(cmd);
	assert_non_null(out);
	memset(sy, 0, sizeof(*sy));
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a;
		char type, name[256];

		if (sscanf(line, " %llx %c %255s", &a, &type, name) != 3)
			continue;
		if (strcmp(name, "runtime.allgs") == 0)
			sy->allgs = a;
		else if (strcmp(name, "runtime.gomaxprocs") == 0)
			sy->gomaxprocs = a;
		else if (strcmp(name, "runtime.waitReasonStrings") == 0)
			sy->waitreasons = a;
	}
	free(out);
	assert_true(sy->allgs && sy->gomaxprocs && sy->waitreasons);
	return gb;
}

static void check_fixture(const char *rel, bool want_gomaxprocs)
{
	struct nm_syms sy;
	struct gobin *gb = open_fixture(rel, &sy);
	struct goglobals_waitreasons wr;
	uint64_t a = 0;
	char why[256];

	if (!goglobals_allgs(gb, &a, why, sizeof(why)))
		fail_msg("%s: runtime.allgs not found: %s", rel, why);
	assert_int_equal(a, sy.allgs);
	if (want_gomaxprocs) {
		if (!goglobals_gomaxprocs(gb, &a, why, sizeof(why)))
			fail_msg("%s: runtime.gomaxprocs not found: %s", rel, why);
		assert_int_equal(a, sy.gomaxprocs);
	}
	assert_true(goglobals_waitreasons(gb, &wr) > 2);
	assert_int_equal(wr.addr, sy.waitreasons);
	assert_int_equal(wr.len[1], strlen("GC assist marking"));
	assert_memory_equal(wr.str[1], "GC assist marking", wr.len[1]);
	assert_int_equal(wr.len[2], strlen("IO wait"));
	assert_memory_equal(wr.str[2], "IO wait", wr.len[2]);
	gobin_close(gb);
}

static void test_amd64(void **state)
{
	(void)state;
	check_fixture("build/fixtures/hello", true);
}

static void test_amd64_pie(void **state)
{
	(void)state;
	check_fixture("build/fixtures/hello-pie", true);
}

static void test_arm64(void **state)
{
	(void)state;
	/* gomaxprocs is decoded on amd64 only (the health command's use). */
	check_fixture("build/fixtures/hello-arm64", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amd64),
		cmocka_unit_test(test_amd64_pie),
		cmocka_unit_test(test_arm64),
	};

	return cmocka_run_group_tests_name("goglobals", tests, NULL, NULL);
}
