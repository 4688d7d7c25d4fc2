/*
 * names: the one place that turns kernel and runtime numbers into the
 * names people know: errnos (including the kernel-internal ERESTART*
 * codes a traced syscall can return), system calls, goroutine states.
 */
#ifndef GOSCOPE_NAMES_H
#define GOSCOPE_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* "ENOENT", "ERESTARTSYS", or "E<n>" written into BUF. */
const char *names_errno(int err, char *buf, size_t len);

/* "openat", or "syscall_<nr>" written into BUF. */
const char *names_syscall(uint32_t nr, char *buf, size_t len);

/* A goroutine status (Gscan bit masked) as dumps name it: "runnable", ... */
const char *names_gstatus(uint32_t status);

#endif
