/*
 * uprobe: entry and RET probes of Go functions (see uprobe.h).
 */
#include "uprobe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "../gobin/gobin.h"

/* How long a detaching grandchild waits for us to drop our references. */
#define UPROBE_DETACH_WAIT_MS 60000

int uprobe_func_at(const struct gobin *gb, const char *name, uint64_t entry, uint64_t end,
		   struct uprobe_func *f, char *err, size_t errlen)
{
	char why[256];

	memset(f, 0, sizeof(*f));
	f->name = name;
	f->entry = entry;
	f->end = end;
	if (disasm_func_sites(gb, entry, end, &f->sites, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: %s", name, why);
		return -1;
	}
	return 0;
}

int uprobe_func_by_name(const struct gobin *gb, const char *name, struct uprobe_func *f,
			char *err, size_t errlen)
{
	size_t n = pclntab_nfunc(gb->pcln);

	for (size_t i = 0; i < n; i++) {
		struct pclntab_func pf;

		if (pclntab_func_at(gb->pcln, i, &pf) && strcmp(pf.name, name) == 0)
			return uprobe_func_at(gb, pf.name, pf.entry, pf.end, f, err, errlen);
	}
	snprintf(err, errlen, "no function %s in %s", name, gb->path);
	return -1;
}

void uprobe_func_free(struct uprobe_func *f)
{
	disasm_sites_free(&f->sites);
}

size_t uprobe_func_nsites(const struct uprobe_func *f)
{
	return 1 + f->sites.nrets + f->sites.ntails;
}

bool uprobe_file_offset(const struct gobin *gb, uint64_t vaddr, uint64_t *off)
{
	size_t len = 0;
	const uint8_t *file = elfimg_file(gb->img, &len);
	const uint8_t *p = elfimg_vptr(gb->img, vaddr, 1);

	if (!file || !p || p < file || (size_t)(p - file) >= len)
		return false;
	*off = (uint64_t)(p - file);
	return true;
}

static int uprobe_links_push(struct uprobe_links *l, struct bpf_link *link)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct bpf_link **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = link;
	return 0;
}

static int uprobe_attach_one(struct uprobe_links *l, const struct gobin *gb, const char *path,
			     pid_t pid, struct bpf_program *prog, uint64_t vaddr,
			     uint64_t cookie, const char *name, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .bpf_cookie = cookie, .retprobe = false);
	struct bpf_link *link;
	uint64_t off;

	if (!uprobe_file_offset(gb, vaddr, &off)) {
		snprintf(err, errlen, "%s: address 0x%llx is not in the file", name,
			 (unsigned long long)vaddr);
		return -1;
	}
	link = bpf_program__attach_uprobe_opts(prog, pid, path, (size_t)off, &o);
	if (!link) {
		int e = errno;

		snprintf(err, errlen, "%s: uprobe at 0x%llx (file offset 0x%llx): %s%s", name,
			 (unsigned long long)vaddr, (unsigned long long)off, strerror(e),
			 e == ENOENT || e == EOPNOTSUPP ? " (does this kernel have uprobes?)" : "");
		return -1;
	}
	if (uprobe_links_push(l, link) != 0) {
		bpf_link__destroy(link);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int uprobe_attach_func(struct uprobe_links *l, const struct gobin *gb, const char *path,
		       pid_t pid, const struct uprobe_func *f, struct bpf_program *entry_prog,
		       struct bpf_program *exit_prog, uint64_t cookie, char *err, size_t errlen)
{
	const struct disasm_sites *s = &f->sites;

	if (entry_prog && uprobe_attach_one(l, gb, path, pid, entry_prog, s->entry, cookie, f->name,
					    err, errlen) != 0)
		return -1;
	if (!exit_prog)
		return 0;
	for (size_t i = 0; i < s->nrets; i++)
		if (uprobe_attach_one(l, gb, path, pid, exit_prog, s->rets[i], cookie, f->name, err,
				      errlen) != 0)
			return -1;
	for (size_t i = 0; i < s->ntails; i++)
		if (uprobe_attach_one(l, gb, path, pid, exit_prog, s->tails[i], cookie, f->name,
				      err, errlen) != 0)
			return -1;
	return 0;
}

int uprobe_attach_name(struct uprobe_links *l, const struct gobin *gb, const char *path,
		       pid_t pid, const char *name, struct bpf_program *entry_prog,
		       struct bpf_program *exit_prog, uint64_t cookie, size_t *ntails, char *err,
		       size_t errlen)
{
	struct uprobe_func f;
	size_t before = l->n;
	int rc;

	if (uprobe_func_by_name(gb, name, &f, err, errlen) != 0)
		return -1;
	if (ntails)
		*ntails = f.sites.ntails;
	rc = uprobe_attach_func(l, gb, path, pid, &f, entry_prog, exit_prog, cookie, err, errlen);
	uprobe_func_free(&f);
	if (rc != 0) {
		/* Nothing of this call stays attached. */
		while (l->n > before)
			bpf_link__destroy(l->v[--l->n]);
	}
	return rc;
}

/*
 * In the detaching grandchild: close every descriptor but probes (perf
 * events, BPF links) and KEEP. Another detacher's pipe inherited here
 * would otherwise hold that one back while it holds ours. Raw system
 * calls only (after fork in a threaded process: no malloc).
 */
static void uprobe_keep_probes_only(int keep)
{
	char buf[4096], target[64];
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fds[1024];
	size_t n = 0;
	long got;

	if (dir < 0)
		return;
	while ((got = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < got;) {
			const struct uprobe_dirent {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (const void *)(buf + off);
			int fd = 0;
			ssize_t len;

			off += d->reclen;
			if (d->name[0] < '0' || d->name[0] > '9')
				continue;
			for (const char *c = d->name; *c >= '0' && *c <= '9'; c++)
				fd = fd * 10 + (*c - '0');
			if (fd == dir || fd == keep || n == sizeof(fds) / sizeof(fds[0]))
				continue;
			len = readlinkat(dir, d->name, target, sizeof(target) - 1);
			target[len > 0 ? len : 0] = 0;
			if (strcmp(target, "anon_inode:[perf_event]") != 0 &&
			    strcmp(target, "anon_inode:bpf_link") != 0)
				fds[n++] = fd;
		}
	}
	close(dir);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/*
 * Closing a uprobe waits for the kernel's grace periods, about 0.1 s each
 * on 6.x kernels, one close after another (a global lock): 50 probe sites
 * kept the user waiting 5 s after the report. Instead, a short-lived
 * grandchild process takes copies of every descriptor, closes stdin,
 * stdout, stderr and everything else that is not a probe at once (readers
 * of our output see its end now), waits until the returned pipe
 * descriptor is closed (our own closes then only drop references and
 * disable the events; a minute at most) and closes the probes on its own.
 * The probes stay in the target's text until it is done, as they would
 * have while we waited. Returns the pipe's write end, or -1 (the closes
 * wait here, as they always did).
 */
static int uprobe_close_behind(void)
{
	int pfd[2];
	pid_t child;

	if (pipe2(pfd, O_CLOEXEC) != 0)
		return -1;
	child = fork();
	if (child == 0) {
		if (fork() == 0) {
			struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
			sigset_t none;

			/* the session blocks SIGINT/SIGTERM: a stop signal ends this one too */
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			prctl(PR_SET_NAME, "goscope-detach", 0, 0, 0);
			close(pfd[1]);
			close_range(0, 2, 0);
			uprobe_keep_probes_only(pfd[0]);
			while (poll(&pf, 1, UPROBE_DETACH_WAIT_MS) < 0 && errno == EINTR)
				;
			close_range(3, ~0u, 0);
		}
		_exit(0);
	}
	close(pfd[0]);
	if (child < 0) {
		close(pfd[1]);
		return -1;
	}
	waitpid(child, NULL, 0);
	return pfd[1];
}

void uprobe_links_destroy(struct uprobe_links *l)
{
	int behind = l->n > 1 ? uprobe_close_behind() : -1;

	for (size_t i = 0; i < l->n; i++)
		bpf_link__destroy(l->v[i]);
	if (behind >= 0)
		close(behind);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
