/*
 * names: errno, syscall and goroutine-state names (see names.h).
 */
#include "names.h"

#include "syscalls.h"

#include <stdio.h>
#include <string.h>

const char *names_errno(int err, char *buf, size_t len)
{
	/* Kernel-internal: a signal interrupted the call (include/linux/errno.h). */
	static const char *const restart[] = { "ERESTARTSYS", "ERESTARTNOINTR",
					       "ERESTARTNOHAND", "ENOIOCTLCMD",
					       "ERESTART_RESTARTBLOCK" };
	const char *n = err > 0 ? strerrorname_np(err) : NULL;

	if (n)
		return n;
	if (err >= 512 && err <= 516)
		return restart[err - 512];
	snprintf(buf, len, "E%d", err);
	return buf;
}

const char *names_syscall(uint32_t nr, char *buf, size_t len)
{
	const char *n = syscalls_name((long)nr);

	if (n)
		return n;
	snprintf(buf, len, "syscall_%u", nr);
	return buf;
}

const char *names_gstatus(uint32_t status)
{
	static const char *const names[] = { "idle", "runnable", "running", "syscall",
					      "waiting", "moribund", "dead", "enqueue",
					      "copystack", "preempted" };

	status &= ~0x1000u; /* _Gscan */
	return status < sizeof(names) / sizeof(names[0]) ? names[status] : "unknown";
}
