/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Interval tree: an AVL tree of half-open ranges [start, end) ordered by
 * start (ties by node address), each node augmented with the largest end in
 * its subtree, so "what overlaps [a, b)" costs O(log n + matches). Ranges may
 * overlap (a tree whose ranges are disjoint answers lookups faster: see
 * itree.c). A tree's nodes are objects of one pool (pool.h), each starting
 * with its struct ia_inode, linked by their 32-bit handles: a node is 32
 * bytes, which keeps a page-table entry with its owner in 64 (issue 15).
 * The tree allocates nothing.
 */
#ifndef IA_ITREE_H
#define IA_ITREE_H

#include <stddef.h>
#include <linux/types.h>
#include "lib/pool.h"

/* Handles a tree can link: the top 3 bits of each link hold half of the
 * node's height (AVL: 42 levels at most for 2^29 nodes; a disjoint tree's
 * node holds its balance factor there instead). */
#define IA_ITREE_MAX_NODES	((1u << 29) - 1)

struct ia_inode {
	__u64 start, end;	/* [start, end), end > start */
	__u64 max_end;		/* largest end in this subtree; while the
				 * tree's ranges are disjoint, its parent's
				 * handle instead (itree.c) */
	__u32 left, right;	/* links (itree.c); read them with ia_itree_left/right */
};

struct ia_itree {
	const struct ia_pool *pool;	/* the nodes' objects (limit <= IA_ITREE_MAX_NODES) */
	__u32 root;
	__u32 hint;		/* the node last inserted, or 0 */
	__u32 lo, hi;		/* disjoint: the first and the last node (0: none) */
	size_t count;
	int overlapping;	/* 0: the ranges are known to be disjoint */
};

#define ia_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

static inline void ia_itree_init(struct ia_itree *t, const struct ia_pool *pool)
{
	t->pool = pool;
	t->root = 0;
	t->hint = 0;
	t->lo = t->hi = 0;
	t->count = 0;
	t->overlapping = 0;
}

/* The node of handle h (0: NULL). */
static inline struct ia_inode *ia_itree_node(const struct ia_itree *t, __u32 h)
{
	return h ? (struct ia_inode *)ia_pool_at(t->pool, h) : NULL;
}

/* The node of handle h must have start and end set and not be in a tree. */
void ia_itree_insert(struct ia_itree *t, __u32 h);
/* n must be in t; returns its handle (0 when it was not). */
__u32 ia_itree_remove(struct ia_itree *t, struct ia_inode *n);
/* A tree of disjoint ranges (not overlapping): remove the node holding
 * addr and return its handle; 0 (nothing removed) when no node holds it or
 * the ranges may overlap. */
__u32 ia_itree_take(struct ia_itree *t, __u64 addr);

/*
 * Call fn for each node overlapping [start, end), in start order, until fn
 * returns non-zero (which is then returned). fn must not change the tree.
 */
int ia_itree_overlaps(const struct ia_itree *t, __u64 start, __u64 end,
		      int (*fn)(struct ia_inode *n, void *ctx), void *ctx);

/* The node containing addr with the greatest start, or NULL. */
struct ia_inode *ia_itree_find(const struct ia_itree *t, __u64 addr);

/* Every node, in start order (fn may not change the tree). */
int ia_itree_each(const struct ia_itree *t, int (*fn)(struct ia_inode *n, void *ctx),
		  void *ctx);

/* The shape, for tests: children (NULL: none), an overlapping tree's
 * node's height (1 for a leaf), a disjoint tree's node's balance factor
 * (its right subtree's height less its left's). */
struct ia_inode *ia_itree_left(const struct ia_itree *t, const struct ia_inode *n);
struct ia_inode *ia_itree_right(const struct ia_itree *t, const struct ia_inode *n);
int ia_itree_height(const struct ia_inode *n);
int ia_itree_balance(const struct ia_inode *n);

#endif
