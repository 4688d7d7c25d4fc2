/*
 * mem.h: the growable array every module needs: mem_grow(&p, &cap, need,
 * sizeof(*p)) makes room for NEED elements, doubling the capacity.
 */
#ifndef GOSCOPE_CORE_MEM_H
#define GOSCOPE_CORE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/* Room for NEED elements of ELEM bytes in *P (capacity *CAP). False: out of memory, *P kept. */
static inline bool mem_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

#endif
