// SPDX-License-Identifier: MIT
/*
 * Fuzz target: options__parse on an arbitrary command line.
 * Input: the arguments after argv[0], separated by NUL bytes (at most 64).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_helpers.h"
#include "options.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *args[MAX_ARGS + 2] = { "tlspcap" };
	char *text = malloc(size + 1), *p;
	struct options opts;
	int argc = 1;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	/* each argument in a buffer of its own size: ASan sees a read past its end */
	for (p = text; p <= text + size && argc <= MAX_ARGS; p += strlen(p) + 1)
		args[argc++] = strdup(p);
	options__parse(&opts, argc, args, fuzz_devnull(), fuzz_devnull());
	while (--argc > 0)
		free(args[argc]);
	free(text);
	return 0;
}
