/*
 * fuzz_proc: the /proc text parsers on any bytes: /proc/PID/stat (comm in
 * parentheses that may hold ") "), /proc/PID/status, schedstat, a line
 * of /proc/PID/maps, /proc/PID/task/TID/syscall,
 * /proc/PID/net/{tcp,tcp6,udp,udp6} (socket lookup by inode, addresses
 * printed back) and /proc/PID/mountinfo (cgroup hierarchies). Every one
 * must stop at LEN bytes (the input has no NUL) and keep its outputs
 * terminated and bounded.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc/cgroup.h"
#include "proc/fdinfo.h"
#include "proc/proc.h"
#include "proc/syscalls.h"

/* The inode the seeds' socket lines carry. */
#define FUZZ_INODE 12345ul

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const tables[] = { "tcp", "tcp6", "udp", "udp6" };
	static const char *const keys[] = { "Tgid", "Pid", "PPid", "VmRSS", "Threads" };
	/* A copy of exactly SIZE bytes: reading one past it is an ASan report. */
	char *buf = malloc(size ? size : 1);
	const char *s = buf;
	volatile size_t sink = 0;
	struct proc_stat st;
	struct cgroup_mounts m;
	uint64_t run, wait;
	long long v;

	if (!buf)
		return 0;
	memcpy(buf, data, size);

	if (proc_stat_parse_buf(s, size, &st) == 0) {
		if (st.nfields < 1 || st.nfields > 5)
			__builtin_trap();
		if (strnlen(st.comm, sizeof(st.comm)) >= sizeof(st.comm))
			__builtin_trap();
		sink += st.flags + st.majflt + st.starttime + st.startstack + (size_t)st.state;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (proc_status_parse_buf(s, size, keys[i], &v))
			sink += (size_t)v;
	if (proc_schedstat_parse_buf(s, size, &run, &wait))
		sink += run + wait;
	{
		struct proc_map pm;
		long nr;

		if (proc_maps_parse_buf(s, size, &pm))
			sink += pm.start + pm.end + pm.offset + pm.ino + pm.major + pm.minor +
				strnlen(pm.perms, sizeof(pm.perms));
		if (syscalls_parse_buf(s, size, &nr)) {
			if (nr < 0)
				__builtin_trap();
			sink += (size_t)nr;
		}
	}
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		struct fdinfo fi;

		memset(&fi, 0, sizeof(fi));
		if (fdinfo_net_parse_buf(s, size, tables[i], FUZZ_INODE, &fi)) {
			if (strnlen(fi.desc, sizeof(fi.desc)) >= sizeof(fi.desc))
				__builtin_trap();
			sink += strlen(fi.desc);
		}
	}
	memset(&m, 0, sizeof(m));
	cgroup_mountinfo_parse_buf(s, size, &m);
	sink += strlen(m.cpu) + strlen(m.memory) + strlen(m.v2);
	(void)sink;
	free(buf);
	return 0;
}
