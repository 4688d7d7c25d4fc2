/*
 * fdinfo: what a file descriptor of another process is — a file path, a
 * pipe, or a socket with its local and remote addresses (from
 * /proc/PID/fd and /proc/PID/net/{tcp,tcp6,udp,udp6,unix}).
 */
#ifndef GOSCOPE_FDINFO_H
#define GOSCOPE_FDINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/* A sorted set of socket inodes (the sockets a process held). */
struct fdinfo_inodes {
	uint64_t *v;
	size_t n;
};

enum fdinfo_kind { FDINFO_SOCKET = 0, FDINFO_FILE, FDINFO_PIPE, FDINFO_OTHER, FDINFO_NKINDS };

/*
 * Count PID's fds by kind into KINDS (may be NULL) and add its socket
 * inodes to SET (may be NULL). Returns the number of fds, -1 if unreadable.
 */
int fdinfo_scan(pid_t pid, int kinds[FDINFO_NKINDS], struct fdinfo_inodes *set);
bool fdinfo_inodes_has(const struct fdinfo_inodes *set, uint64_t ino);
void fdinfo_inodes_free(struct fdinfo_inodes *set);

/*
 * Look for socket INODE in BUF (LEN bytes of /proc/PID/net/TABLE, TABLE
 * "tcp", "tcp6", "udp" or "udp6"; one or more lines). When found, fill
 * FI's addresses and description and return true.
 */
bool fdinfo_net_parse_buf(const char *buf, size_t len, const char *table, unsigned long inode,
			  struct fdinfo *fi);

#endif
