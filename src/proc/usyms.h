/*
 * usyms: names of native (C, cgo, vDSO) frames of a process: its
 * executable mappings from /proc/PID/maps, and for each mapped file the
 * function symbols of its ELF symbol tables (.symtab, else .dynsym), read
 * on first use. A pc with no symbol is named "lib+0xOFFSET" (the file
 * offset), so that it can still be looked up later.
 */
#ifndef GOSCOPE_USYMS_H
#define GOSCOPE_USYMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct usyms;

/* The mappings of PID as they are now; NULL if /proc/PID/maps is unreadable. */
struct usyms *usyms_open(pid_t pid);

/* Re-read the mappings (a library loaded later); keeps the old ones on failure. */
void usyms_refresh(struct usyms *u);

void usyms_free(struct usyms *u);

/*
 * Name PC into BUF: the function symbol's name when one covers PC, else
 * "lib.so+0x1234" (the file's base name and the file offset), else "0x..."
 * outside any executable mapping. Returns BUF.
 * KNOWN (may be NULL) says whether a symbol was found.
 */
const char *usyms_name(struct usyms *u, uint64_t pc, char *buf, size_t len, int *known);

#endif
