// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * IOMMU page-table writes: what the device can really reach.
 *
 * __iommu_map/__iommu_unmap (iommu_map_nosync since v6.16) are the
 * authoritative hooks: they see the domain and the result, including refused
 * writes. The iommu:map/unmap tracepoints carry neither and only fire on
 * success; they are recorded as a cross-check of the fexit hooks.
 */
#include "audit.bpf.h"
#include "classify.bpf.h"
#include "frees.bpf.h"

/*
 * A page-table write, under the innermost request in flight (top, NULL:
 * none; its id 0 when unattributed). Inside a request the record takes the
 * request's entry time instead of reading the clock (ts_ns,
 * event/ia_events.h).
 */
static __always_inline void pt_emit(const struct ia_frame *top, __u32 type,
				    struct iommu_domain *domain, __u64 iova,
				    __u64 paddr, __u64 size, __u64 result, __u32 prot)
{
	__u64 id = top ? top->req_id : 0;
	struct ia_ev_pt *e;

	if (id == IA_REQ_FILTERED)
		return;
	e = ia_reserve_at(type, sizeof(*e), top ? top->entry_ns : 0);
	if (!e)
		return;
	e->hdr.req_id = id;
	if (!id)
		e->hdr.flags |= IA_PT_UNATTRIBUTED;
	e->domain = (__u64)domain;
	e->iova = iova;
	e->paddr = paddr;
	e->size = size;
	e->result = result;
	e->prot = prot;
	e->pad = 0;
	ia_submit(e);
}

/* __iommu_map(domain, iova, paddr, size, prot, gfp) -> int */
static __always_inline void pt_map_done(const __u64 *a, __u64 ret, bool typed)
{
	struct ia_frame *top = ia_top(ia_inflight_get(false));

	pt_emit(top, IA_EV_PT_MAP, (struct iommu_domain *)a[0], a[1], a[2], a[3],
		(__s64)(int)ret, (__u32)a[4]);
	if (!(int)ret && free_hooks)
		ia_frees_map(ia_addr((void *)a[0]), a[1], a[2], a[3]);
	/* a scatterlist maps without a per-segment request: name the pages
	 * at the ends of each of its writes (classify.bpf.c) */
	if (!(int)ret && top && top->kind == IA_REQ_MAP_SG && top->req_id &&
	    top->req_id != IA_REQ_FILTERED)
		ia_classify_write(top->req_id, a[2], a[3]);
}

/* __iommu_unmap(domain, iova, size, gather) -> size_t */
static __always_inline void pt_unmap_done(const __u64 *a, __u64 ret, bool typed)
{
	pt_emit(ia_top(ia_inflight_get(false)), IA_EV_PT_UNMAP,
		(struct iommu_domain *)a[0], a[1], 0, a[2], ret, 0);
	if (free_hooks)
		ia_frees_unmap(ia_addr((void *)a[0]), a[1], ret);
}

SEC("fexit/__iommu_map")
int pt_map(__u64 *ctx)
{
	pt_map_done(ctx, ctx[6], true);
	return 0;
}

SEC("fexit/iommu_map_nosync")	/* v6.16+, same arguments */
int pt_map_nosync(__u64 *ctx)
{
	pt_map_done(ctx, ctx[6], true);
	return 0;
}

SEC("fexit/__iommu_unmap")
int pt_unmap(__u64 *ctx)
{
	pt_unmap_done(ctx, ctx[4], true);
	return 0;
}

IA_KPROBE_STASHED(pt_map, __iommu_map, IA_STASH_IOMMU_MAP, pt_map_done)
IA_KPROBE_STASHED(pt_map_nosync, iommu_map_nosync, IA_STASH_IOMMU_MAP, pt_map_done)
IA_KPROBE_STASHED(pt_unmap, __iommu_unmap, IA_STASH_IOMMU_UNMAP, pt_unmap_done)

/* raw BTF tracepoints have no kprobe fallback: the fexit hooks are the truth */
SEC("tp_btf/map")
int BPF_PROG(tp_map, unsigned long iova, phys_addr_t paddr, size_t size)
{
	pt_emit(ia_top(ia_inflight_get(false)), IA_EV_TP_MAP, NULL, iova, paddr,
		size, 0, 0);
	return 0;
}

SEC("tp_btf/unmap")
int BPF_PROG(tp_unmap, unsigned long iova, size_t size, size_t unmapped)
{
	pt_emit(ia_top(ia_inflight_get(false)), IA_EV_TP_UNMAP, NULL, iova, 0,
		size, unmapped, 0);
	return 0;
}
