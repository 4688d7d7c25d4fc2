/*
 * holders: who releases the semaphores that goroutines wait on (the
 * `--holders` option of `goscope contention`): a uprobe at the entry of
 * sync.runtime_Semrelease in each target's executable counts releases by
 * (process, semaphore, releasing Go stack) in the kernel (bpf/holders.bpf.c).
 * Only the slow paths of sync reach it — an Unlock, RUnlock or Done with a
 * goroutine waiting — so its rate is bounded by the contention itself.
 * amd64 only (the address is read from RAX, Go's first argument register).
 */
#ifndef GOSCOPE_HOLDERS_COLLECT_H
#define GOSCOPE_HOLDERS_COLLECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gobin;
struct holders;

/* Load the BPF program. NULL with the reason in ERR. */
struct holders *holders_open(char *err, size_t errlen);
void holders_close(struct holders *h);

/*
 * Count releases in process PID, whose executable EXE (a path this process
 * can open, e.g. /proc/PID/exe) is GB. 0, or -1 with the reason in ERR.
 */
int holders_add(struct holders *h, pid_t pid, struct gobin *gb, const char *exe, char *err,
		size_t errlen);
void holders_remove(struct holders *h, pid_t pid);

/*
 * Each release stack counted so far: PCS are run-time return addresses,
 * innermost first (the caller of sync.runtime_Semrelease first).
 */
typedef void (*holders_fn)(pid_t pid, uint64_t sema, const uint64_t *pcs, int depth,
			   uint64_t count, void *arg);
void holders_each(struct holders *h, holders_fn fn, void *arg);

/* Forget the counts (a new window). */
void holders_clear(struct holders *h);

#endif
