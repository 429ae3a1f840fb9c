// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "lib/itree.h"

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

static struct ia_inode *insert(struct ia_inode *root, struct ia_inode *n)
{
	if (!root)
		return n;
	if (before(n, root))
		root->left = insert(root->left, n);
	else
		root->right = insert(root->right, n);
	return balance(root);
}

void ia_itree_insert(struct ia_itree *t, struct ia_inode *n)
{
	n->left = n->right = NULL;
	n->height = 1;
	n->max_end = n->end;
	t->root = insert(t->root, n);
	t->count++;
}

/* Detach the minimum of a subtree into *min; returns the new subtree. */
static struct ia_inode *take_min(struct ia_inode *root, struct ia_inode **min)
{
	if (!root->left) {
		*min = root;
		return root->right;
	}
	root->left = take_min(root->left, min);
	return balance(root);
}

static struct ia_inode *remove_node(struct ia_inode *root, struct ia_inode *n)
{
	struct ia_inode *m;

	if (!root)
		return NULL;	/* not found: the caller broke the contract */
	if (root == n) {
		if (!root->left)
			return root->right;
		if (!root->right)
			return root->left;
		root->right = take_min(root->right, &m);
		m->left = root->left;
		m->right = root->right;
		return balance(m);
	}
	if (before(n, root))
		root->left = remove_node(root->left, n);
	else
		root->right = remove_node(root->right, n);
	return balance(root);
}

void ia_itree_remove(struct ia_itree *t, struct ia_inode *n)
{
	t->root = remove_node(t->root, n);
	t->count--;
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

int ia_itree_overlaps(const struct ia_itree *t, __u64 start, __u64 end,
		      int (*fn)(struct ia_inode *n, void *ctx), void *ctx)
{
	return start < end ? overlaps(t->root, start, end, fn, ctx) : 0;
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
	struct find_ctx c = { NULL };

	ia_itree_overlaps(t, addr, addr + 1, keep_last, &c);
	return c.best;
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
}
