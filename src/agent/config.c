/*
 * agent/config: the agent's option table and configuration file (see
 * config.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

const char *agent_listen_addr(const char *spec, struct sockaddr_storage *ss, unsigned *sl)
{
	char host[128];
	const char *colon = strrchr(spec, ':');
	long port;
	char *end;
	size_t hl;

	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return "want ADDR:PORT";
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || errno || port < 1 || port > 65535 ||
	    !isdigit((unsigned char)colon[1]))
		return "bad port (want ADDR:PORT, PORT 1 to 65535)";
	memset(ss, 0, sizeof(*ss));
	hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = 0;
	}
	if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0",
		      &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*sl = sizeof(struct sockaddr_in6);
	} else {
		return "ADDR is not an IP address";
	}
	return NULL;
}

static int agent_parse_listen(const char *val, void *dst, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	unsigned sl;
	const char *why = agent_listen_addr(val, &ss, &sl);

	if (!why && strlen(val) >= sizeof(((struct agent_config *)0)->listen))
		why = "want ADDR:PORT";
	if (why) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	snprintf(dst, sizeof(((struct agent_config *)0)->listen), "%s", val);
	return 0;
}

static int agent_parse_path(const char *val, void *dst, char *err, size_t errlen)
{
	struct agent_config *c = dst;

	if (!*val || strlen(val) >= sizeof(c->json_lines_buf)) {
		snprintf(err, errlen, "want a file name or -");
		return -1;
	}
	/* Set again (file, then command line): the last one wins. */
	snprintf(c->json_lines_buf, sizeof(c->json_lines_buf), "%s", val);
	c->json_lines = c->json_lines_buf;
	return 0;
}

/*
 * VAL's items into the list at DST, split at commas (and at blanks too
 * when BLANKS; otherwise blanks around an item are trimmed). The command
 * line's list replaces the file's. WHAT names the items in the error.
 */
static int agent_split_list(const char *val, void *dst, bool blanks, const char *what, char *err,
			    size_t errlen)
{
	struct agent_list *l = dst;
	const char *p = val;

	if (l->from_file) {
		l->n = 0;
		l->from_file = false;
	}
	while (*p) {
		size_t n;

		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		n = strcspn(p, blanks ? ", \t" : ",");
		while (!blanks && n && isspace((unsigned char)p[n - 1]))
			n--;
		if (!n)
			continue;
		if (l->n >= AGENT_MAX_FILTERS || n >= sizeof(l->item[0])) {
			snprintf(err, errlen, "at most %d %s of %zu bytes", AGENT_MAX_FILTERS, what,
				 sizeof(l->item[0]) - 1);
			return -1;
		}
		memcpy(l->item[l->n], p, n);
		l->item[l->n++][n] = 0;
		p += n;
	}
	return 0;
}

static int agent_parse_list(const char *val, void *dst, char *err, size_t errlen)
{
	return agent_split_list(val, dst, false, "names", err, errlen);
}

/* Patterns: separated by spaces or commas. */
static int agent_parse_patterns(const char *val, void *dst, char *err, size_t errlen)
{
	return agent_split_list(val, dst, true, "patterns", err, errlen);
}

static int agent_parse_collectors(const char *val, void *dst, char *err, size_t errlen)
{
	static const char *const names[] = { "syscalls", "health", "offcpu", "gc" };
	const size_t nnames = sizeof(names) / sizeof(names[0]);
	struct agent_list l = { .n = 0 };
	int *bits = dst;

	if (agent_parse_list(val, &l, err, errlen) != 0 || l.n == 0) {
		snprintf(err, errlen, "collectors wants a list of syscalls, health, offcpu, gc");
		return -1;
	}
	*bits = 0;
	for (size_t i = 0; i < l.n; i++) {
		size_t k;

		for (k = 0; k < nnames && strcmp(l.item[i], names[k]) != 0; k++)
			;
		if (k == nnames) {
			snprintf(err, errlen, "unknown collector (syscalls, health, offcpu, gc)");
			return -1;
		}
		*bits |= 1 << k;
	}
	return 0;
}

void agent_config_init(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "127.0.0.1:9464");
	c->interval = 5;
	c->offcpu_freq = 2;
	c->collectors = AGENT_COL_SYSCALLS | AGENT_COL_HEALTH | AGENT_COL_OFFCPU | AGENT_COL_GC;
	c->max_procs = 256;
	c->funclat_max_funcs = 16;
	c->syscalls_duty = AGENT_SYSCALLS_DUTY_PCT;
}

const struct opt *agent_config_table(struct agent_config *c)
{
	static struct opt tab[24];
	size_t n = 0;

	tab[n++] = (struct opt){ "listen", 0, OPT_FN, c->listen, "ADDR:PORT",
				 "where to serve /metrics (default 127.0.0.1:9464)",
				 .parse = agent_parse_listen };
	tab[n++] = (struct opt){ "interval", 0, OPT_DOUBLE, &c->interval, "SEC",
				 "collection interval (default 5)", .min = 0.1, .max = 3600 };
	tab[n++] = (struct opt){ "json-lines", 0, OPT_FN, c, "FILE|-",
				 "also write each interval's figures as JSON lines",
				 .parse = agent_parse_path };
	tab[n++] = (struct opt){ "config", 0, OPT_STR, &c->config, "FILE",
				 "settings as 'key = value' lines (the long options)" };
	tab[n++] = (struct opt){ "exe", 0, OPT_FN, &c->exes, "NAMES",
				 "only executables with these base names", .parse = agent_parse_list };
	tab[n++] = (struct opt){ "cgroup", 0, OPT_FN, &c->cgroups, "PREFIXES",
				 "only processes whose cgroup path starts so",
				 .parse = agent_parse_list };
	tab[n++] = (struct opt){ "collectors", 0, OPT_FN, &c->collectors, "LIST",
				 "syscalls, health, offcpu, gc (default: all)",
				 .parse = agent_parse_collectors };
	tab[n++] = (struct opt){ "offcpu-freq", 0, OPT_DOUBLE, &c->offcpu_freq, "HZ",
				 "goroutine snapshots per second (default 2)", .min = 0.1,
				 .max = 100 };
	tab[n++] = (struct opt){ "max-processes", 0, OPT_INT, &c->max_procs, "N",
				 "bound on tracked processes (default 256)", .min = 1,
				 .max = AGENT_MAX_PROCS_LIMIT };
	tab[n++] = (struct opt){ "funclat", 0, OPT_FN, &c->funclat, "PATTERNS",
				 "also time these Go functions (globs over function names) in every "
				 "process whose binary has them", .parse = agent_parse_patterns };
	tab[n++] = (struct opt){ "funclat-max-funcs", 0, OPT_INT, &c->funclat_max_funcs, "N",
				 "leave out a process whose binary matches more than N functions "
				 "(default 16)", .min = 1, .max = 256 };
	tab[n++] = (struct opt){ "http", 0, OPT_FLAG, &c->http, NULL,
				 "also count and time net/http requests per route and status "
				 "(Go >= 1.17)" };
	tab[n++] = (struct opt){ "syscalls-duty", 0, OPT_DOUBLE, &c->syscalls_duty, "PCT",
				 "syscalls collector sampled: tracepoints attached PCT% of the time, "
				 "counts scaled (estimates; default 10; 100 = every call)",
				 .min = 1, .max = 100 };
	tab[n++] = (struct opt){ "syscalls-exact", 0, OPT_FLAG, &c->syscalls_exact, NULL,
				 "syscalls collector traces every call (exact; costs every syscall "
				 "on the host ~175 ns more)" };
	tab[n++] = (struct opt){ "verbose", 'v', OPT_FLAG, &c->verbose, NULL, "libbpf's log" };
	tab[n] = (struct opt){ NULL };
	return tab;
}

int agent_config_parse_buf(const struct opt *const *tables, const char *text, size_t len,
			   const char *name, char *err, size_t errlen)
{
	char line[1024];
	size_t pos = 0;
	int lineno = 0;

	while (pos < len) {
		size_t n = 0;
		char *p = line, *eq, *k, *v, *e, why[256];

		lineno++;
		while (pos < len && text[pos] != '\n') {
			if (n + 1 < sizeof(line))
				line[n++] = text[pos] ? text[pos] : ' ';
			pos++;
		}
		pos++; /* the newline */
		line[n] = 0;
		p[strcspn(p, "#")] = 0;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'", name, lineno);
			return -1;
		}
		*eq = 0;
		k = p;
		v = eq + 1;
		for (e = eq; e > k && isspace((unsigned char)e[-1]); e--)
			e[-1] = 0;
		while (isspace((unsigned char)*v))
			v++;
		for (e = v + strlen(v); e > v && isspace((unsigned char)e[-1]); e--)
			e[-1] = 0;
		for (e = k; *e; e++)
			if (*e == '_')
				*e = '-';
		if (strcmp(k, "config") == 0 || strcmp(k, "verbose") == 0 || !*k) {
			snprintf(err, errlen, "%s:%d: %s: unknown setting", name, lineno, k);
			return -1;
		}
		if (opts_set(tables, k, v, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:%d: %s: %s", name, lineno, k, why);
			return -1;
		}
	}
	return 0;
}

int agent_config_file(const struct opt *const *tables, const char *path, char *err,
		      size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 4096;
			if (cap > (1u << 20)) {
				snprintf(err, errlen, "%s: larger than 1 MiB", path);
				free(buf);
				fclose(f);
				return -1;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				snprintf(err, errlen, "out of memory");
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	fclose(f);
	rc = agent_config_parse_buf(tables, buf ? buf : "", len, path, err, errlen);
	free(buf);
	return rc;
}
