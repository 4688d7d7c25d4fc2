/*
 * watched.bpf.h: `watched`, the goroutines with a watched call in flight
 * ({tgid, g} -> {goid, entry time}). funclat.bpf.c fills it at a call's
 * entry and empties it at its return; why.bpf.c reads it at every context
 * switch (user space gives why's object funclat's map fd).
 */
#ifndef GOSCOPE_BPF_LIB_WATCHED_BPF_H
#define GOSCOPE_BPF_LIB_WATCHED_BPF_H

#include "../funclat.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FL_MAX_GOROUTINES);
	__type(key, struct fl_gkey);
	__type(value, struct fl_watch);
} watched SEC(".maps");

#endif
