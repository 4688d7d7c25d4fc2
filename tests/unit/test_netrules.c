/*
 * test_netrules: the rules format of `goscope syscalls --rules`: what it
 * accepts, the FILE:LINE message of what it rejects, and which addresses
 * an allow list lets through (IPv4, IPv6, port ranges, "any", unix).
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "collect/netrules.h"

static int parse(const char *text, struct netrules *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	return netrules_parse(text, "r.rules", r, err, errlen);
}

static void test_accepts(void **state)
{
	struct netrules r;
	char err[256];

	(void)state;
	assert_int_equal(parse("# comment\n"
			       "\n"
			       "allow connect 10.0.0.0/8 port 80\n"
			       "allow connect ::1 port 1000-2000   # trailing comment\n"
			       "allow sendto any\n"
			       "allow listen port 8080\n"
			       "rate openat 100/s\n",
			       &r, err, sizeof(err)),
			 0);
	assert_int_equal(r.nallow, 4);
	assert_int_equal(r.nrate, 1);
	assert_true(r.checked[NETRULES_CONNECT]);
	assert_true(r.checked[NETRULES_SENDTO]);
	assert_true(r.checked[NETRULES_LISTEN]);
	assert_int_equal(r.allow[1].port_lo, 1000);
	assert_int_equal(r.allow[1].port_hi, 2000);
	assert_true(r.rate[0].per_sec == 100.0);
	netrules_free(&r);
}

static void expect_error(const char *text, const char *want)
{
	struct netrules r;
	char err[256] = "";

	if (parse(text, &r, err, sizeof(err)) == 0) {
		netrules_free(&r);
		fail_msg("accepted: %s", text);
	}
	if (!strstr(err, want))
		fail_msg("for %s: error '%s' lacks '%s'", text, err, want);
	netrules_free(&r);
}

static void test_rejects(void **state)
{
	(void)state;
	expect_error("allow connect 10.0.0.0/8 port 80x\n", "r.rules:1: bad port '80x'");
	expect_error("# ok\nallow connect 10.0.0.0/8 port +80\n", "r.rules:2: bad port '+80'");
	expect_error("allow connect 10.0.0.0/8 port 80-+90\n", "bad port");
	expect_error("allow connect 10.0.0.0/8 port 90-80\n", "bad port");
	expect_error("allow connect 10.0.0.0/8 port 65536\n", "bad port");
	expect_error("allow connect 10.0.0.0/33\n", "r.rules:1:");
	expect_error("allow connect 300.1.1.1\n", "r.rules:1:");
	expect_error("allow teleport 10.0.0.0/8\n", "r.rules:1:");
	expect_error("deny connect 10.0.0.0/8\n", "r.rules:1:");
	expect_error("rate nosuchcall 5/s\n", "r.rules:1:");
}

static size_t sin4(struct sockaddr_in *s, const char *ip, uint16_t port)
{
	memset(s, 0, sizeof(*s));
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &s->sin_addr), 1);
	return sizeof(*s);
}

static size_t sin6(struct sockaddr_in6 *s, const char *ip, uint16_t port)
{
	memset(s, 0, sizeof(*s));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &s->sin6_addr), 1);
	return sizeof(*s);
}

static void test_allowed(void **state)
{
	struct netrules r;
	struct sockaddr_in a;
	struct sockaddr_in6 b;
	struct sockaddr_un u = { .sun_family = AF_UNIX, .sun_path = "/run/x.sock" };
	char err[256];

	(void)state;
	assert_int_equal(parse("allow connect 10.0.0.0/8 port 80\n"
			       "allow connect 2001:db8::/32 port 1000-2000\n",
			       &r, err, sizeof(err)),
			 0);
	assert_true(netrules_allowed(&r, NETRULES_CONNECT, &a, sin4(&a, "10.1.2.3", 80)));
	assert_false(netrules_allowed(&r, NETRULES_CONNECT, &a, sin4(&a, "10.1.2.3", 81)));
	assert_false(netrules_allowed(&r, NETRULES_CONNECT, &a, sin4(&a, "11.0.0.1", 80)));
	assert_true(netrules_allowed(&r, NETRULES_CONNECT, &b, sin6(&b, "2001:db8::1", 1500)));
	assert_false(netrules_allowed(&r, NETRULES_CONNECT, &b, sin6(&b, "2001:db9::1", 1500)));
	assert_false(netrules_allowed(&r, NETRULES_CONNECT, &b, sin6(&b, "2001:db8::1", 2001)));
	/* Unix sockets are never checked; a verb without rules is not either. */
	assert_true(netrules_allowed(&r, NETRULES_CONNECT, &u, sizeof(u)));
	assert_true(netrules_allowed(&r, NETRULES_SENDTO, &a, sin4(&a, "11.0.0.1", 53)));
	netrules_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_allowed),
	};

	return cmocka_run_group_tests_name("netrules", tests, NULL, NULL);
}
