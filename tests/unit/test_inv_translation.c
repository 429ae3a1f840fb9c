// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Invariant 1, translation (user/check/inv_translation.c): for every byte b of a
 * request, translate(domain, handle + b) == phys + b (the bounce slot when
 * bounced). Codes: translation.wrong_phys, translation.unmapped (errors);
 * translation.sgtable_mismatch for the tables dma_get_sgtable() exports
 * (error when an exported byte translates elsewhere, warning when the
 * mapping reaches beyond the table's pages).
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

/*
 * get_sgtable: the exported table against the mapping at its handle.
 * dma-iommu 6.1 exports sg_alloc_table_from_pages(pages, PAGE_ALIGN(size)
 * >> PAGE_SHIFT, 0, size) for a remapped buffer and one entry of
 * PAGE_ALIGN(size) for a contiguous one, while it maps whole granules.
 */
#define G16K		.d = { .granule = 0x4000 }
#define G64K		.d = { .granule = 0x10000 }
#define SGT_WARN(...)	{ "translation.sgtable_mismatch", IA_SEV_WARNING, __VA_ARGS__ }
#define SGT_ERR(...)	{ "translation.sgtable_mismatch", IA_SEV_ERROR, __VA_ARGS__ }
#define SGT(e, m, d)	.exported = (e), .mapped = (m), .diff = (d)
#define ENTRY(p, l)	SEG((p), (l), 0, 0)
/* remapped 4K at P+0x3000, handle 0xfffff000 (4K granule) */
#define REMAP_4K	S_ALLOC(.flags = EB_F_REMAP, .phys = P + 0x3000, .size = 0x1000,	\
				.dma = 0xfffff000)
/* remapped 8K from two pages, P+0x8000 then P+0x3000 */
#define REMAP_8K	S_ALLOC(.flags = EB_F_REMAP, .size = 0x2000, .dma = 0xffffe000,	\
				PT2(PTW(0xffffe000, P + 0x8000, 0x1000, 0),			\
				    PTW(0xfffff000, P + 0x3000, 0x1000, 0)))

static const struct eb_case sgtable_cases[] = {
	{ "4K granule, remapped 4096: the table is the mapping", INV,
	  { S_DEVICE(), REMAP_4K,
	    S_SGTABLE(.dma = 0xfffff000, .size = 0x1000, .sg = { ENTRY(P + 0x3000, 0x1000) },
		      .nsg = 1) } },
	/* sg_alloc_table_from_pages(..., size 100): one entry of 100 bytes;
	 * its page is the whole mapping */
	{ "4K granule, remapped 100 bytes: a 100-byte entry covers the mapped page", INV,
	  { S_DEVICE(), S_ALLOC(.flags = EB_F_REMAP, .phys = P + 0x3000, .size = 100,
				.dma = 0xfffff000),
	    S_SGTABLE(.dma = 0xfffff000, .size = 100, .sg = { ENTRY(P + 0x3000, 100) },
		      .nsg = 1) } },
	{ "4K granule, contiguous 100 bytes: PAGE_ALIGN(size) exported", INV,
	  { S_DEVICE(), S_ALLOC(.phys = P + 0x3000, .size = 100, .dma = 0xfffff000),
	    S_SGTABLE(.dma = 0xfffff000, .size = 100, .sg = { ENTRY(P + 0x3000, 0x1000) },
		      .nsg = 1) } },
	{ "4K granule, remapped 8K from two scattered pages, two entries", INV,
	  { S_DEVICE(), REMAP_8K,
	    S_SGTABLE(.dma = 0xffffe000, .size = 0x2000,
		      .sg = { ENTRY(P + 0x8000, 0x1000), ENTRY(P + 0x3000, 0x1000) }, .nsg = 2) } },
	/* remap: __iommu_dma_alloc_noncontiguous allocates and maps the 16K
	 * granule [P+0x4000, +16K) at 0xfffc0000; the table has its first page */
	{ "16K granule, remapped 4096: 4096 exported, 16384 mapped", INV,
	  { S_DEVICE(G16K),
	    S_ALLOC(.flags = EB_F_REMAP, .phys = P + 0x4000, .size = 0x1000, .dma = 0xfffc0000),
	    S_SGTABLE(.dma = 0xfffc0000, .size = 0x1000, .sg = { ENTRY(P + 0x4000, 0x1000) },
		      .nsg = 1) },
	  { SGT_WARN(.chk = EB_W_SGT | EB_W_DMA | EB_W_PHYS | EB_W_LEN | EB_W_KIND,
		     SGT(4096, 16384, 0xfffc1000),
		     .dma = 0xfffc0000, .phys = P + 0x4000, .len = 4096,
		     .kind = IA_REQ_GET_SGTABLE) } },
	/* contiguous: page P+0x5000, __iommu_dma_map maps [P+0x4000, +16K) at
	 * 0xfff00000, handle 0xfff01000: the page below the table is mapped */
	{ "16K granule, contiguous 4096 at granule offset 0x1000: first difference below", INV,
	  { S_DEVICE(G16K), S_ALLOC(.phys = P + 0x5000, .size = 0x1000, .dma = 0xfff01000),
	    S_SGTABLE(.dma = 0xfff01000, .size = 0x1000, .sg = { ENTRY(P + 0x5000, 0x1000) },
		      .nsg = 1) },
	  { SGT_WARN(.chk = EB_W_SGT, SGT(4096, 16384, 0xfff00000)) } },
	{ "16K granule, contiguous 4096 at a granule start: first difference above", INV,
	  { S_DEVICE(G16K), S_ALLOC(.phys = P + 0x4000, .size = 0x1000, .dma = 0xfff00000),
	    S_SGTABLE(.dma = 0xfff00000, .size = 0x1000, .sg = { ENTRY(P + 0x4000, 0x1000) },
		      .nsg = 1) },
	  { SGT_WARN(.chk = EB_W_SGT, SGT(4096, 16384, 0xfff01000)) } },
	{ "64K granule, contiguous 4096 at granule offset 0x3000", INV,
	  { S_DEVICE(G64K), S_ALLOC(.phys = P + 0x13000, .size = 0x1000, .dma = 0xfff03000),
	    S_SGTABLE(.dma = 0xfff03000, .size = 0x1000, .sg = { ENTRY(P + 0x13000, 0x1000) },
		      .nsg = 1) },
	  { SGT_WARN(.chk = EB_W_SGT, SGT(4096, 65536, 0xfff00000)) } },
	{ "16K granule, remapped 16384: whole granule exported, no finding", INV,
	  { S_DEVICE(G16K),
	    S_ALLOC(.flags = EB_F_REMAP, .phys = P + 0x4000, .size = 0x4000, .dma = 0xfffc0000),
	    S_SGTABLE(.dma = 0xfffc0000, .size = 0x4000, .sg = { ENTRY(P + 0x4000, 0x4000) },
		      .nsg = 1) } },
	{ "an entry's phys differs from the translation", INV,
	  { S_DEVICE(), REMAP_4K,
	    S_SGTABLE(.dma = 0xfffff000, .size = 0x1000, .sg = { ENTRY(P + 0x7000, 0x1000) },
		      .nsg = 1) },
	  { SGT_ERR(.chk = EB_W_SGT, SGT(4096, 4096, 0xfffff000)) } },
	{ "second entry differs (the pages swapped)", INV,
	  { S_DEVICE(), REMAP_8K,
	    S_SGTABLE(.dma = 0xffffe000, .size = 0x2000,
		      .sg = { ENTRY(P + 0x8000, 0x1000), ENTRY(P + 0x4000, 0x1000) }, .nsg = 2) },
	  { SGT_ERR(.chk = EB_W_SGT, SGT(8192, 8192, 0xfffff000)) } },
	{ "table longer than the mapping: its second page has no translation", INV,
	  { S_DEVICE(), REMAP_4K,
	    S_SGTABLE(.dma = 0xfffff000, .size = 0x1000, .sg = { ENTRY(P + 0x3000, 0x2000) },
		      .nsg = 1) },
	  { SGT_ERR(.chk = EB_W_SGT, SGT(8192, 4096, 0x100000000ULL)) } },
	{ "table of a freed buffer: nothing mapped", INV,
	  { S_DEVICE(), REMAP_4K, S_UNMAP(.kind = IA_REQ_FREE, .dma = 0xfffff000, .size = 0x1000),
	    S_SGTABLE(.dma = 0xfffff000, .size = 0x1000, .sg = { ENTRY(P + 0x3000, 0x1000) },
		      .nsg = 1) },
	  { SGT_ERR(.chk = EB_W_SGT, SGT(4096, 0, 0xfffff000)) } },
	{ "failed get_sgtable: nothing to check", INV,
	  { S_DEVICE(G16K), S_ALLOC(.phys = P + 0x4000, .size = 0x1000, .dma = 0xfff00000),
	    S_SGTABLE(.dma = 0xfff00000, .size = 0x1000, .flags = EB_F_FAILED) } },
	/* no allocation record: the request's size bounds the mapping */
	{ "allocated before the recording, 16K granule", INV,
	  { S_DEVICE(G16K), S_PT_MAP(PT1(PTW(0xfff00000, P + 0x4000, 0x4000, 0))),
	    S_SGTABLE(.dma = 0xfff00000, .size = 0x1000, .sg = { ENTRY(P + 0x4000, 0x1000) },
		      .nsg = 1) },
	  { SGT_WARN(.chk = EB_W_SGT, SGT(4096, 16384, 0xfff01000)) } },
	{ "one site twice: folded, the first occurrence's numbers", INV,
	  { S_DEVICE(G16K),
	    S_ALLOC(.phys = P + 0x4000, .size = 0x1000, .dma = 0xfff00000),
	    S_ALLOC(.phys = P + 0x9000, .size = 0x1000, .dma = 0xfff05000),
	    S_SGTABLE(.site = 1, .dma = 0xfff00000, .size = 0x1000,
		      .sg = { ENTRY(P + 0x4000, 0x1000) }, .nsg = 1),
	    S_SGTABLE(.site = 1, .dma = 0xfff05000, .size = 0x1000,
		      .sg = { ENTRY(P + 0x9000, 0x1000) }, .nsg = 1) },
	  { SGT_WARN(.count = 2, .chk = EB_W_SGT | EB_W_SITE, SGT(4096, 16384, 0xfff01000),
		     .site = "site1_submit") } },
};

static void test_sgtable(void **state)
{
	eb_run_table("translation/sgtable", sgtable_cases, EB_N(sgtable_cases));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_page),
		cmocka_unit_test(test_map_sg),
		cmocka_unit_test(test_bounce),
		cmocka_unit_test(test_alloc),
		cmocka_unit_test(test_sgtable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
