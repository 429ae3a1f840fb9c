/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Open-addressing hash map from a non-zero __u64 key (kernel pointers,
 * request ids) to a pointer. Linear probing with backward-shift deletion,
 * so no tombstones build up under steady map/unmap churn.
 */
#ifndef IA_U64MAP_H
#define IA_U64MAP_H

#include <stddef.h>
#include <linux/types.h>

struct ia_u64map_slot {
	__u64 key;	/* 0: empty */
	void *val;
};

struct ia_u64map {
	struct ia_u64map_slot *slots;
	size_t cap;	/* power of two */
	size_t len;
	int near;	/* ia_u64map_init_near() */
};

void ia_u64map_init(struct ia_u64map *m);
/*
 * The same for a map whose keys are DMA handles and that is never iterated
 * in an order that matters: keys in neighbouring pages go into neighbouring
 * slots, so that a run of handles (an IOVA allocator hands them out in
 * runs) is a run of memory rather than a cache miss per key. (The default
 * hash scatters them: kernel pointers share their high bits.)
 */
void ia_u64map_init_near(struct ia_u64map *m);
void ia_u64map_free(struct ia_u64map *m);	/* values are the caller's */
/* free() every value, then the map. */
void ia_u64map_free_values(struct ia_u64map *m);
/* The value of key, NULL if absent. Inline for an empty map (many of a
 * device's are, and are asked at every request): no call, no hash. */
void *ia_u64map_lookup(const struct ia_u64map *m, __u64 key);

static inline void *ia_u64map_get(const struct ia_u64map *m, __u64 key)
{
	return m->len ? ia_u64map_lookup(m, key) : NULL;
}

/* The value slot of key, NULL if absent (valid until the next change of m). */
void **ia_u64map_find(const struct ia_u64map *m, __u64 key);
/* Insert or replace; 0 or -ENOMEM. key must not be 0. *old (when old is
 * not NULL) is the value replaced, NULL for a new key: a map that owns its
 * values must pass old and free or keep what it gets back; old NULL is for
 * values the map does not own (tokens, indices). */
int ia_u64map_put(struct ia_u64map *m, __u64 key, void *val, void **old);
/*
 * The value slot of key, added (value NULL, *added 1) when absent: a get
 * and a put in one probe. The slot is valid until the next change of m;
 * an added key must get its value, or be deleted. NULL for key 0 or
 * -ENOMEM (nothing added).
 */
void **ia_u64map_slot(struct ia_u64map *m, __u64 key, int *added);
/* Remove and return the value, NULL if absent (inline for an empty map). */
void *ia_u64map_remove(struct ia_u64map *m, __u64 key);

static inline void *ia_u64map_del(struct ia_u64map *m, __u64 key)
{
	return m->len ? ia_u64map_remove(m, key) : NULL;
}
/* Double the table (the first: 64 slots): 0, or -ENOMEM. A table of
 * IA_U64MAP_HUGE_FROM bytes or more asks for huge pages (lib/hugemem.h). */
#define IA_U64MAP_HUGE_FROM	((size_t)4 << 20)
int ia_u64map_grow(struct ia_u64map *m);

/* Would adding a key make m fuller than three quarters? */
static inline int ia_u64map_full(const struct ia_u64map *m)
{
	return !m->cap || (m->len + 1) * 4 > m->cap * 3;
}

/* Grow now if adding a key m lacks would (ia_u64map_slot grows before it
 * adds): 0, or -ENOMEM. The next such key is then added with no growth.
 * Inline: most calls find room. */
static inline int ia_u64map_reserve(struct ia_u64map *m)
{
	return ia_u64map_full(m) ? ia_u64map_grow(m) : 0;
}

/* Iterate: for (size_t i = 0; ia_u64map_next(m, &i, &k, &v); ) */
int ia_u64map_next(const struct ia_u64map *m, size_t *it, __u64 *key, void **val);

#endif
