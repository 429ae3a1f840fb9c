/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A pool of fixed-size objects named by 32-bit handles (increasing; 0 is
 * "none"): slabs of IA_POOL_SLAB objects, one allocation each, no header or
 * rounding per object, freed objects reused last-freed first. A handle is
 * half a pointer: what lets an interval-tree node (itree.h) and the page-
 * table entry around it fit in 64 bytes. Objects never move.
 */
#ifndef IA_POOL_H
#define IA_POOL_H

#include <stddef.h>
#include <linux/types.h>

/*
 * Slots per slab (a handle is 1 + slab << 12 | slot). The last slot of a
 * slab is never used, so that a slab's 4095 objects and the allocator's
 * header fit in 4096 objects' bytes (glibc maps a large block with a
 * 16-byte header: 4096 objects would take one more page per slab).
 */
#define IA_POOL_SLAB_SHIFT	12
#define IA_POOL_SLAB		(1u << IA_POOL_SLAB_SHIFT)

struct ia_pool {
	size_t size;		/* bytes per object, >= 4 (a free one holds the next) */
	__u32 limit;		/* highest handle it may give */
	char **slabs;
	size_t nslabs, cap;
	__u32 used;		/* slots given out so far (handles <= used) */
	__u32 free;		/* last freed object, or 0 */
	size_t live;		/* objects allocated and not freed */
};

/* An empty pool of size-byte objects (a multiple of 4), handles <= limit. */
void ia_pool_init(struct ia_pool *p, size_t size, __u32 limit);
/* Free every object and slab; the pool is empty again. */
void ia_pool_release(struct ia_pool *p);
/* A zeroed object's handle, or 0 (no memory, or limit reached). */
__u32 ia_pool_alloc(struct ia_pool *p);
void ia_pool_free(struct ia_pool *p, __u32 h);	/* h 0 is ignored */

/* The object of handle h (not 0, given by p and not freed). */
static inline void *ia_pool_at(const struct ia_pool *p, __u32 h)
{
	h--;
	return p->slabs[h >> IA_POOL_SLAB_SHIFT] + (size_t)(h & (IA_POOL_SLAB - 1)) * p->size;
}

#endif
