/* SPDX-License-Identifier: MIT */
/*
 * Go executables: the Go version from .go.buildinfo and the functions from
 * .gopclntab, which stays in binaries stripped of .symtab (-ldflags=-s -w,
 * strip). Layouts: ../shared/notes/go-tls.md (Go's runtime/symtab.go and
 * debug/buildinfo). Every field comes from an untrusted file and is checked
 * against the table's size before it is followed.
 */
#ifndef TLSPCAP_GO_BINARY_H
#define TLSPCAP_GO_BINARY_H

#include <stddef.h>
#include <stdint.h>

struct elf_file;

#define GO_PCLNTAB_MAGIC_118 0xfffffff0u /* Go 1.18, 1.19 */
#define GO_PCLNTAB_MAGIC_120 0xfffffff1u /* Go 1.20 and later */

/* A parsed pclntab: views into the caller's bytes. */
struct go_pclntab {
	const uint8_t *data;
	size_t size;
	uint32_t magic;
	uint64_t nfunc;
	uint64_t text_start;	/* runtime.text as the header says */
	uint64_t funcnames;	/* offsets into data, each checked */
	uint64_t pcln;		/* the function table and the _func records */
};

#define GO_PCLNTAB_MAGIC_116 0xfffffffau /* Go 1.16, 1.17: not read */
#define GO_PCLNTAB_MAGIC_12 0xfffffffbu  /* Go 1.2 to 1.15: not read */

/*
 * Parses the pclntab at @data (@size bytes). Returns 0, -EPROTONOSUPPORT
 * for a table of another Go version (0xffffffxX magic numbers other than
 * the two read: only tab->magic is set then), or -EINVAL when the header
 * is malformed or points outside @size.
 */
int go_pclntab__parse(struct go_pclntab *tab, const void *data, size_t size);

/*
 * The virtual range [*start, *end) of the function named @name. Returns 0,
 * -ENOENT, or -EINVAL when the table lies (an entry outside it, a name not
 * terminated, functions out of order).
 */
int go_pclntab__find_func(const struct go_pclntab *tab, const char *name, uint64_t *start,
			  uint64_t *end);

/*
 * The offset of the first plausible pclntab header in @data (a PIE's
 * .data.rel.ro, where an external linker puts it), or -ENOENT.
 */
long go_pclntab__search(const void *data, size_t size);

/*
 * The Go version ("go1.19.8") from the .go.buildinfo bytes @data of Go
 * 1.18 and later (inline strings). Returns 0, -EPROTONOSUPPORT for the
 * older layout (pointers into the file, which go_binary__read follows), or
 * -EINVAL if malformed.
 */
int go_buildinfo__version(const void *data, size_t size, char *buf, size_t sz);

/*
 * The Go executable @ef: *@version gets its Go version ("" if unknown) and
 * *@tab its function table (a view into @ef's bytes, valid until @ef is
 * closed). Returns 0, -ENOENT if @ef is no Go executable (no pclntab
 * section, and no .go.buildinfo to look into .data.rel.ro for one), -EPROTONOSUPPORT for another Go version's table (tab->magic
 * says which), -EBADMSG when its pclntab section's header is malformed, or
 * -EINVAL.
 */
int go_binary__read(struct elf_file *ef, char *version, size_t sz, struct go_pclntab *tab);

#endif /* TLSPCAP_GO_BINARY_H */
