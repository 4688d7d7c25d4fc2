/*
 * target: open a Go process as a traced target, share its binary reader,
 * tell exits and execs (see target.h).
 */
#include "target.h"

#include "../proc/proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct target_cache_entry {
	uint64_t dev, ino;
	struct gobin *gb; /* the cache's own reference */
};

struct target_cache {
	struct target_cache_entry *e;
	size_t n, cap;
};

struct target_cache *target_cache_new(void)
{
	return calloc(1, sizeof(struct target_cache));
}

void target_cache_free(struct target_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		gobin_close(c->e[i].gb);
	free(c->e);
	free(c);
}

/* Drop cached readers nobody else holds (a departed executable's). */
static void target_cache_trim(struct target_cache *c)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (c->e[i].gb->refs <= 1) {
			gobin_close(c->e[i].gb);
			continue;
		}
		c->e[k++] = c->e[i];
	}
	c->n = k;
}

static struct gobin *target_cache_get(struct target_cache *c, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; c && ino && i < c->n; i++)
		if (c->e[i].dev == dev && c->e[i].ino == ino)
			return gobin_ref(c->e[i].gb);
	return NULL;
}

static void target_cache_put(struct target_cache *c, uint64_t dev, uint64_t ino,
			     struct gobin *gb)
{
	if (!c || !ino)
		return;
	target_cache_trim(c);
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct target_cache_entry *e = realloc(c->e, cap * sizeof(*e));

		if (!e)
			return;
		c->e = e;
		c->cap = cap;
	}
	c->e[c->n].dev = dev;
	c->e[c->n].ino = ino;
	c->e[c->n].gb = gobin_ref(gb);
	c->n++;
}

int target_open(pid_t pid, struct target_cache *cache, struct target *t, pid_t *tid_of,
		char *err, size_t errlen)
{
	struct proc_target pt;
	pid_t tgid = proc_tgid(pid);
	char arg[16];
	size_t len;

	memset(t, 0, sizeof(*t));
	if (tid_of)
		*tid_of = 0;
	if (tgid > 0 && tgid != pid) {
		/* A thread id: trace its process (BPF filters match the tgid). */
		if (tid_of)
			*tid_of = pid;
		pid = tgid;
	}
	snprintf(arg, sizeof(arg), "%d", (int)pid);
	if (proc_target_parse(arg, &pt, err, errlen) != 0)
		return -1;
	t->pid = pid;
	len = strlen(pt.exe);
	if (len > 10 && strcmp(pt.exe + len - 10, " (deleted)") == 0)
		pt.exe[len - 10] = '\0';
	snprintf(t->exe, sizeof(t->exe), "%s", pt.exe);
	t->raw_name = strrchr(t->exe, '/') ? strrchr(t->exe, '/') + 1 : t->exe;
	/* a newline in a file name must not split a line of ours */
	snprintf(t->name, sizeof(t->name), "%.*s", (int)sizeof(t->name) - 1, t->raw_name);
	for (char *c = t->name; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	if (!proc_starttime(pid, &t->starttime) || !proc_startstack(pid, &t->startstack) ||
	    !proc_exe_id(pid, &t->exe_dev, &t->exe_ino)) {
		snprintf(err, errlen, "no such process: %d (it exited)", (int)pid);
		return -1;
	}
	t->gb = target_cache_get(cache, t->exe_dev, t->exe_ino);
	if (!t->gb) {
		char why[400];

		if (gobin_open(pt.open_path, &t->gb, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "pid %d (%s): %s", (int)pid, t->exe, why);
			t->gb = NULL;
			return -1;
		}
		target_cache_put(cache, t->exe_dev, t->exe_ino, t->gb);
	}
	if (proc_load_bias(pid, t->gb->img, &t->bias, err, errlen) != 0) {
		target_close(t);
		return -1;
	}
	t->state = TARGET_ALIVE;
	return 0;
}

void target_close(struct target *t)
{
	if (t->gb)
		gobin_close(t->gb);
	t->gb = NULL;
}

enum target_state target_check(const struct target *t)
{
	uint64_t st, dev, ino;

	if (!proc_starttime(t->pid, &st) || st != t->starttime)
		return TARGET_EXITED;
	if (!proc_exe_id(t->pid, &dev, &ino))
		return TARGET_EXITED; /* a zombie has no exe */
	/*
	 * An exec of another executable changes the inode; one of the same
	 * executable only the new address space shows (its stack is placed
	 * anew by ASLR).
	 */
	if (dev != t->exe_dev || ino != t->exe_ino ||
	    (t->startstack && proc_startstack(t->pid, &st) && st && st != t->startstack))
		return TARGET_EXECED;
	return TARGET_ALIVE;
}

const char *target_label(const struct target *t, char *buf, size_t len)
{
	snprintf(buf, len, "pid %d (%s)", (int)t->pid, t->name[0] ? t->name : t->exe);
	return buf;
}
