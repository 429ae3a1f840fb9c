// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * AVL interval tree (itree.h). Insert and remove are iterative: the path
 * from the root is kept on a stack and walked back up only as far as a
 * height or a max_end changes (most inserts stop one or two levels up).
 * The tree also knows whether its ranges are disjoint (the common case of
 * a page table): then a lookup first tries the node it last inserted or
 * found, and a point lookup is one descent without a callback.
 */
#include "lib/itree.h"

/* AVL height <= 1.44 log2(n + 2): 96 levels is more than 2^64 nodes. */
#define PATH_MAX_DEPTH 96

static int height(const struct ia_inode *n)
{
	return n ? n->height : 0;
}

static __u64 max_end(const struct ia_inode *n)
{
	return n ? n->max_end : 0;
}

static void update(struct ia_inode *n)
{
	int hl = height(n->left), hr = height(n->right);
	__u64 m = n->end;

	n->height = 1 + (hl > hr ? hl : hr);
	if (max_end(n->left) > m)
		m = max_end(n->left);
	if (max_end(n->right) > m)
		m = max_end(n->right);
	n->max_end = m;
}

static struct ia_inode *rot_right(struct ia_inode *n)
{
	struct ia_inode *l = n->left;

	n->left = l->right;
	l->right = n;
	update(n);
	update(l);
	return l;
}

static struct ia_inode *rot_left(struct ia_inode *n)
{
	struct ia_inode *r = n->right;

	n->right = r->left;
	r->left = n;
	update(n);
	update(r);
	return r;
}

static struct ia_inode *balance(struct ia_inode *n)
{
	int b;

	update(n);
	b = height(n->left) - height(n->right);
	if (b > 1) {
		if (height(n->left->left) < height(n->left->right))
			n->left = rot_left(n->left);
		return rot_right(n);
	}
	if (b < -1) {
		if (height(n->right->right) < height(n->right->left))
			n->right = rot_right(n->right);
		return rot_left(n);
	}
	return n;
}

/* Total order: start, then address (equal starts are allowed). */
static int before(const struct ia_inode *a, const struct ia_inode *b)
{
	if (a->start != b->start)
		return a->start < b->start;
	return a < b;
}

/* Put nn where old was: under parent (NULL: at the root). */
static void replace_child(struct ia_itree *t, struct ia_inode *parent,
			  struct ia_inode *old, struct ia_inode *nn)
{
	if (!parent)
		t->root = nn;
	else if (parent->left == old)
		parent->left = nn;
	else
		parent->right = nn;
}

/*
 * After an insert below path[depth - 1] (path[0] the root): rebalance from
 * the bottom up while heights change; once a subtree's height comes out as
 * it was, nothing above changes (max_end was raised on the way down).
 */
static void fix_insert(struct ia_itree *t, struct ia_inode **path, int depth)
{
	while (depth-- > 0) {
		struct ia_inode *n = path[depth], *nn;
		int h = n->height;

		nn = balance(n);
		replace_child(t, depth ? path[depth - 1] : NULL, n, nn);
		if (nn->height == h)
			return;
	}
}

void ia_itree_insert(struct ia_itree *t, struct ia_inode *n)
{
	struct ia_inode *path[PATH_MAX_DEPTH], *cur = t->root, *pred = NULL, *succ = NULL;
	int depth = 0, left = 0;

	n->left = n->right = NULL;
	n->height = 1;
	n->max_end = n->end;
	while (cur && depth < PATH_MAX_DEPTH) {
		path[depth++] = cur;
		if (cur->max_end < n->end)
			cur->max_end = n->end;	/* n will be in its subtree */
		left = before(n, cur);
		if (left) {
			succ = cur;
			cur = cur->left;
		} else {
			pred = cur;
			cur = cur->right;
		}
	}
	/* disjoint until now: n overlaps something iff it overlaps a neighbour */
	if ((pred && pred->end > n->start) || (succ && succ->start < n->end))
		t->overlapping = 1;
	if (!depth)
		t->root = n;
	else if (left)
		path[depth - 1]->left = n;
	else
		path[depth - 1]->right = n;
	t->count++;
	t->hint = n;
	fix_insert(t, path, depth);
}

void ia_itree_remove(struct ia_itree *t, struct ia_inode *n)
{
	struct ia_inode *path[PATH_MAX_DEPTH], *cur = t->root, *repl;
	int depth = 0, at, limit = PATH_MAX_DEPTH, oh = n->height;
	__u64 ome = n->max_end;

	while (cur && cur != n && depth < PATH_MAX_DEPTH) {
		path[depth++] = cur;
		cur = before(n, cur) ? cur->left : cur->right;
	}
	if (cur != n)
		return;	/* not in t: the caller broke the contract */
	if (t->hint == n)
		t->hint = NULL;
	at = depth;	/* where n is on the path */
	if (n->left && n->right) {
		/* n's place goes to the minimum m of its right subtree */
		struct ia_inode *m = n->right;

		path[depth++] = n;
		while (m->left) {
			path[depth++] = m;
			m = m->left;
		}
		if (path[depth - 1] == n)
			n->right = m->right;
		else
			path[depth - 1]->left = m->right;
		m->left = n->left;
		m->right = n->right;
		path[at] = m;
		repl = m;
		limit = at;	/* m's fields are stale until it is rebalanced */
	} else {
		repl = n->left ? n->left : n->right;
	}
	replace_child(t, at ? path[at - 1] : NULL, n, repl);
	if (!--t->count)
		t->overlapping = 0;
	/* bottom up; stop where a subtree's height and max_end come out as
	 * they were (for m's place: as n's were) */
	while (depth-- > 0) {
		struct ia_inode *x = path[depth], *nx;
		int h = depth == at ? oh : x->height;
		__u64 me = depth == at ? ome : x->max_end;

		nx = balance(x);
		replace_child(t, depth ? path[depth - 1] : NULL, x, nx);
		if (depth <= limit && nx->height == h && nx->max_end == me)
			return;
	}
}

static int overlaps(struct ia_inode *n, __u64 start, __u64 end,
		    int (*fn)(struct ia_inode *, void *), void *ctx)
{
	int ret;

	if (!n || n->max_end <= start)
		return 0;	/* nothing here ends after start */
	ret = overlaps(n->left, start, end, fn, ctx);
	if (ret)
		return ret;
	if (n->start >= end)
		return 0;	/* this and everything right start too late */
	if (n->end > start) {
		ret = fn(n, ctx);
		if (ret)
			return ret;
	}
	return overlaps(n->right, start, end, fn, ctx);
}

/*
 * Disjoint ranges are sorted by end as well as by start: walk in order from
 * the first node ending after start, with the stack of nodes left of which
 * the walk went (their in-order successors), until one starts at end.
 */
static int overlaps_disjoint(struct ia_inode *root, __u64 start, __u64 end,
			     int (*fn)(struct ia_inode *, void *), void *ctx)
{
	struct ia_inode *stack[PATH_MAX_DEPTH], *cur = root;
	int depth = 0, ret;

	while (cur) {
		if (cur->end > start) {
			stack[depth++] = cur;
			cur = cur->left;
		} else {
			cur = cur->right;
		}
	}
	while (depth) {
		struct ia_inode *n = stack[--depth];

		if (n->start >= end)
			return 0;
		ret = fn(n, ctx);
		if (ret)
			return ret;
		for (cur = n->right; cur; cur = cur->left)
			stack[depth++] = cur;
	}
	return 0;
}

int ia_itree_overlaps(const struct ia_itree *t, __u64 start, __u64 end,
		      int (*fn)(struct ia_inode *n, void *ctx), void *ctx)
{
	const struct ia_inode *h = t->hint;

	if (start >= end)
		return 0;
	if (t->overlapping)
		return overlaps(t->root, start, end, fn, ctx);
	/* a hint holding all of [start, end) is all there is */
	if (h && h->start <= start && h->end >= end)
		return fn((struct ia_inode *)h, ctx);
	return overlaps_disjoint(t->root, start, end, fn, ctx);
}

struct find_ctx {
	struct ia_inode *best;
};

static int keep_last(struct ia_inode *n, void *ctx)
{
	((struct find_ctx *)ctx)->best = n;
	return 0;
}

struct ia_inode *ia_itree_find(const struct ia_itree *t, __u64 addr)
{
	struct ia_inode *cur = t->root, *best = NULL;
	struct find_ctx c = { NULL };

	if (t->overlapping) {
		ia_itree_overlaps(t, addr, addr + 1, keep_last, &c);
		return c.best;
	}
	if (t->hint && t->hint->start <= addr && addr < t->hint->end)
		return t->hint;
	/* disjoint: the node with the greatest start <= addr, if it holds addr */
	while (cur) {
		if (cur->start <= addr) {
			best = cur;
			cur = cur->right;
		} else {
			cur = cur->left;
		}
	}
	return best && addr < best->end ? best : NULL;
}

static int each(struct ia_inode *n, int (*fn)(struct ia_inode *, void *), void *ctx)
{
	int ret;

	if (!n)
		return 0;
	ret = each(n->left, fn, ctx);
	if (ret)
		return ret;
	ret = fn(n, ctx);
	if (ret)
		return ret;
	return each(n->right, fn, ctx);
}

int ia_itree_each(const struct ia_itree *t, int (*fn)(struct ia_inode *n, void *ctx),
		  void *ctx)
{
	return each(t->root, fn, ctx);
}

static void destroy(struct ia_inode *n, void (*fn)(struct ia_inode *, void *), void *ctx)
{
	if (!n)
		return;
	destroy(n->left, fn, ctx);
	destroy(n->right, fn, ctx);
	fn(n, ctx);
}

void ia_itree_destroy(struct ia_itree *t, void (*fn)(struct ia_inode *n, void *ctx),
		      void *ctx)
{
	destroy(t->root, fn, ctx);
	t->root = NULL;
	t->count = 0;
	t->hint = NULL;
	t->overlapping = 0;
}
