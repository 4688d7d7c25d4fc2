/*
 * goscope funcs: list the functions of a Go binary from its pclntab
 * (entry, size, name), optionally those whose name contains a substring.
 * What `go tool nm` would show, for stripped binaries too.
 */
#include "cli.h"

#include "../core/opts.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The code's size without alignment padding, as `go tool nm -size` prints it. */
static uint64_t funcs_size(struct pclntab *p, size_t i, const struct pclntab_func *f)
{
	uint64_t n = pclntab_code_size(p, (long)i);

	return n && n <= f->end - f->entry ? n : f->end - f->entry;
}

int cmd_funcs(int argc, char **argv)
{
	static const struct opts_cmd cmd = {
		"funcs", "TARGET [SUBSTRING]",
		"Print 'entry size name' for every function of a Go binary, from its pclntab\n"
		"(run-time addresses for a PID); only names containing SUBSTRING if given.",
		NULL,
	};
	static const struct opt none[] = { { NULL } };
	struct opts_rest rest;
	struct cli_target t;
	const char *sub;
	size_t n;
	int rc = cli_target_args(&cmd, none, argc, argv, 1, &rest, &t);

	if (rc >= 0)
		return rc;
	sub = rest.argc == 2 ? rest.argv[1] : NULL;
	n = pclntab_nfunc(t.gb->pcln);
	for (size_t i = 0; i < n; i++) {
		struct pclntab_func f;

		if (!pclntab_func_at(t.gb->pcln, i, &f))
			continue;
		if (sub && !strstr(f.name, sub))
			continue;
		printf("%016" PRIx64 " %6" PRIu64 " %s\n", f.entry + t.bias,
		       funcs_size(t.gb->pcln, i, &f), f.name);
	}
	cli_target_close(&t);
	return 0;
}
