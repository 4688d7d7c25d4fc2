/*
 * godwarf.h: Go struct layouts from a binary's DWARF (libdw): the DIEs of
 * structs found by name, and their members' offsets. goruntime (g, m,
 * gobuf, the GC's state, net/http's response) and gowait (g, sudog, hchan,
 * semaRoot) read their offsets through it when the binary is not stripped.
 */
#ifndef GOSCOPE_GOBIN_GODWARF_H
#define GOSCOPE_GOBIN_GODWARF_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Find the struct types named NAMES[0..N) ("runtime.g", "net/http.response"...) in DW: DIES[i]
 * and FOUND[i] for each one found (the first of that name). Stops reading
 * compilation units once all are found. Returns how many were found.
 */
size_t godwarf_structs(Dwarf *dw, const char *const *names, size_t n, Dwarf_Die *dies,
		       bool *found);

/* DW_AT_data_member_location of member DIE M, or -1. */
int godwarf_member_off(Dwarf_Die *m);

/* The offset of member NAME in struct DIE S, or -1. */
int godwarf_member(Dwarf_Die *s, const char *name);

#endif
