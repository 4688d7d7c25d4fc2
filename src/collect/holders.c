/*
 * holders: the releasing stacks of contended semaphores (see holders.h).
 */
#include "holders.h"

#include "../bpf/lib/target.h"
#include "../gobin/disasm.h"
#include "../gobin/gobin.h"
#include "bpfload.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "../bpf/holders.h"
#include "holders.skel.h"

#define HOLDERS_MAX_LINKS 256

struct holders {
	struct holders_bpf *skel;
	struct bpf_link *link[HOLDERS_MAX_LINKS];
	pid_t pid[HOLDERS_MAX_LINKS];
	size_t nlinks;
};

struct holders *holders_open(char *err, size_t errlen)
{
	struct holders *h;
	uint64_t dev, ino;
	int rc;

	if (bpfload_prepare("release tracing (--holders)", false, err, errlen) != 0)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->skel = holders_bpf__open();
	if (!h->skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		free(h);
		return NULL;
	}
	if (bpfload_pidns(&dev, &ino)) {
		h->skel->rodata->gs_pidns_dev = dev;
		h->skel->rodata->gs_pidns_ino = ino;
	}
	rc = holders_bpf__load(h->skel);
	if (rc) {
		bpfload_load_error(rc, err, errlen);
		holders_bpf__destroy(h->skel);
		free(h);
		return NULL;
	}
	return h;
}

void holders_close(struct holders *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nlinks; i++)
		bpf_link__destroy(h->link[i]);
	holders_bpf__destroy(h->skel);
	free(h);
}

/* File offset of link-time address VADDR in GB's executable. */
static int holders_file_off(struct gobin *gb, uint64_t vaddr, uint64_t *off)
{
	size_t n = elfimg_nsections(gb->img);

	for (size_t i = 0; i < n; i++) {
		const struct elfimg_section *s = elfimg_section_at(gb->img, i);

		if (s->type != 8 /* SHT_NOBITS */ && s->addr && vaddr >= s->addr &&
		    vaddr < s->addr + s->size) {
			*off = vaddr - s->addr + s->offset;
			return 0;
		}
	}
	return -1;
}

int holders_add(struct holders *h, pid_t pid, struct gobin *gb, const char *exe, char *err,
		size_t errlen)
{
	size_t nf = pclntab_nfunc(gb->pcln);
	struct pclntab_func f = { 0 };
	struct disasm_sites ds;
	uint32_t one = 1;
	uint64_t off;
	bool found = false;

	if (gb->arch != ELFIMG_ARCH_AMD64) {
		snprintf(err, errlen, "--holders: amd64 only");
		return -1;
	}
	if (h->nlinks == HOLDERS_MAX_LINKS) {
		snprintf(err, errlen, "--holders: at most %d processes", HOLDERS_MAX_LINKS);
		return -1;
	}
	for (size_t i = 0; i < nf && !found; i++)
		found = pclntab_func_at(gb->pcln, i, &f) &&
			strcmp(f.name, "sync.runtime_Semrelease") == 0;
	if (!found) {
		snprintf(err, errlen, "--holders: sync.runtime_Semrelease not in the binary");
		return -1;
	}
	if (disasm_func_sites(gb, f.entry, f.end, &ds, err, errlen) != 0)
		return -1;
	off = ds.entry;
	disasm_sites_free(&ds);
	if (holders_file_off(gb, off, &off) != 0) {
		snprintf(err, errlen, "--holders: sync.runtime_Semrelease not in the file");
		return -1;
	}
	h->link[h->nlinks] = bpf_program__attach_uprobe(h->skel->progs.holders_semrelease, false,
							 pid, exe, (size_t)off);
	if (!h->link[h->nlinks]) {
		snprintf(err, errlen, "--holders: cannot attach a uprobe to %s: %s", exe,
			 strerror(errno));
		return -1;
	}
	h->pid[h->nlinks++] = pid;
	if (bpfload_target_add(h->skel->maps.tslots, h->skel->maps.targets, pid, &one,
			       sizeof(one)) != 0) {
		snprintf(err, errlen, "--holders: target filter: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void holders_remove(struct holders *h, pid_t pid)
{
	for (size_t i = 0; i < h->nlinks; i++)
		if (h->pid[i] == pid) {
			bpf_link__destroy(h->link[i]);
			h->link[i] = h->link[h->nlinks - 1];
			h->pid[i] = h->pid[h->nlinks - 1];
			h->nlinks--;
			break;
		}
	bpfload_target_remove(h->skel->maps.tslots, h->skel->maps.targets, pid);
}

void holders_each(struct holders *h, holders_fn fn, void *arg)
{
	int kfd = bpf_map__fd(h->skel->maps.releases), sfd = bpf_map__fd(h->skel->maps.stacks);
	struct holders_key k, next, *kp = NULL;
	uint64_t st[HOLDERS_STACK_DEPTH], pcs[HOLDERS_STACK_DEPTH + 1], count;
	size_t guard = HOLDERS_MAX_KEYS * 2;

	while (guard-- && bpf_map_get_next_key(kfd, kp, &next) == 0) {
		int depth = 0;

		k = next;
		kp = &k;
		if (bpf_map_lookup_elem(kfd, &k, &count) != 0)
			continue;
		pcs[depth++] = k.ret;
		/* st[0] is the probe's own pc; the fp chain then starts at the caller's caller. */
		if (k.stackid >= 0 && bpf_map_lookup_elem(sfd, &k.stackid, st) == 0)
			for (int i = 1; i < HOLDERS_STACK_DEPTH && st[i]; i++)
				pcs[depth++] = st[i];
		fn((pid_t)k.tgid, k.addr, pcs, depth, count, arg);
	}
}

void holders_clear(struct holders *h)
{
	int kfd = bpf_map__fd(h->skel->maps.releases);
	struct holders_key k;

	while (bpf_map_get_next_key(kfd, NULL, &k) == 0)
		if (bpf_map_delete_elem(kfd, &k) != 0)
			break;
}
