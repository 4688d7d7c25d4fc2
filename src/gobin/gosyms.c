/*
 * gosyms: data symbol lookup in .symtab (see gosyms.h). A linear scan:
 * called for the handful of objects a report names.
 */
#include "gosyms.h"

#include "elfimg.h"
#include "gobin.h"

#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

bool gosyms_data_name(const struct gobin *gb, uint64_t vaddr, char *out, size_t len)
{
	const struct elfimg_section *st = elfimg_section(gb->img, ".symtab");
	const struct elfimg_section *str = elfimg_section(gb->img, ".strtab");
	const uint8_t *sd, *strd;
	size_t n;

	if (!st || !str || elfimg_ptrsize(gb->img) != 8 || elfimg_big_endian(gb->img))
		return false;
	sd = elfimg_section_data(gb->img, st);
	strd = elfimg_section_data(gb->img, str);
	if (!sd || !strd)
		return false;
	n = (size_t)(st->size / sizeof(Elf64_Sym));
	for (size_t i = 0; i < n; i++) {
		Elf64_Sym s;

		memcpy(&s, sd + i * sizeof(s), sizeof(s));
		if (ELF64_ST_TYPE(s.st_info) != STT_OBJECT || !s.st_size ||
		    vaddr < s.st_value || vaddr - s.st_value >= s.st_size || s.st_name >= str->size)
			continue;
		const char *name = (const char *)strd + s.st_name;
		size_t maxn = (size_t)(str->size - s.st_name);

		if (!memchr(name, '\0', maxn))
			return false;
		if (vaddr == s.st_value)
			snprintf(out, len, "%s", name);
		else
			snprintf(out, len, "%s+0x%" PRIx64, name, vaddr - s.st_value);
		return true;
	}
	return false;
}
