/*
 * gsample: snapshot and unwind the goroutines of a live Go process
 * (see gsample.h). Reads race with the running program by design: every
 * value is validated (bounds, statuses) and a stack is kept only if the
 * goroutine's saved registers did not change while it was being read.
 */
#include "../core/mem.h"
#include "gsample.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GSAMPLE_MAX_GS (4u << 20)       /* allgs longer than this is garbage */
#define GSAMPLE_STACK_READ (64u << 10)  /* bytes of stack read per goroutine */

static uint64_t gs_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t gs_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static int gs_max(int a, int b)
{
	return a > b ? a : b;
}

int gsample_open(struct gsample *s, pid_t pid, struct gobin *gb, uint64_t bias, char *err,
		 size_t errlen)
{
	const struct goruntime_offsets *o = &gb->off;
	char why[256];
	uint64_t allgs, hdr[3];
	int top;

	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->gb = gb;
	s->bias = bias;
	procmem_init(&s->pm, pid);
	if (!gobin_traceable(gb, why, sizeof(why))) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (!goglobals_allgs(gb, &allgs, why, sizeof(why))) {
		snprintf(err, errlen, "cannot find the goroutine list: %s", why);
		return -1;
	}
	s->allgs = allgs + bias;
	goglobals_waitreasons(gb, &s->wr);
	top = gs_max(o->g_goid + 8, o->g_atomicstatus + 4);
	top = gs_max(top, o->g_waitreason + 1);
	top = gs_max(top, o->g_syscallsp + 8);
	top = gs_max(top, o->g_syscallpc + 8);
	top = gs_max(top, o->g_sched + o->gobuf_bp + 8);
	top = gs_max(top, o->g_m + 8);
	top = gs_max(top, o->g_trackingseq + 1);
	s->gsize = ((size_t)top + 7) & ~(size_t)7;
	if (!procmem_read(&s->pm, s->allgs, hdr, sizeof(hdr))) {
		if (errno == EPERM || errno == EACCES)
			snprintf(err, errlen,
				 "permission denied reading memory of pid %d (run as root or with CAP_SYS_PTRACE)",
				 (int)pid);
		else if (errno == ESRCH)
			snprintf(err, errlen, "no such process: %d (it exited)", (int)pid);
		else
			snprintf(err, errlen, "cannot read memory of pid %d: %s", (int)pid,
				 strerror(errno));
		return -1;
	}
	if (hdr[1] > hdr[2] || hdr[1] > GSAMPLE_MAX_GS) {
		snprintf(err, errlen,
			 "runtime.allgs at 0x%llx does not look like a goroutine list (len %llu cap %llu)",
			 (unsigned long long)s->allgs, (unsigned long long)hdr[1],
			 (unsigned long long)hdr[2]);
		return -1;
	}
	return 0;
}

void gsample_close(struct gsample *s)
{
	procmem_close(&s->pm);
	free(s->gptrs);
	free(s->gbuf);
	free(s->gok);
	free(s->stackbuf);
	free(s->mbuf);
	free(s->gbuf2);
	free(s->sorted);
	free(s->raddr);
	free(s->rlen);
	free(s->rptr);
	free(s->rok);
	memset(s, 0, sizeof(*s));
}

static void gs_parse(const struct gsample *s, uint64_t gaddr, const uint8_t *b,
		     struct gsample_g *g)
{
	const struct goruntime_offsets *o = &s->gb->off;
	uint64_t ssp = gs_u64(b + o->g_syscallsp);

	memset(g, 0, sizeof(*g));
	g->gaddr = gaddr;
	g->goid = gs_u64(b + o->g_goid);
	g->status = gs_u32(b + o->g_atomicstatus) & ~0x1000u; /* drop Gscan */
	g->waitreason = b[o->g_waitreason];
	g->m = gs_u64(b + o->g_m);
	g->stack_lo = gs_u64(b + o->g_stack_lo);
	g->stack_hi = gs_u64(b + o->g_stack_hi);
	if (s->extra) {
		const struct gowait_offsets *w = &s->wo;

		g->gopc = gs_u64(b + w->g_gopc);
		g->startpc = gs_u64(b + w->g_startpc);
		g->waiting = gs_u64(b + w->g_waiting);
		g->parentgoid = w->g_parentgoid >= 0 ? gs_u64(b + w->g_parentgoid) : 0;
	}
	g->seq = o->g_trackingseq >= 0 ? b[o->g_trackingseq] : -1;
	if (g->status == GS_SYSCALL && ssp) {
		g->sp = ssp;
		g->pc = gs_u64(b + o->g_syscallpc);
	} else {
		g->sp = gs_u64(b + o->g_sched + o->gobuf_sp);
		g->pc = gs_u64(b + o->g_sched + o->gobuf_pc);
	}
	g->depth = g->sp <= g->stack_hi ? g->stack_hi - g->sp : 0;
}

static int gs_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Bytes between two g structs still read as one range (span neighbours). */
#define GSAMPLE_MERGE_GAP 512
#define GSAMPLE_MERGE_MAX (256u << 10) /* longest merged range */

/*
 * Read and parse the LEN g structs at S->gptrs into OUT, sorted by
 * address, keeping the live ones; *K is how many. Neighbouring g structs
 * (gaps up to GSAMPLE_MERGE_GAP) are read as one range and parsed in
 * place; a range that fails is read again g by g. False when out of
 * memory (nothing read).
 */
static bool gs_read_gs(struct gsample *s, size_t len, struct gsample_g *out, size_t *k)
{
	size_t nruns = 0, total = 0, r, i;

	*k = 0;
	if (!mem_grow((void **)&s->sorted, &s->sorted_cap, len + 1, sizeof(uint64_t)))
		return false;
	memcpy(s->sorted, s->gptrs, len * sizeof(uint64_t));
	qsort(s->sorted, len, sizeof(uint64_t), gs_cmp_u64);
	/* Pass 1: count the runs and their bytes. */
	for (i = 0; i < len; nruns++) {
		uint64_t start = s->sorted[i], end = start + s->gsize;

		for (i++; i < len && s->sorted[i] <= end + GSAMPLE_MERGE_GAP &&
			  s->sorted[i] + s->gsize - start <= GSAMPLE_MERGE_MAX;
		     i++)
			end = s->sorted[i] + s->gsize > end ? s->sorted[i] + s->gsize : end;
		total += end - start;
	}
	if (nruns > s->runs_cap) {
		free(s->raddr);
		free(s->rlen);
		free(s->rptr);
		free(s->rok);
		s->raddr = malloc(nruns * sizeof(*s->raddr));
		s->rlen = malloc(nruns * sizeof(*s->rlen));
		s->rptr = malloc(nruns * sizeof(*s->rptr));
		s->rok = malloc(nruns * sizeof(*s->rok));
		s->runs_cap = nruns;
		if (!s->raddr || !s->rlen || !s->rptr || !s->rok) {
			s->runs_cap = 0;
			return false;
		}
	}
	if (!mem_grow((void **)&s->stackbuf, &s->stackbuf_cap, total + 1, 1))
		return false;
	/* Pass 2: the ranges, read in batches of IOV_MAX. */
	total = 0;
	for (i = 0, r = 0; i < len; r++) {
		uint64_t start = s->sorted[i], end = start + s->gsize;

		for (i++; i < len && s->sorted[i] <= end + GSAMPLE_MERGE_GAP &&
			  s->sorted[i] + s->gsize - start <= GSAMPLE_MERGE_MAX;
		     i++)
			end = s->sorted[i] + s->gsize > end ? s->sorted[i] + s->gsize : end;
		s->raddr[r] = start;
		s->rlen[r] = (size_t)(end - start);
		s->rptr[r] = s->stackbuf + total;
		total += s->rlen[r];
	}
	s->g_ranges += nruns;
	procmem_readvar(&s->pm, s->raddr, s->rlen, s->rptr, nruns, s->rok);
	/* Pass 3: parse each g where it lies, in address order. */
	for (i = 0, r = 0; i < len; i++) {
		uint64_t a = s->sorted[i];
		const uint8_t *b;
		uint8_t one[512];

		while (r + 1 < nruns && a >= s->raddr[r + 1])
			r++;
		if (s->rok[r]) {
			b = s->rptr[r] + (a - s->raddr[r]);
		} else if (s->gsize <= sizeof(one) && procmem_read(&s->pm, a, one, s->gsize)) {
			b = one; /* the range crossed unreadable memory: this g alone */
		} else {
			s->unreadable++;
			continue;
		}
		gs_parse(s, a, b, &out[*k]);
		if (out[*k].status != GS_DEAD && out[*k].status != GS_IDLE)
			(*k)++;
	}
	return true;
}

int gsample_snapshot(struct gsample *s, struct gsample_g **gs, size_t *n)
{
	uint64_t hdr[3];
	size_t len, k = 0;
	struct gsample_g *out;

	*gs = NULL;
	*n = 0;
	s->snapshots++;
	if (!procmem_read(&s->pm, s->allgs, hdr, sizeof(hdr)))
		return -1;
	len = (size_t)hdr[1];
	if (len > GSAMPLE_MAX_GS || len > hdr[2])
		return -1;
	if (!mem_grow((void **)&s->gptrs, &s->gptrs_cap, len + 1, sizeof(uint64_t)))
		return -1;
	if (len && !procmem_read(&s->pm, hdr[0], s->gptrs, len * 8))
		return -1;
	/* One buffer holds both the raw g structs and the parsed entries. */
	size_t need = len * s->gsize + len * sizeof(struct gsample_g) + 64;

	if (!mem_grow((void **)&s->gbuf, &s->gbuf_cap, need, 1))
		return -1;
	out = (struct gsample_g *)(s->gbuf + ((len * s->gsize + 63) & ~(size_t)63));
	if (gs_read_gs(s, len, out, &k)) {
		*gs = out;
		*n = k;
		return 0;
	}
	/* Out of memory for the merged ranges: one range per g. */
	free(s->gok);
	s->gok = calloc(len + 1, sizeof(bool));
	if (!s->gok)
		return -1;
	procmem_readmany(&s->pm, s->gptrs, len, s->gsize, s->gbuf, s->gok);
	for (size_t i = 0; i < len; i++) {
		if (!s->gok[i]) {
			s->unreadable++;
			continue;
		}
		gs_parse(s, s->gptrs[i], s->gbuf + i * s->gsize, &out[k]);
		if (out[k].status == GS_DEAD || out[k].status == GS_IDLE)
			continue;
		k++;
	}
	*gs = out;
	*n = k;
	return 0;
}

/* Functions where a goroutine's own stack begins: stop unwinding there. */
int gsample_read_at(struct gsample *s, const uint64_t *gptrs, size_t n, struct gsample_g *out,
		    bool *ok)
{
	size_t need = n * s->gsize + 64;

	if (!mem_grow((void **)&s->gbuf, &s->gbuf_cap, need, 1))
		return -1;
	procmem_readmany(&s->pm, gptrs, n, s->gsize, s->gbuf, ok);
	for (size_t i = 0; i < n; i++) {
		if (ok[i])
			gs_parse(s, gptrs[i], s->gbuf + i * s->gsize, &out[i]);
		else
			s->unreadable++;
	}
	return 0;
}

static bool gs_is_root(const char *name)
{
	return strcmp(name, "runtime.goexit") == 0 || strcmp(name, "runtime.mstart") == 0 ||
	       strcmp(name, "runtime.rt0_go") == 0 || strcmp(name, "runtime.mcall") == 0 ||
	       strcmp(name, "runtime.morestack") == 0 ||
	       strcmp(name, "runtime.systemstack") == 0;
}

/*
 * Unwind G from BUF, its stack's bytes [BASE, END). Returns the depth;
 * *SHORT is set when a frame lay beyond END while the stack goes on (a
 * longer read would get further).
 */
static int gs_unwind_buf(struct gsample *s, const struct gsample_g *g, const uint8_t *buf,
			 uint64_t base, uint64_t end, uint64_t *pcs, int max, bool *short_read)
{
	struct pclntab *p = s->gb->pcln;
	uint64_t pc = g->pc, sp = g->sp;
	int n = 0;

	*short_read = false;
	while (n < max) {
		uint64_t lpc = pc - s->bias;
		long fi = pclntab_find(p, lpc - 1);
		struct pclntab_func f;
		int32_t delta;

		if (fi < 0 || !pclntab_func_at(p, (size_t)fi, &f))
			break;
		if (gs_is_root(f.name))
			break;
		pcs[n++] = pc;
		/* Return addresses: the frame size at the call is at pc-1. */
		if (!pclntab_spdelta(p, lpc - 1, &delta) || delta < 0)
			break;
		uint64_t slot = sp + (uint64_t)delta;

		if (slot < base || slot + 8 > end) {
			*short_read = slot >= base && end < g->stack_hi &&
				      end - base < GSAMPLE_STACK_READ;
			break;
		}
		pc = gs_u64(buf + (slot - base));
		sp = slot + 8;
		if (!pc || sp >= g->stack_hi)
			break;
	}
	return n;
}

/* Whether the g at G->gaddr, as read again into B, still is where G was. */
static bool gs_still(const struct gsample *s, const struct gsample_g *g, const uint8_t *b)
{
	struct gsample_g g2;

	gs_parse(s, g->gaddr, b, &g2);
	/*
	 * Not g.trackingSeq: a goroutine that ran and stopped again at the same
	 * pc and sp (a loop around one call) has the same stack there, and
	 * discarding it would lose the samples of exactly the busiest waits.
	 */
	return g2.status == g->status && g2.pc == g->pc && g2.sp == g->sp && g2.goid == g->goid;
}

static bool gs_unwindable(const struct gsample_g *g)
{
	return g->pc && g->sp >= g->stack_lo && g->sp < g->stack_hi &&
	       g->stack_hi - g->stack_lo <= (1ull << 30);
}

int gsample_unwind(struct gsample *s, const struct gsample_g *g, uint64_t *pcs, int max)
{
	size_t want;
	bool short_read;
	int n;

	if (!gs_unwindable(g))
		return 0;
	want = g->stack_hi - g->sp;
	if (want > GSAMPLE_STACK_READ)
		want = GSAMPLE_STACK_READ;
	if (!mem_grow((void **)&s->stackbuf, &s->stackbuf_cap, want, 1))
		return 0;
	if (!procmem_read(&s->pm, g->sp, s->stackbuf, want))
		return 0;
	n = gs_unwind_buf(s, g, s->stackbuf, g->sp, g->sp + want, pcs, max, &short_read);
	/* The goroutine may have run while we read: check it did not move. */
	uint8_t again[512];

	if (s->gsize <= sizeof(again) && procmem_read(&s->pm, g->gaddr, again, s->gsize) &&
	    !gs_still(s, g, again)) {
		s->torn++;
		return 0;
	}
	return n;
}

void gsample_unwind_many(struct gsample *s, const struct gsample_g *const *gs, size_t n,
			 uint64_t *pcs, int max, int *depth)
{
	if (!mem_grow((void **)&s->gbuf2, &s->gbuf2_cap, GSAMPLE_BATCH * s->gsize, 1)) {
		for (size_t i = 0; i < n; i++)
			depth[i] = gsample_unwind(s, gs[i], pcs + i * (size_t)max, max);
		return;
	}
	for (size_t c0 = 0; c0 < n; c0 += GSAMPLE_BATCH) {
		size_t m = n - c0 < GSAMPLE_BATCH ? n - c0 : GSAMPLE_BATCH, k = 0, total = 0;
		uint64_t addr[GSAMPLE_BATCH], gaddr[GSAMPLE_BATCH];
		size_t len[GSAMPLE_BATCH], slot[GSAMPLE_BATCH];
		uint8_t *ptr[GSAMPLE_BATCH];
		bool ok[GSAMPLE_BATCH], gok[GSAMPLE_BATCH], alone[GSAMPLE_BATCH];

		/* One read for every stack of the chunk (each only as deep as it is)... */
		for (size_t i = 0; i < m; i++) {
			const struct gsample_g *g = gs[c0 + i];

			depth[c0 + i] = 0;
			alone[i] = false;
			if (!gs_unwindable(g))
				continue;
			addr[k] = g->sp;
			len[k] = g->stack_hi - g->sp < GSAMPLE_BATCH_STACK
					 ? (size_t)(g->stack_hi - g->sp)
					 : GSAMPLE_BATCH_STACK;
			total += len[k];
			slot[k++] = i;
		}
		if (!mem_grow((void **)&s->mbuf, &s->mbuf_cap, total + 1, 1)) {
			for (size_t i = 0; i < m; i++)
				depth[c0 + i] = gsample_unwind(s, gs[c0 + i],
							       pcs + (c0 + i) * (size_t)max, max);
			continue;
		}
		total = 0;
		for (size_t j = 0; j < k; j++) {
			ptr[j] = s->mbuf + total;
			total += len[j];
		}
		procmem_readvar(&s->pm, addr, len, ptr, k, ok);
		for (size_t j = 0; j < k; j++) {
			size_t i = slot[j];
			bool short_read = false;

			if (!ok[j])
				continue;
			depth[c0 + i] = gs_unwind_buf(s, gs[c0 + i], ptr[j], addr[j], addr[j] + len[j],
						      pcs + (c0 + i) * (size_t)max, max, &short_read);
			alone[i] = short_read; /* a deep stack: read all of it on its own */
		}
		/* ...and one to check that none of them moved meanwhile. */
		k = 0;
		for (size_t i = 0; i < m; i++) {
			if (alone[i])
				depth[c0 + i] = gsample_unwind(s, gs[c0 + i],
							       pcs + (c0 + i) * (size_t)max, max);
			else if (depth[c0 + i] > 0) {
				gaddr[k] = gs[c0 + i]->gaddr;
				slot[k++] = i;
			}
		}
		procmem_readmany(&s->pm, gaddr, k, s->gsize, s->gbuf2, gok);
		for (size_t j = 0; j < k; j++) {
			size_t i = slot[j];

			if (gok[j] && !gs_still(s, gs[c0 + i], s->gbuf2 + j * s->gsize)) {
				s->torn++;
				depth[c0 + i] = 0;
			}
		}
	}
}

const char *gsample_reason(const struct gsample *s, uint8_t r, size_t *len)
{
	if (r < s->wr.n && s->wr.str[r]) {
		*len = s->wr.len[r];
		return s->wr.str[r];
	}
	*len = 0;
	return "";
}

int gsample_tid(struct gsample *s, uint64_t m)
{
	uint64_t tid;

	if (!m || s->gb->off.m_procid < 0)
		return 0;
	if (!procmem_u64(&s->pm, m + (uint64_t)s->gb->off.m_procid, &tid) || tid > 4194304)
		return 0;
	return (int)tid;
}

/* How many of the N gs read into BUF (GSIZE bytes each) have a function entry at OFF. */
static size_t gs_entries_at(const struct gsample *s, const uint8_t *buf, size_t n,
			    size_t gsize, int off)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t pc = gs_u64(buf + i * gsize + (size_t)off);
		long fi;
		struct pclntab_func f;

		if (pc <= s->bias)
			continue;
		fi = pclntab_find(s->gb->pcln, pc - s->bias);
		if (fi >= 0 && pclntab_func_at(s->gb->pcln, (size_t)fi, &f) &&
		    f.entry == pc - s->bias)
			k++;
	}
	return k;
}

int gsample_open_extra(struct gsample *s, pid_t pid, struct gobin *gb, uint64_t bias, char *err,
		       size_t errlen)
{
	if (gsample_open(s, pid, gb, bias, err, errlen) != 0 || gsample_extra(s, err, errlen) != 0) {
		gsample_close(s);
		return -1;
	}
	return 0;
}

int gsample_extra(struct gsample *s, char *err, size_t errlen)
{
	enum { SCAN_LO = 0xc0, SCAN_HI = 0x1a0 };
	struct gowait_offsets *w = &s->wo;
	struct gsample_g *gs;
	size_t n, live = 0, good;
	int top;

	if (s->extra)
		return 0;
	gowait_offsets(s->gb, w);
	top = gs_max(w->g_waiting + 8, w->g_startpc + 8);
	top = gs_max(top, w->g_gopc + 8);
	if (strcmp(w->source, "dwarf") != 0)
		top = gs_max(top, SCAN_HI + 0x20); /* room to search */
	if ((size_t)top > s->gsize)
		s->gsize = ((size_t)top + 7) & ~(size_t)7;
	if (strcmp(w->source, "dwarf") == 0) {
		s->extra = true;
		return 0;
	}
	/* Check startpc on the live process: gstatus filters dead gs. */
	if (gsample_snapshot(s, &gs, &n) != 0) {
		snprintf(err, errlen, "cannot read the goroutines of pid %d", (int)s->pid);
		return -1;
	}
	/* The live gs read again, whole (one batched read), to look at their words. */
	uint8_t *raw = malloc(n * s->gsize + 1), *packed;
	uint64_t *addr = calloc(n + 1, sizeof(*addr));
	bool *ok = calloc(n + 1, sizeof(*ok));

	if (!raw || !addr || !ok) {
		free(raw);
		free(addr);
		free(ok);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		addr[i] = gs[i].gaddr;
	procmem_readmany(&s->pm, addr, n, s->gsize, raw, ok);
	packed = raw;
	for (size_t i = 0; i < n; i++) {
		if (!ok[i])
			continue;
		if (packed != raw + i * s->gsize)
			memmove(packed, raw + i * s->gsize, s->gsize);
		packed += s->gsize;
		live++;
	}
	free(addr);
	free(ok);
	good = gs_entries_at(s, raw, live, s->gsize, w->g_startpc);
	if (live && good * 10 < live * 9) {
		int best = -1;
		size_t bestn = 0;

		for (int off = SCAN_LO; off <= SCAN_HI; off += 8) {
			size_t k = gs_entries_at(s, raw, live, s->gsize, off);

			if (k > bestn) {
				bestn = k;
				best = off;
			}
		}
		if (best < 0 || bestn * 10 < live * 9) {
			free(raw);
			snprintf(err, errlen,
				 "cannot find g.startpc in %s (%zu of %zu goroutines checked)",
				 gobin_go_version(s->gb), good, live);
			return -1;
		}
		w->g_startpc = best;
		w->g_gopc = best - 0x10;
		w->g_waiting = best + 0x10;
		if (w->g_parentgoid >= 0)
			w->g_parentgoid = best - 0x18;
		w->source = "table, startpc searched";
	}
	free(raw);
	s->extra = true;
	return 0;
}
