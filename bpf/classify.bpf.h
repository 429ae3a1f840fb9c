/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Page classification at map time (classify.bpf.c): its entry points. */
#ifndef IA_CLASSIFY_BPF_H
#define IA_CLASSIFY_BPF_H

/* The pages of [phys, phys + size)'s granules outside it (__iommu_dma_map). */
extern int ia_classify_map(__u64 req_id, __u64 phys, __u64 size, __u64 granule);
/* The first and last page of a page-table write (scatterlists). */
extern int ia_classify_write(__u64 req_id, __u64 paddr, __u64 size);

#endif
