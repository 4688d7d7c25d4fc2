/*
 * promtext: the Prometheus text exposition format (version 0.0.4) into a
 * growable buffer: metric families with HELP and TYPE, samples with
 * escaped label values.
 */
#ifndef GOSCOPE_PROMTEXT_H
#define GOSCOPE_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct promtext {
	char *buf;
	size_t len, cap;
	bool oom; /* an append failed: the text is incomplete */
};

struct promtext_label {
	const char *name;
	const char *value;
};

void promtext_init(struct promtext *p);
void promtext_free(struct promtext *p);
void promtext_reset(struct promtext *p);

/* "# HELP NAME HELP" and "# TYPE NAME TYPE" (counter, gauge, histogram). */
void promtext_family(struct promtext *p, const char *name, const char *type, const char *help);

/*
 * One sample: NAME{labels} VALUE. COMMON labels come first, then EXTRA
 * (either may be NULL with a count of 0).
 */
void promtext_sample(struct promtext *p, const char *name, const struct promtext_label *common,
		     size_t ncommon, const struct promtext_label *extra, size_t nextra,
		     double value);

#endif
