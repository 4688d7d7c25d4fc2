/*
 * uprobe: entry and RET probes of a Go function (see uprobe.h).
 */
#include "uprobe.h"

#include "../gobin/disasm.h"
#include "../gobin/gobin.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool uprobe_func_find(const struct gobin *gb, const char *name, uint64_t *entry, uint64_t *end)
{
	size_t n = pclntab_nfunc(gb->pcln);

	for (size_t i = 0; i < n; i++) {
		struct pclntab_func f;

		if (pclntab_func_at(gb->pcln, i, &f) && strcmp(f.name, name) == 0) {
			*entry = f.entry;
			*end = f.end;
			return true;
		}
	}
	return false;
}

static int uprobe_push(struct uprobe_set *set, struct bpf_link *l)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct bpf_link **v = realloc(set->links, cap * sizeof(*v));

		if (!v)
			return -1;
		set->links = v;
		set->cap = cap;
	}
	set->links[set->n++] = l;
	return 0;
}

/* One uprobe at link-time address VADDR of GB. */
static int uprobe_one(struct uprobe_set *set, const struct gobin *gb, pid_t pid, const char *exe,
		      struct bpf_program *prog, uint64_t vaddr, const char *name, char *err,
		      size_t errlen)
{
	uint64_t off;
	struct bpf_link *l;

	if (!elfimg_vaddr_offset(gb->img, vaddr, &off)) {
		snprintf(err, errlen, "%s+%#llx is not in the file", name, (unsigned long long)vaddr);
		return -1;
	}
	l = bpf_program__attach_uprobe(prog, false, pid, exe, (size_t)off);
	if (!l) {
		int e = errno;

		snprintf(err, errlen, "uprobe on %s at %#llx: %s", name, (unsigned long long)vaddr,
			 strerror(e));
		return -1;
	}
	if (uprobe_push(set, l) != 0) {
		bpf_link__destroy(l);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int uprobe_attach_func(struct uprobe_set *set, const struct gobin *gb, pid_t pid,
		       const char *exe, const char *name, struct bpf_program *entry_prog,
		       struct bpf_program *ret_prog, size_t *ntails, char *err, size_t errlen)
{
	struct disasm_sites s;
	uint64_t entry, end;
	size_t first = set->n;
	int rc = -1;

	if (!uprobe_func_find(gb, name, &entry, &end)) {
		snprintf(err, errlen, "%s not found (renamed or inlined in this release)", name);
		return -1;
	}
	if (disasm_func_sites(gb, entry, end, &s, err, errlen) != 0)
		return -1;
	if (ret_prog && s.nrets == 0) {
		snprintf(err, errlen, "%s: no RET instruction found", name);
		goto out;
	}
	if (entry_prog && uprobe_one(set, gb, pid, exe, entry_prog, s.entry, name, err, errlen))
		goto out;
	for (size_t i = 0; ret_prog && i < s.nrets; i++)
		if (uprobe_one(set, gb, pid, exe, ret_prog, s.rets[i], name, err, errlen))
			goto out;
	if (ntails)
		*ntails = s.ntails;
	rc = 0;
out:
	if (rc != 0) {
		while (set->n > first)
			bpf_link__destroy(set->links[--set->n]);
	}
	disasm_sites_free(&s);
	return rc;
}

void uprobe_set_free(struct uprobe_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		bpf_link__destroy(set->links[i]);
	free(set->links);
	memset(set, 0, sizeof(*set));
}
