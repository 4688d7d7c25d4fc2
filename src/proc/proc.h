/*
 * proc: what goscope reads about a running process from /proc.
 *
 * Resolving a TARGET argument (a path or a PID) into the executable to
 * read, the load bias of a PIE, thread counts and the checks that turn a
 * kernel thread, a vanished PID or a permission problem into one clear
 * sentence.
 */
#ifndef GOSCOPE_PROC_H
#define GOSCOPE_PROC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct elfimg;

struct proc_target {
	pid_t pid;                /* 0 when the target is a file */
	char open_path[PATH_MAX]; /* what to open: the file, or /proc/PID/exe */
	char exe[PATH_MAX];       /* the executable's name for display */
	char comm[32];
};

/*
 * Resolve ARG: an existing file is a path; otherwise all digits is a PID.
 * Checks that the PID exists, is not a kernel thread and that its
 * executable is readable. Returns 0, or -1 with a one-line reason in ERR.
 */
int proc_target_parse(const char *arg, struct proc_target *t, char *err, size_t errlen);

/*
 * Load bias of PID's main executable: the run-time address minus the link
 * address, found in /proc/PID/maps by the executable's device and inode.
 * 0 for non-PIE binaries. Returns 0, or -1 with a reason.
 */
int proc_load_bias(pid_t pid, const struct elfimg *img, uint64_t *bias, char *err,
		   size_t errlen);

/* One line of /proc/PID/maps: "start-end perms offset major:minor inode [path]". */
struct proc_map {
	uint64_t start, end, offset, ino;
	unsigned major, minor;
	char perms[8];
};

/* Parse the first line of BUF (LEN bytes); false unless its seven fields are there. */
bool proc_maps_parse_buf(const char *buf, size_t len, struct proc_map *m);

/* Number of threads (entries of /proc/PID/task), or -1. */
int proc_thread_count(pid_t pid);

/* Major page faults of PID so far (majflt of /proc/PID/stat). */
bool proc_majflt(pid_t pid, uint64_t *v);

/* True if PID is alive (kill(pid, 0) or /proc/PID exists). */
bool proc_alive(pid_t pid);

/* startstack of PID (/proc/PID/stat field 28; 0 once the process is a zombie). */
bool proc_startstack(pid_t pid, uint64_t *v);

/* starttime of PID (field 22 of /proc/PID/stat, clock ticks since boot). */
bool proc_starttime(pid_t pid, uint64_t *v);

/*
 * The process (thread group) that thread TID belongs to, from
 * /proc/TID/status (a TID is not listed in /proc but can be opened there);
 * -1 if there is no such thread.
 */
pid_t proc_tgid(pid_t tid);

/* Device and inode of PID's executable (/proc/PID/exe); false if gone. */
bool proc_exe_id(pid_t pid, uint64_t *dev, uint64_t *ino);

/* Parse a decimal PID; false unless ARG is all digits and in range. */
bool proc_parse_pid(const char *arg, pid_t *pid);

/* The fields goscope uses of a /proc/PID/stat line. */
struct proc_stat {
	char comm[32];       /* between the first '(' and the last ')' */
	bool has_comm;
	char state;          /* field 3 */
	unsigned long flags; /* field 9 */
	uint64_t majflt;     /* field 12 */
	uint64_t starttime;  /* field 22 */
	uint64_t startstack; /* field 28: placed anew by each exec (ASLR) */
	int nfields;         /* how many of state, flags, majflt, starttime, startstack were read */
};

/*
 * Parse the text of /proc/PID/stat (BUF, LEN bytes, no NUL needed; the
 * first 1023 bytes are read). Returns 0 if at least the state was read
 * (see NFIELDS for the rest), else -1.
 */
int proc_stat_parse_buf(const char *buf, size_t len, struct proc_stat *st);

/*
 * The integer of "KEY:\tVALUE" in the text of /proc/PID/status (BUF, LEN
 * bytes, one or more lines). False if KEY is absent or not a number.
 */
bool proc_status_parse_buf(const char *buf, size_t len, const char *key, long long *v);

/* The integer of KEY in /proc/PID/status ("VmRSS" gives kB); false if absent. */
bool proc_status_value(pid_t pid, const char *key, long long *v);

/*
 * /proc/PID/task/TID/schedstat: time on the CPU and time waiting on a run
 * queue, in nanoseconds. False unless both are there.
 */
bool proc_schedstat_parse_buf(const char *buf, size_t len, uint64_t *run_ns,
			      uint64_t *wait_ns);

/*
 * The run-queue delay of all PID's threads so far (sum of the schedstat
 * wait times of /proc/PID/task/N). False if PID is gone.
 */
bool proc_run_delay(pid_t pid, uint64_t *ns);

#endif
