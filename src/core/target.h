/*
 * target: one traced Go process as every command sees it. A -p argument
 * (a PID, or a thread id, which is resolved to its process and said so) or
 * a discovered process becomes a struct target: the pid, its executable,
 * the shared reader of its Go binary, the load bias, and the identity used
 * to tell an exit or an exec from a live process (start time, executable
 * device and inode).
 */
#ifndef GOSCOPE_TARGET_H
#define GOSCOPE_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../gobin/gobin.h"

enum target_state {
	TARGET_ALIVE,
	TARGET_EXITED, /* gone, or its pid now belongs to another process */
	TARGET_EXECED, /* the same process runs another executable */
};

struct target {
	pid_t pid;
	char exe[PATH_MAX];   /* the executable's path, " (deleted)" removed */
	const char *raw_name; /* its base name, inside exe, as the file is named */
	char name[NAME_MAX + 1]; /* the same, control characters shown as '?' (for text) */
	struct gobin *gb;     /* a reference (gobin_ref), released by target_close */
	uint64_t bias;        /* run-time address = link address + bias */
	uint64_t starttime;   /* /proc/PID/stat field 22 */
	uint64_t exe_dev, exe_ino;
	uint64_t startstack;  /* /proc/PID/stat field 28: a new image has a new stack */
	enum target_state state;
	bool discovered;      /* found by discovery, not given with -p */
	void *priv;           /* the command's per-target state */
};

/* Readers of Go binaries shared by every target of the same executable. */
struct target_cache;
struct target_cache *target_cache_new(void);
void target_cache_free(struct target_cache *c);

/*
 * Open process PID as a target (a thread id is resolved to its process:
 * *TID_OF is set to PID then, else 0). CACHE may be NULL. Returns 0, or -1
 * with a one-line reason in ERR.
 */
int target_open(pid_t pid, struct target_cache *cache, struct target *t, pid_t *tid_of,
		char *err, size_t errlen);

/* Release T's reader. */
void target_close(struct target *t);

/* Is T still the process that was opened (TARGET_ALIVE), or gone, or exec'd? */
enum target_state target_check(const struct target *t);

/* "pid 123 (caddy)" into BUF. */
const char *target_label(const struct target *t, char *buf, size_t len);

#endif
