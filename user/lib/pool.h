/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A pool of fixed-size objects named by 32-bit handles (increasing; 0 is
 * "none"): slabs of IA_POOL_SLAB objects, no header or
 * rounding per object, freed objects reused last-freed first. A handle is
 * half a pointer: what lets an interval-tree node (itree.h) and the page-
 * table entry around it fit in 64 bytes. Objects never move.
 *
 * Slabs are not malloc'd: they are carved from regions of address space
 * reserved whole (PROT_NONE, not charged) and made writable as slabs are
 * needed, so that a big pool can be backed by huge pages (lib/hugemem.h):
 * past IA_POOL_HUGE_FROM bytes a pool grows by 2 MiB, marked MADV_HUGEPAGE
 * (2 million page-table entries: about 6 000 page faults instead of 27 000,
 * most of them the first 16 MiB). Below it, by 4 KiB pages as before: a small trace's pools commit no more
 * than their objects. ia_pool_bytes() says what a pool holds, since
 * malloc's statistics no longer see it.
 */
#ifndef IA_POOL_H
#define IA_POOL_H

#include <stddef.h>
#include <linux/types.h>

/* Built with AddressSanitizer (gcc says so by a macro, clang by a
 * feature): the pool then poisons what is not a live object (pool.c) */
#if defined(__SANITIZE_ADDRESS__)
#define IA_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IA_POOL_ASAN 1
#endif
#endif

/*
 * Slots per slab (a handle is 1 + slab << 12 | slot). The last slot of a
 * slab is never used: it made room for malloc's header when each slab was
 * malloc'd, and is kept so that handles are numbered as they were.
 */
#define IA_POOL_SLAB_SHIFT	12
#define IA_POOL_SLAB		(1u << IA_POOL_SLAB_SHIFT)
/* Slabs per region: 16 MiB of 56-byte entries; a region's first slab
 * starts it (slabs[i] for i a multiple of this). */
#define IA_POOL_REGION_SLABS	64
/* Writable bytes of a pool past which it grows by huge pages. */
#define IA_POOL_HUGE_FROM	((size_t)16 << 20)

struct ia_pool {
	size_t size;		/* bytes per object, >= 4 (a free one holds the next) */
	__u32 limit;		/* highest handle it may give */
	char **slabs;
	size_t nslabs, cap;
	size_t slab_bytes;	/* (IA_POOL_SLAB - 1) * size */
	size_t region_bytes;	/* IA_POOL_REGION_SLABS slabs, in whole huge pages */
	size_t rw;		/* bytes of the last region made writable */
	size_t bytes;		/* bytes of all regions made writable */
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
/* The memory the pool holds: its writable bytes (objects, the slabs' unused
 * last slots, and up to a page, or a huge page, of room for the next). */
static inline size_t ia_pool_bytes(const struct ia_pool *p)
{
	return p->bytes;
}

/* The object of handle h (not 0, given by p and not freed). */
static inline void *ia_pool_at(const struct ia_pool *p, __u32 h)
{
	h--;
	return p->slabs[h >> IA_POOL_SLAB_SHIFT] + (size_t)(h & (IA_POOL_SLAB - 1)) * p->size;
}

#endif
