/*
 * fmt: number formatting shared by every formatter (see fmt.h).
 */
#include "fmt.h"

#include <inttypes.h>
#include <stdio.h>

/*
 * Each unit starts where the smaller one would round up to 1000 of itself
 * (999950 ns is "1.00ms", not "1000.0us").
 */
const char *fmt_dur(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 9995000000ull)
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
	else if (ns >= 999995000ull)
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
	else if (ns >= 999950)
		snprintf(buf, len, "%.2fms", (double)ns / 1e6);
	else if (ns >= 1000)
		snprintf(buf, len, "%.1fus", (double)ns / 1e3);
	else
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	return buf;
}

double fmt_pct(double part, double whole)
{
	return whole > 0 ? 100.0 * part / whole : 0.0;
}
