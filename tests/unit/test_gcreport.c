/*
 * test_gcreport: the summary arithmetic and the verdict of `goscope gc`
 * (report/gc.c): pauses and cycles counted by kind, the GC CPU fraction
 * over the window and GOMAXPROCS, and which sentence each case gets.
 */
#include "testutil.h"

#include "report/gc.h"

static struct gc_cycle cycle(uint64_t n, uint64_t cpu_ns, uint64_t live, uint64_t goal)
{
	struct gc_cycle c;

	memset(&c, 0, sizeof(c));
	c.number = n;
	c.has_heap = c.has_cpu = c.has_phases = true;
	c.procs = 2;
	c.heap_live = live;
	c.heap_goal = goal;
	c.cpu_background_ns = cpu_ns;
	c.trigger = GC_TRIGGER_HEAP;
	return c;
}

static void test_summary(void **state)
{
	struct gc_summary s = { 0 };
	struct gc_cycle c = cycle(7, 1000, 10, 20);
	struct gc_stw p = { .kind = GC_STW_SWEEP_TERM, .stopping_ns = 10, .stopped_ns = 90 };
	struct gc_stw o = { .kind = GC_STW_OTHER, .stopping_ns = 5, .stopped_ns = 5 };

	(void)state;
	gc_summary_cycle(&s, &c);
	c.number = 9;
	c.trigger = GC_TRIGGER_FORCED;
	gc_summary_cycle(&s, &c);
	gc_summary_stw(&s, &p);
	gc_summary_stw(&s, &o);
	assert_int_equal(s.cycles, 2);
	assert_int_equal(s.first_cycle, 7);
	assert_int_equal(s.last_cycle, 9);
	assert_int_equal(s.forced, 1);
	assert_int_equal(s.npauses, 1);
	assert_int_equal(s.pauses[0], 100);
	assert_int_equal(s.other_pauses, 1);
	assert_int_equal(s.other_pause_ns, 10);
	assert_int_equal(s.cpu_gc_ns, 2000);
	gc_summary_reset(&s);
	assert_int_equal(s.cycles, 0);
	assert_int_equal(s.npauses, 0);
	gc_summary_free(&s);
}

static void test_verdict(void **state)
{
	struct gc_summary s = { 0 };
	char buf[256];
	/* 1 s on 2 P: 0.4 s of GC CPU per cycle = 20% with one cycle. */
	struct gc_cycle hot = cycle(1, 400000000ull, 19u << 20, 23u << 20);
	struct gc_cycle cool = cycle(1, 1000000ull, 19u << 20, 40u << 20);

	(void)state;
	assert_string_equal(gc_verdict(&s, 1.0, buf, sizeof(buf)), "no GC cycle in the window");
	gc_summary_cycle(&s, &hot);
	gc_verdict(&s, 1.0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "GC is 20% of CPU"));
	assert_non_null(strstr(buf, "below 2x the live heap"));
	assert_non_null(strstr(buf, "raise GOGC or set GOMEMLIMIT"));
	gc_summary_reset(&s);
	hot.heap_goal = 80u << 20;
	gc_summary_cycle(&s, &hot);
	gc_verdict(&s, 1.0, buf, sizeof(buf));
	assert_null(strstr(buf, "live heap"));
	assert_non_null(strstr(buf, "allocate less"));
	gc_summary_reset(&s);
	gc_summary_cycle(&s, &cool);
	gc_verdict(&s, 1.0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "not a bottleneck"));
	gc_summary_reset(&s);
	cool.has_cpu = false;
	gc_summary_cycle(&s, &cool);
	gc_verdict(&s, 2.0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "0.5 GC cycles/s"));
	gc_summary_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_verdict),
	};

	return cmocka_run_group_tests_name("gcreport", tests, NULL, NULL);
}
