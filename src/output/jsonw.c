/*
 * jsonw: streaming JSON writer (see jsonw.h).
 */
#include "jsonw.h"

#include <inttypes.h>
#include <math.h>

void jsonw_init(struct jsonw *w, FILE *out)
{
	w->out = out;
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
}

/* Comma before a value or key unless it is the first in its container. */
static void jsonw_sep(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0 && !w->first[w->depth])
		fputc(',', w->out);
	if (w->depth > 0)
		w->first[w->depth] = false;
}

static void jsonw_open(struct jsonw *w, char c)
{
	jsonw_sep(w);
	fputc(c, w->out);
	if (w->depth < JSONW_MAX_DEPTH - 1)
		w->depth++;
	w->first[w->depth] = true;
}

static void jsonw_close(struct jsonw *w, char c)
{
	fputc(c, w->out);
	if (w->depth > 0)
		w->depth--;
	if (w->depth == 0)
		fputc('\n', w->out);
}

void jsonw_obj_begin(struct jsonw *w)
{
	jsonw_open(w, '{');
}

void jsonw_obj_end(struct jsonw *w)
{
	jsonw_close(w, '}');
}

void jsonw_arr_begin(struct jsonw *w)
{
	jsonw_open(w, '[');
}

void jsonw_arr_end(struct jsonw *w)
{
	jsonw_close(w, ']');
}

void jsonw_escape(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

void jsonw_key(struct jsonw *w, const char *k)
{
	jsonw_sep(w);
	jsonw_escape(w->out, k);
	fputc(':', w->out);
	w->after_key = true;
}

void jsonw_str(struct jsonw *w, const char *s)
{
	jsonw_sep(w);
	if (s)
		jsonw_escape(w->out, s);
	else
		fputs("null", w->out);
}

void jsonw_int(struct jsonw *w, int64_t v)
{
	jsonw_sep(w);
	fprintf(w->out, "%" PRId64, v);
}

void jsonw_uint(struct jsonw *w, uint64_t v)
{
	jsonw_sep(w);
	fprintf(w->out, "%" PRIu64, v);
}

void jsonw_double(struct jsonw *w, double v)
{
	jsonw_sep(w);
	if (isfinite(v))
		fprintf(w->out, "%.15g", v);
	else
		fputs("null", w->out);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	jsonw_sep(w);
	fputs(v ? "true" : "false", w->out);
}

void jsonw_null(struct jsonw *w)
{
	jsonw_sep(w);
	fputs("null", w->out);
}

void jsonw_hex(struct jsonw *w, uint64_t v)
{
	jsonw_sep(w);
	fprintf(w->out, "\"0x%" PRIx64 "\"", v);
}

void jsonw_kstr(struct jsonw *w, const char *k, const char *s)
{
	jsonw_key(w, k);
	jsonw_str(w, s);
}

void jsonw_kint(struct jsonw *w, const char *k, int64_t v)
{
	jsonw_key(w, k);
	jsonw_int(w, v);
}

void jsonw_kuint(struct jsonw *w, const char *k, uint64_t v)
{
	jsonw_key(w, k);
	jsonw_uint(w, v);
}

void jsonw_kdouble(struct jsonw *w, const char *k, double v)
{
	jsonw_key(w, k);
	jsonw_double(w, v);
}

void jsonw_kbool(struct jsonw *w, const char *k, bool v)
{
	jsonw_key(w, k);
	jsonw_bool(w, v);
}

void jsonw_knull(struct jsonw *w, const char *k)
{
	jsonw_key(w, k);
	jsonw_null(w);
}

void jsonw_khex(struct jsonw *w, const char *k, uint64_t v)
{
	jsonw_key(w, k);
	jsonw_hex(w, v);
}
