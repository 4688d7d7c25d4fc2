/*
 * pprof: profile.proto builder (see pprof.h). protobuf-c packs the
 * message (code generated at build time from profile.proto); zlib gzips it.
 */
#include "pprof.h"

#include "../gobin/gobin.h"
#include "profile.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PPROF_MAX_INLINE 32

/* A growable array of T. */
#define PP_GROW(arr, n, cap)                                                     \
	((n) < (cap) ? 0 : pp_grow((void **)&(arr), &(cap), sizeof(*(arr))))

static int pp_grow(void **arr, size_t *cap, size_t elem)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	void *n = realloc(*arr, ncap * elem);

	if (!n)
		return -1;
	*arr = n;
	*cap = ncap;
	return 0;
}

/* u64 key -> u32 value, open addressing; key 0 is reserved. */
struct pp_map {
	uint64_t *keys;
	uint32_t *vals;
	size_t cap, n;
};

static uint64_t pp_mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

static int pp_map_put(struct pp_map *m, uint64_t key, uint32_t val);

static int pp_map_grow(struct pp_map *m)
{
	struct pp_map n = { 0 };

	n.cap = m->cap ? m->cap * 2 : 1024;
	n.keys = calloc(n.cap, sizeof(*n.keys));
	n.vals = calloc(n.cap, sizeof(*n.vals));
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			pp_map_put(&n, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

static int pp_map_put(struct pp_map *m, uint64_t key, uint32_t val)
{
	size_t j;

	if ((m->n + 1) * 2 > m->cap && pp_map_grow(m) != 0)
		return -1;
	for (j = pp_mix(key) & (m->cap - 1); m->keys[j] && m->keys[j] != key;
	     j = (j + 1) & (m->cap - 1))
		;
	if (!m->keys[j])
		m->n++;
	m->keys[j] = key;
	m->vals[j] = val;
	return 0;
}

static bool pp_map_get(const struct pp_map *m, uint64_t key, uint32_t *val)
{
	if (!m->cap)
		return false;
	for (size_t j = pp_mix(key) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1)) {
		if (m->keys[j] == key) {
			*val = m->vals[j];
			return true;
		}
	}
	return false;
}

static void pp_map_free(struct pp_map *m)
{
	free(m->keys);
	free(m->vals);
}

struct pp_mapping {
	struct gobin *gb;
	uint64_t bias;
	Perftools__Profiles__Mapping msg;
};

struct pp_sample {
	uint64_t *locs;
	size_t nlocs;
	int64_t *values;
	Perftools__Profiles__Label *labels;
	size_t nlabels;
};

struct pp_location {
	Perftools__Profiles__Location msg;
	Perftools__Profiles__Line *lines;
	size_t nlines;
};

struct pprof {
	size_t ntypes;
	Perftools__Profiles__ValueType *types;
	char **strs;
	size_t nstrs, strs_cap;
	struct pp_map strmap;  /* string hash -> index (chained by verify) */
	struct pp_mapping *maps;
	size_t nmaps, maps_cap;
	Perftools__Profiles__Function *funcs;
	size_t nfuncs, funcs_cap;
	struct pp_map funcmap; /* (name << 32 | file) -> index */
	struct pp_location *locs;
	size_t nlocs, locs_cap;
	struct pp_map locmap;  /* pc or string key -> index */
	struct pp_sample *samples;
	size_t nsamples, samples_cap;
	int64_t *comments;
	size_t ncomments, comments_cap;
	int64_t time_nanos, duration_nanos;
	int64_t period; /* 0: 1 */
};

/* Index of S in the string table, added if new; -1 when out of memory. */
static int64_t pp_str(struct pprof *pp, const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t idx;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	/* Linear rehash on (rare) collisions of different strings. */
	for (uint64_t k = h ? h : 1;; k = k * 31 + 7) {
		if (!k)
			k = 1;
		if (!pp_map_get(&pp->strmap, k, &idx))
			break;
		if (strcmp(pp->strs[idx], s) == 0)
			return idx;
		h = k;
	}
	if (PP_GROW(pp->strs, pp->nstrs, pp->strs_cap))
		return -1;
	pp->strs[pp->nstrs] = strdup(s);
	if (!pp->strs[pp->nstrs])
		return -1;
	if (pp_map_put(&pp->strmap, h ? h : 1, (uint32_t)pp->nstrs) != 0)
		return -1;
	return (int64_t)pp->nstrs++;
}

struct pprof *pprof_new(size_t ntypes, const char *const *types, const char *const *units)
{
	struct pprof *pp = calloc(1, sizeof(*pp));

	if (!pp)
		return NULL;
	pp->types = calloc(ntypes, sizeof(*pp->types));
	if (!pp->types || pp_str(pp, "") != 0) {
		pprof_free(pp);
		return NULL;
	}
	pp->ntypes = ntypes;
	for (size_t i = 0; i < ntypes; i++) {
		perftools__profiles__value_type__init(&pp->types[i]);
		pp->types[i].type = pp_str(pp, types[i]);
		pp->types[i].unit = pp_str(pp, units[i]);
	}
	return pp;
}

void pprof_free(struct pprof *pp)
{
	if (!pp)
		return;
	for (size_t i = 0; i < pp->nstrs; i++)
		free(pp->strs[i]);
	free(pp->strs);
	for (size_t i = 0; i < pp->nlocs; i++)
		free(pp->locs[i].lines);
	free(pp->locs);
	for (size_t i = 0; i < pp->nsamples; i++) {
		free(pp->samples[i].locs);
		free(pp->samples[i].values);
		free(pp->samples[i].labels);
	}
	free(pp->samples);
	free(pp->funcs);
	free(pp->maps);
	free(pp->types);
	free(pp->comments);
	pp_map_free(&pp->strmap);
	pp_map_free(&pp->funcmap);
	pp_map_free(&pp->locmap);
	free(pp);
}

void pprof_set_time(struct pprof *pp, int64_t time_nanos, int64_t duration_nanos)
{
	pp->time_nanos = time_nanos;
	pp->duration_nanos = duration_nanos;
}

void pprof_add_comment(struct pprof *pp, const char *comment)
{
	int64_t s = pp_str(pp, comment);

	if (s < 0 || PP_GROW(pp->comments, pp->ncomments, pp->comments_cap))
		return;
	pp->comments[pp->ncomments++] = s;
}

uint64_t pprof_mapping(struct pprof *pp, struct gobin *gb, uint64_t bias, const char *path,
		       uint64_t start, uint64_t limit)
{
	struct pp_mapping *m;

	if (PP_GROW(pp->maps, pp->nmaps, pp->maps_cap))
		return 0;
	m = &pp->maps[pp->nmaps];
	perftools__profiles__mapping__init(&m->msg);
	m->gb = gb;
	m->bias = bias;
	m->msg.id = pp->nmaps + 1;
	m->msg.memory_start = start;
	m->msg.memory_limit = limit;
	m->msg.filename = pp_str(pp, path);
	m->msg.has_functions = true;
	m->msg.has_filenames = true;
	m->msg.has_line_numbers = true;
	m->msg.has_inline_frames = true;
	pp->nmaps++;
	return m->msg.id;
}

static int64_t pp_func(struct pprof *pp, const char *name, const char *file)
{
	int64_t n = pp_str(pp, name), f = pp_str(pp, file);
	uint64_t key = ((uint64_t)n << 32 | (uint64_t)f) + 1;
	uint32_t idx;
	Perftools__Profiles__Function *fn;

	if (n < 0 || f < 0)
		return -1;
	if (pp_map_get(&pp->funcmap, key, &idx))
		return (int64_t)pp->funcs[idx].id;
	if (PP_GROW(pp->funcs, pp->nfuncs, pp->funcs_cap))
		return -1;
	fn = &pp->funcs[pp->nfuncs];
	perftools__profiles__function__init(fn);
	fn->id = pp->nfuncs + 1;
	fn->name = n;
	fn->system_name = n;
	fn->filename = f;
	if (pp_map_put(&pp->funcmap, key, (uint32_t)pp->nfuncs) != 0)
		return -1;
	pp->nfuncs++;
	return (int64_t)fn->id;
}

/* Location id for a pc of MAPPING, or a pseudo-frame NAME (pc 0). */
static uint64_t pp_loc(struct pprof *pp, uint64_t mapping, uint64_t pc, const char *name)
{
	struct pclntab_frame fr[PPROF_MAX_INLINE];
	uint64_t key;
	uint32_t idx;
	struct pp_location *l;
	int n;

	if (name)
		key = ((uint64_t)pp_str(pp, name) << 1 | 1) ^ 0x8000000000000000ull;
	else
		key = (pc << 8 | mapping) & ~1ull;
	if (!key)
		key = 2;
	if (pp_map_get(&pp->locmap, key, &idx))
		return pp->locs[idx].msg.id;
	if (PP_GROW(pp->locs, pp->nlocs, pp->locs_cap))
		return 0;
	l = &pp->locs[pp->nlocs];
	memset(l, 0, sizeof(*l));
	perftools__profiles__location__init(&l->msg);
	l->msg.id = pp->nlocs + 1;
	if (name) {
		fr[0].func = name;
		fr[0].file = "";
		fr[0].line = 0;
		n = 1;
	} else {
		struct pp_mapping *m = &pp->maps[mapping - 1];

		l->msg.mapping_id = mapping;
		l->msg.address = pc - 1;
		n = pclntab_symbolize(m->gb->pcln, pc - m->bias - 1, fr, PPROF_MAX_INLINE);
		if (n == 0) {
			fr[0].func = "?";
			fr[0].file = "?";
			fr[0].line = 0;
			n = 1;
		}
	}
	l->lines = calloc((size_t)n, sizeof(*l->lines));
	if (!l->lines)
		return 0;
	/* pprof: line[0] is the innermost inlined frame, the caller last. */
	for (int i = 0; i < n; i++) {
		int64_t fid = pp_func(pp, fr[i].func, fr[i].file);

		if (fid < 0)
			return 0;
		perftools__profiles__line__init(&l->lines[i]);
		l->lines[i].function_id = (uint64_t)fid;
		l->lines[i].line = fr[i].line;
	}
	l->nlines = (size_t)n;
	if (pp_map_put(&pp->locmap, key, (uint32_t)pp->nlocs) != 0)
		return 0;
	pp->nlocs++;
	return l->msg.id;
}

int pprof_sample(struct pprof *pp, uint64_t mapping, const uint64_t *pcs, size_t npcs,
		 const char *leaf, const char *root, const int64_t *values,
		 const struct pprof_label *labels, size_t nlabels)
{
	struct pp_sample *s;
	size_t k = 0;

	if (PP_GROW(pp->samples, pp->nsamples, pp->samples_cap))
		return -1;
	s = &pp->samples[pp->nsamples];
	memset(s, 0, sizeof(*s));
	s->locs = calloc(npcs + 2, sizeof(*s->locs));
	s->values = calloc(pp->ntypes, sizeof(*s->values));
	s->labels = calloc(nlabels ? nlabels : 1, sizeof(*s->labels));
	if (!s->locs || !s->values || !s->labels)
		goto fail;
	if (leaf)
		s->locs[k++] = pp_loc(pp, 0, 0, leaf);
	for (size_t i = 0; i < npcs; i++)
		s->locs[k++] = pp_loc(pp, mapping, pcs[i], NULL);
	if (root)
		s->locs[k++] = pp_loc(pp, 0, 0, root);
	for (size_t i = 0; i < k; i++)
		if (!s->locs[i])
			goto fail;
	s->nlocs = k;
	memcpy(s->values, values, pp->ntypes * sizeof(*values));
	for (size_t i = 0; i < nlabels; i++) {
		perftools__profiles__label__init(&s->labels[i]);
		s->labels[i].key = pp_str(pp, labels[i].key);
		if (labels[i].str) {
			s->labels[i].str = pp_str(pp, labels[i].str);
		} else {
			s->labels[i].num = labels[i].num;
			if (labels[i].unit)
				s->labels[i].num_unit = pp_str(pp, labels[i].unit);
		}
	}
	s->nlabels = nlabels;
	pp->nsamples++;
	return 0;
fail:
	free(s->locs);
	free(s->values);
	free(s->labels);
	return -1;
}

void pprof_set_period(struct pprof *pp, int64_t period)
{
	pp->period = period;
}

int pprof_sample_frames(struct pprof *pp, const struct pprof_frame *fr, size_t n,
			const int64_t *values, const struct pprof_label *labels, size_t nlabels)
{
	struct pp_sample *s;

	if (pprof_sample(pp, 0, NULL, 0, NULL, NULL, values, labels, nlabels) != 0)
		return -1;
	s = &pp->samples[pp->nsamples - 1];
	free(s->locs);
	s->nlocs = 0;
	s->locs = calloc(n ? n : 1, sizeof(*s->locs));
	if (!s->locs) {
		pp->nsamples--;
		free(s->values);
		free(s->labels);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t id = fr[i].name ? pp_loc(pp, 0, 0, fr[i].name)
					 : pp_loc(pp, fr[i].mapping, fr[i].pc, NULL);

		if (!id)
			return -1; /* the sample stays, shorter: pprof_write is still valid */
		s->locs[s->nlocs++] = id;
	}
	return 0;
}

int pprof_write(struct pprof *pp, const char *path)
{
	Perftools__Profiles__Profile prof;
	Perftools__Profiles__ValueType **types = NULL, period;
	Perftools__Profiles__Sample *smsg = NULL, **sp = NULL;
	Perftools__Profiles__Label **lp = NULL;
	Perftools__Profiles__Mapping **mp = NULL;
	Perftools__Profiles__Location **locp = NULL;
	Perftools__Profiles__Line **linep = NULL;
	Perftools__Profiles__Function **fp = NULL;
	uint8_t *buf = NULL;
	size_t nlabels = 0, nlines = 0, li = 0, ni = 0, len;
	gzFile gz = NULL;
	int rc = -1;

	perftools__profiles__profile__init(&prof);
	for (size_t i = 0; i < pp->nsamples; i++)
		nlabels += pp->samples[i].nlabels;
	for (size_t i = 0; i < pp->nlocs; i++)
		nlines += pp->locs[i].nlines;
	types = calloc(pp->ntypes + 1, sizeof(*types));
	smsg = calloc(pp->nsamples + 1, sizeof(*smsg));
	sp = calloc(pp->nsamples + 1, sizeof(*sp));
	lp = calloc(nlabels + 1, sizeof(*lp));
	mp = calloc(pp->nmaps + 1, sizeof(*mp));
	locp = calloc(pp->nlocs + 1, sizeof(*locp));
	linep = calloc(nlines + 1, sizeof(*linep));
	fp = calloc(pp->nfuncs + 1, sizeof(*fp));
	if (!types || !smsg || !sp || !lp || !mp || !locp || !linep || !fp) {
		errno = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < pp->ntypes; i++)
		types[i] = &pp->types[i];
	prof.n_sample_type = pp->ntypes;
	prof.sample_type = types;
	for (size_t i = 0; i < pp->nsamples; i++) {
		struct pp_sample *s = &pp->samples[i];

		perftools__profiles__sample__init(&smsg[i]);
		smsg[i].n_location_id = s->nlocs;
		smsg[i].location_id = s->locs;
		smsg[i].n_value = pp->ntypes;
		smsg[i].value = s->values;
		smsg[i].n_label = s->nlabels;
		smsg[i].label = &lp[li];
		for (size_t j = 0; j < s->nlabels; j++)
			lp[li++] = &s->labels[j];
		sp[i] = &smsg[i];
	}
	prof.n_sample = pp->nsamples;
	prof.sample = sp;
	for (size_t i = 0; i < pp->nmaps; i++)
		mp[i] = &pp->maps[i].msg;
	prof.n_mapping = pp->nmaps;
	prof.mapping = mp;
	for (size_t i = 0; i < pp->nlocs; i++) {
		struct pp_location *l = &pp->locs[i];

		l->msg.n_line = l->nlines;
		l->msg.line = &linep[ni];
		for (size_t j = 0; j < l->nlines; j++)
			linep[ni++] = &l->lines[j];
		locp[i] = &l->msg;
	}
	prof.n_location = pp->nlocs;
	prof.location = locp;
	for (size_t i = 0; i < pp->nfuncs; i++)
		fp[i] = &pp->funcs[i];
	prof.n_function = pp->nfuncs;
	prof.function = fp;
	prof.n_string_table = pp->nstrs;
	prof.string_table = pp->strs;
	prof.time_nanos = pp->time_nanos;
	prof.duration_nanos = pp->duration_nanos;
	if (pp->ntypes) {
		period = pp->types[pp->ntypes - 1];
		prof.period_type = &period;
		prof.period = pp->period ? pp->period : 1;
		prof.default_sample_type = pp->types[pp->ntypes - 1].type;
	}
	prof.n_comment = pp->ncomments;
	prof.comment = pp->comments;
	len = perftools__profiles__profile__get_packed_size(&prof);
	buf = malloc(len ? len : 1);
	if (!buf) {
		errno = ENOMEM;
		goto out;
	}
	perftools__profiles__profile__pack(&prof, buf);
	gz = gzopen(path, "wb");
	if (!gz)
		goto out;
	if (len && gzwrite(gz, buf, (unsigned)len) != (int)len) {
		errno = EIO;
		goto out;
	}
	rc = 0;
out:
	if (gz && gzclose(gz) != Z_OK && rc == 0) {
		errno = EIO;
		rc = -1;
	}
	free(buf);
	free(types);
	free(smsg);
	free(sp);
	free(lp);
	free(mp);
	free(locp);
	free(linep);
	free(fp);
	return rc;
}
