/*
 * fdinfo: describe another process's file descriptors from /proc.
 * Socket addresses come from the kernel's tables in the process's own
 * network namespace (/proc/PID/net/...), matched by socket inode.
 */
#include "fdinfo.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "0100007F:1F90" (IPv4, kernel byte order) or 32-hex IPv6 into SA. */
static bool fdinfo_parse_addr(const char *s, bool v6, struct sockaddr_storage *sa)
{
	unsigned port;
	const char *colon = strchr(s, ':');

	if (!colon || sscanf(colon + 1, "%x", &port) != 1)
		return false;
	memset(sa, 0, sizeof(*sa));
	if (!v6) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;
		unsigned a;

		if (colon - s != 8 || sscanf(s, "%8x", &a) != 1)
			return false;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = a; /* already in network order as printed */
		in->sin_port = htons((uint16_t)port);
		return true;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;

	if (colon - s != 32)
		return false;
	for (int i = 0; i < 4; i++) {
		unsigned w;
		char part[9];

		memcpy(part, s + 8 * i, 8);
		part[8] = 0;
		if (sscanf(part, "%8x", &w) != 1)
			return false;
		memcpy(&in6->sin6_addr.s6_addr[4 * i], &w, 4);
	}
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons((uint16_t)port);
	return true;
}

static void fdinfo_fmt(const struct sockaddr_storage *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(in6->sin6_port));
	}
}

bool fdinfo_net_parse_buf(const char *buf, size_t len, const char *table, unsigned long inode,
			  struct fdinfo *fi)
{
	bool v6 = strchr(table, '6') != NULL;
	bool found = false;

	/* Line by line, each cut at 511 bytes as the file reader's fgets does. */
	for (size_t at = 0; !found && at < len;) {
		char line[512], local[64], remote[64];
		unsigned long ino;
		size_t n = 0;

		while (at + n < len && n < sizeof(line) - 1 && buf[at + n] != '\n')
			n++;
		if (at + n < len && n < sizeof(line) - 1)
			n++; /* the newline */
		memcpy(line, buf + at, n);
		line[n] = 0;
		at += n;
		if (sscanf(line, " %*d: %63s %63s %*x %*x:%*x %*x:%*x %*x %*u %*d %lu", local, remote,
			   &ino) != 3 || ino != inode)
			continue;
		fi->has_local = fdinfo_parse_addr(local, v6, &fi->local);
		fi->has_remote = fdinfo_parse_addr(remote, v6, &fi->remote);
		found = true;
	}
	if (found) {
		char l[64] = "?", r[64] = "?";
		char proto[8];

		snprintf(proto, sizeof(proto), "%.3s%s", table, v6 ? "6" : "");
		if (fi->has_local)
			fdinfo_fmt(&fi->local, l, sizeof(l));
		if (fi->has_remote)
			fdinfo_fmt(&fi->remote, r, sizeof(r));
		if (fi->has_remote && fi->remote.ss_family == AF_INET &&
		    ((struct sockaddr_in *)&fi->remote)->sin_port == 0)
			snprintf(fi->desc, sizeof(fi->desc), "%s %s (listening)", proto, l);
		else
			snprintf(fi->desc, sizeof(fi->desc), "%s %s -> %s", proto, l, r);
	}
	return found;
}

/* Find INODE in /proc/PID/net/TABLE; fill FI. */
static bool fdinfo_inet(pid_t pid, const char *table, unsigned long inode, struct fdinfo *fi)
{
	char path[64], line[512];
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, table);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = fdinfo_net_parse_buf(line, strlen(line), table, inode, fi);
	fclose(f);
	return found;
}

bool fdinfo_get(pid_t pid, int fd, struct fdinfo *fi)
{
	char path[64], link[256];
	ssize_t n;
	unsigned long inode;

	memset(fi, 0, sizeof(*fi));
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = 0;
	if (sscanf(link, "socket:[%lu]", &inode) == 1) {
		static const char *tables[] = { "tcp", "tcp6", "udp", "udp6" };

		snprintf(fi->kind, sizeof(fi->kind), "socket");
		for (size_t i = 0; i < 4; i++)
			if (fdinfo_inet(pid, tables[i], inode, fi))
				return true;
		snprintf(fi->desc, sizeof(fi->desc), "%s", link);
		return true;
	}
	if (strncmp(link, "pipe:", 5) == 0)
		snprintf(fi->kind, sizeof(fi->kind), "pipe");
	else if (strncmp(link, "anon_inode:", 11) == 0)
		snprintf(fi->kind, sizeof(fi->kind), "anon");
	else if (link[0] == '/')
		snprintf(fi->kind, sizeof(fi->kind), "file");
	else
		snprintf(fi->kind, sizeof(fi->kind), "?");
	snprintf(fi->desc, sizeof(fi->desc), "%s", link);
	return true;
}

#define FDINFO_MAX_INODES 65536

static int fdinfo_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

bool fdinfo_inodes_has(const struct fdinfo_inodes *set, uint64_t ino)
{
	return set->n && bsearch(&ino, set->v, set->n, sizeof(uint64_t), fdinfo_cmp_u64);
}

void fdinfo_inodes_free(struct fdinfo_inodes *set)
{
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

/* Insert INO keeping the set sorted; silently bounded. */
static void fdinfo_inodes_add(struct fdinfo_inodes *set, uint64_t ino)
{
	size_t lo = 0, hi = set->n;
	uint64_t *n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (set->v[mid] < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	if ((lo < set->n && set->v[lo] == ino) || set->n >= FDINFO_MAX_INODES)
		return;
	n = realloc(set->v, (set->n + 1) * sizeof(*n));
	if (!n)
		return;
	set->v = n;
	memmove(&set->v[lo + 1], &set->v[lo], (set->n - lo) * sizeof(*n));
	set->v[lo] = ino;
	set->n++;
}

int fdinfo_scan(pid_t pid, int kinds[FDINFO_NKINDS], struct fdinfo_inodes *set)
{
	char path[64], lp[384], link[128];
	DIR *d;
	struct dirent *de;
	int n = 0;

	if (kinds)
		memset(kinds, 0, FDINFO_NKINDS * sizeof(int));
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		unsigned long long ino;
		ssize_t l;

		if (de->d_name[0] == '.')
			continue;
		n++;
		if (!kinds && !set)
			continue;
		snprintf(lp, sizeof(lp), "%s/%s", path, de->d_name);
		l = readlink(lp, link, sizeof(link) - 1);
		if (l < 0)
			continue;
		link[l] = 0;
		if (sscanf(link, "socket:[%llu]", &ino) == 1) {
			if (kinds)
				kinds[FDINFO_SOCKET]++;
			if (set)
				fdinfo_inodes_add(set, ino);
		} else if (kinds) {
			if (link[0] == '/')
				kinds[FDINFO_FILE]++;
			else if (strncmp(link, "pipe:", 5) == 0)
				kinds[FDINFO_PIPE]++;
			else
				kinds[FDINFO_OTHER]++;
		}
	}
	closedir(d);
	return n;
}
