/*
 * cgroup: the CPU and memory limits and counters of a process's cgroup,
 * for cgroup v2 (unified) and v1 (cpu, memory controllers).
 */
#ifndef GOSCOPE_CGROUP_H
#define GOSCOPE_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct cgroup_stat {
	char path[512];          /* the cgroup (of the cpu controller) */
	int version;             /* 1 or 2, 0 if unknown */
	bool cpu_limited;
	int64_t quota_us;        /* -1 = no quota */
	int64_t period_us;
	uint64_t nr_periods;
	uint64_t nr_throttled;
	uint64_t throttled_us;
	char mem_path[512];      /* the cgroup of the memory controller */
	/*
	 * The memory cgroup is the root ("/"): the process has no memory
	 * cgroup of its own, and the root's figures are the whole machine's,
	 * so mem_known stays false.
	 */
	bool mem_root;
	bool mem_known;          /* mem_current read from the process's own cgroup */
	uint64_t mem_current;
	uint64_t mem_max;        /* UINT64_MAX = no limit */
	uint64_t oom_kills;      /* memory.events oom_kill (v2) */
};

/* Read the cgroup of PID. False if /proc/PID/cgroup cannot be read. */
bool cgroup_read(pid_t pid, struct cgroup_stat *cs);
/* The same from CGFILE, a file in the format of /proc/PID/cgroup. */
bool cgroup_read_file(const char *cgfile, struct cgroup_stat *cs);

/* Where the cgroup hierarchies are mounted ("" when not seen). */
struct cgroup_mounts {
	char cpu[256];    /* v1 hierarchy with the cpu controller */
	char memory[256]; /* v1 hierarchy with the memory controller */
	char v2[256];     /* the cgroup2 (unified) hierarchy */
};

/*
 * Add the hierarchies mounted at their root that BUF (LEN bytes of
 * /proc/PID/mountinfo, one or more lines) names to M; a field already set
 * is kept (the first mount wins). M starts zeroed.
 */
void cgroup_mountinfo_parse_buf(const char *buf, size_t len, struct cgroup_mounts *m);

#endif
