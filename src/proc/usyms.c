/*
 * usyms: native frames of a process by mapping and ELF symbol (see usyms.h).
 */
#include "usyms.h"

#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct usym {
	uint64_t addr, size; /* link-time (st_value) */
	char *name;
};

/* One mapped file's function symbols and how it is loaded. */
struct ufile {
	char *path;
	bool loaded;
	struct usym *syms;
	size_t n;
	/* The PT_LOAD segments, to turn a file offset into a link address. */
	struct { uint64_t off, vaddr, filesz; } *segs;
	size_t nsegs;
};

struct umap {
	uint64_t start, end, off;
	struct ufile *file;
};

struct usyms {
	pid_t pid;
	struct umap *maps;
	size_t nmaps;
	struct ufile **files;
	size_t nfiles;
};

static int usyms_cmp(const void *a, const void *b)
{
	const struct usym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static struct ufile *usyms_file(struct usyms *u, const char *path)
{
	struct ufile *f, **v;

	for (size_t i = 0; i < u->nfiles; i++)
		if (strcmp(u->files[i]->path, path) == 0)
			return u->files[i];
	f = calloc(1, sizeof(*f));
	v = realloc(u->files, (u->nfiles + 1) * sizeof(*v));
	if (!f || !v) {
		free(f);
		if (v)
			u->files = v;
		return NULL;
	}
	u->files = v;
	f->path = strdup(path);
	if (!f->path) {
		free(f);
		return NULL;
	}
	u->files[u->nfiles++] = f;
	return f;
}

/* Function symbols of SCN (a symbol table) into F. */
static void usyms_read_table(struct ufile *f, Elf *elf, Elf_Scn *scn, GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	struct usym *v;

	if (!d || n == 0)
		return;
	v = realloc(f->syms, (f->n + n) * sizeof(*v));
	if (!v)
		return;
	f->syms = v;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym s;
		const char *name;

		if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
		    s.st_value == 0)
			continue;
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!name || !*name)
			continue;
		f->syms[f->n].name = strdup(name);
		if (!f->syms[f->n].name)
			continue;
		f->syms[f->n].addr = s.st_value;
		f->syms[f->n].size = s.st_size;
		f->n++;
	}
}

/* Read F's symbols and segments, once. Missing or odd files give none. */
static void usyms_load(struct ufile *f, pid_t pid)
{
	char root[PATH_MAX + 32];
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t nph = 0;
	int fd;
	bool symtab = false;

	if (f->loaded)
		return;
	f->loaded = true;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return;
	/* The path as the process sees it (its mount namespace), else as we do. */
	snprintf(root, sizeof(root), "/proc/%d/root%s", (int)pid, f->path);
	fd = open(root, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf) {
		close(fd);
		return;
	}
	if (elf_getphdrnum(elf, &nph) == 0 && nph > 0) {
		f->segs = calloc(nph, sizeof(*f->segs));
		for (size_t i = 0; f->segs && i < nph; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
				f->segs[f->nsegs].off = ph.p_offset;
				f->segs[f->nsegs].vaddr = ph.p_vaddr;
				f->segs[f->nsegs].filesz = ph.p_filesz;
				f->nsegs++;
			}
		}
	}
	/* .symtab has everything .dynsym has: read it alone when present. */
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB) {
			usyms_read_table(f, elf, scn, &sh);
			symtab = true;
		}
	}
	while (!symtab && (scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_DYNSYM)
			usyms_read_table(f, elf, scn, &sh);
	}
	elf_end(elf);
	close(fd);
	if (f->n)
		qsort(f->syms, f->n, sizeof(*f->syms), usyms_cmp);
}

static int usyms_read_maps(struct usyms *u)
{
	char path[64], *line = NULL;
	size_t cap = 0, n = 0, mcap = 0;
	struct umap *maps = NULL;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)u->pid);
	fp = fopen(path, "re");
	if (!fp)
		return -1;
	while (getline(&line, &cap, fp) > 0) {
		uint64_t start, end, off;
		char perms[8], *file;
		int pos = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n", &start, &end,
			   perms, &off, &pos) < 4 || pos == 0 || perms[2] != 'x')
			continue;
		file = line + pos;
		file[strcspn(file, "\n")] = '\0';
		if (n == mcap) {
			size_t c = mcap ? mcap * 2 : 32;
			struct umap *v = realloc(maps, c * sizeof(*v));

			if (!v)
				break;
			maps = v;
			mcap = c;
		}
		maps[n].start = start;
		maps[n].end = end;
		maps[n].off = off;
		maps[n].file = file[0] == '/' || file[0] == '[' ? usyms_file(u, file) : NULL;
		n++;
	}
	free(line);
	fclose(fp);
	free(u->maps);
	u->maps = maps;
	u->nmaps = n;
	return 0;
}

struct usyms *usyms_open(pid_t pid)
{
	struct usyms *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->pid = pid;
	if (usyms_read_maps(u) != 0) {
		free(u);
		return NULL;
	}
	return u;
}

void usyms_refresh(struct usyms *u)
{
	if (u)
		usyms_read_maps(u);
}

void usyms_free(struct usyms *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nfiles; i++) {
		struct ufile *f = u->files[i];

		for (size_t j = 0; j < f->n; j++)
			free(f->syms[j].name);
		free(f->syms);
		free(f->segs);
		free(f->path);
		free(f);
	}
	free(u->files);
	free(u->maps);
	free(u);
}

/* The symbol of F at link address A, or NULL. */
static const char *usyms_lookup(const struct ufile *f, uint64_t a)
{
	size_t lo = 0, hi = f->n;

	if (!f->n || a < f->syms[0].addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->syms[mid].addr <= a)
			lo = mid;
		else
			hi = mid;
	}
	/* Size 0 (some assembly): accept it up to the next symbol. */
	if (f->syms[lo].size && a >= f->syms[lo].addr + f->syms[lo].size)
		return NULL;
	return f->syms[lo].name;
}

const char *usyms_name(struct usyms *u, uint64_t pc, char *buf, size_t len, int *known)
{
	if (known)
		*known = 0;
	for (size_t i = 0; u && i < u->nmaps; i++) {
		const struct umap *m = &u->maps[i];
		uint64_t foff;
		const char *base, *sym = NULL;

		if (pc < m->start || pc >= m->end)
			continue;
		foff = pc - m->start + m->off;
		if (!m->file) {
			snprintf(buf, len, "[anon]+0x%" PRIx64, pc - m->start);
			return buf;
		}
		base = strrchr(m->file->path, '/');
		base = base ? base + 1 : m->file->path;
		if (m->file->path[0] == '/') {
			usyms_load(m->file, u->pid);
			for (size_t s = 0; s < m->file->nsegs && !sym; s++) {
				const struct ufile *f = m->file;

				if (foff >= f->segs[s].off && foff < f->segs[s].off + f->segs[s].filesz)
					sym = usyms_lookup(f, foff - f->segs[s].off + f->segs[s].vaddr);
			}
		}
		if (sym) {
			if (known)
				*known = 1;
			snprintf(buf, len, "%s", sym);
		} else {
			snprintf(buf, len, "%s+0x%" PRIx64, base, foff);
		}
		return buf;
	}
	snprintf(buf, len, "0x%" PRIx64, pc);
	return buf;
}
