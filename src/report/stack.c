/*
 * stack: symbolize and print captured Go stacks (see stack.h).
 */
#include "stack.h"

#include "../gobin/gobin.h"
#include "../output/jsonw.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define STACK_MAX_INLINE 16

size_t stack_symbolize(struct gobin *gb, uint64_t bias, const uint64_t *pcs, size_t n,
		       unsigned flags, struct stack_frame *out, size_t max)
{
	struct pclntab_frame fr[STACK_MAX_INLINE];
	size_t k = 0;
	bool lead = (flags & STACK_SKIP_RUNTIME) != 0;

	for (size_t i = 0; i < n && k < max; i++) {
		/* A return address is one past its call: look up the call. */
		uint64_t pc = pcs[i] - bias - ((i == 0 && (flags & STACK_PC_FIRST)) ? 0 : 1);
		int m = gb ? pclntab_symbolize(gb->pcln, pc, fr, STACK_MAX_INLINE) : 0;
		const char *phys;

		if (m == 0) {
			out[k++] = (struct stack_frame){ "?", "?", 0, pcs[i], false, false };
			break;
		}
		phys = fr[m - 1].func;
		if (strcmp(phys, "runtime.goexit") == 0 || strcmp(phys, "runtime.mstart") == 0)
			break;
		for (int j = 0; j < m && k < max; j++) {
			/* The reason already says what the runtime does: skip to user code. */
			if (lead && strncmp(fr[j].func, "runtime.", 8) == 0 && i + 1 < n)
				continue;
			lead = false;
			out[k++] = (struct stack_frame){ fr[j].func, fr[j].file, fr[j].line, pcs[i],
							 fr[j].inlined, true };
		}
		if (strcmp(phys, "runtime.mcall") == 0 || strcmp(phys, "runtime.systemstack") == 0 ||
		    strcmp(phys, "runtime.morestack") == 0)
			break;
	}
	return k;
}

/* Frames into a heap array (the caller frees); *N set. */
static struct stack_frame *stack_frames(struct gobin *gb, uint64_t bias, const uint64_t *pcs,
					size_t n, unsigned flags, size_t *nf)
{
	struct stack_frame *f = calloc(STACK_MAX_FRAMES, sizeof(*f));

	*nf = f ? stack_symbolize(gb, bias, pcs, n, flags, f, STACK_MAX_FRAMES) : 0;
	return f;
}

static void stack_print_frame(FILE *out, const struct stack_frame *f, const char *indent)
{
	if (f->known)
		fprintf(out, "%s%s  %s:%d\n", indent, f->func, f->file, f->line);
	else
		fprintf(out, "%s0x%" PRIx64 " ?\n", indent, f->pc);
}

void stack_print(FILE *out, struct gobin *gb, uint64_t bias, const uint64_t *pcs, size_t n,
		 unsigned flags, size_t maxf, const char *indent)
{
	size_t nf, head = 0, tail = 0;
	struct stack_frame *f = stack_frames(gb, bias, pcs, n, flags, &nf);

	if (!f)
		return;
	if (maxf == 0 || nf <= maxf) {
		head = nf;
	} else {
		tail = maxf > 6 ? 3 : 0;
		head = maxf - tail;
	}
	for (size_t i = 0; i < head; i++)
		stack_print_frame(out, &f[i], indent);
	if (head + tail < nf)
		fprintf(out, "%s(%zu frames elided)\n", indent, nf - head - tail);
	for (size_t i = nf - tail; i < nf; i++)
		stack_print_frame(out, &f[i], indent);
	if (flags & STACK_TRUNCATED)
		fprintf(out, "%s(deeper frames not captured)\n", indent);
	free(f);
}

void stack_json(struct jsonw *w, struct gobin *gb, uint64_t bias, const uint64_t *pcs,
		size_t n, unsigned flags)
{
	size_t nf;
	struct stack_frame *f = stack_frames(gb, bias, pcs, n, flags, &nf);
	char loc[600];

	jsonw_key(w, "stack");
	jsonw_arr_begin(w);
	for (size_t i = 0; f && i < nf; i++) {
		if (f[i].known)
			snprintf(loc, sizeof(loc), "%s %s:%d", f[i].func, f[i].file, f[i].line);
		else
			snprintf(loc, sizeof(loc), "0x%" PRIx64, f[i].pc);
		jsonw_str(w, loc);
	}
	jsonw_arr_end(w);
	free(f);
}

void stack_print_dump(FILE *out, struct gobin *gb, uint64_t bias, const uint64_t *pcs,
		      size_t n, unsigned flags)
{
	size_t nf;
	struct stack_frame *f = stack_frames(gb, bias, pcs, n, flags, &nf);

	for (size_t i = 0; f && i < nf; i++) {
		if (!f[i].known) {
			fprintf(out, "?()\n\t?:0 pc=0x%" PRIx64 "\n", f[i].pc);
			continue;
		}
		fprintf(out, "%s(%s)\n\t%s:%d", f[i].func, f[i].inlined ? "..." : "", f[i].file,
			f[i].line);
		if (!f[i].inlined)
			fprintf(out, " pc=0x%" PRIx64, f[i].pc);
		fputc('\n', out);
	}
	free(f);
}

void stack_folded_name(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(*s == ';' ? ':' : *s, out);
}

size_t stack_folded(FILE *out, struct gobin *gb, uint64_t bias, const uint64_t *pcs, size_t n,
		    unsigned flags)
{
	size_t nf;
	struct stack_frame *f = stack_frames(gb, bias, pcs, n, flags, &nf);

	for (size_t i = nf; f && i-- > 0;) {
		if (i + 1 < nf)
			fputc(';', out);
		if (f[i].known)
			stack_folded_name(out, f[i].func);
		else
			fprintf(out, "0x%" PRIx64, f[i].pc);
	}
	free(f);
	return nf;
}

bool stack_matches(struct gobin *gb, uint64_t bias, const uint64_t *pcs, size_t n,
		   unsigned flags, const char *sub)
{
	size_t nf;
	struct stack_frame *f;
	bool hit = false;

	if (!sub)
		return true;
	f = stack_frames(gb, bias, pcs, n, flags, &nf);
	for (size_t i = 0; f && i < nf && !hit; i++)
		hit = strstr(f[i].func, sub) || strstr(f[i].file, sub);
	free(f);
	return hit;
}
