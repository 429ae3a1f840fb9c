/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Kernel differences the programs bridge with CO-RE. vmlinux.h comes from
 * Debian's 6.1 kernel; the host kernel these were checked against is 6.18.
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
 * Which cookie a domain holds. 6.1: struct iommu_dma_cookie starts with
 * `enum iommu_dma_cookie_type type` (IOMMU_DMA_IOVA_COOKIE = 0). Later kernels
 * (seen in 6.18's BTF) dropped that field: struct iommu_domain has
 * `cookie_type` (IOMMU_COOKIE_DMA_IOVA = 1) and the cookie pointers share a
 * union. Only an IOVA cookie has an iova_domain (and so a granule).
 */
struct iommu_dma_cookie___old {
	enum iommu_dma_cookie_type type;
};

struct iommu_domain___cookie_type {
	unsigned int cookie_type;
};

enum iommu_domain_cookie_type___new {
	IOMMU_COOKIE_DMA_IOVA___new = 1,
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

#endif /* IA_CORE_FIXES_BPF_H */
