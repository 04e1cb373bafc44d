/* SPDX-License-Identifier: MIT */
/* Helpers shared by the fuzz targets (header-only). */
#ifndef TLSPCAP_FUZZ_HELPERS_H
#define TLSPCAP_FUZZ_HELPERS_H

#include <stdio.h>
#include <stdlib.h>

/* Where a target's output goes: opened once for the whole run. */
static inline FILE *fuzz_devnull(void)
{
	static FILE *f;

	if (!f && !(f = fopen("/dev/null", "w")))
		abort();
	return f;
}

#endif /* TLSPCAP_FUZZ_HELPERS_H */
