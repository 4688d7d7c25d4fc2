/*
 * syscalls: names from a table generated at build time from the kernel's
 * UAPI headers (scripts/gen-syscalls.sh), so nothing is copied by hand.
 */
#include "syscalls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syscalls_table.h"

#define SYSCALLS_N ((long)(sizeof(syscalls_table) / sizeof(syscalls_table[0])))

const char *syscalls_name(long nr)
{
	if (nr < 0 || nr >= SYSCALLS_N)
		return NULL;
	return syscalls_table[nr];
}

long syscalls_number(const char *name)
{
	for (long i = 0; i < SYSCALLS_N; i++)
		if (syscalls_table[i] && strcmp(syscalls_table[i], name) == 0)
			return i;
	return -1;
}

long syscalls_count(void)
{
	return SYSCALLS_N;
}

bool syscalls_current(pid_t pid, pid_t tid, long *nr)
{
	char path[96], buf[64];
	FILE *f;
	char *end;
	long v;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return false;
	}
	fclose(f);
	/* "running", "-1 ..." (not in a syscall) or "NR args... sp pc". */
	v = strtol(buf, &end, 10);
	if (end == buf || v < 0)
		return false;
	*nr = v;
	return true;
}
