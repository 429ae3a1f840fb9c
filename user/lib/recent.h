/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A set of non-zero __u64 keys that remembers the recent ones within a
 * bound: two generations of a hash set. Keys go into the young one; when it
 * holds cap / 2 keys the old generation is dropped and the young one becomes
 * old. So it never holds more than cap keys and always remembers at least
 * the cap / 2 most recently added ones. cap 0: unbounded (one generation,
 * never dropped): what a replay of a finite trace wants.
 */
#ifndef IA_RECENT_H
#define IA_RECENT_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/u64map.h"

struct ia_recent {
	struct ia_u64map gen[2];	/* [0] young, [1] old */
	size_t cap;
	__u64 dropped;			/* keys forgotten by rotation */
};

void ia_recent_init(struct ia_recent *r, size_t cap);
void ia_recent_free(struct ia_recent *r);
/* 0 or -ENOMEM. */
int ia_recent_add(struct ia_recent *r, __u64 key);
bool ia_recent_has(const struct ia_recent *r, __u64 key);
void ia_recent_del(struct ia_recent *r, __u64 key);
size_t ia_recent_len(const struct ia_recent *r);

#endif
