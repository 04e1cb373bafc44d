// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the Go table readers of capture/go_binary.c on arbitrary bytes.
 * Input: a .gopclntab (parsed, searched for, its functions looked up), also
 * read as a .go.buildinfo. Copied into a buffer of its exact size so that
 * ASan sees any read past its end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "go_binary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read",
					     "main.main", "" };
	uint8_t *copy = malloc(size ? size : 1);
	struct go_pclntab tab;
	uint64_t start, end;
	char version[64];
	long off;
	size_t i;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	if (!go_pclntab__parse(&tab, copy, size))
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!go_pclntab__find_func(&tab, names[i], &start, &end) && end <= start)
				abort(); /* an empty or reversed function is a lie let through */
	off = go_pclntab__search(copy, size);
	if (off >= 0 && go_pclntab__parse(&tab, copy + off, size - off))
		abort(); /* search returned a header that does not parse */
	if (!go_buildinfo__version(copy, size, version, sizeof(version)) && !version[0])
		abort();
	free(copy);
	return 0;
}
