/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Kernel differences the programs bridge with CO-RE. vmlinux.h comes from
 * Debian's 6.1 kernel; the host kernel these were checked against is 6.18.
 *
 * Functions that were renamed or changed signature (iommu_dma_map_page ->
 * iommu_dma_map_phys, __iommu_map -> iommu_map_nosync, the arguments of
 * swiotlb_tbl_map_single) get one program per variant; the loader picks the
 * one the running kernel's BTF has (user/hooks.c).
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

#endif /* IA_CORE_FIXES_BPF_H */
