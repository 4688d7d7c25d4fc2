/*
 * procmem: remote memory reads (see procmem.h).
 *
 * process_vm_readv copies without stopping the target and fails per iovec
 * at the first unreadable page, so batched reads are issued in chunks and
 * a short read is retried from the first range that did not complete.
 */
#include "procmem.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* Ranges per process_vm_readv: the kernel takes up to IOV_MAX (UIO_MAXIOV). */
#define PROCMEM_IOV_MAX IOV_MAX

void procmem_init(struct procmem *pm, pid_t pid)
{
	memset(pm, 0, sizeof(*pm));
	pm->pid = pid;
	pm->memfd = -1;
	pm->use_vm_readv = true;
}

void procmem_close(struct procmem *pm)
{
	if (pm->memfd >= 0)
		close(pm->memfd);
	pm->memfd = -1;
}

static bool procmem_pread(struct procmem *pm, uint64_t addr, void *buf, size_t len)
{
	char path[64];
	ssize_t n;

	if (pm->memfd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)pm->pid);
		pm->memfd = open(path, O_RDONLY | O_CLOEXEC);
		if (pm->memfd < 0)
			return false;
	}
	pm->reads++;
	n = pread(pm->memfd, buf, len, (off_t)addr);
	if (n != (ssize_t)len)
		return false;
	pm->bytes += len;
	return true;
}

bool procmem_read(struct procmem *pm, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (len == 0)
		return true;
	if (pm->use_vm_readv) {
		pm->reads++;
		n = process_vm_readv(pm->pid, &local, 1, &remote, 1, 0);
		if (n == (ssize_t)len) {
			pm->bytes += len;
			return true;
		}
		if (n < 0 && errno == ENOSYS)
			pm->use_vm_readv = false;
		else {
			pm->faults++;
			return false;
		}
	}
	if (procmem_pread(pm, addr, buf, len))
		return true;
	pm->faults++;
	return false;
}

bool procmem_u64(struct procmem *pm, uint64_t addr, uint64_t *v)
{
	uint8_t b[8];

	if (!procmem_read(pm, addr, b, 8))
		return false;
	*v = (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 |
	     (uint64_t)b[3] << 24 | (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 |
	     (uint64_t)b[6] << 48 | (uint64_t)b[7] << 56;
	return true;
}

size_t procmem_readmany(struct procmem *pm, const uint64_t *addrs, size_t n, size_t len,
			uint8_t *buf, bool *ok)
{
	struct iovec local[PROCMEM_IOV_MAX], remote[PROCMEM_IOV_MAX];
	size_t done = 0, good = 0;

	for (size_t i = 0; i < n; i++)
		ok[i] = false;
	while (done < n) {
		size_t k = n - done < PROCMEM_IOV_MAX ? n - done : PROCMEM_IOV_MAX;
		ssize_t got;

		if (!pm->use_vm_readv) {
			ok[done] = procmem_read(pm, addrs[done], buf + done * len, len);
			good += ok[done];
			done++;
			continue;
		}
		for (size_t i = 0; i < k; i++) {
			local[i].iov_base = buf + (done + i) * len;
			local[i].iov_len = len;
			remote[i].iov_base = (void *)(uintptr_t)addrs[done + i];
			remote[i].iov_len = len;
		}
		pm->reads++;
		got = process_vm_readv(pm->pid, local, k, remote, k, 0);
		if (got < 0) {
			if (errno == ENOSYS) {
				pm->use_vm_readv = false;
				continue;
			}
			/* The first range is unreadable: skip it. */
			pm->faults++;
			done++;
			continue;
		}
		pm->bytes += (uint64_t)got;
		size_t full = (size_t)got / len;

		for (size_t i = 0; i < full && i < k; i++)
			ok[done + i] = true;
		good += full < k ? full : k;
		if (full >= k) {
			done += k;
		} else {
			/* Range done+full failed part-way: skip it, go on after it. */
			pm->faults++;
			done += full + 1;
		}
	}
	return good;
}

size_t procmem_readvar(struct procmem *pm, const uint64_t *addrs, const size_t *lens,
		       uint8_t *const *bufs, size_t n, bool *ok)
{
	struct iovec local[PROCMEM_IOV_MAX], remote[PROCMEM_IOV_MAX];
	size_t done = 0, good = 0;

	for (size_t i = 0; i < n; i++)
		ok[i] = false;
	while (done < n) {
		size_t k = n - done < PROCMEM_IOV_MAX ? n - done : PROCMEM_IOV_MAX;
		size_t got_ranges = 0;
		ssize_t got;

		if (!pm->use_vm_readv) {
			ok[done] = procmem_read(pm, addrs[done], bufs[done], lens[done]);
			good += ok[done];
			done++;
			continue;
		}
		for (size_t i = 0; i < k; i++) {
			local[i].iov_base = bufs[done + i];
			local[i].iov_len = lens[done + i];
			remote[i].iov_base = (void *)(uintptr_t)addrs[done + i];
			remote[i].iov_len = lens[done + i];
		}
		pm->reads++;
		got = process_vm_readv(pm->pid, local, k, remote, k, 0);
		if (got < 0) {
			if (errno == ENOSYS) {
				pm->use_vm_readv = false;
				continue;
			}
			pm->faults++;
			done++;
			continue;
		}
		pm->bytes += (uint64_t)got;
		/* Whole ranges first; the one cut short (if any) failed. */
		for (size_t i = 0; i < k && (size_t)got >= lens[done + i]; i++) {
			got -= (ssize_t)lens[done + i];
			ok[done + i] = true;
			got_ranges++;
		}
		good += got_ranges;
		if (got_ranges == k) {
			done += k;
		} else {
			pm->faults++;
			done += got_ranges + 1;
		}
	}
	return good;
}
