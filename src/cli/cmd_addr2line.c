/*
 * goscope addr2line: addresses to function and file:line, from the
 * pclntab alone (stripped binaries included).
 *
 * Without -i the output is byte for byte what `go tool addr2line` prints
 * (function line, then file:line; "?" and "?:0" when unknown), so the two
 * can be diffed. With -i every inlined frame is listed, innermost first.
 */
#include "cli.h"

#include "../core/opts.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define A2L_MAX_FRAMES 64

/* Parse a hex address with optional 0x; false on anything else. */
static bool a2l_parse(const char *s, uint64_t *out)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return false;
	errno = 0;
	*out = strtoull(s, &end, 16);
	if (errno || end == s)
		return false;
	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	return *end == 0;
}

static int a2l_one(struct cli_target *t, const char *arg, bool inl)
{
	struct pclntab_frame fr[A2L_MAX_FRAMES];
	uint64_t addr, pc;
	int n;

	if (!a2l_parse(arg, &addr)) {
		cli_error("invalid address: %s", arg);
		return -1;
	}
	pc = addr - t->bias;
	if (!inl) {
		pclntab_addr2line(t->gb->pcln, pc, &fr[0]);
		printf("%s\n%s:%d\n", fr[0].func, fr[0].file, fr[0].line);
		return 0;
	}
	printf("0x%016" PRIx64 "\n", addr);
	n = pclntab_symbolize(t->gb->pcln, pc, fr, A2L_MAX_FRAMES);
	if (n == 0) {
		printf("?\n?:0\n");
		return 0;
	}
	for (int i = 0; i < n; i++)
		printf("%s\n%s:%d\n", fr[i].func, fr[i].file, fr[i].line);
	return 0;
}

/*
 * Addresses from stdin, one per line. Output is flushed only when no more
 * input is ready (a pipe that sends addresses one at a time still gets
 * each answer at once; a file of a million gets one write per buffer).
 */
static int a2l_stdin(struct cli_target *t, bool inl)
{
	char buf[65536], line[256];
	size_t have = 0, ll = 0;
	bool overlong = false;
	int rc = 0;

	for (;;) {
		struct pollfd pfd = { .fd = 0, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 0) == 0)
			fflush(stdout);
		n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have = (size_t)n;
		for (size_t i = 0; i < have; i++) {
			if (buf[i] != '\n') {
				if (ll + 1 < sizeof(line))
					line[ll++] = buf[i];
				else
					overlong = true;
				continue;
			}
			line[ll] = 0;
			if (overlong) {
				cli_error("invalid address: line too long");
				rc = 1;
			} else if (ll > 0 && a2l_one(t, line, inl) != 0) {
				rc = 1;
			}
			ll = 0;
			overlong = false;
		}
	}
	if (ll > 0) {
		line[ll] = 0;
		if (a2l_one(t, line, inl) != 0)
			rc = 1;
	}
	fflush(stdout);
	return rc;
}

int cmd_addr2line(int argc, char **argv)
{
	static const struct opts_cmd cmd = {
		"addr2line", "[-i] TARGET [ADDR...]",
		"Addresses to function and file:line, as go tool addr2line prints them.\n"
		"  TARGET   path to a Go executable, or the PID of a running Go program\n"
		"           (for a PID, addresses are run-time addresses)\n"
		"  ADDR     hex address, 0x optional; read one per line from stdin if none",
		NULL,
	};
	bool inl = false;
	const struct opt tab[] = {
		{ "inline", 'i', OPT_FLAG, &inl, NULL,
		  "inlined frames: a line 0x<addr>, then function and file:line pairs,\n"
		  "                           innermost first, the physical function last" },
		{ NULL },
	};
	struct opts_rest rest;
	struct cli_target t;
	int rc = cli_target_args(&cmd, tab, argc, argv, INT_MAX - 1, &rest, &t);

	if (rc >= 0)
		return rc;
	rc = 0;
	if (rest.argc > 1) {
		for (int i = 1; i < rest.argc; i++)
			if (a2l_one(&t, rest.argv[i], inl) != 0)
				rc = 1;
	} else if (a2l_stdin(&t, inl) != 0) {
		rc = 1;
	}
	cli_target_close(&t);
	return rc;
}
