/*
 * netrules: the network rules of `goscope syscalls --rules FILE`.
 *
 * One rule per line, '#' starts a comment:
 *
 *   allow connect CIDR [port P|P-Q]    destinations connect(2) may reach
 *   allow sendto CIDR [port P|P-Q]     destinations sendto(2)/sendmsg may reach
 *   allow listen [port P|P-Q]          ports bind(2)/listen(2)/accept may use
 *   rate SYSCALL N/s                   most calls per second of one process
 *
 * CIDR is IPv4 or IPv6 (a.b.c.d/n, x::y/n, or an address alone); "any"
 * matches every address. A verb with no allow rule at all is not checked;
 * once a verb has one, anything it does not allow is a violation.
 */
#ifndef GOSCOPE_NETRULES_H
#define GOSCOPE_NETRULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum netrules_verb {
	NETRULES_CONNECT = 0,
	NETRULES_SENDTO,
	NETRULES_LISTEN,
	NETRULES_NVERBS,
};

struct netrules_allow {
	enum netrules_verb verb;
	int family;         /* AF_INET, AF_INET6, or 0 for any */
	uint8_t addr[16];
	int prefix;
	uint16_t port_lo, port_hi;
};

struct netrules_rate {
	long nr;            /* syscall number */
	char name[32];
	double per_sec;
};

struct netrules {
	struct netrules_allow *allow;
	size_t nallow;
	struct netrules_rate *rate;
	size_t nrate;
	bool checked[NETRULES_NVERBS];
};

/*
 * Parse PATH. Returns 0, or -1 with "FILE:LINE: what is wrong" in ERR.
 */
int netrules_load(const char *path, struct netrules *r, char *err, size_t errlen);

/* Parse rules from TEXT (for tests and fuzzing); NAME is used in errors. */
int netrules_parse(const char *text, const char *name, struct netrules *r, char *err,
		   size_t errlen);

void netrules_free(struct netrules *r);

/*
 * Is a call of VERB to the address in SA (a struct sockaddr of SALEN
 * bytes) allowed? Non-IP families (unix sockets) are always allowed.
 */
bool netrules_allowed(const struct netrules *r, enum netrules_verb verb, const void *sa,
		      size_t salen);

/* "1.2.3.4:80", "[::1]:53", "unix:/path" or "family N" of a sockaddr. */
void netrules_format_addr(const void *sa, size_t salen, char *buf, size_t len);

#endif
