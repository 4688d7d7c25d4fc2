/*
 * opts: one option table for every goscope command and for the agent's
 * configuration file (as curl's tool_getparam.c): each option is a row with
 * its names, a typed parser with a range, where the value goes and its help
 * line. Parsing, range checks, the one-line error (`goscope: CMD: -F 100000:
 * must be 1..1000`, exit 2) and `--help` are written once, here.
 */
#ifndef GOSCOPE_OPTS_H
#define GOSCOPE_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

enum opt_type {
	OPT_FLAG,    /* bool = true; no value */
	OPT_STR,     /* const char * (argv's own storage) */
	OPT_DOUBLE,  /* double, finite, in [min, max] */
	OPT_INT,     /* long long, decimal digits only, in [min, max] */
	OPT_CHOICE,  /* int: the index of the value in choices[] */
	OPT_PID,     /* appends to a struct opts_pids (repeatable) */
	OPT_FN,      /* parse(value, dst, err, errlen) decides */
};

/* -p PID ... : the pids as given, in order, without repeats. */
#define OPTS_MAX_PIDS 256
struct opts_pids {
	pid_t pid[OPTS_MAX_PIDS];
	size_t n;
};

/* A custom parser: 0, or -1 with why in ERR ("must be ..."). */
typedef int (*opt_parse_fn)(const char *val, void *dst, char *err, size_t errlen);

struct opt {
	const char *name;       /* long name without "--"; NULL ends a table */
	int key;                /* short letter, or 0 */
	enum opt_type type;
	void *dst;
	const char *arg;        /* the value's name in --help ("SEC") */
	const char *help;
	double min, max;        /* OPT_DOUBLE, OPT_INT (both 0: no range) */
	const char *const *choices; /* OPT_CHOICE, NULL-terminated */
	opt_parse_fn parse;     /* OPT_FN */
};

/* What --help prints around the option list. */
struct opts_cmd {
	const char *name;     /* "offcpu" */
	const char *usage;    /* "[-p PID ...] [-d SEC] ..." */
	const char *summary;  /* one paragraph */
	const char *footer;   /* after the options, or NULL */
};

/* The positional arguments left after the options, in order. */
struct opts_rest {
	char **argv;
	int argc;
};

/*
 * Parse ARGV (argv[0] is the command name) against TABLES (a NULL-ended
 * list of tables, each ended by a row with name NULL). GNU style: "--name
 * VAL", "--name=VAL", "-k VAL", "-kVAL", "--" ends the options; other
 * words are positional and go to REST (NULL: none allowed).
 * Returns 0; 1 after printing --help to stdout (exit 0); -1 after printing
 * one "goscope: CMD: ..." line (exit 2).
 */
int opts_parse(const struct opts_cmd *cmd, const struct opt *const *tables, int argc,
	       char **argv, struct opts_rest *rest);

/*
 * Set the option named NAME (long name) from VAL, as on the command line:
 * the agent's configuration file. 0, or -1 with the reason in ERR
 * ("unknown setting" or the parser's).
 */
int opts_set(const struct opt *const *tables, const char *name, const char *val, char *err,
	     size_t errlen);

/* Print --help for CMD. */
void opts_usage(FILE *out, const struct opts_cmd *cmd, const struct opt *const *tables);

/* Typed parsers, usable on their own: 0, or -1 with why in ERR. */
int opts_parse_double(const char *s, double min, double max, double *v, char *err,
		      size_t errlen);
int opts_parse_int(const char *s, double min, double max, long long *v, char *err,
		   size_t errlen);
int opts_parse_pid(const char *s, struct opts_pids *p, char *err, size_t errlen);

#endif
