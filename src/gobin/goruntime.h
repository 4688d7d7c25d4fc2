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

/*
 * Offsets of struct members named by a type ("runtime.workType") and a
 * member path ("tEnd", or "assistTime.v" through nested structs), read
 * from DWARF in one pass: OUT[i] is REQ[i]'s byte offset, or -1 when the
 * binary has no DWARF, no such type or no such member. Returns how many
 * were found.
 */
struct goruntime_member_req {
	const char *type;
	const char *path;
};
int goruntime_dwarf_members(struct elfimg *img, const struct goruntime_member_req *req, size_t n,
			    int *out);

/*
 * The garbage collector's own figures of one cycle, as the runtime keeps
 * them (what GODEBUG=gctrace=1 prints at the end of gcMarkTermination):
 * members of runtime.work, runtime.gcController and runtime.m, at offsets
 * from DWARF or from the per-release table.
 */
enum goruntime_gcf {
	GCF_CYCLES,      /* work.cycles (uint32): gctrace's "gc N" */
	GCF_TSWEEPTERM,  /* work.tSweepTerm (nanotime) */
	GCF_TMARK,
	GCF_TMARKTERM,
	GCF_TEND,
	GCF_HEAP0,       /* heap at the start, the end of mark, marked live */
	GCF_HEAP1,
	GCF_HEAP2,
	GCF_MAXPROCS,    /* int32 */
	GCF_STWPROCS,    /* int32 */
	GCF_USERFORCED,  /* bool */
	GCF_HEAPGOAL,    /* gcController.lastHeapGoal */
	GCF_ASSIST,      /* gcController.assistTime: mark assist CPU ns */
	GCF_DEDICATED,   /* dedicatedMarkTime + fractionalMarkTime: background */
	GCF_FRACTIONAL,
	GCF_IDLE,        /* idleMarkTime */
	GCF_HEAPLIVE,    /* gcController.heapLive, maxStackScan, globalsScan: */
	GCF_MAXSTACKSCAN, /* gctrace prints them; they also tell gcController's */
	GCF_GLOBALSSCAN,  /* address apart in a stripped binary */
	GCF_M_PREEMPTOFF, /* m.preemptoff (string): the stop-the-world reason before 1.21 */
	GCF_N
};

enum goruntime_gcvar { GCV_WORK, GCV_GCCONTROLLER, GCV_M };

struct goruntime_gc_field {
	const char *name;  /* "tEnd" (a member path) */
	enum goruntime_gcvar var;
	int size;          /* bytes: 1, 4 or 8 (16: a string header) */
};
extern const struct goruntime_gc_field goruntime_gc_fields[GCF_N];

struct goruntime_gc_offsets {
	const char *source; /* "dwarf", "table" or NULL: unknown */
	int off[GCF_N];     /* -1: not known for this binary */
};

/*
 * The offsets of the GC figures from DWARF (true if the cycle's timing and
 * number were found), or from the table of Go 1.MINOR (true if the release
 * is in the table: only releases checked against DWARF are).
 */
bool goruntime_gc_offsets_dwarf(struct elfimg *img, struct goruntime_gc_offsets *o);
bool goruntime_gc_offsets_table(int minor, struct goruntime_gc_offsets *o);

#endif
