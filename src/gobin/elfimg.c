/*
 * elfimg: a read-only, bounds-checked view of an ELF executable.
 *
 * libelf parses the headers; the bytes themselves are read straight from
 * one private mapping of the file so that lookups by virtual address cost
 * a short linear scan over the PT_LOAD segments and nothing else.
 */
#include "elfimg.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ELFIMG_MAX_SECTIONS 4096
#define ELFIMG_MAX_SEGMENTS 256

struct elfimg_seg {
	uint64_t vaddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t offset;
};

struct elfimg_rel {
	uint64_t where;
	uint64_t addend;
};

struct elfimg {
	uint8_t *buf;
	size_t len;
	bool mapped; /* buf from mmap (else malloc) */
	Elf *elf;
	int cls;     /* ELFCLASS32/64 */
	bool big_endian;
	uint16_t type;
	uint16_t machine;
	bool has_interp;
	bool has_needed;
	struct elfimg_section *secs;
	size_t nsecs;
	struct elfimg_seg *segs;
	size_t nsegs;
	/* Dynamic RELATIVE relocations, sorted by target; built on first use. */
	struct elfimg_rel *rels;
	size_t nrels;
	bool rels_loaded;
	/*
	 * The section header table as in the file: a scratch libelf handle
	 * that decompresses a section rewrites its header in the buffer, so
	 * the next scratch handle starts from this copy.
	 */
	uint8_t *shdrs;
	size_t shdrs_off, shdrs_len;
};

static void elfimg_seterr(char *err, size_t errlen, const char *fmt, const char *arg)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, arg);
}

uint16_t elfimg_u16(const struct elfimg *img, const uint8_t *p)
{
	if (img->big_endian)
		return (uint16_t)((p[0] << 8) | p[1]);
	return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t elfimg_u32(const struct elfimg *img, const uint8_t *p)
{
	if (img->big_endian)
		return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
		       ((uint32_t)p[2] << 8) | p[3];
	return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[1] << 8) | p[0];
}

uint64_t elfimg_u64(const struct elfimg *img, const uint8_t *p)
{
	uint64_t a = elfimg_u32(img, p);
	uint64_t b = elfimg_u32(img, p + 4);

	if (img->big_endian)
		return (a << 32) | b;
	return (b << 32) | a;
}

uint64_t elfimg_uptr(const struct elfimg *img, const uint8_t *p)
{
	return img->cls == ELFCLASS64 ? elfimg_u64(img, p) : elfimg_u32(img, p);
}

static bool elfimg_in_file(const struct elfimg *img, uint64_t off, uint64_t len)
{
	return off <= img->len && len <= img->len - off;
}

/* Read section headers and program headers into plain arrays. */
static int elfimg_load_headers(struct elfimg *img, char *err, size_t errlen)
{
	size_t shstrndx = 0;
	size_t n = 0;
	Elf_Scn *scn = NULL;

	if (elf_getshdrnum(img->elf, &n) != 0)
		n = 0;
	if (n > ELFIMG_MAX_SECTIONS) {
		elfimg_seterr(err, errlen, "corrupt ELF: %s", "too many sections");
		return -1;
	}
	if (n > 0 && elf_getshdrstrndx(img->elf, &shstrndx) != 0)
		shstrndx = 0;
	img->secs = calloc(n ? n : 1, sizeof(*img->secs));
	if (!img->secs) {
		elfimg_seterr(err, errlen, "%s", "out of memory");
		return -1;
	}
	while (n > 0 && (scn = elf_nextscn(img->elf, scn)) != NULL &&
	       img->nsecs < n) {
		GElf_Shdr sh;
		struct elfimg_section *s;
		const char *name = NULL;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (shstrndx)
			name = elf_strptr(img->elf, shstrndx, sh.sh_name);
		s = &img->secs[img->nsecs++];
		s->name = name ? name : "";
		s->addr = sh.sh_addr;
		s->size = sh.sh_size;
		s->offset = sh.sh_offset;
		s->flags = sh.sh_flags;
		s->type = sh.sh_type;
	}

	n = 0;
	if (elf_getphdrnum(img->elf, &n) != 0)
		n = 0;
	if (n > ELFIMG_MAX_SEGMENTS) {
		elfimg_seterr(err, errlen, "corrupt ELF: %s", "too many segments");
		return -1;
	}
	img->segs = calloc(n ? n : 1, sizeof(*img->segs));
	if (!img->segs) {
		elfimg_seterr(err, errlen, "%s", "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(img->elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_INTERP)
			img->has_interp = true;
		if (ph.p_type != PT_LOAD)
			continue;
		struct elfimg_seg *sg = &img->segs[img->nsegs++];
		sg->vaddr = ph.p_vaddr;
		sg->offset = ph.p_offset;
		sg->filesz = ph.p_filesz;
		sg->memsz = ph.p_memsz;
		/* Clamp segments that claim more file than there is. */
		if (!elfimg_in_file(img, sg->offset, sg->filesz))
			sg->filesz = sg->offset < img->len ? img->len - sg->offset : 0;
	}
	return 0;
}

/* Look for DT_NEEDED in .dynamic (dynamic linking = not static). */
static void elfimg_scan_dynamic(struct elfimg *img)
{
	const struct elfimg_section *dyn = elfimg_section(img, ".dynamic");
	const uint8_t *p;
	size_t entsz = img->cls == ELFCLASS64 ? 16 : 8;

	if (!dyn)
		return;
	p = elfimg_section_data(img, dyn);
	if (!p)
		return;
	for (uint64_t off = 0; off + entsz <= dyn->size; off += entsz) {
		uint64_t tag = elfimg_uptr(img, p + off);

		if (tag == DT_NULL)
			break;
		if (tag == DT_NEEDED) {
			img->has_needed = true;
			break;
		}
	}
}

static int elfimg_init(struct elfimg *img, char *err, size_t errlen)
{
	GElf_Ehdr eh;

	if (img->len < EI_NIDENT || memcmp(img->buf, ELFMAG, SELFMAG) != 0) {
		elfimg_seterr(err, errlen, "%s", "not an ELF file");
		return -1;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		elfimg_seterr(err, errlen, "libelf: %s", elf_errmsg(-1));
		return -1;
	}
	img->elf = elf_memory((char *)img->buf, img->len);
	if (!img->elf || elf_kind(img->elf) != ELF_K_ELF) {
		elfimg_seterr(err, errlen, "corrupt ELF: %s", elf_errmsg(-1));
		return -1;
	}
	if (!gelf_getehdr(img->elf, &eh)) {
		elfimg_seterr(err, errlen, "corrupt ELF header: %s", elf_errmsg(-1));
		return -1;
	}
	if (eh.e_shoff && eh.e_shoff < img->len &&
	    (size_t)eh.e_shnum * eh.e_shentsize <= img->len - eh.e_shoff &&
	    eh.e_shnum * eh.e_shentsize > 0) {
		img->shdrs_off = (size_t)eh.e_shoff;
		img->shdrs_len = (size_t)eh.e_shnum * eh.e_shentsize;
		img->shdrs = malloc(img->shdrs_len);
		if (!img->shdrs) {
			elfimg_seterr(err, errlen, "%s", "out of memory");
			return -1;
		}
		memcpy(img->shdrs, img->buf + img->shdrs_off, img->shdrs_len);
	}
	img->cls = gelf_getclass(img->elf);
	if (img->cls != ELFCLASS64 && img->cls != ELFCLASS32) {
		elfimg_seterr(err, errlen, "corrupt ELF: %s", "unknown class");
		return -1;
	}
	img->big_endian = eh.e_ident[EI_DATA] == ELFDATA2MSB;
	img->type = eh.e_type;
	img->machine = eh.e_machine;
	if (img->type != ET_EXEC && img->type != ET_DYN) {
		elfimg_seterr(err, errlen, "%s",
			      "not an executable (ELF type is neither EXEC nor DYN)");
		return -1;
	}
	if (elfimg_load_headers(img, err, errlen) != 0)
		return -1;
	elfimg_scan_dynamic(img);
	return 0;
}

int elfimg_open(const char *path, struct elfimg **out, char *err, size_t errlen)
{
	struct elfimg *img;
	struct stat st;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (err)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (err)
			snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_size < EI_NIDENT) {
		if (err)
			snprintf(err, errlen, "%s: not an ELF file (too short)", path);
		close(fd);
		return -1;
	}
	img = calloc(1, sizeof(*img));
	if (!img) {
		close(fd);
		elfimg_seterr(err, errlen, "%s", "out of memory");
		return -1;
	}
	img->len = (size_t)st.st_size;
	/* Private and writable: libelf may want to touch its buffer. */
	img->buf = mmap(NULL, img->len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (img->buf == MAP_FAILED) {
		if (err)
			snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
		free(img);
		return -1;
	}
	img->mapped = true;
	if (elfimg_init(img, err, errlen) != 0) {
		char why[200];

		if (err) {
			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "%s: %s", path, why);
		}
		elfimg_close(img);
		return -1;
	}
	*out = img;
	return 0;
}

int elfimg_open_mem(const void *buf, size_t len, struct elfimg **out, char *err,
		    size_t errlen)
{
	struct elfimg *img = calloc(1, sizeof(*img));

	*out = NULL;
	if (!img) {
		elfimg_seterr(err, errlen, "%s", "out of memory");
		return -1;
	}
	img->buf = malloc(len ? len : 1);
	if (!img->buf) {
		free(img);
		elfimg_seterr(err, errlen, "%s", "out of memory");
		return -1;
	}
	memcpy(img->buf, buf, len);
	img->len = len;
	if (elfimg_init(img, err, errlen) != 0) {
		elfimg_close(img);
		return -1;
	}
	*out = img;
	return 0;
}

void elfimg_close(struct elfimg *img)
{
	if (!img)
		return;
	if (img->elf)
		elf_end(img->elf);
	if (img->mapped)
		munmap(img->buf, img->len);
	else
		free(img->buf);
	free(img->secs);
	free(img->segs);
	free(img->rels);
	free(img->shdrs);
	free(img);
}

Elf *elfimg_elf(const struct elfimg *img)
{
	return img->elf;
}

Elf *elfimg_elf_scratch(const struct elfimg *img)
{
	/* Undo what an earlier scratch handle wrote (see shdrs). */
	if (img->shdrs)
		memcpy(img->buf + img->shdrs_off, img->shdrs, img->shdrs_len);
	return elf_memory((char *)img->buf, img->len);
}

const uint8_t *elfimg_file(const struct elfimg *img, size_t *len)
{
	*len = img->len;
	return img->buf;
}

enum elfimg_arch elfimg_arch(const struct elfimg *img)
{
	switch (img->machine) {
	case EM_X86_64:
		return ELFIMG_ARCH_AMD64;
	case EM_AARCH64:
		return ELFIMG_ARCH_ARM64;
	case EM_386:
		return ELFIMG_ARCH_386;
	case EM_ARM:
		return ELFIMG_ARCH_ARM;
	default:
		return ELFIMG_ARCH_OTHER;
	}
}

const char *elfimg_arch_name(enum elfimg_arch arch)
{
	switch (arch) {
	case ELFIMG_ARCH_AMD64:
		return "amd64";
	case ELFIMG_ARCH_ARM64:
		return "arm64";
	case ELFIMG_ARCH_386:
		return "386";
	case ELFIMG_ARCH_ARM:
		return "arm";
	default:
		return "unknown";
	}
}

int elfimg_ptrsize(const struct elfimg *img)
{
	return img->cls == ELFCLASS64 ? 8 : 4;
}

bool elfimg_big_endian(const struct elfimg *img)
{
	return img->big_endian;
}

bool elfimg_is_pie(const struct elfimg *img)
{
	return img->type == ET_DYN;
}

bool elfimg_is_static(const struct elfimg *img)
{
	return !img->has_interp && !img->has_needed;
}

bool elfimg_has_needed(const struct elfimg *img)
{
	return img->has_needed;
}

bool elfimg_has_symtab(const struct elfimg *img)
{
	return elfimg_section(img, ".symtab") != NULL;
}

bool elfimg_has_dwarf(const struct elfimg *img)
{
	return elfimg_section(img, ".debug_info") ||
	       elfimg_section(img, ".zdebug_info");
}

const struct elfimg_section *elfimg_section(const struct elfimg *img,
					    const char *name)
{
	for (size_t i = 0; i < img->nsecs; i++)
		if (strcmp(img->secs[i].name, name) == 0)
			return &img->secs[i];
	return NULL;
}

size_t elfimg_nsections(const struct elfimg *img)
{
	return img->nsecs;
}

const struct elfimg_section *elfimg_section_at(const struct elfimg *img, size_t i)
{
	return i < img->nsecs ? &img->secs[i] : NULL;
}

const uint8_t *elfimg_section_data(const struct elfimg *img,
				   const struct elfimg_section *sec)
{
	if (sec->type == SHT_NOBITS || !elfimg_in_file(img, sec->offset, sec->size))
		return NULL;
	return img->buf + sec->offset;
}

/* File offset of VADDR and how many file bytes follow it in its segment. */
static bool elfimg_v2off(const struct elfimg *img, uint64_t vaddr, uint64_t *off,
			 uint64_t *avail)
{
	for (size_t i = 0; i < img->nsegs; i++) {
		const struct elfimg_seg *sg = &img->segs[i];

		if (vaddr >= sg->vaddr && vaddr - sg->vaddr < sg->filesz) {
			*off = sg->offset + (vaddr - sg->vaddr);
			*avail = sg->filesz - (vaddr - sg->vaddr);
			return true;
		}
	}
	if (img->nsegs)
		return false;
	/* No program headers (a damaged file): fall back to sections. */
	for (size_t i = 0; i < img->nsecs; i++) {
		const struct elfimg_section *s = &img->secs[i];

		if (!(s->flags & SHF_ALLOC) || s->type == SHT_NOBITS || !s->addr)
			continue;
		if (vaddr >= s->addr && vaddr - s->addr < s->size &&
		    elfimg_in_file(img, s->offset, s->size)) {
			*off = s->offset + (vaddr - s->addr);
			*avail = s->size - (vaddr - s->addr);
			return true;
		}
	}
	return false;
}

const uint8_t *elfimg_vptr(const struct elfimg *img, uint64_t vaddr, size_t len)
{
	uint64_t off, avail;

	if (!elfimg_v2off(img, vaddr, &off, &avail) || len > avail ||
	    !elfimg_in_file(img, off, len))
		return NULL;
	return img->buf + off;
}

size_t elfimg_vavail(const struct elfimg *img, uint64_t vaddr)
{
	uint64_t off, avail;

	if (!elfimg_v2off(img, vaddr, &off, &avail))
		return 0;
	if (!elfimg_in_file(img, off, avail))
		avail = off < img->len ? img->len - off : 0;
	return (size_t)avail;
}

static int elfimg_rel_cmp(const void *a, const void *b)
{
	const struct elfimg_rel *x = a, *y = b;

	return x->where < y->where ? -1 : x->where > y->where;
}

/* Collect R_X86_64_RELATIVE / R_AARCH64_RELATIVE targets of a PIE image. */
static void elfimg_load_rels(struct elfimg *img)
{
	uint32_t relative;
	size_t cap = 0;

	img->rels_loaded = true;
	if (img->type != ET_DYN || img->cls != ELFCLASS64)
		return;
	relative = img->machine == EM_AARCH64 ? 1027 /* R_AARCH64_RELATIVE */
					      : 8 /* R_X86_64_RELATIVE */;
	for (size_t i = 0; i < img->nsecs; i++) {
		const struct elfimg_section *s = &img->secs[i];
		const uint8_t *p;

		if (s->type != SHT_RELA)
			continue;
		p = elfimg_section_data(img, s);
		if (!p)
			continue;
		for (uint64_t off = 0; off + 24 <= s->size; off += 24) {
			uint64_t info = elfimg_u64(img, p + off + 8);

			if ((uint32_t)info != relative)
				continue;
			if (img->nrels == cap) {
				size_t ncap = cap ? cap * 2 : 1024;
				struct elfimg_rel *n = realloc(img->rels, ncap * sizeof(*n));

				if (!n)
					return;
				img->rels = n;
				cap = ncap;
			}
			img->rels[img->nrels].where = elfimg_u64(img, p + off);
			img->rels[img->nrels].addend = elfimg_u64(img, p + off + 16);
			img->nrels++;
		}
	}
	if (img->nrels)
		qsort(img->rels, img->nrels, sizeof(*img->rels), elfimg_rel_cmp);
}

bool elfimg_read_ptr(struct elfimg *img, uint64_t vaddr, uint64_t *val)
{
	int ps = elfimg_ptrsize(img);
	const uint8_t *p = elfimg_vptr(img, vaddr, (size_t)ps);

	if (!p)
		return false;
	*val = elfimg_uptr(img, p);
	if (img->type != ET_DYN)
		return true;
	if (!img->rels_loaded)
		elfimg_load_rels(img);
	if (img->nrels) {
		size_t lo = 0, hi = img->nrels;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (img->rels[mid].where < vaddr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < img->nrels && img->rels[lo].where == vaddr)
			*val = img->rels[lo].addend;
	}
	return true;
}

bool elfimg_first_load(const struct elfimg *img, uint64_t *vaddr, uint64_t *offset)
{
	bool found = false;

	for (size_t i = 0; i < img->nsegs; i++) {
		if (!found || img->segs[i].vaddr < *vaddr) {
			*vaddr = img->segs[i].vaddr;
			*offset = img->segs[i].offset;
			found = true;
		}
	}
	return found;
}

bool elfimg_offset_delta(const struct elfimg *img, uint64_t offset, int64_t *delta)
{
	for (size_t i = 0; i < img->nsegs; i++) {
		const struct elfimg_seg *sg = &img->segs[i];

		if (offset >= sg->offset && offset - sg->offset < (sg->filesz ? sg->filesz : 1)) {
			*delta = (int64_t)(sg->vaddr - sg->offset);
			return true;
		}
	}
	return false;
}

bool elfimg_vaddr_offset(const struct elfimg *img, uint64_t vaddr, uint64_t *offset)
{
	for (size_t i = 0; i < img->nsegs; i++) {
		const struct elfimg_seg *sg = &img->segs[i];

		if (vaddr >= sg->vaddr && vaddr - sg->vaddr < sg->filesz) {
			*offset = sg->offset + (vaddr - sg->vaddr);
			return true;
		}
	}
	return false;
}

bool elfimg_symbol(const struct elfimg *img, const char *name, uint64_t *value, uint64_t *size)
{
	size_t entsz = img->cls == ELFCLASS64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
	size_t nlen = strlen(name);
	Elf_Scn *scn = NULL, *strscn;
	GElf_Shdr sh, strsh;

	while ((scn = elf_nextscn(img->elf, scn)) != NULL) {
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			break;
	}
	strscn = scn ? elf_getscn(img->elf, sh.sh_link) : NULL;
	if (!strscn || !gelf_getshdr(strscn, &strsh))
		return false;
	if (sh.sh_offset > img->len || sh.sh_size > img->len - sh.sh_offset ||
	    strsh.sh_offset > img->len || strsh.sh_size > img->len - strsh.sh_offset)
		return false;
	for (uint64_t off = 0; off + entsz <= sh.sh_size; off += entsz) {
		const uint8_t *p = img->buf + sh.sh_offset + off;
		uint32_t st_name = elfimg_u32(img, p);

		if (st_name >= strsh.sh_size || strsh.sh_size - st_name <= nlen ||
		    memcmp(img->buf + strsh.sh_offset + st_name, name, nlen + 1) != 0)
			continue;
		if (img->cls == ELFCLASS64) {
			*value = elfimg_u64(img, p + 8);
			if (size)
				*size = elfimg_u64(img, p + 16);
		} else {
			*value = elfimg_u32(img, p + 4);
			if (size)
				*size = elfimg_u32(img, p + 8);
		}
		return true;
	}
	return false;
}
