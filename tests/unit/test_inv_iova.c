// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The two-step IOVA API in the checker (user/check/shadow_iova.c,
 * inv_iova.c, and the map invariants a link goes through). Expectations
 * come from the API's documented semantics (include/linux/dma-mapping.h,
 * drivers/iommu/dma-iommu.c of 6.16+), worked out by hand here:
 *
 * - dma_iova_try_alloc(phys, size) reserves iova_align(size + phys % g)
 *   bytes and sets state->addr = the range's start + phys % g;
 * - dma_iova_link(phys, offset, size) maps IOVA state->addr + offset, and
 *   the page tables get the granule-aligned range around [phys, phys +
 *   size): what it exposes is that range minus the linked bytes, other live
 *   links of the same state and the device's other live buffers;
 * - dma_iova_unlink(offset, size) removes the granule-aligned range around
 *   [addr + offset, + size), flushed at once, the range stays reserved;
 * - dma_iova_destroy(mapped_len) unlinks [0, mapped_len) (which must all be
 *   linked and be all that is linked) and releases the range, through the
 *   flush queue in a DMA-FQ domain; dma_iova_free releases a range with
 *   nothing linked.
 *
 * Codes (errors unless noted): lifecycle.iova_link_outside, iova_not_linked,
 * iova_double_unlink, iova_live_at_release, iova_not_reserved,
 * iova_reserve_live, iova_reserved_at_end (info).
 */
#include "ev_builder.h"

#define P	0x200000000ULL		/* buffers */
#define Q	0x300000000ULL
#define R	0x400000000ULL
#define BASE	0xfff00000ULL		/* the reserved range's start */
#define INV	IA_INV_LIFECYCLE

#define E(code, ...)	{ "lifecycle." code, IA_SEV_ERROR, __VA_ARGS__ }
#define SUB(...)	{ "exposure.sub_page", IA_SEV_INFO, __VA_ARGS__ }
#define EXPOSED(h, t)	.chk = EB_W_HEAD | EB_W_TAIL | EB_W_EXP | EB_W_KIND, .head = (h), \
			.tail = (t), .exposed = (h) + (t), .kind = IA_REQ_IOVA_LINK

/* 16 KiB reserved from BASE, phys hint 0: state->addr = BASE */
#define ALLOC16K	S_IOVA_ALLOC(.site = 9, .phys = 0, .size = 0x4000, .dma = BASE)
#define LINK(o, p, l, s)	S_IOVA_LINK(.site = (s), .off = (o), .phys = (p), .size = (l), \
					    .dir = EB_FROM_DEV)
#define NOLIVE	{ .chk = EB_D_LIVE | EB_D_LIVEMAPS, .live = 0, .live_maps = 0 }

static const struct eb_case use_cases[] = {
	/*
	 * The fixture's scenario: phys hint 0x200, so state->addr = BASE +
	 * 0x200. Links at sub-granule offsets: L1 (offset 0, phys P + 0x200,
	 * 0x600 bytes) maps [BASE, +0x1000) -> P: head 0x200, tail 0x800
	 * exposed; L2 (offset 0xe00, IOVA BASE + 0x1000, phys Q, 0x1800 bytes)
	 * maps 0x2000: tail 0x800; L3 (offset 0x2e00, IOVA BASE + 0x3000,
	 * phys R, 0x1000 bytes) exposes nothing. Sync, unlink L3, destroy
	 * [0, 0x2e00): nothing wrong, nothing left.
	 */
	{ "reserve, link 3 at sub-granule offsets, sync, unlink one, destroy", 0,
	  { S_DEVICE(), S_IOVA_ALLOC(.site = 9, .phys = 0x200, .size = 0x3e00, .dma = BASE + 0x200),
	    LINK(0, P + 0x200, 0x600, 1), LINK(0xe00, Q, 0x1800, 2), LINK(0x2e00, R, 0x1000, 3),
	    S_IOVA_SYNC(.off = 0, .size = 0x3e00), S_IOVA_UNLINK(.off = 0x2e00, .size = 0x1000),
	    S_IOVA_DESTROY(.size = 0x2e00), S_FINISH(0) },
	  { SUB(EXPOSED(0x200, 0x800)), SUB(EXPOSED(0, 0x800)) },
	  { .chk = EB_D_MAPS | EB_D_REQ | EB_D_MAPPED | EB_D_EXP | EB_D_LIVE | EB_D_LIVEMAPS,
	    .maps = 3, .bytes_requested = 0x600 + 0x1800 + 0x1000,
	    .bytes_mapped = 0x1000 + 0x2000 + 0x1000, .bytes_exposed = 0xa00 + 0x800 } },
	/*
	 * L2 links the first 0x200 bytes of L1's page at IOVA BASE + 0x1000:
	 * its granule [P, P + 0x1000) less its own bytes less L1's live
	 * [P + 0x200, P + 0x800) leaves the tail [P + 0x800, P + 0x1000).
	 */
	{ "another live link of the state covers part of the slack", IA_INV_EXPOSURE,
	  { S_DEVICE(), S_IOVA_ALLOC(.phys = 0x200, .size = 0x1000, .dma = BASE + 0x200),
	    LINK(0, P + 0x200, 0x600, 1), LINK(0xe00, P, 0x200, 2) },
	  { SUB(EXPOSED(0x200, 0x800)), SUB(EXPOSED(0, 0x800)) } },
	/* nvme's 64 KiB read: reserve, link page by page, sync, destroy */
	{ "a block request: 4 links, sync, destroy of all", 0,
	  { S_DEVICE(), S_IOVA_ALLOC(.size = 0x10000, .dma = BASE),
	    LINK(0, P, 0x4000, 1), LINK(0x4000, Q, 0x4000, 1), LINK(0x8000, R, 0x4000, 1),
	    LINK(0xc000, P + 0x10000, 0x4000, 1), S_IOVA_SYNC(.size = 0x10000),
	    S_IOVA_DESTROY(.size = 0x10000), S_FINISH(0) },
	  { },
	  { .chk = EB_D_MAPS | EB_D_REQ | EB_D_MAPPED | EB_D_EXP | EB_D_LIVE | EB_D_LIVEMAPS,
	    .maps = 4, .bytes_requested = 0x10000, .bytes_mapped = 0x10000 } },
	{ "a refused try_alloc reserves nothing", 0,
	  { S_DEVICE(), S_IOVA_ALLOC(.size = 0x1000, .flags = EB_F_FAILED), S_FINISH(0) },
	  { }, NOLIVE },
};

static void test_use(void **state)
{
	eb_run_table("iova/use", use_cases, EB_N(use_cases));
}

static const struct eb_case misuse_cases[] = {
	/* 16 KiB reserved; 4 KiB linked at offset 0x3800: 0x800 past the end */
	{ "link past the reserved range", INV,
	  { S_DEVICE(), ALLOC16K, LINK(0x3800, P + 0x800, 0x1000, 1) },
	  { E("iova_link_outside", .chk = EB_W_LEN | EB_W_KIND, .len = 0x800,
	      .kind = IA_REQ_IOVA_LINK) } },
	{ "link wholly past the reserved range", INV,
	  { S_DEVICE(), ALLOC16K, LINK(0x4000, P, 0x1000, 1) },
	  { E("iova_link_outside", .chk = EB_W_LEN, .len = 0x1000) } },
	{ "link up to the end exactly", INV,
	  { S_DEVICE(), ALLOC16K, LINK(0x3000, P, 0x1000, 1) },
	  { } },
	/* the kernel removes nothing there (iommu_unmap returns 0) */
	{ "unlink of a range never linked", INV,
	  { S_DEVICE(), ALLOC16K, LINK(0, P, 0x1000, 1),
	    S_IOVA_UNLINK(.off = 0x2000, .size = 0x1000, PT1(PTW(BASE + 0x2000, 0, 0x1000, 0))) },
	  { E("iova_not_linked", .chk = EB_W_LEN | EB_W_KIND, .len = 0x1000,
	      .kind = IA_REQ_IOVA_UNLINK) } },
	{ "double unlink", INV,
	  { S_DEVICE(), ALLOC16K, LINK(0, P, 0x1000, 1), S_IOVA_UNLINK(.off = 0, .size = 0x1000),
	    S_IOVA_UNLINK(.off = 0, .size = 0x1000, PT1(PTW(BASE, 0, 0x1000, 0))) },
	  { E("iova_double_unlink", .chk = EB_W_LEN, .len = 0x1000) } },
	{ "unlink, link again, unlink", INV,
	  { S_DEVICE(), ALLOC16K, LINK(0, P, 0x1000, 1), S_IOVA_UNLINK(.off = 0, .size = 0x1000),
	    LINK(0, Q, 0x1000, 1), S_IOVA_UNLINK(.off = 0, .size = 0x1000) },
	  { } },
	/* half of the unlink held a link, half never did */
	{ "unlink across a link and a never-linked range", INV,
	  { S_DEVICE(), ALLOC16K, LINK(0, P, 0x1000, 1),
	    S_IOVA_UNLINK(.off = 0, .size = 0x2000, PT1(PTW(BASE, 0, 0x2000, 0x1000))) },
	  { E("iova_not_linked", .chk = EB_W_LEN, .len = 0x1000) } },
	/* destroy of [0, 0x1000) leaves the link at 0x2000 mapped */
	{ "destroy with a live link outside mapped_len", INV,
	  { S_DEVICE(), ALLOC16K, LINK(0, P, 0x1000, 1), LINK(0x2000, Q, 0x1000, 2),
	    S_IOVA_DESTROY(.size = 0x1000) },
	  { E("iova_live_at_release", .chk = EB_W_LEN | EB_W_KIND, .len = 0x1000,
	      .kind = IA_REQ_IOVA_DESTROY) } },
	{ "destroy of more than was linked", INV,
	  { S_DEVICE(), ALLOC16K, LINK(0, P, 0x1000, 1),
	    S_IOVA_DESTROY(.size = 0x2000, PT1(PTW(BASE, 0, 0x2000, 0x1000))) },
	  { E("iova_not_linked", .chk = EB_W_LEN | EB_W_KIND, .len = 0x1000,
	      .kind = IA_REQ_IOVA_DESTROY) } },
	{ "free with a live link", INV,
	  { S_DEVICE(), ALLOC16K, LINK(0, P, 0x1000, 1), S_IOVA_FREE() },
	  { E("iova_live_at_release", .chk = EB_W_LEN | EB_W_KIND, .len = 0x1000,
	      .kind = IA_REQ_IOVA_FREE) } },
	/* the fixture's repair (docs/fixture.md, iova_destroy): the links left
	 * are removed with iommu_unmap(), outside any request; released with
	 * their range, they are no live mapping of the API's any more (not
	 * lifecycle.unmapped_behind_api), nor live at the end */
	{ "free with a live link, then the link's entry removed outside any request", INV,
	  { S_DEVICE(), ALLOC16K, LINK(0, P, 0x1000, 1), S_IOVA_FREE(),
	    S_PT_UNMAP(PT1(PTW(BASE, 0, 0x1000, 0x1000))), S_FINISH(0) },
	  { E("iova_live_at_release", .chk = EB_W_LEN, .len = 0x1000) }, NOLIVE },
	{ "destroy leaving a link, the link repaired outside any request", INV,
	  { S_DEVICE(), ALLOC16K, LINK(0, P, 0x1000, 1), LINK(0x2000, Q, 0x1000, 2),
	    S_IOVA_DESTROY(.size = 0x1000), S_PT_UNMAP(PT1(PTW(BASE + 0x2000, 0, 0x1000, 0x1000))),
	    S_FINISH(0) },
	  { E("iova_live_at_release", .chk = EB_W_LEN, .len = 0x1000) }, NOLIVE },
	{ "link after destroy (mapped_len 0: a nested free)", INV,
	  { S_DEVICE(), ALLOC16K, S_IOVA_DESTROY(.size = 0), LINK(0, P, 0x1000, 1) },
	  { E("iova_not_reserved", .chk = EB_W_KIND, .kind = IA_REQ_IOVA_LINK) } },
	{ "try_alloc into a state still reserved", INV,
	  { S_DEVICE(), ALLOC16K, ALLOC16K },
	  { E("iova_reserve_live", .chk = EB_W_KIND, .kind = IA_REQ_IOVA_TRY_ALLOC) } },
	{ "reserve after a destroy: a fresh range", INV,
	  { S_DEVICE(), ALLOC16K, LINK(0, P, 0x1000, 1), S_IOVA_DESTROY(.size = 0x1000),
	    ALLOC16K, LINK(0, P, 0x1000, 1), S_IOVA_DESTROY(.size = 0x1000), S_FINISH(0) },
	  { }, NOLIVE },
	/* a state first seen after its try_alloc: not judged */
	{ "calls on a state never seen reserved", INV,
	  { S_DEVICE(), LINK(0, P, 0x1000, 1), S_IOVA_UNLINK(.off = 0x5000, .size = 0x1000),
	    S_IOVA_FREE() },
	  { } },
	{ "still reserved at the end, with its link", INV,
	  { S_DEVICE(), ALLOC16K, LINK(0, P, 0x1000, 1), S_FINISH(0) },
	  { { "lifecycle.iova_reserved_at_end", IA_SEV_INFO, .chk = EB_W_LEN | EB_W_DMA | EB_W_KIND,
	      .len = 0x4000, .dma = BASE, .kind = IA_REQ_IOVA_TRY_ALLOC },
	    { "lifecycle.live_at_end", IA_SEV_INFO, .chk = EB_W_KIND | EB_W_DMA | EB_W_LEN,
	      .kind = IA_REQ_IOVA_LINK, .dma = BASE, .len = 0x1000 } },
	  { .chk = EB_D_LIVE, .live = 1 } },
};

static void test_misuse(void **state)
{
	eb_run_table("iova/misuse", misuse_cases, EB_N(misuse_cases));
}

/*
 * Lazy windows: a destroy in a DMA-FQ domain releases the range through the
 * flush queue (its IOVA release is queued): reachable until the flush. An
 * unlink is flushed at once: no window.
 */
static const struct eb_case temporal_cases[] = {
	{ "destroy, queued: reachable until the flush", IA_INV_TEMPORAL,
	  { S_DEVICE(.d = { .domain_type = IA_DOMAIN_DMA_FQ }), ALLOC16K, LINK(0, P, 0x1000, 1),
	    S_TIME(5000000), S_IOVA_DESTROY(.size = 0x1000, .flags = EB_F_QUEUED),
	    S_TIME(5250000), S_FLUSH() },
	  { { "temporal.lazy_window", IA_SEV_INFO, .chk = EB_W_VALUE | EB_W_PHYS | EB_W_LEN,
	      .value = 250000, .phys = P, .len = 0x1000 } },
	  { .chk = EB_D_LAZY, .lazy_max_ns = 250000 } },
	{ "unlink: flushed at once, no window", IA_INV_TEMPORAL,
	  { S_DEVICE(.d = { .domain_type = IA_DOMAIN_DMA_FQ }), ALLOC16K, LINK(0, P, 0x1000, 1),
	    S_IOVA_UNLINK(.off = 0, .size = 0x1000), S_FLUSH() },
	  { }, { .chk = EB_D_LAZY, .lazy_max_ns = 0 } },
	{ "destroy, strict: no window", IA_INV_TEMPORAL,
	  { S_DEVICE(), ALLOC16K, LINK(0, P, 0x1000, 1), S_IOVA_DESTROY(.size = 0x1000),
	    S_FLUSH() },
	  { } },
	{ "destroy, queued, never flushed", IA_INV_TEMPORAL,
	  { S_DEVICE(.d = { .domain_type = IA_DOMAIN_DMA_FQ }), ALLOC16K, LINK(0, P, 0x1000, 1),
	    S_IOVA_DESTROY(.size = 0x1000, .flags = EB_F_QUEUED), S_FINISH(0) },
	  { { "temporal.unflushed_at_end", IA_SEV_INFO, .chk = EB_W_PHYS | EB_W_LEN,
	      .phys = P, .len = 0x1000 } } },
};

static void test_temporal(void **state)
{
	eb_run_table("iova/temporal", temporal_cases, EB_N(temporal_cases));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_use),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_temporal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
