/*
 * goruntime: runtime struct offsets, from DWARF or from a per-release
 * table (GO-INTERNALS.md, measured from each toolchain's DWARF).
 */
#include "goruntime.h"

#include "elfimg.h"
#include "godwarf.h"

#include <elfutils/libdw.h>
#include <dwarf.h>
#include <string.h>

struct goruntime_field {
	const char *name;
	size_t off; /* offsetof in struct goruntime_offsets */
};

#define GR_FIELD(n) { #n, offsetof(struct goruntime_offsets, n) }
static const struct goruntime_field goruntime_fields[] = {
	GR_FIELD(g_stack_lo), GR_FIELD(g_stack_hi), GR_FIELD(g_m),
	GR_FIELD(g_sched), GR_FIELD(g_syscallsp), GR_FIELD(g_syscallpc),
	GR_FIELD(g_syscallbp), GR_FIELD(g_atomicstatus), GR_FIELD(g_goid),
	GR_FIELD(g_waitsince), GR_FIELD(g_waitreason), GR_FIELD(g_trackingseq), GR_FIELD(m_g0),
	GR_FIELD(m_procid), GR_FIELD(m_curg), GR_FIELD(gobuf_sp),
	GR_FIELD(gobuf_pc), GR_FIELD(gobuf_ret), GR_FIELD(gobuf_lr),
	GR_FIELD(gobuf_bp),
};
#define GR_NFIELDS (sizeof(goruntime_fields) / sizeof(goruntime_fields[0]))

void goruntime_offsets_each(const struct goruntime_offsets *o, goruntime_field_fn fn,
			    void *arg)
{
	for (size_t i = 0; i < GR_NFIELDS; i++)
		fn(goruntime_fields[i].name,
		   *(const int *)((const char *)o + goruntime_fields[i].off), arg);
}

bool goruntime_offsets_table(int minor, struct goruntime_offsets *o)
{
	bool known = minor >= 17 && minor <= 27;

	memset(o, 0, sizeof(*o));
	o->source = "table";
	o->g_stack_lo = 0;
	o->g_stack_hi = 8;
	o->g_m = 0x30;
	o->g_sched = 0x38;
	o->m_g0 = 0;
	o->gobuf_sp = 0;
	o->gobuf_pc = 8;
	if (minor <= 22) {
		o->g_syscallsp = 0x70;
		o->g_syscallpc = 0x78;
		o->g_syscallbp = -1;
		o->g_atomicstatus = 0x90;
		o->g_goid = 0x98;
		o->g_waitsince = 0xa8;
		o->g_waitreason = 0xb0;
	} else if (minor <= 24) {
		o->g_syscallsp = 0x70;
		o->g_syscallpc = 0x78;
		o->g_syscallbp = 0x80;
		o->g_atomicstatus = 0x98;
		o->g_goid = 0xa0;
		o->g_waitsince = 0xb0;
		o->g_waitreason = 0xb8;
	} else {
		o->g_syscallsp = 0x68;
		o->g_syscallpc = 0x70;
		o->g_syscallbp = 0x78;
		o->g_atomicstatus = 0x90;
		o->g_goid = 0x98;
		o->g_waitsince = 0xa8;
		o->g_waitreason = 0xb0;
	}
	/*
	 * g.trackingSeq, from the byte casgstatus increments (MOVZX/MOVB at
	 * the offset after g.tracking) in released binaries: 1.17.2, 1.18.3,
	 * 1.20.4, 1.22.4-5, 1.23.12, 1.25.7, 1.26.5 (esbuild test binaries),
	 * 1.21.4 (buf 1.28.1: one byte before 1.20's), 1.24.4 (tsgo: as
	 * 1.23), 1.19.8 also from DWARF.
	 */
	if (minor >= 17 && minor <= 20)
		o->g_trackingseq = 0xbd;
	else if (minor == 21)
		o->g_trackingseq = 0xbc;
	else if (minor == 22 || minor == 25 || minor == 26)
		o->g_trackingseq = 0xbf;
	else if (minor == 23 || minor == 24)
		o->g_trackingseq = 0xc7;
	else
		o->g_trackingseq = -1;
	if (minor <= 24) {
		/* gobuf {sp, pc, g, ctxt, ret, lr, bp}; m.morebuf is a gobuf. */
		o->gobuf_ret = 0x20;
		o->gobuf_lr = 0x28;
		o->gobuf_bp = 0x30;
		o->m_procid = 0x48;
		o->m_curg = 0xc0;
	} else {
		/* 1.25 dropped gobuf.ret: every m field after morebuf moves up 8. */
		o->gobuf_ret = -1;
		o->gobuf_lr = 0x20;
		o->gobuf_bp = 0x28;
		o->m_procid = 0x40;
		o->m_curg = 0xb8;
	}
	return known;
}

bool goruntime_offsets_dwarf(struct elfimg *img, struct goruntime_offsets *o)
{
	static const char *const names[] = { "runtime.g", "runtime.m", "runtime.gobuf" };
	Dwarf_Die d[3];
	bool found[3];
	Dwarf *dw;
	Elf *elf;
	int stack;
	bool ok;

	if (!elfimg_has_dwarf(img))
		return false;
	/* Its own handle: the decompressed DWARF is freed with it below. */
	elf = elfimg_elf_scratch(img);
	if (!elf)
		return false;
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw) {
		elf_end(elf);
		return false;
	}
	ok = godwarf_structs(dw, names, 3, d, found) == 3;
	if (ok) {
		memset(o, 0xff, sizeof(*o)); /* every int field -1 */
		o->source = "dwarf";
		stack = godwarf_member(&d[0], "stack");
		o->g_stack_lo = stack;
		/* stack is {lo, hi uintptr}: hi is one pointer after lo. */
		o->g_stack_hi = stack >= 0 ? stack + elfimg_ptrsize(img) : -1;
		o->g_m = godwarf_member(&d[0], "m");
		o->g_sched = godwarf_member(&d[0], "sched");
		o->g_syscallsp = godwarf_member(&d[0], "syscallsp");
		o->g_syscallpc = godwarf_member(&d[0], "syscallpc");
		o->g_syscallbp = godwarf_member(&d[0], "syscallbp");
		o->g_atomicstatus = godwarf_member(&d[0], "atomicstatus");
		o->g_goid = godwarf_member(&d[0], "goid");
		o->g_waitsince = godwarf_member(&d[0], "waitsince");
		o->g_waitreason = godwarf_member(&d[0], "waitreason");
		o->g_trackingseq = godwarf_member(&d[0], "trackingSeq");
		o->m_g0 = godwarf_member(&d[1], "g0");
		o->m_procid = godwarf_member(&d[1], "procid");
		o->m_curg = godwarf_member(&d[1], "curg");
		o->gobuf_sp = godwarf_member(&d[2], "sp");
		o->gobuf_pc = godwarf_member(&d[2], "pc");
		o->gobuf_ret = godwarf_member(&d[2], "ret");
		o->gobuf_lr = godwarf_member(&d[2], "lr");
		o->gobuf_bp = godwarf_member(&d[2], "bp");
		ok = o->g_sched >= 0 && o->g_goid >= 0 && o->g_atomicstatus >= 0 &&
		     o->m_curg >= 0 && o->gobuf_sp >= 0 && o->gobuf_pc >= 0 &&
		     o->gobuf_bp >= 0 && o->g_waitreason >= 0;
	}
	dwarf_end(dw);
	elf_end(elf);
	return ok;
}

/* Follow DW_AT_type of DIE (skipping typedefs) into OUT. */
static bool goruntime_type_of(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;

	if (!dwarf_attr(die, DW_AT_type, &a) || !dwarf_formref_die(&a, out))
		return false;
	for (int i = 0; i < 8 && dwarf_tag(out) == DW_TAG_typedef; i++)
		if (!dwarf_attr(out, DW_AT_type, &a) || !dwarf_formref_die(&a, out))
			return false;
	return true;
}

/* Offset of the member PATH ("assistTime.v") in struct S, or -1. */
static int goruntime_member_path(Dwarf_Die *s, const char *path)
{
	Dwarf_Die cur = *s, m;
	int total = 0;

	while (*path) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		bool found = false;

		if (dwarf_child(&cur, &m) != 0)
			return -1;
		do {
			const char *n = dwarf_diename(&m);

			if (dwarf_tag(&m) == DW_TAG_member && n && strlen(n) == len &&
			    memcmp(n, path, len) == 0) {
				found = true;
				break;
			}
		} while (dwarf_siblingof(&m, &m) == 0);
		if (!found)
			return -1;
		int off = godwarf_member_off(&m);

		if (off < 0)
			return -1;
		total += off;
		if (!dot)
			return total;
		if (!goruntime_type_of(&m, &cur))
			return -1;
		path = dot + 1;
	}
	return -1;
}

int goruntime_dwarf_members(struct elfimg *img, const struct goruntime_member_req *req, size_t n,
			    int *out)
{
	enum { MAXT = 8 };
	const char *names[MAXT];
	Dwarf_Die dies[MAXT];
	bool have[MAXT] = { false };
	size_t nt = 0, found = 0;
	Dwarf *dw;
	Elf *elf;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		out[i] = -1;
		for (j = 0; j < nt && strcmp(names[j], req[i].type) != 0; j++)
			;
		if (j == nt && nt < MAXT)
			names[nt++] = req[i].type;
	}
	elf = elfimg_has_dwarf(img) ? elfimg_elf_scratch(img) : NULL;
	if (!elf)
		return 0;
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw) {
		elf_end(elf);
		return 0;
	}
	godwarf_structs(dw, names, nt, dies, have);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < nt; j++) {
			if (have[j] && strcmp(names[j], req[i].type) == 0) {
				out[i] = goruntime_member_path(&dies[j], req[i].path);
				break;
			}
		}
		if (out[i] >= 0)
			found++;
	}
	dwarf_end(dw);
	elf_end(elf);
	return (int)found;
}

const struct goruntime_gc_field goruntime_gc_fields[GCF_N] = {
	[GCF_CYCLES] = { "cycles", GCV_WORK, 4 },
	[GCF_TSWEEPTERM] = { "tSweepTerm", GCV_WORK, 8 },
	[GCF_TMARK] = { "tMark", GCV_WORK, 8 },
	[GCF_TMARKTERM] = { "tMarkTerm", GCV_WORK, 8 },
	[GCF_TEND] = { "tEnd", GCV_WORK, 8 },
	[GCF_HEAP0] = { "heap0", GCV_WORK, 8 },
	[GCF_HEAP1] = { "heap1", GCV_WORK, 8 },
	[GCF_HEAP2] = { "heap2", GCV_WORK, 8 },
	[GCF_MAXPROCS] = { "maxprocs", GCV_WORK, 4 },
	[GCF_STWPROCS] = { "stwprocs", GCV_WORK, 4 },
	[GCF_USERFORCED] = { "userForced", GCV_WORK, 1 },
	[GCF_HEAPGOAL] = { "lastHeapGoal", GCV_GCCONTROLLER, 8 },
	[GCF_ASSIST] = { "assistTime", GCV_GCCONTROLLER, 8 }, /* atomic.Int64: value at 0 */
	[GCF_DEDICATED] = { "dedicatedMarkTime", GCV_GCCONTROLLER, 8 },
	[GCF_FRACTIONAL] = { "fractionalMarkTime", GCV_GCCONTROLLER, 8 },
	[GCF_IDLE] = { "idleMarkTime", GCV_GCCONTROLLER, 8 },
	[GCF_HEAPLIVE] = { "heapLive", GCV_GCCONTROLLER, 8 },
	[GCF_MAXSTACKSCAN] = { "maxStackScan", GCV_GCCONTROLLER, 8 },
	[GCF_GLOBALSSCAN] = { "globalsScan", GCV_GCCONTROLLER, 8 },
	[GCF_M_PREEMPTOFF] = { "preemptoff", GCV_M, 16 },
};

static const char *const goruntime_gcvar_type[] = {
	[GCV_WORK] = "runtime.workType",
	[GCV_GCCONTROLLER] = "runtime.gcControllerState",
	[GCV_M] = "runtime.m",
};

bool goruntime_gc_offsets_dwarf(struct elfimg *img, struct goruntime_gc_offsets *o)
{
	struct goruntime_member_req req[GCF_N];

	for (int i = 0; i < GCF_N; i++) {
		req[i].type = goruntime_gcvar_type[goruntime_gc_fields[i].var];
		req[i].path = goruntime_gc_fields[i].name;
	}
	o->source = NULL;
	if (goruntime_dwarf_members(img, req, GCF_N, o->off) <= 0)
		return false;
	if (o->off[GCF_CYCLES] < 0 || o->off[GCF_TSWEEPTERM] < 0 || o->off[GCF_TEND] < 0)
		return false;
	o->source = "dwarf";
	return true;
}

/*
 * Go 1.19 measured from DWARF (tests/unit checks the table against DWARF
 * of amd64, PIE and arm64 builds). Go 1.17, 1.18, 1.20, 1.22, 1.23, 1.25
 * and 1.26 measured on stripped released binaries (esbuild 0.13.15,
 * 0.14.49, 0.17.19, 0.22.0, 0.25.12, 0.27.7, 0.28.2), Go 1.21 on buf
 * 1.28.1 and Go 1.24 on tsgo 7.0.0-dev.20250707.2 (no esbuild was built
 * with either), against GODEBUG=gctrace=1: after a cycle, the
 * words of runtime.work and runtime.gcController found by the values
 * gctrace printed (the phase clocks, the cycle number, the heap figures,
 * the goal, the CPU split), and the whole checked by test_gc_esbuild.
 * m.preemptoff (the pause reason before 1.21): 1.19's DWARF, and where
 * runtime.stopTheWorld stores its reason argument (MOV to 0xf8 and 0x100
 * of g.m) in 1.17.2, 1.18.3 and 1.20.4 (esbuild 0.13.15, 0.14.49, 0.17.19).
 * scripts/gc_offsets_measure.py does such a measurement on a live process.
 * Offsets are the 1.19 numbering moved by what changed around them: the
 * struct bases are found by decoding, so only the fields' distances to one
 * another matter. Other releases are left unknown rather than guessed.
 */
bool goruntime_gc_offsets_table(int minor, struct goruntime_gc_offsets *o)
{
	static const int go119[GCF_N] = {
		[GCF_CYCLES] = 344, [GCF_TSWEEPTERM] = 360, [GCF_TMARK] = 368,
		[GCF_TMARKTERM] = 376, [GCF_TEND] = 384, [GCF_HEAP0] = 408,
		[GCF_HEAP1] = 416, [GCF_HEAP2] = 424, [GCF_MAXPROCS] = 352,
		[GCF_STWPROCS] = 348, [GCF_USERFORCED] = 280, [GCF_HEAPGOAL] = 128,
		[GCF_ASSIST] = 224, [GCF_DEDICATED] = 232, [GCF_FRACTIONAL] = 240,
		[GCF_IDLE] = 248, [GCF_HEAPLIVE] = 136, [GCF_MAXSTACKSCAN] = 168,
		[GCF_GLOBALSSCAN] = 176, [GCF_M_PREEMPTOFF] = 248,
	};

	o->source = NULL;
	for (int i = 0; i < GCF_N; i++)
		o->off[i] = -1;
	if (minor < 17 || minor > 26)
		return false;
	memcpy(o->off, go119, sizeof(go119));
	if (minor == 17) {
		/* workType as 1.19; gcControllerState before the 1.18 pacer (heapGoal, heapLive, ...). */
		o->off[GCF_HEAPGOAL] = 24;
		o->off[GCF_HEAPLIVE] = 32;
		o->off[GCF_ASSIST] = 72;
		o->off[GCF_DEDICATED] = 80;
		o->off[GCF_FRACTIONAL] = 88;
		o->off[GCF_IDLE] = 96;
		o->off[GCF_MAXSTACKSCAN] = -1;
		o->off[GCF_GLOBALSSCAN] = -1;
	}
	if (minor == 18) {
		/*
		 * Go 1.18 (stripped esbuild 0.14.49, against gctrace): the same
		 * workType words as 1.19 (totaltime still after userForced), and
		 * the same gcControllerState words as 1.19 but for the stack
		 * figure. 1.18's mgcpacer.go already has the 1.19 run heapGoal,
		 * lastHeapGoal, heapLive, heapScan, lastHeapScan, then stackScan
		 * (what gctrace prints as "MB stacks"), scannableStackSize,
		 * globalsScan, ... assistTime: its stackScan is the word 1.19
		 * calls lastStackScan, 8 bytes before 1.19's maxStackScan.
		 */
		o->off[GCF_MAXSTACKSCAN] = 160;
	}
	if (minor >= 22) {
		/*
		 * workType without pauseNS (heap0 right after pauseStart); userForced
		 * moved and not pinned down (a forced cycle is still told by
		 * gcStart's trigger). The same gcControllerState words as 1.19.
		 * Go 1.24 (stripped tsgo, against gctrace): the same words as 1.23.
		 */
		o->off[GCF_HEAP0] = 400;
		o->off[GCF_HEAP1] = 408;
		o->off[GCF_HEAP2] = 416;
		o->off[GCF_USERFORCED] = -1;
		o->off[GCF_M_PREEMPTOFF] = -1;
	}
	if (minor == 20 || minor == 21) {
		/*
		 * Go 1.20 (stripped esbuild 0.17.19, against gctrace): workType lost
		 * totaltime (userForced 8 bytes later relative to the rest); the same
		 * gcControllerState words.
		 * Go 1.21 (stripped buf 1.28.1, against gctrace): the same words as
		 * 1.20 (as its mgc.go has it: mode, userForced, initialHeapLive
		 * ... cycles, and pauseNS still between tEnd and heap0). From 1.21
		 * the pause reasons come from stopTheWorldWithSema's argument,
		 * not m.preemptoff.
		 */
		o->off[GCF_USERFORCED] = 288;
		if (minor == 21)
			o->off[GCF_M_PREEMPTOFF] = -1; /* not read from 1.21 on */
	}
	o->source = "table";
	return true;
}
