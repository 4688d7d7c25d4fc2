/*
 * fuzz_elf: elfimg on arbitrary bytes. Open, then walk every section and
 * segment-backed address the headers claim: section bytes, reads by
 * virtual address, pointer reads (with PIE relocations), load offsets.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gobin/elfimg.h"

/* Touch N bytes at P so ASan checks the whole range. */
static unsigned fuzz_touch(const uint8_t *p, size_t n)
{
	unsigned sum = 0;

	if (!p || !n)
		return 0;
	sum += p[0];
	sum += p[n - 1];
	sum += p[n / 2];
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elfimg *img;
	char err[256];
	volatile unsigned sink = 0;
	uint64_t v, o;
	int64_t d;
	size_t flen;

	if (elfimg_open_mem(data, size, &img, err, sizeof(err)) != 0)
		return 0;
	sink += elfimg_arch(img) + elfimg_ptrsize(img) + elfimg_big_endian(img) +
		elfimg_is_pie(img) + elfimg_is_static(img) + elfimg_has_symtab(img) +
		elfimg_has_dwarf(img);
	sink += strlen(elfimg_arch_name(elfimg_arch(img)));
	sink += fuzz_touch(elfimg_file(img, &flen), flen);
	for (size_t i = 0; i < elfimg_nsections(img); i++) {
		const struct elfimg_section *s = elfimg_section_at(img, i);
		const uint8_t *p = elfimg_section_data(img, s);

		sink += strlen(s->name);
		if (p)
			sink += fuzz_touch(p, (size_t)s->size);
		if (elfimg_section(img, s->name) == NULL)
			__builtin_trap(); /* a listed section must be found by name */
		/* Reads by address across the section, at a few points. */
		for (uint64_t k = 0; k < 8; k++) {
			uint64_t a = s->addr + k * (s->size / 8 + 1);
			size_t avail = elfimg_vavail(img, a);
			const uint8_t *q = elfimg_vptr(img, a, avail);

			if (avail && !q)
				__builtin_trap(); /* vavail promised these bytes */
			sink += fuzz_touch(q, avail);
			sink += fuzz_touch(elfimg_vptr(img, a, 8), 8);
			if (elfimg_read_ptr(img, a, &v))
				sink += (unsigned)v;
		}
	}
	if (elfimg_first_load(img, &v, &o)) {
		sink += (unsigned)(v + o);
		if (elfimg_offset_delta(img, o, &d))
			sink += (unsigned)d;
	}
	for (size_t off = 0; off < size; off += size / 16 + 1)
		if (elfimg_offset_delta(img, off, &d))
			sink += (unsigned)d;
	sink += fuzz_touch(elfimg_vptr(img, UINT64_MAX - 3, 4), 4);
	(void)sink;
	elfimg_close(img);
	return 0;
}
