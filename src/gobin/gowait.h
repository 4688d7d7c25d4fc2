/*
 * gowait: the layout of what a parked goroutine waits on, in one Go
 * binary: the creation fields of runtime.g (gopc, startpc, parentGoid),
 * its waiting sudog list (g.waiting), runtime.sudog, runtime.hchan and the
 * semaphore table (runtime.semtable of semaRoot treaps of sudogs), which
 * `goscope leaks` and `goscope contention` read from outside.
 *
 * From DWARF when the binary has it, otherwise from a table per Go release
 * (measured: see gowait.c for which releases were checked and how). The
 * table's g offsets are checked again on the live process by the sampler
 * (gsample_extra: startpc must be a function entry).
 */
#ifndef GOSCOPE_GOWAIT_H
#define GOSCOPE_GOWAIT_H

#include <stdbool.h>
#include <stdint.h>

struct gobin;

/* Byte offsets (64-bit targets); -1 when absent in that release. */
struct gowait_offsets {
	const char *source; /* "dwarf" or "table" */
	bool verified;      /* the release's table was measured (or DWARF) */
	int g_gopc;
	int g_startpc;
	int g_waiting;
	int g_parentgoid;   /* 1.21+ */
	int sudog_g;
	int sudog_next;
	int sudog_prev;
	int sudog_elem;
	int sudog_isselect;
	int sudog_waitlink;
	int sudog_c;
	int sudog_size;     /* bytes to read: up to and including c */
	int hchan_qcount;
	int hchan_dataqsiz;
	int hchan_elemsize; /* uint16 */
	int hchan_closed;   /* uint32 */
	int hchan_size;     /* bytes to read */
	int semaroot_treap;
	int semaroot_nwait;
	int semtable_stride; /* bytes per semtable entry (semaRoot padded to a cache line) */
	int semtable_n;      /* entries (semTabSize) */
};

/*
 * Offsets for GB: DWARF if present (every field found), else the table
 * for its release. Returns false if neither applies (no DWARF and a
 * release before 1.17); O is filled with the best guess anyway.
 */
bool gowait_offsets(struct gobin *gb, struct gowait_offsets *o);

/* The table for Go 1.MINOR (false: not measured for that release). */
bool gowait_offsets_table(int minor, struct gowait_offsets *o);

#endif
