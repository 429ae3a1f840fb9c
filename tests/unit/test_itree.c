// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the interval tree (user/lib/itree.c), differential: long
 * random sequences of inserts and removes, each followed by queries, are
 * checked against a plain array of the same ranges (the reference answers
 * by scanning it). Two key pools: disjoint ranges (a page table: the tree's
 * fast paths) and overlapping ones with equal starts (its general paths),
 * and a pool that starts disjoint and becomes overlapping midway. After
 * every operation the AVL shape (heights or, disjoint, balance factors;
 * balance, max_end, order) is
 * verified. Removals from a disjoint tree are made by node or, every other
 * one, by an address the node holds (ia_itree_take). The nodes come from a pool (user/lib/pool.c), as the checker's
 * do. The PRNG is seeded with constants: every run is the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/itree.h"

#define NODES 400

static __u64 rng_state;

static __u64 rng(void)	/* xorshift64* */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

struct model {
	struct ia_pool pool;
	__u32 h[NODES];		/* node i's handle */
	struct ia_inode *node[NODES];
	int in[NODES];
};

/*
 * Heights, balance, order of the subtree, and max_end (an overlapping
 * tree) or the parent links a disjoint one keeps there instead (itree.c:
 * each child's names its parent); returns its height.
 */
static int verify(const struct ia_itree *t, const struct ia_inode *n,
		  const struct ia_inode *lo, const struct ia_inode *hi, size_t *count)
{
	const struct ia_inode *l, *r;
	int hl, hr;
	__u64 me;

	if (!n)
		return 0;
	(*count)++;
	if (lo && (lo->start > n->start || (lo->start == n->start && lo > n)))
		fail_msg("order broken at [%llu, %llu)", (unsigned long long)n->start,
			 (unsigned long long)n->end);
	if (hi && (n->start > hi->start || (n->start == hi->start && n > hi)))
		fail_msg("order broken at [%llu, %llu)", (unsigned long long)n->start,
			 (unsigned long long)n->end);
	l = ia_itree_left(t, n);
	r = ia_itree_right(t, n);
	hl = verify(t, l, lo, n, count);
	hr = verify(t, r, n, hi, count);
	if (hl - hr > 1 || hr - hl > 1)
		fail_msg("unbalanced: %d vs %d", hl, hr);
	if (!t->overlapping) {
		/* a disjoint tree keeps balance factors, not heights */
		if (ia_itree_balance(n) != hr - hl)
			fail_msg("balance factor %d, want %d", ia_itree_balance(n), hr - hl);
		if ((l && ia_itree_node(t, (__u32)l->max_end) != n) ||
		    (r && ia_itree_node(t, (__u32)r->max_end) != n))
			fail_msg("a child of [%llu, %llu) names another parent",
				 (unsigned long long)n->start, (unsigned long long)n->end);
		return 1 + (hl > hr ? hl : hr);
	}
	if (ia_itree_height(n) != 1 + (hl > hr ? hl : hr))
		fail_msg("height %d, want %d", ia_itree_height(n), 1 + (hl > hr ? hl : hr));
	me = n->end;
	if (l && l->max_end > me)
		me = l->max_end;
	if (r && r->max_end > me)
		me = r->max_end;
	if (n->max_end != me)
		fail_msg("max_end %llu, want %llu", (unsigned long long)n->max_end,
			 (unsigned long long)me);
	return ia_itree_height(n);
}

static size_t count_in(const struct model *m)
{
	size_t k = 0;

	for (int i = 0; i < NODES; i++)
		k += m->in[i] != 0;
	return k;
}

/* A disjoint tree's first and last node (t->lo, t->hi), walked to. */
static void check_ends(const struct ia_itree *t)
{
	const struct ia_inode *a = ia_itree_node(t, t->root), *b = a;

	if (t->overlapping)
		return;
	while (a && ia_itree_left(t, a))
		a = ia_itree_left(t, a);
	while (b && ia_itree_right(t, b))
		b = ia_itree_right(t, b);
	assert_ptr_equal(ia_itree_node(t, t->lo), a);
	assert_ptr_equal(ia_itree_node(t, t->hi), b);
}

struct collect {
	const struct ia_inode *got[NODES];
	int n;
};

static int collect(struct ia_inode *n, void *ctx)
{
	struct collect *c = ctx;

	c->got[c->n++] = n;
	return 0;
}

static int stop_first(struct ia_inode *n, void *ctx)
{
	*(struct ia_inode **)ctx = n;
	return 7;
}

static int before(const struct ia_inode *a, const struct ia_inode *b)
{
	return a->start != b->start ? a->start < b->start : a < b;
}

/* What overlaps [a, b), in tree order, by scanning. */
static int ref_overlaps(const struct model *m, __u64 a, __u64 b, const struct ia_inode **out)
{
	int k = 0;

	for (int i = 0; i < NODES; i++) {
		const struct ia_inode *n = m->node[i];

		if (!m->in[i] || n->start >= b || n->end <= a)
			continue;
		int j = k++;
		while (j > 0 && before(n, out[j - 1])) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = n;
	}
	return k;
}

static void check_queries(struct ia_itree *t, const struct model *m, __u64 span)
{
	const struct ia_inode *want[NODES];
	struct collect got;
	size_t count = 0;

	verify(t, ia_itree_node(t, t->root), NULL, NULL, &count);
	if (t->root && !t->overlapping)
		assert_int_equal((__u32)ia_itree_node(t, t->root)->max_end, 0);	/* no parent */
	check_ends(t);
	assert_int_equal(count, t->count);
	for (int q = 0; q < 8; q++) {
		__u64 a = rng() % span, b = a + 1 + rng() % (q & 1 ? 64 : 4096);
		int k = ref_overlaps(m, a, b, want);
		struct ia_inode *first = NULL;

		got.n = 0;
		assert_int_equal(ia_itree_overlaps(t, a, b, collect, &got), 0);
		assert_int_equal(got.n, k);
		for (int i = 0; i < k; i++)
			assert_ptr_equal(got.got[i], want[i]);
		assert_int_equal(ia_itree_overlaps(t, a, b, stop_first, &first), k ? 7 : 0);
		assert_ptr_equal(first, k ? want[0] : NULL);
		/* find: the node holding a with the greatest start (ties: last) */
		k = ref_overlaps(m, a, a + 1, want);
		assert_ptr_equal(ia_itree_find(t, a), k ? want[k - 1] : NULL);
	}
	/* the hint: its own start is found */
	if (t->hint) {
		__u64 hs = ia_itree_node(t, t->hint)->start;
		int k = ref_overlaps(m, hs, hs + 1, want);

		assert_ptr_equal(ia_itree_find(t, hs), want[k - 1]);
	}
}

/*
 * ia_itree_take of an address no node holds (by the scan), or of any
 * address while the ranges may overlap, removes nothing.
 */
static void take_nothing(struct ia_itree *t, const struct model *m, __u64 span)
{
	const struct ia_inode *want[NODES];
	size_t count = t->count;
	__u64 a = rng() % span;

	if (!t->overlapping && ref_overlaps(m, a, a + 1, want))
		return;
	assert_int_equal(ia_itree_take(t, a), 0);
	assert_int_equal(t->count, count);
}

/*
 * disjoint: node i may only hold [i * 4096, i * 4096 + len), len <= 4096;
 * else starts and lengths are random over a small span (many overlaps and
 * equal starts). overlap_after: ops after which the pool turns overlapping.
 */
static void run(__u64 seed, int disjoint, int overlap_after)
{
	static struct model m;
	struct ia_itree t;
	__u64 span = NODES * 4096ULL;

	rng_state = seed;
	ia_pool_init(&m.pool, sizeof(struct ia_inode), IA_ITREE_MAX_NODES);
	ia_itree_init(&t, &m.pool);
	for (int i = 0; i < NODES; i++) {
		m.h[i] = ia_pool_alloc(&m.pool);
		assert_int_not_equal(m.h[i], 0);
		m.node[i] = ia_pool_at(&m.pool, m.h[i]);
		m.in[i] = 0;
	}
	for (int op = 0; op < 20000; op++) {
		int i = (int)(rng() % NODES);
		struct ia_inode *n = m.node[i];

		if (op == overlap_after)
			disjoint = 0;
		if (m.in[i] && !t.overlapping && op % 2) {
			/* taken by an address it holds: the scan says no other does */
			__u64 a = n->start + rng() % (n->end - n->start);

			assert_int_equal(ia_itree_take(&t, a), m.h[i]);
			m.in[i] = 0;
		} else if (m.in[i]) {
			assert_int_equal(ia_itree_remove(&t, n), m.h[i]);
			m.in[i] = 0;
		} else {
			if (disjoint) {
				n->start = (__u64)i * 4096 + rng() % 2048;
				n->end = n->start + 1 + rng() % 2048;
			} else {
				n->start = rng() % 64 * 4096;
				n->end = n->start + 1 + rng() % (4 * 4096);
			}
			/* not in it: nothing removed (its max_end still names
			 * the parent it had, or holds a max_end) */
			assert_int_equal(ia_itree_remove(&t, n), 0);
			assert_int_equal(t.count, count_in(&m));
			/* a disjoint tree turns overlapping exactly when the new
			 * range overlaps one in it (by the scan) */
			int was = t.overlapping;
			const struct ia_inode *hits[NODES];
			int k = ref_overlaps(&m, n->start, n->end, hits);

			ia_itree_insert(&t, m.h[i]);
			m.in[i] = 1;
			if (!was)
				assert_int_equal(t.overlapping, k > 0);
		}
		if (disjoint)
			assert_int_equal(t.overlapping, 0);
		take_nothing(&t, &m, span);
		if (op % 7 == 0) {
			check_queries(&t, &m, span);
		} else {
			size_t count = 0;

			verify(&t, ia_itree_node(&t, t.root), NULL, NULL, &count);
			assert_int_equal(count, t.count);
			check_ends(&t);
		}
	}
	/* empty it: a tree that is empty again is disjoint again */
	for (int i = 0; i < NODES; i++)
		if (m.in[i])
			ia_itree_remove(&t, m.node[i]);
	assert_int_equal(t.count, 0);
	assert_int_equal(t.root, 0);
	assert_int_equal(t.overlapping, 0);
	ia_pool_release(&m.pool);
}

/*
 * Episodes of a disjoint tree built in random order, then one range that
 * overlaps exactly one of its nodes (one end or the other, so that the
 * node is the new range's neighbour on either side), inserted after a
 * node elsewhere: the tree must turn overlapping; a range touching a node
 * without overlapping it must leave it disjoint. Then it is emptied. The
 * neighbour is found by the descent, or as the tree's first or last node
 * (itree.c insert_up: an insert past either end); dropping either from
 * the overlap check fails this test.
 */
static void test_turns_at_neighbour(void **state)
{
	static struct model m;
	struct ia_itree t;

	(void)state;
	rng_state = 0x2468ace;
	ia_pool_init(&m.pool, sizeof(struct ia_inode), IA_ITREE_MAX_NODES);
	for (int i = 0; i < NODES; i++) {
		m.h[i] = ia_pool_alloc(&m.pool);
		m.node[i] = ia_pool_at(&m.pool, m.h[i]);
	}
	ia_itree_init(&t, &m.pool);
	for (int ep = 0; ep < 400; ep++) {
		int k = 2 + (int)(rng() % 60), j, x;
		struct ia_inode *o;

		for (int i = 0; i < NODES; i++)
			m.in[i] = 0;
		/* node i (i >= 1, even) at [i * 4096, i * 4096 + 2048) */
		for (int n = 0; n < k; n++) {
			int i = 2 + 2 * (int)(rng() % (NODES / 2 - 2));

			if (m.in[i])
				continue;
			m.node[i]->start = (__u64)i * 4096;
			m.node[i]->end = m.node[i]->start + 2048;
			ia_itree_insert(&t, m.h[i]);
			m.in[i] = 1;
		}
		assert_int_equal(t.overlapping, 0);
		do
			j = 2 + 2 * (int)(rng() % (NODES / 2 - 2));
		while (!m.in[j]);
		/* a touching range in the odd slot before or after: disjoint */
		x = rng() % 2 ? j - 1 : j + 1;
		o = m.node[x];
		o->start = x < j ? m.node[j]->start - 1 : m.node[j]->end;
		o->end = o->start + 1;
		ia_itree_insert(&t, m.h[x]);
		m.in[x] = 1;
		assert_int_equal(t.overlapping, 0);
		/* the finger (the node last inserted) somewhere else */
		for (int i = 2 + 2 * (int)(rng() % (NODES / 2 - 2)); !m.in[i]; ) {
			m.node[i]->start = (__u64)i * 4096;
			m.node[i]->end = m.node[i]->start + 2048;
			ia_itree_insert(&t, m.h[i]);
			m.in[i] = 1;
		}
		/* and one overlapping j by one byte at its start or its end */
		x = x < j ? j + 1 : j - 1;
		o = m.node[x];
		o->start = x < j ? m.node[j]->start - 1 : m.node[j]->end - 1;
		o->end = o->start + 2;
		ia_itree_insert(&t, m.h[x]);
		m.in[x] = 1;
		assert_int_equal(t.overlapping, 1);
		check_queries(&t, &m, NODES * 4096ULL);
		for (int i = 0; i < NODES; i++)
			if (m.in[i])
				assert_int_equal(ia_itree_remove(&t, m.node[i]), m.h[i]);
		assert_int_equal(t.count, 0);
		assert_int_equal(t.overlapping, 0);
	}
	ia_pool_release(&m.pool);
}

static void test_disjoint(void **state)
{
	(void)state;
	run(0x1234567, 1, -1);
}

static void test_overlapping(void **state)
{
	(void)state;
	run(0x89abcdef, 0, -1);
}

static void test_turns_overlapping(void **state)
{
	(void)state;
	run(0x5555aaaa, 1, 9000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disjoint),
		cmocka_unit_test(test_overlapping),
		cmocka_unit_test(test_turns_overlapping),
		cmocka_unit_test(test_turns_at_neighbour),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
