/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Interval tree: an AVL tree of half-open ranges [start, end) ordered by
 * start (ties by node address), each node augmented with the largest end in
 * its subtree, so "what overlaps [a, b)" costs O(log n + matches). Ranges may
 * overlap (a tree whose ranges are disjoint answers lookups faster: see
 * itree.c). A zeroed struct ia_itree is an empty tree. Nodes are embedded in the caller's structs (container_of style):
 * the tree allocates nothing.
 */
#ifndef IA_ITREE_H
#define IA_ITREE_H

#include <stddef.h>
#include <linux/types.h>

struct ia_inode {
	__u64 start, end;	/* [start, end), end > start */
	__u64 max_end;		/* largest end in this subtree */
	struct ia_inode *left, *right;
	int height;
};

struct ia_itree {
	struct ia_inode *root;
	size_t count;
	struct ia_inode *hint;	/* the node last inserted, or NULL */
	int overlapping;	/* 0: the ranges are known to be disjoint */
};

#define ia_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

static inline void ia_itree_init(struct ia_itree *t)
{
	t->root = NULL;
	t->count = 0;
	t->hint = NULL;
	t->overlapping = 0;
}

/* n->start and n->end must be set; n must not be in a tree. */
void ia_itree_insert(struct ia_itree *t, struct ia_inode *n);
/* n must be in t. */
void ia_itree_remove(struct ia_itree *t, struct ia_inode *n);

/*
 * Call fn for each node overlapping [start, end), in start order, until fn
 * returns non-zero (which is then returned). fn must not change the tree.
 */
int ia_itree_overlaps(const struct ia_itree *t, __u64 start, __u64 end,
		      int (*fn)(struct ia_inode *n, void *ctx), void *ctx);

/* The node containing addr with the greatest start, or NULL. */
struct ia_inode *ia_itree_find(const struct ia_itree *t, __u64 addr);

/* Empty the tree, calling fn on every node children first: fn may free it. */
void ia_itree_destroy(struct ia_itree *t, void (*fn)(struct ia_inode *n, void *ctx),
		      void *ctx);

/* Every node, in start order (fn may not change the tree). */
int ia_itree_each(const struct ia_itree *t, int (*fn)(struct ia_inode *n, void *ctx),
		  void *ctx);

#endif
