/*
 * gobin: open a Go executable and gather what every command needs.
 *
 * The order matters: the pclntab is found first (by section name, else by
 * scanning for its header), then moduledata is found by the pointer it
 * holds to the pclntab; moduledata gives runtime.text (needed for Go 1.26,
 * whose pclntab header says 0) and the funcdata base for inline trees.
 */
#include "gobin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOBIN_MD_WORDS 64      /* moduledata words we look at */
#define GOBIN_INL_SAMPLES 400  /* functions sampled to validate gofunc */

static const uint8_t *gobin_mem_ptr(void *ctx, uint64_t vaddr, size_t len)
{
	return elfimg_vptr(ctx, vaddr, len);
}

/* Check that the functab is sorted: a cheap proof the header is real. */
static bool gobin_pclntab_sane(struct pclntab *p)
{
	struct pclntab_func prev, f;
	size_t n = pclntab_nfunc(p);

	if (!pclntab_func_at(p, 0, &prev))
		return false;
	for (size_t i = 1; i < n; i++) {
		if (!pclntab_func_at(p, i, &f) || f.entry < prev.entry)
			return false;
		prev = f;
	}
	return prev.end >= prev.entry;
}

static int gobin_try_pclntab(struct gobin *gb, const uint8_t *data, size_t len,
			     uint64_t vaddr, const char *where, char *err, size_t errlen)
{
	struct pclntab_mem mem = { gobin_mem_ptr, gb->img };
	struct pclntab *p;

	if (pclntab_open(data, len, vaddr, &mem, &p, err, errlen) != 0)
		return -1;
	if (!gobin_pclntab_sane(p)) {
		pclntab_close(p);
		snprintf(err, errlen, "corrupt pclntab (%s format): function table not sorted",
			 pclntab_format_name(pclntab_sniff(data, len)));
		return -1;
	}
	gb->pcln = p;
	gb->pclntab_addr = vaddr;
	gb->pclntab_where = where;
	return 0;
}

/* Find the table by section, else by scanning file-backed segments. */
static int gobin_find_pclntab(struct gobin *gb, char *err, size_t errlen)
{
	static const char *names[] = { ".gopclntab", ".data.rel.ro.gopclntab" };
	size_t flen;
	const uint8_t *file = elfimg_file(gb->img, &flen);
	char why[256] = "";

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct elfimg_section *s = elfimg_section(gb->img, names[i]);
		const uint8_t *d = s ? elfimg_section_data(gb->img, s) : NULL;

		if (!d)
			continue;
		if (pclntab_sniff(d, (size_t)s->size) == PCLNTAB_UNKNOWN) {
			snprintf(err, errlen, "corrupt pclntab: section %s has no Go header",
				 names[i]);
			return -1;
		}
		return gobin_try_pclntab(gb, d, (size_t)s->size, s->addr, names[i], err,
					 errlen);
	}
	/* No section header: look for the magic at 8-byte aligned offsets. */
	for (size_t off = 0; off + 64 <= flen; off += 8) {
		int64_t delta;
		uint64_t vaddr;
		size_t avail;

		if (pclntab_sniff(file + off, flen - off) == PCLNTAB_UNKNOWN)
			continue;
		if (!elfimg_offset_delta(gb->img, off, &delta))
			continue;
		vaddr = off + (uint64_t)delta;
		avail = elfimg_vavail(gb->img, vaddr);
		if (avail < 64)
			continue;
		if (gobin_try_pclntab(gb, file + off, avail, vaddr, "scan", why,
				      sizeof(why)) == 0)
			return 0;
	}
	if (why[0])
		snprintf(err, errlen, "%s", why);
	else
		snprintf(err, errlen, "not a Go program (no .gopclntab section or pclntab header)");
	return -1;
}

/* Read moduledata word I into *v. */
static bool gobin_mdword(struct gobin *gb, uint64_t md, int i, uint64_t *v)
{
	return elfimg_read_ptr(gb->img, md + (uint64_t)i * 8, v);
}

/* Is VADDR inside an allocated, non-writable section (rodata-like)? */
static bool gobin_in_rodata(struct gobin *gb, uint64_t vaddr)
{
	for (size_t i = 0; i < elfimg_nsections(gb->img); i++) {
		const struct elfimg_section *s = elfimg_section_at(gb->img, i);

		if ((s->flags & 2) && !(s->flags & 1) && vaddr >= s->addr &&
		    vaddr - s->addr < s->size)
			return true;
	}
	/* Without section headers, any file-backed address will do. */
	return elfimg_nsections(gb->img) == 0 && elfimg_vavail(gb->img, vaddr) > 0;
}

/*
 * Score a candidate funcdata base: how many sampled inline trees it makes
 * plausible (callee names inside funcnametab, parent pcs inside the
 * function).
 */
static int gobin_score_gofunc(struct gobin *gb, uint64_t gofunc)
{
	struct pclntab_frame fr[16];
	size_t n = pclntab_nfunc(gb->pcln);
	size_t step = n / GOBIN_INL_SAMPLES + 1;
	int good = 0, bad = 0;

	pclntab_set_gofunc(gb->pcln, gofunc);
	for (size_t i = 0; i < n; i += step) {
		struct pclntab_func f;

		if (!pclntab_func_at(gb->pcln, i, &f) || f.end <= f.entry)
			continue;
		/* Probe a few pcs of the function. */
		for (uint64_t pc = f.entry; pc < f.end; pc += (f.end - f.entry) / 4 + 1) {
			int k = pclntab_symbolize(gb->pcln, pc, fr, 16);

			for (int j = 0; j < k - 1; j++) {
				const char *s = fr[j].func;

				if (s[0] == '?' || strlen(s) < 2 || s[0] < 0x20)
					bad++;
				else
					good++;
			}
		}
	}
	pclntab_set_gofunc(gb->pcln, 0);
	return good - 4 * bad;
}

/*
 * Find runtime.firstmoduledata: a word equal to the pclntab address in
 * writable data, followed by the funcnametab slice pointing into it (1.16+).
 */
static void gobin_find_moduledata(struct gobin *gb)
{
	enum pclntab_format fmt = pclntab_format(gb->pcln);
	uint64_t want_names = gb->pclntab_addr + pclntab_funcnametab_off(gb->pcln);

	if (elfimg_ptrsize(gb->img) != 8)
		return;
	/* Go 1.26 gives moduledata a section of its own. */
	const struct elfimg_section *gm = elfimg_section(gb->img, ".go.module");
	uint64_t w;

	if (gm && elfimg_read_ptr(gb->img, gm->addr, &w) && w == gb->pclntab_addr)
		gb->moduledata = gm->addr;
	for (size_t si = 0; si < elfimg_nsections(gb->img) && !gb->moduledata; si++) {
		const struct elfimg_section *s = elfimg_section_at(gb->img, si);

		/* Only sections inside the file: a corrupt size would scan for ever. */
		if (!(s->flags & 2) || !(s->flags & 1) || s->type == 8 /* NOBITS */ ||
		    !elfimg_section_data(gb->img, s))
			continue;
		/* By offset: a corrupt addr + size may wrap around. */
		for (uint64_t off = 0; off + GOBIN_MD_WORDS * 8 <= s->size; off += 8) {
			uint64_t a = s->addr + off, w0, w1;

			if (!elfimg_read_ptr(gb->img, a, &w0) || w0 != gb->pclntab_addr)
				continue;
			if (fmt != PCLNTAB_GO12) {
				if (!gobin_mdword(gb, a, 1, &w1) || w1 != want_names)
					continue;
			}
			gb->moduledata = a;
			break;
		}
	}
	if (!gb->moduledata || fmt == PCLNTAB_GO12)
		return;

	/* 1.16+: text, etext at words 22, 23 (after minpc, maxpc at 20, 21). */
	uint64_t minpc = 0, text = 0;

	if (gobin_mdword(gb, gb->moduledata, 20, &minpc) &&
	    gobin_mdword(gb, gb->moduledata, 22, &text) && text && minpc >= text)
		gb->text = text;
	if (fmt == PCLNTAB_GO116)
		return;
	if (gb->text && pclntab_header_text(gb->pcln) == 0)
		pclntab_set_text(gb->pcln, gb->text);

	/*
	 * gofunc (funcdata base): word 38 in 1.18-1.19, 40 in 1.20+ (coverage
	 * counters were added before it). Verify by scoring inline trees, and
	 * search nearby words if a later release moved it.
	 */
	int expect = fmt == PCLNTAB_GO118 ? 38 : 40;
	uint64_t v, best_v = 0;
	int best = 0;

	if (gobin_mdword(gb, gb->moduledata, expect, &v) && gobin_in_rodata(gb, v)) {
		best = gobin_score_gofunc(gb, v);
		best_v = v;
	}
	if (best <= 0) {
		for (int i = 30; i < GOBIN_MD_WORDS; i++) {
			int sc;

			if (i == expect || !gobin_mdword(gb, gb->moduledata, i, &v) ||
			    !gobin_in_rodata(gb, v))
				continue;
			sc = gobin_score_gofunc(gb, v);
			if (sc > best) {
				best = sc;
				best_v = v;
			}
		}
	}
	if (best > 0)
		pclntab_set_gofunc(gb->pcln, best_v);
}

/* cgo: the runtime/cgo package leaves crosscall2 and _cgo_* Go functions. */
static bool gobin_detect_cgo(struct gobin *gb)
{
	const char *cgo = buildinfo_setting(&gb->bi, "CGO_ENABLED");
	size_t n = pclntab_nfunc(gb->pcln);

	for (size_t i = 0; i < n; i++) {
		struct pclntab_func f;

		if (!pclntab_func_at(gb->pcln, i, &f))
			continue;
		if (strcmp(f.name, "crosscall2") == 0 ||
		    strncmp(f.name, "runtime/cgo.", 12) == 0)
			return true;
	}
	/*
	 * Built with cgo on and linking shared libraries (libc) through it. A
	 * pure-Go PIE has an interpreter but no DT_NEEDED: not cgo.
	 */
	return cgo && strcmp(cgo, "1") == 0 && elfimg_has_needed(gb->img);
}

static int gobin_init(struct gobin *gb, char *err, size_t errlen)
{
	int major;

	gb->arch = elfimg_arch(gb->img);
	gb->pie = elfimg_is_pie(gb->img);
	gb->is_static = elfimg_is_static(gb->img);
	gb->stripped = !elfimg_has_symtab(gb->img);
	gb->dwarf = elfimg_has_dwarf(gb->img);
	if (gobin_find_pclntab(gb, err, errlen) != 0)
		return -1;
	if (buildinfo_read(gb->img, &gb->bi) != 0) {
		snprintf(err, errlen, "out of memory reading build info");
		return -1;
	}
	gb->version_known = goversion_parse(gb->bi.go_version, &major, &gb->go_minor,
					    &gb->go_patch);
	if (!gb->version_known) {
		/* Only the table format is known: name its first release. */
		switch (pclntab_format(gb->pcln)) {
		case PCLNTAB_GO116:
			gb->go_minor = 16;
			break;
		case PCLNTAB_GO118:
			gb->go_minor = 18;
			break;
		case PCLNTAB_GO120:
			gb->go_minor = 20;
			break;
		default:
			gb->go_minor = 2;
			break;
		}
	}
	gobin_find_moduledata(gb);
	if (pclntab_format(gb->pcln) >= PCLNTAB_GO118 && pclntab_text(gb->pcln) == 0) {
		snprintf(err, errlen,
			 "cannot locate runtime.text (pclntab says 0 and moduledata was not found)");
		return -1;
	}
	gb->cgo = gobin_detect_cgo(gb);
	if (gb->dwarf && goruntime_offsets_dwarf(gb->img, &gb->off))
		gb->offsets_known = true;
	else
		gb->offsets_known = goruntime_offsets_table(gb->go_minor, &gb->off);
	return 0;
}

int gobin_open(const char *path, struct gobin **out, char *err, size_t errlen)
{
	struct gobin *gb = calloc(1, sizeof(*gb));

	*out = NULL;
	if (!gb) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	gb->path = strdup(path);
	if (!gb->path) {
		free(gb);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (elfimg_open(path, &gb->img, err, errlen) != 0) {
		gobin_close(gb);
		return -1;
	}
	if (gobin_init(gb, err, errlen) != 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
		gobin_close(gb);
		return -1;
	}
	*out = gb;
	return 0;
}

int gobin_open_mem(const void *buf, size_t len, struct gobin **out, char *err,
		   size_t errlen)
{
	struct gobin *gb = calloc(1, sizeof(*gb));

	*out = NULL;
	if (!gb) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	gb->path = strdup("<memory>");
	if (!gb->path || elfimg_open_mem(buf, len, &gb->img, err, errlen) != 0 ||
	    gobin_init(gb, err, errlen) != 0) {
		gobin_close(gb);
		return -1;
	}
	*out = gb;
	return 0;
}

struct gobin *gobin_ref(struct gobin *gb)
{
	if (gb)
		gb->refs++;
	return gb;
}

void gobin_close(struct gobin *gb)
{
	if (!gb)
		return;
	if (gb->refs > 0) {
		gb->refs--;
		return;
	}
	pclntab_close(gb->pcln);
	buildinfo_free(&gb->bi);
	elfimg_close(gb->img);
	free(gb->path);
	free(gb);
}

const char *gobin_go_version(const struct gobin *gb)
{
	return gb->bi.go_version ? gb->bi.go_version : "unknown";
}

bool gobin_traceable(const struct gobin *gb, char *why, size_t whylen)
{
	if (gb->arch != ELFIMG_ARCH_AMD64 && gb->arch != ELFIMG_ARCH_ARM64) {
		snprintf(why, whylen, "tracing supports amd64 and arm64, not %s",
			 elfimg_arch_name(gb->arch));
		return false;
	}
	if (gb->go_minor < GOBIN_MIN_TRACE_MINOR) {
		snprintf(why, whylen,
			 "Go 1.%d is older than 1.%d: symbols and versions can be read, "
			 "goroutine tracing needs Go >= 1.%d",
			 gb->go_minor, GOBIN_MIN_TRACE_MINOR, GOBIN_MIN_TRACE_MINOR);
		return false;
	}
	if (!gb->offsets_known) {
		snprintf(why, whylen,
			 "Go 1.%d is newer than the runtime layouts goscope knows and the binary has no DWARF",
			 gb->go_minor);
		return false;
	}
	return true;
}
