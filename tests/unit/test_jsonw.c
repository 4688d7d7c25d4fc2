/*
 * test_jsonw: the streaming JSON writer, byte for byte: commas between
 * members at every depth, escaping (checked once more by round-tripping
 * every byte through Python's json module), numbers and nulls.
 */
#include "testutil.h"

#include <math.h>

#include "output/jsonw.h"

struct capture {
	char *buf;
	size_t len;
	FILE *f;
	struct jsonw w;
};

static void cap_begin(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	jsonw_init(&c->w, c->f);
}

/* Finish and compare with WANT; frees the capture. */
static void cap_expect(struct capture *c, const char *want)
{
	assert_int_equal(fclose(c->f), 0);
	assert_string_equal(c->buf, want);
	free(c->buf);
}

static void test_empty_containers(void **state)
{
	struct capture c;

	(void)state;
	cap_begin(&c);
	jsonw_obj_begin(&c.w);
	jsonw_obj_end(&c.w);
	cap_expect(&c, "{}\n");

	cap_begin(&c);
	jsonw_arr_begin(&c.w);
	jsonw_arr_end(&c.w);
	cap_expect(&c, "[]\n");

	/* Top-level values are separate documents: no comma between them. */
	cap_begin(&c);
	jsonw_arr_begin(&c.w);
	jsonw_arr_end(&c.w);
	jsonw_obj_begin(&c.w);
	jsonw_obj_end(&c.w);
	cap_expect(&c, "[]\n{}\n");
}

static void test_commas(void **state)
{
	struct capture c;

	(void)state;
	cap_begin(&c);
	jsonw_obj_begin(&c.w);
	jsonw_kint(&c.w, "a", 1);
	jsonw_key(&c.w, "b");
	jsonw_arr_begin(&c.w);
	jsonw_int(&c.w, 1);
	jsonw_int(&c.w, 2);
	jsonw_obj_begin(&c.w);
	jsonw_key(&c.w, "c");
	jsonw_null(&c.w);
	jsonw_obj_end(&c.w);
	jsonw_arr_begin(&c.w);
	jsonw_arr_end(&c.w);
	jsonw_arr_begin(&c.w);
	jsonw_arr_begin(&c.w);
	jsonw_bool(&c.w, true);
	jsonw_arr_end(&c.w);
	jsonw_bool(&c.w, false);
	jsonw_arr_end(&c.w);
	jsonw_arr_end(&c.w);
	jsonw_key(&c.w, "d");
	jsonw_obj_begin(&c.w);
	jsonw_obj_end(&c.w);
	jsonw_kstr(&c.w, "e", "x");
	jsonw_obj_end(&c.w);
	cap_expect(&c, "{\"a\":1,\"b\":[1,2,{\"c\":null},[],[[true],false]],\"d\":{},\"e\":\"x\"}\n");
}

static void test_k_helpers(void **state)
{
	struct capture c;

	(void)state;
	cap_begin(&c);
	jsonw_obj_begin(&c.w);
	jsonw_kstr(&c.w, "s", "v");
	jsonw_kstr(&c.w, "n", NULL);
	jsonw_kint(&c.w, "i", -5);
	jsonw_kuint(&c.w, "u", 5);
	jsonw_kdouble(&c.w, "d", 0.25);
	jsonw_kbool(&c.w, "t", true);
	jsonw_kbool(&c.w, "f", false);
	jsonw_khex(&c.w, "h", 0x401000);
	jsonw_obj_end(&c.w);
	cap_expect(&c, "{\"s\":\"v\",\"n\":null,\"i\":-5,\"u\":5,\"d\":0.25,\"t\":true,"
		       "\"f\":false,\"h\":\"0x401000\"}\n");
}

static void test_numbers(void **state)
{
	struct capture c;

	(void)state;
	cap_begin(&c);
	jsonw_arr_begin(&c.w);
	jsonw_int(&c.w, INT64_MIN);
	jsonw_int(&c.w, INT64_MAX);
	jsonw_int(&c.w, 0);
	jsonw_uint(&c.w, UINT64_MAX);
	jsonw_hex(&c.w, 0);
	jsonw_hex(&c.w, UINT64_MAX);
	jsonw_double(&c.w, 1.5);
	jsonw_double(&c.w, -0.001);
	jsonw_double(&c.w, 1e300);
	jsonw_double(&c.w, 123456789.0);
	jsonw_double(&c.w, NAN);
	jsonw_double(&c.w, INFINITY);
	jsonw_double(&c.w, -INFINITY);
	jsonw_arr_end(&c.w);
	cap_expect(&c, "[-9223372036854775808,9223372036854775807,0,18446744073709551615,"
		       "\"0x0\",\"0xffffffffffffffff\",1.5,-0.001,1e+300,123456789,"
		       "null,null,null]\n");
}

static void test_escape(void **state)
{
	struct capture c;

	(void)state;
	cap_begin(&c);
	jsonw_arr_begin(&c.w);
	jsonw_str(&c.w, "plain");
	jsonw_str(&c.w, "q\"b\\s/");
	jsonw_str(&c.w, "\n\t\r\b\f\x01\x1f");
	jsonw_str(&c.w, "\x7f caf\xc3\xa9 \xe2\x82\xac \xff\xfe");
	jsonw_str(&c.w, "");
	jsonw_arr_end(&c.w);
	cap_expect(&c, "[\"plain\",\"q\\\"b\\\\s/\",\"\\n\\t\\r\\u0008\\u000c\\u0001\\u001f\","
		       "\"\x7f caf\xc3\xa9 \xe2\x82\xac \xff\xfe\",\"\"]\n");

	/* Keys are escaped the same way. */
	cap_begin(&c);
	jsonw_obj_begin(&c.w);
	jsonw_kint(&c.w, "a\"b\n", 1);
	jsonw_obj_end(&c.w);
	cap_expect(&c, "{\"a\\\"b\\n\":1}\n");

	/* jsonw_escape on its own. */
	c.buf = NULL;
	c.f = open_memstream(&c.buf, &c.len);
	assert_non_null(c.f);
	jsonw_escape(c.f, "x\\y");
	cap_expect(&c, "\"x\\\\y\"");
}

/*
 * Every byte 1..255 through the writer, then back through Python's json
 * (invalid UTF-8 carried as surrogate escapes): the same bytes return.
 */
static void test_escape_roundtrip(void **state)
{
	char in[256], tmp[] = "/tmp/goscope-jsonw-XXXXXX", cmd[256];
	char *out;
	FILE *f;
	int fd;

	(void)state;
	TU_REQUIRE(tu_have("python3"), "no python3");
	for (int i = 1; i < 256; i++)
		in[i - 1] = (char)i;
	in[255] = 0;
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	jsonw_escape(f, in);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; s=open(sys.argv[1],\"rb\").read()"
		 ".decode(\"utf-8\",\"surrogateescape\"); v=json.loads(s);"
		 " sys.stdout.buffer.write(v.encode(\"utf-8\",\"surrogateescape\").hex().encode())' %s",
		 tmp);
	out = tu_run(cmd);
	unlink(tmp);
	assert_non_null(out);
	assert_int_equal(strlen(out), 2 * 255);
	for (int i = 0; i < 255; i++) {
		unsigned v;

		assert_int_equal(sscanf(out + 2 * i, "%2x", &v), 1);
		assert_int_equal(v, (unsigned)(i + 1));
	}
	free(out);
}

/* Deeper than JSONW_MAX_DEPTH: brackets stay balanced, nothing breaks. */
static void test_too_deep(void **state)
{
	struct capture c;
	int open = 0, close = 0;

	(void)state;
	cap_begin(&c);
	for (int i = 0; i < JSONW_MAX_DEPTH + 8; i++)
		jsonw_arr_begin(&c.w);
	jsonw_int(&c.w, 7);
	for (int i = 0; i < JSONW_MAX_DEPTH + 8; i++)
		jsonw_arr_end(&c.w);
	assert_int_equal(fclose(c.f), 0);
	for (size_t i = 0; i < c.len; i++) {
		open += c.buf[i] == '[';
		close += c.buf[i] == ']';
	}
	assert_int_equal(open, JSONW_MAX_DEPTH + 8);
	assert_int_equal(close, JSONW_MAX_DEPTH + 8);
	assert_non_null(strstr(c.buf, "[7]"));
	free(c.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_containers),
		cmocka_unit_test(test_commas),
		cmocka_unit_test(test_k_helpers),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_roundtrip),
		cmocka_unit_test(test_too_deep),
	};

	return cmocka_run_group_tests_name("jsonw", tests, NULL, NULL);
}
