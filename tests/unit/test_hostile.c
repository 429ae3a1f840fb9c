// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Hostile records (issue 14): what a damaged or crafted trace can make the
 * checker do. Each case is a reproducer of a defect found by fuzzing
 * (tests/data/repro/, tests/fuzz/), reduced to its records:
 *
 * - a root request whose device is unknown (dev 0) was freed twice;
 * - the unrelated-pages count walked the mapping page by page (2^36 steps
 *   for a 2^48-byte write) and wrapped at 2^64 (forever);
 * - a handle returned twice leaked the first owner (the map overwrote it);
 * - ranges past the end of the address space, device page sizes that are
 *   no power of two and requests of id 0 are malformed records, not
 *   replayed (a sub-page buffer of request 0 leaked).
 *
 * Expected numbers are worked out by hand in each case's comment.
 */
#include "ev_builder.h"

#define INV	IA_INV_EXPOSURE
#define NUMS	(EB_W_HEAD | EB_W_TAIL | EB_W_EXP | EB_W_PAGES)
#define TOP	(~0ULL - 8191)	/* 2^64 - 8192 */

static const struct eb_case exposure_cases[] = {
	/* write [0x200000, 0x200000 + 2^48), buffer its first page: tail
	 * 2^48 - 4096 bytes, all whole pages: 2^36 - 1 of them. Counted,
	 * not walked (the walk took minutes). */
	{ "2^48-byte write of a 4K map_page: pages counted", INV,
	  { S_DEVICE(), S_MAP(.phys = 0x200000, .size = 4096, .dma = 0x100000,
			      PT1(PTW(0x100000, 0x200000, 1ULL << 48, 0))) },
	  { { "exposure.unrelated_pages", IA_SEV_WARNING, .chk = NUMS, .head = 0,
	      .tail = (1ULL << 48) - 4096, .exposed = (1ULL << 48) - 4096,
	      .pages = (1ULL << 36) - 1 } } },
	/* write [2^64 - 8192, 2^64 - 1) (8191 bytes, the last byte of the
	 * address space left out), buffer its first 16 bytes: tail 8175; the
	 * second page is not whole: 0 pages. The page walk wrapped here. */
	{ "write ending one byte below 2^64: no wrap", INV,
	  { S_DEVICE(), S_MAP(.phys = TOP, .size = 16, .dma = 0x100000,
			      PT1(PTW(0x100000, TOP, 8191, 0))) },
	  { { "exposure.sub_page", IA_SEV_INFO, .chk = NUMS, .head = 0, .tail = 8175,
	      .exposed = 8175, .pages = 0 } } },
	/* the same at 2^64 - 16384 with 16383 bytes: pages 2^64 - 12288
	 * and 2^64 - 8192 are whole and untouched: 2 */
	{ "write of 16383 bytes below 2^64: two whole pages", INV,
	  { S_DEVICE(), S_MAP(.phys = TOP - 8192, .size = 16, .dma = 0x100000,
			      PT1(PTW(0x100000, TOP - 8192, 16383, 0))) },
	  { { "exposure.unrelated_pages", IA_SEV_WARNING, .chk = NUMS, .head = 0,
	      .tail = 16367, .exposed = 16367, .pages = 2 } } },
};

static void test_exposure_bounded(void **state)
{
	eb_run_table("hostile/exposure", exposure_cases, EB_N(exposure_cases));
}

/* dev 0: no device context can be found. Every root path that reaches the
 * invariants: map_page (on_req), map_sg (its output walk, on_sg), map_sg
 * whose walk never comes (ia_checker_finish). Each freed its pending entry
 * twice (glibc aborts; ASan reports the double free). */
static void test_unknown_device(void **state)
{
	struct ia_sg_seg seg = { .phys = 0x1000, .len = 4096, .dma = 0x10000,
				 .dma_len = 4096 };
	struct eb_pt w = { 0x10000, 0x1000, 4096, 0 };
	size_t n;

	eb_begin();
	eb_ev_pt(IA_EV_PT_MAP, 7, EB_DOM_A, &w);
	eb_ev_req(7, 0, 0, IA_REQ_MAP_PAGE, 0x1000, 4096, 0x10000, 0, 0, 0, 0, 0, 0);
	eb_ev_sg(8, false, &seg, 1);
	eb_ev_req(8, 0, 0, IA_REQ_MAP_SG, 0, 4096, 0x10000, 0, 0, 0, 1, 1, 0);
	eb_ev_sg(8, true, &seg, 1);
	eb_ev_sg(9, false, &seg, 1);
	eb_ev_req(9, 0, 0, IA_REQ_MAP_SG, 0, 4096, 0x10000, 0, 0, 0, 1, 1, 0);
	ia_checker_finish(eb_w.c, 0);
	ia_checker_findings(eb_w.c, &n);
	assert_int_equal(n, 0);	/* nothing to check them against */
	assert_int_equal(ia_checker_malformed(eb_w.c), 0);
	eb_end();
}

/* Two map_page requests return the same handle, no page-table write seen
 * (a lost unmap): the second supersedes the first, one mapping is live at
 * the end. The first owner used to be overwritten and leaked (live 2). */
static void test_handle_twice(void **state)
{
	eb_begin();
	eb_ev_device(EB_DEV_A, EB_DOM_A, &(struct eb_devspec){ 0 });
	eb_ev_req(1, EB_DEV_A, 0, IA_REQ_MAP_PAGE, 0x1000, 4096, 0x100000, 0, 0, 0, 0, 0, 0);
	eb_ev_req(2, EB_DEV_A, 0, IA_REQ_MAP_PAGE, 0x1000, 4096, 0x100000, 0, 0, 0, 0, 0, 0);
	assert_int_equal(ia_checker_live_mappings(eb_w.c), 1);
	ia_checker_finish(eb_w.c, 0);
	eb_end();
}

/* One IOVA API call of the device EB_DEV_A with these fields, as BPF
 * writes it (tests/unit/ev_builder.h's eb_ev_iova takes the reservation
 * from its world; these records claim what they like). */
static void feed_iova(__u64 id, __u32 kind, __u64 addr, __u64 ssize, __u64 phys, __u64 off,
		      __u64 size, __s32 ret)
{
	struct ia_ev_iova v;

	memset(&v, 0, sizeof(v));
	eb_hdr(&v.hdr, IA_EV_IOVA, sizeof(v), id, 0);
	v.dev = EB_DEV_A;
	v.state = 0xffff888000100000ULL;
	v.kind = kind;
	v.addr = addr;
	v.state_size = ssize;
	v.phys = phys;
	v.offset = off;
	v.size = size;
	v.ret = ret;
	v.stack_id = -1;
	eb_feed(&v);
}

/* A reservation that uses swiotlb (bit 63 of its __size) is no wrap. */
static void test_iova_swiotlb_sane(void **state)
{
	eb_begin();
	eb_ev_device(EB_DEV_A, EB_DOM_A, &(struct eb_devspec){ 0 });
	feed_iova(1, IA_REQ_IOVA_TRY_ALLOC, 0xfff00000, 65536 | IA_IOVA_SWIOTLB, 0, 0, 65536, 1);
	if (ia_checker_malformed(eb_w.c))
		fail_msg("a swiotlb reservation: got %llu malformed, want 0",
			 (unsigned long long)ia_checker_malformed(eb_w.c));
	ia_checker_finish(eb_w.c, 0);
	eb_end();
}

/* Records claiming ranges past 2^64, or a device whose page size or granule
 * is no power of two of a size a kernel uses: counted as malformed, not
 * replayed (nothing else is computed from them). */
static void test_malformed_claims(void **state)
{
	struct eb_pt wrap = { 0x100000, TOP, 8192, 0 };		/* ends at 2^64 */
	struct eb_pt iova_wrap = { ~0ULL - 4095, 0x1000, 8192, 0 };
	const struct ia_finding *f;
	struct ia_ev_device d;
	size_t n;
	int bad = 0;

	eb_begin();
	eb_ev_device(EB_DEV_A, EB_DOM_A, &(struct eb_devspec){ 0 });
	eb_ev_pt(IA_EV_PT_MAP, 1, EB_DOM_A, &wrap);
	eb_ev_pt(IA_EV_PT_MAP, 1, EB_DOM_A, &iova_wrap);
	eb_ev_pt(IA_EV_PT_UNMAP, 1, EB_DOM_A, &iova_wrap);
	eb_ev_req(1, EB_DEV_A, 0, IA_REQ_MAP_PAGE, TOP, 8192, 0x100000, 0, 0, 0, 0, 0, 0);
	eb_ev_req(2, EB_DEV_A, 0, IA_REQ_UNMAP_PAGE, 0, 8192, ~0ULL - 100, 0, 0, 0, 0, 0, 0);
	bad += eb_field("wrapping ranges", "malformed", ia_checker_malformed(eb_w.c), 5);
	/* a failed map's handle is DMA_MAPPING_ERROR: not a range, accepted */
	eb_ev_req(3, EB_DEV_A, 0, IA_REQ_MAP_PAGE, 0x1000, 4096, ~0ULL, 0, 0,
		  IA_REQ_F_FAILED, 0, 0, 0);
	bad += eb_field("failed map", "malformed", ia_checker_malformed(eb_w.c), 5);

	memset(&d, 0, sizeof(d));
	eb_hdr(&d.hdr, IA_EV_DEVICE, sizeof(d), 0, 0);
	d.dev = EB_DEV_B;
	d.page_size = 4097;
	eb_feed(&d);
	d.page_size = 1u << 30;	/* a power of two, but no kernel's page */
	eb_feed(&d);
	d.page_size = 4096;
	d.granule = 3 << 12;
	eb_feed(&d);
	d.granule = 1ULL << 40;
	eb_feed(&d);
	bad += eb_field("device sizes", "malformed", ia_checker_malformed(eb_w.c), 9);
	d.granule = 0;		/* unknown: the page size is used */
	eb_feed(&d);
	d.granule = 1ULL << 16;
	eb_feed(&d);
	bad += eb_field("sane device", "malformed", ia_checker_malformed(eb_w.c), 9);
	/* request id 0 ("no request"): its sub-page buffer was kept in the
	 * tree under no id and leaked (found by tests/fuzz/fuzz_trace) */
	eb_ev_req(0, EB_DEV_A, 0, IA_REQ_MAP_PAGE, 0x1000, 288, 0x100000, 0, 0, 0, 0, 0, 0);
	bad += eb_field("request id 0", "malformed", ia_checker_malformed(eb_w.c), 10);
	/* IOVA API calls: a reservation, a link or an offset past 2^64, a
	 * kind of another API (a sane one with the swiotlb bit in __size:
	 * test_iova_swiotlb_sane) */
	{
		static const struct { __u32 kind; __u64 addr, ssize, phys, off, size; } iv[] = {
			{ IA_REQ_IOVA_TRY_ALLOC, ~0ULL - 4095, 8192, 0, 0, 8192 },
			{ IA_REQ_IOVA_LINK, 0xfff00000, 65536, ~0ULL - 100, 0, 4096 },
			{ IA_REQ_IOVA_SYNC, 0xfff00000, 65536, 0, ~0ULL - 10, 4096 },
			{ IA_REQ_IOVA_UNLINK, ~0ULL - 8191, 4096, 0, 4096, 4096 },
			{ IA_REQ_MAP_PAGE, 0xfff00000, 65536, 0, 0, 4096 },
		};

		for (size_t i = 0; i < sizeof(iv) / sizeof(iv[0]); i++)
			feed_iova(20 + i, iv[i].kind, iv[i].addr, iv[i].ssize, iv[i].phys,
				  iv[i].off, iv[i].size, 0);
		bad += eb_field("IOVA API ranges and kinds", "malformed",
				ia_checker_malformed(eb_w.c), 15);
	}
	ia_checker_finish(eb_w.c, 0);
	f = ia_checker_findings(eb_w.c, &n);
	/* only the failed map (request 3), reported as the failure it is
	 * (inv_failed.c); the malformed records left nothing */
	bad += eb_field("nothing else replayed", "findings", n, 1);
	bad += eb_field("the failed map", "is failed.*", n == 1 && !strncmp(f[0].code, "failed.", 7), 1);
	eb_end();
	if (bad)
		fail_msg("%d field(s) differ", bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exposure_bounded),
		cmocka_unit_test(test_unknown_device),
		cmocka_unit_test(test_handle_twice),
		cmocka_unit_test(test_malformed_claims),
		cmocka_unit_test(test_iova_swiotlb_sane),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
