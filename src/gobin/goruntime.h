/*
 * goruntime: the layout of the Go runtime's own structures (runtime.g,
 * runtime.m, runtime.gobuf) in one binary, which tracing needs to read a
 * goroutine's id, status, wait reason and saved registers from outside.
 *
 * From DWARF (libdw) when the binary has it, otherwise from a table per Go
 * release; the tests check the table against DWARF wherever DWARF exists.
 */
#ifndef GOSCOPE_GORUNTIME_H
#define GOSCOPE_GORUNTIME_H

#include <stdbool.h>
#include <stddef.h>

struct elfimg;

/* Byte offsets; -1 when the field does not exist in that release. */
struct goruntime_offsets {
	const char *source; /* "dwarf" or "table" */
	int g_stack_lo;
	int g_stack_hi;
	int g_m;
	int g_sched;
	int g_syscallsp;
	int g_syscallpc;
	int g_syscallbp; /* 1.23+ */
	int g_atomicstatus;
	int g_goid;
	int g_waitsince;
	int g_waitreason;
	int g_trackingseq; /* u8, 1.17+: bumped on every exit from _Grunning */
	int m_g0;
	int m_procid;
	int m_curg;
	int gobuf_sp;
	int gobuf_pc;
	int gobuf_ret; /* gone in 1.25 */
	int gobuf_lr;
	int gobuf_bp;
};

/*
 * Table offsets for 64-bit targets of Go 1.MINOR. Returns false when the
 * release is outside the table (before 1.17, or newer than the newest one
 * known; the newest known layout is still filled in as a best guess).
 */
bool goruntime_offsets_table(int minor, struct goruntime_offsets *o);

/*
 * Offsets from DWARF. Returns true only if every field the table has was
 * found (fields absent from that release stay -1).
 */
bool goruntime_offsets_dwarf(struct elfimg *img, struct goruntime_offsets *o);

/* Print "name=0x.. " pairs, for tests and `info`. */
typedef void (*goruntime_field_fn)(const char *name, int off, void *arg);
void goruntime_offsets_each(const struct goruntime_offsets *o, goruntime_field_fn fn,
			    void *arg);

#endif
