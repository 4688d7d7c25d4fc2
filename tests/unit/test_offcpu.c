/*
 * test_offcpu: the offcpu report's rows (stacks that print the same are
 * one row, their times and waits summed, their goroutines counted once:
 * by func and file:line in the table and JSON, by func in folded),
 * its JSON and folded output over the same rows, and the pprof leaf name
 * that `go tool pprof` keeps whole. The stacks are pcs of the Go 1.19
 * fixture (build/fixtures/hello), symbolized by its pclntab.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "testutil.h"

#include "../../src/collect/offcpu.h"
#include "../../src/gobin/gobin.h"
#include "../../src/report/offcpu.h"

/* Two return addresses in main.main on the same line, and one on another. */
struct twins {
	uint64_t a, b, other;
};

static void find_twins(struct gobin *gb, struct twins *t)
{
	struct pclntab_func f;
	struct pclntab_frame fa[16], fb[16];
	long fi = -1;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; pclntab_func_at(gb->pcln, i, &f); i++) {
		if (strcmp(f.name, "main.main") == 0) {
			fi = (long)i;
			break;
		}
	}
	assert_true(fi >= 0);
	/* As return addresses: looked up at pc-1. */
	for (uint64_t pc = f.entry + 2; pc < f.end && !(t->a && t->other); pc++) {
		int na = pclntab_symbolize(gb->pcln, pc - 2, fa, 16);
		int nb = pclntab_symbolize(gb->pcln, pc - 1, fb, 16);

		if (na != 1 || nb != 1)
			continue;
		if (!t->a && fa[0].line == fb[0].line && strcmp(fa[0].func, fb[0].func) == 0) {
			t->a = pc - 1;
			t->b = pc;
		} else if (t->a && fb[0].line != fa[0].line) {
			struct pclntab_frame fx[16];

			if (pclntab_symbolize(gb->pcln, t->a - 1, fx, 16) == 1 &&
			    fx[0].line != fb[0].line)
				t->other = pc;
		}
	}
	assert_true(t->a && t->b && t->other);
}

/* A report by hand: one target, three stacks, goroutine times per stack. */
static void build(struct offcpu *oc, struct gobin *gb, const struct twins *tw)
{
	struct offcpu_opts o = { .goid = -1 };
	const uint64_t pcs[3] = { tw->a, tw->b, tw->other };
	static char reason[] = "chan receive";
	static char *reasons[] = { reason };

	offcpu_init(oc, &o);
	oc->targets = calloc(1, sizeof(*oc->targets));
	assert_non_null(oc->targets);
	oc->ntargets = 1;
	oc->targets[0].pid = 42;
	oc->targets[0].gs.pm.memfd = -1;
	oc->targets[0].gb = gobin_ref(gb);
	snprintf(oc->targets[0].exe, sizeof(oc->targets[0].exe), "/x/hello");
	oc->reasons = calloc(1, sizeof(char *));
	oc->reasons[0] = strdup(reasons[0]);
	oc->nreasons = 1;
	oc->stacks = calloc(3, sizeof(*oc->stacks));
	oc->nstacks = oc->stacks_cap = 3;
	for (int i = 0; i < 3; i++) {
		struct offcpu_stack *s = &oc->stacks[i];

		s->pcs = malloc(8);
		s->pcs[0] = pcs[i];
		s->depth = 1;
		s->total_ns = (uint64_t)(i + 1) * 1000000000ull; /* 1 s, 2 s, 3 s */
		s->waits = (uint64_t)(i + 1);
		s->h = calloc(1, sizeof(*s->h));
		for (int w = 0; w <= i; w++)
			hist_add(s->h, 1000000000ull);
	}
	/* goroutine 7 waited on both twins, 8 on the second twin, 9 elsewhere */
	oc->sgs = calloc(4, sizeof(*oc->sgs));
	oc->sgs[0] = (struct offcpu_sg){ .stack = 0, .goid = 7, .ns = 1000000000, .waits = 1 };
	oc->sgs[1] = (struct offcpu_sg){ .stack = 1, .goid = 7, .ns = 1000000000, .waits = 1 };
	oc->sgs[2] = (struct offcpu_sg){ .stack = 1, .goid = 8, .ns = 1000000000, .waits = 1 };
	oc->sgs[3] = (struct offcpu_sg){ .stack = 2, .goid = 9, .ns = 3000000000, .waits = 3 };
	oc->nsgs = oc->sgs_cap = 4;
	oc->samples = 98;
}

static char *run(void (*fn)(FILE *, const struct offcpu *, const struct offcpu_fmt *),
		 const struct offcpu *oc, const struct offcpu_fmt *f)
{
	/* On the heap: gcc takes a local's address kept by the stream as dangling. */
	char **buf = calloc(1, sizeof(*buf)), *out;
	size_t *len = calloc(1, sizeof(*len));
	FILE *m;

	assert_non_null(buf);
	assert_non_null(len);
	m = open_memstream(buf, len);
	assert_non_null(m);
	fn(m, oc, f);
	fclose(m);
	out = *buf;
	free(buf);
	free(len);
	return out;
}

static size_t count(const char *s, const char *sub)
{
	size_t n = 0;

	for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub))
		n++;
	return n;
}

static void test_rows_merge(void **state)
{
	char path[PATH_MAX], err[512];
	struct gobin *gb = NULL;
	struct twins tw;
	struct offcpu oc;
	struct offcpu_fmt f = { .top = 10, .depth = 12, .seconds = 2.0, .freq = 49 };
	char *out;

	(void)state;
	TU_REQUIRE(tu_fixture("build/fixtures/hello", path, sizeof(path)), "fixture");
	assert_int_equal(gobin_open(path, &gb, err, sizeof(err)), 0);
	find_twins(gb, &tw);
	build(&oc, gb, &tw);

	/* folded prints function names only: all three are one line, 6 s */
	out = run(offcpu_print_folded, &oc, &f);
	assert_string_equal(out, "main.main;[chan receive] 6000000\n");
	free(out);

	/* JSON: two rows, the twins' with waits 3 and goroutines 2 (7 and 8) */
	out = run(offcpu_print_json, &oc, &f);
	assert_int_equal(count(out, "\"reason\":\"chan receive\""), 2);
	assert_int_equal(count(out, "\"waits\":3,\"goroutines\":2"), 1);
	assert_int_equal(count(out, "\"waits\":3,\"goroutines\":1"), 1);
	assert_non_null(strstr(out, "\"event\":\"summary\""));
	assert_non_null(strstr(out, "\"snapshots\":98"));
	assert_non_null(strstr(out, "\"snapshots_per_s\":49"));
	free(out);

	/* top: two rows; the header gives the achieved rate */
	out = run(offcpu_print_top, &oc, &f);
	assert_non_null(strstr(out, "98 goroutine snapshots (49.0/s achieved, 49/s asked; longest gap 0 ms)"));
	assert_int_equal(count(out, "[chan receive]"), 2);
	assert_non_null(strstr(out, "goroutines: 7, 8\n"));
	free(out);

	/* --stack with no match: no rows */
	f.stack = "no.such.func";
	out = run(offcpu_print_folded, &oc, &f);
	assert_string_equal(out, "");
	free(out);

	offcpu_free(&oc);
	gobin_close(gb);
}

/* The rule that tells one wait from the next (issue #16, items 3 and 4). */
static void test_same_wait(void **state)
{
	struct offcpu_gst prev = { .gaddr = 0xc000001000, .goid = 7, .pc = 0x401234,
				   .depth = 0x180, .status = GS_WAITING, .seq = 12,
				   .waitreason = 2, .stack = 0 };
	struct gsample_g g = { .gaddr = 0xc000001000, .goid = 7, .pc = 0x401234,
			       .sp = 0xc000100e80, .stack_hi = 0xc000101000,
			       .depth = 0x180, .status = GS_WAITING, .seq = 12,
			       .waitreason = 2 };

	(void)state;
	assert_true(offcpu_same_wait(&prev, &g, 0));
	/* the runtime copied the stack: sp and stack.hi moved, the depth did not */
	g.sp = 0xc000200e80;
	g.stack_hi = 0xc000201000;
	assert_true(offcpu_same_wait(&prev, &g, 0));
	/* it ran in between and parked at the same place: a new wait */
	g.seq = 13;
	assert_false(offcpu_same_wait(&prev, &g, 0));
	g.seq = 12;
	/* deeper in its stack, another pc, another status: new waits */
	g.depth = 0x1a0;
	assert_false(offcpu_same_wait(&prev, &g, 0));
	g.depth = 0x180;
	g.pc++;
	assert_false(offcpu_same_wait(&prev, &g, 0));
	g.pc--;
	g.status = GS_RUNNABLE;
	assert_false(offcpu_same_wait(&prev, &g, 0));
	g.status = GS_WAITING;
	/* no trackingSeq (-1): the stack tops decide */
	prev.seq = g.seq = -1;
	prev.hash = 0x1111;
	assert_true(offcpu_same_wait(&prev, &g, 0x1111));
	assert_false(offcpu_same_wait(&prev, &g, 0x2222));
	/* no wait before (stack -1): never continued */
	prev.stack = -1;
	assert_false(offcpu_same_wait(&prev, &g, 0x1111));
}

static void test_pprof_leaf(void **state)
{
	char b[64];

	(void)state;
	assert_string_equal(offcpu_pprof_leaf("select", b, sizeof(b)), "wait: select");
	assert_string_equal(offcpu_pprof_leaf("GC worker (idle)", b, sizeof(b)),
			    "wait: GC worker (idle)");
	assert_string_equal(offcpu_pprof_leaf("syscall: read", b, sizeof(b)),
			    "wait: syscall: read");
	/* what would make pprof take it for C++ */
	assert_string_equal(offcpu_pprof_leaf("a[b]<c>::d", b, sizeof(b)), "wait: a{b}{c}.:d");
	assert_string_equal(offcpu_pprof_leaf("a very long reason", b, 12), "wait: a ver");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_merge),
		cmocka_unit_test(test_same_wait),
		cmocka_unit_test(test_pprof_leaf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
