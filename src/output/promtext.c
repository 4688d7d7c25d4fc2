/*
 * promtext: Prometheus text exposition writer (see promtext.h).
 */
#include "promtext.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void promtext_init(struct promtext *p)
{
	memset(p, 0, sizeof(*p));
}

void promtext_free(struct promtext *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

void promtext_reset(struct promtext *p)
{
	p->len = 0;
	p->oom = false;
	if (p->buf)
		p->buf[0] = 0;
}

static void pt_append(struct promtext *p, const char *s, size_t n)
{
	if (p->len + n + 1 > p->cap) {
		size_t cap = p->cap ? p->cap : 4096;
		char *nb;

		while (p->len + n + 1 > cap)
			cap *= 2;
		nb = realloc(p->buf, cap);
		if (!nb) {
			p->oom = true;
			return;
		}
		p->buf = nb;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = 0;
}

static void pt_puts(struct promtext *p, const char *s)
{
	pt_append(p, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void pt_printf(struct promtext *p, const char *fmt,
							    ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		pt_append(p, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* HELP text escapes backslash and newline (the format's rule for docstrings). */
static void pt_help(struct promtext *p, const char *h)
{
	for (; *h; h++) {
		if (*h == '\\')
			pt_puts(p, "\\\\");
		else if (*h == '\n')
			pt_puts(p, "\\n");
		else
			pt_append(p, h, 1);
	}
}

void promtext_family(struct promtext *p, const char *name, const char *type, const char *help)
{
	/* Piece by piece: a help text of any length keeps its TYPE line. */
	pt_puts(p, "# HELP ");
	pt_puts(p, name);
	pt_puts(p, " ");
	pt_help(p, help);
	pt_puts(p, "\n# TYPE ");
	pt_puts(p, name);
	pt_puts(p, " ");
	pt_puts(p, type);
	pt_puts(p, "\n");
}

/* Label values escape backslash, double quote and newline. */
static void pt_value(struct promtext *p, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			pt_puts(p, "\\\\");
		else if (*v == '"')
			pt_puts(p, "\\\"");
		else if (*v == '\n')
			pt_puts(p, "\\n");
		else
			pt_append(p, v, 1);
	}
}

void promtext_sample(struct promtext *p, const char *name, const struct promtext_label *common,
		     size_t ncommon, const struct promtext_label *extra, size_t nextra,
		     double value)
{
	bool first = true;

	pt_puts(p, name);
	for (size_t pass = 0; pass < 2; pass++) {
		const struct promtext_label *l = pass ? extra : common;
		size_t n = pass ? nextra : ncommon;

		for (size_t i = 0; i < n; i++) {
			pt_puts(p, first ? "{" : ",");
			first = false;
			pt_puts(p, l[i].name);
			pt_puts(p, "=\"");
			pt_value(p, l[i].value ? l[i].value : "");
			pt_puts(p, "\"");
		}
	}
	if (!first)
		pt_puts(p, "}");
	if (isinf(value))
		pt_puts(p, value > 0 ? " +Inf\n" : " -Inf\n");
	else if (isnan(value))
		pt_puts(p, " NaN\n");
	else if (value == floor(value) && fabs(value) < 1e15)
		pt_printf(p, " %.0f\n", value);
	else
		pt_printf(p, " %.9g\n", value);
}
