/*
 * bpfutil: map reading helpers (see bpfutil.h).
 */
#include "bpfutil.h"

#include <bpf/libbpf.h>
#include <stdlib.h>

uint64_t bpfutil_percpu_sum(const struct bpf_map *map, uint32_t key)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v, sum = 0;

	if (ncpu <= 0)
		return 0;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return 0;
	if (bpf_map__lookup_elem(map, &key, sizeof(key), v, (size_t)ncpu * sizeof(*v), 0) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}
