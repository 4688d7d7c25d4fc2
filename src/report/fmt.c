/*
 * fmt: number formatting shared by every formatter (see fmt.h).
 */
#include "fmt.h"

#include <inttypes.h>
#include <stdio.h>

const char *fmt_dur(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 10000000000ull)
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
	else if (ns >= 1000000000ull)
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
	else if (ns >= 1000000)
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
