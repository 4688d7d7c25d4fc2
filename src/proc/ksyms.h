/*
 * ksyms: kernel symbols from /proc/kallsyms, sorted by address, looked up
 * by binary search: the names of kernel frames in a captured stack.
 */
#ifndef GOSCOPE_KSYMS_H
#define GOSCOPE_KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct ksyms;

/*
 * Load the text symbols of PATH (NULL: /proc/kallsyms). Returns NULL with
 * the reason in ERR when the file cannot be read, or when every address is
 * zero (kptr_restrict: not root).
 */
struct ksyms *ksyms_load(const char *path, char *err, size_t errlen);
void ksyms_free(struct ksyms *ks);

/* Number of symbols loaded. */
size_t ksyms_count(const struct ksyms *ks);

/*
 * The symbol containing ADDR (the last one at or below it), its offset in
 * *OFF (may be NULL) and its module ("" for the kernel itself) in *MOD
 * (may be NULL). NULL when ADDR is below every symbol.
 */
const char *ksyms_find(const struct ksyms *ks, uint64_t addr, uint64_t *off, const char **mod);

#endif
