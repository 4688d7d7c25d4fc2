/*
 * ksyms: /proc/kallsyms into a sorted array (see ksyms.h).
 */
#include "ksyms.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ksym {
	uint64_t addr;
	uint32_t name; /* offset in strs */
	uint32_t mod;  /* offset in strs; 0: "" */
};

struct ksyms {
	struct ksym *syms;
	size_t n, cap;
	char *strs;
	size_t slen, scap;
};

/* Append S (with its NUL) to the string pool; offset, or -1. */
static long ksyms_str(struct ksyms *ks, const char *s, size_t len)
{
	size_t off = ks->slen;

	if (ks->slen + len + 1 > ks->scap) {
		size_t cap = ks->scap ? ks->scap * 2 : 1 << 20;
		char *p;

		while (cap < ks->slen + len + 1)
			cap *= 2;
		p = realloc(ks->strs, cap);
		if (!p)
			return -1;
		ks->strs = p;
		ks->scap = cap;
	}
	memcpy(ks->strs + off, s, len);
	ks->strs[off + len] = '\0';
	ks->slen += len + 1;
	return (long)off;
}

static int ksyms_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * Parse one "ADDR TYPE NAME[\t[MODULE]]" line; text symbols only. *LAST is
 * the pool offset of the previous line's module (modules are contiguous).
 */
static int ksyms_line(struct ksyms *ks, char *line, uint32_t *last)
{
	char *end, *name, *mod;
	uint64_t addr = strtoull(line, &end, 16);
	long noff, moff = 0;

	if (end == line || *end != ' ')
		return 0;
	end++;
	if (!strchr("tTwW", end[0]) || end[0] == '\0' || end[1] != ' ')
		return 0;
	name = end + 2;
	name[strcspn(name, "\n")] = '\0';
	mod = strchr(name, '\t');
	if (mod) {
		*mod++ = '\0';
		if (*mod == '[')
			mod++;
		mod[strcspn(mod, "]")] = '\0';
		if (*last && strcmp(ks->strs + *last, mod) == 0) {
			moff = *last;
		} else {
			moff = ksyms_str(ks, mod, strlen(mod));
			if (moff < 0)
				return -1;
			*last = (uint32_t)moff;
		}
	}
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 65536;
		struct ksym *p = realloc(ks->syms, cap * sizeof(*p));

		if (!p)
			return -1;
		ks->syms = p;
		ks->cap = cap;
	}
	noff = ksyms_str(ks, name, strlen(name));
	if (noff < 0)
		return -1;
	ks->syms[ks->n++] = (struct ksym){ addr, (uint32_t)noff, (uint32_t)moff };
	return 0;
}

struct ksyms *ksyms_load(const char *path, char *err, size_t errlen)
{
	struct ksyms *ks = calloc(1, sizeof(*ks));
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	uint32_t last = 0;
	bool nonzero = false;

	if (!path)
		path = "/proc/kallsyms";
	if (!ks || ksyms_str(ks, "", 0) != 0) {
		snprintf(err, errlen, "out of memory");
		ksyms_free(ks);
		return NULL;
	}
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		ksyms_free(ks);
		return NULL;
	}
	while (getline(&line, &cap, f) > 0) {
		if (ksyms_line(ks, line, &last) != 0) {
			snprintf(err, errlen, "out of memory");
			free(line);
			fclose(f);
			ksyms_free(ks);
			return NULL;
		}
	}
	free(line);
	fclose(f);
	for (size_t i = 0; i < ks->n && !nonzero; i++)
		nonzero = ks->syms[i].addr != 0;
	if (!nonzero) {
		snprintf(err, errlen, "%s shows no addresses (kernel.kptr_restrict; run as root)",
			 path);
		ksyms_free(ks);
		return NULL;
	}
	qsort(ks->syms, ks->n, sizeof(*ks->syms), ksyms_cmp);
	return ks;
}

void ksyms_free(struct ksyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->strs);
	free(ks);
}

size_t ksyms_count(const struct ksyms *ks)
{
	return ks ? ks->n : 0;
}

const char *ksyms_find(const struct ksyms *ks, uint64_t addr, uint64_t *off, const char **mod)
{
	size_t lo = 0, hi;

	if (!ks || ks->n == 0 || addr < ks->syms[0].addr)
		return NULL;
	hi = ks->n;
	/* The last symbol with addr <= ADDR. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (off)
		*off = addr - ks->syms[lo].addr;
	if (mod)
		*mod = ks->strs + ks->syms[lo].mod;
	return ks->strs + ks->syms[lo].name;
}
