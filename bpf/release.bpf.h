/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An IOVA range released (IA_EV_IOVA_FREE): by __iommu_dma_unmap for the
 * DMA API's unmaps and frees (flush.bpf.c), by dma_iova_destroy and
 * dma_iova_free for the IOVA API (iova.bpf.c). In a DMA-FQ domain the
 * release of an unmapped range, and the IOTLB flush that really ends the
 * device's access, are queued: the lazy window the temporal check measures.
 */
#ifndef IA_RELEASE_BPF_H
#define IA_RELEASE_BPF_H

#include "audit.bpf.h"

/* Fill release record e, its header made: dom, the device's default
 * domain; queued, whether the flush queue takes the range. */
static __always_inline void ia_iova_fill(struct ia_ev_iova_free *e, __u64 req_id,
					 struct device *dev, __u64 dom, bool queued,
					 __u64 iova, __u64 size)
{
	e->hdr.req_id = req_id;
	if (queued)
		e->hdr.flags |= IA_IOVA_QUEUED;
	e->dev = (__u64)dev;
	e->domain = dom;
	e->iova = iova;
	e->size = size;
}

/* The record (ia_iova_fill()); ts, its time (0: now). Returns its time, 0
 * when none was made. */
static __always_inline __u64 ia_iova_emit(__u64 req_id, struct device *dev, __u64 dom,
					 bool queued, __u64 iova, __u64 size, __u64 ts)
{
	struct ia_ev_iova_free *e;

	if (req_id == IA_REQ_FILTERED)
		return 0;
	e = ia_reserve_at(IA_EV_IOVA_FREE, sizeof(*e), ts);
	if (!e)
		return 0;
	ia_iova_fill(e, req_id, dev, dom, queued, iova, size);
	ts = e->hdr.ts_ns;
	ia_submit(e);
	return ts;
}

/* may_queue: the caller unmapped the range and let the flush queue take it
 * (iotlb_gather.queued = cookie->fq_domain, the test dma-iommu makes) */
static __always_inline void ia_iova_release(__u64 req_id, struct device *dev,
					    __u64 iova, __u64 size, bool may_queue)
{
	struct iommu_group *grp = BPF_CORE_READ(dev, iommu_group);
	struct iommu_domain *dom = grp ? BPF_CORE_READ(grp, default_domain) : NULL;
	struct iommu_dma_cookie *cookie = dom ? BPF_CORE_READ(dom, iova_cookie) : NULL;

	if (req_id == IA_REQ_FILTERED)
		return;
	ia_iova_emit(req_id, dev, (__u64)dom,
		     may_queue && cookie && BPF_CORE_READ(cookie, fq_domain),
		     iova, size, 0);
}

#endif /* IA_RELEASE_BPF_H */
