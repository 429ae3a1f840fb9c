// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Lazy invalidation. In a DMA-FQ domain __iommu_dma_unmap() clears the page
 * table but defers the IOTLB flush: the device can still reach the old pages
 * through stale IOTLB entries until the flush queue is flushed
 * (fq_flush_iotlb). The time between the two is the temporal exposure.
 */
#include "audit.bpf.h"
#include "release.bpf.h"
#include "frees.bpf.h"
#include "fqseen.bpf.h"

/*
 * The unmap's own record made here too (struct ia_ev_unmap_bundle): an
 * unmap_page's or unmap_resource's, which calls __iommu_dma_unmap() with
 * its own handle and size (dma-iommu, 6.1 to 7.2) and holds nothing else
 * but the direction and attributes its entry saved (inflight.bpf.h). One
 * reservation, one header and one submission a pair fewer; its exit then
 * pops the frame (requests.bpf.c: unmap_done()). Its values and time are
 * the ones its exit gave it (ts_ns: the release's; entry_ns the same).
 * What a nested map kept goes first, as any other exit sends it.
 */
static __always_inline void unmap_bundle(struct ia_inflight *st, struct ia_frame *top,
					 const __u64 *a)
{
	struct ia_ev_unmap_bundle *b;
	__u32 d = st->depth;
	__u64 ts;

	ia_kept_flush(st);
	b = ia_reserve(IA_EV_UNMAP_BUNDLE, sizeof(*b));
	if (!b) {
		/* the removal and the release lost (the request's record
		 * is tried again at its exit) */
		top->pt_kept = 0;
		if (armed)
			ia_drop(IA_DROP_RINGBUF);
		return;
	}
	ts = b->req.hdr.ts_ns;
	top->pt_kept = 0;
	ia_pt_fill(&b->pt, top, ts);
	b->rel.hdr = b->req.hdr;
	b->rel.hdr.type = IA_EV_IOVA_FREE;
	b->rel.hdr.size = sizeof(b->rel);
	ia_iova_fill(&b->rel, top->req_id, (struct device *)a[0], top->domain,
		     top->fq_cookie != 0, a[1], a[2]);
	__builtin_memset((void *)&b->req + sizeof(b->req.hdr), 0,
			 sizeof(b->req) - sizeof(b->req.hdr));
	b->req.hdr.req_id = top->req_id;
	b->req.dev = a[0];
	b->req.parent_id = d >= 2 && d <= inflight_depth ? st->f[ia_slot(d - 2)].req_id : 0;
	b->req.stack_id = top->stack_id;
	b->req.kind = top->unmap_flags & IA_UNMAP_MMIO ? IA_REQ_UNMAP_RESOURCE : top->kind;
	b->req.dma = a[1];
	b->req.size = a[2];
	b->req.dir = top->args[3];
	b->req.attrs = top->args[4];
	b->req.entry_ns = top->entry_ns ? top->entry_ns : ts;
	top->last_ns = ts;
	top->unmap_flags |= IA_UNMAP_SENT;
	ia_submit(b);
}

/*
 * __iommu_dma_unmap(dev, dma_addr, size). Inside the device's request (an
 * unmap, a free: every caller's), its frame holds the domain and whether
 * it is lazy as that request's entry read them. The record reads the
 * clock: it starts the lazy window, which production mode measures from
 * this same exit (the VM case compares their histograms bucket by
 * bucket; the request's entry time made windows longer by the unmap's
 * duration, and one crossed a bucket's bound in CI).
 */
static __always_inline void iova_unmap_done(const __u64 *a, __u64 ret, bool typed)
{
	struct ia_inflight *st = ia_inflight_get(false);
	struct ia_frame *top = ia_top(st);
	struct ia_ev_bundle *b;

	if (top && top->dev == a[0] && top->pt_kept && top->pt_type == IA_EV_PT_UNMAP &&
	    (top->kind == IA_REQ_UNMAP_PAGE || top->kind == IA_REQ_UNMAP_RESOURCE) &&
	    !(top->unmap_flags & IA_UNMAP_SENT)) {
		unmap_bundle(st, top, a);
	} else if (top && top->dev == a[0] && top->pt_kept && top->pt_type == IA_EV_PT_UNMAP) {
		/* the removal kept for this release (only a request not
		 * filtered out keeps one: pgtable.bpf.c), in one reservation */
		top->pt_kept = 0;
		b = ia_reserve(IA_EV_BUNDLE, sizeof(*b));
		if (!b)
			return;
		ia_pt_fill(&b->pt, top, b->hdr.ts_ns);
		b->rel.hdr = b->hdr;
		b->rel.hdr.type = IA_EV_IOVA_FREE;
		b->rel.hdr.size = sizeof(b->rel);
		ia_iova_fill(&b->rel, top->req_id, (struct device *)a[0], top->domain,
			     top->fq_cookie != 0, a[1], a[2]);
		b->hdr.req_id = top->req_id;
		top->last_ns = b->hdr.ts_ns;
		ia_submit(b);
	} else if (top && top->dev == a[0])
		/* the request's record takes this time (requests.bpf.c) */
		top->last_ns = ia_iova_emit(top->req_id, (struct device *)a[0], top->domain,
					    top->fq_cookie != 0, a[1], a[2], 0);
	else
		ia_iova_release(top ? top->req_id : 0, (struct device *)a[0], a[1],
				a[2], true);
}

static __always_inline void fq_flush_emit(__u64 cookie)
{
	struct ia_ev_fq_flush *e;

	if (free_hooks)	/* the cookie may be a typed pointer (fexit) */
		ia_frees_flush(ia_addr((void *)cookie));
	e = ia_reserve(IA_EV_FQ_FLUSH, sizeof(*e));
	if (!e)
		return;
	e->cookie = cookie;
	ia_submit(e);
}

/* fq_flush_iotlb(cookie), 6.1 and 6.12 */
static __always_inline void fq_flush_done(const __u64 *a, __u64 ret, bool typed)
{
	fq_flush_emit(a[0]);
}

/* 7.x: a flush seen at fq_ring_free_locked() (fqseen.bpf.h) */
static __always_inline void fq_ring_free_seen(const __u64 *a, __u64 ret)
{
	if (ia_fq_flush_moved(a[0]))
		fq_flush_emit(a[0]);
}

IA_FEXIT_VOID(iova_unmap, __iommu_dma_unmap, iova_unmap_done)
IA_FEXIT_VOID(fq_flush, fq_flush_iotlb, fq_flush_done)

SEC("fentry/fq_ring_free_locked")	/* 7.x */
int fq_ring_free(__u64 *ctx)
{
	fq_ring_free_seen(ctx, 0);
	return 0;
}

SEC("kprobe/fq_ring_free_locked")
int fq_ring_free_k(struct pt_regs *regs)
{
	__u64 a[IA_MAX_ARGS];

	ia_regs_args(regs, a);
	fq_ring_free_seen(a, 0);
	return 0;
}

IA_KPROBE_STASHED(iova_unmap, __iommu_dma_unmap, IA_STASH_IOVA_UNMAP, iova_unmap_done)
IA_KPROBE_STASHED(fq_flush, fq_flush_iotlb, IA_STASH_FQ_FLUSH, fq_flush_done)
