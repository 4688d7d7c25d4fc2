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

bool syscalls_parse_buf(const char *buf, size_t len, long *nr)
{
	char tmp[64];
	size_t n = len < sizeof(tmp) - 1 ? len : sizeof(tmp) - 1;
	char *end;
	long v;

	memcpy(tmp, buf, n);
	tmp[n] = 0;
	/* "running", "-1 ..." (not in a syscall) or "NR args... sp pc". */
	v = strtol(tmp, &end, 10);
	if (end == tmp || v < 0)
		return false;
	*nr = v;
	return true;
}

bool syscalls_current(pid_t pid, pid_t tid, long *nr)
{
	char path[96], buf[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return false;
	}
	fclose(f);
	return syscalls_parse_buf(buf, strlen(buf), nr);
}

static const char *const syscalls_g_file[] = {
	"open", "openat", "openat2", "creat", "close", "read", "write", "pread64", "pwrite64",
	"readv", "writev", "preadv", "pwritev", "preadv2", "pwritev2", "lseek", "stat", "lstat",
	"fstat", "newfstatat", "statx", "access", "faccessat", "faccessat2", "fsync", "fdatasync",
	"sync_file_range", "ftruncate", "truncate", "getdents64", "rename", "renameat", "renameat2",
	"unlink", "unlinkat", "mkdir", "mkdirat", "rmdir", "readlink", "readlinkat", "fcntl",
	"flock", "fallocate", "sendfile", "splice", "copy_file_range", "chmod", "fchmod",
	"fchmodat", "chown", "fchown", "fchownat", "utimensat", "statfs", "fstatfs", "dup",
	"dup2", "dup3", "pipe", "pipe2", "ioctl", NULL,
};
static const char *const syscalls_g_net[] = {
	"socket", "socketpair", "connect", "accept", "accept4", "bind", "listen", "sendto",
	"recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getsockname",
	"getpeername", "setsockopt", "getsockopt", "epoll_create1", "epoll_ctl", "epoll_wait",
	"epoll_pwait", "epoll_pwait2", "poll", "ppoll", "select", "pselect6", NULL,
};
static const char *const syscalls_g_time[] = {
	"nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday",
	"time", "timer_create", "timer_settime", "timerfd_create", "timerfd_settime",
	"setitimer", "getitimer", "alarm", "pause", NULL,
};
static const char *const syscalls_g_sync[] = {
	"futex", "futex_waitv", "sched_yield", "membarrier", "rseq", NULL,
};
static const char *const syscalls_g_mem[] = {
	"mmap", "munmap", "mprotect", "madvise", "mremap", "brk", "mlock", "munlock",
	"mincore", "msync", NULL,
};
static const char *const syscalls_g_proc[] = {
	"clone", "clone3", "fork", "vfork", "execve", "execveat", "exit", "exit_group",
	"wait4", "waitid", "kill", "tkill", "tgkill", "rt_sigaction", "rt_sigprocmask",
	"rt_sigreturn", "sigaltstack", "prctl", "arch_prctl", "getpid", "gettid",
	"sched_getaffinity", "sched_setaffinity", "getrlimit", "setrlimit", "prlimit64", NULL,
};

static const struct {
	const char *name;
	const char *const *members;
} syscalls_groups_tab[] = {
	{ "file", syscalls_g_file }, { "net", syscalls_g_net }, { "time", syscalls_g_time },
	{ "sync", syscalls_g_sync }, { "mem", syscalls_g_mem }, { "proc", syscalls_g_proc },
};

static const char *const syscalls_group_names[] = {
	"file", "net", "time", "sync", "mem", "proc", NULL,
};

const char *const *syscalls_group(const char *group)
{
	for (size_t i = 0; i < sizeof(syscalls_groups_tab) / sizeof(syscalls_groups_tab[0]); i++)
		if (strcmp(syscalls_groups_tab[i].name, group) == 0)
			return syscalls_groups_tab[i].members;
	return NULL;
}

const char *const *syscalls_groups(void)
{
	return syscalls_group_names;
}
