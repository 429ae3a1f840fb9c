/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Page classification at map time (classify.bpf.c): its entry points. */
#ifndef IA_CLASSIFY_BPF_H
#define IA_CLASSIFY_BPF_H

/* The pages of [phys, phys + size)'s granules outside it (__iommu_dma_map). */
extern int ia_classify_map(__u64 req_id, __u64 phys, __u64 size, __u64 granule);

/* Does ia_classify_map() make records for this mapping: classification
 * on, and [phys, phys + size) not whole granules of a power-of-2 size? */
static __always_inline bool ia_classify_map_exposes(__u64 phys, __u64 size, __u64 granule)
{
	return classify_pages && size && granule && !(granule & (granule - 1)) &&
	       ((phys | (phys + size)) & (granule - 1));
}
/* The first and last page of a page-table write (scatterlists). */
extern int ia_classify_write(__u64 req_id, __u64 paddr, __u64 size);

#endif
