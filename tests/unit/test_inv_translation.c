// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Invariant 1, translation (user/inv_translation.c): for every byte b of a
 * request, translate(domain, handle + b) == phys + b (the bounce slot when
 * bounced). Codes: translation.wrong_phys, translation.unmapped (errors).
 *
 * Each table case is an event sequence (tests/unit/ev_builder.h, in the
 * kernel's order) and the translation findings worked out by hand; cases
 * that must and must not produce findings side by side.
 */
#include "ev_builder.h"

#define P	0x200000000ULL	/* a 64K-aligned physical buffer area */
#define INV	IA_INV_TRANSLATION

#define WRONG(...)	{ "translation.wrong_phys", IA_SEV_ERROR, __VA_ARGS__ }
#define UNMAPPED(...)	{ "translation.unmapped", IA_SEV_ERROR, __VA_ARGS__ }

/* map_page / map_resource: the handle's range against the page tables */
static const struct eb_case map_page_cases[] = {
	{ "correct map_page, offset 0x100 in a 4K page", INV,
	  { S_DEVICE(), S_MAP(.phys = P + 0x100, .size = 0x200, .dma = 0xfffff100) } },
	{ "correct 3-page map_page, one write per page", INV,
	  { S_DEVICE(),
	    S_MAP(.phys = P, .size = 0x3000, .dma = 0xffff0000,
		  PT3(PTW(0xffff0000, P, 0x1000, 0), PTW(0xffff1000, P + 0x1000, 0x1000, 0),
		      PTW(0xffff2000, P + 0x2000, 0x1000, 0))) } },
	{ "correct 16K granule, 4K page at granule offset 0x1000", INV,
	  { S_DEVICE(.d = { .granule = 0x4000 }),
	    S_MAP(.phys = P + 0x5000, .size = 0x1000, .dma = 0xfff01000) } },
	{ "correct map_resource (MMIO)", INV,
	  { S_DEVICE(), S_MAP(.kind = IA_REQ_MAP_RESOURCE, .phys = 0xfe000000, .size = 0x1000,
			      .dma = 0xffffe000) } },
	{ "write to the wrong paddr", INV,
	  { S_DEVICE(), S_MAP(.phys = P + 0x100, .size = 0x200, .dma = 0xfffff100,
			      PT1(PTW(0xfffff000, P + 0x10000, 0x1000, 0))) },
	  { WRONG(.chk = EB_W_DMA | EB_W_PHYS | EB_W_LEN | EB_W_KIND, .dma = 0xfffff100,
		  .phys = P + 0x100, .len = 0x200, .kind = IA_REQ_MAP_PAGE) } },
	{ "second page written to the wrong paddr", INV,
	  { S_DEVICE(),
	    S_MAP(.phys = P, .size = 0x2000, .dma = 0xffff0000,
		  PT2(PTW(0xffff0000, P, 0x1000, 0), PTW(0xffff1000, P + 0x5000, 0x1000, 0))) },
	  { WRONG() } },
	{ "16K granule, write off by one 4K page", INV,
	  { S_DEVICE(.d = { .granule = 0x4000 }),
	    S_MAP(.phys = P + 0x5000, .size = 0x1000, .dma = 0xfff01000,
		  PT1(PTW(0xfff00000, P + 0x5000, 0x4000, 0))) },
	  { WRONG() } },
	{ "gap in the IOVA range (middle page not written)", INV,
	  { S_DEVICE(),
	    S_MAP(.phys = P, .size = 0x3000, .dma = 0xffff0000,
		  PT2(PTW(0xffff0000, P, 0x1000, 0), PTW(0xffff2000, P + 0x2000, 0x1000, 0))) },
	  { UNMAPPED(.chk = EB_W_DMA | EB_W_LEN, .dma = 0xffff0000, .len = 0x3000) } },
	{ "write shorter than the buffer", INV,
	  { S_DEVICE(), S_MAP(.phys = P, .size = 0x2000, .dma = 0xffff0000,
			      PT1(PTW(0xffff0000, P, 0x1000, 0))) },
	  { UNMAPPED() } },
	{ "successful map with no page-table write at all", INV,
	  { S_DEVICE(), S_MAP(.phys = P, .size = 0x1000, .dma = 0xffff0000,
			      .flags = EB_F_NO_PT) },
	  { UNMAPPED() } },
	{ "refused write (map failed): not checked", INV,
	  { S_DEVICE(), S_MAP(.phys = P, .size = 0x1000, .dma = 0xffff0000,
			      .flags = EB_F_FAILED,
			      PT1(PTW(0xffff0000, P, 0x1000, EB_ERR(22)))) } },
	{ "wrong paddr twice at one site: folded", INV,
	  { S_DEVICE(),
	    S_MAP(.site = 1, .phys = P, .size = 0x1000, .dma = 0xffff0000,
		  PT1(PTW(0xffff0000, P + 0x8000, 0x1000, 0))),
	    S_MAP(.site = 1, .phys = P + 0x1000, .size = 0x1000, .dma = 0xffff1000,
		  PT1(PTW(0xffff1000, P + 0x9000, 0x1000, 0))) },
	  { WRONG(.count = 2, .chk = EB_W_DMA | EB_W_SITE, .dma = 0xffff0000,
		  .site = "site1_submit") } },
};

static void test_map_page(void **state)
{
	eb_run_table("translation/map_page", map_page_cases, EB_N(map_page_cases));
}

/*
 * map_sg: three input segments, S0 P/0x1000, S1 P+0x5000/0x2000 (both
 * granule-aligned, so __finalise_sg packs them into one 0x3000 output
 * segment at 0xffe00000) and S2 P+0x10200/0x100 (offset 0x200: a second
 * output segment at 0xffe03200). iommu_map_sg writes 0xffe00000->P (4K),
 * 0xffe01000->P+0x5000 (8K), 0xffe03000->P+0x10000 (4K). The output walk
 * records come after the map_sg record, as the fexit program emits them.
 */
#define SG3_OK	.sg = { SEG(P, 0x1000, 0xffe00000, 0x3000),				\
			SEG(P + 0x5000, 0x2000, 0xffe03200, 0x100),			\
			SEG(P + 0x10200, 0x100, EB_DMA_ERROR, 0) }, .nsg = 3

static const struct eb_case map_sg_cases[] = {
	{ "map_sg: 3 inputs packed into 2 outputs, correct", INV,
	  { S_DEVICE(), S_MAP_SG(SG3_OK) } },
	{ "map_sg: single page-aligned segment, correct", INV,
	  { S_DEVICE(), S_MAP_SG(.sg = { SEG(P, 0x1000, 0xffe00000, 0x1000) }, .nsg = 1) } },
	{ "map_sg: second input (packed) written to the wrong paddr", INV,
	  { S_DEVICE(),
	    S_MAP_SG(SG3_OK, PT3(PTW(0xffe00000, P, 0x1000, 0),
				 PTW(0xffe01000, P + 0x6000, 0x2000, 0),
				 PTW(0xffe03000, P + 0x10000, 0x1000, 0))) },
	  { WRONG(.chk = EB_W_DMA | EB_W_KIND, .dma = 0xffe00000, .kind = IA_REQ_MAP_SG) } },
	{ "map_sg: second output segment's IOVA not written", INV,
	  { S_DEVICE(),
	    S_MAP_SG(SG3_OK, PT2(PTW(0xffe00000, P, 0x1000, 0),
				 PTW(0xffe01000, P + 0x5000, 0x2000, 0))) },
	  { UNMAPPED() } },
};

static void test_map_sg(void **state)
{
	eb_run_table("translation/map_sg", map_sg_cases, EB_N(map_sg_cases));
}

/*
 * Bounced requests (untrusted device, sub-granule buffer): the handle must
 * translate to the swiotlb slot (0x7000000), not to the driver's buffer.
 */
#define UNTRUSTED	.d = { .flags = IA_DEV_UNTRUSTED }

static const struct eb_case bounce_cases[] = {
	{ "bounced, handle translates to the slot", INV,
	  { S_DEVICE(UNTRUSTED),
	    S_MAP(.phys = P + 0x64, .size = 200, .dma = 0xfffff000, .tlb = 0x7000000) } },
	{ "bounced, 16K granule, slot 16K", INV,
	  { S_DEVICE(.d = { .granule = 0x4000, .flags = IA_DEV_UNTRUSTED }),
	    S_MAP(.phys = P + 0x5064, .size = 200, .dma = 0xfff00000, .tlb = 0x7004000) } },
	{ "bounced, but the handle translates to the original buffer", INV,
	  { S_DEVICE(UNTRUSTED),
	    S_MAP(.phys = P + 0x64, .size = 200, .dma = 0xfffff064, .tlb = 0x7000000,
		  PT1(PTW(0xfffff000, P, 0x1000, 0))) },
	  { WRONG(.chk = EB_W_PHYS, .phys = P + 0x64) } },
	{ "bounced, but the write maps the slot's neighbour", INV,
	  { S_DEVICE(UNTRUSTED),
	    S_MAP(.phys = P + 0x64, .size = 200, .dma = 0xfffff000, .tlb = 0x7000000,
		  PT1(PTW(0xfffff000, 0x7001000, 0x1000, 0))) },
	  { WRONG() } },
};

static void test_bounce(void **state)
{
	eb_run_table("translation/bounce", bounce_cases, EB_N(bounce_cases));
}

/* Coherent allocations translate to the pages of their __iommu_dma_map. */
static const struct eb_case alloc_cases[] = {
	{ "alloc 4K, 16K granule, correct", INV,
	  { S_DEVICE(.d = { .granule = 0x4000 }),
	    S_ALLOC(.phys = P + 0x5000, .size = 0x1000, .dma = 0xfff01000) } },
	{ "alloc 8K, 4K granule, correct", INV,
	  { S_DEVICE(), S_ALLOC(.phys = P + 0x2000, .size = 0x2000, .dma = 0xffffc000) } },
	{ "alloc written to other pages", INV,
	  { S_DEVICE(), S_ALLOC(.phys = P + 0x2000, .size = 0x2000, .dma = 0xffffc000,
				PT1(PTW(0xffffc000, P + 0x4000, 0x2000, 0))) },
	  { WRONG(.chk = EB_W_KIND, .kind = IA_REQ_ALLOC) } },
};

static void test_alloc(void **state)
{
	eb_run_table("translation/alloc", alloc_cases, EB_N(alloc_cases));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_page),
		cmocka_unit_test(test_map_sg),
		cmocka_unit_test(test_bounce),
		cmocka_unit_test(test_alloc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
