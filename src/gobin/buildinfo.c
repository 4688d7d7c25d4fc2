/*
 * buildinfo: read .go.buildinfo (both the 1.18+ inline-string format and
 * the 1.13-1.17 pointer format) and the module text it points to; fall back
 * to runtime.buildVersion found through its string header when a binary
 * has no build info section (recent esbuild releases strip it).
 */
#include "buildinfo.h"

#include "elfimg.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUILDINFO_MAGIC "\xff Go buildinf:"
#define BUILDINFO_MAGIC_LEN 14
#define BUILDINFO_MAX_STR (1u << 22) /* modinfo larger than 4 MiB is corrupt */
#define BUILDINFO_MAX_CANDIDATES 256

static char *buildinfo_strndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = 0;
	return d;
}

bool goversion_parse(const char *s, int *major, int *minor, int *patch)
{
	char *end;
	long v;

	if (!s)
		return false;
	if (strncmp(s, "devel ", 6) == 0)
		s += 6;
	if (strncmp(s, "go", 2) != 0 || !isdigit((unsigned char)s[2]))
		return false;
	v = strtol(s + 2, &end, 10);
	if (v != 1 || *end != '.' || !isdigit((unsigned char)end[1]))
		return false;
	*major = 1;
	v = strtol(end + 1, &end, 10);
	if (v < 0 || v > 1000)
		return false;
	*minor = (int)v;
	*patch = 0;
	if (*end == '.' && isdigit((unsigned char)end[1])) {
		v = strtol(end + 1, &end, 10);
		if (v < 0 || v > 1000)
			return false;
		*patch = (int)v;
	}
	return true;
}

/* Length of a version "go1.N[.P][rcN|betaN]" at S (max LEN bytes), or 0. */
static size_t buildinfo_version_len(const char *s, size_t len)
{
	size_t i = 4;

	if (len < 5 || memcmp(s, "go1.", 4) != 0 || !isdigit((unsigned char)s[4]))
		return 0;
	while (i < len && isdigit((unsigned char)s[i]))
		i++;
	if (i + 1 < len && s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
		i++;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	}
	if (i + 2 < len && (strncmp(s + i, "rc", 2) == 0) && isdigit((unsigned char)s[i + 2])) {
		i += 2;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	} else if (i + 4 < len && strncmp(s + i, "beta", 4) == 0 &&
		   isdigit((unsigned char)s[i + 4])) {
		i += 4;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	}
	return i;
}

static int buildinfo_add_dep(struct buildinfo *bi, char **f, int nf)
{
	struct buildinfo_module *n = realloc(bi->deps, (bi->ndeps + 1) * sizeof(*n));

	if (!n)
		return -1;
	bi->deps = n;
	n = &bi->deps[bi->ndeps];
	memset(n, 0, sizeof(*n));
	n->path = buildinfo_strndup(f[1], strlen(f[1]));
	n->version = buildinfo_strndup(nf > 2 ? f[2] : "", nf > 2 ? strlen(f[2]) : 0);
	n->sum = buildinfo_strndup(nf > 3 ? f[3] : "", nf > 3 ? strlen(f[3]) : 0);
	bi->ndeps++;
	if (!n->path || !n->version || !n->sum)
		return -1;
	return 0;
}

static int buildinfo_add_setting(struct buildinfo *bi, const char *kv)
{
	const char *eq = strchr(kv, '=');
	struct buildinfo_setting *n;

	if (!eq)
		return 0;
	n = realloc(bi->settings, (bi->nsettings + 1) * sizeof(*n));
	if (!n)
		return -1;
	bi->settings = n;
	n = &bi->settings[bi->nsettings++];
	n->key = buildinfo_strndup(kv, (size_t)(eq - kv));
	n->value = buildinfo_strndup(eq + 1, strlen(eq + 1));
	if (!n->key || !n->value)
		return -1;
	return 0;
}

int buildinfo_parse_modinfo(const char *s, size_t len, struct buildinfo *bi)
{
	char *copy;
	char *line, *next;
	int rc = 0;

	/* Strip the 16-byte sentinels the linker wraps modinfo in. */
	if (len >= 33 && s[len - 17] == '\n') {
		s += 16;
		len -= 32;
	}
	copy = buildinfo_strndup(s, len);
	if (!copy)
		return -1;
	for (line = copy; line && *line && rc == 0; line = next) {
		char *f[5] = { 0 };
		int nf = 0;
		char *p = line;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		while (nf < 5) {
			f[nf++] = p;
			p = strchr(p, '\t');
			if (!p)
				break;
			*p++ = 0;
		}
		if (nf >= 2 && strcmp(f[0], "path") == 0 && !bi->path) {
			bi->path = buildinfo_strndup(f[1], strlen(f[1]));
			if (!bi->path)
				rc = -1;
		} else if (nf >= 2 && strcmp(f[0], "mod") == 0 && !bi->main.path) {
			bi->main.path = buildinfo_strndup(f[1], strlen(f[1]));
			bi->main.version = buildinfo_strndup(nf > 2 ? f[2] : "",
							     nf > 2 ? strlen(f[2]) : 0);
			bi->main.sum = buildinfo_strndup(nf > 3 ? f[3] : "",
							 nf > 3 ? strlen(f[3]) : 0);
			if (!bi->main.path || !bi->main.version || !bi->main.sum)
				rc = -1;
		} else if (nf >= 2 && strcmp(f[0], "dep") == 0) {
			rc = buildinfo_add_dep(bi, f, nf);
		} else if (nf >= 2 && strcmp(f[0], "build") == 0) {
			rc = buildinfo_add_setting(bi, f[1]);
		}
	}
	free(copy);
	return rc;
}

const char *buildinfo_setting(const struct buildinfo *bi, const char *key)
{
	for (size_t i = 0; i < bi->nsettings; i++)
		if (strcmp(bi->settings[i].key, key) == 0)
			return bi->settings[i].value;
	return NULL;
}

static void buildinfo_free_module(struct buildinfo_module *m)
{
	free(m->path);
	free(m->version);
	free(m->sum);
}

void buildinfo_free(struct buildinfo *bi)
{
	free(bi->go_version);
	free(bi->path);
	buildinfo_free_module(&bi->main);
	for (size_t i = 0; i < bi->ndeps; i++)
		buildinfo_free_module(&bi->deps[i]);
	free(bi->deps);
	for (size_t i = 0; i < bi->nsettings; i++) {
		free(bi->settings[i].key);
		free(bi->settings[i].value);
	}
	free(bi->settings);
	memset(bi, 0, sizeof(*bi));
}

/* Decode a uvarint from [*p, end); false if it runs off the end. */
static bool buildinfo_uvarint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	unsigned shift = 0;

	while (*p < end && shift < 64) {
		uint8_t b = *(*p)++;

		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
		shift += 7;
	}
	return false;
}

/* A Go string header {ptr, len} at VADDR, resolved into image bytes. */
static const char *buildinfo_gostring(struct elfimg *img, uint64_t vaddr, size_t *len)
{
	uint64_t ptr, n;
	int ps = elfimg_ptrsize(img);
	const uint8_t *lp;

	if (!elfimg_read_ptr(img, vaddr, &ptr))
		return NULL;
	lp = elfimg_vptr(img, vaddr + (uint64_t)ps, (size_t)ps);
	if (!lp)
		return NULL;
	n = elfimg_uptr(img, lp);
	if (n == 0 || n > BUILDINFO_MAX_STR)
		return NULL;
	*len = (size_t)n;
	return (const char *)elfimg_vptr(img, ptr, (size_t)n);
}

static int buildinfo_set_version(struct buildinfo *bi, const char *s, size_t n,
				 const char *source)
{
	free(bi->go_version);
	bi->go_version = buildinfo_strndup(s, n);
	bi->source = source;
	return bi->go_version ? 0 : -1;
}

/* Parse the 32-byte header at H (file offset HOFF). 1: parsed, 0: not. */
static int buildinfo_parse_header(struct elfimg *img, const uint8_t *h,
				  size_t avail, uint64_t hoff, struct buildinfo *bi)
{
	int ps, flags;

	/* The scan finds magics anywhere: the header may run off the file. */
	if (avail < 32)
		return 0;
	ps = h[14];
	flags = h[15];
	if (ps != 4 && ps != 8)
		return 0;
	if (flags & 2) {
		/* 1.18+: two uvarint-prefixed strings right after the header. */
		const uint8_t *p = h + 32, *end = h + avail;
		uint64_t n;

		if (!buildinfo_uvarint(&p, end, &n) || n > (uint64_t)(end - p) ||
		    n > BUILDINFO_MAX_STR)
			return 0;
		if (n && buildinfo_set_version(bi, (const char *)p, (size_t)n, "buildinfo"))
			return -1;
		p += n;
		if (buildinfo_uvarint(&p, end, &n) && n <= (uint64_t)(end - p) &&
		    n <= BUILDINFO_MAX_STR && n > 0) {
			if (buildinfo_parse_modinfo((const char *)p, (size_t)n, bi))
				return -1;
		}
		return bi->go_version ? 1 : 0;
	}
	/* 1.13-1.17: pointers to the version and modinfo string headers. */
	int64_t delta;
	uint64_t hv, vptr, mptr;
	const char *s;
	size_t n;

	if (ps != elfimg_ptrsize(img) || !elfimg_offset_delta(img, hoff, &delta))
		return 0;
	hv = hoff + (uint64_t)delta;
	if (!elfimg_read_ptr(img, hv + 16, &vptr) ||
	    !elfimg_read_ptr(img, hv + 16 + (uint64_t)ps, &mptr))
		return 0;
	s = buildinfo_gostring(img, vptr, &n);
	if (!s)
		return 0;
	if (buildinfo_set_version(bi, s, n, "buildinfo"))
		return -1;
	s = buildinfo_gostring(img, mptr, &n);
	if (s && buildinfo_parse_modinfo(s, n, bi))
		return -1;
	return 1;
}

/*
 * No build info: find "go1.N..." strings in read-only data and prefer the
 * one a string header {ptr, len} in writable data points at: that is
 * runtime.buildVersion.
 */
static int buildinfo_version_fallback(struct elfimg *img, struct buildinfo *bi)
{
	uint64_t cand[BUILDINFO_MAX_CANDIDATES];
	size_t clen[BUILDINFO_MAX_CANDIDATES];
	size_t ncand = 0;
	int ps = elfimg_ptrsize(img);
	const char *rod_names[] = { ".rodata", ".go.buildinfo", NULL };

	for (int r = 0; rod_names[r] && ncand < BUILDINFO_MAX_CANDIDATES; r++) {
		const struct elfimg_section *sec = elfimg_section(img, rod_names[r]);
		const uint8_t *d = sec ? elfimg_section_data(img, sec) : NULL;

		if (!d)
			continue;
		for (const uint8_t *p = d; (size_t)(p - d) + 5 <= sec->size;) {
			const uint8_t *hit = memmem(p, sec->size - (size_t)(p - d), "go1.", 4);
			size_t vl;

			if (!hit)
				break;
			vl = buildinfo_version_len((const char *)hit,
						   sec->size - (size_t)(hit - d));
			if (vl && ncand < BUILDINFO_MAX_CANDIDATES) {
				cand[ncand] = sec->addr + (uint64_t)(hit - d);
				clen[ncand] = vl;
				ncand++;
			}
			p = hit + 4;
		}
	}
	if (ncand == 0)
		return 0;

	/* Look for a {ptr, len} header naming one of the candidates. */
	for (size_t i = 0; i < elfimg_nsections(img); i++) {
		const struct elfimg_section *sec = elfimg_section_at(img, i);
		const uint8_t *d;

		if (!(sec->flags & 2 /* SHF_ALLOC */) || !(sec->flags & 1 /* SHF_WRITE */) ||
		    !(d = elfimg_section_data(img, sec)))
			continue;
		for (uint64_t off = 0; off + 2 * (uint64_t)ps <= sec->size; off += (uint64_t)ps) {
			uint64_t ptr = elfimg_uptr(img, d + off);
			uint64_t n;

			for (size_t c = 0; c < ncand; c++) {
				if (ptr != cand[c])
					continue;
				n = elfimg_uptr(img, d + off + (uint64_t)ps);
				if (n >= 5 && n <= clen[c]) {
					const char *s = (const char *)elfimg_vptr(img, ptr, (size_t)n);

					if (s && buildinfo_version_len(s, (size_t)n) == n)
						return buildinfo_set_version(bi, s, (size_t)n,
									     "runtime.buildVersion");
				}
			}
		}
	}
	/* No header found: the longest candidate is the best guess. */
	size_t best = 0;

	for (size_t c = 1; c < ncand; c++)
		if (clen[c] > clen[best])
			best = c;
	const char *s = (const char *)elfimg_vptr(img, cand[best], clen[best]);

	if (!s)
		return 0;
	return buildinfo_set_version(bi, s, clen[best], "rodata");
}

int buildinfo_read(struct elfimg *img, struct buildinfo *bi)
{
	const struct elfimg_section *sec = elfimg_section(img, ".go.buildinfo");
	size_t flen;
	const uint8_t *file = elfimg_file(img, &flen);
	int rc = 0;

	memset(bi, 0, sizeof(*bi));
	bi->source = "none";
	if (sec && sec->offset < flen && sec->offset % 16 == 0 &&
	    flen - sec->offset >= 32 &&
	    memcmp(file + sec->offset, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN) == 0) {
		rc = buildinfo_parse_header(img, file + sec->offset, flen - sec->offset,
					    sec->offset, bi);
	} else {
		/* No section header: scan the file at 16-byte steps. */
		const uint8_t *p = file;

		while (rc == 0 && (size_t)(p - file) + 32 <= flen) {
			const uint8_t *hit = memmem(p, flen - (size_t)(p - file),
						    BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN);

			if (!hit)
				break;
			if ((hit - file) % 16 == 0)
				rc = buildinfo_parse_header(img, hit, flen - (size_t)(hit - file),
							    (uint64_t)(hit - file), bi);
			p = hit + 1;
		}
	}
	if (rc < 0)
		return -1;
	if (!bi->go_version && buildinfo_version_fallback(img, bi) < 0)
		return -1;
	return 0;
}
