/*
 * test_whycut: the rules that cut a slow call into parts (collect/whycut):
 * the parts add up to the wall time whatever the input, samples meet in
 * the middle or, with the same state and transition counter, cover the
 * whole gap, a gap beyond reach is unexplained, the kernel's intervals
 * override samples, stop-the-world windows override running and runnable
 * but not a lock wait; and the names of wait reasons.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/types.h>

#include "bpf/why.h"
#include "collect/whycut.h"

#define MS 1000000ull

/* Test states: 2 running, 1 runnable, 3 syscall, 4 waiting (reason 1 lock, 2 IO). */
static void label(const struct whycut_sample *s, void *arg, char *cause, size_t len)
{
	const char *c = "unexplained";

	(void)arg;
	switch (s->status) {
	case 2: c = "on_cpu"; break;
	case 1: c = "runnable"; break;
	case 3: c = "syscall"; break;
	case 4: c = s->reason == 1 ? "lock" : "io_wait"; break;
	}
	snprintf(cause, len, "%s", c);
}

static uint64_t part(const struct whycut_out *o, const char *cause)
{
	for (size_t i = 0; i < o->nparts; i++)
		if (!strcmp(o->parts[i].cause, cause))
			return o->parts[i].ns;
	return 0;
}

static uint64_t sum(const struct whycut_out *o)
{
	uint64_t t = 0;

	for (size_t i = 0; i < o->nparts; i++)
		t += o->parts[i].ns;
	return t;
}

static void cut(struct whycut_out *o, uint64_t S, uint64_t E, const struct whycut_sample *s,
		size_t ns, const struct whycut_kint *k, size_t nk, const struct whycut_span *stw,
		size_t nstw)
{
	struct whycut_in in = { .start = S, .end = E, .reach_ns = 4 * MS, .s = s, .ns = ns,
				.k = k, .nk = nk, .stw = stw, .nstw = nstw, .label = label };

	memset(o, 0, sizeof(*o));
	assert_int_equal(whycut(&in, o), 0);
	assert_int_equal(sum(o), E - S);
}

static void test_lock_wait(void **state)
{
	struct whycut_sample s[] = {
		{ 1 * MS, 2, 0, 7, 0 }, { 2 * MS, 2, 0, 7, 0 }, { 3 * MS, 4, 1, 8, 1 },
		{ 5 * MS, 4, 1, 8, 1 }, { 9 * MS, 4, 1, 8, 1 }, { 10 * MS, 2, 0, 8, 0 },
	};
	struct whycut_out o;

	(void)state;
	cut(&o, 0, 11 * MS, s, 6, NULL, 0, NULL, 0);
	assert_int_equal(part(&o, "lock"), 7 * MS); /* 2.5 .. 9.5 */
	assert_int_equal(part(&o, "on_cpu"), 4 * MS);
	assert_string_equal(o.parts[0].cause, "lock"); /* largest first */
	assert_int_equal(o.longest_ep, 1);
	assert_int_equal(o.longest_ep_ns, 7 * MS);
	assert_int_equal(o.samples, 6);
	whycut_free(&o);
}

static void test_gap(void **state)
{
	/* Different states 19 ms apart: each reaches 4 ms, the middle is unexplained. */
	struct whycut_sample s[] = { { 1 * MS, 2, 0, 1, 0 }, { 20 * MS, 4, 2, 2, 1 } };
	/* The same wait (same counter) 19 ms apart: the whole gap is that wait. */
	struct whycut_sample t[] = { { 1 * MS, 4, 2, 5, 1 }, { 20 * MS, 4, 2, 5, 1 } };
	struct whycut_out o;

	(void)state;
	cut(&o, 0, 21 * MS, s, 2, NULL, 0, NULL, 0);
	assert_int_equal(part(&o, "unexplained"), 11 * MS); /* 5 .. 16 */
	assert_int_equal(part(&o, "io_wait"), 4 * MS + MS / 2);
	whycut_free(&o);
	cut(&o, 0, 21 * MS, t, 2, NULL, 0, NULL, 0);
	assert_int_equal(part(&o, "unexplained"), 0);
	assert_int_equal(part(&o, "io_wait"), 19 * MS + MS / 2 + MS / 2);
	whycut_free(&o);
}

static void test_kernel_overrides(void **state)
{
	struct whycut_sample s[] = { { 1 * MS, 2, 0, 1, 0 }, { 4 * MS, 3, 0, 2, 0 },
				     { 7 * MS, 2, 0, 2, 0 } };
	struct whycut_kint k[] = {
		{ 11, WHY_K_SYSCALL, 0, 0 /* read */, 3 * MS, 5 * MS, 6 * MS },
		{ 12, WHY_K_THROTTLED, 0, -1, 1 * MS, 0, 2 * MS },
	};
	struct whycut_out o;

	(void)state;
	cut(&o, 0, 8 * MS, s, 3, k, 2, NULL, 0);
	assert_int_equal(part(&o, "syscall:read"), 2 * MS + MS / 2); /* 2.5..3 on CPU (named), 3..5 asleep */
	assert_int_equal(part(&o, "runq"), 1 * MS);                  /* woken at 5, ran at 6 */
	assert_int_equal(part(&o, "cfs_throttled"), 1 * MS);
	assert_int_equal(o.nkoffs, 2);
	whycut_free(&o);
}

static void test_throttled_tail(void **state)
{
	/* Preempted at 1 ms into the run queue; its group was throttled for the last 2 ms. */
	struct whycut_kint k[] = { { 11, WHY_K_RUNQ, 0, -1, 1 * MS, 0, 5 * MS, 2 * MS } };
	/* A tail longer than the interval is the whole interval. */
	struct whycut_kint l[] = { { 11, WHY_K_RUNQ, 0, -1, 1 * MS, 0, 5 * MS, 9 * MS } };
	struct whycut_out o;

	(void)state;
	cut(&o, 0, 6 * MS, NULL, 0, k, 1, NULL, 0);
	assert_int_equal(part(&o, "runq"), 2 * MS);
	assert_int_equal(part(&o, "cfs_throttled"), 2 * MS);
	assert_int_equal(part(&o, "on_cpu"), 2 * MS); /* the running edges reach 4 ms */
	whycut_free(&o);
	cut(&o, 0, 6 * MS, NULL, 0, l, 1, NULL, 0);
	assert_int_equal(part(&o, "cfs_throttled"), 4 * MS);
	assert_int_equal(part(&o, "runq"), 0);
	whycut_free(&o);
}

static void test_stw(void **state)
{
	struct whycut_sample s[] = { { 1 * MS, 1, 0, 1, 0 }, { 2 * MS, 1, 0, 1, 0 },
				     { 3 * MS, 4, 1, 2, 1 }, { 4 * MS, 4, 1, 2, 1 } };
	struct whycut_span w[] = { { 0, 5 * MS } };
	struct whycut_out o;

	(void)state;
	cut(&o, 0, 5 * MS, s, 4, NULL, 0, w, 1);
	assert_int_equal(part(&o, "gc_stw"), 3 * MS); /* the running edges and runnable */
	assert_int_equal(part(&o, "lock"), 2 * MS);   /* a lock wait stays a lock wait */
	assert_int_equal(part(&o, "runnable"), 0);
	whycut_free(&o);
}

static void test_process_held(void **state)
{
	/* Runnable from 1 to 9 ms: the quota held a thread of the process 2..4, another waited in the run queue 5..7. */
	struct whycut_sample s[] = { { 1 * MS, 1, 0, 3, 0 }, { 9 * MS, 1, 0, 3, 0 } };
	struct whycut_span thr[] = { { 2 * MS, 4 * MS } }, rq[] = { { 5 * MS, 7 * MS } };
	struct whycut_in in = { .start = 0, .end = 10 * MS, .reach_ns = 4 * MS, .s = s, .ns = 2,
				.thr = thr, .nthr = 1, .rq = rq, .nrq = 1, .label = label };
	struct whycut_out o;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(whycut(&in, &o), 0);
	assert_int_equal(sum(&o), 10 * MS);
	assert_int_equal(part(&o, "cfs_throttled"), 2 * MS);
	assert_int_equal(part(&o, "runq"), 2 * MS);
	assert_int_equal(part(&o, "runnable"), 5 * MS); /* 0.5 .. 9.5 less the 4 ms */
	whycut_free(&o);
	/* With 2 Ps, one thread in the run queue leaves the other P: still runnable. */
	in.rq_min = 2;
	memset(&o, 0, sizeof(o));
	assert_int_equal(whycut(&in, &o), 0);
	assert_int_equal(part(&o, "runq"), 0);
	assert_int_equal(part(&o, "runnable"), 7 * MS);
	whycut_free(&o);
}

static void test_random_sums(void **state)
{
	(void)state;
	srand(42);
	for (int iter = 0; iter < 2000; iter++) {
		struct whycut_sample s[64];
		struct whycut_kint k[16];
		struct whycut_span w[4];
		uint64_t S = (uint64_t)(rand() % 1000) * 1000, E = S + (uint64_t)(rand() % 50000) * 1000;
		size_t ns = (size_t)(rand() % 64), nk = 0, nw = (size_t)(rand() % 4);
		uint64_t t = S > 3 * MS ? S - 3 * MS : 0, kt = S;
		struct whycut_out o;

		for (size_t i = 0; i < ns; i++) {
			t += (uint64_t)(rand() % 3000) * 1000;
			s[i] = (struct whycut_sample){ t, (uint8_t)(1 + rand() % 4), (uint8_t)(rand() % 3),
						       (int16_t)(rand() % 3), 0 };
		}
		for (int i = 0; i < 16 && kt < E + MS; i++) { /* non-overlapping, may cross the edges */
			uint64_t a = kt + (uint64_t)(rand() % 3000) * 1000, z = a + (uint64_t)(rand() % 3000) * 1000;

			k[nk++] = (struct whycut_kint){ 1, (uint32_t)(1 + rand() % 5), 0, rand() % 2 ? 0 : -1,
							a, rand() % 2 ? a + (z - a) / 2 : 0, z,
							(uint64_t)(rand() % 4000) * 1000 };
			kt = z;
		}
		for (size_t i = 0; i < nw; i++) {
			uint64_t a = S + (uint64_t)(rand() % 60000) * 1000;

			w[i] = (struct whycut_span){ a, a + (uint64_t)(rand() % 2000) * 1000 };
		}
		cut(&o, S, E, s, ns, k, nk, w, nw);
		for (size_t i = 0; i + 1 < o.nsegs; i++)
			assert_true(o.segs[i].end <= o.segs[i + 1].start);
		whycut_free(&o);
	}
}

static void test_wait_causes(void **state)
{
	char b[40];

	(void)state;
	assert_string_equal(whycut_wait_cause("sync.Mutex.Lock", NULL, b, sizeof(b)), "lock");
	assert_string_equal(whycut_wait_cause("sync.RWMutex.RLock", NULL, b, sizeof(b)), "lock");
	assert_string_equal(whycut_wait_cause("semacquire", "runtime.gopark;sync.(*Mutex).lockSlow;", b, sizeof(b)), "lock");
	assert_string_equal(whycut_wait_cause("semacquire", "sync.(*WaitGroup).Wait;", b, sizeof(b)), "waitgroup");
	assert_string_equal(whycut_wait_cause("semacquire", "main.x;", b, sizeof(b)), "semacquire");
	assert_string_equal(whycut_wait_cause("sync.WaitGroup.Wait", NULL, b, sizeof(b)), "waitgroup");
	assert_string_equal(whycut_wait_cause("chan receive", NULL, b, sizeof(b)), "chan");
	assert_string_equal(whycut_wait_cause("chan send (nil chan)", NULL, b, sizeof(b)), "chan");
	assert_string_equal(whycut_wait_cause("select", NULL, b, sizeof(b)), "select");
	assert_string_equal(whycut_wait_cause("select (no cases)", NULL, b, sizeof(b)), "select");
	assert_string_equal(whycut_wait_cause("IO wait", NULL, b, sizeof(b)), "io_wait");
	assert_string_equal(whycut_wait_cause("sleep", NULL, b, sizeof(b)), "sleep");
	assert_string_equal(whycut_wait_cause("sync.Cond.Wait", NULL, b, sizeof(b)), "cond");
	assert_string_equal(whycut_wait_cause("GC assist marking", NULL, b, sizeof(b)), "gc_assist");
	assert_string_equal(whycut_wait_cause("GC assist wait", NULL, b, sizeof(b)), "gc_assist");
	assert_string_equal(whycut_wait_cause("finalizer wait", NULL, b, sizeof(b)), "wait:finalizer_wait");
	assert_string_equal(whycut_wait_cause("", NULL, b, sizeof(b)), "wait");
	assert_string_equal(whycut_kind_cause(WHY_K_RUNQ, -1, b, sizeof(b)), "runq");
	assert_string_equal(whycut_kind_cause(WHY_K_SYSCALL, 0, b, sizeof(b)), "syscall:read");
	assert_string_equal(whycut_kind_cause(WHY_K_SYSCALL, -1, b, sizeof(b)), "syscall");
	assert_string_equal(whycut_kind_cause(WHY_K_FAULT, -1, b, sizeof(b)), "major_fault");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_wait),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_kernel_overrides),
		cmocka_unit_test(test_throttled_tail),
		cmocka_unit_test(test_stw),
		cmocka_unit_test(test_process_held),
		cmocka_unit_test(test_random_sums),
		cmocka_unit_test(test_wait_causes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
