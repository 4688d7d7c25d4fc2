/*
 * bpfutil: small helpers for reading the maps the BPF collectors share.
 */
#ifndef GOSCOPE_BPFUTIL_H
#define GOSCOPE_BPFUTIL_H

#include <stdint.h>

struct bpf_map;

/* Sum over CPUs of the u64 at KEY of a per-CPU array; 0 if unreadable. */
uint64_t bpfutil_percpu_sum(const struct bpf_map *map, uint32_t key);

#endif
