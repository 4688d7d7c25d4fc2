/*
 * jsonw: a streaming JSON writer for goscope's --json outputs.
 *
 * Keeps only a nesting stack so commas land in the right places; strings
 * are escaped per RFC 8259 (control characters as \u00XX, invalid UTF-8
 * passed through byte by byte as it came from the binary).
 */
#ifndef GOSCOPE_JSONW_H
#define GOSCOPE_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSONW_MAX_DEPTH 32

struct jsonw {
	FILE *out;
	int depth;
	bool first[JSONW_MAX_DEPTH];
	bool after_key;
};

void jsonw_init(struct jsonw *w, FILE *out);
void jsonw_obj_begin(struct jsonw *w);
void jsonw_obj_end(struct jsonw *w);
void jsonw_arr_begin(struct jsonw *w);
void jsonw_arr_end(struct jsonw *w);
void jsonw_key(struct jsonw *w, const char *k);
void jsonw_str(struct jsonw *w, const char *s);   /* NULL writes null */
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_uint(struct jsonw *w, uint64_t v);
void jsonw_double(struct jsonw *w, double v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);
/* A value written as a string "0x..." (addresses). */
void jsonw_hex(struct jsonw *w, uint64_t v);

/* Convenience: key then value. */
void jsonw_kstr(struct jsonw *w, const char *k, const char *s);
void jsonw_kint(struct jsonw *w, const char *k, int64_t v);
void jsonw_kuint(struct jsonw *w, const char *k, uint64_t v);
void jsonw_kdouble(struct jsonw *w, const char *k, double v);
void jsonw_kbool(struct jsonw *w, const char *k, bool v);
void jsonw_khex(struct jsonw *w, const char *k, uint64_t v);
void jsonw_knull(struct jsonw *w, const char *k);

/* Write S as a JSON string literal (quotes included) to OUT. */
void jsonw_escape(FILE *out, const char *s);

#endif
