/*
 * maps.bpf.h: map patterns every goscope BPF program uses: lookup-or-init
 * from a zeroed template, counters keyed by anything, the per-CPU drop
 * counters user space prints and the event ring buffer.
 */
#ifndef GOSCOPE_BPF_LIB_MAPS_BPF_H
#define GOSCOPE_BPF_LIB_MAPS_BPF_H

/* `drops`: N per-CPU drop counters (gs_count_drop), which user space sums. */
#define GS_DROPS_MAP(n)                                                                            \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                           \
		__uint(max_entries, (n));                                                          \
		__type(key, __u32);                                                                \
		__type(value, __u64);                                                              \
	} drops SEC(".maps")

/* `events`: the ring buffer of SIZE bytes that streams events to user space. */
#define GS_EVENTS_MAP(size)                                                                        \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_RINGBUF);                                                \
		__uint(max_entries, (size));                                                       \
	} events SEC(".maps")

/*
 * The value at KEY of MAP, inserted from INIT first if absent (INIT: a
 * zeroed value, usually the single slot of a per-CPU array, because values
 * such as histograms are too big for the BPF stack). NULL when the map is
 * full: the caller counts a drop.
 */
static __always_inline void *gs_lookup_or_init(void *map, const void *key, const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	if (!init)
		return NULL;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/*
 * Add one to the __u64 counter of KEY in MAP, inserting it if new. Two CPUs
 * may insert the same new key at once: the loser adds to the winner's.
 * False only when the map is full.
 */
static __always_inline bool gs_count_key(void *map, const void *key)
{
	__u64 one = 1, *v = bpf_map_lookup_elem(map, key);

	if (!v) {
		if (!bpf_map_update_elem(map, key, &one, BPF_NOEXIST))
			return true;
		v = bpf_map_lookup_elem(map, key);
		if (!v)
			return false;
	}
	__sync_fetch_and_add(v, 1);
	return true;
}

/* Count one dropped event of kind WHY in a per-CPU array of counters. */
static __always_inline void gs_count_drop(void *drops, __u32 why)
{
	__u64 *v = bpf_map_lookup_elem(drops, &why);

	if (v)
		*v += 1;
}

#endif
