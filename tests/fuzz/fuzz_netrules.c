/*
 * fuzz_netrules: the rules file of `goscope syscalls --rules` on any text:
 * the parser (rules, comments, CIDRs, port ranges, rates), its FILE:LINE
 * error message, then the rules it accepted applied to a few addresses.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "collect/netrules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct netrules r;
	char err[256];
	volatile size_t sink = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	memset(&r, 0, sizeof(r));
	err[0] = 0;
	if (netrules_parse(text, "fuzz.rules", &r, err, sizeof(err)) == 0) {
		struct sockaddr_in in4 = { .sin_family = AF_INET, .sin_port = htons(80) };
		struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(443) };
		struct sockaddr_un un = { .sun_family = AF_UNIX, .sun_path = "/run/x.sock" };
		char buf[128];

		in4.sin_addr.s_addr = htonl(0x0a000001);
		in6.sin6_addr.s6_addr[15] = 1;
		for (int v = 0; v < NETRULES_NVERBS; v++) {
			sink += netrules_allowed(&r, (enum netrules_verb)v, &in4, sizeof(in4));
			sink += netrules_allowed(&r, (enum netrules_verb)v, &in6, sizeof(in6));
			sink += netrules_allowed(&r, (enum netrules_verb)v, &un, sizeof(un));
			/* A truncated address must not be read past its length. */
			sink += netrules_allowed(&r, (enum netrules_verb)v, &in6, 8);
		}
		for (size_t i = 0; i < r.nallow; i++)
			if (r.allow[i].port_lo > r.allow[i].port_hi || r.allow[i].prefix < 0 ||
			    r.allow[i].prefix > 128)
				__builtin_trap();
		netrules_format_addr(&in6, sizeof(in6), buf, sizeof(buf));
		sink += strlen(buf);
	} else {
		/* Every rejection says where: "fuzz.rules:LINE: ...". */
		if (strncmp(err, "fuzz.rules", 10) != 0)
			__builtin_trap();
	}
	netrules_free(&r);
	(void)sink;
	free(text);
	return 0;
}
