/*
 * fuzz_agentconf: the agent's configuration file (agent/config.c) on any
 * text, applied through the agent's own option table. Whatever the bytes,
 * agent_config_parse_buf returns 0 or -1 with one line of reason, and the
 * settings it accepted are within their ranges.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_config c;
	char err[1400];
	const struct opt *tables[2];

	agent_config_init(&c);
	tables[0] = agent_config_table(&c);
	tables[1] = NULL;
	err[0] = 0;
	if (agent_config_parse_buf(tables, (const char *)data, size, "fz.conf", err,
				   sizeof(err)) != 0) {
		if (strncmp(err, "fz.conf:", 8) != 0 || strchr(err, '\n'))
			__builtin_trap();
		return 0;
	}
	if (!(c.interval >= 0.1 && c.interval <= 3600) ||
	    !(c.offcpu_freq >= 0.1 && c.offcpu_freq <= 100) || c.max_procs < 1 ||
	    c.max_procs > AGENT_MAX_PROCS_LIMIT || c.exes.n > AGENT_MAX_FILTERS ||
	    c.cgroups.n > AGENT_MAX_FILTERS || !memchr(c.listen, 0, sizeof(c.listen)) ||
	    c.collectors == 0)
		__builtin_trap();
	return 0;
}
