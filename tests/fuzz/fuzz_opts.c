/*
 * fuzz_opts: the option table parser on any command line. The input is
 * split at NUL bytes into argv words and parsed against a table with
 * every option type. Whatever the words, opts_parse returns 0, 1 (--help,
 * usage on stdout) or -1 with exactly one stderr line "goscope: fz: ...";
 * values it accepts are within their ranges; the positional words it
 * hands back are words of the input. The first two words also go through
 * opts_set (the agent's configuration file).
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/opts.h"

#define FUZZ_MAX_ARGS 64

static int fz_even(const char *val, void *dst, char *err, size_t errlen)
{
	size_t n = strlen(val);

	if (n % 2) {
		snprintf(err, errlen, "must have an even length");
		return -1;
	}
	*(size_t *)dst = n;
	return 0;
}

/* What a captured stream holds must be one line "goscope: fz: ...". */
static void fz_check_one_line(const char *s, size_t n)
{
	if (n < 14 || strncmp(s, "goscope: fz: ", 13) != 0 || s[n - 1] != '\n' ||
	    memchr(s, '\n', n - 1) || strlen(s) != n)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const modes[] = { "top", "folded", "pprof", NULL };
	bool flag = false;
	const char *str = NULL;
	double dbl = 1.0, dnr = 0;
	long long num = 0, big = 0;
	int mode = -1;
	size_t even = 0;
	struct opts_pids pids = { .n = 0 };
	const struct opt table[] = {
		{ "json", 0, OPT_FLAG, &flag, NULL, "JSON" },
		{ "output", 'o', OPT_STR, &str, "FILE", "output" },
		{ "duration", 'd', OPT_DOUBLE, &dbl, "SEC", "seconds", 0.1, 86400 },
		{ "ratio", 0, OPT_DOUBLE, &dnr, "X", "no range" },
		{ "freq", 'F', OPT_INT, &num, "HZ", "rate", 1, 1000 },
		{ "goid", 0, OPT_INT, &big, "N", "no range" },
		{ "format", 'f', OPT_CHOICE, &mode, "FMT", "format", 0, 0, modes },
		{ "pid", 'p', OPT_PID, &pids, "PID", "process" },
		{ "even", 'e', OPT_FN, &even, "S", "custom", 0, 0, NULL, fz_even },
		{ "hidden", 'x', OPT_FLAG, &flag, NULL, NULL },
		{ NULL },
	};
	const struct opt *const tables[] = { table, NULL };
	const struct opts_cmd cmd = { "fz", "[options] [ARG...]", "A fuzz command.", "Footer." };
	char *copy = malloc(size + 1), *argv[FUZZ_MAX_ARGS + 2], *words[FUZZ_MAX_ARGS + 2];
	char *outbuf = NULL, *errbuf = NULL, err[256];
	size_t outlen = 0, errlen = 0;
	FILE *out, *errf, *save_out = stdout, *save_err = stderr;
	struct opts_rest rest;
	int argc = 1, rc;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = 0;
	argv[0] = "fz";
	for (size_t at = 0; at <= size && argc <= FUZZ_MAX_ARGS; argc++) {
		argv[argc] = copy + at;
		at += strlen(copy + at) + 1;
	}
	argv[argc] = NULL;
	memcpy(words, argv, sizeof(argv));

	out = open_memstream(&outbuf, &outlen);
	errf = open_memstream(&errbuf, &errlen);
	if (!out || !errf) {
		if (out)
			fclose(out);
		if (errf)
			fclose(errf);
		free(outbuf);
		free(errbuf);
		free(copy);
		return 0;
	}
	/* libFuzzer keeps its own FILE; only what opts prints is captured. */
	stdout = out;
	stderr = errf;
	rc = opts_parse(&cmd, tables, argc, argv, (copy[0] & 1) ? &rest : NULL);
	stdout = save_out;
	stderr = save_err;
	fclose(out);
	fclose(errf);

	switch (rc) {
	case -1:
		if (outlen)
			__builtin_trap();
		fz_check_one_line(errbuf, errlen);
		break;
	case 1:
		if (errlen || outlen < 20 || strncmp(outbuf, "usage: goscope fz ", 18) != 0)
			__builtin_trap();
		break;
	case 0:
		if (outlen || errlen)
			__builtin_trap();
		if (!isfinite(dbl) || dbl < 0.1 || dbl > 86400 || !isfinite(dnr))
			__builtin_trap();
		if ((num && (num < 1 || num > 1000)) || mode < -1 || mode > 2)
			__builtin_trap();
		for (size_t i = 0; i < pids.n; i++)
			if (pids.pid[i] < 1 || pids.pid[i] > 4194304)
				__builtin_trap();
		if (copy[0] & 1) {
			if (rest.argc < 0 || rest.argc >= argc || rest.argv[rest.argc])
				__builtin_trap();
			for (int i = 0; i < rest.argc; i++) {
				bool mine = false;

				for (int j = 1; j < argc && !mine; j++)
					mine = rest.argv[i] == words[j];
				if (!mine)
					__builtin_trap();
			}
		}
		break;
	default:
		__builtin_trap();
	}
	free(outbuf);
	free(errbuf);

	/* The configuration file's path: name and value. */
	if (argc >= 3) {
		err[0] = 0;
		if (opts_set(tables, words[1], words[2], err, sizeof(err)) != 0 && !err[0])
			__builtin_trap();
	}
	free(copy);
	return 0;
}
