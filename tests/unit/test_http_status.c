/*
 * test_http_status: how `goscope http` keeps a route's status codes
 * (collect/funclat.c): sorted by code, a response that failed the layout
 * check merged into "unknown", at most FUNCLAT_NSTATUS codes with the rest
 * (and the largest code) in "other", counts conserved; the names shown;
 * and the net/http.response table (gobin/gohttp.c) known for exactly Go
 * 1.17 to 1.26.
 */
#include "testutil.h"

#include "collect/funclat.h"
#include "gobin/gohttp.h"

static uint64_t total(const struct funclat_route_report *r)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->nstatus; i++)
		n += r->status[i].count;
	return n;
}

static void test_add_status(void **state)
{
	static struct funclat_route_report r;
	char b[16];

	(void)state;
	funclat_route_add_status(&r, 404, 3);
	funclat_route_add_status(&r, 200, 5);
	funclat_route_add_status(&r, 2, 1); /* FL_STATUS_BAD: unknown */
	funclat_route_add_status(&r, FUNCLAT_STATUS_UNKNOWN, 1);
	funclat_route_add_status(&r, 200, 0);
	funclat_route_add_status(&r, 200, 2);
	assert_int_equal(r.nstatus, 3);
	assert_int_equal(r.status[0].code, FUNCLAT_STATUS_UNKNOWN);
	assert_int_equal(r.status[0].count, 2);
	assert_int_equal(r.status[1].code, 200);
	assert_int_equal(r.status[1].count, 7);
	assert_int_equal(r.status[2].code, 404);
	assert_int_equal(total(&r), 12);
	/* Past the bound: the largest code and the newcomers share "other". */
	for (uint32_t c = 500; c < 520; c++)
		funclat_route_add_status(&r, c, 1);
	assert_int_equal(r.nstatus, FUNCLAT_NSTATUS);
	assert_int_equal(total(&r), 32);
	assert_int_equal(r.status[1].code, FUNCLAT_STATUS_OTHER);
	for (size_t i = 1; i < r.nstatus; i++)
		assert_true(r.status[i - 1].code < r.status[i].code);
	assert_string_equal(funclat_status_name(503, b, sizeof(b)), "503");
	assert_string_equal(funclat_status_name(FUNCLAT_STATUS_NONE, b, sizeof(b)), "none");
	assert_string_equal(funclat_status_name(FUNCLAT_STATUS_UNKNOWN, b, sizeof(b)), "unknown");
	assert_string_equal(funclat_status_name(FUNCLAT_STATUS_OTHER, b, sizeof(b)), "other");
}

static void test_table(void **state)
{
	struct gohttp_response_offsets o;

	(void)state;
	assert_false(gohttp_response_table(16, &o));
	assert_int_equal(o.status, -1);
	for (int m = 17; m <= 26; m++) {
		assert_true(gohttp_response_table(m, &o));
		assert_string_equal(o.source, "table");
		assert_int_equal(o.req, 8);
		assert_int_equal(o.wrote_header, 40);
		assert_int_equal(o.cw, 64);
		assert_int_equal(o.status, 120);
	}
	assert_false(gohttp_response_table(27, &o));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_status),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
