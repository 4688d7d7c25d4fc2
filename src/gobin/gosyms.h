/*
 * gosyms: names of global variables from the ELF symbol table (.symtab),
 * when the binary still has one. The Go runtime keeps no table of its data
 * symbols (the pclntab names functions only), so a stripped binary's
 * globals have no names.
 */
#ifndef GOSCOPE_GOSYMS_H
#define GOSCOPE_GOSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gobin;

/*
 * "main.hotMu" (or "pkg.var+0x8" inside it) for the data object holding
 * link-time address VADDR, into OUT. False when the binary has no .symtab
 * or no object covers VADDR.
 */
bool gosyms_data_name(const struct gobin *gb, uint64_t vaddr, char *out, size_t len);

#endif
