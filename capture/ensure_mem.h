/* SPDX-License-Identifier: MIT */
#ifndef TLSPCAP_ENSURE_MEM_H
#define TLSPCAP_ENSURE_MEM_H

#include <errno.h>
#include <stdlib.h>

/*
 * Room for @need elements of @elem_sz at *@data, which holds *@cap: the
 * capacity doubles (from 8), so appending one at a time costs O(1) on average.
 * 0 or -ENOMEM (then *@data and *@cap are unchanged).
 */
static inline int ensure_mem(void **data, size_t *cap, size_t elem_sz, size_t need)
{
	size_t new_cap = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return 0;
	while (new_cap < need)
		new_cap *= 2;
	p = reallocarray(*data, new_cap, elem_sz);
	if (!p)
		return -ENOMEM;
	*data = p;
	*cap = new_cap;
	return 0;
}

#endif
