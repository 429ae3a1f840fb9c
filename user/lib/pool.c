// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "lib/pool.h"

void ia_pool_init(struct ia_pool *p, size_t size, __u32 limit)
{
	memset(p, 0, sizeof(*p));
	p->size = size;
	p->limit = limit;
}

void ia_pool_release(struct ia_pool *p)
{
	for (size_t i = 0; i < p->nslabs; i++)
		free(p->slabs[i]);
	free(p->slabs);
	ia_pool_init(p, p->size, p->limit);
}

__u32 ia_pool_alloc(struct ia_pool *p)
{
	__u32 h = p->free;
	void *o;

	if (h) {
		o = ia_pool_at(p, h);
		memcpy(&p->free, o, sizeof(p->free));	/* the next free one */
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
			slab = malloc((IA_POOL_SLAB - 1) * p->size);
			if (!slab)
				return 0;
			p->slabs[p->nslabs++] = slab;
		}
		p->used = slot + 1;
		h = slot + 1;
		o = ia_pool_at(p, h);
	}
	memset(o, 0, p->size);
	p->live++;
	return h;
}

void ia_pool_free(struct ia_pool *p, __u32 h)
{
	if (!h)
		return;
	memcpy(ia_pool_at(p, h), &p->free, sizeof(p->free));
	p->free = h;
	p->live--;
}
