/*
 * goruntime: runtime struct offsets, from DWARF or from a per-release
 * table (GO-INTERNALS.md, measured from each toolchain's DWARF).
 */
#include "goruntime.h"

#include "elfimg.h"

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
	 * the offset after g.tracking) in released binaries: 1.17.2, 1.20.4,
	 * 1.22.4-5, 1.23.12, 1.25.7, 1.26.5 (esbuild test binaries), 1.19.8
	 * also from DWARF. 1.18 lies between two identical layouts. 1.21 and
	 * 1.24 were not checked: left unknown (waits then matched by
	 * registers alone).
	 */
	if (minor >= 17 && minor <= 20)
		o->g_trackingseq = 0xbd;
	else if (minor == 22 || minor == 25 || minor == 26)
		o->g_trackingseq = 0xbf;
	else if (minor == 23)
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

/* DW_AT_data_member_location of a member DIE, or -1. */
static int goruntime_member_off(Dwarf_Die *m)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (!dwarf_attr(m, DW_AT_data_member_location, &a))
		return -1;
	if (dwarf_formudata(&a, &w) != 0 || w > 1u << 20)
		return -1;
	return (int)w;
}

/* Offset of member NAME in struct DIE S, or -1. */
static int goruntime_member(Dwarf_Die *s, const char *name)
{
	Dwarf_Die m;

	if (dwarf_child(s, &m) != 0)
		return -1;
	do {
		const char *n;

		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		n = dwarf_diename(&m);
		if (n && strcmp(n, name) == 0)
			return goruntime_member_off(&m);
	} while (dwarf_siblingof(&m, &m) == 0);
	return -1;
}

struct goruntime_dies {
	Dwarf_Die g, m, gobuf;
	bool have_g, have_m, have_gobuf;
};

static void goruntime_find_structs(Dwarf *dw, struct goruntime_dies *d)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	while (!(d->have_g && d->have_m && d->have_gobuf) &&
	       dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				const char *n;

				if (dwarf_tag(&die) != DW_TAG_structure_type)
					continue;
				n = dwarf_diename(&die);
				if (!n || strncmp(n, "runtime.", 8) != 0)
					continue;
				if (!d->have_g && strcmp(n, "runtime.g") == 0) {
					d->g = die;
					d->have_g = true;
				} else if (!d->have_m && strcmp(n, "runtime.m") == 0) {
					d->m = die;
					d->have_m = true;
				} else if (!d->have_gobuf && strcmp(n, "runtime.gobuf") == 0) {
					d->gobuf = die;
					d->have_gobuf = true;
				}
			} while (dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
}

bool goruntime_offsets_dwarf(struct elfimg *img, struct goruntime_offsets *o)
{
	struct goruntime_dies d = { 0 };
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
	goruntime_find_structs(dw, &d);
	ok = d.have_g && d.have_m && d.have_gobuf;
	if (ok) {
		memset(o, 0xff, sizeof(*o)); /* every int field -1 */
		o->source = "dwarf";
		stack = goruntime_member(&d.g, "stack");
		o->g_stack_lo = stack;
		/* stack is {lo, hi uintptr}: hi is one pointer after lo. */
		o->g_stack_hi = stack >= 0 ? stack + elfimg_ptrsize(img) : -1;
		o->g_m = goruntime_member(&d.g, "m");
		o->g_sched = goruntime_member(&d.g, "sched");
		o->g_syscallsp = goruntime_member(&d.g, "syscallsp");
		o->g_syscallpc = goruntime_member(&d.g, "syscallpc");
		o->g_syscallbp = goruntime_member(&d.g, "syscallbp");
		o->g_atomicstatus = goruntime_member(&d.g, "atomicstatus");
		o->g_goid = goruntime_member(&d.g, "goid");
		o->g_waitsince = goruntime_member(&d.g, "waitsince");
		o->g_waitreason = goruntime_member(&d.g, "waitreason");
		o->g_trackingseq = goruntime_member(&d.g, "trackingSeq");
		o->m_g0 = goruntime_member(&d.m, "g0");
		o->m_procid = goruntime_member(&d.m, "procid");
		o->m_curg = goruntime_member(&d.m, "curg");
		o->gobuf_sp = goruntime_member(&d.gobuf, "sp");
		o->gobuf_pc = goruntime_member(&d.gobuf, "pc");
		o->gobuf_ret = goruntime_member(&d.gobuf, "ret");
		o->gobuf_lr = goruntime_member(&d.gobuf, "lr");
		o->gobuf_bp = goruntime_member(&d.gobuf, "bp");
		ok = o->g_sched >= 0 && o->g_goid >= 0 && o->g_atomicstatus >= 0 &&
		     o->m_curg >= 0 && o->gobuf_sp >= 0 && o->gobuf_pc >= 0 &&
		     o->gobuf_bp >= 0 && o->g_waitreason >= 0;
	}
	dwarf_end(dw);
	elf_end(elf);
	return ok;
}
