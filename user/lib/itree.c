// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * AVL interval tree (itree.h). Insert and remove are iterative: the path
 * from the root is kept on a stack and walked back up only as far as a
 * height or a max_end changes (most inserts stop one or two levels up).
 * The tree also knows whether its ranges are disjoint (the common case of
 * a page table): then a lookup first tries the node it last inserted or
 * found, and a point lookup is one descent without a callback.
 *
 * Links are pool handles (29 bits); a node's height (6 bits; a disjoint
 * tree's: its balance factor) is kept in the top 3 bits of each of its two
 * links, so that a node is 32 bytes.
 *
 * While the ranges are disjoint, max_end is redundant (a subtree's largest
 * end is its last node's) and holds the node's parent instead: inserts and
 * removals rebalance upwards by the parent links, with no path from the
 * root, so an insert after the last node or before the first, and the
 * removal of the last, the first or the node last inserted, cost no
 * descent (insert_up: how IOVAs come and go), and balance factors instead
 * of heights let the climb and its rotations look at no other node than
 * the ones they move (grew, shrank). The first overlapping insert computes
 * every max_end and height (once: the tree stays overlapping until it is
 * empty) and the path-stack code takes over.
 */
#include <stdbool.h>
#include "lib/itree.h"

/* AVL height <= 1.44 log2(n + 2): 96 levels is more than 2^64 nodes. */
#define PATH_MAX_DEPTH 96
#define LINK_BITS	29
#define LINK_MASK	((1u << LINK_BITS) - 1)

_Static_assert(sizeof(struct ia_inode) == 32, "an ia_inode is 32 bytes");
_Static_assert(IA_ITREE_MAX_NODES == LINK_MASK, "handles fit a link");

static struct ia_inode *node(const struct ia_itree *t, __u32 h)
{
	return ia_itree_node(t, h);
}

static __u32 lh(const struct ia_inode *n)
{
	return n->left & LINK_MASK;
}

static __u32 rh(const struct ia_inode *n)
{
	return n->right & LINK_MASK;
}

static void set_l(struct ia_inode *n, __u32 h)
{
	n->left = (n->left & ~LINK_MASK) | h;
}

static void set_r(struct ia_inode *n, __u32 h)
{
	n->right = (n->right & ~LINK_MASK) | h;
}

static int height(const struct ia_inode *n)
{
	return n ? (int)((n->left >> LINK_BITS) << 3 | n->right >> LINK_BITS) : 0;
}

static void set_height(struct ia_inode *n, int h)
{
	n->left = (n->left & LINK_MASK) | (__u32)(h >> 3) << LINK_BITS;
	n->right = (n->right & LINK_MASK) | (__u32)(h & 7) << LINK_BITS;
}

static __u64 max_end(const struct ia_inode *n)
{
	return n ? n->max_end : 0;
}

/* A disjoint tree's parent links (in max_end; 0: the root). */
static __u32 up(const struct ia_inode *n)
{
	return (__u32)n->max_end;
}

static void set_up(const struct ia_itree *t, __u32 h, __u32 parent)
{
	if (h && !t->overlapping)
		node(t, h)->max_end = parent;
}

/* p's (handle hp) left / right child becomes h, and h's parent p. */
static void link_l(const struct ia_itree *t, __u32 hp, struct ia_inode *p, __u32 h)
{
	set_l(p, h);
	set_up(t, h, hp);
}

static void link_r(const struct ia_itree *t, __u32 hp, struct ia_inode *p, __u32 h)
{
	set_r(p, h);
	set_up(t, h, hp);
}

/* n's height and (overlapping tree) max_end from its children l and r
 * (NULL: none) and their heights hl and hr. */
static void set_from(const struct ia_itree *t, struct ia_inode *n, const struct ia_inode *l,
		     const struct ia_inode *r, int hl, int hr)
{
	__u64 m = n->end;

	set_height(n, 1 + (hl > hr ? hl : hr));
	if (!t->overlapping)
		return;
	if (max_end(l) > m)
		m = max_end(l);
	if (max_end(r) > m)
		m = max_end(r);
	n->max_end = m;
}

static void update(const struct ia_itree *t, struct ia_inode *n)
{
	struct ia_inode *l = node(t, lh(n)), *r = node(t, rh(n));

	set_from(t, n, l, r, height(l), height(r));
}

static __u32 rot_right(const struct ia_itree *t, __u32 hn)
{
	struct ia_inode *n = node(t, hn);
	__u32 hl = lh(n);
	struct ia_inode *l = node(t, hl);

	link_l(t, hn, n, rh(l));
	link_r(t, hl, l, hn);
	update(t, n);
	update(t, l);
	return hl;
}

static __u32 rot_left(const struct ia_itree *t, __u32 hn)
{
	struct ia_inode *n = node(t, hn);
	__u32 hr = rh(n);
	struct ia_inode *r = node(t, hr);

	link_r(t, hn, n, lh(r));
	link_l(t, hr, r, hn);
	update(t, n);
	update(t, r);
	return hr;
}

/* n's subtree balanced; its root, whose height goes to *hp. A node needing
 * no rotation (most) is updated from the children's heights read once; a
 * rotation updates the nodes it moves itself. */
static __u32 balance(const struct ia_itree *t, __u32 hn, int *hp)
{
	struct ia_inode *n = node(t, hn), *l = node(t, lh(n)), *r = node(t, rh(n));
	int hl = height(l), hr = height(r);
	__u32 top;

	if (hl > hr + 1) {
		if (height(node(t, lh(l))) < height(node(t, rh(l))))
			link_l(t, hn, n, rot_left(t, lh(n)));
		top = rot_right(t, hn);
	} else if (hr > hl + 1) {
		if (height(node(t, rh(r))) < height(node(t, lh(r))))
			link_r(t, hn, n, rot_right(t, rh(n)));
		top = rot_left(t, hn);
	} else {
		set_from(t, n, l, r, hl, hr);
		*hp = 1 + (hl > hr ? hl : hr);
		return hn;
	}
	*hp = height(node(t, top));
	return top;
}

/* Total order: start, then address (equal starts are allowed). */
static int before(const struct ia_inode *a, const struct ia_inode *b)
{
	if (a->start != b->start)
		return a->start < b->start;
	return a < b;
}

/* Put nn where old was: under parent (0: at the root). */
static void replace_child(struct ia_itree *t, __u32 parent, __u32 old, __u32 nn)
{
	struct ia_inode *p = node(t, parent);

	if (!p)
		t->root = nn;
	else if (lh(p) == old)
		set_l(p, nn);
	else
		set_r(p, nn);
	set_up(t, nn, parent);
}

/*
 * After an insert below path[depth - 1] (path[0] the root): rebalance from
 * the bottom up while heights change; once a subtree's height comes out as
 * it was, nothing above changes (max_end was raised on the way down).
 */
static void fix_insert(struct ia_itree *t, const __u32 *path, int depth)
{
	while (depth-- > 0) {
		__u32 n = path[depth], nn;
		int h = height(node(t, n)), nh;

		nn = balance(t, n, &nh);
		if (nn != n)	/* rotated: the parent's link moves */
			replace_child(t, depth ? path[depth - 1] : 0, n, nn);
		if (nh == h)
			return;
	}
}

/* ---- disjoint trees: parent links ---- */

/* Child d of n: 0 left, 1 right. */
static __u32 child(const struct ia_inode *n, int d)
{
	return d ? rh(n) : lh(n);
}

static void set_child(struct ia_inode *n, int d, __u32 h)
{
	if (d)
		set_r(n, h);
	else
		set_l(n, h);
}

/*
 * A disjoint tree keeps each node's balance factor (its right subtree's
 * height less its left's: -1, 0 or 1), plus one, where an overlapping tree
 * keeps the node's height: rebalancing knows from a node alone which side
 * is higher, so neither a climb nor a rotation reads a sibling's or a
 * grandchild's height (at the moving ends of a window of IOVAs, those
 * reads were most of the tree's work). The shapes are the AVL ones the
 * heights give: the same rotations in the same places.
 */
static int bf(const struct ia_inode *n)
{
	return height(n) - 1;
}

static void set_bf(struct ia_inode *n, int b)
{
	set_height(n, b + 1);
}

/*
 * Rotate n (handle hn), whose side d (0 left, 1 right) is two levels
 * higher than the other, with its child there (single) or that child's
 * inner child (double); the balance factors as they come out. Returns the
 * subtree's new root (its parent link set by the caller, replace_child);
 * *same: its height is what it was before n's side grew (only a single
 * rotation over a balanced child, which only a removal makes).
 */
static __u32 rotate_bf(const struct ia_itree *t, __u32 hn, struct ia_inode *n, int d,
		       bool *same)
{
	__u32 hc = child(n, d), hg;
	struct ia_inode *c = node(t, hc), *g;
	int s = d ? 1 : -1, bc = bf(c), bg;

	if (bc != -s) {
		/* single: c rises, its inner subtree goes to n */
		__u32 hin = child(c, !d);

		set_child(n, d, hin);
		set_up(t, hin, hn);
		set_child(c, !d, hn);
		n->max_end = hc;
		*same = !bc;
		set_bf(n, bc ? 0 : s);
		set_bf(c, bc ? 0 : -s);
		return hc;
	}
	/* double: c's inner child g rises over both */
	hg = child(c, !d);
	g = node(t, hg);
	bg = bf(g);
	set_child(c, !d, child(g, d));
	set_up(t, child(g, d), hc);
	set_child(n, d, child(g, !d));
	set_up(t, child(g, !d), hn);
	set_child(g, d, hc);
	c->max_end = hg;
	set_child(g, !d, hn);
	n->max_end = hg;
	set_bf(n, bg == s ? -s : 0);
	set_bf(c, bg == -s ? s : 0);
	set_bf(g, 0);
	*same = false;
	return hg;
}

/* The side of p (handle) that child h is on: 0 left, 1 right. */
static int side_of(const struct ia_itree *t, __u32 p, __u32 h)
{
	return rh(node(t, p)) == h;
}

/* After an insert below x on side d (its subtree there one level higher):
 * climb while heights grow; a rotation ends it. */
static void grew(struct ia_itree *t, __u32 x, int d)
{
	while (x) {
		struct ia_inode *n = node(t, x);
		int s = d ? 1 : -1, b = bf(n);
		__u32 p = up(n), nx;
		bool same;

		if (b == -s) {		/* the lower side caught up */
			set_bf(n, 0);
			return;
		}
		if (!b) {		/* x's subtree grew too */
			set_bf(n, s);
			if (p)
				d = side_of(t, p, x);
			x = p;
			continue;
		}
		nx = rotate_bf(t, x, n, d, &same);	/* back to its old height */
		replace_child(t, p, x, nx);
		return;
	}
}

/* After a removal below x on side d (its subtree there one level lower):
 * climb while heights shrink. */
static void shrank(struct ia_itree *t, __u32 x, int d)
{
	while (x) {
		struct ia_inode *n = node(t, x);
		int s = d ? 1 : -1, b = bf(n);
		__u32 p = up(n), nx = x;
		bool same = false;

		if (!b) {		/* the other side holds the height */
			set_bf(n, -s);
			return;
		}
		if (b == s) {
			set_bf(n, 0);	/* x's subtree is lower too */
		} else {
			nx = rotate_bf(t, x, n, !d, &same);
			replace_child(t, p, x, nx);
			if (same)
				return;
		}
		if (p)
			d = side_of(t, p, nx);
		x = p;
	}
}

/* The last (first) node of h's subtree. */
static __u32 last_of(const struct ia_itree *t, __u32 h)
{
	while (rh(node(t, h)))
		h = rh(node(t, h));
	return h;
}

static __u32 first_of(const struct ia_itree *t, __u32 h)
{
	while (lh(node(t, h)))
		h = lh(node(t, h));
	return h;
}

/* The tree turned overlapping: every max_end and height from its subtree
 * (the parent links and balance factors it held are not needed any more).
 * Returns h's max_end; its height goes to *hp. */
static __u64 recompute_max_end(const struct ia_itree *t, __u32 h, int *hp)
{
	struct ia_inode *n = node(t, h);
	__u64 m, l, r;
	int hl, hr;

	if (!n) {
		*hp = 0;
		return 0;
	}
	l = recompute_max_end(t, lh(n), &hl);
	r = recompute_max_end(t, rh(n), &hr);
	*hp = 1 + (hl > hr ? hl : hr);
	set_height(n, *hp);
	m = n->end > l ? n->end : l;
	n->max_end = m > r ? m : r;
	return n->max_end;
}

/*
 * Insert into a disjoint tree: after its last node or before its first
 * one without a descent (dma-iommu hands out IOVAs top-down, so new
 * mappings of a busy device go below the others and the oldest, unmapped
 * first, are the highest: a window sliding down), else by a descent.
 */
static void insert_up(struct ia_itree *t, __u32 h, struct ia_inode *n)
{
	struct ia_inode *pred = NULL, *succ = NULL, *hi = node(t, t->hi), *lo = node(t, t->lo);
	__u32 par = 0, cur = 0;
	int left = 0;

	if (hi && before(hi, n)) {
		par = t->hi;
		pred = hi;
	} else if (lo && before(n, lo)) {
		par = t->lo;
		succ = lo;
		left = 1;
	} else {
		cur = t->root;
	}
	while (cur) {
		struct ia_inode *c = node(t, cur);

		par = cur;
		left = before(n, c);
		if (left) {
			succ = c;
			cur = lh(c);
		} else {
			pred = c;
			cur = rh(c);
		}
	}
	n->max_end = par;	/* its parent */
	if (!par)
		t->root = h;
	else if (left)
		set_l(node(t, par), h);
	else
		set_r(node(t, par), h);
	if (!pred)
		t->lo = h;
	if (!succ)
		t->hi = h;
	t->count++;
	t->hint = h;
	grew(t, par, !left);
	/* n overlaps something iff it overlaps a neighbour */
	if ((pred && pred->end > n->start) || (succ && succ->start < n->end)) {
		int height;

		t->overlapping = 1;
		recompute_max_end(t, t->root, &height);
	}
}

/* Remove n (handle hn) from a disjoint tree. */
static void remove_up(struct ia_itree *t, __u32 hn, struct ia_inode *n)
{
	__u32 p = up(n), x, repl;
	int d;	/* the side of x that lost a level */

	/* the new last (first) node: n's neighbour, below it or its parent */
	if (t->hi == hn)
		t->hi = lh(n) ? last_of(t, lh(n)) : p;
	if (t->lo == hn)
		t->lo = rh(n) ? first_of(t, rh(n)) : p;

	if (lh(n) && rh(n)) {
		/* n's place goes to the minimum m of its right subtree */
		__u32 hm = rh(n);
		struct ia_inode *m;

		while (lh(node(t, hm)))
			hm = lh(node(t, hm));
		m = node(t, hm);
		x = hm;
		d = 1;	/* m's right: n's right less m */
		if (hm != rh(n)) {
			__u32 mp = up(m);

			link_l(t, mp, node(t, mp), rh(m));
			link_r(t, hm, m, rh(n));
			x = mp;
			d = 0;	/* m was its left child */
		}
		link_l(t, hm, m, lh(n));
		set_height(m, height(n));	/* n's balance factor */
		repl = hm;
	} else {
		repl = lh(n) ? lh(n) : rh(n);
		x = p;
		d = p && side_of(t, p, hn);
	}
	replace_child(t, p, hn, repl);
	if (t->hint == hn)
		t->hint = 0;
	t->count--;
	shrank(t, x, d);
}

/* ---- overlapping trees: the path from the root on a stack ---- */

static void insert_path(struct ia_itree *t, __u32 h, struct ia_inode *n)
{
	__u32 path[PATH_MAX_DEPTH], cur = t->root;
	int depth = 0, left = 0;

	n->max_end = n->end;
	while (cur && depth < PATH_MAX_DEPTH) {
		struct ia_inode *c = node(t, cur);

		path[depth++] = cur;
		if (c->max_end < n->end)
			c->max_end = n->end;	/* n will be in its subtree */
		left = before(n, c);
		cur = left ? lh(c) : rh(c);
	}
	if (!depth)
		t->root = h;
	else if (left)
		set_l(node(t, path[depth - 1]), h);
	else
		set_r(node(t, path[depth - 1]), h);
	t->count++;
	t->hint = h;
	fix_insert(t, path, depth);
}

void ia_itree_insert(struct ia_itree *t, __u32 h)
{
	struct ia_inode *n = node(t, h);

	n->left = n->right = 0;
	set_height(n, 1);
	if (t->overlapping)
		insert_path(t, h, n);
	else
		insert_up(t, h, n);
}

/*
 * Unlink node hn (n), found at the end of path[0 .. depth) from the root,
 * and rebalance; returns hn.
 */
static __u32 remove_at(struct ia_itree *t, __u32 *path, int depth, __u32 hn,
		       struct ia_inode *n)
{
	__u32 repl;
	int at, limit = PATH_MAX_DEPTH, oh = height(n);
	__u64 ome = n->max_end;

	if (t->hint == hn)
		t->hint = 0;
	at = depth;	/* where n is on the path */
	if (lh(n) && rh(n)) {
		/* n's place goes to the minimum m of its right subtree */
		__u32 hm = rh(n);
		struct ia_inode *m;

		path[depth++] = hn;
		while (lh(node(t, hm))) {
			path[depth++] = hm;
			hm = lh(node(t, hm));
		}
		m = node(t, hm);
		if (path[depth - 1] == hn)
			set_r(n, rh(m));
		else
			set_l(node(t, path[depth - 1]), rh(m));
		set_l(m, lh(n));
		set_r(m, rh(n));
		path[at] = hm;
		repl = hm;
		limit = at;	/* m's fields are stale until it is rebalanced */
	} else {
		repl = lh(n) ? lh(n) : rh(n);
	}
	replace_child(t, at ? path[at - 1] : 0, hn, repl);
	if (!--t->count) {
		t->overlapping = 0;
		t->lo = t->hi = 0;
	}
	/* bottom up; stop where a subtree's height and max_end come out as
	 * they were (for m's place: as n's were) */
	while (depth-- > 0) {
		__u32 x = path[depth], nx;
		int h = depth == at ? oh : height(node(t, x)), nh;
		__u64 me = depth == at ? ome : node(t, x)->max_end;

		nx = balance(t, x, &nh);
		if (nx != x)
			replace_child(t, depth ? path[depth - 1] : 0, x, nx);
		if (depth <= limit && nh == h && node(t, nx)->max_end == me)
			return hn;
	}
	return hn;
}

__u32 ia_itree_remove(struct ia_itree *t, struct ia_inode *n)
{
	__u32 path[PATH_MAX_DEPTH], cur = t->root;
	int depth = 0;

	if (!t->overlapping && cur) {
		/* n's handle: its parent's link to it (or the root's); a
		 * parent no pool slot has ever held is no parent (n is not
		 * in t, and its max_end is whatever it was) */
		struct ia_inode *p = up(n) <= t->pool->used ? node(t, up(n)) : NULL;
		__u32 hn = !up(n) ? t->root : !p ? 0 : node(t, lh(p)) == n ? lh(p) : rh(p);

		if (node(t, hn) != n)
			return 0;	/* not in t: the caller broke the contract */
		remove_up(t, hn, n);
		return hn;
	}
	while (cur) {
		struct ia_inode *c = node(t, cur);

		if (c == n)
			break;
		if (depth == PATH_MAX_DEPTH)
			return 0;
		path[depth++] = cur;
		cur = before(n, c) ? lh(c) : rh(c);
	}
	if (!cur)
		return 0;	/* not in t: the caller broke the contract */
	return remove_at(t, path, depth, cur, n);
}

static bool holds(const struct ia_inode *n, __u64 addr)
{
	return n && n->start <= addr && addr < n->end;
}

/*
 * In a disjoint tree the node holding addr is the one with the greatest
 * start <= addr, if it holds addr. The node last inserted, the last and
 * the first are looked at first (a mapping unmapped soon after it was
 * made, or the oldest of a window of IOVAs: insert_up()).
 */
__u32 ia_itree_take(struct ia_itree *t, __u64 addr)
{
	__u32 cur = t->root, best = 0;

	if (t->overlapping)
		return 0;
	if (holds(node(t, t->hint), addr))
		best = t->hint;
	else if (holds(node(t, t->hi), addr))
		best = t->hi;
	else if (holds(node(t, t->lo), addr))
		best = t->lo;
	else
		while (cur) {
			struct ia_inode *c = node(t, cur);

			if (c->start <= addr) {
				best = cur;
				cur = rh(c);
			} else {
				cur = lh(c);
			}
		}
	if (!holds(node(t, best), addr))
		return 0;
	remove_up(t, best, node(t, best));
	return best;
}

static int overlaps(const struct ia_itree *t, __u32 h, __u64 start, __u64 end,
		    int (*fn)(struct ia_inode *, void *), void *ctx)
{
	struct ia_inode *n = node(t, h);
	int ret;

	if (!n || n->max_end <= start)
		return 0;	/* nothing here ends after start */
	ret = overlaps(t, lh(n), start, end, fn, ctx);
	if (ret)
		return ret;
	if (n->start >= end)
		return 0;	/* this and everything right start too late */
	if (n->end > start) {
		ret = fn(n, ctx);
		if (ret)
			return ret;
	}
	return overlaps(t, rh(n), start, end, fn, ctx);
}

/*
 * Disjoint ranges are sorted by end as well as by start: walk in order from
 * the first node ending after start, with the stack of nodes left of which
 * the walk went (their in-order successors), until one starts at end.
 */
static int overlaps_disjoint(const struct ia_itree *t, __u64 start, __u64 end,
			     int (*fn)(struct ia_inode *, void *), void *ctx)
{
	struct ia_inode *stack[PATH_MAX_DEPTH], *cur = node(t, t->root);
	int depth = 0, ret;

	while (cur) {
		if (cur->end > start) {
			stack[depth++] = cur;
			cur = node(t, lh(cur));
		} else {
			cur = node(t, rh(cur));
		}
	}
	while (depth) {
		struct ia_inode *n = stack[--depth];

		if (n->start >= end)
			return 0;
		ret = fn(n, ctx);
		if (ret)
			return ret;
		for (cur = node(t, rh(n)); cur; cur = node(t, lh(cur)))
			stack[depth++] = cur;
	}
	return 0;
}

int ia_itree_overlaps(const struct ia_itree *t, __u64 start, __u64 end,
		      int (*fn)(struct ia_inode *n, void *ctx), void *ctx)
{
	struct ia_inode *h = node(t, t->hint);

	if (start >= end)
		return 0;
	if (t->overlapping)
		return overlaps(t, t->root, start, end, fn, ctx);
	/* a hint holding all of [start, end) is all there is */
	if (h && h->start <= start && h->end >= end)
		return fn(h, ctx);
	return overlaps_disjoint(t, start, end, fn, ctx);
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
	struct ia_inode *cur = node(t, t->root), *best = NULL, *h = node(t, t->hint);
	struct find_ctx c = { NULL };

	if (t->overlapping) {
		ia_itree_overlaps(t, addr, addr + 1, keep_last, &c);
		return c.best;
	}
	if (h && h->start <= addr && addr < h->end)
		return h;
	/* disjoint: the node with the greatest start <= addr, if it holds addr */
	while (cur) {
		if (cur->start <= addr) {
			best = cur;
			cur = node(t, rh(cur));
		} else {
			cur = node(t, lh(cur));
		}
	}
	return best && addr < best->end ? best : NULL;
}

static int each(const struct ia_itree *t, __u32 h,
		int (*fn)(struct ia_inode *, void *), void *ctx)
{
	struct ia_inode *n = node(t, h);
	int ret;

	if (!n)
		return 0;
	ret = each(t, lh(n), fn, ctx);
	if (ret)
		return ret;
	ret = fn(n, ctx);
	if (ret)
		return ret;
	return each(t, rh(n), fn, ctx);
}

int ia_itree_each(const struct ia_itree *t, int (*fn)(struct ia_inode *n, void *ctx),
		  void *ctx)
{
	return each(t, t->root, fn, ctx);
}

struct ia_inode *ia_itree_left(const struct ia_itree *t, const struct ia_inode *n)
{
	return node(t, lh(n));
}

struct ia_inode *ia_itree_right(const struct ia_itree *t, const struct ia_inode *n)
{
	return node(t, rh(n));
}

int ia_itree_height(const struct ia_inode *n)
{
	return height(n);
}

int ia_itree_balance(const struct ia_inode *n)
{
	return bf(n);
}
