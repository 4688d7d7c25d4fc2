/*
 * test_leaks: the growth rate `goscope leaks` reports is the least-squares
 * slope of a group's counts over the snapshot times: exact on a line,
 * robust to one late snapshot, zero for a steady pool and for fewer than
 * two points.
 */
#include "testutil.h"

#include "collect/leaks.h"

static void test_slope(void **state)
{
	double t[13], y[13];

	(void)state;
	for (int i = 0; i < 13; i++) {
		t[i] = 0.5 * i;
		y[i] = 3 + 10 * t[i]; /* 10 goroutines a second */
	}
	assert_float_equal(leaks_slope(t, y, 13), 10.0, 1e-9);
	t[6] += 0.2; /* a snapshot taken late, its count on the line */
	y[6] = 3 + 10 * t[6];
	assert_float_equal(leaks_slope(t, y, 13), 10.0, 1e-9);
	for (int i = 0; i < 13; i++)
		y[i] = 50;
	assert_float_equal(leaks_slope(t, y, 13), 0.0, 1e-9);
	assert_float_equal(leaks_slope(t, y, 1), 0.0, 0);
	assert_float_equal(leaks_slope(t, y, 0), 0.0, 0);
	t[1] = t[0]; /* two points at the same time: no slope, not a division by zero */
	assert_float_equal(leaks_slope(t, y, 2), 0.0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slope),
	};

	return cmocka_run_group_tests_name("leaks", tests, NULL, NULL);
}
