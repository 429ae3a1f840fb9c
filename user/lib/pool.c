// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "lib/hugemem.h"
#include "lib/pool.h"

/*
 * Under AddressSanitizer the pool poisons what is not a live object: the
 * slabs are our own mappings, not malloc's, so ASan would otherwise let an
 * overrun past an object, or a use after ia_pool_free(), read and write
 * the neighbour unseen (as it did from the move off malloc'd slabs until
 * this). The free list's link is written into a freed object with the
 * object unpoisoned for just that access.
 */
#ifdef IA_POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)	((void)(p), (void)(n))
#define UNPOISON(p, n)	((void)(p), (void)(n))
#endif

static size_t round_up(size_t n, size_t to)	/* to: a power of two */
{
	return (n + to - 1) & ~(to - 1);
}

void ia_pool_init(struct ia_pool *p, size_t size, __u32 limit)
{
	memset(p, 0, sizeof(*p));
	p->size = size;
	p->limit = limit;
	p->slab_bytes = (IA_POOL_SLAB - 1) * size;
	p->region_bytes = round_up(IA_POOL_REGION_SLABS * p->slab_bytes, IA_HUGE_PAGE);
}

void ia_pool_release(struct ia_pool *p)
{
	for (size_t i = 0; i < p->nslabs; i += IA_POOL_REGION_SLABS) {
		/* the next mapping there may be anyone's */
		UNPOISON(p->slabs[i], p->region_bytes);
		munmap(p->slabs[i], p->region_bytes);
	}
	free(p->slabs);
	ia_pool_init(p, p->size, p->limit);
}

/* A region's address space, aligned to a huge page (so that the pool's
 * 2 MiB steps are the kernel's huge pages), nothing writable yet; or NULL. */
static char *region_reserve(size_t bytes)
{
	size_t span = bytes + IA_HUGE_PAGE;
	char *m = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *lo;

	if (m == MAP_FAILED)
		return NULL;
	lo = (char *)round_up((uintptr_t)m, IA_HUGE_PAGE);
	if (lo > m)
		munmap(m, lo - m);
	if (m + span > lo + bytes)
		munmap(lo + bytes, m + span - (lo + bytes));
	return lo;
}

/* Room for slab number p->nslabs (its slot in p->slabs is there): in the
 * last region, or the first of a new one. NULL: no memory. */
static char *slab_new(struct ia_pool *p)
{
	size_t k = p->nslabs % IA_POOL_REGION_SLABS, end = (k + 1) * p->slab_bytes, rw;
	char *base;
	int huge;

	if (k) {
		base = p->slabs[p->nslabs - k];
	} else {
		base = region_reserve(p->region_bytes);
		if (!base)
			return NULL;
		p->rw = 0;
	}
	if (end > p->rw) {
		huge = p->bytes >= IA_POOL_HUGE_FROM;
		rw = round_up(end, huge ? IA_HUGE_PAGE : (size_t)sysconf(_SC_PAGESIZE));
		if (mprotect(base + p->rw, rw - p->rw, PROT_READ | PROT_WRITE)) {
			if (!k)
				munmap(base, p->region_bytes);
			return NULL;
		}
		if (huge)
			ia_mem_advise_huge(base + p->rw, rw - p->rw);
		POISON(base + p->rw, rw - p->rw);	/* no object given there yet */
		p->bytes += rw - p->rw;
		p->rw = rw;
	}
	return base + k * p->slab_bytes;
}

__u32 ia_pool_alloc(struct ia_pool *p)
{
	__u32 h = p->free;
	void *o;

	if (h) {
		o = ia_pool_at(p, h);
		UNPOISON(o, p->size);
		memcpy(&p->free, o, sizeof(p->free));	/* the next free one */
		memset(o, 0, p->size);
	} else {
		__u32 slot = p->used;

		if ((slot & (IA_POOL_SLAB - 1)) == IA_POOL_SLAB - 1)
			slot++;	/* a slab's last slot: not there (pool.h) */
		if (slot >= p->limit)
			return 0;
		if (!(slot & (IA_POOL_SLAB - 1))) {	/* a new slab */
			char *slab;

			if (p->nslabs == p->cap) {
				size_t cap = p->cap ? p->cap * 2 : 16;
				char **v = realloc(p->slabs, cap * sizeof(*v));

				if (!v)
					return 0;
				p->slabs = v;
				p->cap = cap;
			}
			slab = slab_new(p);
			if (!slab)
				return 0;
			p->slabs[p->nslabs++] = slab;
		}
		/* never given before: still the zeroes of a fresh mapping */
		p->used = slot + 1;
		h = slot + 1;
		UNPOISON(ia_pool_at(p, h), p->size);
	}
	p->live++;
	return h;
}

void ia_pool_free(struct ia_pool *p, __u32 h)
{
	if (!h)
		return;
	memcpy(ia_pool_at(p, h), &p->free, sizeof(p->free));
	POISON(ia_pool_at(p, h), p->size);
	p->free = h;
	p->live--;
}
