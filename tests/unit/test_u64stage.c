// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the staged u64 map (user/lib/u64stage.c). Its promise is
 * that the table goes through the plain map's states, so the witness is a
 * plain ia_u64map given the same operations: after every operation the
 * same answers and length, and at checkpoints (each one puts the staged
 * key into the table) the same slots, byte for byte, hence the same
 * iteration order. The runs mix what the checker does (a key added and
 * taken at once, as a request's pending entry is) with long-lived keys
 * that make the table grow and wrap, from a PRNG seeded with constants.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/u64stage.h"

#define EXPECT_U64(what, got, want) do {					\
	unsigned long long _g = (got), _w = (want);				\
	if (_g != _w)								\
		fail_msg("%s: got %llu, want %llu", (what), _g, _w);		\
} while (0)

static __u64 rng(__u64 *s)	/* xorshift64* */
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* The staged map's table is the plain one, slot for slot. */
static void same_table(struct ia_u64stage *s, const struct ia_u64map *ref, long step)
{
	const struct ia_u64map *m = ia_u64stage_map(s);

	if (m->cap != ref->cap || m->len != ref->len)
		fail_msg("step %ld: table cap %zu len %zu, plain map cap %zu len %zu", step,
			 m->cap, m->len, ref->cap, ref->len);
	if (m->cap && memcmp(m->slots, ref->slots, m->cap * sizeof(*m->slots)))
		fail_msg("step %ld: the slots differ from the plain map's", step);
}

/* One random run: keys below nkeys + 1 (0 too: refused by both). */
static void run(__u64 seed, __u64 nkeys, long steps, int check_every)
{
	struct ia_u64stage s;
	struct ia_u64map ref;
	__u64 r = seed;

	ia_u64stage_init(&s);
	ia_u64map_init(&ref);
	for (long i = 0; i < steps; i++) {
		__u64 key = rng(&r) % (nkeys + 1), op = rng(&r) % 8;
		void *val = (void *)(uintptr_t)(i * 8 + 8), *a, *b;
		char what[64];

		snprintf(what, sizeof(what), "step %ld op %llu key %llu", i,
			 (unsigned long long)op, (unsigned long long)key);
		if (op < 3) {		/* slot: found, or added and given a value */
			int added_s, added_r;
			void **ss = ia_u64stage_slot(&s, key, &added_s);
			void **sr = ia_u64map_slot(&ref, key, &added_r);

			EXPECT_U64(what, !ss, !sr);
			EXPECT_U64(what, added_s, added_r);
			if (ss) {
				EXPECT_U64(what, (uintptr_t)*ss, (uintptr_t)*sr);
				if (added_s)
					*ss = *sr = val;
			}
		} else if (op == 3) {	/* put */
			EXPECT_U64(what, !ia_u64stage_put(&s, key, val),
				   !ia_u64map_put(&ref, key, val, NULL));
		} else if (op < 6) {	/* del; op 4: the staged key if any (the
					 * checker's common case: made, then taken) */
			__u64 k = op == 4 && s.key ? s.key : key;

			a = ia_u64stage_del(&s, k);
			b = ia_u64map_del(&ref, k);
			EXPECT_U64(what, (uintptr_t)a, (uintptr_t)b);
		} else {		/* get */
			EXPECT_U64(what, (uintptr_t)ia_u64stage_get(&s, key),
				   (uintptr_t)ia_u64map_get(&ref, key));
		}
		EXPECT_U64(what, ia_u64stage_len(&s), ref.len);
		if (check_every && i % check_every == 0)
			same_table(&s, &ref, i);
	}
	same_table(&s, &ref, steps);
	ia_u64stage_free(&s);
	ia_u64map_free(&ref);
}

/* Few keys: runs collide and wrap in a 64-slot table. */
static void test_colliding(void **state)
{
	(void)state;
	run(1, 40, 200000, 1);
	run(2, 48, 200000, 7);
}

/* Many keys: the table grows while keys are staged. */
static void test_growth(void **state)
{
	(void)state;
	run(3, 5000, 300000, 997);
	run(4, 100000, 300000, 0);
}

/*
 * The checker's pattern: long-lived entries in the table, then keys each
 * added and deleted at once. Those never reach the table: it stays the
 * same bytes (no hash, probe or shift was made), and it is still the
 * plain map's after the plain map added and deleted each of them.
 */
static void test_add_take(void **state)
{
	struct ia_u64stage s;
	struct ia_u64map ref;
	struct ia_u64map_slot before[64];
	int added;

	(void)state;
	ia_u64stage_init(&s);
	ia_u64map_init(&ref);
	for (__u64 k = 1; k <= 40; k++) {
		ia_u64stage_put(&s, k * 7919, (void *)(uintptr_t)k);
		ia_u64map_put(&ref, k * 7919, (void *)(uintptr_t)k, NULL);
	}
	same_table(&s, &ref, 0);
	EXPECT_U64("cap", s.m.cap, 64);
	memcpy(before, s.m.slots, sizeof(before));
	for (__u64 k = 1000; k < 3000; k++) {
		void **slot = ia_u64stage_slot(&s, k, &added);

		EXPECT_U64("added", added, 1);
		*slot = (void *)(uintptr_t)k;
		EXPECT_U64("get of the staged key", (uintptr_t)ia_u64stage_get(&s, k), k);
		EXPECT_U64("len with it", ia_u64stage_len(&s), 41);
		EXPECT_U64("taken", (uintptr_t)ia_u64stage_del(&s, k), k);
		EXPECT_U64("table untouched", !memcmp(before, s.m.slots, sizeof(before)), 1);
		ia_u64map_put(&ref, k, (void *)(uintptr_t)k, NULL);
		ia_u64map_del(&ref, k);
	}
	EXPECT_U64("len after", ia_u64stage_len(&s), 40);
	same_table(&s, &ref, 1);
	ia_u64stage_free(&s);
	ia_u64map_free(&ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_colliding),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_add_take),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
