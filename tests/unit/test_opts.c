/*
 * test_opts: the option table every command parses with (core/opts.c):
 * each value type with its range, the values that must never pass (inf,
 * nan, 1e300, 2^63, "5x", a negative or zero pid), the GNU spellings
 * (--name=val, -kVAL, --), positional words, --help, opts_set (the
 * agent's configuration file) and, for every rejection, the exact one
 * line on stderr with nothing on stdout.
 */
#include "testutil.h"

#include <math.h>

#include "core/opts.h"

/* The destinations of the test table, reset before each parse. */
static bool t_flag, t_flag2;
static const char *t_str;
static double t_dbl, t_free;
static long long t_int, t_any;
static int t_choice;
static struct opts_pids t_pids;
static size_t t_even;

static int t_parse_even(const char *val, void *dst, char *err, size_t errlen)
{
	if (strlen(val) % 2) {
		snprintf(err, errlen, "must have an even length");
		return -1;
	}
	*(size_t *)dst = strlen(val);
	return 0;
}

static const char *const t_modes[] = { "top", "folded", "pprof", NULL };

static const struct opt t_table[] = {
	{ "json", 0, OPT_FLAG, &t_flag, NULL, "one JSON object per line" },
	{ "verbose", 'v', OPT_FLAG, &t_flag2, NULL, "libbpf's log" },
	{ "output", 'o', OPT_STR, &t_str, "FILE", "write to FILE" },
	{ "duration", 'd', OPT_DOUBLE, &t_dbl, "SEC", "stop after SEC seconds", 0.1, 86400 },
	{ "ratio", 0, OPT_DOUBLE, &t_free, "X", "a double without a range" },
	{ "freq", 'F', OPT_INT, &t_int, "HZ", "samples a second", 1, 1000 },
	{ "goid", 0, OPT_INT, &t_any, "N", "an integer without a range" },
	{ "format", 'f', OPT_CHOICE, &t_choice, "FMT", "top, folded or pprof", 0, 0, t_modes },
	{ "pid", 'p', OPT_PID, &t_pids, "PID", "trace PID" },
	{ "even", 'e', OPT_FN, &t_even, "S", "a custom parser", 0, 0, NULL, t_parse_even },
	{ "secret", 0, OPT_FLAG, &t_flag2, NULL, NULL },
	{ NULL },
};
static const struct opt *const t_tables[] = { t_table, NULL };
static const struct opts_cmd t_cmd = { "t", "[-p PID ...] [-d SEC]", "A test command.",
				       "See the README." };

struct t_run {
	int rc;
	char *out, *err;
	size_t outlen, errlen;
	struct opts_rest rest;
	char *argv[32];
};

static void t_reset(void)
{
	t_flag = t_flag2 = false;
	t_str = NULL;
	t_dbl = t_free = -7;
	t_int = t_any = -7;
	t_choice = -7;
	memset(&t_pids, 0, sizeof(t_pids));
	t_even = 0;
}

/* Parse "t" + the NULL-ended words (with REST when WITH_REST), capturing output. */
static void t_parse(struct t_run *r, bool with_rest, ...)
{
	FILE *out, *err, *save_out = stdout, *save_err = stderr;
	va_list ap;
	int argc = 0;
	const char *w;

	memset(r, 0, sizeof(*r));
	t_reset();
	r->argv[argc++] = (char *)"t";
	va_start(ap, with_rest);
	while ((w = va_arg(ap, const char *)) != NULL && argc < 31)
		r->argv[argc++] = (char *)w;
	va_end(ap);
	r->argv[argc] = NULL;
	out = open_memstream(&r->out, &r->outlen);
	err = open_memstream(&r->err, &r->errlen);
	assert_non_null(out);
	assert_non_null(err);
	stdout = out;
	stderr = err;
	r->rc = opts_parse(&t_cmd, t_tables, argc, r->argv, with_rest ? &r->rest : NULL);
	stdout = save_out;
	stderr = save_err;
	fclose(out);
	fclose(err);
}

static void t_free_run(struct t_run *r)
{
	free(r->out);
	free(r->err);
}

/* The words must be rejected with exactly the line WANT (without "\n"). */
#define T_REJECT(want, ...)                                                           \
	do {                                                                          \
		struct t_run r_;                                                      \
		t_parse(&r_, false, __VA_ARGS__, NULL);                               \
		if (r_.rc != -1 || r_.outlen != 0 ||                                  \
		    strcmp(r_.err, want "\n") != 0)                                   \
			fail_msg("%s: rc %d, stdout '%s', stderr '%s', want '%s'",   \
				 #__VA_ARGS__, r_.rc, r_.out, r_.err, want);          \
		t_free_run(&r_);                                                      \
	} while (0)

#define T_ACCEPT(...)                                                                 \
	do {                                                                          \
		struct t_run r_;                                                      \
		t_parse(&r_, false, __VA_ARGS__, NULL);                               \
		if (r_.rc != 0 || r_.outlen || r_.errlen)                             \
			fail_msg("%s: rc %d, stderr '%s'", #__VA_ARGS__, r_.rc,       \
				 r_.err);                                             \
		t_free_run(&r_);                                                      \
	} while (0)

static void test_types(void **state)
{
	(void)state;
	T_ACCEPT("--json", "-v", "-o", "out.txt", "-d", "2.5", "--ratio", "-3e5", "-F", "99",
		 "--goid", "-42", "-f", "folded", "-p", "7", "-e", "ab");
	assert_true(t_flag);
	assert_true(t_flag2);
	assert_string_equal(t_str, "out.txt");
	assert_true(t_dbl == 2.5);
	assert_true(t_free == -3e5);
	assert_int_equal(t_int, 99);
	assert_int_equal(t_any, -42);
	assert_int_equal(t_choice, 1);
	assert_int_equal(t_pids.n, 1);
	assert_int_equal(t_pids.pid[0], 7);
	assert_int_equal(t_even, 2);
	/* Options not given keep their defaults. */
	T_ACCEPT("-F", "1");
	assert_int_equal(t_int, 1);
	assert_true(t_dbl == -7);
	assert_null(t_str);
	/* The range ends are in the range. */
	T_ACCEPT("-d", "0.1", "-F", "1000", "-f", "top");
	assert_true(t_dbl == 0.1);
	assert_int_equal(t_int, 1000);
	assert_int_equal(t_choice, 0);
	T_ACCEPT("-d", "86400");
	assert_true(t_dbl == 86400);
}

static void test_bad_doubles(void **state)
{
	(void)state;
	T_REJECT("goscope: t: -d inf: not a number", "-d", "inf");
	T_REJECT("goscope: t: -d -inf: not a number", "-d", "-inf");
	T_REJECT("goscope: t: -d nan: not a number", "-d", "nan");
	T_REJECT("goscope: t: -d NaN: not a number", "-d", "NaN");
	T_REJECT("goscope: t: -d infinity: not a number", "-d", "infinity");
	T_REJECT("goscope: t: -d 1e999: not a number", "-d", "1e999");
	T_REJECT("goscope: t: -d 1e300: must be 0.1..86400", "-d", "1e300");
	T_REJECT("goscope: t: -d 9223372036854775808: must be 0.1..86400", "-d",
		 "9223372036854775808");
	T_REJECT("goscope: t: -d -1: must be 0.1..86400", "-d", "-1");
	T_REJECT("goscope: t: -d 0: must be 0.1..86400", "-d", "0");
	T_REJECT("goscope: t: -d 0.09: must be 0.1..86400", "-d", "0.09");
	T_REJECT("goscope: t: -d 86400.5: must be 0.1..86400", "-d", "86400.5");
	T_REJECT("goscope: t: -d 5x: not a number", "-d", "5x");
	T_REJECT("goscope: t: -d : not a number", "-d", "");
	T_REJECT("goscope: t: -d 5 : not a number", "-d", "5 ");
	T_REJECT("goscope: t: -d abc: not a number", "-d", "abc");
	T_REJECT("goscope: t: --ratio nan: not a number", "--ratio", "nan");
	T_REJECT("goscope: t: --ratio inf: not a number", "--ratio", "inf");
	/* Without a range, any finite double passes (1e300 too). */
	T_ACCEPT("--ratio", "1e300");
	assert_true(t_free == 1e300);
}

static void test_bad_ints(void **state)
{
	(void)state;
	T_REJECT("goscope: t: -F 100000: must be 1..1000", "-F", "100000");
	T_REJECT("goscope: t: -F 0: must be 1..1000", "-F", "0");
	T_REJECT("goscope: t: -F -1: must be 1..1000", "-F", "-1");
	T_REJECT("goscope: t: -F 5x: not an integer", "-F", "5x");
	T_REJECT("goscope: t: -F 1e3: not an integer", "-F", "1e3");
	T_REJECT("goscope: t: -F 1.5: not an integer", "-F", "1.5");
	T_REJECT("goscope: t: -F inf: not an integer", "-F", "inf");
	T_REJECT("goscope: t: -F nan: not an integer", "-F", "nan");
	T_REJECT("goscope: t: -F +5: not an integer", "-F", "+5");
	T_REJECT("goscope: t: -F  5: not an integer", "-F", " 5");
	T_REJECT("goscope: t: -F 0x10: not an integer", "-F", "0x10");
	T_REJECT("goscope: t: -F : not an integer", "-F", "");
	T_REJECT("goscope: t: -F -: not an integer", "-F", "-");
	/* 2^63 does not fit; 2^63-1 does (no range). */
	T_REJECT("goscope: t: --goid 9223372036854775808: not an integer", "--goid",
		 "9223372036854775808");
	T_REJECT("goscope: t: --goid -9223372036854775809: not an integer", "--goid",
		 "-9223372036854775809");
	T_REJECT("goscope: t: --goid 1e300: not an integer", "--goid", "1e300");
	T_ACCEPT("--goid", "9223372036854775807");
	assert_true(t_any == INT64_MAX);
}

static void test_other_values(void **state)
{
	struct t_run r;

	(void)state;
	T_REJECT("goscope: t: -p abc: not a pid", "-p", "abc");
	T_REJECT("goscope: t: -p 0: not a pid", "-p", "0");
	T_REJECT("goscope: t: -p -1: not a pid", "-p", "-1");
	T_REJECT("goscope: t: -p 4194305: not a pid", "-p", "4194305");
	T_REJECT("goscope: t: -p 9223372036854775808: not a pid", "-p", "9223372036854775808");
	T_REJECT("goscope: t: -p 12x: not a pid", "-p", "12x");
	T_REJECT("goscope: t: -f flame: must be one of top, folded, pprof", "-f", "flame");
	T_REJECT("goscope: t: -f : must be one of top, folded, pprof", "-f", "");
	T_REJECT("goscope: t: -o : empty value", "-o", "");
	T_REJECT("goscope: t: --output : empty value", "--output=");
	T_REJECT("goscope: t: -e abc: must have an even length", "-e", "abc");
	/* -p X -p X is one target; the order is kept. */
	t_parse(&r, false, "-p", "5", "-p", "3", "-p5", "--pid=3", "--pid", "9", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(t_pids.n, 3);
	assert_int_equal(t_pids.pid[0], 5);
	assert_int_equal(t_pids.pid[1], 3);
	assert_int_equal(t_pids.pid[2], 9);
	t_free_run(&r);
	T_ACCEPT("-p", "4194304");
	/* The last of a repeated value wins. */
	T_ACCEPT("-d", "1", "-d", "2");
	assert_true(t_dbl == 2);
	/* A value holding a newline still gives one line. */
	T_REJECT("goscope: t: -d 5?rm: not a number", "-d", "5\nrm");
	T_REJECT("goscope: t: unknown option --a?b (see --help)", "--a\nb");
	/* A long value is cut, the line keeps its reason. */
	T_REJECT("goscope: t: -d "
		 "123456789012345678901234567890123456789012345678901234567890: not a number",
		 "-d", "1234567890123456789012345678901234567890123456789012345678901234567890x");
}

static void test_spellings(void **state)
{
	(void)state;
	T_ACCEPT("--duration=1.5", "--freq=7", "--format=pprof", "--output=o", "--json");
	assert_true(t_dbl == 1.5);
	assert_int_equal(t_int, 7);
	assert_int_equal(t_choice, 2);
	assert_string_equal(t_str, "o");
	T_ACCEPT("-d0.5", "-F12", "-fpprof", "-ox", "-p42");
	assert_true(t_dbl == 0.5);
	assert_int_equal(t_int, 12);
	assert_int_equal(t_choice, 2);
	assert_string_equal(t_str, "x");
	assert_int_equal(t_pids.pid[0], 42);
	/* A value may start with '-': it is the option's value, not an option. */
	T_ACCEPT("-o", "-d", "--goid", "-5");
	assert_string_equal(t_str, "-d");
	assert_int_equal(t_any, -5);
	/* --name= is an empty value. */
	T_REJECT("goscope: t: --duration : not a number", "--duration=");
	/* Flags take no value. */
	T_REJECT("goscope: t: --json takes no value", "--json=1");
	T_REJECT("goscope: t: unknown option -vx (see --help)", "-vx");
}

static void test_unknown_and_missing(void **state)
{
	(void)state;
	T_REJECT("goscope: t: unknown option --nope (see --help)", "--nope");
	T_REJECT("goscope: t: unknown option --nope (see --help)", "--nope=3");
	T_REJECT("goscope: t: unknown option -z (see --help)", "-z");
	T_REJECT("goscope: t: unknown option -z (see --help)", "-z5");
	T_REJECT("goscope: t: unknown option --js (see --help)", "--js");
	T_REJECT("goscope: t: unknown option --JSON (see --help)", "--JSON");
	T_REJECT("goscope: t: unknown option --secre (see --help)", "--secre");
	T_REJECT("goscope: t: -d needs a value", "-d");
	T_REJECT("goscope: t: --duration needs a value", "--duration");
	T_REJECT("goscope: t: -p needs a value", "-p");
	T_REJECT("goscope: t: -d needs a value", "-F", "5", "-d");
	/* The first bad word is the one reported, and parsing stops there. */
	T_REJECT("goscope: t: -F 0: must be 1..1000", "-F", "0", "--nope");
	/* No positional words without a REST: the hint names -p. */
	T_REJECT("goscope: t: unexpected argument '1234' (targets are given with -p PID)",
		 "1234");
	T_REJECT("goscope: t: unexpected argument '-' (targets are given with -p PID)", "-");
	T_REJECT("goscope: t: unexpected argument '-d' (targets are given with -p PID)", "--",
		 "-d");
	/* A hidden option (no help line) is still an option. */
	T_ACCEPT("--secret");
	assert_true(t_flag2);
}

static void test_positional(void **state)
{
	struct t_run r;

	(void)state;
	t_parse(&r, true, "a", "-d", "2", "b", "--json", "-", "--", "-F", "--nope", "c", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.errlen, 0);
	assert_true(t_dbl == 2);
	assert_true(t_flag);
	assert_true(t_int == -7); /* after "--": words, not options */
	assert_int_equal(r.rest.argc, 6);
	assert_string_equal(r.rest.argv[0], "a");
	assert_string_equal(r.rest.argv[1], "b");
	assert_string_equal(r.rest.argv[2], "-");
	assert_string_equal(r.rest.argv[3], "-F");
	assert_string_equal(r.rest.argv[4], "--nope");
	assert_string_equal(r.rest.argv[5], "c");
	assert_null(r.rest.argv[6]);
	t_free_run(&r);
	/* None at all. */
	t_parse(&r, true, "-F", "3", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.rest.argc, 0);
	assert_null(r.rest.argv[0]);
	t_free_run(&r);
	/* A value is never a positional word. */
	t_parse(&r, true, "-o", "file", "x", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.rest.argc, 1);
	assert_string_equal(r.rest.argv[0], "x");
	assert_string_equal(t_str, "file");
	t_free_run(&r);
}

static void test_help(void **state)
{
	struct t_run r;

	(void)state;
	for (int i = 0; i < 3; i++) {
		const char *w = i == 0 ? "--help" : i == 1 ? "-h" : "--help";

		/* --help wins wherever it is, even after a bad-looking word later. */
		if (i == 2)
			t_parse(&r, false, "-F", "3", w, "--nope", NULL);
		else
			t_parse(&r, false, w, NULL);
		assert_int_equal(r.rc, 1);
		assert_int_equal(r.errlen, 0);
		assert_non_null(strstr(r.out, "usage: goscope t [-p PID ...] [-d SEC]\n"));
		assert_true(strncmp(r.out, "usage: goscope t ", 17) == 0);
		assert_non_null(strstr(r.out, "A test command.\n"));
		assert_non_null(strstr(r.out, "  -d, --duration SEC"));
		assert_non_null(strstr(r.out, "stop after SEC seconds\n"));
		assert_non_null(strstr(r.out, "      --json "));
		assert_non_null(strstr(r.out, "\nSee the README.\n"));
		assert_null(strstr(r.out, "secret")); /* no help line: not listed */
		t_free_run(&r);
	}
	/* A bad option before --help is reported (left to right). */
	T_REJECT("goscope: t: unknown option --nope (see --help)", "--nope", "--help");
}

static void test_set(void **state)
{
	char err[128];

	(void)state;
	t_reset();
	assert_int_equal(opts_set(t_tables, "json", "true", err, sizeof(err)), 0);
	assert_true(t_flag);
	assert_int_equal(opts_set(t_tables, "json", "no", err, sizeof(err)), 0);
	assert_false(t_flag);
	assert_int_equal(opts_set(t_tables, "json", "1", err, sizeof(err)), 0);
	assert_true(t_flag);
	assert_int_equal(opts_set(t_tables, "json", "0", err, sizeof(err)), 0);
	assert_false(t_flag);
	assert_int_equal(opts_set(t_tables, "json", "maybe", err, sizeof(err)), -1);
	assert_string_equal(err, "must be true or false");
	assert_int_equal(opts_set(t_tables, "freq", "50", err, sizeof(err)), 0);
	assert_int_equal(t_int, 50);
	assert_int_equal(opts_set(t_tables, "freq", "5000", err, sizeof(err)), -1);
	assert_string_equal(err, "must be 1..1000");
	assert_int_equal(opts_set(t_tables, "duration", "nan", err, sizeof(err)), -1);
	assert_string_equal(err, "not a number");
	assert_int_equal(opts_set(t_tables, "format", "top", err, sizeof(err)), 0);
	assert_int_equal(t_choice, 0);
	assert_int_equal(opts_set(t_tables, "nope", "1", err, sizeof(err)), -1);
	assert_string_equal(err, "unknown setting");
	/* Long names only: a short key is not a setting. */
	assert_int_equal(opts_set(t_tables, "F", "5", err, sizeof(err)), -1);
}

static void test_typed_parsers(void **state)
{
	char err[128];
	double d;
	long long v;
	struct opts_pids p = { .n = 0 };

	(void)state;
	assert_int_equal(opts_parse_double("1e-3", 0, 0, &d, err, sizeof(err)), 0);
	assert_true(d == 1e-3);
	assert_int_equal(opts_parse_double("1e-400", 0, 0, &d, err, sizeof(err)), -1);
	assert_int_equal(opts_parse_int("-0", -1, 1, &v, err, sizeof(err)), 0);
	assert_true(v == 0);
	assert_int_equal(opts_parse_int("007", 0, 0, &v, err, sizeof(err)), 0);
	assert_true(v == 7);
	/* -p X -p X is one target; the table is bounded. */
	for (int i = 1; i <= OPTS_MAX_PIDS; i++) {
		char s[16];

		snprintf(s, sizeof(s), "%d", i);
		assert_int_equal(opts_parse_pid(s, &p, err, sizeof(err)), 0);
		assert_int_equal(opts_parse_pid(s, &p, err, sizeof(err)), 0);
	}
	assert_int_equal(p.n, OPTS_MAX_PIDS);
	assert_int_equal(opts_parse_pid("100000", &p, err, sizeof(err)), -1);
	assert_string_equal(err, "at most 256 pids");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_bad_doubles),
		cmocka_unit_test(test_bad_ints),
		cmocka_unit_test(test_other_values),
		cmocka_unit_test(test_spellings),
		cmocka_unit_test(test_unknown_and_missing),
		cmocka_unit_test(test_positional),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_typed_parsers),
	};

	return cmocka_run_group_tests_name("opts", tests, NULL, NULL);
}
