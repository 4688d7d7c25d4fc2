/*
 * report/contention: `goscope contention` reports: the contended objects
 * as a table with the waiters' stacks (top), folded stacks, a pprof
 * contention profile (contentions/count, delay/nanoseconds, as Go's own
 * mutex and block profiles) and JSON lines.
 */
#ifndef GOSCOPE_REPORT_CONTENTION_H
#define GOSCOPE_REPORT_CONTENTION_H

#include <stdio.h>

#include "../collect/contention.h"

/* "main.hotMu" when the object is a named global, else "". */
void contention_object_name(const struct contention *c, const struct contention_object *o,
			    char *buf, size_t len);

void contention_print_top(FILE *out, const struct contention *c, size_t top);
void contention_print_folded(FILE *out, const struct contention *c);
void contention_print_json(FILE *out, const struct contention *c);

/* Write the pprof profile to PATH: 0, or -1 with errno set. */
int contention_write_pprof(const struct contention *c, const char *path);

#endif
