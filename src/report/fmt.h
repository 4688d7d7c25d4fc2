/*
 * fmt: how goscope writes numbers for people: one duration format for
 * every table and sentence.
 */
#ifndef GOSCOPE_FMT_H
#define GOSCOPE_FMT_H

#include <stddef.h>
#include <stdint.h>

/* "812ns", "12.3us", "4.56ms", "1.23s", "12.3s" into BUF; returns BUF. */
const char *fmt_dur(char *buf, size_t len, uint64_t ns);

/* Percent of PART in WHOLE (0 when WHOLE is 0). */
double fmt_pct(double part, double whole);

#endif
