// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Lazy invalidation. In a DMA-FQ domain __iommu_dma_unmap() clears the page
 * table but defers the IOTLB flush: the device can still reach the old pages
 * through stale IOTLB entries until the flush queue is flushed
 * (fq_flush_iotlb on 6.1). The time between the two is the temporal exposure.
 */
#include "audit.bpf.h"

SEC("fexit/__iommu_dma_unmap")
int BPF_PROG(iova_unmap, struct device *dev, dma_addr_t dma_addr, size_t size)
{
	struct iommu_group *grp = BPF_CORE_READ(dev, iommu_group);
	struct iommu_domain *dom = grp ? BPF_CORE_READ(grp, default_domain) : NULL;
	struct iommu_dma_cookie *cookie = dom ? BPF_CORE_READ(dom, iova_cookie) : NULL;
	__u64 id = ia_current_req();
	struct ia_ev_iova_free *e;

	if (id == IA_REQ_FILTERED)
		return 0;
	e = ia_reserve(IA_EV_IOVA_FREE, sizeof(*e));
	if (!e)
		return 0;
	e->hdr.req_id = id;
	/* the same test __iommu_dma_unmap makes: iotlb_gather.queued */
	if (cookie && BPF_CORE_READ(cookie, fq_domain))
		e->hdr.flags |= IA_IOVA_QUEUED;
	e->dev = (__u64)dev;
	e->domain = (__u64)dom;
	e->iova = dma_addr;
	e->size = size;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fexit/fq_flush_iotlb")
int BPF_PROG(fq_flush, struct iommu_dma_cookie *cookie)
{
	struct ia_ev_fq_flush *e = ia_reserve(IA_EV_FQ_FLUSH, sizeof(*e));

	if (!e)
		return 0;
	e->cookie = (__u64)cookie;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
