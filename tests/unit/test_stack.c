/*
 * test_stack: the one stack symbolizer and its printers (report/stack.c)
 * on pcs of the hello fixture (build/fixtures/hello, make fixtures), with
 * pclntab_symbolize (checked against `go tool addr2line` by test_pclntab)
 * as the truth for each frame: inlined frames expanded innermost first,
 * the stop rule (before runtime.goexit and runtime.mstart, after
 * runtime.mcall, runtime.systemstack and runtime.morestack, after the
 * first pc outside the binary), STACK_SKIP_RUNTIME, the load bias, the
 * "(N frames elided)" marker, folded output root first, JSON and
 * stack_matches.
 */
#include "testutil.h"

#include "gofixture.h"
#include "output/jsonw.h"
#include "report/stack.h"

static struct gobin *gb;
static uint64_t pc_inl;   /* in main.outer where main.inner is inlined */
static uint64_t ra_main;  /* a return address inside main.main */
static uint64_t ra_rtmain, ra_mallocgc, pc_gopark, ra_goexit, ra_mstart, ra_mcall,
	ra_systemstack, ra_morestack;

static int setup(void **state)
{
	(void)state;
	gb = gf_open("hello");
	if (!gb)
		return 0;
	pc_inl = gf_pc_with_frames(gb, "main.outer", 2);
	ra_main = gf_entry(gb, "main.main") + 0x10;
	ra_rtmain = gf_entry(gb, "runtime.main") + 0x40;
	ra_mallocgc = gf_entry(gb, "runtime.mallocgc") + 0x40;
	pc_gopark = gf_entry(gb, "runtime.gopark") + 4;
	ra_goexit = gf_entry(gb, "runtime.goexit") + 1;
	ra_mstart = gf_entry(gb, "runtime.mstart") + 1;
	ra_mcall = gf_entry(gb, "runtime.mcall") + 8;
	ra_systemstack = gf_entry(gb, "runtime.systemstack") + 8;
	ra_morestack = gf_entry(gb, "runtime.morestack") + 8;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (gb)
		gobin_close(gb);
	return 0;
}

#define NEED_FIXTURE() TU_REQUIRE(gb && pc_inl, "build/fixtures/hello missing (make fixtures)")

/* The function names of PCS symbolized with FLAGS, joined by ','. */
static char *names_of(const uint64_t *pcs, size_t n, unsigned flags, uint64_t bias)
{
	struct stack_frame f[64];
	size_t nf = stack_symbolize(gb, bias, pcs, n, flags, f, 64);
	static char buf[4096];
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < nf; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "," : "",
					f[i].func);
	return buf;
}

/* The physical function of a return address, as the truth says. */
static const char *truth_func(uint64_t ra)
{
	struct pclntab_frame fr[8];
	int m = pclntab_symbolize(gb->pcln, ra - 1, fr, 8);

	return m ? fr[m - 1].func : "?";
}

static void test_frames(void **state)
{
	/* A parked goroutine: gopark (its saved pc) <- mallocgc <- outer with inner
	 * inlined <- main.main <- runtime.main <- runtime.goexit. */
	uint64_t pcs[] = { pc_gopark, ra_mallocgc, pc_inl + 1, ra_main, ra_rtmain, ra_goexit };
	struct stack_frame f[16];
	struct pclntab_frame fr[8];
	size_t nf;

	(void)state;
	NEED_FIXTURE();
	nf = stack_symbolize(gb, 0, pcs, 6, STACK_PC_FIRST, f, 16);
	assert_string_equal(names_of(pcs, 6, STACK_PC_FIRST, 0),
			    "runtime.gopark,runtime.mallocgc,main.inner,main.outer,main.main,"
			    "runtime.main");
	/* Each frame is what pclntab says of pc (first) or pc-1 (return addresses). */
	assert_int_equal(pclntab_symbolize(gb->pcln, pc_inl, fr, 8), 2);
	assert_int_equal(nf, 6);
	assert_string_equal(f[2].file, fr[0].file);
	assert_int_equal(f[2].line, fr[0].line);
	assert_true(f[2].inlined);
	assert_int_equal(f[3].line, fr[1].line);
	assert_false(f[3].inlined);
	assert_int_equal(f[2].pc, pc_inl + 1);
	assert_int_equal(f[3].pc, pc_inl + 1);
	assert_true(f[0].known && f[5].known);
	assert_int_equal(f[0].line, (pclntab_symbolize(gb->pcln, pc_gopark, fr, 8), fr[0].line));
	assert_string_equal(f[4].func, truth_func(ra_main));
	/* Without STACK_PC_FIRST the first pc is a return address too. */
	nf = stack_symbolize(gb, 0, pcs, 6, 0, f, 16);
	assert_int_equal(nf, 6);
	assert_string_equal(f[0].func, truth_func(pc_gopark));
	/* OUT's size bounds the walk. */
	assert_int_equal(stack_symbolize(gb, 0, pcs, 6, STACK_PC_FIRST, f, 3), 3);
	/* The load bias is taken off every pc. */
	{
		uint64_t moved[6];

		for (int i = 0; i < 6; i++)
			moved[i] = pcs[i] + 0x7f0000000000ull;
		assert_string_equal(names_of(moved, 6, STACK_PC_FIRST, 0x7f0000000000ull),
				    "runtime.gopark,runtime.mallocgc,main.inner,main.outer,"
				    "main.main,runtime.main");
	}
}

static void test_stop_rule(void **state)
{
	(void)state;
	NEED_FIXTURE();
	/* Before mstart: the root of a thread. */
	{
		uint64_t pcs[] = { pc_inl + 1, ra_mstart, ra_main };

		assert_string_equal(names_of(pcs, 3, 0, 0), "main.inner,main.outer");
	}
	/* After mcall, systemstack, morestack: where a stack switched. */
	{
		uint64_t pcs[] = { pc_inl + 1, ra_mcall, ra_main };

		assert_string_equal(names_of(pcs, 3, 0, 0), "main.inner,main.outer,runtime.mcall");
		pcs[1] = ra_systemstack;
		assert_string_equal(names_of(pcs, 3, 0, 0),
				    "main.inner,main.outer,runtime.systemstack");
		pcs[1] = ra_morestack;
		assert_string_equal(names_of(pcs, 3, 0, 0),
				    "main.inner,main.outer,runtime.morestack");
	}
	/* After the first pc outside the binary: "?" and stop. */
	{
		uint64_t pcs[] = { ra_main, 0x11, ra_rtmain };
		struct stack_frame f[8];
		size_t nf = stack_symbolize(gb, 0, pcs, 3, 0, f, 8);

		assert_int_equal(nf, 2);
		assert_string_equal(f[1].func, "?");
		assert_false(f[1].known);
		assert_int_equal(f[1].pc, 0x11);
	}
	/* goexit first: nothing at all. */
	{
		uint64_t pcs[] = { ra_goexit, ra_main };

		assert_string_equal(names_of(pcs, 2, 0, 0), "");
	}
	/* No reader: one unknown frame. */
	{
		uint64_t pcs[] = { ra_main, ra_rtmain };
		struct stack_frame f[8];

		assert_int_equal(stack_symbolize(NULL, 0, pcs, 2, 0, f, 8), 1);
		assert_false(f[0].known);
	}
}

static void test_skip_runtime(void **state)
{
	(void)state;
	NEED_FIXTURE();
	{
		uint64_t pcs[] = { pc_gopark, ra_mallocgc, pc_inl + 1, ra_main, ra_rtmain, ra_goexit };

		/* Leading runtime frames go; runtime.main at the root stays. */
		assert_string_equal(names_of(pcs, 6, STACK_PC_FIRST | STACK_SKIP_RUNTIME, 0),
				    "main.inner,main.outer,main.main,runtime.main");
	}
	{
		/* All runtime: the last pc's frames are kept rather than nothing. */
		uint64_t pcs[] = { pc_gopark, ra_mallocgc };

		assert_string_equal(names_of(pcs, 2, STACK_PC_FIRST | STACK_SKIP_RUNTIME, 0),
				    "runtime.mallocgc");
	}
}

/* stack_print into a string. */
static char *printed(const uint64_t *pcs, size_t n, unsigned flags, size_t maxf)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	stack_print(f, gb, 0, pcs, n, flags, maxf, "  ");
	fclose(f);
	return buf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_print_elision(void **state)
{
	/* 12 frames: main.outer and main.main alternating (as a deep recursion). */
	uint64_t pcs[12];
	char *s, want[256];
	struct pclntab_frame fr[8];

	(void)state;
	NEED_FIXTURE();
	for (int i = 0; i < 12; i++)
		pcs[i] = i % 2 ? ra_main : gf_entry(gb, "main.outer") + 1;
	assert_int_equal(pclntab_symbolize(gb->pcln, gf_entry(gb, "main.outer"), fr, 8), 1);
	s = printed(pcs, 12, 0, 0);
	assert_int_equal(count_lines(s), 12);
	snprintf(want, sizeof(want), "  main.outer  %s:%d\n", fr[0].file, fr[0].line);
	assert_true(strncmp(s, want, strlen(want)) == 0);
	free(s);
	/* maxf 7: the innermost 4, the marker, the 3 at the root. */
	s = printed(pcs, 12, 0, 7);
	assert_int_equal(count_lines(s), 8);
	assert_non_null(strstr(s, "\n  (5 frames elided)\n"));
	{
		/* The marker is the 5th line; the lines around it are frames 3 and 9. */
		const char *p = s;

		for (int i = 0; i < 4; i++)
			p = strchr(p, '\n') + 1;
		assert_true(strncmp(p, "  (5 frames elided)\n", 20) == 0);
	}
	free(s);
	/* maxf 6 or less: no root frames kept, just the innermost ones. */
	s = printed(pcs, 12, 0, 5);
	assert_int_equal(count_lines(s), 6);
	assert_non_null(strstr(s, "  (7 frames elided)\n"));
	assert_true(strcmp(s + strlen(s) - 20, "  (7 frames elided)\n") == 0);
	free(s);
	/* Exactly maxf frames: no marker. */
	s = printed(pcs, 12, 0, 12);
	assert_null(strstr(s, "elided"));
	free(s);
	/* A cut capture says so after the frames; an unknown frame prints its pc. */
	{
		uint64_t p2[] = { ra_main, 0xdead };

		s = printed(p2, 2, STACK_TRUNCATED, 0);
		assert_int_equal(count_lines(s), 3);
		assert_non_null(strstr(s, "\n  0xdead ?\n  (deeper frames not captured)\n"));
		free(s);
	}
}

static void test_folded(void **state)
{
	uint64_t pcs[] = { pc_gopark, ra_mallocgc, pc_inl + 1, ra_main, ra_rtmain, ra_goexit };
	char *buf = NULL;
	size_t len = 0, nf;
	FILE *f;

	(void)state;
	NEED_FIXTURE();
	f = open_memstream(&buf, &len);
	nf = stack_folded(f, gb, 0, pcs, 6, STACK_PC_FIRST | STACK_SKIP_RUNTIME);
	fclose(f);
	assert_int_equal(nf, 4);
	assert_string_equal(buf, "runtime.main;main.main;main.outer;main.inner");
	free(buf);
	/* Nothing for an empty stack (goexit only). */
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_int_equal(stack_folded(f, gb, 0, &ra_goexit, 1, 0), 0);
	fclose(f);
	assert_int_equal(len, 0);
	free(buf);
	/* An unknown frame is its pc, at the root end. */
	{
		uint64_t p2[] = { ra_main, 0xbeef };

		buf = NULL;
		f = open_memstream(&buf, &len);
		stack_folded(f, gb, 0, p2, 2, 0);
		fclose(f);
		assert_string_equal(buf, "0xbeef;main.main");
		free(buf);
	}
	/* ';' separates frames, so a name cannot hold one. */
	buf = NULL;
	f = open_memstream(&buf, &len);
	stack_folded_name(f, "a;b;c");
	fclose(f);
	assert_string_equal(buf, "a:b:c");
	free(buf);
}

static void test_json_and_match(void **state)
{
	uint64_t pcs[] = { pc_inl + 1, ra_main, 0x42 };
	struct pclntab_frame fr[8];
	struct jsonw w;
	char *buf = NULL, want[1024];
	size_t len = 0;
	FILE *f;

	(void)state;
	NEED_FIXTURE();
	f = open_memstream(&buf, &len);
	jsonw_init(&w, f);
	jsonw_obj_begin(&w);
	stack_json(&w, gb, 0, pcs, 3, 0);
	jsonw_obj_end(&w);
	fclose(f);
	assert_int_equal(pclntab_symbolize(gb->pcln, pc_inl, fr, 8), 2);
	snprintf(want, sizeof(want), "{\"stack\":[\"main.inner %s:%d\",\"main.outer %s:%d\",",
		 fr[0].file, fr[0].line, fr[1].file, fr[1].line);
	if (strncmp(buf, want, strlen(want)) != 0)
		fail_msg("json %s, want prefix %s", buf, want);
	assert_non_null(strstr(buf, "\"main.main "));
	assert_non_null(strstr(buf, ",\"0x42\"]}"));
	free(buf);

	assert_true(stack_matches(gb, 0, pcs, 3, 0, "outer"));
	assert_true(stack_matches(gb, 0, pcs, 3, 0, "main.go")); /* files too */
	assert_true(stack_matches(gb, 0, pcs, 3, 0, NULL));
	assert_false(stack_matches(gb, 0, pcs, 3, 0, "runtime.main"));
	assert_false(stack_matches(gb, 0, pcs, 3, 0, "nosuchthing"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_stop_rule),
		cmocka_unit_test(test_skip_runtime),
		cmocka_unit_test(test_print_elision),
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_json_and_match),
	};

	return cmocka_run_group_tests_name("stack", tests, setup, teardown);
}
