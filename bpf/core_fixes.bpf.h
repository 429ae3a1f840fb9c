/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Kernel differences the programs bridge with CO-RE. vmlinux.h comes from
 * Debian's 6.1 kernel; checked against Debian's 6.1, 6.12 and 7.2 BTFs
 * (tests/unit/test_hooks.c, tests/data/btf/).
 *
 * Functions that were renamed or changed signature (iommu_dma_map_page ->
 * iommu_dma_map_phys, __iommu_map -> iommu_map_nosync, the arguments of
 * swiotlb_tbl_map_single) get one program per variant; the loader picks the
 * one the running kernel's BTF has (user/live/hooks.c).
 */
#ifndef IA_CORE_FIXES_BPF_H
#define IA_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/*
 * sg_dma_len(): scatterlist.dma_length exists only with
 * CONFIG_NEED_SG_DMA_LENGTH (set on x86 and arm64, where dma-iommu runs);
 * without it the DMA length is the segment length.
 */
static __always_inline __u32 ia_sg_dma_len(struct scatterlist *sg)
{
	if (bpf_core_field_exists(sg->dma_length))
		return BPF_CORE_READ(sg, dma_length);
	return BPF_CORE_READ(sg, length);
}

/*
 * Which cookie a domain holds. 6.1 and 6.12: struct iommu_dma_cookie starts
 * with `enum iommu_dma_cookie_type type` (IOMMU_DMA_IOVA_COOKIE = 0), and
 * iovad sits in a union after it. Robin Murphy's "iommu: Sort out domain
 * user data" (v6.15) dropped that field: struct iommu_domain has
 * `enum iommu_domain_cookie_type cookie_type` (IOMMU_COOKIE_DMA_IOVA = 1),
 * the cookie pointers share a union, and iovad is the cookie's first field
 * (the iovad.granule read below relocates by name on both layouts). Only an
 * IOVA cookie has an iova_domain (and so a granule).
 *
 * The flavour's field must be an enum as in the kernel: CO-RE matches an
 * int only with an int, so the `unsigned int cookie_type` this once declared
 * never existed on 7.2 and every granule read 0 there.
 */
struct iommu_dma_cookie___old {
	enum iommu_dma_cookie_type type;
};

enum iommu_domain_cookie_type___new {
	IOMMU_COOKIE_DMA_IOVA___new = 1,
};

struct iommu_domain___cookie_type {
	enum iommu_domain_cookie_type___new cookie_type;
};

#define IA_IOVA_COOKIE_OLD	0	/* enum iommu_dma_cookie_type, 6.1 */

static __always_inline bool ia_domain_has_iova_cookie(struct iommu_domain *dom,
						      void *cookie)
{
	struct iommu_domain___cookie_type *d = (void *)dom;
	struct iommu_dma_cookie___old *c = cookie;

	if (!cookie)
		return false;
	/* each read behind its own existence test, so that libbpf can
	 * turn the read of the absent field into dead code */
	if (bpf_core_field_exists(c->type))
		return BPF_CORE_READ(c, type) == IA_IOVA_COOKIE_OLD;
	if (bpf_core_field_exists(d->cookie_type))
		return BPF_CORE_READ(d, cookie_type) ==
		       bpf_core_enum_value(enum iommu_domain_cookie_type___new,
					   IOMMU_COOKIE_DMA_IOVA___new);
	return false;
}

/*
 * DMA_ATTR_MMIO (6.18, "dma-mapping: introduce DMA_ATTR_MMIO for
 * dma_map_resource()"): dma_map_resource() became dma_map_phys() with this
 * attribute, so MMIO maps reach iommu_dma_map_phys(). A define in the
 * kernel, not in BTF: the value is ABI between dma-mapping and dma-iommu.
 */
#define IA_DMA_ATTR_MMIO	(1UL << 10)

#endif /* IA_CORE_FIXES_BPF_H */
