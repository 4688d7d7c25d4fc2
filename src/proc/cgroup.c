/*
 * cgroup: read cpu.max, cpu.stat and memory.{current,max,events} (v2),
 * or cpu.cfs_quota_us, cpu.cfs_period_us, cpu.stat and the memory
 * controller's files (v1) for a process, from /proc/PID/cgroup.
 */
#include "cgroup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Does the comma-separated controller list LIST name CTRL? */
static bool cg_has(const char *list, const char *ctrl)
{
	size_t n = strlen(ctrl);

	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, ctrl, n) == 0 && (p[n] == ',' || p[n] == 0))
			return true;
	return false;
}

static bool cg_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	return ok;
}

/* "key value" lines: the value of KEY, or false. */
static bool cg_kv(const char *path, const char *key, uint64_t *v)
{
	char line[256];
	FILE *f = fopen(path, "re");
	size_t kl = strlen(key);
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ' ')
			found = sscanf(line + kl + 1, "%" SCNu64, v) == 1;
	fclose(f);
	return found;
}

static bool cg_u64(const char *path, uint64_t *v)
{
	char buf[64];

	if (!cg_read_line(path, buf, sizeof(buf)))
		return false;
	if (strncmp(buf, "max", 3) == 0) {
		*v = UINT64_MAX;
		return true;
	}
	return sscanf(buf, "%" SCNu64, v) == 1;
}

void cgroup_mountinfo_parse_buf(const char *buf, size_t len, struct cgroup_mounts *m)
{
	/* Line by line, each cut at 1023 bytes as the file reader's fgets does. */
	for (size_t at = 0; at < len;) {
		char line[1024], root[256], mnt[256], fstype[32], super[512];
		char *dash;
		size_t n = 0;

		while (at + n < len && n < sizeof(line) - 1 && buf[at + n] != '\n')
			n++;
		if (at + n < len && n < sizeof(line) - 1)
			n++; /* the newline */
		memcpy(line, buf + at, n);
		line[n] = 0;
		at += n;
		dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %255s %255s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%31s %*s %511s", fstype, super) != 2 || strcmp(root, "/") != 0)
			continue;
		if (strcmp(fstype, "cgroup2") == 0 && !m->v2[0])
			snprintf(m->v2, sizeof(m->v2), "%s", mnt);
		else if (strcmp(fstype, "cgroup") == 0) {
			if (cg_has(super, "cpu") && !m->cpu[0])
				snprintf(m->cpu, sizeof(m->cpu), "%s", mnt);
			if (cg_has(super, "memory") && !m->memory[0])
				snprintf(m->memory, sizeof(m->memory), "%s", mnt);
		}
	}
}

/*
 * Mount points of the cgroup hierarchies. Mountinfo fields: id parent
 * major:minor root mountpoint options ... - fstype source superoptions.
 * Only hierarchies mounted at their root ("/") are usable: in a container
 * whose /sys/fs/cgroup is a sub-tree the paths of /proc/PID/cgroup do not
 * resolve under it. Falls back to the usual places.
 */
static void cg_find_mounts(struct cgroup_mounts *m)
{
	char line[1024];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	memset(m, 0, sizeof(*m));
	while (f && fgets(line, sizeof(line), f))
		cgroup_mountinfo_parse_buf(line, strlen(line), m);
	if (f)
		fclose(f);
	if (!m->cpu[0])
		snprintf(m->cpu, sizeof(m->cpu), "/sys/fs/cgroup/cpu,cpuacct");
	if (!m->memory[0])
		snprintf(m->memory, sizeof(m->memory), "/sys/fs/cgroup/memory");
	if (!m->v2[0])
		snprintf(m->v2, sizeof(m->v2), "/sys/fs/cgroup");
}

bool cgroup_read(pid_t pid, struct cgroup_stat *cs)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	return cgroup_read_file(path, cs);
}

bool cgroup_read_file(const char *cgfile, struct cgroup_stat *cs)
{
	static struct cgroup_mounts mounts;
	static bool mounts_known;
	char path[1024], line[1024], v1cpu[512] = "", v1mem[512] = "", v2[512] = "";
	FILE *f;
	bool have_v2 = false;

	memset(cs, 0, sizeof(*cs));
	cs->quota_us = -1;
	cs->mem_max = UINT64_MAX;
	f = fopen(cgfile, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;

		if (!b)
			continue;
		b[strcspn(b, "\n")] = 0;
		*a = 0;
		*b = 0;
		if (strcmp(line, "0") == 0 && a[1] == 0) {
			snprintf(v2, sizeof(v2), "%s", b + 1);
			have_v2 = true;
		} else if (cg_has(a + 1, "cpu")) {
			snprintf(v1cpu, sizeof(v1cpu), "%s", b + 1);
		} else if (cg_has(a + 1, "memory")) {
			snprintf(v1mem, sizeof(v1mem), "%s", b + 1);
		}
	}
	fclose(f);
	if (!mounts_known) {
		cg_find_mounts(&mounts);
		mounts_known = true;
	}
	if (v1cpu[0]) {
		uint64_t q, p;

		cs->version = 1;
		snprintf(cs->path, sizeof(cs->path), "%s", v1cpu);
		snprintf(path, sizeof(path), "%s%s/cpu.cfs_quota_us", mounts.cpu, v1cpu);
		if (cg_read_line(path, line, sizeof(line))) {
			cs->quota_us = strtoll(line, NULL, 10);
			snprintf(path, sizeof(path), "%s%s/cpu.cfs_period_us", mounts.cpu, v1cpu);
			if (cg_u64(path, &p))
				cs->period_us = (int64_t)p;
			snprintf(path, sizeof(path), "%s%s/cpu.stat", mounts.cpu, v1cpu);
			cg_kv(path, "nr_periods", &cs->nr_periods);
			cg_kv(path, "nr_throttled", &cs->nr_throttled);
			if (cg_kv(path, "throttled_time", &q))
				cs->throttled_us = q / 1000;
		}
		cs->cpu_limited = cs->quota_us > 0;
		snprintf(cs->mem_path, sizeof(cs->mem_path), "%s", v1mem);
		cs->mem_root = strcmp(v1mem, "/") == 0;
		if (v1mem[0] && !cs->mem_root) {
			snprintf(path, sizeof(path), "%s%s/memory.usage_in_bytes", mounts.memory, v1mem);
			cs->mem_known = cg_u64(path, &cs->mem_current);
			snprintf(path, sizeof(path), "%s%s/memory.limit_in_bytes", mounts.memory, v1mem);
			cg_u64(path, &cs->mem_max);
			if (cs->mem_max >= (1ull << 62))
				cs->mem_max = UINT64_MAX;
			snprintf(path, sizeof(path), "%s%s/memory.oom_control", mounts.memory, v1mem);
			cg_kv(path, "oom_kill", &cs->oom_kills);
		}
		return true;
	}
	if (!have_v2)
		return true;
	cs->version = 2;
	snprintf(cs->path, sizeof(cs->path), "%s", v2);
	snprintf(path, sizeof(path), "%s%s/cpu.max", mounts.v2, v2);
	if (cg_read_line(path, line, sizeof(line))) {
		char q[32];
		long long per = 0;

		if (sscanf(line, "%31s %lld", q, &per) == 2) {
			cs->quota_us = strcmp(q, "max") == 0 ? -1 : strtoll(q, NULL, 10);
			cs->period_us = per;
		}
	}
	cs->cpu_limited = cs->quota_us > 0;
	snprintf(path, sizeof(path), "%s%s/cpu.stat", mounts.v2, v2);
	cg_kv(path, "nr_periods", &cs->nr_periods);
	cg_kv(path, "nr_throttled", &cs->nr_throttled);
	cg_kv(path, "throttled_usec", &cs->throttled_us);
	snprintf(cs->mem_path, sizeof(cs->mem_path), "%s", v2);
	cs->mem_root = strcmp(v2, "/") == 0;
	if (cs->mem_root)
		return true; /* the root's memory.* are the machine's (or absent) */
	snprintf(path, sizeof(path), "%s%s/memory.current", mounts.v2, v2);
	cs->mem_known = cg_u64(path, &cs->mem_current);
	snprintf(path, sizeof(path), "%s%s/memory.max", mounts.v2, v2);
	cg_u64(path, &cs->mem_max);
	snprintf(path, sizeof(path), "%s%s/memory.events", mounts.v2, v2);
	cg_kv(path, "oom_kill", &cs->oom_kills);
	return true;
}
