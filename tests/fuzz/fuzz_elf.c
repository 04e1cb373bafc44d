// SPDX-License-Identifier: MIT
/*
 * Fuzz target: an arbitrary file where a TLS library would be.  Reads it
 * with the elf_file module (sections, symbol walks of .dynsym and .symtab,
 * .gnu.hash lookups, segment offsets, bytes at a function's address), then
 * hands it to discovery as --lib does: recognition by its symbols, the row
 * chosen by its name, the version read from its .rodata, the --list text.
 *
 * Input: one byte choosing the file's name (file_names: discovery ranks rows
 * by it), then the file's bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "discover.h"
#include "elf_file.h"
#include "fuzz_helpers.h"

/* Symbols walked per table: enough to reach every check, bounded for huge counts. */
#define WALK_MAX 64

static const char *const file_names[] = {
	"libssl.so.3", "libssl.so", "libgnutls.so.30", "libnspr4.so",
	"libwolfssl.so.35", "libmbedtls.so.14", "node",
};

struct walk {
	struct elf_file *ef;
	unsigned int seen;
};

/* What probing does with a function: its file offset, its segment, its first bytes. */
static int walk__function(const struct elf_symbol *sym, void *ctx)
{
	struct walk *w = ctx;
	uint64_t off, start, end;
	uint8_t body[256];

	elf_file__offset_of(w->ef, sym->addr, &off);
	elf_file__exec_segment(w->ef, sym->addr, &start, &end);
	elf_file__read_vaddr(w->ef, sym->addr, body,
			     sym->size && sym->size < sizeof(body) ? sym->size : sizeof(body));
	return ++w->seen >= WALK_MAX;
}

static void read_elf(const char *path)
{
	static const char *const lookups[] = { "SSL_write", "gnutls_record_recv", "PR_Writev",
					       "no_such_function" };
	struct elf_file *ef = elf_file__open(path);
	struct walk w = { .ef = ef };
	struct elf_symbol sym;
	struct elf_section sec;
	const void *data;
	uint8_t head[64];
	size_t i, size;

	if (!ef)
		return;
	elf_file__for_each_function(ef, SHT_DYNSYM, walk__function, &w);
	w.seen = 0;
	elf_file__for_each_function(ef, SHT_SYMTAB, walk__function, &w);
	for (i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
		elf_file__dynsym_lookup(ef, lookups[i], &sym);
		if (!elf_file__find_function(ef, lookups[i], &sym))
			walk__function(&sym, &w);
	}
	if (!elf_file__section_by_name(ef, ".rodata", &sec))
		elf_file__section_data(ef, &sec, &data, &size);
	if (!elf_file__section_by_type(ef, SHT_GNU_HASH, &sec))
		elf_file__section_data(ef, &sec, &data, &size);
	elf_file__read(ef, elf_file__size(ef) > sizeof(head) ? elf_file__size(ef) - sizeof(head) : 0,
		       head, sizeof(head));
	elf_file__close(ef);
}

static char dir[] = "/tmp/fuzz_elf.XXXXXX";

static void remove_dir(void)
{
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (!mkdtemp(dir))
		abort();
	atexit(remove_dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct library_set set = { 0 };
	char path[64];
	int fd;

	if (!size)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir,
		 file_names[data[0] % (sizeof(file_names) / sizeof(file_names[0]))]);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1) || close(fd))
		abort();
	read_elf(path);
	if (!library_set__add_path(&set, path))
		library_set__print(&set, fuzz_devnull());
	library_set__clear(&set);
	unlink(path);
	return 0;
}
