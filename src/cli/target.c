/*
 * cli/target: turn a TARGET argument into an opened Go binary (and its
 * process's load bias), with one clear error line on failure.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("goscope: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_target_open(const char *arg, struct cli_target *t)
{
	char err[512];

	memset(t, 0, sizeof(*t));
	if (proc_target_parse(arg, &t->proc, err, sizeof(err)) != 0) {
		cli_error("%s", err);
		return -1;
	}
	if (gobin_open(t->proc.open_path, &t->gb, err, sizeof(err)) != 0) {
		if (t->proc.pid)
			cli_error("pid %d (%s): %s", (int)t->proc.pid, t->proc.exe, err);
		else
			cli_error("%s", err);
		return -1;
	}
	if (t->proc.pid &&
	    proc_load_bias(t->proc.pid, t->gb->img, &t->bias, err, sizeof(err)) != 0) {
		cli_error("%s", err);
		gobin_close(t->gb);
		t->gb = NULL;
		return -1;
	}
	return 0;
}

void cli_target_close(struct cli_target *t)
{
	gobin_close(t->gb);
	t->gb = NULL;
}
