// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Failed requests (user/check/inv_failed.c): every root map or allocation
 * that failed is a failed.* warning naming the reason the records inside it
 * show, and counts in its device's `failed` total. The record shapes are
 * dma-iommu 6.1's (drivers/iommu/dma-iommu.c): iommu_dma_map_page returns
 * DMA_MAPPING_ERROR before swiotlb when the bounce buffers are inactive,
 * after a swiotlb_bounced record whose slot is ~0 when swiotlb is full, or
 * from __iommu_dma_map (no IOVA: no write; a refused write).
 */
#include "ev_builder.h"

#define P	0x200000000ULL
#define INV	IA_INV_FAILED
#define W(code, ...)	{ "failed." code, IA_SEV_WARNING, __VA_ARGS__ }
#define UNT	S_DEVICE(.d = { .flags = IA_DEV_UNTRUSTED })
#define FAIL1	{ .chk = EB_D_FAILED | EB_D_MAPS | EB_D_LIVEMAPS, .failed = 1 }
#define SG3	.sg = { SEG(P + 50, 300, 0, 0), SEG(P + 0x2000, 0x1000, 0, 0),	\
			SEG(P + 0x4000 + 3000, 1000, 0, 0) }, .nsg = 3

static const struct eb_case cases[] = {
	/* issue 13: 1 GiB guest, no swiotlb; edu marked untrusted */
	{ "untrusted map_single of 200 bytes, bounce buffers inactive", INV,
	  { UNT, S_MAP(.site = 1, .phys = P + 100, .size = 200, .dir = EB_TO_DEV,
		       .flags = EB_F_FAILED | EB_F_NO_CHILD) },
	  { W("bounce_inactive", .chk = EB_W_KIND | EB_W_LEN | EB_W_DMA | EB_W_SITE,
	      .kind = IA_REQ_MAP_PAGE, .len = 200, .dma = EB_DMA_ERROR, .site = "site1_submit") },
	  FAIL1 },
	{ "untrusted map_sg of 3 segments, bounce buffers inactive", INV,
	  { UNT, S_MAP_SG(.site = 2, .dir = EB_TO_DEV, SG3, .flags = EB_F_SWIOTLB | EB_F_FAILED) },
	  { W("bounce_inactive", .chk = EB_W_KIND | EB_W_LEN, .kind = IA_REQ_MAP_SG,
	      .len = 300 + 4096 + 1000) },
	  FAIL1 },
	/* a whole page needs no bounce: the same shape cannot be that reason */
	{ "trusted map_page failing before __iommu_dma_map", INV,
	  { S_DEVICE(), S_MAP(.phys = P + 100, .size = 200, .flags = EB_F_FAILED | EB_F_NO_CHILD) },
	  { W("unknown") }, FAIL1 },
	{ "untrusted map of a whole page failing before __iommu_dma_map", INV,
	  { UNT, S_MAP(.phys = P, .size = 4096, .flags = EB_F_FAILED | EB_F_NO_CHILD) },
	  { W("unknown") }, FAIL1 },
	{ "untrusted map_single, swiotlb full", INV,
	  { UNT, S_MAP(.phys = P + 100, .size = 200, .tlb = EB_DMA_ERROR, .flags = EB_F_FAILED) },
	  { W("bounce_full") }, FAIL1 },
	{ "map_page with no IOVA left (no write made)", INV,
	  { S_DEVICE(), S_MAP(.phys = P, .size = 0x1000, .flags = EB_F_FAILED | EB_F_NO_PT) },
	  { W("iova_exhausted") }, FAIL1 },
	{ "map_page larger than the space below a 64 KiB DMA mask", INV,
	  { S_DEVICE(.d = { .dma_mask = 0xffff }),
	    S_MAP(.phys = P, .size = 0x10000, .flags = EB_F_FAILED | EB_F_NO_PT) },
	  { W("dma_mask") }, FAIL1 },
	{ "map_page refused by the IOMMU driver", INV,
	  { S_DEVICE(), S_MAP(.phys = P, .size = 0x1000, .dma = 0xfffff000, .flags = EB_F_FAILED,
			      PT1(PTW(0xfffff000, P, 0x1000, EB_ERR(22)))) },
	  { W("pt_refused") }, FAIL1 },
	{ "trusted map_sg with no IOVA (-ENOMEM, no write)", INV,
	  { S_DEVICE(), S_MAP_SG(SG3, .flags = EB_F_FAILED | EB_F_NO_PT) },
	  { W("iova_exhausted", .chk = EB_W_KIND, .kind = IA_REQ_MAP_SG) }, FAIL1 },
	{ "coherent allocation failing before any IOVA", INV,
	  { S_DEVICE(), S_ALLOC(.size = 1 << 20, .flags = EB_F_FAILED) },
	  { W("unknown", .chk = EB_W_KIND | EB_W_LEN, .kind = IA_REQ_ALLOC, .len = 1 << 20) },
	  FAIL1 },
	{ "coherent allocation larger than the coherent mask allows", INV,
	  { S_DEVICE(.d = { .coherent_mask = 0xfffff }), S_ALLOC(.size = 2 << 20, .flags = EB_F_FAILED) },
	  { W("dma_mask") }, FAIL1 },
	{ "two failures of one call site: folded, counted twice", INV,
	  { UNT, S_MAP(.site = 1, .phys = P + 100, .size = 200, .flags = EB_F_FAILED | EB_F_NO_CHILD),
	    S_MAP(.site = 1, .phys = P + 0x1100, .size = 20, .flags = EB_F_FAILED | EB_F_NO_CHILD) },
	  { W("bounce_inactive", .count = 2) },
	  { .chk = EB_D_FAILED, .failed = 2 } },
	{ "maps that succeed are not failures", 0,
	  { UNT, S_MAP(.phys = P + 100, .size = 200, .dma = 0xfffff000, .tlb = 0x7dfd0000),
	    S_MAP(.phys = P + 0x2000, .size = 4096, .dma = 0xffffe000) },
	  { { "exposure.bounce_slack", IA_SEV_INFO } },
	  { .chk = EB_D_FAILED | EB_D_MAPS, .failed = 0, .maps = 2 } },
};

static void test_failed(void **state)
{
	eb_run_table("failed", cases, EB_N(cases));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
