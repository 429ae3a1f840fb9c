// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the bounded recent-key set (user/lib/recent.c) that keeps
 * monitor's memory of unmapped handles bounded: never more than cap keys,
 * always the cap / 2 most recent ones, re-adding a key makes it young, a
 * deleted key is gone from both generations, cap 0 forgets nothing. The
 * reference is the sequence of adds itself (which keys are the latest).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "lib/recent.h"

static void bounded_and_remembers_recent(void **state)
{
	struct ia_recent r;
	const size_t cap = 100;

	ia_recent_init(&r, cap);
	for (__u64 k = 1; k <= 10000; k++) {
		assert_int_equal(ia_recent_add(&r, k), 0);
		if (ia_recent_len(&r) > cap)
			fail_msg("after key %llu: %zu keys held, cap %zu",
				 (unsigned long long)k, ia_recent_len(&r), cap);
		/* the cap / 2 latest are all there */
		for (__u64 j = k > cap / 2 ? k - cap / 2 + 1 : 1; j <= k; j++)
			if (!ia_recent_has(&r, j))
				fail_msg("after key %llu: recent key %llu forgotten",
					 (unsigned long long)k, (unsigned long long)j);
	}
	assert_false(ia_recent_has(&r, 1));	/* the oldest went */
	assert_true(r.dropped >= 10000 - cap);
	ia_recent_free(&r);
}

static void readd_makes_young_and_del_removes(void **state)
{
	struct ia_recent r;

	ia_recent_init(&r, 4);
	ia_recent_add(&r, 1);
	ia_recent_add(&r, 2);
	ia_recent_add(&r, 3);	/* rotation: {3} young, {1, 2} old */
	ia_recent_add(&r, 1);	/* 1 moves to the young generation */
	assert_int_equal(ia_recent_len(&r), 3);
	ia_recent_add(&r, 4);	/* rotation: 2 dropped, 1 and 3 kept */
	assert_true(ia_recent_has(&r, 1));
	assert_false(ia_recent_has(&r, 2));
	ia_recent_del(&r, 1);
	ia_recent_del(&r, 4);
	assert_false(ia_recent_has(&r, 1));
	assert_false(ia_recent_has(&r, 4));
	assert_true(ia_recent_has(&r, 3));
	ia_recent_free(&r);
}

static void unbounded_forgets_nothing(void **state)
{
	struct ia_recent r;

	ia_recent_init(&r, 0);
	for (__u64 k = 1; k <= 5000; k++)
		ia_recent_add(&r, k);
	assert_int_equal(ia_recent_len(&r), 5000);
	for (__u64 k = 1; k <= 5000; k++)
		assert_true(ia_recent_has(&r, k));
	assert_int_equal(r.dropped, 0);
	ia_recent_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bounded_and_remembers_recent),
		cmocka_unit_test(readd_makes_young_and_del_removes),
		cmocka_unit_test(unbounded_forgets_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
