/*
 * discover: find the Go processes running on this host (no -p given),
 * by reading /proc/PID/exe of every process and checking for a pclntab.
 */
#ifndef GOSCOPE_DISCOVER_H
#define GOSCOPE_DISCOVER_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Fill PIDS (up to MAX) with the PIDs of Go processes, excluding goscope
 * itself. Returns how many were found (possibly more than MAX, of which
 * MAX were written), or -1 if /proc cannot be read.
 */
long discover_go_pids(pid_t *pids, size_t max);

#endif
