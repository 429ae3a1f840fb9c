// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of a page-table entry's packed owner (user/check/shadow.c,
 * struct ck_ptmap: 56 bytes, its fields narrowed, a value at or above a
 * field's bound kept in checker.far). Witness: the struct ck_owner given,
 * field for field (the plain structure): every field on both sides of its
 * bound, in neighbouring entries at once (their far keys must not meet),
 * set again over an owner with far values and cleared, and the far map
 * empty once no entry holds a far value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "check/shadow.h"

#define DOM	0xffff888000200000ULL
#define IOVA	0x100000000ULL
#define ENTRY	(16ULL << 20)	/* an entry long enough for a far offset */
#define NENT	8

static struct ck_ptmap *entry(struct ia_checker *c, int i)
{
	struct ck_domain *d = ck_domain_find(c, DOM);
	struct ia_inode *n = ia_itree_find(&d->pt, IOVA + (__u64)i * ENTRY);

	assert_non_null(n);
	return ia_container_of(n, struct ck_ptmap, node);
}

static void assert_owner(const struct ck_owner *got, const struct ck_owner *want)
{
	assert_int_equal(got->req_id, want->req_id);
	assert_int_equal(got->dma, want->dma);
	assert_int_equal(got->len, want->len);
	assert_int_equal(got->stack_id, want->stack_id);
	assert_int_equal(got->dev, want->dev);
	assert_int_equal(got->kind, want->kind);
	assert_int_equal(got->dir, want->dir);
	assert_int_equal(got->aux, want->aux);
}

/* Values each side of each field's bound (shadow.h), and the extremes. */
static const __u64 reqs[] = { 1, 2, CK_REQ_FAR - 1, CK_REQ_FAR, CK_REQ_FAR + 1ULL,
			      1ULL << 40, UINT64_MAX };
static const __u32 lens[] = { 0, 1, 0x1000, CK_LEN_FAR - 1, CK_LEN_FAR, CK_LEN_FAR + 1,
			     UINT32_MAX };
static const __u64 offs[] = { 0, 0x1000, CK_OFF_FAR - 1, CK_OFF_FAR, CK_OFF_FAR + 1,
			      ENTRY - 1 };
static const __u32 auxes[] = { 0, 1, CK_AUX_FAR - 1, CK_AUX_FAR, CK_AUX_FAR + 1,
			       0xdeadbeef, UINT32_MAX };
static const __s32 stacks[] = { -1, 0, 1, CK_STACK_FAR - 2, CK_STACK_FAR - 1, CK_STACK_FAR,
				-2, -14, INT32_MAX, INT32_MIN };
static const __u16 devs[] = { 0, 1, CK_DEV_FAR - 1, CK_DEV_FAR, CK_DEV_FAR + 1, UINT16_MAX };
static const __u8 kinds[] = { IA_REQ_MAP_PAGE, IA_REQ_MAP_SG, IA_REQ_ALLOC, CK_KIND_FAR - 1,
			      CK_KIND_FAR, CK_KIND_FAR + 1, UINT8_MAX };
static const __u8 dirs[] = { 0, 1, 2, 3, CK_DIR_FAR - 1, CK_DIR_FAR, CK_DIR_FAR + 1, UINT8_MAX };
#define N(a)	(sizeof(a) / sizeof((a)[0]))

/* The i-th combination, for entry e: each field walks its own list. */
static struct ck_owner owner(int i, int e)
{
	return (struct ck_owner){
		.req_id = reqs[(i + e) % N(reqs)],
		.dma = IOVA + (__u64)e * ENTRY + offs[(i + 2 * e) % N(offs)],
		.len = lens[(i + 6 * e) % N(lens)],
		.stack_id = stacks[(i + 3 * e) % N(stacks)],
		.dev = devs[(i + e) % N(devs)],
		.kind = kinds[(i + 5 * e) % N(kinds)],
		.dir = dirs[(i + e) % N(dirs)],
		.aux = auxes[(i + 4 * e) % N(auxes)],
	};
}

static void test_fields(void **state)
{
	struct ia_checker *c = ia_checker_new();
	struct ck_owner none = { 0 };

	assert_non_null(c);
	assert_int_equal(sizeof(struct ck_ptmap), 56);
	assert_non_null(ck_domain_get(c, DOM));
	for (int e = 0; e < NENT; e++)
		assert_int_equal(ck_pt_insert(c, DOM, IOVA + (__u64)e * ENTRY, ENTRY, 0x1000), 0);
	for (int i = 0; i < 70; i++) {
		/* every entry set over its last owner, then read back */
		for (int e = 0; e < NENT; e++) {
			struct ck_owner o = owner(i, e);

			ck_ptmap_set_owner(c, entry(c, e), &o);
		}
		for (int e = 0; e < NENT; e++) {
			struct ck_owner o = owner(i, e), got = ck_ptmap_owner(c, entry(c, e));

			assert_owner(&got, &o);
			assert_int_equal(ck_ptmap_req(c, entry(c, e)), o.req_id);
			assert_true(entry(c, e)->own.req != 0);
		}
		assert_false(c->oom);
	}
	/* cleared: no owner, nothing left on the side */
	for (int e = 0; e < NENT; e++) {
		struct ck_owner got;

		ck_ptmap_set_owner(c, entry(c, e), &none);
		got = ck_ptmap_owner(c, entry(c, e));
		assert_owner(&got, &none);
		assert_int_equal(entry(c, e)->own.req, 0);
		assert_int_equal(ck_ptmap_req(c, entry(c, e)), 0);
	}
	assert_int_equal(c->far.len, 0);
	ia_checker_free(c);
}

/* An owner whose every field fits keeps nothing on the side. */
static void test_near(void **state)
{
	struct ia_checker *c = ia_checker_new();
	struct ck_owner o = { .req_id = CK_REQ_FAR - 1, .dma = IOVA + CK_OFF_FAR - 1,
			      .len = CK_LEN_FAR - 1, .stack_id = CK_STACK_FAR - 2,
			      .dev = CK_DEV_FAR - 1, .kind = CK_KIND_FAR - 1,
			      .dir = CK_DIR_FAR - 1, .aux = CK_AUX_FAR - 1 }, got;

	assert_non_null(c);
	assert_non_null(ck_domain_get(c, DOM));
	assert_int_equal(ck_pt_insert(c, DOM, IOVA, ENTRY, 0x1000), 0);
	ck_ptmap_set_owner(c, entry(c, 0), &o);
	assert_int_equal(c->far.len, 0);
	assert_int_equal(entry(c, 0)->own.far, 0);
	got = ck_ptmap_owner(c, entry(c, 0));
	assert_owner(&got, &o);
	o.dir = CK_DIR_FAR;	/* one field at its bound */
	ck_ptmap_set_owner(c, entry(c, 0), &o);
	assert_int_equal(c->far.len, 1);
	assert_int_equal(entry(c, 0)->own.far, 1);
	got = ck_ptmap_owner(c, entry(c, 0));
	assert_owner(&got, &o);
	ia_checker_free(c);
}

/* An entry removed with a far owner takes its far values with it. */
static void test_removed(void **state)
{
	struct ia_checker *c = ia_checker_new();
	struct ck_owner o = owner(3, 0);

	assert_non_null(c);
	assert_non_null(ck_domain_get(c, DOM));
	assert_int_equal(ck_pt_insert(c, DOM, IOVA, ENTRY, 0x1000), 0);
	o.req_id = UINT64_MAX;
	o.stack_id = -14;
	ck_ptmap_set_owner(c, entry(c, 0), &o);
	assert_true(c->far.len > 0);
	ck_pt_remove(c, ck_domain_find(c, DOM), IOVA, IOVA + ENTRY, NULL);
	assert_int_equal(c->far.len, 0);
	ia_checker_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_near),
		cmocka_unit_test(test_removed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
