/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* FNV-1a, 64-bit: a digest of a few bytes where no adversary picks them
 * (a stack's frames, the list of loaded modules). */
#ifndef IA_FNV_H
#define IA_FNV_H

#include <stddef.h>
#include <linux/types.h>

#define IA_FNV_BASIS	0xcbf29ce484222325ull

/* h, continued over the n bytes at p */
static inline __u64 ia_fnv1a(__u64 h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3ull;
	return h;
}

#endif
