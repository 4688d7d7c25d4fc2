/*
 * agent/config: the agent's settings, from one option table shared by the
 * command line and the configuration file (`key = value` lines, the long
 * option names; `_` and `-` are the same), where the command line wins and
 * a list given on the command line replaces the file's.
 */
#ifndef GOSCOPE_AGENT_CONFIG_H
#define GOSCOPE_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/opts.h"

#define AGENT_MAX_PROCS_LIMIT 4096
#define AGENT_MAX_FILTERS 32
/* The syscalls collector's default share of time attached, percent. */
#define AGENT_SYSCALLS_DUTY_PCT 10

/* A comma-separated list option (--exe, --cgroup). */
struct agent_list {
	char item[AGENT_MAX_FILTERS][256];
	size_t n;
	bool from_file; /* set by the file: the command line replaces it */
};

struct agent_config {
	char listen[128];
	double interval;
	double offcpu_freq;
	const char *json_lines;
	char json_lines_buf[4096];
	struct agent_list exes, cgroups;
	int collectors; /* AGENT_COL_* bits */
	long long max_procs;
	const char *config;
	bool verbose;
	/* Function and request latency (agent/latency.c): off unless configured. */
	struct agent_list funclat;  /* glob patterns over function names */
	long long funclat_max_funcs; /* per process: more matches are refused */
	bool http;                  /* net/http requests per route and status */
	/*
	 * The syscalls collector: sampled by default (attached SYSCALLS_DUTY %
	 * of the time, counts scaled: estimates), like `goscope syscalls
	 * --duty`; syscalls_exact (or a duty of 100) traces every call.
	 */
	double syscalls_duty;
	bool syscalls_exact;
};

enum { AGENT_COL_SYSCALLS = 1, AGENT_COL_HEALTH = 2, AGENT_COL_OFFCPU = 4, AGENT_COL_GC = 8 };

/* Defaults, and the table that fills C. */
void agent_config_init(struct agent_config *c);
const struct opt *agent_config_table(struct agent_config *c);

/*
 * Apply the settings in TEXT (a configuration file's contents, LEN bytes)
 * through TABLES. NAME names it in errors. 0, or -1 with "NAME:LINE: key:
 * why" in ERR.
 */
int agent_config_parse_buf(const struct opt *const *tables, const char *text, size_t len,
			   const char *name, char *err, size_t errlen);

/* Read and apply the file at PATH; 0, or -1 with the reason in ERR. */
int agent_config_file(const struct opt *const *tables, const char *path, char *err,
		      size_t errlen);

/*
 * Parse ADDR:PORT ([ADDR]:PORT for IPv6; an empty ADDR is every IPv4
 * address) into SS; NULL if fine, else why not.
 */
struct sockaddr_storage;
const char *agent_listen_addr(const char *spec, struct sockaddr_storage *ss,
			      unsigned *sl);

#endif
