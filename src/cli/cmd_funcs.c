/*
 * goscope funcs: list the functions of a Go binary from its pclntab
 * (entry, size, name), optionally those whose name contains a substring.
 * What `go tool nm` would show, for stripped binaries too.
 */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void funcs_usage(FILE *out)
{
	fprintf(out, "usage: goscope funcs TARGET [SUBSTRING]\n"
		     "  prints 'entry size name' for every function (run-time addresses for a PID)\n");
}

int cmd_funcs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_target t;
	const char *sub = NULL;
	size_t n;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			funcs_usage(stdout);
			return 0;
		}
		funcs_usage(stderr);
		return 2;
	}
	if (optind >= argc || argc - optind > 2) {
		cli_error("funcs takes a TARGET and an optional SUBSTRING");
		return 2;
	}
	if (argc - optind == 2)
		sub = argv[optind + 1];
	if (cli_target_open(argv[optind], &t) != 0)
		return 1;
	n = pclntab_nfunc(t.gb->pcln);
	for (size_t i = 0; i < n; i++) {
		struct pclntab_func f;

		if (!pclntab_func_at(t.gb->pcln, i, &f))
			continue;
		if (sub && !strstr(f.name, sub))
			continue;
		printf("%016" PRIx64 " %6" PRIu64 " %s\n", f.entry + t.bias, f.end - f.entry,
		       f.name);
	}
	cli_target_close(&t);
	return 0;
}
