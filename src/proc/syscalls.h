/*
 * syscalls: system call names and numbers of the host architecture, and
 * what a thread is blocked in right now (/proc/PID/task/TID/syscall).
 */
#ifndef GOSCOPE_SYSCALLS_H
#define GOSCOPE_SYSCALLS_H

#include <stdbool.h>
#include <sys/types.h>

/* Name of syscall NR, or NULL if unknown. */
const char *syscalls_name(long nr);
/* Number of syscall NAME, or -1. */
long syscalls_number(const char *name);
/* One past the highest known number. */
long syscalls_count(void);

/*
 * The syscall thread TID of process PID is in: true and *NR set if it is
 * blocked in one; false if it is running, not in a syscall, or unreadable.
 */
bool syscalls_current(pid_t pid, pid_t tid, long *nr);

/* The same from the text of that file (BUF, LEN bytes). */
bool syscalls_parse_buf(const char *buf, size_t len, long *nr);

/*
 * Members of a named group ("file", "net", "time", "sync", "mem",
 * "proc"), NULL-terminated, or NULL if GROUP is not one.
 */
const char *const *syscalls_group(const char *group);

/* The group names, NULL-terminated. */
const char *const *syscalls_groups(void);

#endif
