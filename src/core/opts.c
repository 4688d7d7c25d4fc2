/*
 * opts: the option table parser (see opts.h).
 */
#include "opts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int opts_parse_double(const char *s, double min, double max, double *v, char *err,
		      size_t errlen)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end || errno == ERANGE || !isfinite(d)) {
		snprintf(err, errlen, "not a number");
		return -1;
	}
	if ((min != 0 || max != 0) && (d < min || d > max)) {
		snprintf(err, errlen, "must be %g..%g", min, max);
		return -1;
	}
	*v = d;
	return 0;
}

int opts_parse_int(const char *s, double min, double max, long long *v, char *err,
		   size_t errlen)
{
	const char *p = s;
	char *end;
	long long x;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9') {
		snprintf(err, errlen, "not an integer");
		return -1;
	}
	errno = 0;
	x = strtoll(s, &end, 10);
	if (*end || errno == ERANGE) {
		snprintf(err, errlen, "not an integer");
		return -1;
	}
	if ((min != 0 || max != 0) && ((double)x < min || (double)x > max)) {
		snprintf(err, errlen, "must be %.0f..%.0f", min, max);
		return -1;
	}
	*v = x;
	return 0;
}

int opts_parse_pid(const char *s, struct opts_pids *p, char *err, size_t errlen)
{
	long long v;

	if (opts_parse_int(s, 1, 4194304, &v, err, errlen) != 0 || *s == '-') {
		snprintf(err, errlen, "not a pid");
		return -1;
	}
	for (size_t i = 0; i < p->n; i++)
		if (p->pid[i] == (pid_t)v)
			return 0; /* -p X -p X is one target */
	if (p->n >= OPTS_MAX_PIDS) {
		snprintf(err, errlen, "at most %d pids", OPTS_MAX_PIDS);
		return -1;
	}
	p->pid[p->n++] = (pid_t)v;
	return 0;
}

static int opts_choice(const char *s, const char *const *choices, int *v, char *err,
		       size_t errlen)
{
	size_t off = 0;

	for (int i = 0; choices[i]; i++)
		if (strcmp(s, choices[i]) == 0) {
			*v = i;
			return 0;
		}
	off = (size_t)snprintf(err, errlen, "must be one of");
	for (int i = 0; choices[i] && off < errlen; i++)
		off += (size_t)snprintf(err + off, errlen - off, "%s%s", i ? ", " : " ", choices[i]);
	return -1;
}

/* Store VAL into O's destination. */
static int opts_store(const struct opt *o, const char *val, char *err, size_t errlen)
{
	long long ll;

	switch (o->type) {
	case OPT_FLAG:
		*(bool *)o->dst = true;
		return 0;
	case OPT_STR:
		if (!*val) {
			snprintf(err, errlen, "empty value");
			return -1;
		}
		*(const char **)o->dst = val;
		return 0;
	case OPT_DOUBLE:
		return opts_parse_double(val, o->min, o->max, o->dst, err, errlen);
	case OPT_INT:
		if (opts_parse_int(val, o->min, o->max, &ll, err, errlen) != 0)
			return -1;
		*(long long *)o->dst = ll;
		return 0;
	case OPT_CHOICE:
		return opts_choice(val, o->choices, o->dst, err, errlen);
	case OPT_PID:
		return opts_parse_pid(val, o->dst, err, errlen);
	case OPT_FN:
		return o->parse(val, o->dst, err, errlen);
	}
	snprintf(err, errlen, "bad option table");
	return -1;
}

static const struct opt *opts_find_long(const struct opt *const *tables, const char *name,
					size_t len)
{
	for (size_t t = 0; tables[t]; t++)
		for (const struct opt *o = tables[t]; o->name; o++)
			if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
				return o;
	return NULL;
}

static const struct opt *opts_find_short(const struct opt *const *tables, int key)
{
	for (size_t t = 0; tables[t]; t++)
		for (const struct opt *o = tables[t]; o->name; o++)
			if (o->key && o->key == key)
				return o;
	return NULL;
}

/*
 * The one error line. A control character in what the user typed (a value
 * holding a newline) is shown as '?', so that it stays one line.
 */
static int opts_fail(const struct opts_cmd *cmd, const char *fmt, const char *a, const char *b)
{
	char line[512];

	snprintf(line, sizeof(line), fmt, a, b);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fprintf(stderr, "goscope: %s: %s\n", cmd->name, line);
	return -1;
}

int opts_parse(const struct opts_cmd *cmd, const struct opt *const *tables, int argc,
	       char **argv, struct opts_rest *rest)
{
	char err[256], shown[64];
	bool only_args = false;

	if (rest) {
		rest->argv = argv + argc; /* a NULL-ended view, filled below */
		rest->argc = 0;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		const struct opt *o;

		if (only_args || a[0] != '-' || a[1] == '\0') {
			if (!rest)
				return opts_fail(cmd, "unexpected argument '%s'%s", a,
						 " (targets are given with -p PID)");
			/* Move positionals to the front, keeping their order. */
			argv[rest->argc++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = true;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			opts_usage(stdout, cmd, tables);
			return 1;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);

			o = opts_find_long(tables, a + 2, len);
			snprintf(shown, sizeof(shown), "--%.*s", (int)(len < 40 ? len : 40), a + 2);
			if (!o)
				return opts_fail(cmd, "unknown option %s%s", shown,
						 " (see --help)");
			if (eq) {
				if (o->type == OPT_FLAG)
					return opts_fail(cmd, "%s takes no value%s", shown, "");
				val = eq + 1;
			}
		} else {
			o = opts_find_short(tables, (unsigned char)a[1]);
			snprintf(shown, sizeof(shown), "-%c", a[1]);
			if (!o)
				return opts_fail(cmd, "unknown option %s%s", shown,
						 " (see --help)");
			if (a[2]) {
				if (o->type == OPT_FLAG)
					return opts_fail(cmd, "unknown option %s%s", a,
							 " (see --help)");
				val = a + 2;
			}
		}
		if (o->type != OPT_FLAG && !val) {
			if (i + 1 >= argc)
				return opts_fail(cmd, "%s needs a value%s", shown, "");
			val = argv[++i];
		}
		if (opts_store(o, val ? val : "", err, sizeof(err)) != 0) {
			char what[128];

			snprintf(what, sizeof(what), "%s %.60s", shown, val ? val : "");
			return opts_fail(cmd, "%s: %s", what, err);
		}
	}
	if (rest) {
		rest->argv = argv;
		argv[rest->argc] = NULL;
	}
	return 0;
}

int opts_set(const struct opt *const *tables, const char *name, const char *val, char *err,
	     size_t errlen)
{
	const struct opt *o = opts_find_long(tables, name, strlen(name));

	if (!o) {
		snprintf(err, errlen, "unknown setting");
		return -1;
	}
	if (o->type == OPT_FLAG) {
		if (strcmp(val, "true") == 0 || strcmp(val, "yes") == 0 || strcmp(val, "1") == 0) {
			*(bool *)o->dst = true;
			return 0;
		}
		if (strcmp(val, "false") == 0 || strcmp(val, "no") == 0 || strcmp(val, "0") == 0) {
			*(bool *)o->dst = false;
			return 0;
		}
		snprintf(err, errlen, "must be true or false");
		return -1;
	}
	return opts_store(o, val, err, errlen);
}

void opts_usage(FILE *out, const struct opts_cmd *cmd, const struct opt *const *tables)
{
	fprintf(out, "usage: goscope %s %s\n", cmd->name, cmd->usage ? cmd->usage : "");
	if (cmd->summary)
		fprintf(out, "%s\n", cmd->summary);
	fputc('\n', out);
	for (size_t t = 0; tables[t]; t++)
		for (const struct opt *o = tables[t]; o->name; o++) {
			char left[64];

			if (!o->help)
				continue;
			snprintf(left, sizeof(left), "%c%c%s --%s%s%s", o->key ? '-' : ' ',
				 o->key ? o->key : ' ', o->key ? "," : " ", o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
			fprintf(out, "  %-24s %s\n", left, o->help);
		}
	if (cmd->footer)
		fprintf(out, "\n%s\n", cmd->footer);
}
