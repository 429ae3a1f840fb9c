// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include "lib/u64stage.h"

void ia_u64stage_init(struct ia_u64stage *s)
{
	ia_u64map_init(&s->m);
	s->key = 0;
	s->val = NULL;
}

void ia_u64stage_free(struct ia_u64stage *s)
{
	ia_u64map_free(&s->m);
	s->key = 0;
	s->val = NULL;
}

/* The staged key into the table, where the plain map has it. Its growth
 * was made when it was staged and nothing changed the table since: the
 * insert allocates nothing and cannot fail. */
static void flush(struct ia_u64stage *s)
{
	int added;
	void **slot;

	if (!s->key)
		return;
	slot = ia_u64map_slot(&s->m, s->key, &added);
	*slot = s->val;
	s->key = 0;
	s->val = NULL;
}

void *ia_u64stage_get(const struct ia_u64stage *s, __u64 key)
{
	if (key && key == s->key)
		return s->val;
	return s->m.len ? ia_u64map_get(&s->m, key) : NULL;	/* no hash when empty */
}

void **ia_u64stage_slot(struct ia_u64stage *s, __u64 key, int *added)
{
	void **slot;

	*added = 0;
	if (!key)
		return NULL;
	if (key == s->key)
		return &s->val;
	if (s->m.len && (slot = ia_u64map_find(&s->m, key)))
		return slot;	/* found: the table is not changed */
	flush(s);
	if (ia_u64map_reserve(&s->m))
		return NULL;
	s->key = key;
	s->val = NULL;
	*added = 1;
	return &s->val;
}

int ia_u64stage_put(struct ia_u64stage *s, __u64 key, void *val)
{
	int added;
	void **slot;

	if (!key)
		return -EINVAL;
	slot = ia_u64stage_slot(s, key, &added);
	if (!slot)
		return -ENOMEM;
	*slot = val;
	return 0;
}

void *ia_u64stage_del(struct ia_u64stage *s, __u64 key)
{
	void *val;

	if (key && key == s->key) {	/* as if never added */
		val = s->val;
		s->key = 0;
		s->val = NULL;
		return val;
	}
	flush(s);
	return s->m.len ? ia_u64map_del(&s->m, key) : NULL;
}

size_t ia_u64stage_len(const struct ia_u64stage *s)
{
	return s->m.len + (s->key != 0);
}

const struct ia_u64map *ia_u64stage_map(struct ia_u64stage *s)
{
	flush(s);
	return &s->m;
}
