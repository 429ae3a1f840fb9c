// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the object pool (user/lib/pool.c): handles increasing
 * across slab boundaries (a slab's last slot skipped), objects zeroed and never moved, freed ones
 * reused last-freed first, the handle limit, and a randomized run against a
 * plain array of which handles are live (each live object keeps its own
 * handle written in it: any overlap or move shows); and the memory a pool
 * holds: what its slabs need, a page more while small, a huge page more
 * past IA_POOL_HUGE_FROM, each region starting on a huge page. Under
 * AddressSanitizer (the unit-asan suite), what is not a live object is
 * poisoned, and a write to a freed object kills a child with ASan's own
 * report (the witness: ASan, not the pool).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>
#include <sys/wait.h>

#include "lib/hugemem.h"

#include "lib/pool.h"

struct obj {
	__u32 h;
	__u32 pad;
	__u64 payload[7];
};

static void test_order_and_reuse(void **state)
{
	static __u32 hs[3 * IA_POOL_SLAB + 5];
	__u32 n = 3 * IA_POOL_SLAB + 5, h;
	struct ia_pool p;
	struct obj *first;

	(void)state;
	ia_pool_init(&p, sizeof(struct obj), UINT32_MAX);
	for (__u32 i = 0; i < n; i++) {
		struct obj *o;

		/* increasing, a slab's last slot (handle % 4096 == 0) left out */
		hs[i] = ia_pool_alloc(&p);
		assert_int_equal(hs[i], i + 1 + i / (IA_POOL_SLAB - 1));
		assert_int_not_equal(hs[i] % IA_POOL_SLAB, 0);
		o = ia_pool_at(&p, hs[i]);
		for (size_t k = 0; k < 7; k++)
			assert_int_equal(o->payload[k], 0);
		o->h = hs[i];
		memset(o->payload, 0xab, sizeof(o->payload));
	}
	for (__u32 i = 0; i < n; i++)	/* nothing overlapped */
		assert_int_equal(((struct obj *)ia_pool_at(&p, hs[i]))->h, hs[i]);
	first = ia_pool_at(&p, hs[0]);
	assert_int_equal(p.nslabs, 4);
	assert_int_equal(p.live, n);
	/* last freed, first reused, and zeroed again */
	ia_pool_free(&p, hs[6]);
	ia_pool_free(&p, hs[IA_POOL_SLAB]);
	assert_int_equal(ia_pool_alloc(&p), hs[IA_POOL_SLAB]);
	assert_int_equal(((struct obj *)ia_pool_at(&p, hs[IA_POOL_SLAB]))->payload[3], 0);
	assert_int_equal(ia_pool_alloc(&p), hs[6]);
	h = ia_pool_alloc(&p);
	assert_int_equal(h, hs[n - 1] + 1);
	assert_ptr_equal(ia_pool_at(&p, hs[0]), first);	/* never moved */
	ia_pool_free(&p, 0);	/* ignored */
	assert_int_equal(p.live, n + 1);
	ia_pool_release(&p);
	assert_int_equal(p.live, 0);
	assert_int_equal(ia_pool_alloc(&p), 1);
	ia_pool_release(&p);
}

static void test_limit(void **state)
{
	struct ia_pool p;

	(void)state;
	ia_pool_init(&p, 8, 3);
	assert_int_equal(ia_pool_alloc(&p), 1);
	assert_int_equal(ia_pool_alloc(&p), 2);
	assert_int_equal(ia_pool_alloc(&p), 3);
	assert_int_equal(ia_pool_alloc(&p), 0);
	ia_pool_free(&p, 2);
	assert_int_equal(ia_pool_alloc(&p), 2);	/* freed ones still come back */
	assert_int_equal(ia_pool_alloc(&p), 0);
	ia_pool_release(&p);
}

#define LIVE_MAX 20000

static void test_random(void **state)
{
	static __u32 live[LIVE_MAX];
	struct ia_pool p;
	size_t n = 0;

	(void)state;
	srand(7);
	ia_pool_init(&p, sizeof(struct obj), UINT32_MAX);
	for (int op = 0; op < 200000; op++) {
		if (n < LIVE_MAX && (n == 0 || rand() % 3)) {
			__u32 h = ia_pool_alloc(&p);
			struct obj *o = ia_pool_at(&p, h);

			assert_int_not_equal(h, 0);
			assert_int_equal(o->h, 0);
			o->h = h;
			live[n++] = h;
		} else {
			size_t i = (size_t)rand() % n;
			struct obj *o = ia_pool_at(&p, live[i]);

			assert_int_equal(o->h, live[i]);
			o->h = 0;
			ia_pool_free(&p, live[i]);
			live[i] = live[--n];
		}
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(((struct obj *)ia_pool_at(&p, live[i]))->h, live[i]);
	assert_int_equal(p.live, n);
	ia_pool_release(&p);
}

static void test_bytes(void **state)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), slab = (IA_POOL_SLAB - 1) * sizeof(struct obj);
	struct ia_pool p;
	size_t seen = 0;

	(void)state;
	ia_pool_init(&p, sizeof(struct obj), UINT32_MAX);
	assert_int_equal(ia_pool_bytes(&p), 0);
	assert_int_not_equal(ia_pool_alloc(&p), 0);
	/* one slab: its bytes to the page, as malloc gave them */
	assert_int_equal(ia_pool_bytes(&p), (slab + page - 1) / page * page);
	while (p.nslabs < 2 * IA_POOL_REGION_SLABS + 3) {
		__u32 h = ia_pool_alloc(&p);
		struct obj *o = ia_pool_at(&p, h);
		size_t before = ia_pool_bytes(&p), n = p.nslabs, regions;

		assert_int_not_equal(h, 0);
		assert_int_equal(o->h, 0);
		o->h = h;	/* writable */
		if (n == seen)
			continue;
		seen = n;
		regions = (n + IA_POOL_REGION_SLABS - 1) / IA_POOL_REGION_SLABS;
		/* the slabs, and at most a page (small) or a huge page (big) of
		 * room per region */
		assert_true(ia_pool_bytes(&p) >= n * slab);
		assert_true(ia_pool_bytes(&p) < n * slab +
			    regions * (before >= IA_POOL_HUGE_FROM ? IA_HUGE_PAGE : page));
		if (!((n - 1) % IA_POOL_REGION_SLABS))	/* a region's first slab */
			assert_int_equal((uintptr_t)p.slabs[n - 1] % IA_HUGE_PAGE, 0);
	}
	assert_true(ia_pool_bytes(&p) > IA_POOL_HUGE_FROM);
	ia_pool_release(&p);
	assert_int_equal(ia_pool_bytes(&p), 0);
	assert_int_equal(ia_pool_alloc(&p), 1);
	ia_pool_release(&p);
}

#ifdef IA_POOL_ASAN
#include <sanitizer/asan_interface.h>

/* how many bytes of [p, p+n) ASan calls poisoned */
static size_t poisoned(const void *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += __asan_address_is_poisoned((const char *)p + i) != 0;
	return k;
}

static void test_asan_poison(void **state)
{
	struct ia_pool p;
	__u32 a, b;
	struct obj *oa, *ob;
	int fds[2], st;
	char buf[4096] = "";
	ssize_t n, got = 0;
	pid_t pid;

	(void)state;
	ia_pool_init(&p, sizeof(struct obj), UINT32_MAX);
	a = ia_pool_alloc(&p);
	b = ia_pool_alloc(&p);
	oa = ia_pool_at(&p, a);
	ob = ia_pool_at(&p, b);
	assert_ptr_equal((char *)oa + sizeof(*oa), (char *)ob);
	assert_int_equal(poisoned(oa, sizeof(*oa)), 0);
	assert_int_equal(poisoned(ob, sizeof(*ob)), 0);
	/* past the last object given: the slab's room, not given yet */
	assert_int_equal(poisoned((char *)ob + sizeof(*ob), sizeof(*ob)), sizeof(*ob));
	ia_pool_free(&p, a);
	assert_int_equal(poisoned(oa, sizeof(*oa)), sizeof(*oa));
	assert_int_equal(poisoned(ob, sizeof(*ob)), 0);
	/* a write to the freed object: ASan's report, in a child */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(fds[1], 2);
		close(fds[0]);
		((volatile struct obj *)oa)->payload[3] = 1;
		_exit(0);	/* not reached under ASan */
	}
	close(fds[1]);
	while (got < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	print_message("child: exit %d, stderr %.80s\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1, buf);
	assert_true(!WIFEXITED(st) || WEXITSTATUS(st) != 0);
	assert_non_null(strstr(buf, "use-after-poison"));
	/* given again: addressable, zeroed */
	assert_int_equal(ia_pool_alloc(&p), a);
	assert_int_equal(poisoned(oa, sizeof(*oa)), 0);
	assert_int_equal(oa->payload[3], 0);
	ia_pool_release(&p);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_reuse),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_bytes),
#ifdef IA_POOL_ASAN
		cmocka_unit_test(test_asan_poison),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
