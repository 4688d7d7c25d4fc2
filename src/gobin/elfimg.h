/*
 * elfimg: a read-only view of an ELF executable, through libelf.
 *
 * The whole file is mapped (or borrowed from a caller's buffer, for the
 * fuzzers) and every read is bounds-checked against it. Readers above this
 * layer ask for bytes by virtual address (as the Go linker laid them out)
 * or by section name, and never touch file offsets themselves.
 */
#ifndef GOSCOPE_ELFIMG_H
#define GOSCOPE_ELFIMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libelf.h>

struct elfimg;

struct elfimg_section {
	const char *name;
	uint64_t addr;     /* sh_addr */
	uint64_t size;     /* sh_size */
	uint64_t offset;   /* sh_offset */
	uint64_t flags;    /* sh_flags */
	uint32_t type;     /* sh_type */
};

enum elfimg_arch {
	ELFIMG_ARCH_UNKNOWN = 0,
	ELFIMG_ARCH_AMD64,
	ELFIMG_ARCH_ARM64,
	ELFIMG_ARCH_386,
	ELFIMG_ARCH_ARM,
	ELFIMG_ARCH_OTHER,
};

/*
 * Open PATH. Returns 0 and sets *out, or -1 with a one-line reason in ERR.
 * The caller frees the image with elfimg_close().
 */
int elfimg_open(const char *path, struct elfimg **out, char *err, size_t errlen);

/*
 * Open an in-memory image. BUF must stay valid until elfimg_close(); it is
 * not copied. Used by the fuzzers and unit tests.
 */
int elfimg_open_mem(const void *buf, size_t len, struct elfimg **out, char *err,
		    size_t errlen);

void elfimg_close(struct elfimg *img);

/* The libelf handle. Owned by the image. */
Elf *elfimg_elf(const struct elfimg *img);

/*
 * A second libelf handle over the same bytes, for libdw: what libdw
 * allocates through it (decompressed .zdebug sections: megabytes) goes
 * when the caller elf_end()s it, not when the image closes. NULL on error.
 */
Elf *elfimg_elf_scratch(const struct elfimg *img);

/* Whole-file bytes, for scanners that look for headers without sections. */
const uint8_t *elfimg_file(const struct elfimg *img, size_t *len);

enum elfimg_arch elfimg_arch(const struct elfimg *img);
const char *elfimg_arch_name(enum elfimg_arch arch);
int elfimg_ptrsize(const struct elfimg *img);
bool elfimg_big_endian(const struct elfimg *img);
bool elfimg_is_pie(const struct elfimg *img);      /* ET_DYN */
bool elfimg_is_static(const struct elfimg *img);   /* no PT_INTERP, no DT_NEEDED */
bool elfimg_has_needed(const struct elfimg *img);  /* links shared libraries (DT_NEEDED) */
bool elfimg_has_symtab(const struct elfimg *img);  /* .symtab present */
bool elfimg_has_dwarf(const struct elfimg *img);   /* .debug_info or .zdebug_info */

/* Section by exact name, or NULL. */
const struct elfimg_section *elfimg_section(const struct elfimg *img,
					    const char *name);
/* Number of sections and the i-th one (0 <= i < n). */
size_t elfimg_nsections(const struct elfimg *img);
const struct elfimg_section *elfimg_section_at(const struct elfimg *img, size_t i);

/*
 * Bytes of a section as stored in the file (not decompressed), or NULL when
 * the section has no file bytes (SHT_NOBITS) or lies outside the file.
 */
const uint8_t *elfimg_section_data(const struct elfimg *img,
				   const struct elfimg_section *sec);

/*
 * Pointer to LEN file-backed bytes at virtual address VADDR, found through
 * the PT_LOAD segments (or, with no segments, the allocated sections).
 * NULL if any of the range is not backed by the file.
 */
const uint8_t *elfimg_vptr(const struct elfimg *img, uint64_t vaddr, size_t len);

/*
 * How many contiguous file-backed bytes are readable at VADDR (0 if none).
 */
size_t elfimg_vavail(const struct elfimg *img, uint64_t vaddr);

/*
 * A pointer-sized word at VADDR as the loaded program would see it before
 * its load bias: for PIE images the R_*_RELATIVE addend when a dynamic
 * relocation targets VADDR, else the stored word. Returns false when VADDR
 * is unreadable.
 */
bool elfimg_read_ptr(struct elfimg *img, uint64_t vaddr, uint64_t *val);

/* Unsigned integers of the image's byte order from a raw pointer. */
uint16_t elfimg_u16(const struct elfimg *img, const uint8_t *p);
uint32_t elfimg_u32(const struct elfimg *img, const uint8_t *p);
uint64_t elfimg_u64(const struct elfimg *img, const uint8_t *p);
/* A ptrsize-wide word. */
uint64_t elfimg_uptr(const struct elfimg *img, const uint8_t *p);

/*
 * The lowest p_vaddr of the PT_LOAD segments and the file offset of that
 * segment, used to compute a running process's load bias.
 */
bool elfimg_first_load(const struct elfimg *img, uint64_t *vaddr, uint64_t *offset);

/*
 * Find the PT_LOAD segment containing file OFFSET; returns its vaddr minus
 * its p_offset (so vaddr = offset + delta). False if none.
 */
bool elfimg_offset_delta(const struct elfimg *img, uint64_t offset, int64_t *delta);

/*
 * The file offset of link-time address VADDR (a uprobe is placed by file
 * offset). False if VADDR is not backed by the file.
 */
bool elfimg_vaddr_offset(const struct elfimg *img, uint64_t vaddr, uint64_t *offset);

/*
 * The value (and size, SIZE may be NULL) of symbol NAME in .symtab. False
 * when the image has no symbol table (stripped) or no such symbol.
 */
bool elfimg_symbol(const struct elfimg *img, const char *name, uint64_t *value, uint64_t *size);

#endif
