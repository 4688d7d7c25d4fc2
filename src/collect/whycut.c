/*
 * whycut: one call's wall time cut into parts. See whycut.h for the rules.
 */
#include "../core/mem.h"
#include "whycut.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "../bpf/why.h"
#include "../proc/names.h"

static bool whycut_has(const char *s, const char *sub)
{
	return s && strstr(s, sub) != NULL;
}

const char *whycut_wait_cause(const char *reason, const char *stack_hint, char *buf, size_t len)
{
	if (!reason || !*reason)
		return "wait";
	if (whycut_has(reason, "Mutex"))
		return "lock";
	if (whycut_has(reason, "WaitGroup"))
		return "waitgroup";
	if (whycut_has(reason, "semacquire")) {
		if (whycut_has(stack_hint, "sync.(*Mutex)") || whycut_has(stack_hint, "sync.(*RWMutex)"))
			return "lock";
		if (whycut_has(stack_hint, "sync.(*WaitGroup)"))
			return "waitgroup";
		return "semacquire";
	}
	if (!strncmp(reason, "chan ", 5))
		return "chan";
	if (!strncmp(reason, "select", 6))
		return "select";
	if (!strcmp(reason, "IO wait"))
		return "io_wait";
	if (!strcmp(reason, "sleep"))
		return "sleep";
	if (whycut_has(reason, "Cond.Wait"))
		return "cond";
	if (!strncmp(reason, "GC assist", 9))
		return "gc_assist";
	snprintf(buf, len, "wait:%s", reason);
	for (char *p = buf; *p; p++)
		if (*p == ' ')
			*p = '_';
	return buf;
}

const char *whycut_kind_cause(uint32_t kind, int64_t nr, char *buf, size_t len)
{
	char nb[32];

	switch (kind) {
	case WHY_K_RUNQ:
		return "runq";
	case WHY_K_THROTTLED:
		return "cfs_throttled";
	case WHY_K_SYSCALL:
		if (nr < 0)
			return "syscall";
		snprintf(buf, len, "syscall:%s", names_syscall((uint32_t)nr, nb, sizeof(nb)));
		return buf;
	case WHY_K_FAULT:
		return "major_fault";
	default:
		return "kernel_sleep";
	}
}

static int whycut_u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int whycut_kint_cmp(const void *a, const void *b)
{
	const struct whycut_kint *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int whycut_part_cmp(const void *a, const void *b)
{
	const struct why_part *x = a, *y = b;

	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : strcmp(x->cause, y->cause);
}

static size_t whycut_part_of(struct whycut_out *o, const char *cause)
{
	for (size_t i = 0; i < o->nparts; i++)
		if (!strcmp(o->parts[i].cause, cause))
			return i;
	if (o->nparts == WHY_MAX_PARTS)
		return WHY_MAX_PARTS - 1; /* the last slot takes the rest */
	snprintf(o->parts[o->nparts].cause, WHY_CAUSE_LEN, "%s", cause);
	o->parts[o->nparts].ns = 0;
	return o->nparts++;
}

static void whycut_add(struct whycut_out *o, uint64_t s, uint64_t e, const char *cause, uint32_t ep)
{
	size_t p;

	if (e <= s)
		return;
	p = whycut_part_of(o, cause);
	o->parts[p].ns += e - s;
	if (ep) {
		o->cur_ep_ns = o->cur_ep == ep ? o->cur_ep_ns + (e - s) : e - s;
		o->cur_ep = ep;
		if (o->cur_ep_ns > o->longest_ep_ns) {
			o->longest_ep_ns = o->cur_ep_ns;
			o->longest_ep = ep;
		}
	}
	if (o->nsegs && o->segs[o->nsegs - 1].part == p && o->segs[o->nsegs - 1].end == s) {
		o->segs[o->nsegs - 1].end = e;
		return;
	}
	if (!mem_grow((void **)&o->segs, &o->capsegs, o->nsegs + 1, sizeof(*o->segs)))
		return;
	o->segs[o->nsegs++] = (struct why_seg){ s, e, (uint16_t)p };
}

static bool whycut_same(const struct whycut_sample *a, const struct whycut_sample *b)
{
	return a->status == b->status && a->reason == b->reason && a->seq == b->seq && a->seq >= 0;
}

static bool whycut_in_span(const struct whycut_span *sp, size_t n, uint64_t t)
{
	for (size_t j = 0; j < n; j++)
		if (t >= sp[j].start && t < sp[j].end)
			return true;
	return false;
}

/* How many of the N spans contain T. */
static size_t whycut_in_spans(const struct whycut_span *sp, size_t n, uint64_t t)
{
	size_t k = 0;

	for (size_t j = 0; j < n; j++)
		k += t >= sp[j].start && t < sp[j].end;
	return k;
}

/* A point of the timeline: a sample, or the call's running edge (s NULL). */
struct whycut_pt {
	uint64_t ts;
	const struct whycut_sample *s;
	uint64_t lo, hi; /* its reach */
};

/* Sort the parts (largest first) and point the segments at their new places. */
static void whycut_sort(struct whycut_out *o)
{
	struct why_part old[WHY_MAX_PARTS];
	uint16_t map[WHY_MAX_PARTS];

	memcpy(old, o->parts, sizeof(old));
	qsort(o->parts, o->nparts, sizeof(o->parts[0]), whycut_part_cmp);
	for (size_t i = 0; i < o->nparts; i++)
		for (size_t j = 0; j < o->nparts; j++)
			if (!strcmp(o->parts[j].cause, old[i].cause)) {
				map[i] = (uint16_t)j;
				break;
			}
	for (size_t i = 0; i < o->nsegs; i++)
		o->segs[i].part = map[o->segs[i].part];
}

int whycut(const struct whycut_in *in, struct whycut_out *o)
{
	uint64_t S = in->start, E = in->end, reach = in->reach_ns;
	struct whycut_pt *pt = NULL;
	struct whycut_kint *ks = NULL;
	uint64_t *b = NULL;
	size_t np = 0, nks = 0, nb = 0, kp = 0, sp = 0, i;
	char kb[WHY_CAUSE_LEN], sysname[WHY_CAUSE_LEN] = "";
	int rc = -1;

	if (E < S)
		return -1;
	pt = calloc(in->ns + 2, sizeof(*pt));
	ks = calloc(in->nk + 1, sizeof(*ks));
	b = calloc(2 * (in->ns + 2) + 4 * in->nk + 2 * in->nstw + 2 * in->nthr + 2 * in->nrq + 2,
		   sizeof(*b));
	if (!pt || !ks || !b)
		goto out;
	/* The points: the running edges and the samples strictly inside. */
	pt[np++] = (struct whycut_pt){ .ts = S };
	for (i = 0; i < in->ns; i++)
		if (in->s[i].ts > S && in->s[i].ts < E)
			pt[np++] = (struct whycut_pt){ .ts = in->s[i].ts, .s = &in->s[i] };
	pt[np++] = (struct whycut_pt){ .ts = E };
	o->samples = np - 2;
	pt[0].lo = S;
	for (i = 0; i + 1 < np; i++) {
		struct whycut_pt *a = &pt[i], *z = &pt[i + 1];
		uint64_t gap = z->ts - a->ts;

		if (a->s && z->s && whycut_same(a->s, z->s)) {
			a->hi = z->lo = z->ts; /* nothing changed in between */
		} else if (gap <= 2 * reach) {
			a->hi = z->lo = a->ts + gap / 2;
		} else {
			a->hi = a->ts + reach;
			z->lo = z->ts - reach;
		}
	}
	pt[np - 1].hi = E;
	/* The kernel's intervals inside the call, by start. */
	for (i = 0; i < in->nk; i++)
		if (in->k[i].end > S && in->k[i].start < E)
			ks[nks++] = in->k[i];
	qsort(ks, nks, sizeof(*ks), whycut_kint_cmp);
	/* Every boundary, sorted. */
	for (i = 0; i < np; i++) {
		b[nb++] = pt[i].lo;
		b[nb++] = pt[i].hi;
	}
	for (i = 0; i < nks; i++) {
		b[nb++] = ks[i].start;
		if (ks[i].wake)
			b[nb++] = ks[i].wake;
		b[nb++] = ks[i].end;
		if (ks[i].thr)
			b[nb++] = ks[i].thr < ks[i].end - ks[i].start ? ks[i].end - ks[i].thr : ks[i].start;
	}
	for (i = 0; i < in->nstw; i++) {
		b[nb++] = in->stw[i].start;
		b[nb++] = in->stw[i].end;
	}
	for (i = 0; i < in->nthr; i++) {
		b[nb++] = in->thr[i].start;
		b[nb++] = in->thr[i].end;
	}
	for (i = 0; i < in->nrq; i++) {
		b[nb++] = in->rq[i].start;
		b[nb++] = in->rq[i].end;
	}
	for (i = 0; i < nb; i++)
		b[i] = b[i] < S ? S : b[i] > E ? E : b[i];
	qsort(b, nb, sizeof(*b), whycut_u64cmp);
	/* On-CPU time in a system call is named after the call's first named one. */
	for (i = 0; i < nks && !sysname[0]; i++)
		if (ks[i].kind == WHY_K_SYSCALL && ks[i].nr >= 0)
			snprintf(sysname, sizeof(sysname), "%s",
				 whycut_kind_cause(ks[i].kind, ks[i].nr, kb, sizeof(kb)));
	/* Label each elementary segment by its middle. */
	for (i = 0; i + 1 < nb; i++) {
		uint64_t a = b[i], z = b[i + 1], mid = a + (z - a) / 2;
		char cause[WHY_CAUSE_LEN] = "unexplained";
		uint32_t ep = 0;

		if (z <= a)
			continue;
		while (kp < nks && ks[kp].end <= mid)
			kp++;
		if (kp < nks && mid >= ks[kp].start) {
			const struct whycut_kint *k = &ks[kp];

			if (k->thr && mid >= k->end - (k->thr < k->end - k->start ? k->thr : k->end - k->start))
				snprintf(cause, sizeof(cause), "cfs_throttled");
			else if (k->wake && mid >= k->wake)
				snprintf(cause, sizeof(cause), "%s",
					 k->wake_throttled ? "cfs_throttled" : "runq");
			else
				snprintf(cause, sizeof(cause), "%s",
					 whycut_kind_cause(k->kind, k->nr, kb, sizeof(kb)));
			if (k->kind == WHY_K_SYSCALL && k->nr >= 0)
				snprintf(sysname, sizeof(sysname), "%s",
					 whycut_kind_cause(k->kind, k->nr, kb, sizeof(kb)));
		} else {
			while (sp + 1 < np && mid >= pt[sp].hi)
				sp++;
			if (mid >= pt[sp].lo && mid < pt[sp].hi) {
				if (pt[sp].s) {
					in->label(pt[sp].s, in->arg, cause, sizeof(cause));
					ep = pt[sp].s->ep;
				} else {
					snprintf(cause, sizeof(cause), "on_cpu");
				}
			}
			if (!strcmp(cause, "runnable")) {
				if (whycut_in_span(in->thr, in->nthr, mid))
					snprintf(cause, sizeof(cause), "cfs_throttled");
				else if (whycut_in_spans(in->rq, in->nrq, mid) >=
					 (in->rq_min ? in->rq_min : 1))
					snprintf(cause, sizeof(cause), "runq");
			}
			if (!strcmp(cause, "on_cpu") || !strcmp(cause, "runnable"))
				for (size_t j = 0; j < in->nstw; j++)
					if (mid >= in->stw[j].start && mid < in->stw[j].end) {
						snprintf(cause, sizeof(cause), "gc_stw");
						break;
					}
		}
		if (!strcmp(cause, "syscall") && sysname[0])
			snprintf(cause, sizeof(cause), "%s", sysname);
		whycut_add(o, a, z, cause, ep);
	}
	/* The threads' time off CPU, for the timeline. */
	for (i = 0; i < nks; i++) {
		if (!mem_grow((void **)&o->koffs, &o->capkoffs, o->nkoffs + 1, sizeof(*o->koffs)))
			break;
		o->koffs[o->nkoffs] =
			(struct why_koff){ ks[i].tid, ks[i].start, ks[i].wake, ks[i].end, "" };
		snprintf(o->koffs[o->nkoffs].cause, WHY_CAUSE_LEN, "%s",
			 whycut_kind_cause(ks[i].kind, ks[i].nr, kb, sizeof(kb)));
		o->nkoffs++;
	}
	whycut_sort(o);
	rc = 0;
out:
	free(pt);
	free(ks);
	free(b);
	return rc;
}

void whycut_free(struct whycut_out *o)
{
	free(o->segs);
	free(o->koffs);
	o->segs = NULL;
	o->koffs = NULL;
	o->nsegs = o->nkoffs = o->capsegs = o->capkoffs = 0;
}
