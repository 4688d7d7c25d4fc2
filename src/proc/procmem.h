/*
 * procmem: read another process's memory without stopping it
 * (process_vm_readv, with /proc/PID/mem as the fallback), one range or
 * many ranges in one system call.
 */
#ifndef GOSCOPE_PROCMEM_H
#define GOSCOPE_PROCMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct procmem {
	pid_t pid;
	int memfd;         /* /proc/PID/mem, opened on first fallback */
	bool use_vm_readv; /* process_vm_readv works for this target */
	uint64_t reads;    /* system calls made */
	uint64_t bytes;    /* bytes read */
	uint64_t faults;   /* ranges that could not be read */
};

void procmem_init(struct procmem *pm, pid_t pid);
void procmem_close(struct procmem *pm);

/* Read LEN bytes at remote ADDR into BUF. True only if all were read. */
bool procmem_read(struct procmem *pm, uint64_t addr, void *buf, size_t len);

/* A word (8 bytes, little-endian target) at ADDR. */
bool procmem_u64(struct procmem *pm, uint64_t addr, uint64_t *v);

/*
 * Read N ranges (remote ADDRS[i], LEN bytes each) into BUF + i*LEN.
 * OK[i] says whether range i was read. Returns how many were read.
 */
size_t procmem_readmany(struct procmem *pm, const uint64_t *addrs, size_t n, size_t len,
			uint8_t *buf, bool *ok);

/*
 * Read N ranges of different lengths: remote ADDRS[i], LENS[i] bytes, into
 * BUFS[i]. OK[i] says whether range i was read whole. Returns how many were.
 */
size_t procmem_readvar(struct procmem *pm, const uint64_t *addrs, const size_t *lens,
		       uint8_t *const *bufs, size_t n, bool *ok);

#endif
