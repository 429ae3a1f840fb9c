// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Invariant 3, alignment (user/check/inv_alignment.c), all errors:
 * alignment.pt_refused, pt_unaligned, offset, seg_boundary, max_seg_size,
 * dma_mask. Tables of event sequences (tests/unit/ev_builder.h) and the
 * alignment findings worked out by hand.
 */
#include "ev_builder.h"

#define P	0x200000000ULL
#define INV	IA_INV_ALIGNMENT
#define G16K	.d = { .granule = 0x4000 }

#define REFUSED(...)	{ "alignment.pt_refused", IA_SEV_ERROR, __VA_ARGS__ }
#define UNALIGNED(...)	{ "alignment.pt_unaligned", IA_SEV_ERROR, __VA_ARGS__ }
#define OFFSET(...)	{ "alignment.offset", IA_SEV_ERROR, __VA_ARGS__ }
#define BOUNDARY(...)	{ "alignment.seg_boundary", IA_SEV_ERROR, __VA_ARGS__ }
#define MAXSEG(...)	{ "alignment.max_seg_size", IA_SEV_ERROR, __VA_ARGS__ }
#define MASK(...)	{ "alignment.dma_mask", IA_SEV_ERROR, __VA_ARGS__ }

/* Page-table writes: refused, or not granule-aligned. */
static const struct eb_case write_cases[] = {
	/* every invariant compared (0): a failed map is only an alignment
	 * finding, and it does not register a live mapping */
	{ "refused write (-EINVAL), request failed", 0,
	  { S_DEVICE(), S_MAP(.phys = P, .size = 0x1000, .dma = 0xfffff000,
			      .flags = EB_F_FAILED,
			      PT1(PTW(0xfffff000, P, 0x1000, EB_ERR(22)))),
	    S_FINISH(0) },
	  { REFUSED(.chk = EB_W_DMA | EB_W_KIND, .dma = EB_DMA_ERROR,
		    .kind = IA_REQ_MAP_PAGE),
	    /* and the failed request, with its reason (inv_failed.c) */
	    { "failed.pt_refused", IA_SEV_WARNING } },
	  { .chk = EB_D_LIVEMAPS | EB_D_LIVE, .live_maps = 0, .live = 0 } },
	{ "refused write (-ENOMEM) after a good one", INV,
	  { S_DEVICE(), S_MAP(.phys = P, .size = 0x2000, .dma = 0xffffe000,
			      .flags = EB_F_FAILED,
			      PT2(PTW(0xffffe000, P, 0x1000, 0),
				  PTW(0xfffff000, P + 0x1000, 0x1000, EB_ERR(12)))) },
	  { REFUSED() } },
	{ "refused 16K write in a 16K-granule domain", INV,
	  { S_DEVICE(G16K), S_MAP(.phys = P + 0x4000, .size = 0x4000, .dma = 0xfff00000,
				  .flags = EB_F_FAILED,
				  PT1(PTW(0xfff00000, P + 0x4000, 0x4000, EB_ERR(22)))) },
	  { REFUSED() } },
	{ "failed request without page-table writes (IOVA space exhausted)", 0,
	  { S_DEVICE(), S_MAP(.phys = P, .size = 0x1000, .dma = 0xfffff000,
			      .flags = EB_F_FAILED | EB_F_NO_PT), S_FINISH(0) },
	  { { "failed.iova_exhausted", IA_SEV_WARNING } } },
	/* handle offset == phys offset 0x800 (no offset finding), but the
	 * write's IOVA is not 4K-aligned */
	{ "write IOVA not granule-aligned", INV,
	  { S_DEVICE(), S_MAP(.phys = P + 0x800, .size = 0x800, .dma = 0xfffff800,
			      PT1(PTW(0xfffff800, P, 0x1000, 0))) },
	  { UNALIGNED(.chk = EB_W_DMA, .dma = 0xfffff800) } },
	{ "write paddr not granule-aligned", INV,
	  { S_DEVICE(), S_MAP(.phys = P + 0x100, .size = 0x200, .dma = 0xfffff100,
			      PT1(PTW(0xfffff000, P + 0x100, 0x1000, 0))) },
	  { UNALIGNED() } },
	{ "write size not a granule multiple", INV,
	  { S_DEVICE(), S_MAP(.phys = P, .size = 0x800, .dma = 0xfffff000,
			      PT1(PTW(0xfffff000, P, 0x800, 0))) },
	  { UNALIGNED() } },
	{ "4K-aligned write in a 16K-granule domain", INV,
	  { S_DEVICE(G16K), S_MAP(.phys = P + 0x1000, .size = 0x1000, .dma = 0xfff01000,
				  PT1(PTW(0xfff01000, P + 0x1000, 0x1000, 0))) },
	  { UNALIGNED() } },
	{ "16K write in a 16K-granule domain", INV,
	  { S_DEVICE(G16K), S_MAP(.phys = P + 0x5000, .size = 0x1000, .dma = 0xfff01000) } },
	{ "two-page write in a 4K domain", INV,
	  { S_DEVICE(), S_MAP(.phys = P + 0x100, .size = 0x1800, .dma = 0xffffe100) } },
};

static void test_writes(void **state)
{
	eb_run_table("alignment/writes", write_cases, EB_N(write_cases));
}

/* handle % granule must equal phys % granule (the slot's when bounced). */
static const struct eb_case offset_cases[] = {
	{ "handle offset 0, phys offset 100", INV,
	  { S_DEVICE(), S_MAP(.phys = P + 100, .size = 200, .dma = 0xfffff000) },
	  { OFFSET(.chk = EB_W_DMA | EB_W_PHYS, .dma = 0xfffff000, .phys = P + 100) } },
	{ "equal offsets 100", INV,
	  { S_DEVICE(), S_MAP(.phys = P + 100, .size = 200, .dma = 0xfffff064) } },
	{ "16K granule: equal within 4K, not within 16K", INV,
	  { S_DEVICE(G16K), S_MAP(.phys = P + 0x1064, .size = 200, .dma = 0xfff00064,
				  PT1(PTW(0xfff00000, P, 0x4000, 0))) },
	  { OFFSET() } },
	{ "16K granule: equal offsets 0x1064", INV,
	  { S_DEVICE(G16K), S_MAP(.phys = P + 0x1064, .size = 200, .dma = 0xfff01064) } },
	{ "bounced: handle offset matches the slot", INV,
	  { S_DEVICE(.d = { .flags = IA_DEV_UNTRUSTED }),
	    S_MAP(.phys = P + 100, .size = 200, .dma = 0xfffff000, .tlb = 0x7000000) } },
	{ "bounced: handle offset matches the buffer, not the slot", INV,
	  { S_DEVICE(.d = { .flags = IA_DEV_UNTRUSTED }),
	    S_MAP(.phys = P + 100, .size = 200, .dma = 0xfffff064, .tlb = 0x7000000) },
	  { OFFSET() } },
	{ "map_resource offset mismatch", INV,
	  { S_DEVICE(), S_MAP(.kind = IA_REQ_MAP_RESOURCE, .phys = 0xfe000010, .size = 0x10,
			      .dma = 0xfffff000) },
	  { OFFSET(.chk = EB_W_KIND, .kind = IA_REQ_MAP_RESOURCE) } },
};

static void test_offset(void **state)
{
	eb_run_table("alignment/offset", offset_cases, EB_N(offset_cases));
}

/*
 * Output segments of map_sg against the device's segment boundary and
 * maximum segment size. The output walk comes after the map_sg record (the
 * fexit program emits it after submitting the request).
 */
#define BOUND64K	.d = { .seg_boundary = 0xffff }

static const struct eb_case segment_cases[] = {
	/* [0xffe0f000, 0xffe11000): 0xffe0f000 ^ 0xffe10fff = 0x1ffff */
	{ "output segment crosses the 64K boundary", INV,
	  { S_DEVICE(BOUND64K),
	    S_MAP_SG(.sg = { SEG(P, 0x1000, 0xffe0f000, 0x2000),
			     SEG(P + 0x1000, 0x1000, EB_DMA_ERROR, 0) }, .nsg = 2) },
	  { BOUNDARY(.chk = EB_W_DMA | EB_W_KIND, .dma = 0xffe0f000,
		     .kind = IA_REQ_MAP_SG) } },
	{ "output segment ends exactly at the 64K boundary", INV,
	  { S_DEVICE(BOUND64K),
	    S_MAP_SG(.sg = { SEG(P, 0x1000, 0xffe0e000, 0x2000),
			     SEG(P + 0x1000, 0x1000, EB_DMA_ERROR, 0) }, .nsg = 2) } },
	{ "two segments each inside a 64K window", INV,
	  { S_DEVICE(BOUND64K),
	    S_MAP_SG(.sg = { SEG(P, 0x1000, 0xffe0f000, 0x1000),
			     SEG(P + 0x8000, 0x1000, 0xffe10000, 0x1000) }, .nsg = 2) } },
	/* two 64K inputs packed into one 128K output, max 64K */
	{ "output segment above max_seg_size", INV,
	  { S_DEVICE(),
	    S_MAP_SG(.sg = { SEG(P, 0x10000, 0xffe00000, 0x20000),
			     SEG(P + 0x10000, 0x10000, EB_DMA_ERROR, 0) }, .nsg = 2) },
	  { MAXSEG(.chk = EB_W_DMA, .dma = 0xffe00000) } },
	{ "output segment of exactly max_seg_size", INV,
	  { S_DEVICE(),
	    S_MAP_SG(.sg = { SEG(P, 0x8000, 0xffe00000, 0x10000),
			     SEG(P + 0x8000, 0x8000, EB_DMA_ERROR, 0) }, .nsg = 2) } },
};

static void test_segments(void **state)
{
	eb_run_table("alignment/segments", segment_cases, EB_N(segment_cases));
}

/* handle + len - 1 against min(mask, bus limit); coherent mask for allocs. */
#define MASK32	.d = { .dma_mask = 0xffffffff }

static const struct eb_case mask_cases[] = {
	{ "handle beyond a 32-bit mask", INV,
	  { S_DEVICE(MASK32), S_MAP(.phys = P, .size = 0x1000, .dma = 0x100000000ULL) },
	  { MASK(.chk = EB_W_DMA | EB_W_LEN, .dma = 0x100000000ULL, .len = 0x1000) } },
	{ "handle ending exactly at the mask", INV,
	  { S_DEVICE(MASK32), S_MAP(.phys = P, .size = 0x1000, .dma = 0xfffff000) } },
	{ "handle crossing the mask", INV,
	  { S_DEVICE(MASK32), S_MAP(.phys = P + 0x800, .size = 0x1000, .dma = 0xfffff800) },
	  { MASK() } },
	{ "48-bit mask, bus_dma_limit 32-bit", INV,
	  { S_DEVICE(.d = { .bus_limit = 0xffffffff }),
	    S_MAP(.phys = P, .size = 0x1000, .dma = 0x100000000ULL) },
	  { MASK() } },
	{ "alloc checked against the 32-bit coherent mask", INV,
	  { S_DEVICE(.d = { .coherent_mask = 0xffffffff }),
	    S_ALLOC(.phys = P, .size = 0x1000, .dma = 0x100000000ULL) },
	  { MASK(.chk = EB_W_KIND, .kind = IA_REQ_ALLOC) } },
	{ "map_page checked against dma_mask, not the coherent mask", INV,
	  { S_DEVICE(.d = { .coherent_mask = 0xffffffff }),
	    S_MAP(.phys = P, .size = 0x1000, .dma = 0x100000000ULL) } },
	{ "map_sg handle beyond a 32-bit mask", INV,
	  { S_DEVICE(MASK32),
	    S_MAP_SG(.sg = { SEG(P, 0x1000, 0x100000000ULL, 0x1000) }, .nsg = 1) },
	  { MASK() } },
	{ "failed map: handle not checked", INV,
	  { S_DEVICE(MASK32), S_MAP(.phys = P, .size = 0x1000, .dma = 0x100000000ULL,
				    .flags = EB_F_FAILED | EB_F_NO_PT) } },
};

static void test_dma_mask(void **state)
{
	eb_run_table("alignment/dma_mask", mask_cases, EB_N(mask_cases));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writes),
		cmocka_unit_test(test_offset),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_dma_mask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
