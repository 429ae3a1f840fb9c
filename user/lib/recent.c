// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include "lib/recent.h"

void ia_recent_init(struct ia_recent *r, size_t cap)
{
	/* keys are handles; nothing iterates them */
	ia_u64map_init_near(&r->gen[0]);
	ia_u64map_init_near(&r->gen[1]);
	r->cap = cap;
	r->dropped = 0;
}

void ia_recent_free(struct ia_recent *r)
{
	ia_u64map_free(&r->gen[0]);
	ia_u64map_free(&r->gen[1]);
}

int ia_recent_add(struct ia_recent *r, __u64 key)
{
	int added;

	if (!r->cap) {	/* one generation, never rotated: one probe */
		void **slot = ia_u64map_slot(&r->gen[0], key, &added);

		if (!slot)
			return key ? -ENOMEM : -EINVAL;
		*slot = (void *)1;
		return 0;
	}
	if (ia_u64map_get(&r->gen[0], key))
		return 0;
	ia_u64map_del(&r->gen[1], key);	/* one copy: the young one */
	if (r->cap && r->gen[0].len >= (r->cap + 1) / 2) {
		struct ia_u64map old = r->gen[1];

		r->dropped += old.len;
		r->gen[1] = r->gen[0];
		ia_u64map_init_near(&r->gen[0]);
		ia_u64map_free(&old);
	}
	return ia_u64map_put(&r->gen[0], key, (void *)1, NULL);
}

bool ia_recent_has(const struct ia_recent *r, __u64 key)
{
	return ia_u64map_get(&r->gen[0], key) || ia_u64map_get(&r->gen[1], key);
}

void ia_recent_del(struct ia_recent *r, __u64 key)
{
	ia_u64map_del(&r->gen[0], key);
	ia_u64map_del(&r->gen[1], key);
}

size_t ia_recent_len(const struct ia_recent *r)
{
	return r->gen[0].len + r->gen[1].len;
}
