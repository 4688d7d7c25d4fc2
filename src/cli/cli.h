/*
 * cli: goscope's subcommands and the pieces they share (opening a TARGET,
 * printing the one-line error).
 */
#ifndef GOSCOPE_CLI_H
#define GOSCOPE_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../gobin/gobin.h"
#include "../proc/proc.h"

#define GOSCOPE_VERSION "0.1.0"

/* An opened TARGET: the process (if any) and its Go binary. */
struct cli_target {
	struct proc_target proc;
	struct gobin *gb;
	uint64_t bias; /* run-time address = link address + bias */
};

/*
 * Open TARGET (a path or a PID). On failure prints "goscope: <reason>" to
 * stderr and returns -1.
 */
int cli_target_open(const char *arg, struct cli_target *t);
void cli_target_close(struct cli_target *t);

/*
 * Take a target (its gb is FN's from now on, also when FN fails). FN
 * returns 0 when the target is used, -1 when not: for a PID the user gave,
 * FN has printed why and the command stops; a discovered one is skipped.
 */
typedef int (*cli_target_fn)(struct cli_target *t, bool discovered, void *udata);

/*
 * The targets of a tracing command: PIDS as given, or with NPIDS 0 every Go
 * process on the host (at most MAX; those that cannot be read are
 * skipped). Returns 0 if at least one target was taken, else -1 with the
 * reason printed.
 */
int cli_targets_open(const pid_t *pids, size_t npids, size_t max, cli_target_fn fn,
		     void *udata);

struct opt;
struct opts_cmd;
struct opts_rest;

/*
 * The start of a command that reads one TARGET: parse ARGV (options from
 * TAB), check that TARGET and at most MAXMORE more words were given, and
 * open TARGET into T. Returns -1 when the command goes on (T open; REST
 * holds TARGET and the words after it), else the exit status to return
 * with its line printed: 0 after --help, 2 for bad usage, 1 for a bad
 * target.
 */
int cli_target_args(const struct opts_cmd *cmd, const struct opt *tab, int argc, char **argv,
		    int maxmore, struct opts_rest *rest, struct cli_target *t);

/* printf-style "goscope: ..." line on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_info(int argc, char **argv);
int cmd_addr2line(int argc, char **argv);
int cmd_funcs(int argc, char **argv);
int cmd_goroutines(int argc, char **argv);
int cmd_offcpu(int argc, char **argv);
int cmd_syscalls(int argc, char **argv);
int cmd_cpu(int argc, char **argv);
int cmd_health(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_leaks(int argc, char **argv);
int cmd_contention(int argc, char **argv);
int cmd_funclat(int argc, char **argv);
int cmd_http(int argc, char **argv);
int cmd_why(int argc, char **argv);
int cmd_gc(int argc, char **argv);

#endif
