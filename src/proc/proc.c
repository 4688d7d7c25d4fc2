/*
 * proc: /proc readers for target resolution and address translation.
 */
#include "proc.h"

#include "../gobin/elfimg.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define PF_KTHREAD 0x00200000

bool proc_parse_pid(const char *arg, pid_t *pid)
{
	long v = 0;

	if (!arg || !*arg)
		return false;
	for (const char *p = arg; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		v = v * 10 + (*p - '0');
		if (v > 4194304) /* PID_MAX_LIMIT */
			return false;
	}
	if (v <= 0)
		return false;
	*pid = (pid_t)v;
	return true;
}

bool proc_alive(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return access(path, F_OK) == 0;
}

int proc_stat_parse_buf(const char *buf, size_t len, struct proc_stat *st)
{
	char tmp[1024];
	char *lp, *rp;
	size_t n = len < sizeof(tmp) - 1 ? len : sizeof(tmp) - 1;

	memset(st, 0, sizeof(*st));
	memcpy(tmp, buf, n);
	tmp[n] = 0;
	/* comm is in parentheses and may itself contain ") ". */
	lp = strchr(tmp, '(');
	rp = strrchr(tmp, ')');
	if (!rp || rp[1] == '\0')
		return -1;
	if (lp && lp < rp) {
		size_t cl = (size_t)(rp - lp - 1);

		if (cl >= sizeof(st->comm))
			cl = sizeof(st->comm) - 1;
		memcpy(st->comm, lp + 1, cl);
		st->comm[cl] = 0;
		st->has_comm = true;
	}
	/*
	 * After ") ": state ppid pgrp session tty_nr tpgid flags minflt
	 * cminflt majflt cmajflt utime stime cutime cstime priority nice
	 * num_threads itrealvalue starttime vsize rss rsslim startcode
	 * endcode startstack.
	 */
	st->nfields = sscanf(rp + 2,
			     "%c %*d %*d %*d %*d %*d %lu %*u %*u %" SCNu64 " %*u %*u %*u "
			     "%*d %*d %*d %*d %*d %*d %" SCNu64 " %*u %*d %*u %*u %*u %" SCNu64,
			     &st->state, &st->flags, &st->majflt, &st->starttime, &st->startstack);
	if (st->nfields < 0)
		st->nfields = 0;
	return st->nfields > 0 ? 0 : -1;
}

/* /proc/PID/stat parsed; false if it cannot be read. */
static bool proc_stat_read(pid_t pid, struct proc_stat *st)
{
	char path[64], buf[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	return proc_stat_parse_buf(buf, n, st) == 0;
}

/* Flags field (9th) of /proc/PID/stat; -1 on error. */
static long proc_stat_flags(pid_t pid, char *comm, size_t commlen)
{
	struct proc_stat st;

	if (!proc_stat_read(pid, &st) || !st.has_comm || st.nfields < 2)
		return -1;
	if (comm && commlen)
		snprintf(comm, commlen, "%s", st.comm);
	return (long)st.flags;
}

int proc_target_parse(const char *arg, struct proc_target *t, char *err, size_t errlen)
{
	struct stat st;
	pid_t pid;
	long flags;
	char link[64];
	ssize_t n;

	memset(t, 0, sizeof(*t));
	if (stat(arg, &st) == 0 || !proc_parse_pid(arg, &pid)) {
		/* A path (existing or not: the open reports what is wrong). */
		snprintf(t->open_path, sizeof(t->open_path), "%s", arg);
		snprintf(t->exe, sizeof(t->exe), "%s", arg);
		return 0;
	}
	t->pid = pid;
	if (!proc_alive(pid)) {
		snprintf(err, errlen, "no such process: %d", (int)pid);
		return -1;
	}
	flags = proc_stat_flags(pid, t->comm, sizeof(t->comm));
	if (flags < 0) {
		snprintf(err, errlen, "no such process: %d (it exited)", (int)pid);
		return -1;
	}
	if (flags & PF_KTHREAD) {
		snprintf(err, errlen, "pid %d (%s) is a kernel thread, not a Go program",
			 (int)pid, t->comm);
		return -1;
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, t->exe, sizeof(t->exe) - 1);
	if (n < 0) {
		int e = errno;

		if (e == EACCES || e == EPERM)
			snprintf(err, errlen,
				 "permission denied reading %s (run as root or with CAP_SYS_PTRACE)",
				 link);
		else if (e == ENOENT && proc_alive(pid))
			snprintf(err, errlen, "pid %d (%s) has no executable (a zombie or kernel thread)",
				 (int)pid, t->comm);
		else
			snprintf(err, errlen, "no such process: %d (it exited)", (int)pid);
		return -1;
	}
	t->exe[n] = 0;
	snprintf(t->open_path, sizeof(t->open_path), "%s", link);
	if (access(link, R_OK) != 0) {
		snprintf(err, errlen,
			 "permission denied reading %s (run as root or with CAP_SYS_PTRACE)",
			 link);
		return -1;
	}
	return 0;
}

bool proc_maps_parse_buf(const char *buf, size_t len, struct proc_map *m)
{
	char line[PATH_MAX + 128];
	size_t n = len < sizeof(line) - 1 ? len : sizeof(line) - 1;

	memset(m, 0, sizeof(*m));
	memcpy(line, buf, n);
	line[n] = 0;
	return sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64, &m->start,
		      &m->end, m->perms, &m->offset, &m->major, &m->minor, &m->ino) == 7;
}

int proc_load_bias(pid_t pid, const struct elfimg *img, uint64_t *bias, char *err,
		   size_t errlen)
{
	char path[64], line[PATH_MAX + 128];
	struct stat st;
	FILE *f;
	int rc = -1;

	*bias = 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "no such process: %d (it exited)", (int)pid);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct proc_map m;
		int64_t delta;

		if (!proc_maps_parse_buf(line, strlen(line), &m))
			continue;
		if (m.ino != (uint64_t)st.st_ino || makedev(m.major, m.minor) != st.st_dev)
			continue;
		if (!elfimg_offset_delta(img, m.offset, &delta))
			continue;
		/* The link-time address of this mapping's first byte. */
		*bias = m.start - (m.offset + (uint64_t)delta);
		rc = 0;
		break;
	}
	fclose(f);
	if (rc != 0)
		snprintf(err, errlen, "pid %d: executable not found in %s", (int)pid, path);
	return rc;
}

int proc_thread_count(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

bool proc_majflt(pid_t pid, uint64_t *v)
{
	struct proc_stat st;

	if (!proc_stat_read(pid, &st) || st.nfields < 3)
		return false;
	*v = st.majflt;
	return true;
}

bool proc_starttime(pid_t pid, uint64_t *v)
{
	struct proc_stat st;

	if (!proc_stat_read(pid, &st) || st.nfields < 4)
		return false;
	*v = st.starttime;
	return true;
}

bool proc_status_parse_buf(const char *buf, size_t len, const char *key, long long *v)
{
	size_t kl = strlen(key);

	/* Line by line, each cut at 255 bytes as the file reader's fgets does. */
	for (size_t at = 0; at < len;) {
		char line[256];
		size_t n = 0;

		while (at + n < len && n < sizeof(line) - 1 && buf[at + n] != '\n')
			n++;
		if (at + n < len && n < sizeof(line) - 1)
			n++; /* the newline */
		memcpy(line, buf + at, n);
		line[n] = 0;
		at += n;
		if (strlen(line) > kl && strncmp(line, key, kl) == 0 && line[kl] == ':' &&
		    sscanf(line + kl + 1, "%lld", v) == 1)
			return true;
	}
	return false;
}

bool proc_startstack(pid_t pid, uint64_t *v)
{
	struct proc_stat st;

	if (!proc_stat_read(pid, &st) || st.nfields < 5)
		return false;
	*v = st.startstack;
	return true;
}

bool proc_status_value(pid_t pid, const char *key, long long *v)
{
	char path[64], line[256];
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = proc_status_parse_buf(line, strlen(line), key, v);
	fclose(f);
	return found;
}

pid_t proc_tgid(pid_t tid)
{
	long long tgid = -1;

	if (!proc_status_value(tid, "Tgid", &tgid))
		return -1;
	return tgid > 0 && tgid <= INT_MAX ? (pid_t)tgid : -1;
}

bool proc_schedstat_parse_buf(const char *buf, size_t len, uint64_t *run_ns,
			      uint64_t *wait_ns)
{
	char tmp[256];
	size_t n = len < sizeof(tmp) - 1 ? len : sizeof(tmp) - 1;

	memcpy(tmp, buf, n);
	tmp[n] = 0;
	return sscanf(tmp, "%" SCNu64 " %" SCNu64, run_ns, wait_ns) == 2;
}

bool proc_run_delay(pid_t pid, uint64_t *ns)
{
	char path[64];
	DIR *d;
	struct dirent *de;

	*ns = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return false;
	while ((de = readdir(d)) != NULL) {
		char p2[384], buf[256];
		uint64_t run, delay;
		FILE *f;
		size_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p2, sizeof(p2), "%s/%s/schedstat", path, de->d_name);
		f = fopen(p2, "re");
		if (!f)
			continue; /* the thread exited meanwhile */
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		if (proc_schedstat_parse_buf(buf, n, &run, &delay))
			*ns += delay;
	}
	closedir(d);
	return true;
}

bool proc_exe_id(pid_t pid, uint64_t *dev, uint64_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &st) != 0)
		return false;
	*dev = (uint64_t)st.st_dev;
	*ino = (uint64_t)st.st_ino;
	return true;
}
