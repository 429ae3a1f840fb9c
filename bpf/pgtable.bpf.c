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
 * event/ia_events.h). The tracepoint record its frame keeps is folded into
 * it (IA_PT_TP_FOLDED) when the tracepoint saw this very write: type
 * IA_EV_TP_MAP or IA_EV_TP_UNMAP, tp_match its values are the write's;
 * otherwise it goes first, as its own.
 */
/*
 * The tracepoint record frame top keeps, for a write of type (IA_EV_PT_MAP
 * or IA_EV_PT_UNMAP) about to be recorded: folded into it
 * (IA_PT_TP_FOLDED returned) when it is this write's own (tp_match: the
 * same values; the same CPU), else sent first as its own (0 returned).
 */
static __always_inline __u32 tp_fold(struct ia_frame *top, __u32 type, bool tp_match)
{
	if (!top->tp_type)
		return 0;
	if (tp_match && top->tp_type == type + (IA_EV_TP_MAP - IA_EV_PT_MAP) &&
	    top->tp_cpu == bpf_get_smp_processor_id()) {
		top->tp_type = 0;
		return IA_PT_TP_FOLDED;
	}
	ia_tp_flush(top);
	return 0;
}

static __always_inline void pt_emit(struct ia_frame *top, __u32 type,
				    struct iommu_domain *domain, __u64 iova,
				    __u64 paddr, __u64 size, __u64 result, __u32 prot,
				    bool tp_match)
{
	__u64 id = top ? top->req_id : 0;
	__u32 folded = 0;
	struct ia_ev_pt *e;

	if (id == IA_REQ_FILTERED)
		return;
	if (top) {
		ia_pt_flush(top);	/* an earlier removal goes first */
		folded = tp_fold(top, type, tp_match);
	}
	e = ia_reserve_at(type, sizeof(*e), top ? top->entry_ns : 0);
	if (!e)
		return;
	e->hdr.req_id = id;
	e->hdr.flags |= folded;
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

/*
 * Keep the write in frame top instead of recording it now, for a later
 * record to send it with its own (top->pt_*, audit.bpf.h); a removal or
 * write kept before goes first, and so does a tracepoint's record this
 * write does not fold.
 */
static __always_inline void pt_keep(struct ia_frame *top, __u32 type, __u64 domain,
				    __u64 iova, __u64 paddr, __u64 size, __u64 result,
				    __u32 prot, bool tp_match)
{
	ia_pt_flush(top);
	top->pt_flags = tp_fold(top, type, tp_match);
	top->pt_type = type;
	top->pt_domain = domain;
	top->pt_iova = iova;
	top->pt_paddr = paddr;
	top->pt_size = size;
	top->pt_result = result;
	top->pt_prot = prot;
	top->pt_cpu = bpf_get_smp_processor_id();
	top->pt_kept = 1;
}

/*
 * A successful write of a __iommu_dma_map nested in a single map (map_page,
 * map_phys): kept in its frame, the first of the three records its root
 * sends in one reservation (struct ia_ev_req_bundle, requests.bpf.c).
 */
static __always_inline bool pt_map_keeps(struct ia_inflight *st, struct ia_frame *top,
					 int ret)
{
	__u32 d = st ? st->depth : 0;

	/* --free-hooks: a free on another CPU may report the page before the
	 * write went out */
	return !free_hooks && top && !ret && d >= 2 && top->kind == IA_REQ_IOMMU_MAP &&
	       top->req_id &&
	       top->req_id != IA_REQ_FILTERED &&
	       st->f[ia_slot(d - 2)].kind == IA_REQ_MAP_PAGE;
}

/* __iommu_map(domain, iova, paddr, size, prot, gfp) -> int */
static __always_inline void pt_map_done(const __u64 *a, __u64 ret, bool typed)
{
	struct ia_inflight *st = ia_inflight_get(false);
	struct ia_frame *top = ia_top(st);
	bool tp_match = top && !(int)ret && top->tp_iova == a[1] && top->tp_paddr == a[2] &&
			top->tp_size == a[3];

	if (pt_map_keeps(st, top, (int)ret))
		pt_keep(top, IA_EV_PT_MAP, a[0], a[1], a[2], a[3], 0, (__u32)a[4], tp_match);
	else
		pt_emit(top, IA_EV_PT_MAP, (struct iommu_domain *)a[0], a[1], a[2], a[3],
			(__s64)(int)ret, (__u32)a[4], tp_match);
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
	struct ia_frame *top = ia_top(ia_inflight_get(false));
	bool tp_match = top && top->tp_iova == a[1] && top->tp_size == a[2] &&
			top->tp_unmapped == ret;

	if (top && top->req_id && top->req_id != IA_REQ_FILTERED && !top->entry_ns) {
		/* an unmap's (lazy_time(), inflight.bpf.h): kept for its IOVA
		 * release, which sends it with its own record and time */
		pt_keep(top, IA_EV_PT_UNMAP, a[0], a[1], 0, a[2], ret, 0, tp_match);
	} else {
		pt_emit(top, IA_EV_PT_UNMAP, (struct iommu_domain *)a[0], a[1], 0, a[2],
			ret, 0, tp_match);
	}
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

/*
 * A tracepoint inside a request keeps its values in the frame for the
 * write's fexit, which fires right after it, to fold into its record;
 * outside one (or one kept already: send that first) it records at once.
 */
static __always_inline void tp_seen(__u32 type, __u64 iova, __u64 paddr, __u64 size,
				    __u64 unmapped)
{
	struct ia_frame *top = ia_top(ia_inflight_get(false));

	if (!top || top->req_id == IA_REQ_FILTERED) {
		pt_emit(top, type, NULL, iova, paddr, size, unmapped, 0, false);
		return;
	}
	ia_pt_flush(top);	/* an earlier removal goes first */
	ia_tp_flush(top);
	top->tp_iova = iova;
	top->tp_paddr = paddr;
	top->tp_size = size;
	top->tp_unmapped = unmapped;
	top->tp_cpu = bpf_get_smp_processor_id();
	top->tp_type = type;
}

/* raw BTF tracepoints have no kprobe fallback: the fexit hooks are the truth */
SEC("tp_btf/map")
int BPF_PROG(tp_map, unsigned long iova, phys_addr_t paddr, size_t size)
{
	tp_seen(IA_EV_TP_MAP, iova, paddr, size, 0);
	return 0;
}

SEC("tp_btf/unmap")
int BPF_PROG(tp_unmap, unsigned long iova, size_t size, size_t unmapped)
{
	tp_seen(IA_EV_TP_UNMAP, iova, 0, size, unmapped);
	return 0;
}
