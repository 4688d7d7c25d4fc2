/*
 * cli/target: turn a TARGET argument into an opened Go binary (and its
 * process's load bias), with one clear error line on failure.
 */
#include "cli.h"

#include "../core/opts.h"
#include "../proc/discover.h"

#include <stdarg.h>
#include <stdlib.h>
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

/* Open PID quietly (a discovered process): 0, or -1 if it cannot be read. */
static int cli_target_open_quiet(pid_t pid, struct cli_target *t)
{
	char arg[32], err[512];

	memset(t, 0, sizeof(*t));
	snprintf(arg, sizeof(arg), "%d", (int)pid);
	if (proc_target_parse(arg, &t->proc, err, sizeof(err)) != 0 ||
	    gobin_open(t->proc.open_path, &t->gb, err, sizeof(err)) != 0)
		return -1;
	if (proc_load_bias(pid, t->gb->img, &t->bias, err, sizeof(err)) != 0) {
		gobin_close(t->gb);
		t->gb = NULL;
		return -1;
	}
	return 0;
}

int cli_targets_open(const pid_t *pids, size_t npids, size_t max, cli_target_fn fn,
		     void *udata)
{
	pid_t *found = NULL;
	size_t n = npids, used = 0;
	bool discovered = npids == 0;

	if (discovered) {
		long k;

		found = calloc(max ? max : 1, sizeof(*found));
		if (!found) {
			cli_error("out of memory");
			return -1;
		}
		k = discover_go_pids(found, max);
		if (k <= 0) {
			cli_error(k < 0 ? "cannot read /proc to find Go processes"
					: "no Go processes found (give one with -p PID)");
			free(found);
			return -1;
		}
		if ((size_t)k > max)
			fprintf(stderr, "goscope: %ld Go processes, tracing the first %zu\n", k, max);
		pids = found;
		n = (size_t)k > max ? max : (size_t)k;
	}
	for (size_t i = 0; i < n; i++) {
		struct cli_target t;
		char arg[32];

		snprintf(arg, sizeof(arg), "%d", (int)pids[i]);
		if (discovered ? cli_target_open_quiet(pids[i], &t) != 0
			       : cli_target_open(arg, &t) != 0) {
			if (discovered)
				continue;
			free(found);
			return -1;
		}
		if (fn(&t, discovered, udata) != 0) {
			if (!discovered) {
				free(found);
				return -1;
			}
			continue;
		}
		used++;
	}
	free(found);
	if (used == 0) {
		cli_error("none of the %zu Go processes found can be traced", n);
		return -1;
	}
	return 0;
}

int cli_target_args(const struct opts_cmd *cmd, const struct opt *tab, int argc, char **argv,
		    int maxmore, struct opts_rest *rest, struct cli_target *t)
{
	const struct opt *const tables[] = { tab, NULL };
	int rc = opts_parse(cmd, tables, argc, argv, rest);

	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (rest->argc < 1 || rest->argc > 1 + maxmore) {
		cli_error("%s: usage: goscope %s %s", cmd->name, cmd->name, cmd->usage);
		return 2;
	}
	return cli_target_open(rest->argv[0], t) == 0 ? -1 : 1;
}
