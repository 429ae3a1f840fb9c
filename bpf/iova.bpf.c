// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The two-step IOVA API (v6.16+, drivers/iommu/dma-iommu.c): a driver
 * reserves an IOVA range (dma_iova_try_alloc), links physical ranges into it
 * (dma_iova_link, which writes the page tables through iommu_map_nosync),
 * syncs the IOTLB once (dma_iova_sync) and undoes it by range
 * (dma_iova_unlink) or at once (dma_iova_destroy, dma_iova_free). nvme-pci
 * maps its data this way since 6.17 (blk_rq_dma_map_iter_*), and RDMA ODP,
 * hmm and VFIO use it too.
 *
 * Each call is a request frame from entry to exit, as the DMA API's are
 * (inflight.bpf.h): a link's page-table writes and bounce slots carry its
 * id, a destroy's removals its own. One IA_EV_IOVA record per call, at
 * exit, with the caller's struct dma_iova_state as it is then.
 */
#include "inflight.bpf.h"
#include "release.bpf.h"

/* include/linux/dma-mapping.h since v6.16 (commit 393cf7083ac9, "dma-mapping:
 * provide an interface to allocate IOVA"); absent from the 6.1 vmlinux.h */
struct dma_iova_state___v616 {
	dma_addr_t addr;
	__u64 __size;
} __attribute__((preserve_access_index));

/*
 * Pop the call's frame and start its record, with the state as the call
 * left it. The state is read before the frame is popped: a NULL test of the
 * record after the reads is one the verifier of older kernels cannot fold
 * (alloc_noncontig_done() in requests.bpf.c).
 */
static __always_inline struct ia_ev_iova *iova_exit(__u32 kind, const __u64 *a)
{
	struct dma_iova_state___v616 *st = (void *)a[1];
	__u64 addr = BPF_CORE_READ(st, addr), size = BPF_CORE_READ(st, __size);
	struct device *dev = (void *)a[0];
	struct ia_ev_iova *e;
	struct ia_popped f;
	__u64 parent;

	if (!req_pop(ia_inflight_get(false), kind, dev, &f, &parent))
		return NULL;
	e = ia_reserve(IA_EV_IOVA, sizeof(*e));
	if (!e)
		return NULL;
	__builtin_memset((void *)e + sizeof(e->hdr), 0, sizeof(*e) - sizeof(e->hdr));
	e->hdr.req_id = f.req_id;
	e->dev = (__u64)dev;
	e->parent_id = parent;
	e->state = a[1];
	e->addr = addr;
	e->state_size = size;
	e->entry_ns = f.entry_ns;
	e->kind = kind;
	e->stack_id = f.stack_id;
	return e;
}

/* dma_iova_try_alloc(dev, state, phys, size) -> bool */
static __always_inline void iova_alloc_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_iova *e = iova_exit(IA_REQ_IOVA_TRY_ALLOC, a);

	if (!e)
		return;
	e->phys = a[2];
	e->size = a[3];
	e->ret = (__u8)ret;
	if (!e->ret)
		e->hdr.flags |= IA_REQ_F_FAILED;
	ia_submit(e);
}
REQ_HOOK(iova_alloc, dma_iova_try_alloc, IA_REQ_IOVA_TRY_ALLOC, 4)

/* dma_iova_link(dev, state, phys, offset, size, dir, attrs) -> int */
static __always_inline void iova_link_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_iova *e = iova_exit(IA_REQ_IOVA_LINK, a);

	if (!e)
		return;
	e->phys = a[2];
	e->offset = a[3];
	e->size = a[4];
	e->dir = a[5];
	e->attrs = a[6];
	e->ret = (int)ret;
	if (e->ret)
		e->hdr.flags |= IA_REQ_F_FAILED;
	ia_submit(e);
}
REQ_HOOK(iova_link, dma_iova_link, IA_REQ_IOVA_LINK, 7)

/* dma_iova_sync(dev, state, offset, size) -> int */
static __always_inline void iova_sync_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_iova *e = iova_exit(IA_REQ_IOVA_SYNC, a);

	if (!e)
		return;
	e->offset = a[2];
	e->size = a[3];
	e->ret = (int)ret;
	if (e->ret)
		e->hdr.flags |= IA_REQ_F_FAILED;
	ia_submit(e);
}
REQ_HOOK(iova_sync, dma_iova_sync, IA_REQ_IOVA_SYNC, 4)

/* dma_iova_unlink(dev, state, offset, size, dir, attrs): flushed at once,
 * the range stays reserved */
static __always_inline void iova_unlink_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_iova *e = iova_exit(IA_REQ_IOVA_UNLINK, a);

	if (!e)
		return;
	e->offset = a[2];
	e->size = a[3];
	e->dir = a[4];
	e->attrs = a[5];
	ia_submit(e);
}
REQ_HOOK_VOID(iova_unlink, dma_iova_unlink, IA_REQ_IOVA_UNLINK)

/*
 * dma_iova_destroy(dev, state, mapped_len, dir, attrs): unlinks [0,
 * mapped_len) and releases the whole range, through the flush queue in a
 * DMA-FQ domain; with mapped_len 0 it calls dma_iova_free (a nested call,
 * which reports the release). The release record goes first, as
 * __iommu_dma_unmap's does within its request.
 */
static __always_inline void iova_destroy_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_iova *e = iova_exit(IA_REQ_IOVA_DESTROY, a);

	if (!e)
		return;
	if (a[2])
		ia_iova_release(e->hdr.req_id, (struct device *)a[0], e->addr,
				e->state_size & ~IA_IOVA_SWIOTLB, true);
	e->size = a[2];
	e->dir = a[3];
	e->attrs = a[4];
	ia_submit(e);
}
REQ_HOOK_VOID(iova_destroy, dma_iova_destroy, IA_REQ_IOVA_DESTROY)

/* dma_iova_free(dev, state): releases the range at once, unmapping nothing */
static __always_inline void iova_free_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_iova *e = iova_exit(IA_REQ_IOVA_FREE, a);

	if (!e)
		return;
	ia_iova_release(e->hdr.req_id, (struct device *)a[0], e->addr,
			e->state_size & ~IA_IOVA_SWIOTLB, false);
	ia_submit(e);
}
REQ_HOOK_VOID(iova_free, dma_iova_free, IA_REQ_IOVA_FREE)
