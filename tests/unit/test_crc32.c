// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of ia_crc32() (user/lib/crc32.c) against its witness, zlib's
 * crc32(): every length from 0 to 1100 at every start offset within 16
 * bytes (the fold's 64- and 16-byte steps and the bytes left after them),
 * long buffers, a CRC continued across pieces cut at random places, and
 * the check value of "123456789" (0xcbf43926, the CRC catalogue's). Each
 * way it has (zlib, PCLMULQDQ, VPCLMULQDQ) that this CPU runs is tested
 * so, not only the one ia_crc32() picks; the ones it lacks are named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "lib/crc32.h"

#define BUF_LEN (1 << 20)

static unsigned char *random_buf(unsigned seed)
{
	unsigned char *b = malloc(BUF_LEN);

	assert_non_null(b);
	srand(seed);
	for (size_t i = 0; i < BUF_LEN; i++)
		b[i] = (unsigned char)rand();
	return b;
}

static void expect_same(const unsigned char *p, size_t len, __u32 seed)
{
	__u32 want = (__u32)crc32(seed, p, (uInt)len), got = ia_crc32(seed, p, len);

	if (got != want)
		fail_msg("%zu bytes at +%zu, seed 0x%08x: got 0x%08x, zlib 0x%08x", len,
			 (size_t)((uintptr_t)p & 15), seed, got, want);
	for (int impl = IA_CRC_ZLIB; impl <= (int)ia_crc32_best(); impl++) {
		got = ia_crc32_impl(impl, seed, p, len);
		if (got != want)
			fail_msg("way %d: %zu bytes at +%zu, seed 0x%08x: got 0x%08x, zlib 0x%08x",
				 impl, len, (size_t)((uintptr_t)p & 15), seed, got, want);
	}
}

/* Which ways this CPU runs (a way the CPU lacks is not tested here). */
static void test_ways(void **state)
{
	static const char *const name[] = { "zlib", "PCLMULQDQ", "VPCLMULQDQ" };

	(void)state;
	for (int impl = IA_CRC_ZLIB; impl <= IA_CRC_VPCLMUL; impl++)
		print_message("crc32 way %s: %s\n", name[impl],
			      impl <= (int)ia_crc32_best() ? "tested" : "not on this CPU");
}

static void test_check_value(void **state)
{
	(void)state;
	assert_int_equal(ia_crc32(0, "123456789", 9), 0xcbf43926);
	assert_int_equal(ia_crc32(0, "", 0), 0);
	assert_int_equal(ia_crc32(0x12345678, NULL, 0), 0x12345678);
}

static void test_every_length_and_offset(void **state)
{
	unsigned char *b = random_buf(1);

	(void)state;
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len <= 1100; len++)
			expect_same(b + off, len, len & 1 ? 0xdeadbeef : 0);
	free(b);
}

static void test_long(void **state)
{
	unsigned char *b = random_buf(2);

	(void)state;
	expect_same(b, BUF_LEN, 0);
	expect_same(b + 3, BUF_LEN - 3, 0);
	memset(b, 0, BUF_LEN);	/* all zeros, and all ones */
	expect_same(b, BUF_LEN, 0);
	memset(b, 0xff, BUF_LEN);
	expect_same(b + 5, BUF_LEN - 77, 0xffffffff);
	free(b);
}

/* A CRC continued piece by piece is the CRC of the whole. */
static void test_pieces(void **state)
{
	unsigned char *b = random_buf(3);
	__u32 whole = (__u32)crc32(0, b, BUF_LEN), crc = 0;
	size_t at = 0;

	(void)state;
	srand(4);
	while (at < BUF_LEN) {
		size_t n = (size_t)rand() % 5000;

		if (n > BUF_LEN - at)
			n = BUF_LEN - at;
		crc = ia_crc32(crc, b + at, n);
		at += n;
	}
	assert_int_equal(crc, whole);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ways),
		cmocka_unit_test(test_check_value),
		cmocka_unit_test(test_every_length_and_offset),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
