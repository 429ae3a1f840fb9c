// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * DMA API requests as dma-iommu sees them: what a driver asked for.
 *
 * Each request is a frame on the calling task's in-flight stack from fentry to
 * fexit, so the page-table writes it causes (pgtable.bpf.c) carry its id, and
 * nested requests (dma_alloc_pages -> map_page -> __iommu_dma_map) carry
 * their parent's. The record is emitted at fexit, when the result is known.
 */
#include "audit.bpf.h"
#include "device.bpf.h"
#include "core_fixes.bpf.h"

#define SG_CHAIN	0x01UL	/* include/linux/scatterlist.h */
#define SG_END		0x02UL
#define SG_PAGE_MASK	(~(SG_CHAIN | SG_END))

#define DMA_MAPPING_ERROR	(~(__u64)0)

/* Scratch for building scatterlist records off the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ia_ev_sg);
} sg_scratch SEC(".maps");

static __always_inline void req_enter(void *ctx, __u32 kind, struct device *dev)
{
	struct ia_inflight *st = ia_inflight_get(true);
	bool allowed = true;
	struct ia_frame *f;
	__u32 d;

	if (!st) {
		ia_drop(IA_DROP_INFLIGHT);
		return;
	}
	d = st->depth;
	if (d >= IA_INFLIGHT_DEPTH) {
		/* keep counting so the pops stay balanced; attribution is lost */
		st->depth = d + 1;
		ia_drop(IA_DROP_INFLIGHT);
		return;
	}
	if (d == 0)
		allowed = ia_dev_observe(dev);
	else	/* nested requests inherit the root's verdict */
		allowed = st->f[ia_slot(d - 1)].req_id !=
			  IA_REQ_FILTERED;
	f = &st->f[ia_slot(d)];
	st->depth = d + 1;
	if (!allowed) {
		f->req_id = IA_REQ_FILTERED;
		f->dev = (__u64)dev;
		f->kind = kind;
		return;
	}
	f->req_id = __sync_fetch_and_add(&req_seq, 1) + 1;
	f->entry_ns = bpf_ktime_get_ns();
	f->dev = (__u64)dev;
	f->kind = kind;
	/* the root request's call site; nested ones share it */
	f->stack_id = d == 0 ? bpf_get_stackid(ctx, &stacks, 0) : -1;
	if (f->stack_id < 0 && d == 0)
		ia_drop(IA_DROP_STACK);
}

/*
 * Pop this request's frame and start its record. A fexit without a matching
 * frame (the call was already running when we attached) still gets a record,
 * with a fresh id, entry_ns 0 and no stack.
 */
static __always_inline struct ia_ev_req *req_exit(__u32 kind, struct device *dev)
{
	struct ia_inflight *st = ia_inflight_get(false);
	struct ia_ev_req *e;
	struct ia_frame f = {};
	__u64 parent = 0;
	__u32 d = st ? st->depth : 0;

	if (d > IA_INFLIGHT_DEPTH) {
		st->depth = d - 1;	/* an overflowed frame: nothing stored */
		d = 0;
	} else if (d > 0) {
		f = st->f[ia_slot(d - 1)];
		if (f.kind != kind || f.dev != (__u64)dev) {
			/* not ours: a frame was lost; leave the stack alone */
			__builtin_memset(&f, 0, sizeof(f));
			ia_drop(IA_DROP_INFLIGHT);
		} else {
			st->depth = d - 1;
			if (d > 1)
				parent = st->f[ia_slot(d - 2)].req_id;
		}
	}

	if (f.req_id == IA_REQ_FILTERED)
		return NULL;
	e = ia_reserve(IA_EV_REQ, sizeof(*e));
	if (!e)
		return NULL;
	e->hdr.req_id = f.req_id ?: __sync_fetch_and_add(&req_seq, 1) + 1;
	e->dev = (__u64)dev;
	e->parent_id = parent;
	e->entry_ns = f.entry_ns;
	e->stack_id = f.req_id ? f.stack_id : -1;
	e->kind = kind;
	e->phys = e->size = e->dma = e->attrs = e->gfp = e->cpu_addr = 0;
	e->dir = 0;
	e->ret = 0;
	e->nents = 0;
	e->pad = 0;
	return e;
}

/* A request with no page-table side effects (syncs): one record at entry. */
static __always_inline struct ia_ev_req *req_instant(void *ctx, __u32 kind,
						     struct device *dev)
{
	struct ia_ev_req *e;

	if (!ia_dev_observe(dev))
		return NULL;
	e = ia_reserve(IA_EV_REQ, sizeof(*e));
	if (!e)
		return NULL;
	e->hdr.req_id = __sync_fetch_and_add(&req_seq, 1) + 1;
	e->hdr.flags = IA_REQ_F_ENTRY_ONLY;
	e->dev = (__u64)dev;
	e->parent_id = ia_current_req();
	e->entry_ns = e->hdr.ts_ns;
	e->stack_id = -1;
	e->kind = kind;
	e->phys = e->size = e->dma = e->attrs = e->gfp = e->cpu_addr = 0;
	e->dir = 0;
	e->ret = 0;
	e->nents = 0;
	e->pad = 0;
	return e;
}

/*
 * Walk a scatterlist (following chain entries) and emit it in chunks of
 * IA_SG_CHUNK segments. Input walks take phys/len; output walks add the DMA
 * side. Bounded by IA_SG_MAX segments; a longer list is marked truncated.
 *
 * The walk is a bpf_loop() callback: an open-coded loop over a few hundred
 * entries makes the verifier explore too many states.
 */
struct sg_walk_ctx {
	__u64 sg;		/* current entry (kernel address) */
	__u32 n;		/* segments emitted */
	__u32 nents;		/* the caller's nents; 0 when unknown */
	__u32 flags;		/* IA_SG_OUTPUT or 0 */
	__u32 done;
};

static long sg_walk_step(__u32 i, void *data)
{
	struct sg_walk_ctx *w = data;
	struct scatterlist *sg = (struct scatterlist *)w->sg;
	__u32 zero = 0, c;
	struct ia_ev_sg *e = bpf_map_lookup_elem(&sg_scratch, &zero);
	unsigned long link;
	struct ia_sg_seg *s;
	bool last;

	if (!e || !sg)
		return 1;
	link = BPF_CORE_READ(sg, page_link);
	if (link & SG_CHAIN) {	/* sg_chain_ptr(): not a segment */
		w->sg = link & SG_PAGE_MASK;
		return 0;
	}
	if (w->n >= IA_SG_MAX)
		return 1;	/* truncated: the caller marks it */
	c = e->count;
	barrier_var(c);
	s = &e->segs[c & (IA_SG_CHUNK - 1)];
	s->phys = ia_page_to_phys((struct page *)(link & SG_PAGE_MASK)) +
		  BPF_CORE_READ(sg, offset);
	s->len = BPF_CORE_READ(sg, length);
	s->dma = w->flags ? BPF_CORE_READ(sg, dma_address) : 0;
	s->dma_len = w->flags ? ia_sg_dma_len(sg) : 0;
	e->count = c + 1;
	w->n++;
	last = (link & SG_END) || (w->nents && w->n >= w->nents);
	if (e->count == IA_SG_CHUNK || last) {
		e->hdr.flags = w->flags | (last ? IA_SG_LAST_CHUNK : 0);
		ia_output(e, sizeof(*e));
		e->first = w->n;
		e->count = 0;
	}
	w->sg += bpf_core_type_size(struct scatterlist);
	if (last) {
		w->done = 1;
		return 1;
	}
	return 0;
}

static __always_inline void sg_walk(__u64 req_id, struct scatterlist *sg,
				    int nents, bool output)
{
	struct sg_walk_ctx w = {
		.sg = ia_addr(sg),
		.nents = nents > 0 ? nents : 0,
		.flags = output ? IA_SG_OUTPUT : 0,
	};
	__u32 zero = 0;
	struct ia_ev_sg *e = bpf_map_lookup_elem(&sg_scratch, &zero);

	if (!e)
		return;
	ia_hdr_init(&e->hdr, IA_EV_SG, sizeof(*e));
	e->hdr.req_id = req_id;
	e->first = 0;
	e->count = 0;
	/* chain entries take iterations too: allow one per 4 segments */
	bpf_loop(IA_SG_MAX + IA_SG_MAX / 4, sg_walk_step, &w, 0);
	if (!w.done) {	/* bound hit, or a list that ended without SG_END */
		e->hdr.flags = w.flags | IA_SG_LAST_CHUNK | IA_SG_TRUNCATED;
		ia_output(e, sizeof(*e));
	}
}

#define REQ_ENTER(prog, func, kind)					\
SEC("fentry/" #func)							\
int BPF_PROG(prog##_enter, struct device *dev)				\
{									\
	req_enter(ctx, kind, dev);					\
	return 0;							\
}

/* ---- single mappings ------------------------------------------------- */

REQ_ENTER(map_page, iommu_dma_map_page, IA_REQ_MAP_PAGE)
SEC("fexit/iommu_dma_map_page")
int BPF_PROG(map_page_exit, struct device *dev, struct page *page,
	     unsigned long offset, size_t size, enum dma_data_direction dir,
	     unsigned long attrs, dma_addr_t ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_MAP_PAGE, dev);

	if (!e)
		return 0;
	e->phys = ia_page_to_phys(page) + offset;
	e->size = size;
	e->dir = dir;
	e->attrs = attrs;
	e->dma = ret;
	if (ret == DMA_MAPPING_ERROR)
		e->hdr.flags |= IA_REQ_F_FAILED;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* v6.18: dma_map_page became a wrapper of dma_map_phys */
REQ_ENTER(map_phys, iommu_dma_map_phys, IA_REQ_MAP_PAGE)
SEC("fexit/iommu_dma_map_phys")
int BPF_PROG(map_phys_exit, struct device *dev, phys_addr_t phys, size_t size,
	     enum dma_data_direction dir, unsigned long attrs, dma_addr_t ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_MAP_PAGE, dev);

	if (!e)
		return 0;
	e->phys = phys;
	e->size = size;
	e->dir = dir;
	e->attrs = attrs;
	e->dma = ret;
	if (ret == DMA_MAPPING_ERROR)
		e->hdr.flags |= IA_REQ_F_FAILED;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

REQ_ENTER(iommu_map, __iommu_dma_map, IA_REQ_IOMMU_MAP)
SEC("fexit/__iommu_dma_map")
int BPF_PROG(iommu_map_exit, struct device *dev, phys_addr_t phys, size_t size,
	     int prot, u64 dma_mask, dma_addr_t ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_IOMMU_MAP, dev);

	if (!e)
		return 0;
	e->phys = phys;
	e->size = size;
	e->attrs = (__u32)prot;	/* IOMMU_READ/WRITE/... of the mapping */
	e->gfp = dma_mask;	/* the mask the IOVA was allocated under */
	e->dma = ret;
	if (ret == DMA_MAPPING_ERROR)
		e->hdr.flags |= IA_REQ_F_FAILED;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

REQ_ENTER(map_resource, iommu_dma_map_resource, IA_REQ_MAP_RESOURCE)
SEC("fexit/iommu_dma_map_resource")
int BPF_PROG(map_resource_exit, struct device *dev, phys_addr_t phys,
	     size_t size, enum dma_data_direction dir, unsigned long attrs,
	     dma_addr_t ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_MAP_RESOURCE, dev);

	if (!e)
		return 0;
	e->phys = phys;
	e->size = size;
	e->dir = dir;
	e->attrs = attrs;
	e->dma = ret;
	if (ret == DMA_MAPPING_ERROR)
		e->hdr.flags |= IA_REQ_F_FAILED;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* ---- scatterlists ---------------------------------------------------- */

SEC("fentry/iommu_dma_map_sg")
int BPF_PROG(map_sg_enter, struct device *dev, struct scatterlist *sg, int nents)
{
	__u64 id;

	req_enter(ctx, IA_REQ_MAP_SG, dev);
	id = ia_current_req();
	if (id && id != IA_REQ_FILTERED)
		sg_walk(id, sg, nents, false);
	return 0;
}

SEC("fexit/iommu_dma_map_sg")
int BPF_PROG(map_sg_exit, struct device *dev, struct scatterlist *sg,
	     int nents, enum dma_data_direction dir, unsigned long attrs, int ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_MAP_SG, dev);
	__u64 id;

	if (!e)
		return 0;
	e->dir = dir;
	e->attrs = attrs;
	e->nents = nents;
	e->ret = ret;
	e->dma = ret > 0 ? BPF_CORE_READ(sg, dma_address) : DMA_MAPPING_ERROR;
	if (ret <= 0)
		e->hdr.flags |= IA_REQ_F_FAILED;
	id = e->hdr.req_id;
	bpf_ringbuf_submit(e, 0);
	/* dma-iommu restores offset/length before returning (__finalise_sg),
	 * so this walk sees each input segment next to its DMA result */
	if (ret > 0)
		sg_walk(id, sg, nents, true);
	return 0;
}

REQ_ENTER(unmap_sg, iommu_dma_unmap_sg, IA_REQ_UNMAP_SG)
SEC("fexit/iommu_dma_unmap_sg")
int BPF_PROG(unmap_sg_exit, struct device *dev, struct scatterlist *sg,
	     int nents, enum dma_data_direction dir, unsigned long attrs)
{
	struct ia_ev_req *e = req_exit(IA_REQ_UNMAP_SG, dev);

	if (!e)
		return 0;
	e->dir = dir;
	e->attrs = attrs;
	e->nents = nents;
	e->dma = BPF_CORE_READ(sg, dma_address);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* ---- unmaps ---------------------------------------------------------- */

#define REQ_UNMAP(prog, func, kind)					\
REQ_ENTER(prog, func, kind)						\
SEC("fexit/" #func)							\
int BPF_PROG(prog##_exit, struct device *dev, dma_addr_t handle,	\
	     size_t size, enum dma_data_direction dir, unsigned long attrs) \
{									\
	struct ia_ev_req *e = req_exit(kind, dev);			\
									\
	if (!e)								\
		return 0;						\
	e->dma = handle;						\
	e->size = size;							\
	e->dir = dir;							\
	e->attrs = attrs;						\
	bpf_ringbuf_submit(e, 0);					\
	return 0;							\
}

REQ_UNMAP(unmap_page, iommu_dma_unmap_page, IA_REQ_UNMAP_PAGE)
REQ_UNMAP(unmap_phys, iommu_dma_unmap_phys, IA_REQ_UNMAP_PAGE)	/* v6.18 */
REQ_UNMAP(unmap_resource, iommu_dma_unmap_resource, IA_REQ_UNMAP_RESOURCE)

/* ---- allocations ----------------------------------------------------- */

REQ_ENTER(alloc, iommu_dma_alloc, IA_REQ_ALLOC)
SEC("fexit/iommu_dma_alloc")
int BPF_PROG(alloc_exit, struct device *dev, size_t size, dma_addr_t *handle,
	     gfp_t gfp, unsigned long attrs, void *ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_ALLOC, dev);
	dma_addr_t dma = DMA_MAPPING_ERROR;

	if (!e)
		return 0;
	if (ret)
		bpf_probe_read_kernel(&dma, sizeof(dma), handle);
	e->size = size;
	e->gfp = gfp;
	e->attrs = attrs;
	e->cpu_addr = (__u64)ret;
	e->dma = dma;
	if (!ret)
		e->hdr.flags |= IA_REQ_F_FAILED;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

REQ_ENTER(free, iommu_dma_free, IA_REQ_FREE)
SEC("fexit/iommu_dma_free")
int BPF_PROG(free_exit, struct device *dev, size_t size, void *cpu_addr,
	     dma_addr_t handle, unsigned long attrs)
{
	struct ia_ev_req *e = req_exit(IA_REQ_FREE, dev);

	if (!e)
		return 0;
	e->size = size;
	e->cpu_addr = (__u64)cpu_addr;
	e->dma = handle;
	e->attrs = attrs;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

REQ_ENTER(alloc_noncontig, iommu_dma_alloc_noncontiguous, IA_REQ_ALLOC_NONCONTIG)
SEC("fexit/iommu_dma_alloc_noncontiguous")
int BPF_PROG(alloc_noncontig_exit, struct device *dev, size_t size,
	     enum dma_data_direction dir, gfp_t gfp, unsigned long attrs,
	     struct sg_table *ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_ALLOC_NONCONTIG, dev);
	struct scatterlist *sgl;
	__u32 nents;
	__u64 id;

	if (!e)
		return 0;
	e->size = size;
	e->dir = dir;
	e->gfp = gfp;
	e->attrs = attrs;
	e->cpu_addr = (__u64)ret;	/* the sg_table */
	sgl = ret ? BPF_CORE_READ(ret, sgl) : NULL;
	e->dma = sgl ? BPF_CORE_READ(sgl, dma_address) : DMA_MAPPING_ERROR;
	e->nents = ret ? BPF_CORE_READ(ret, orig_nents) : 0;
	if (!ret)
		e->hdr.flags |= IA_REQ_F_FAILED;
	id = e->hdr.req_id;
	nents = e->nents;
	bpf_ringbuf_submit(e, 0);
	if (sgl)	/* the pages that were really allocated */
		sg_walk(id, sgl, nents, true);
	return 0;
}

REQ_ENTER(free_noncontig, iommu_dma_free_noncontiguous, IA_REQ_FREE_NONCONTIG)
SEC("fexit/iommu_dma_free_noncontiguous")
int BPF_PROG(free_noncontig_exit, struct device *dev, size_t size,
	     struct sg_table *sgt, enum dma_data_direction dir)
{
	struct ia_ev_req *e = req_exit(IA_REQ_FREE_NONCONTIG, dev);
	struct scatterlist *sgl;

	if (!e)
		return 0;
	e->size = size;
	e->dir = dir;
	e->cpu_addr = (__u64)sgt;
	sgl = BPF_CORE_READ(sgt, sgl);
	e->dma = sgl ? BPF_CORE_READ(sgl, dma_address) : 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

REQ_ENTER(alloc_pages, dma_common_alloc_pages, IA_REQ_ALLOC_PAGES)
SEC("fexit/dma_common_alloc_pages")
int BPF_PROG(alloc_pages_exit, struct device *dev, size_t size,
	     dma_addr_t *handle, enum dma_data_direction dir, gfp_t gfp,
	     struct page *ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_ALLOC_PAGES, dev);
	dma_addr_t dma = DMA_MAPPING_ERROR;

	if (!e)
		return 0;
	if (ret)
		bpf_probe_read_kernel(&dma, sizeof(dma), handle);
	e->phys = ia_page_to_phys(ret);
	e->size = size;
	e->dir = dir;
	e->gfp = gfp;
	e->dma = dma;
	if (!ret)
		e->hdr.flags |= IA_REQ_F_FAILED;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

REQ_ENTER(free_pages, dma_common_free_pages, IA_REQ_FREE_PAGES)
SEC("fexit/dma_common_free_pages")
int BPF_PROG(free_pages_exit, struct device *dev, size_t size,
	     struct page *page, dma_addr_t handle, enum dma_data_direction dir)
{
	struct ia_ev_req *e = req_exit(IA_REQ_FREE_PAGES, dev);

	if (!e)
		return 0;
	e->phys = ia_page_to_phys(page);
	e->size = size;
	e->dma = handle;
	e->dir = dir;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* ---- syncs: no page-table effect, one record at entry ---------------- */

#define REQ_SYNC_SINGLE(prog, func, kind)				\
SEC("fentry/" #func)							\
int BPF_PROG(prog, struct device *dev, dma_addr_t handle, size_t size,	\
	     enum dma_data_direction dir)				\
{									\
	struct ia_ev_req *e = req_instant(ctx, kind, dev);		\
									\
	if (!e)								\
		return 0;						\
	e->dma = handle;						\
	e->size = size;							\
	e->dir = dir;							\
	bpf_ringbuf_submit(e, 0);					\
	return 0;							\
}

#define REQ_SYNC_SG(prog, func, kind)					\
SEC("fentry/" #func)							\
int BPF_PROG(prog, struct device *dev, struct scatterlist *sg, int nelems, \
	     enum dma_data_direction dir)				\
{									\
	struct ia_ev_req *e = req_instant(ctx, kind, dev);		\
									\
	if (!e)								\
		return 0;						\
	e->dma = BPF_CORE_READ(sg, dma_address);			\
	e->nents = nelems;						\
	e->dir = dir;							\
	bpf_ringbuf_submit(e, 0);					\
	return 0;							\
}

REQ_SYNC_SINGLE(sync_single_cpu, iommu_dma_sync_single_for_cpu, IA_REQ_SYNC_SINGLE_CPU)
REQ_SYNC_SINGLE(sync_single_dev, iommu_dma_sync_single_for_device, IA_REQ_SYNC_SINGLE_DEV)
REQ_SYNC_SG(sync_sg_cpu, iommu_dma_sync_sg_for_cpu, IA_REQ_SYNC_SG_CPU)
REQ_SYNC_SG(sync_sg_dev, iommu_dma_sync_sg_for_device, IA_REQ_SYNC_SG_DEV)
