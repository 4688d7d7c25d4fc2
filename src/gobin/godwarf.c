/*
 * godwarf.c: runtime struct DIEs by name and member offsets (godwarf.h).
 */
#include "godwarf.h"

#include <dwarf.h>
#include <string.h>

size_t godwarf_structs(Dwarf *dw, const char *const *names, size_t n, Dwarf_Die *dies,
		       bool *found)
{
	Dwarf_Off off = 0, next;
	size_t hsize, nfound = 0;

	memset(found, 0, n * sizeof(*found));
	while (nfound < n && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				const char *nm;

				if (dwarf_tag(&die) != DW_TAG_structure_type)
					continue;
				nm = dwarf_diename(&die);
				for (size_t i = 0; nm && i < n; i++)
					if (!found[i] && strcmp(nm, names[i]) == 0) {
						dies[i] = die;
						found[i] = true;
						nfound++;
					}
			} while (dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	return nfound;
}

int godwarf_member_off(Dwarf_Die *m)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (!dwarf_attr(m, DW_AT_data_member_location, &a))
		return -1;
	if (dwarf_formudata(&a, &w) != 0 || w > 1u << 20)
		return -1;
	return (int)w;
}

int godwarf_member(Dwarf_Die *s, const char *name)
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
			return godwarf_member_off(&m);
	} while (dwarf_siblingof(&m, &m) == 0);
	return -1;
}
