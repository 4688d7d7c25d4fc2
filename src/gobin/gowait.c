/*
 * gowait: offsets of the runtime's wait structures (see gowait.h), from
 * DWARF or from a per-release table.
 *
 * How the table was measured (amd64):
 * - Go 1.19: DWARF of Debian go1.19.8 builds (tests/unit checks the table
 *   against it): g.gopc 0x128, g.startpc 0x138, g.waiting 0x148; sudog
 *   {g 0, next 8, prev 0x10, elem 0x18, isSelect 0x34, waitlink 0x40,
 *   c 0x50}; hchan {qcount 0, dataqsiz 8, elemsize 0x18, closed 0x1c};
 *   semaRoot {lock 0, treap 8, nwait 0x10}, semtable 251 x 64 bytes.
 * - Go 1.17, 1.20, 1.22, 1.23, 1.25, 1.26 (esbuild 0.13.15 .. 0.28.2, no
 *   DWARF): g.startpc is the one word of every live g that is a function
 *   entry, and gopc the word 16 bytes before it (the runtime's "created
 *   by" frames of their SIGQUIT dumps agree: tests/e2e/test_leaks_real.sh).
 *   The same on Go 1.18 (esbuild 0.14.49), 1.21 (buf 1.28.1: 0x128, 24
 *   bytes before the 0x140 once interpolated; parentGoid, 0x18 before it,
 *   equals the "in goroutine N" of the SIGQUIT dump for 161 goroutines)
 *   and 1.24 (tsgo 7.0.0-dev.20250707.2): every live g holds a function
 *   entry there and a non-entry PC 16 bytes before. The sampler checks
 *   startpc on the live process and searches for it when the check fails.
 * - g.waiting follows startpc by 16 bytes (racectx between) and
 *   parentGoid (1.21+) precedes gopc in every release's runtime2.go; the
 *   sampler checks each sudog it reads points back to its g.
 * - sudog has not moved from 1.17 to 1.25 (1.24's sudog.waiters fits the
 *   padding after success); 1.26 inserted 8 bytes before parent: c is at
 *   0x58 (measured: the sudog of a goroutine in chan receive, whose g
 *   field points back to it, has the hchan there), waitlink at 0x48 by
 *   the same shift (not measured). The first 0x20 bytes of hchan have not
 *   moved since 1.17 (1.23 added hchan.timer after closed).
 */
#include "gowait.h"

#include "elfimg.h"
#include "gobin.h"
#include "godwarf.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

bool gowait_offsets_table(int minor, struct gowait_offsets *o)
{
	static const struct {
		int minor, startpc;
		bool measured;
	} gw_startpc[] = {
		{ 17, 0x138, true }, { 18, 0x138, true }, { 19, 0x138, true },
		{ 20, 0x138, true }, { 21, 0x128, true }, { 22, 0x128, true },
		{ 23, 0x130, true }, { 24, 0x130, true }, { 25, 0x128, true },
		{ 26, 0x130, true },
	};
	size_t n = sizeof(gw_startpc) / sizeof(gw_startpc[0]);
	int startpc = gw_startpc[n - 1].startpc;
	bool known = false;

	for (size_t i = 0; i < n; i++)
		if (gw_startpc[i].minor == minor) {
			startpc = gw_startpc[i].startpc;
			known = gw_startpc[i].measured;
		}
	memset(o, 0, sizeof(*o));
	o->source = "table";
	o->verified = known;
	o->g_startpc = startpc;
	o->g_gopc = startpc - 0x10;
	o->g_waiting = startpc + 0x10;
	o->g_parentgoid = minor >= 21 ? startpc - 0x18 : -1;
	o->sudog_g = 0;
	o->sudog_next = 0x08;
	o->sudog_prev = 0x10;
	o->sudog_elem = 0x18;
	o->sudog_isselect = 0x34;
	o->sudog_waitlink = 0x40;
	o->sudog_c = 0x50;
	o->sudog_size = 0x58;
	o->hchan_qcount = 0;
	o->hchan_dataqsiz = 0x08;
	o->hchan_elemsize = 0x18;
	o->hchan_closed = 0x1c;
	o->hchan_size = 0x20;
	if (minor >= 26) {
		/* 1.26 added 8 bytes after sudog.waiters (esbuild 0.28.2: c at 0x58). */
		o->sudog_waitlink = 0x48;
		o->sudog_c = 0x58;
		o->sudog_size = 0x60;
	}
	o->semaroot_treap = 0x08;
	o->semaroot_nwait = 0x10;
	o->semtable_stride = 64;
	o->semtable_n = 251;
	return known && minor >= 17;
}

/* One member to look up: STRUCT.MEMBER into *DST. */
struct gw_want {
	const char *st, *member;
	int *dst;
};

static bool gw_dwarf(struct gobin *gb, const struct gw_want *w, size_t n)
{
	static const char *const structs[] = { "runtime.g", "runtime.sudog", "runtime.hchan",
					       "runtime.semaRoot" };
	Dwarf_Die dies[4];
	bool found[4];
	size_t nfound;
	Dwarf *dw;
	Elf *elf;
	int fd;

	if (!elfimg_has_dwarf(gb->img) || !gb->path)
		return false;
	/*
	 * A handle of its own on the file: libdw decompresses .debug_*
	 * sections through the handle it is given, and the image's buffer
	 * was already used for that by goruntime_offsets_dwarf.
	 */
	fd = open(gb->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		close(fd);
		return false;
	}
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw) {
		elf_end(elf);
		close(fd);
		return false;
	}
	nfound = godwarf_structs(dw, structs, 4, dies, found);
	for (size_t k = 0; k < 4; k++)
		for (size_t i = 0; found[k] && i < n; i++)
			if (strcmp(w[i].st, structs[k]) == 0)
				*w[i].dst = godwarf_member(&dies[k], w[i].member);
	dwarf_end(dw);
	elf_end(elf);
	close(fd);
	return nfound == 4;
}

bool gowait_offsets(struct gobin *gb, struct gowait_offsets *o)
{
	struct gowait_offsets d;
	bool table = gowait_offsets_table(gb->version_known ? gb->go_minor : 0, o);
	const struct gw_want want[] = {
		{ "runtime.g", "gopc", &d.g_gopc },
		{ "runtime.g", "startpc", &d.g_startpc },
		{ "runtime.g", "waiting", &d.g_waiting },
		{ "runtime.g", "parentGoid", &d.g_parentgoid },
		{ "runtime.sudog", "g", &d.sudog_g },
		{ "runtime.sudog", "next", &d.sudog_next },
		{ "runtime.sudog", "prev", &d.sudog_prev },
		{ "runtime.sudog", "elem", &d.sudog_elem },
		{ "runtime.sudog", "isSelect", &d.sudog_isselect },
		{ "runtime.sudog", "waitlink", &d.sudog_waitlink },
		{ "runtime.sudog", "c", &d.sudog_c },
		{ "runtime.hchan", "qcount", &d.hchan_qcount },
		{ "runtime.hchan", "dataqsiz", &d.hchan_dataqsiz },
		{ "runtime.hchan", "elemsize", &d.hchan_elemsize },
		{ "runtime.hchan", "closed", &d.hchan_closed },
		{ "runtime.semaRoot", "treap", &d.semaroot_treap },
		{ "runtime.semaRoot", "nwait", &d.semaroot_nwait },
	};
	size_t n = sizeof(want) / sizeof(want[0]);

	d = *o;
	for (size_t i = 0; i < n; i++)
		*want[i].dst = -1;
	if (!gw_dwarf(gb, want, n))
		return table;
	for (size_t i = 0; i < n; i++)
		if (*want[i].dst < 0 && want[i].dst != &d.g_parentgoid)
			return table; /* a field the sampler needs is missing: keep the table */
	d.source = "dwarf";
	d.verified = true;
	d.sudog_size = d.sudog_c + 8;
	if (d.sudog_waitlink + 8 > d.sudog_size)
		d.sudog_size = d.sudog_waitlink + 8;
	d.hchan_size = d.hchan_closed + 4;
	*o = d;
	return true;
}
