// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Lazy invalidation. In a DMA-FQ domain __iommu_dma_unmap() clears the page
 * table but defers the IOTLB flush: the device can still reach the old pages
 * through stale IOTLB entries until the flush queue is flushed
 * (fq_flush_iotlb on 6.1). The time between the two is the temporal exposure.
 */
#include "audit.bpf.h"
#include "frees.bpf.h"

/* __iommu_dma_unmap(dev, dma_addr, size) */
static __always_inline void iova_unmap_done(const __u64 *a, __u64 ret)
{
	struct device *dev = (struct device *)a[0];
	struct iommu_group *grp = BPF_CORE_READ(dev, iommu_group);
	struct iommu_domain *dom = grp ? BPF_CORE_READ(grp, default_domain) : NULL;
	struct iommu_dma_cookie *cookie = dom ? BPF_CORE_READ(dom, iova_cookie) : NULL;
	__u64 id = ia_current_req();
	struct ia_ev_iova_free *e;

	if (id == IA_REQ_FILTERED)
		return;
	e = ia_reserve(IA_EV_IOVA_FREE, sizeof(*e));
	if (!e)
		return;
	e->hdr.req_id = id;
	/* the same test __iommu_dma_unmap makes: iotlb_gather.queued */
	if (cookie && BPF_CORE_READ(cookie, fq_domain))
		e->hdr.flags |= IA_IOVA_QUEUED;
	e->dev = (__u64)dev;
	e->domain = (__u64)dom;
	e->iova = a[1];
	e->size = a[2];
	bpf_ringbuf_submit(e, 0);
}

/* fq_flush_iotlb(cookie) */
static __always_inline void fq_flush_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_fq_flush *e;

	ia_frees_flush(ia_addr((void *)a[0]));	/* a typed pointer in fexit */
	e = ia_reserve(IA_EV_FQ_FLUSH, sizeof(*e));
	if (!e)
		return;
	e->cookie = a[0];
	bpf_ringbuf_submit(e, 0);
}

SEC("fexit/__iommu_dma_unmap")
int iova_unmap(__u64 *ctx)
{
	iova_unmap_done(ctx, 0);
	return 0;
}

SEC("fexit/fq_flush_iotlb")
int fq_flush(__u64 *ctx)
{
	fq_flush_done(ctx, 0);
	return 0;
}

IA_KPROBE_STASHED(iova_unmap, __iommu_dma_unmap, IA_STASH_IOVA_UNMAP, iova_unmap_done)
IA_KPROBE_STASHED(fq_flush, fq_flush_iotlb, IA_STASH_FQ_FLUSH, fq_flush_done)
