// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include "lib/hugemem.h"
#include "lib/u64map.h"

static inline __attribute__((always_inline)) size_t slot_of(const struct ia_u64map *m, __u64 key)
{
	if (m->near) {
		/* the page number, folded with the bits above the table's
		 * size and with the offset in the page (handles of sub-page
		 * buffers of one page are 256 slots apart) */
		__u64 pg = key >> 12;

		return (pg ^ (pg >> __builtin_ctzll(m->cap)) ^ ((key & 0xff0) << 4)) &
		       (m->cap - 1);
	}
	/* splitmix64 finalizer: kernel pointers share their high bits */
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebULL;
	key ^= key >> 31;
	return key & (m->cap - 1);
}

void ia_u64map_init(struct ia_u64map *m)
{
	m->slots = NULL;
	m->cap = 0;
	m->len = 0;
	m->near = 0;
}

void ia_u64map_init_near(struct ia_u64map *m)
{
	ia_u64map_init(m);
	m->near = 1;
}

void ia_u64map_free(struct ia_u64map *m)
{
	int near = m->near;

	free(m->slots);
	ia_u64map_init(m);
	m->near = near;
}

void ia_u64map_free_values(struct ia_u64map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].val);
	ia_u64map_free(m);
}

void **ia_u64map_find(const struct ia_u64map *m, __u64 key)
{
	if (!m->cap || !key)
		return NULL;
	for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].key == key)
			return &m->slots[i].val;
		if (!m->slots[i].key)
			return NULL;
	}
}

void *ia_u64map_lookup(const struct ia_u64map *m, __u64 key)
{
	void **slot = ia_u64map_find(m, key);

	return slot ? *slot : NULL;
}

int ia_u64map_grow(struct ia_u64map *m)
{
	struct ia_u64map old = *m;
	size_t cap = old.cap ? old.cap * 2 : 64;

	m->slots = calloc(cap, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return -ENOMEM;
	}
	/* a big table is written all over by the rehash below (calloc gave
	 * it fresh from mmap, untouched): in huge pages, not one fault per
	 * 4 KiB (the set of unmapped handles of a 10 M-record trace grows to
	 * 64 MiB: 44 000 faults) */
	if (cap * sizeof(*m->slots) >= IA_U64MAP_HUGE_FROM)
		ia_mem_advise_huge(m->slots, cap * sizeof(*m->slots));
	m->cap = cap;
	m->len = old.len;
	/* each key into the first empty slot from its home, in the old
	 * table's order (what ia_u64map_put would do: the keys are distinct
	 * and the new table has room, so no compare and no load check) */
	for (size_t i = 0; i < old.cap; i++) {
		size_t j;

		if (!old.slots[i].key)
			continue;
		for (j = slot_of(m, old.slots[i].key); m->slots[j].key; j = (j + 1) & (cap - 1))
			;
		m->slots[j] = old.slots[i];
	}
	free(old.slots);
	return 0;
}

void **ia_u64map_slot(struct ia_u64map *m, __u64 key, int *added)
{
	size_t i;

	*added = 0;
	if (!key)
		return NULL;
	if (m->cap) {	/* one probe: the key, or the empty slot for it */
		for (i = slot_of(m, key); m->slots[i].key; i = (i + 1) & (m->cap - 1))
			if (m->slots[i].key == key)
				return &m->slots[i].val;
		if (ia_u64map_full(m))
			i = m->cap;
	}
	if (!m->cap || i == m->cap) {
		if (ia_u64map_grow(m))
			return NULL;
		for (i = slot_of(m, key); m->slots[i].key; i = (i + 1) & (m->cap - 1))
			;
	}
	m->slots[i].key = key;
	m->slots[i].val = NULL;
	m->len++;
	*added = 1;
	return &m->slots[i].val;
}

int ia_u64map_put(struct ia_u64map *m, __u64 key, void *val, void **old)
{
	void *dummy, **slot;
	int added;

	if (!old)
		old = &dummy;
	*old = NULL;
	if (!key)
		return -EINVAL;
	slot = ia_u64map_slot(m, key, &added);
	if (!slot)
		return -ENOMEM;
	if (!added)
		*old = *slot;
	*slot = val;
	return 0;
}

void *ia_u64map_remove(struct ia_u64map *m, __u64 key)
{
	size_t i, j, mask = m->cap - 1;
	void *val;

	if (!m->cap || !key)
		return NULL;
	for (i = slot_of(m, key); m->slots[i].key != key; i = (i + 1) & mask)
		if (!m->slots[i].key)
			return NULL;
	val = m->slots[i].val;
	/* backward shift: pull later entries of the run into the hole */
	for (j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = slot_of(m, m->slots[j].key);

		/* move j to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = 0;
	m->slots[i].val = NULL;
	m->len--;
	return val;
}

int ia_u64map_next(const struct ia_u64map *m, size_t *it, __u64 *key, void **val)
{
	for (; *it < m->cap; (*it)++) {
		if (m->slots[*it].key) {
			*key = m->slots[*it].key;
			*val = m->slots[*it].val;
			(*it)++;
			return 1;
		}
	}
	return 0;
}
