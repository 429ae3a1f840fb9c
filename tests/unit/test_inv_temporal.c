// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Invariant 5, temporal exposure under lazy invalidation
 * (user/check/inv_temporal.c): a queued (IA_IOVA_QUEUED) unmap keeps its pages
 * reachable through the IOTLB until the flush queue of its cookie is
 * flushed (IA_EV_FQ_FLUSH). Codes: temporal.lazy_window (info, value = the
 * longest window in ns), temporal.reuse_before_flush (warning: the pages
 * mapped again by another domain before the flush), and
 * temporal.unflushed_at_end (info).
 *
 * Times: T0 = 1 s. A step's records share its timestamp, so a queued unmap
 * at S_TIME(T0) releases its IOVA at T0 exactly.
 */
#include "ev_builder.h"

#define P	0x200000000ULL
#define INV	IA_INV_TEMPORAL
#define T0	1000000000ULL
#define MS	1000000ULL

#define FQ	.d = { .domain_type = IA_DOMAIN_DMA_FQ }
#define LAZY(...)	{ "temporal.lazy_window", IA_SEV_INFO, __VA_ARGS__ }
#define REUSE(...)	{ "temporal.reuse_before_flush", IA_SEV_WARNING, __VA_ARGS__ }
#define UNFLUSHED(...)	{ "temporal.unflushed_at_end", IA_SEV_INFO, __VA_ARGS__ }

/* device A (lazy domain A) maps P at 0xfffff000, B (domain B) exists */
#define DEVS		S_DEVICE(FQ), S_DEVICE(.dev = EB_DEV_B, FQ)
#define MAP_A		S_MAP(.phys = P, .size = 0x1000, .dma = 0xfffff000)
#define LAZY_UNMAP_A	S_TIME(T0), S_UNMAP(.dma = 0xfffff000, .size = 0x1000,	\
					    .flags = EB_F_QUEUED)
#define STRICT_UNMAP_A	S_TIME(T0), S_UNMAP(.dma = 0xfffff000, .size = 0x1000)
#define FLUSH_A_AT(t)	S_TIME(t), S_FLUSH()
#define W5MS		.chk = EB_W_VALUE | EB_W_PHYS | EB_W_LEN | EB_W_DEVICE,	\
			.value = 5 * MS, .phys = P, .len = 0x1000, .device = EB_NAME_A
#define LAZYSTAT(ns)	{ .chk = EB_D_LAZY, .lazy_max_ns = (ns) }

static const struct eb_case lazy_cases[] = {
	{ "lazy unmap, flush 5 ms later", INV,
	  { DEVS, MAP_A, LAZY_UNMAP_A, FLUSH_A_AT(T0 + 5 * MS), S_FINISH(0) },
	  { LAZY(W5MS) }, LAZYSTAT(5 * MS) },
	{ "strict unmap (not queued), then a flush", INV,
	  { DEVS, MAP_A, STRICT_UNMAP_A, FLUSH_A_AT(T0 + 5 * MS), S_FINISH(0) },
	  { }, LAZYSTAT(0) },
	/* windows 5 ms and 2 ms: one finding, count 2, value the longest */
	{ "two lazy unmaps: folded, longest window", INV,
	  { DEVS, MAP_A, S_MAP(.phys = P + 0x1000, .size = 0x1000, .dma = 0xffffe000),
	    LAZY_UNMAP_A,
	    S_TIME(T0 + 3 * MS), S_UNMAP(.dma = 0xffffe000, .size = 0x1000, .flags = EB_F_QUEUED),
	    FLUSH_A_AT(T0 + 5 * MS), S_FINISH(0) },
	  { LAZY(.count = 2, .chk = EB_W_VALUE, .value = 5 * MS) }, LAZYSTAT(5 * MS) },
	{ "a flush of another cookie does not end the window", INV,
	  { DEVS, MAP_A, LAZY_UNMAP_A, S_TIME(T0 + 5 * MS), S_FLUSH(.dom = EB_DOM_B),
	    S_FINISH(0) },
	  { UNFLUSHED(.chk = EB_W_PHYS | EB_W_LEN | EB_W_DEVICE, .phys = P, .len = 0x1000,
		      .device = EB_NAME_A) }, LAZYSTAT(0) },
	{ "queued and never flushed", INV,
	  { DEVS, MAP_A, LAZY_UNMAP_A, S_FINISH(0) },
	  { UNFLUSHED(.chk = EB_W_PHYS | EB_W_LEN, .phys = P, .len = 0x1000) } },
	{ "queued, flushed: nothing left at the end", INV,
	  { DEVS, MAP_A, LAZY_UNMAP_A, FLUSH_A_AT(T0 + 1 * MS), S_FLUSH(), S_FINISH(0) },
	  { LAZY(.chk = EB_W_VALUE, .value = 1 * MS) } },
};

static void test_lazy_window(void **state)
{
	eb_run_table("temporal/lazy_window", lazy_cases, EB_N(lazy_cases));
}

/*
 * The dma-iommu handle of a sub-granule buffer carries the buffer's offset
 * (0xfffff064 for P+100); __iommu_dma_unmap(dev, handle, size) is called
 * with it, and IA_EV_IOVA_FREE records those arguments, while the page-table
 * removal covers the aligned granule [0xfffff000, 0x100000000).
 */
static const struct eb_case offset_cases[] = {
	{ "lazy unmap of a 200-byte buffer at offset 100, flush 5 ms later", INV,
	  { DEVS, S_MAP(.phys = P + 100, .size = 200, .dma = 0xfffff064),
	    S_TIME(T0), S_UNMAP(.dma = 0xfffff064, .size = 200, .flags = EB_F_QUEUED),
	    FLUSH_A_AT(T0 + 5 * MS), S_FINISH(0) },
	  { LAZY(W5MS) }, LAZYSTAT(5 * MS) },
	{ "lazy unmap of a 6000-byte buffer at offset 0x800, never flushed", INV,
	  { DEVS, S_MAP(.phys = P + 0x800, .size = 6000, .dma = 0xffffe800),
	    S_TIME(T0), S_UNMAP(.dma = 0xffffe800, .size = 6000, .flags = EB_F_QUEUED),
	    S_FINISH(0) },
	  { UNFLUSHED(.chk = EB_W_PHYS | EB_W_LEN, .phys = P, .len = 0x2000) } },
	{ "strict unmap of a buffer at offset 100", INV,
	  { DEVS, S_MAP(.phys = P + 100, .size = 200, .dma = 0xfffff064),
	    S_TIME(T0), S_UNMAP(.dma = 0xfffff064, .size = 200),
	    FLUSH_A_AT(T0 + 5 * MS), S_FINISH(0) },
	  { } },
};

static void test_lazy_offset(void **state)
{
	eb_run_table("temporal/lazy_offset", offset_cases, EB_N(offset_cases));
}

/* P mapped again before (or after) the flush of A's lazy unmap at T0. */
#define MAP_B_AT(t, ...)	S_TIME(t), S_MAP(.dev = EB_DEV_B, .dma = 0xeeeef000,	\
						 .size = 0x1000, __VA_ARGS__)

static const struct eb_case reuse_cases[] = {
	{ "remap by another domain 1 ms after, before the flush", INV,
	  { DEVS, MAP_A, LAZY_UNMAP_A, MAP_B_AT(T0 + 1 * MS, .phys = P),
	    FLUSH_A_AT(T0 + 5 * MS), S_FINISH(0) },
	  { REUSE(.chk = EB_W_VALUE | EB_W_PHYS | EB_W_LEN | EB_W_DEVICE, .value = 1 * MS,
		  .phys = P, .len = 0x1000, .device = EB_NAME_A),
	    LAZY(W5MS) } },
	{ "another domain maps a 16K range holding the page", INV,
	  { S_DEVICE(FQ), S_DEVICE(.dev = EB_DEV_B, .d = { .granule = 0x4000 }),
	    MAP_A, LAZY_UNMAP_A,
	    S_TIME(T0 + 2 * MS), S_MAP(.dev = EB_DEV_B, .phys = P, .size = 0x4000,
				       .dma = 0xeeee0000),
	    S_FINISH(0) },
	  { REUSE(.chk = EB_W_VALUE, .value = 2 * MS), UNFLUSHED() } },
	{ "remap by the same domain before the flush", INV,
	  { DEVS, MAP_A, LAZY_UNMAP_A,
	    S_TIME(T0 + 1 * MS), S_MAP(.phys = P, .size = 0x1000, .dma = 0xffffd000),
	    FLUSH_A_AT(T0 + 5 * MS), S_FINISH(0) },
	  { LAZY(W5MS) } },
	{ "remap by another domain after the flush", INV,
	  { DEVS, MAP_A, LAZY_UNMAP_A, FLUSH_A_AT(T0 + 5 * MS),
	    MAP_B_AT(T0 + 6 * MS, .phys = P), S_FINISH(0) },
	  { LAZY(W5MS) } },
	{ "another domain maps a different page before the flush", INV,
	  { DEVS, MAP_A, LAZY_UNMAP_A, MAP_B_AT(T0 + 1 * MS, .phys = P + 0x1000),
	    FLUSH_A_AT(T0 + 5 * MS), S_FINISH(0) },
	  { LAZY(W5MS) } },
	{ "remap by another domain after a strict unmap", INV,
	  { DEVS, MAP_A, STRICT_UNMAP_A, MAP_B_AT(T0 + 1 * MS, .phys = P), S_FINISH(0) },
	  { } },
};

static void test_reuse(void **state)
{
	eb_run_table("temporal/reuse", reuse_cases, EB_N(reuse_cases));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lazy_window),
		cmocka_unit_test(test_lazy_offset),
		cmocka_unit_test(test_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
