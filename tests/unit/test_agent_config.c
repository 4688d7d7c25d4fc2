/*
 * test_agent_config: the agent's settings (agent/config.c): defaults, the
 * configuration file's syntax and errors (file:line: key: why), `_` and `-`
 * alike, lists split and bounded, the command line's list replacing the
 * file's, and the listen address forms.
 */
#include "testutil.h"

#include "agent/config.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static int conf(struct agent_config *c, const char *text, char *err, size_t errlen)
{
	const struct opt *tables[] = { agent_config_table(c), NULL };

	return agent_config_parse_buf(tables, text, strlen(text), "a.conf", err, errlen);
}

static void test_defaults_and_file(void **state)
{
	struct agent_config c;
	char err[512];

	(void)state;
	agent_config_init(&c);
	assert_string_equal(c.listen, "127.0.0.1:9464");
	assert_true(c.interval == 5 && c.offcpu_freq == 2 && c.max_procs == 256);
	assert_int_equal(c.collectors, AGENT_COL_SYSCALLS | AGENT_COL_HEALTH | AGENT_COL_OFFCPU | AGENT_COL_GC);
	assert_int_equal(conf(&c, "# a comment\n\nlisten = 0.0.0.0:1234  # why\n"
				  "offcpu_freq = 5\nmax-processes=7\ncollectors = health, offcpu\n"
				  "exe = a, b,,c\njson_lines = /tmp/x.jsonl\n",
			      err, sizeof(err)),
			 0);
	assert_string_equal(c.listen, "0.0.0.0:1234");
	assert_true(c.offcpu_freq == 5 && c.max_procs == 7);
	assert_int_equal(c.collectors, AGENT_COL_HEALTH | AGENT_COL_OFFCPU);
	assert_int_equal(c.exes.n, 3);
	assert_string_equal(c.exes.item[2], "c");
	assert_string_equal(c.json_lines, "/tmp/x.jsonl");
}

static void test_file_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "listen 1.2.3.4:5\n", "a.conf:1: expected 'key = value'" },
		{ "\n\ninterval = 0.01\n", "a.conf:3: interval: must be 0.1..3600" },
		{ "interval = abc\n", "a.conf:1: interval: not a number" },
		{ "interval = inf\n", "a.conf:1: interval: not a number" },
		{ "color = blue\n", "a.conf:1: color: unknown setting" },
		{ "config = /etc/x\n", "a.conf:1: config: unknown setting" },
		{ "collectors = gpu\n", "a.conf:1: collectors: unknown collector (syscalls, health, offcpu, gc)" },
		{ "collectors = ,\n", "a.conf:1: collectors: collectors wants a list of syscalls, health, offcpu, gc" },
		{ "listen = 127.0.0.1\n", "a.conf:1: listen: want ADDR:PORT" },
		{ "listen = 1.2.3.4:70000\n", "a.conf:1: listen: bad port (want ADDR:PORT, PORT 1 to 65535)" },
		{ "max_processes = 0\n", "a.conf:1: max-processes: must be 1..4096" },
		{ "syscalls_duty = 0\n", "a.conf:1: syscalls-duty: must be 1..100" },
		{ "syscalls_duty = 101\n", "a.conf:1: syscalls-duty: must be 1..100" },
		{ "syscalls_exact = maybe\n", "a.conf:1: syscalls-exact: must be true or false" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agent_config c;
		char err[512];

		agent_config_init(&c);
		assert_int_equal(conf(&c, cases[i].text, err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].want);
	}
}

static void test_cli_list_replaces_file(void **state)
{
	static const struct opts_cmd cmd = { "agent", "", NULL, NULL };
	struct agent_config c;
	char err[512], a0[] = "agent", a1[] = "--exe", a2[] = "x,y", a3[] = "--exe", a4[] = "z";
	char *argv[] = { a0, a1, a2, a3, a4, NULL };
	const struct opt *tables[2];

	(void)state;
	agent_config_init(&c);
	tables[0] = agent_config_table(&c);
	tables[1] = NULL;
	assert_int_equal(conf(&c, "exe = a,b\n", err, sizeof(err)), 0);
	c.exes.from_file = true;
	assert_int_equal(opts_parse(&cmd, tables, 5, argv, NULL), 0);
	/* The file's a,b replaced; repeated options add up. */
	assert_int_equal(c.exes.n, 3);
	assert_string_equal(c.exes.item[0], "x");
	assert_string_equal(c.exes.item[2], "z");
}

/* funclat and http: off by default; patterns split on spaces and commas; bounds. */
static void test_latency_keys(void **state)
{
	struct agent_config c;
	char err[512];

	(void)state;
	agent_config_init(&c);
	assert_int_equal(c.funclat.n, 0);
	assert_false(c.http);
	assert_int_equal(c.funclat_max_funcs, 16);
	assert_int_equal(conf(&c, "funclat = main.(*Store).Get  *.handle,main.a\nhttp = true\n"
				  "funclat_max_funcs = 4\n",
			      err, sizeof(err)),
			 0);
	assert_int_equal(c.funclat.n, 3);
	assert_string_equal(c.funclat.item[0], "main.(*Store).Get");
	assert_string_equal(c.funclat.item[1], "*.handle");
	assert_string_equal(c.funclat.item[2], "main.a");
	assert_true(c.http);
	assert_int_equal(c.funclat_max_funcs, 4);
	assert_int_equal(conf(&c, "http = no\n", err, sizeof(err)), 0);
	assert_false(c.http);
	assert_int_equal(conf(&c, "funclat_max_funcs = 0\n", err, sizeof(err)), -1);
	assert_string_equal(err, "a.conf:1: funclat-max-funcs: must be 1..256");
	assert_int_equal(conf(&c, "http = maybe\n", err, sizeof(err)), -1);
}

/* The syscalls collector: sampled at 10% by default; duty and exact from the file. */
static void test_syscalls_keys(void **state)
{
	struct agent_config c;
	char err[512];

	(void)state;
	agent_config_init(&c);
	assert_true(c.syscalls_duty == 10);
	assert_false(c.syscalls_exact);
	assert_int_equal(conf(&c, "syscalls_duty = 25\nsyscalls-exact = true\n", err, sizeof(err)), 0);
	assert_true(c.syscalls_duty == 25);
	assert_true(c.syscalls_exact);
	assert_int_equal(conf(&c, "syscalls_exact = false\nsyscalls_duty = 100\n", err, sizeof(err)), 0);
	assert_false(c.syscalls_exact);
	assert_true(c.syscalls_duty == 100);
}

static void test_listen_forms(void **state)
{
	struct sockaddr_storage ss;
	unsigned sl;

	(void)state;
	assert_null(agent_listen_addr("127.0.0.1:9464", &ss, &sl));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_null(agent_listen_addr(":9464", &ss, &sl));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_null(agent_listen_addr("[::1]:9464", &ss, &sl));
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(sl, sizeof(struct sockaddr_in6));
	assert_non_null(agent_listen_addr("[::1]", &ss, &sl));
	assert_non_null(agent_listen_addr("host:80", &ss, &sl));
	assert_non_null(agent_listen_addr("1.2.3.4:+80", &ss, &sl));
	assert_non_null(agent_listen_addr("1.2.3.4:0", &ss, &sl));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_cli_list_replaces_file),
		cmocka_unit_test(test_listen_forms),
		cmocka_unit_test(test_latency_keys),
		cmocka_unit_test(test_syscalls_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
