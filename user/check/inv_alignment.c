// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Invariant 3, alignment:
 *   alignment.pt_refused    the IOMMU refused a page-table write (e.g. an
 *                           "iommu: unaligned" refusal): the map failed
 *   alignment.pt_unaligned  a write whose IOVA, paddr or size is not a
 *                           multiple of the granule
 *   alignment.offset        handle % granule != phys % granule
 *   alignment.seg_boundary  an output segment crosses the segment boundary
 *   alignment.max_seg_size  an output segment longer than max_segment_size
 *   alignment.dma_mask      handle + len - 1 above min(dma_mask, bus limit)
 * All errors: on a correct kernel none of them happens.
 */
#include <inttypes.h>
#include "check/invariant.h"

static void report(struct ck_ctx *x, const char *code, const char *fmt, __u64 a, __u64 b,
		   __u64 c)
{
	struct ia_finding f;

	ck_finding_init(x, &f, IA_INV_ALIGNMENT, IA_SEV_ERROR, code);
	snprintf(f.message, sizeof(f.message), fmt, (uint64_t)a, (uint64_t)b, (uint64_t)c);
	ck_report(x->c, &f);
}

static void check_writes(struct ck_ctx *x)
{
	__u64 g = x->granule;

	for (size_t i = 0; i < x->p->maps.n; i++) {
		const struct ck_pt *w = &x->p->maps.v[i];

		if (w->result) {
			report(x, "alignment.pt_refused",
			       "page-table write of IOVA 0x%" PRIx64 " -> phys 0x%" PRIx64
			       " refused with error %" PRId64, w->iova, w->paddr,
			       (__u64)w->result);
			return;
		}
		if ((w->iova | w->paddr | w->size) & (g - 1)) {
			report(x, "alignment.pt_unaligned",
			       "page-table write IOVA 0x%" PRIx64 " phys 0x%" PRIx64
			       " size 0x%" PRIx64 " is not granule-aligned",
			       w->iova, w->paddr, w->size);
			return;
		}
	}
}

static void check_offset(struct ck_ctx *x)
{
	const struct ia_ev_req *r = x->req;
	__u64 phys = x->p->bounced ? x->p->bounce_tlb : r->phys;
	__u64 g = x->granule;

	if ((r->dma & (g - 1)) != (phys & (g - 1)))
		report(x, "alignment.offset",
		       "handle 0x%" PRIx64 " and phys 0x%" PRIx64
		       " differ in their offset within the granule (%" PRIu64 ")",
		       r->dma, phys, g);
}

static void check_segments(struct ck_ctx *x)
{
	const struct ia_ev_device *d = &x->dev->ctx;

	if (!x->dev->has_ctx)
		return;
	for (size_t i = 0; i < x->p->sg_out.n; i++) {
		const struct ck_seg *s = &x->p->sg_out.v[i];
		__u64 last = s->dma + s->dma_len - 1;

		if (!s->dma_len)
			break;
		if ((s->dma ^ last) & ~d->seg_boundary) {
			report(x, "alignment.seg_boundary",
			       "segment 0x%" PRIx64 "+0x%" PRIx64
			       " crosses the segment boundary (mask 0x%" PRIx64 ")",
			       s->dma, s->dma_len, d->seg_boundary);
			return;
		}
		if (d->max_seg_size && s->dma_len > d->max_seg_size) {
			report(x, "alignment.max_seg_size",
			       "segment 0x%" PRIx64 " is %" PRIu64
			       " bytes, above max_segment_size %" PRIu64,
			       s->dma, s->dma_len, d->max_seg_size);
			return;
		}
	}
}

static void check_limit(struct ck_ctx *x)
{
	const struct ia_ev_device *d = &x->dev->ctx;
	const struct ia_ev_req *r = x->req;
	__u64 limit, last;

	if (!x->dev->has_ctx || !d->dma_mask)
		return;
	limit = r->kind == IA_REQ_ALLOC ? d->coherent_dma_mask : d->dma_mask;
	if (d->bus_dma_limit && d->bus_dma_limit < limit)
		limit = d->bus_dma_limit;
	last = r->dma + (r->size ? r->size - 1 : 0);
	if (r->kind == IA_REQ_MAP_SG)	/* the first output segment's end */
		last = x->p->sg_out.n ? r->dma + x->p->sg_out.v[0].dma_len - 1 : r->dma;
	if (last > limit)
		report(x, "alignment.dma_mask",
		       "handle 0x%" PRIx64 " ends at 0x%" PRIx64 ", above the DMA limit 0x%" PRIx64,
		       r->dma, last, limit);
}

static void alignment_check(struct ck_ctx *x)
{
	check_writes(x);
	if (x->req->hdr.flags & IA_REQ_F_FAILED)
		return;
	if (x->req->kind == IA_REQ_MAP_PAGE || x->req->kind == IA_REQ_MAP_RESOURCE ||
	    x->req->kind == IA_REQ_IOVA_LINK)
		check_offset(x);
	if (x->req->kind == IA_REQ_MAP_SG)
		check_segments(x);
	check_limit(x);
}

const struct ck_invariant ck_inv_alignment = {
	.name = "alignment",
	.map = alignment_check,
	.map_failed = alignment_check,	/* refused writes matter for failed maps too */
};
