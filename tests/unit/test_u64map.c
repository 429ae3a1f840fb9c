// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the open-addressing u64 -> pointer map (user/u64map.c).
 *
 * Besides the basic operations, a randomized differential test runs long
 * sequences of put/replace/del/get against a plain reference array, with a
 * key pool built to collide: keys sharing one home slot, homes at the end of
 * the table so probe runs wrap around to slot 0, all at the 3/4 load limit.
 * The home slot of a key is found through the public struct, by putting the
 * key alone into an empty map and seeing where it lands. The PRNG is seeded
 * with constants: every run does the same operations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/u64map.h"

/* ---- helpers ---- */

#define EXPECT_U64(what, got, want) do {					\
	unsigned long long _g = (got), _w = (want);				\
	if (_g != _w)								\
		fail_msg("%s: got %llu (0x%llx), want %llu (0x%llx)", (what),	\
			 _g, _g, _w, _w);					\
} while (0)

#define EXPECT_INT(what, got, want) do {					\
	long long _g = (got), _w = (want);					\
	if (_g != _w)								\
		fail_msg("%s: got %lld, want %lld", (what), _g, _w);		\
} while (0)

#define EXPECT_PTR(what, got, want) do {					\
	const void *_g = (got), *_w = (want);					\
	if (_g != _w)								\
		fail_msg("%s: got %p, want %p", (what), _g, _w);		\
} while (0)

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A distinct non-NULL value per key. */
static void *val_of(__u64 key, unsigned gen)
{
	return (void *)(uintptr_t)(key * 2654435761u + gen * 0x1000 + 8);
}

static __u64 rng_state;

static __u64 rng(void)	/* xorshift64* */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* Where key lands in an empty map of the first capacity (its home slot). */
static size_t home_slot(__u64 key, size_t *cap)
{
	struct ia_u64map m;
	size_t home = (size_t)-1;

	ia_u64map_init(&m);
	if (ia_u64map_put(&m, key, (void *)1, NULL))
		fail_msg("put(0x%llx) into an empty map failed", (unsigned long long)key);
	for (size_t i = 0; i < m.cap; i++)
		if (m.slots[i].key == key)
			home = i;
	*cap = m.cap;
	ia_u64map_free(&m);
	if (home == (size_t)-1)
		fail_msg("key 0x%llx not found in the slots after put", (unsigned long long)key);
	return home;
}

struct kidx {
	__u64 key;
	size_t i;
};

static int cmp_kidx(const void *a, const void *b)
{
	const struct kidx *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/* Index of key in keys[] (through a sorted copy), nkeys if absent. */
static size_t index_of(const struct kidx *sorted, size_t nkeys, __u64 key)
{
	struct kidx probe = { key, 0 };
	const struct kidx *f = bsearch(&probe, sorted, nkeys, sizeof(*sorted), cmp_kidx);

	return f ? f->i : nkeys;
}

/* Full comparison of m with the reference (keys[i] present iff val[i]). */
static void check_against(const char *what, const struct ia_u64map *m,
			  const __u64 *keys, void *const *vals, size_t nkeys)
{
	size_t live = 0, visited = 0;
	unsigned char *seen = calloc(nkeys, 1);
	struct kidx *sorted = malloc(nkeys * sizeof(*sorted));
	__u64 k;
	void *v;

	assert_non_null(seen);
	assert_non_null(sorted);
	for (size_t i = 0; i < nkeys; i++)
		sorted[i] = (struct kidx){ keys[i], i };
	qsort(sorted, nkeys, sizeof(*sorted), cmp_kidx);
	for (size_t i = 0; i < nkeys; i++) {
		if (ia_u64map_get(m, keys[i]) != vals[i])
			fail_msg("%s: get(0x%llx): got %p, want %p", what,
				 (unsigned long long)keys[i], ia_u64map_get(m, keys[i]), vals[i]);
		live += vals[i] != NULL;
	}
	if (m->len != live)
		fail_msg("%s: len: got %zu, want %zu", what, m->len, live);
	if (m->cap && (m->cap & (m->cap - 1)))
		fail_msg("%s: cap %zu is not a power of two", what, m->cap);
	if (m->len * 4 > m->cap * 3)
		fail_msg("%s: load %zu/%zu above 3/4", what, m->len, m->cap);
	for (size_t it = 0; ia_u64map_next(m, &it, &k, &v);) {
		size_t i = index_of(sorted, nkeys, k);

		visited++;
		if (i == nkeys)
			fail_msg("%s: iteration returned unknown key 0x%llx", what,
				 (unsigned long long)k);
		if (seen[i]++)
			fail_msg("%s: iteration returned key 0x%llx twice", what,
				 (unsigned long long)k);
		if (v != vals[i])
			fail_msg("%s: iteration: key 0x%llx: got %p, want %p", what,
				 (unsigned long long)k, v, vals[i]);
	}
	if (visited != live)
		fail_msg("%s: iteration visited %zu keys, want %zu", what, visited, live);
	free(sorted);
	free(seen);
}

/* ---- tests ---- */

static void test_empty(void **state)
{
	struct ia_u64map m;
	size_t it = 0;
	__u64 k = 7;
	void *v = (void *)7;

	ia_u64map_init(&m);
	EXPECT_U64("len", m.len, 0);
	EXPECT_PTR("get(1) on an empty map", ia_u64map_get(&m, 1), NULL);
	EXPECT_PTR("get(~0) on an empty map", ia_u64map_get(&m, ~0ULL), NULL);
	EXPECT_PTR("del(1) on an empty map", ia_u64map_del(&m, 1), NULL);
	EXPECT_U64("next on an empty map", ia_u64map_next(&m, &it, &k, &v), 0);
	EXPECT_U64("next left key alone", k, 7);
	EXPECT_U64("len", m.len, 0);
	ia_u64map_free(&m);
	ia_u64map_free(&m);	/* free of a freed (re-initialized) map is fine */
	EXPECT_U64("len after free", m.len, 0);
}

static void test_basic(void **state)
{
	static const struct {
		const char *op;	/* "put", "get", "del" */
		__u64 key;
		uintptr_t val;	/* put: value; get/del: expected result */
		int ret;	/* put: expected return */
		size_t len;	/* len after the step */
	} steps[] = {
		{ "put", 0xffff888100001000ULL, 0x10, 0, 1 },
		{ "get", 0xffff888100001000ULL, 0x10, 0, 1 },
		{ "get", 0xffff888100002000ULL, 0, 0, 1 },
		{ "put", 0xffff888100002000ULL, 0x20, 0, 2 },
		{ "put", 0xffff888100001000ULL, 0x11, 0, 2 },	/* replace */
		{ "get", 0xffff888100001000ULL, 0x11, 0, 2 },
		{ "get", 0xffff888100002000ULL, 0x20, 0, 2 },
		{ "put", 0, 0x30, -EINVAL, 2 },			/* key 0 */
		{ "get", 0, 0, 0, 2 },
		{ "del", 0, 0, 0, 2 },
		{ "put", 1, 0x40, 0, 3 },
		{ "put", ~0ULL, 0x50, 0, 4 },
		{ "get", 1, 0x40, 0, 4 },
		{ "get", ~0ULL, 0x50, 0, 4 },
		{ "del", 0xffff888100001000ULL, 0x11, 0, 3 },
		{ "del", 0xffff888100001000ULL, 0, 0, 3 },	/* again: absent */
		{ "get", 0xffff888100001000ULL, 0, 0, 3 },
		{ "get", 0xffff888100002000ULL, 0x20, 0, 3 },
		{ "del", 42, 0, 0, 3 },				/* never there */
		{ "put", 0xffff888100001000ULL, 0x12, 0, 4 },	/* back */
		{ "get", 0xffff888100001000ULL, 0x12, 0, 4 },
		{ "del", 1, 0x40, 0, 3 },
		{ "del", ~0ULL, 0x50, 0, 2 },
		{ "del", 0xffff888100002000ULL, 0x20, 0, 1 },
		{ "del", 0xffff888100001000ULL, 0x12, 0, 0 },
		{ "get", 0xffff888100001000ULL, 0, 0, 0 },
	};
	struct ia_u64map m;
	char what[96];

	ia_u64map_init(&m);
	for (size_t i = 0; i < N(steps); i++) {
		snprintf(what, sizeof(what), "step %zu: %s(0x%llx)", i, steps[i].op,
			 (unsigned long long)steps[i].key);
		if (!strcmp(steps[i].op, "put"))
			EXPECT_INT(what, ia_u64map_put(&m, steps[i].key, (void *)steps[i].val, NULL),
				   steps[i].ret);
		else if (!strcmp(steps[i].op, "get"))
			EXPECT_PTR(what, ia_u64map_get(&m, steps[i].key), (void *)steps[i].val);
		else
			EXPECT_PTR(what, ia_u64map_del(&m, steps[i].key), (void *)steps[i].val);
		snprintf(what, sizeof(what), "step %zu: len", i);
		EXPECT_U64(what, m.len, steps[i].len);
	}
	ia_u64map_free(&m);
}

/* 200k kernel-pointer-like keys: many resizes, all still there. */
static void test_growth(void **state)
{
	const size_t n = 200000;
	struct ia_u64map m;
	size_t visited = 0, cap_changes = 0, last_cap = 0;
	unsigned char *seen = calloc(n, 1);
	char what[96];
	__u64 k;
	void *v;

	assert_non_null(seen);
	ia_u64map_init(&m);
	for (size_t i = 0; i < n; i++) {
		__u64 key = 0xffff888000000000ULL + i * 64;

		if (ia_u64map_put(&m, key, val_of(key, 0), NULL))
			fail_msg("put %zu failed", i);
		if (m.cap != last_cap) {
			cap_changes++;
			last_cap = m.cap;
		}
	}
	EXPECT_U64("len", m.len, n);
	/* 64 -> 128 -> ... -> 2^19 (262144 * 3/4 < 200000 <= 524288 * 3/4) */
	EXPECT_U64("cap", m.cap, 1u << 19);
	EXPECT_U64("capacity changes", cap_changes, 14);
	for (size_t i = 0; i < n; i++) {
		__u64 key = 0xffff888000000000ULL + i * 64;

		if (ia_u64map_get(&m, key) != val_of(key, 0)) {
			snprintf(what, sizeof(what), "get key %zu", i);
			EXPECT_PTR(what, ia_u64map_get(&m, key), val_of(key, 0));
		}
		/* neighbours that were never inserted */
		if (ia_u64map_get(&m, key + 8))
			fail_msg("get(key %zu + 8): got %p, want NULL", i, ia_u64map_get(&m, key + 8));
	}
	for (size_t it = 0; ia_u64map_next(&m, &it, &k, &v);) {
		size_t i = (k - 0xffff888000000000ULL) / 64;

		if (k < 0xffff888000000000ULL || (k & 63) || i >= n)
			fail_msg("iteration: unknown key 0x%llx", (unsigned long long)k);
		if (seen[i]++)
			fail_msg("iteration: key %zu twice", i);
		EXPECT_PTR("iteration value", v, val_of(k, 0));
		visited++;
	}
	EXPECT_U64("keys visited", visited, n);

	/* delete every other key: the rest must survive the shifts */
	for (size_t i = 0; i < n; i += 2) {
		__u64 key = 0xffff888000000000ULL + i * 64;

		if (ia_u64map_del(&m, key) != val_of(key, 0))
			fail_msg("del key %zu: got %p, want %p", i, ia_u64map_del(&m, key),
				 val_of(key, 0));
	}
	EXPECT_U64("len after deleting half", m.len, n / 2);
	for (size_t i = 0; i < n; i++) {
		__u64 key = 0xffff888000000000ULL + i * 64;
		void *want = i % 2 ? val_of(key, 0) : NULL;

		if (ia_u64map_get(&m, key) != want)
			fail_msg("after deleting half: get key %zu: got %p, want %p", i,
				 ia_u64map_get(&m, key), want);
	}
	ia_u64map_free(&m);
	EXPECT_U64("len after free", m.len, 0);
	EXPECT_PTR("slots after free", m.slots, NULL);
	free(seen);
}

/*
 * Backward shift across the end of the table, written out: three keys whose
 * home is the last slot occupy slots cap-1, 0 and 1; a key whose home is
 * slot 0 follows them. Deleting in various orders must keep every other key
 * reachable.
 */
static void test_wraparound_shift(void **state)
{
	__u64 last[3], zero[2];
	size_t nl = 0, nz = 0, cap = 0, c;
	static const int orders[][5] = {
		{ 0, 1, 2, 3, 4 }, { 4, 3, 2, 1, 0 }, { 1, 3, 0, 4, 2 },
		{ 2, 0, 4, 1, 3 }, { 3, 4, 0, 2, 1 }, { 0, 3, 1, 4, 2 },
	};

	for (__u64 key = 1; nl < 3 || nz < 2; key++) {
		size_t h = home_slot(key, &c);

		if (!cap)
			cap = c;
		if (h == cap - 1 && nl < 3)
			last[nl++] = key;
		else if (h == 0 && nz < 2)
			zero[nz++] = key;
	}
	for (size_t o = 0; o < N(orders); o++) {
		/* insertion: last[0..2] take cap-1, 0, 1; zero[0..1] take 2, 3 */
		const __u64 keys[5] = { last[0], last[1], last[2], zero[0], zero[1] };
		void *vals[5];
		struct ia_u64map m;
		char what[64];

		ia_u64map_init(&m);
		for (int i = 0; i < 5; i++) {
			vals[i] = val_of(keys[i], 1);
			assert_int_equal(ia_u64map_put(&m, keys[i], vals[i], NULL), 0);
		}
		EXPECT_U64("cap (test assumes no growth)", m.cap, cap);
		EXPECT_U64("slot cap-1", m.slots[cap - 1].key, last[0]);
		EXPECT_U64("slot 0", m.slots[0].key, last[1]);
		EXPECT_U64("slot 1", m.slots[1].key, last[2]);
		EXPECT_U64("slot 2", m.slots[2].key, zero[0]);
		EXPECT_U64("slot 3", m.slots[3].key, zero[1]);
		for (int d = 0; d < 5; d++) {
			int i = orders[o][d];

			snprintf(what, sizeof(what), "order %zu step %d: del", o, d);
			EXPECT_PTR(what, ia_u64map_del(&m, keys[i]), vals[i]);
			vals[i] = NULL;
			snprintf(what, sizeof(what), "order %zu step %d", o, d);
			check_against(what, &m, keys, vals, 5);
		}
		ia_u64map_free(&m);
	}
}

/*
 * Randomized differential test against a reference array over a key pool.
 * Small pool: at most 47 live keys, just under the 3/4 limit of the first
 * capacity (64), so the table stays at 64 slots with long clustered runs.
 */
static void run_differential(const char *name, __u64 seed, const __u64 *pool,
			     size_t npool, size_t ops, size_t check_every, size_t want_cap,
			     int near)
{
	void **ref = calloc(npool, sizeof(*ref));
	size_t max_len = 0, min_len_after_max = (size_t)-1;
	struct ia_u64map m;
	char what[128];

	assert_non_null(ref);
	rng_state = seed;
	if (near)
		ia_u64map_init_near(&m);
	else
		ia_u64map_init(&m);
	for (size_t op = 0; op < ops; op++) {
		size_t i = rng() % npool;
		unsigned r = rng() % 100;
		/*
		 * Alternate filling and draining phases so the table is full
		 * and empty in turn: while filling, most puts go to the next
		 * absent key after a random one; while draining, most dels go
		 * to the next present one. The rest are random.
		 */
		bool filling = (op / (3 * npool)) % 2 == 0;
		unsigned put_pct = filling ? 80 : 10;
		__u64 key;

		if (r < 70) {
			for (size_t n = 0; n < npool && !ref[i] != filling; n++)
				i = (i + 1) % npool;
		}
		key = pool[i];
		if (r < put_pct) {	/* put / replace */
			void *v = val_of(key, op), *old = (void *)1;

			if (ia_u64map_put(&m, key, v, &old))
				fail_msg("%s op %zu: put(0x%llx) failed", name, op,
					 (unsigned long long)key);
			/* the value replaced comes back (an owner is not lost) */
			if (old != ref[i])
				fail_msg("%s op %zu: put(0x%llx) replaced %p, want %p", name,
					 op, (unsigned long long)key, old, ref[i]);
			ref[i] = v;
		} else if (r < 95) {	/* del */
			void *got = ia_u64map_del(&m, key);

			if (got != ref[i])
				fail_msg("%s op %zu: del(0x%llx): got %p, want %p", name, op,
					 (unsigned long long)key, got, ref[i]);
			ref[i] = NULL;
		} else {		/* get */
			void *got = ia_u64map_get(&m, key);

			if (got != ref[i])
				fail_msg("%s op %zu: get(0x%llx): got %p, want %p", name, op,
					 (unsigned long long)key, got, ref[i]);
		}
		if (m.len > max_len)
			max_len = m.len;
		if (max_len == npool && m.len < min_len_after_max)
			min_len_after_max = m.len;
		if (want_cap && m.cap != want_cap)
			fail_msg("%s op %zu: cap %zu, want %zu (the pool must fit the first "
				 "capacity)", name, op, m.cap, want_cap);
		if (op % check_every == 0 || op == ops - 1) {
			snprintf(what, sizeof(what), "%s op %zu", name, op);
			check_against(what, &m, pool, ref, npool);
		}
	}
	/* the run did fill the whole pool, and drained it again well below */
	EXPECT_U64("largest len reached", max_len, npool);
	if (min_len_after_max > npool / 4)
		fail_msg("%s: smallest len after the full table: %zu, want <= %zu", name,
			 min_len_after_max, npool / 4);
	/* drain */
	for (size_t i = 0; i < npool; i++) {
		void *got = ia_u64map_del(&m, pool[i]);

		if (got != ref[i])
			fail_msg("%s drain: del(0x%llx): got %p, want %p", name,
				 (unsigned long long)pool[i], got, ref[i]);
		ref[i] = NULL;
	}
	EXPECT_U64("len after drain", m.len, 0);
	ia_u64map_free(&m);
	free(ref);
}

static void test_differential_colliding(void **state)
{
	/* homes wanted: a cluster at the end (wraps), one at 0, one mid */
	static const struct { size_t home; int count; } want[] = {
		{ 62, 6 }, { 63, 8 }, { 0, 6 }, { 1, 3 }, { 30, 6 }, { 31, 5 },
	};
	/*
	 * 47, not 48: put checks the load limit before looking for the key,
	 * so with 48 live keys even a replace doubles the table.
	 */
	__u64 pool[47];
	size_t npool = 0, cap = 0, c;
	int got[N(want)] = { 0 };

	/* kernel-pointer-like candidates, as the real keys are */
	for (__u64 k = 0xffff888100000000ULL; npool < 34; k += 0x40) {
		size_t h = home_slot(k, &c);

		if (!cap)
			cap = c;
		for (size_t w = 0; w < N(want); w++)
			if (h == want[w].home && got[w] < want[w].count) {
				got[w]++;
				pool[npool++] = k;
			}
	}
	EXPECT_U64("first capacity", cap, 64);
	/* the rest anywhere */
	rng_state = 0x9e3779b97f4a7c15ULL;
	while (npool < N(pool)) {
		__u64 k = rng() | 1;
		bool dup = false;

		for (size_t i = 0; i < npool; i++)
			dup |= pool[i] == k;
		if (!dup)
			pool[npool++] = k;
	}
	run_differential("collide-47", 1, pool, npool, 50000, 1, 64, 0);
	run_differential("collide-47b", 0xdeadbeefULL, pool, npool, 50000, 1, 64, 0);
	/* only the 34 colliding keys */
	run_differential("collide-34", 7, pool, 34, 30000, 1, 64, 0);
}

/* A bigger pool: growth in the middle of churn, sequential-ish keys. */
static void test_differential_growth(void **state)
{
	const size_t npool = 5000;
	__u64 *pool = malloc(npool * sizeof(*pool));

	assert_non_null(pool);
	for (size_t i = 0; i < npool; i++)	/* struct device * spacing */
		pool[i] = 0xffff888104000000ULL + i * 0x400;
	run_differential("grow-5000", 3, pool, npool, 200000, 2000, 0, 0);
	free(pool);
}

/*
 * A map hashing DMA handles by their page (ia_u64map_init_near): runs of
 * pages, sub-page handles of one page, and pages a table's size apart (the
 * same slot before the fold), through growth, against the reference.
 */
static void test_differential_near(void **state)
{
	const size_t npool = 6000;
	__u64 *pool = malloc(npool * sizeof(*pool));

	assert_non_null(pool);
	for (size_t i = 0; i < npool; i++) {
		if (i % 3 == 0)		/* a run of pages */
			pool[i] = 0xfff00000ULL - i * 4096;
		else if (i % 3 == 1)	/* 16-byte buffers, 16 to a page */
			pool[i] = 0x80000000ULL + (i / 48) * 4096 + (i % 16) * 16;
		else			/* pages 64 and 8192 pages apart */
			pool[i] = 0x200000000ULL + (i % 2 ? 64 : 8192) * 4096ULL * (i / 3);
	}
	run_differential("near-6000", 11, pool, npool, 200000, 2000, 0, 1);
	run_differential("near-47", 12, pool, 47, 30000, 1, 0, 1);
	free(pool);
}

/* Iteration resumes from where it stopped and sees each key once. */
static void test_iteration(void **state)
{
	static const __u64 keys[] = {
		1, 2, 3, 0x1000, 0xffff888100000000ULL, ~0ULL, 0x8000000000000000ULL,
	};
	void *vals[N(keys)];
	struct ia_u64map m;
	unsigned seen[N(keys)] = { 0 };
	size_t it = 0, calls = 0;
	__u64 k;
	void *v;

	ia_u64map_init(&m);
	for (size_t i = 0; i < N(keys); i++) {
		vals[i] = val_of(keys[i], 2);
		assert_int_equal(ia_u64map_put(&m, keys[i], vals[i], NULL), 0);
	}
	while (ia_u64map_next(&m, &it, &k, &v)) {
		size_t i;

		calls++;
		for (i = 0; i < N(keys) && keys[i] != k; i++)
			;
		if (i == N(keys))
			fail_msg("unknown key 0x%llx", (unsigned long long)k);
		seen[i]++;
		EXPECT_PTR("value", v, vals[i]);
		if (calls > 2 * N(keys))
			fail_msg("iteration does not end");
	}
	EXPECT_U64("keys visited", calls, N(keys));
	for (size_t i = 0; i < N(keys); i++)
		if (seen[i] != 1)
			fail_msg("key 0x%llx: visited %u times, want 1",
				 (unsigned long long)keys[i], seen[i]);
	/* exhausted: stays exhausted */
	EXPECT_U64("next after the end", ia_u64map_next(&m, &it, &k, &v), 0);
	ia_u64map_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_wraparound_shift),
		cmocka_unit_test(test_differential_colliding),
		cmocka_unit_test(test_differential_growth),
		cmocka_unit_test(test_differential_near),
		cmocka_unit_test(test_iteration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
