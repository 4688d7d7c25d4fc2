/*
 * netrules: parse and evaluate network rules (see netrules.h).
 */
#include "netrules.h"

#include "../proc/syscalls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#define NETRULES_MAX_FILE (1 << 20)

void netrules_free(struct netrules *r)
{
	free(r->allow);
	free(r->rate);
	memset(r, 0, sizeof(*r));
}

/* Split LINE into at most MAX whitespace-separated words (in place). */
static int netrules_words(char *line, char **w, int max)
{
	int n = 0;
	char *p = line;

	while (*p && n < max + 1) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		if (n == max)
			return max + 1;
		w[n++] = p;
		while (*p && !isspace((unsigned char)*p) && *p != '#')
			p++;
		if (*p == '#') {
			*p = 0;
			break;
		}
		if (*p)
			*p++ = 0;
	}
	return n;
}

static bool netrules_port(const char *s, uint16_t *lo, uint16_t *hi)
{
	char *end;
	long a, b;

	/* Digits only: strtol would take "+80", " 80" or "-0". */
	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	a = strtol(s, &end, 10);
	if (errno || end == s || a < 0 || a > 65535)
		return false;
	b = a;
	if (*end == '-') {
		const char *t = end + 1;

		if (!isdigit((unsigned char)t[0]))
			return false;
		b = strtol(t, &end, 10);
		if (errno || end == t || b < a || b > 65535)
			return false;
	}
	if (*end)
		return false;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return true;
}

static bool netrules_cidr(const char *s, struct netrules_allow *a)
{
	char buf[64];
	char *slash;
	long pfx = -1;

	if (strcmp(s, "any") == 0) {
		a->family = 0;
		a->prefix = 0;
		return true;
	}
	if (strlen(s) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash) {
		char *end;

		*slash = 0;
		errno = 0;
		pfx = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || pfx < 0)
			return false;
	}
	if (inet_pton(AF_INET, buf, a->addr) == 1) {
		a->family = AF_INET;
		if (pfx > 32)
			return false;
		a->prefix = pfx < 0 ? 32 : (int)pfx;
		return true;
	}
	if (inet_pton(AF_INET6, buf, a->addr) == 1) {
		a->family = AF_INET6;
		if (pfx > 128)
			return false;
		a->prefix = pfx < 0 ? 128 : (int)pfx;
		return true;
	}
	return false;
}

static int netrules_line(char *line, struct netrules *r, char *why, size_t whylen)
{
	char *w[6];
	int n = netrules_words(line, w, 5);

	if (n == 0)
		return 0;
	if (n > 5) {
		snprintf(why, whylen, "too many words");
		return -1;
	}
	if (strcmp(w[0], "allow") == 0) {
		struct netrules_allow a = { .port_lo = 0, .port_hi = 65535 };
		int i = 2;
		struct netrules_allow *na;

		if (n < 2) {
			snprintf(why, whylen, "'allow' needs connect, sendto or listen");
			return -1;
		}
		if (strcmp(w[1], "connect") == 0)
			a.verb = NETRULES_CONNECT;
		else if (strcmp(w[1], "sendto") == 0)
			a.verb = NETRULES_SENDTO;
		else if (strcmp(w[1], "listen") == 0)
			a.verb = NETRULES_LISTEN;
		else {
			snprintf(why, whylen, "unknown verb '%s' (connect, sendto or listen)", w[1]);
			return -1;
		}
		if (a.verb != NETRULES_LISTEN) {
			if (n < 3) {
				snprintf(why, whylen, "'allow %s' needs an address (CIDR or any)", w[1]);
				return -1;
			}
			if (!netrules_cidr(w[2], &a)) {
				snprintf(why, whylen, "bad address '%s' (want a.b.c.d/n, x::y/n or any)",
					 w[2]);
				return -1;
			}
			i = 3;
		}
		if (i < n) {
			if (strcmp(w[i], "port") != 0 || i + 1 >= n) {
				snprintf(why, whylen, "expected 'port P' or 'port P-Q' after the address");
				return -1;
			}
			if (!netrules_port(w[i + 1], &a.port_lo, &a.port_hi)) {
				snprintf(why, whylen, "bad port '%s' (0-65535, or a range P-Q)", w[i + 1]);
				return -1;
			}
			if (i + 2 < n) {
				snprintf(why, whylen, "unexpected '%s'", w[i + 2]);
				return -1;
			}
		} else if (a.verb == NETRULES_LISTEN) {
			snprintf(why, whylen, "'allow listen' needs 'port P' or 'port P-Q'");
			return -1;
		}
		na = realloc(r->allow, (r->nallow + 1) * sizeof(*na));
		if (!na) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		r->allow = na;
		r->allow[r->nallow++] = a;
		r->checked[a.verb] = true;
		return 0;
	}
	if (strcmp(w[0], "rate") == 0) {
		struct netrules_rate rt = { 0 };
		struct netrules_rate *nr;
		char *end;

		if (n != 3) {
			snprintf(why, whylen, "'rate' wants: rate SYSCALL N/s");
			return -1;
		}
		rt.nr = syscalls_number(w[1]);
		if (rt.nr < 0) {
			snprintf(why, whylen, "unknown syscall '%s'", w[1]);
			return -1;
		}
		snprintf(rt.name, sizeof(rt.name), "%s", w[1]);
		errno = 0;
		rt.per_sec = strtod(w[2], &end);
		if (errno || end == w[2] || strcmp(end, "/s") != 0 || !(rt.per_sec > 0) ||
		    !isfinite(rt.per_sec)) {
			snprintf(why, whylen, "bad rate '%s' (want N/s, N > 0)", w[2]);
			return -1;
		}
		nr = realloc(r->rate, (r->nrate + 1) * sizeof(*nr));
		if (!nr) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		r->rate = nr;
		r->rate[r->nrate++] = rt;
		return 0;
	}
	snprintf(why, whylen, "unknown rule '%s' (allow or rate)", w[0]);
	return -1;
}

int netrules_parse(const char *text, const char *name, struct netrules *r, char *err,
		   size_t errlen)
{
	char *copy = strdup(text), *line, *next;
	int lineno = 0;

	memset(r, 0, sizeof(*r));
	if (!copy) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	for (line = copy; line; line = next) {
		char why[160];

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		if (netrules_line(line, r, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
			free(copy);
			netrules_free(r);
			return -1;
		}
	}
	free(copy);
	return 0;
}

int netrules_load(const char *path, struct netrules *r, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(NETRULES_MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	n = fread(buf, 1, NETRULES_MAX_FILE + 1, f);
	fclose(f);
	if (n > NETRULES_MAX_FILE) {
		free(buf);
		snprintf(err, errlen, "%s: larger than 1 MiB", path);
		return -1;
	}
	buf[n] = 0;
	if (memchr(buf, 0, n)) {
		free(buf);
		snprintf(err, errlen, "%s: not a text file", path);
		return -1;
	}
	rc = netrules_parse(buf, path, r, err, errlen);
	free(buf);
	return rc;
}

static bool netrules_prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));

	return (a[full] & mask) == (b[full] & mask);
}

bool netrules_allowed(const struct netrules *r, enum netrules_verb verb, const void *sa,
		      size_t salen)
{
	const uint8_t *addr;
	int family;
	uint16_t port;

	if (!r->checked[verb])
		return true;
	if (salen < sizeof(sa_family_t))
		return true;
	family = ((const struct sockaddr *)sa)->sa_family;
	if (family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = sa;

		addr = (const uint8_t *)&in->sin_addr;
		port = ntohs(in->sin_port);
	} else if (family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = sa;

		addr = (const uint8_t *)&in6->sin6_addr;
		port = ntohs(in6->sin6_port);
	} else {
		return true; /* unix, netlink, unspecified: not network destinations */
	}
	for (size_t i = 0; i < r->nallow; i++) {
		const struct netrules_allow *a = &r->allow[i];

		if (a->verb != verb || port < a->port_lo || port > a->port_hi)
			continue;
		if (a->family == 0 && a->prefix == 0)
			return true;
		if (verb == NETRULES_LISTEN)
			return true;
		if (a->family == family &&
		    netrules_prefix_match(addr, a->addr, a->prefix))
			return true;
	}
	return false;
}

void netrules_format_addr(const void *sa, size_t salen, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	int family;

	if (salen < sizeof(sa_family_t)) {
		snprintf(buf, len, "-");
		return;
	}
	family = ((const struct sockaddr *)sa)->sa_family;
	if (family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(in->sin_port));
	} else if (family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else if (family == AF_UNIX) {
		const struct sockaddr_un *un = sa;
		size_t n = salen - offsetof(struct sockaddr_un, sun_path);

		if (n > sizeof(un->sun_path))
			n = sizeof(un->sun_path);
		if (n > 0 && un->sun_path[0] == 0)
			snprintf(buf, len, "unix:@%.*s", (int)strnlen(un->sun_path + 1, n - 1),
				 un->sun_path + 1);
		else
			snprintf(buf, len, "unix:%.*s", (int)strnlen(un->sun_path, n), un->sun_path);
	} else {
		snprintf(buf, len, "family %d", family);
	}
}
