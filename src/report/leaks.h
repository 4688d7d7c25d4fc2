/*
 * report/leaks: `goscope leaks` reports as text (suspects first, with
 * their stacks) and as JSON lines (one object per group, then a summary).
 */
#ifndef GOSCOPE_REPORT_LEAKS_H
#define GOSCOPE_REPORT_LEAKS_H

#include <stdio.h>

#include "../collect/leaks.h"

/* "main.leakLoop" and "/src/main.go:38" of the go statement at GOPC. */
void leaks_created_by(const struct leaks_report_target *t, uint64_t gopc, const char **func,
		      char *where, size_t wlen);

/* Text: the header, suspects with their stacks, then the other groups (at most TOP). */
void leaks_print_text(FILE *out, const struct leaks_report *r, size_t top);

/* JSON lines: {"type":"group",...} per group, then {"type":"summary",...}. */
void leaks_print_json(FILE *out, const struct leaks_report *r);

#endif
