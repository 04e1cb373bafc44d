/* SPDX-License-Identifier: MIT */
/*
 * ELF files as discovery and probing read them: sections, function symbols,
 * loadable segments, and the bytes at an address (a function body to decode).
 *
 * Named elf_file, not elf: a capture/elf.h would hide the system's <elf.h>,
 * which <libelf.h> includes, from every object built with -Icapture.
 *
 * The files are untrusted (tlspcap runs as root and reads whatever a process
 * maps): every size, offset and count taken from one is checked against the
 * file before use. Files are read with pread(2), never mapped, because a
 * file that shrinks while mapped raises SIGBUS in the reader.
 */
#ifndef TLSPCAP_ELF_FILE_H
#define TLSPCAP_ELF_FILE_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

struct elf_file;

/*
 * Opens @path. Returns NULL with errno set: EINVAL if it is no ELF file (or
 * a malformed one), ERANGE if its section headers lie past its end (a file
 * cut short), else open(2)'s errno.
 */
struct elf_file *elf_file__open(const char *path);

/* Accepts NULL. Invalidates every pointer handed out for @ef. */
void elf_file__close(struct elf_file *ef);

/* The libelf handle, for what this module does not cover. */
Elf *elf_file__elf(const struct elf_file *ef);

/* The file's size when opened. */
uint64_t elf_file__size(const struct elf_file *ef);

struct elf_section {
	Elf_Scn *scn;
	const char *name;	/* "" when the section name table is missing */
	uint32_t type;		/* SHT_* */
	uint64_t flags;		/* SHF_* */
	uint64_t addr;		/* virtual address (0 if not loaded) */
	uint64_t offset;	/* in the file */
	uint64_t size;
	uint32_t link;
	uint64_t entsize;
};

/*
 * Finds the first section named @name, or of type @type (SHT_*), into @out.
 * Returns 0, -ENOENT if there is none, or -EINVAL for a malformed table.
 */
int elf_file__section_by_name(struct elf_file *ef, const char *name, struct elf_section *out);
int elf_file__section_by_type(struct elf_file *ef, uint32_t type, struct elf_section *out);

/*
 * The bytes of @sec as stored in the file, valid until elf_file__close().
 * Returns 0, -ENODATA for a section without bytes (SHT_NOBITS, empty), or
 * -EINVAL if they lie outside the file.
 */
int elf_file__section_data(struct elf_file *ef, const struct elf_section *sec, const void **data,
			   size_t *size);

struct elf_symbol {
	const char *name;	/* as in the table, "SSL_write@@OPENSSL_3.0.0" in a .symtab */
	size_t name_len;	/* up to any '@': the bare name */
	uint64_t addr;		/* st_value: a virtual address */
	uint64_t size;		/* st_size: the function's length, 0 if unknown */
	unsigned char type;	/* STT_FUNC or STT_GNU_IFUNC */
	unsigned char bind;	/* STB_* */
};

typedef int (*elf_symbol_fn)(const struct elf_symbol *sym, void *ctx);

/*
 * Calls @fn for every function defined (not imported) in the sections of
 * type @sh_type (SHT_DYNSYM or SHT_SYMTAB). A nonzero return of @fn stops
 * the walk and is returned. Returns 0 or -EINVAL for a malformed table.
 */
int elf_file__for_each_function(struct elf_file *ef, uint32_t sh_type, elf_symbol_fn fn,
				void *ctx);

/*
 * Looks the defined function @name up in .dynsym through .gnu.hash (node's
 * .dynsym has 75,000 symbols). Returns 0, -ENOENT if not defined there,
 * -EOPNOTSUPP if there is no usable hash table (walk the table instead), or
 * -EINVAL.
 */
int elf_file__dynsym_lookup(struct elf_file *ef, const char *name, struct elf_symbol *out);

/*
 * Finds the defined function @name (bare: "x" matches "x@@V1") in .dynsym,
 * then .symtab. Returns 0, -ENOENT, or -EINVAL.
 */
int elf_file__find_function(struct elf_file *ef, const char *name, struct elf_symbol *out);

/*
 * The file offset of virtual address @vaddr, where uprobes attach: it must
 * lie in the file-backed part of a PT_LOAD segment. Returns 0 or -ENOENT.
 */
int elf_file__offset_of(struct elf_file *ef, uint64_t vaddr, uint64_t *offset);

/*
 * The executable PT_LOAD segment holding @vaddr, as the virtual range
 * [*start, *end) its file bytes cover. Returns 0 or -ENOENT.
 */
int elf_file__exec_segment(struct elf_file *ef, uint64_t vaddr, uint64_t *start, uint64_t *end);

/*
 * Reads @size bytes at file offset @offset into @buf. Returns 0, -ERANGE if
 * the range passes the end of the file, -EIO if the file shrank, or -errno.
 */
int elf_file__read(struct elf_file *ef, uint64_t offset, void *buf, size_t size);

/*
 * Reads @size bytes at virtual address @vaddr (a function body): the whole
 * range must lie in the file bytes of one PT_LOAD segment. Returns 0,
 * -ENOENT if it does not, or as elf_file__read().
 */
int elf_file__read_vaddr(struct elf_file *ef, uint64_t vaddr, void *buf, size_t size);

#endif /* TLSPCAP_ELF_FILE_H */
