/*
 * goscope: look inside a running, unmodified Go program from outside.
 *
 * Entry point: dispatches to the subcommand named by argv[1].
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

struct goscope_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct goscope_cmd goscope_cmds[] = {
	{ "info", cmd_info, "what a Go binary or process is (version, build, layout)" },
	{ "addr2line", cmd_addr2line, "addresses to function, file:line and inlined frames" },
	{ "offcpu", cmd_offcpu, "where goroutines wait: Go stacks by wait reason, with durations" },
	{ "cpu", cmd_cpu, "where the CPU goes: Go and kernel stacks by function, goroutine, runtime share" },
	{ "gc", cmd_gc, "GC cycles, stop-the-world pauses, mark assists, sampled allocations" },
	{ "syscalls", cmd_syscalls, "syscall counts, errors and latency per syscall, thread or goroutine" },
	{ "health", cmd_health, "kernel-level causes of latency: run queue, CPU quota, TCP, memory, fds" },
	{ "agent", cmd_agent, "always-on node agent: every Go process, Prometheus /metrics" },
	{ "leaks", cmd_leaks, "goroutine leaks: groups by creation site that only grow, parked" },
	{ "contention", cmd_contention, "contended channels, mutexes and semaphores: waiters by object" },
	{ "goroutines", cmd_goroutines, "goroutine dump of a running process, read from outside" },
	{ "funclat", cmd_funclat, "latency of chosen Go functions per call, slow calls with Go stacks" },
	{ "http", cmd_http, "Go net/http server requests per route: counts, p50/p99, slow requests" },
	{ "why", cmd_why, "where the time of slow calls went: each slow call cut into its causes, then a verdict" },
	{ "funcs", cmd_funcs, "list a binary's functions (entry, size, name) from its pclntab" },
};

static void goscope_usage(FILE *out)
{
	fprintf(out, "goscope %s: look inside a running Go program from outside\n\n"
		     "usage: goscope COMMAND [OPTIONS] ...\n\ncommands:\n",
		GOSCOPE_VERSION);
	for (size_t i = 0; i < sizeof(goscope_cmds) / sizeof(goscope_cmds[0]); i++)
		fprintf(out, "  %-12s %s\n", goscope_cmds[i].name, goscope_cmds[i].help);
	fprintf(out, "\n`goscope COMMAND --help` describes a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		goscope_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		goscope_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("goscope %s\n", GOSCOPE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(goscope_cmds) / sizeof(goscope_cmds[0]); i++)
		if (strcmp(argv[1], goscope_cmds[i].name) == 0)
			return goscope_cmds[i].run(argc - 1, argv + 1);
	cli_error("unknown command '%s' (try 'goscope --help')", argv[1]);
	return 2;
}
