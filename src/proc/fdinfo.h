/*
 * fdinfo: what a file descriptor of another process is — a file path, a
 * pipe, or a socket with its local and remote addresses (from
 * /proc/PID/fd and /proc/PID/net/{tcp,tcp6,udp,udp6,unix}).
 */
#ifndef GOSCOPE_FDINFO_H
#define GOSCOPE_FDINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct fdinfo {
	char kind[16];       /* "file", "socket", "pipe", "anon", "?" */
	char desc[320];      /* path, "tcp 1.2.3.4:5 -> 6.7.8.9:10", "pipe:[123]" */
	bool has_local;
	struct sockaddr_storage local;
	bool has_remote;
	struct sockaddr_storage remote;
};

/* Describe fd FD of PID. False if it does not exist (any more). */
bool fdinfo_get(pid_t pid, int fd, struct fdinfo *fi);

#endif
