// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The dma:* tracepoints (include/trace/events/dma.h, v6.12+): a second
 * witness of the requests, as iommu:map/unmap are of the page-table writes
 * (pgtable.bpf.c). kernel/dma/mapping.c fires them after each DMA API call
 * returns, with the device and the result, for every dma_map_ops backend:
 * they are recorded (IA_EV_TP_DMA) for the requests to be compared with,
 * not used to make them. The two-step IOVA API fires none.
 *
 * Raw BTF tracepoints, with no kprobe fallback. Names that changed: v6.18
 * folded dma_map_page and dma_map_resource into dma_map_phys (MMIO ranges
 * carry DMA_ATTR_MMIO), and the unmaps likewise.
 */
#include "audit.bpf.h"
#include "device.bpf.h"

/* Start a record of a device the --device filter lets through. */
static __always_inline struct ia_ev_tp_dma *tp_dma_reserve(__u32 event, __u64 dev)
{
	struct ia_ev_tp_dma *e;

	if (!ia_dev_observe((struct device *)dev))
		return NULL;
	e = ia_reserve(IA_EV_TP_DMA, sizeof(*e));
	if (!e)
		return NULL;
	__builtin_memset((void *)e + sizeof(e->hdr), 0, sizeof(*e) - sizeof(e->hdr));
	e->dev = dev;
	e->event = event;
	return e;
}

/* class dma_map: (dev, phys_addr, dma_addr, size, dir, attrs) */
static __always_inline void tp_map(const __u64 *a, __u32 flags)
{
	struct ia_ev_tp_dma *e = tp_dma_reserve(IA_TP_DMA_MAP, a[0]);

	if (!e)
		return;
	e->hdr.flags = flags;
	e->phys = a[1];
	e->dma = a[2];
	e->size = a[3];
	e->dir = a[4];
	e->attrs = a[5];
	ia_submit(e);
}

/* class dma_unmap: (dev, addr, size, dir, attrs) */
static __always_inline void tp_unmap(const __u64 *a, __u32 flags)
{
	struct ia_ev_tp_dma *e = tp_dma_reserve(IA_TP_DMA_UNMAP, a[0]);

	if (!e)
		return;
	e->hdr.flags = flags;
	e->dma = a[1];
	e->size = a[2];
	e->dir = a[3];
	e->attrs = a[4];
	ia_submit(e);
}

/* dma_map_sg / dma_map_sg_err: (dev, sgl, nents, ents or err, dir, attrs);
 * dma_unmap_sg: (dev, sgl, nents, dir, attrs) */
static __always_inline void tp_sg(__u32 event, const __u64 *a)
{
	struct scatterlist *sgl = (struct scatterlist *)a[1];
	__u64 dma = sgl ? BPF_CORE_READ(sgl, dma_address) : 0;
	struct ia_ev_tp_dma *e = tp_dma_reserve(event, a[0]);

	if (!e)
		return;
	e->nents = a[2];
	if (event == IA_TP_DMA_UNMAP_SG) {
		e->dir = a[3];
		e->attrs = a[4];
	} else {
		e->ents = a[3];
		e->dir = a[4];
		e->attrs = a[5];
	}
	if (event != IA_TP_DMA_MAP_SG_ERR)
		e->dma = dma;
	ia_submit(e);
}

/* class dma_alloc_class: (dev, virt_addr, dma_addr, size, dir, flags, attrs);
 * class dma_free_class: the same without flags */
static __always_inline void tp_alloc(__u32 event, const __u64 *a, bool alloc)
{
	struct ia_ev_tp_dma *e = tp_dma_reserve(event, a[0]);

	if (!e)
		return;
	e->cpu_addr = a[1];
	e->dma = a[2];
	e->size = a[3];
	e->dir = a[4];
	e->gfp = alloc ? a[5] : 0;
	e->attrs = alloc ? a[6] : a[5];
	ia_submit(e);
}

/* dma_alloc_sgt: (dev, sgt, size, dir, flags, attrs);
 * dma_free_sgt: (dev, sgt, size, dir) */
static __always_inline void tp_sgt(__u32 event, const __u64 *a)
{
	struct sg_table *sgt = (struct sg_table *)a[1];
	struct scatterlist *sgl = sgt ? BPF_CORE_READ(sgt, sgl) : NULL;
	__u64 dma = sgl ? BPF_CORE_READ(sgl, dma_address) : 0;
	struct ia_ev_tp_dma *e = tp_dma_reserve(event, a[0]);

	if (!e)
		return;
	e->cpu_addr = a[1];
	e->dma = dma;
	e->size = a[2];
	e->dir = a[3];
	if (event == IA_TP_DMA_ALLOC_SGT) {
		e->gfp = a[4];
		e->attrs = a[5];
	}
	ia_submit(e);
}

/* dma_sync_single_*: (dev, dma_addr, size, dir);
 * dma_sync_sg_*: (dev, sgl, nents, dir) */
static __always_inline void tp_sync(__u32 event, const __u64 *a)
{
	bool sg = event == IA_TP_DMA_SYNC_SG_CPU || event == IA_TP_DMA_SYNC_SG_DEV;
	struct scatterlist *sgl = sg ? (struct scatterlist *)a[1] : NULL;
	__u64 dma = sgl ? BPF_CORE_READ(sgl, dma_address) : a[1];
	struct ia_ev_tp_dma *e = tp_dma_reserve(event, a[0]);

	if (!e)
		return;
	e->dma = dma;
	if (sg)
		e->nents = a[2];
	else
		e->size = a[2];
	e->dir = a[3];
	ia_submit(e);
}

#define TP_DMA(name, call)						\
SEC("tp_btf/" #name)							\
int tp_##name(__u64 *ctx)						\
{									\
	call;								\
	return 0;							\
}

TP_DMA(dma_map_phys, tp_map(ctx, 0))				/* v6.18+ */
TP_DMA(dma_map_page, tp_map(ctx, 0))				/* v6.12-6.17 */
TP_DMA(dma_map_resource, tp_map(ctx, IA_TP_DMA_F_MMIO))		/* v6.12-6.17 */
TP_DMA(dma_unmap_phys, tp_unmap(ctx, 0))
TP_DMA(dma_unmap_page, tp_unmap(ctx, 0))
TP_DMA(dma_unmap_resource, tp_unmap(ctx, IA_TP_DMA_F_MMIO))
TP_DMA(dma_map_sg, tp_sg(IA_TP_DMA_MAP_SG, ctx))
TP_DMA(dma_map_sg_err, tp_sg(IA_TP_DMA_MAP_SG_ERR, ctx))
TP_DMA(dma_unmap_sg, tp_sg(IA_TP_DMA_UNMAP_SG, ctx))
TP_DMA(dma_alloc, tp_alloc(IA_TP_DMA_ALLOC, ctx, true))
TP_DMA(dma_alloc_pages, tp_alloc(IA_TP_DMA_ALLOC_PAGES, ctx, true))
TP_DMA(dma_alloc_sgt_err, tp_alloc(IA_TP_DMA_ALLOC_SGT_ERR, ctx, true))
TP_DMA(dma_free, tp_alloc(IA_TP_DMA_FREE, ctx, false))
TP_DMA(dma_free_pages, tp_alloc(IA_TP_DMA_FREE_PAGES, ctx, false))
TP_DMA(dma_alloc_sgt, tp_sgt(IA_TP_DMA_ALLOC_SGT, ctx))
TP_DMA(dma_free_sgt, tp_sgt(IA_TP_DMA_FREE_SGT, ctx))
TP_DMA(dma_sync_single_for_cpu, tp_sync(IA_TP_DMA_SYNC_SINGLE_CPU, ctx))
TP_DMA(dma_sync_single_for_device, tp_sync(IA_TP_DMA_SYNC_SINGLE_DEV, ctx))
TP_DMA(dma_sync_sg_for_cpu, tp_sync(IA_TP_DMA_SYNC_SG_CPU, ctx))
TP_DMA(dma_sync_sg_for_device, tp_sync(IA_TP_DMA_SYNC_SG_DEV, ctx))
