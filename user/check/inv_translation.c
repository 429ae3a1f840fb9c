// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Invariant 1, translation: for every byte b of a request,
 * translate(domain, handle + b) == phys + b, where phys is the bounce slot
 * when the request was bounced. A violation means the device reads or writes
 * other memory than the driver's buffer: data corruption. A byte with no
 * translation at all means the device faults.
 *
 * The table dma_get_sgtable() exports for a coherent buffer is held to the
 * same rule, and to the extent of the mapping (translation.sgtable_mismatch).
 */
#include <inttypes.h>
#include "check/invariant.h"

enum { XL_OK, XL_UNMAPPED, XL_WRONG };

/*
 * The first byte of [iova, iova + len) that does not translate to phys plus
 * its offset: XL_OK, or XL_UNMAPPED / XL_WRONG with its IOVA in *at and (for
 * XL_WRONG) what it translates to in *got. A page-table run translates
 * linearly, so its first byte speaks for all of it.
 */
static int first_wrong(const struct ck_domain *d, __u64 iova, __u64 phys, __u64 len,
		       __u64 *at, __u64 *got)
{
	__u64 end = iova + len, cur = iova;

	while (cur < end) {
		__u64 run_end;

		*at = cur;
		if (!ck_translate(d, cur, got, &run_end))
			return XL_UNMAPPED;
		if (*got != phys + (cur - iova))
			return XL_WRONG;
		cur = run_end < end ? run_end : end;
	}
	return XL_OK;
}

/*
 * Check [iova, iova + len) -> [phys, ...). Returns 0, or reports a finding
 * (one per request: the first wrong byte) and returns -1.
 */
static int check_range(struct ck_ctx *x, __u64 iova, __u64 phys, __u64 len)
{
	struct ia_finding f;
	__u64 at, got;

	switch (first_wrong(x->dom, iova, phys, len, &at, &got)) {
	case XL_OK:
		return 0;
	case XL_UNMAPPED:
		ck_finding_init(x, &f, IA_INV_TRANSLATION, IA_SEV_ERROR, "translation.unmapped");
		snprintf(f.message, sizeof(f.message),
			 "IOVA 0x%" PRIx64 " (byte %" PRIu64 " of %" PRIu64
			 ") has no page-table entry: the device faults there",
			 (uint64_t)at, (uint64_t)(at - iova), (uint64_t)len);
		break;
	default:
		ck_finding_init(x, &f, IA_INV_TRANSLATION, IA_SEV_ERROR, "translation.wrong_phys");
		snprintf(f.message, sizeof(f.message),
			 "IOVA 0x%" PRIx64 " translates to 0x%" PRIx64
			 ", the buffer is at 0x%" PRIx64 ": the device reaches other memory",
			 (uint64_t)at, (uint64_t)got, (uint64_t)(phys + (at - iova)));
		break;
	}
	ck_report(x->c, &f);
	return -1;
}

/*
 * A scatterlist maps its input segments back to back in IOVA space: each
 * output segment (dma_address, dma_len) holds consecutive input segments,
 * the first at dma_address, each next one right after the previous.
 */
static void check_sg(struct ck_ctx *x, const struct ck_seg *ins, size_t nin,
		     const struct ck_seg *outs, size_t nout)
{
	size_t in = 0;

	for (size_t o = 0; o < nout && in < nin; o++) {
		const struct ck_seg *out = &outs[o];
		__u64 cur = out->dma, end = out->dma + out->dma_len;

		if (!out->dma_len)
			break;	/* past the last mapped segment */
		while (cur < end && in < nin) {
			const struct ck_seg *s = &ins[in++];

			/* untrusted devices: each segment may be bounced */
			if (check_range(x, cur, ck_bounced(x->p, s->phys), s->len))
				return;
			cur += s->len;
		}
	}
}

static void translation_map(struct ck_ctx *x)
{
	const struct ia_ev_req *r = x->req;
	const struct ck_pending *p = x->p;

	switch (r->kind) {
	case IA_REQ_MAP_PAGE:
	case IA_REQ_MAP_RESOURCE:
	case IA_REQ_IOVA_LINK:	/* state->addr + offset -> phys */
		check_range(x, r->dma, p->bounced ? p->bounce_tlb : r->phys, r->size);
		break;
	case IA_REQ_MAP_SG:
		check_sg(x, p->sg_in.v, p->sg_in.n, p->sg_out.v, p->sg_out.n);
		break;
	case IA_REQ_ALLOC_NONCONTIG:
		/* one walk of the allocated table: its entries are the pages,
		 * the first carries the single IOVA range they are mapped at */
		check_sg(x, p->sg_out.v, p->sg_out.n, p->sg_out.v, p->sg_out.n);
		break;
	case IA_REQ_ALLOC:
	case IA_REQ_ALLOC_PAGES:
		/* contiguous allocations map through __iommu_dma_map: its phys */
		if (p->has_child)
			check_range(x, r->dma, p->child_phys, r->size);
		break;
	}
}

/* Bytes of [a, b) the domain maps, and the first of them. */
struct span {
	__u64 a, b, bytes, first;
};

static int add_span(struct ia_inode *n, void *ctx)
{
	struct span *s = ctx;
	__u64 lo = n->start > s->a ? n->start : s->a, hi = n->end < s->b ? n->end : s->b;

	s->bytes += hi - lo;	/* shadow page-table entries never overlap */
	if (lo < s->first)
		s->first = lo;
	return 0;
}

static struct span mapped_span(const struct ck_domain *d, __u64 a, __u64 b)
{
	struct span s = { a, b, 0, b };

	if (d && a < b)
		ia_itree_overlaps(&d->pt, a, b, add_span, &s);
	return s;
}

/* Length of the live allocation whose handle the table was exported for;
 * the request's size when it is not known (allocated before the recording). */
static __u64 alloc_len(const struct ck_ctx *x)
{
	__u64 dma = x->req->dma;
	struct ia_inode *n = x->dom ? ia_itree_find(&x->dom->pt, dma) : NULL;
	const struct ck_ptmap *m = n ? ia_container_of(n, struct ck_ptmap, node) : NULL;
	const struct ck_owner *o = ia_u64map_get(&x->dev->orphans, dma);
	struct ck_owner own = m ? ck_ptmap_owner(x->c, m) : (struct ck_owner){ 0 };

	if (own.req_id && own.dma == dma)
		return own.len;
	return o ? o->len : x->req->size;
}

static __u64 align_up(__u64 v, __u64 a)
{
	return (v + a - 1) & ~(a - 1);
}

/*
 * translation.sgtable_mismatch, for a get_sgtable request: the exported
 * table describes the buffer from its start, which the device reaches at
 * the handle, so entry bytes laid end to end must translate from handle +
 * their offset (error otherwise: an importer of the table and the device
 * see different memory). And the mapping, the allocation's granule-aligned
 * IOVA range, must not reach beyond the CPU pages the table covers
 * (warning): dma-iommu exports PAGE_ALIGN(size) bytes, or size, while it
 * maps whole granules, so with a granule larger than the page the device
 * reaches memory the table does not describe.
 */
static void translation_sgtable(struct ck_ctx *x)
{
	const struct ia_ev_req *r = x->req;
	const struct ck_pending *p = x->p;
	__u64 g = x->granule, pg = x->page_size, exported = 0, at = 0, got = 0, want = 0;
	__u64 lo = r->dma & ~(g - 1), hi = align_up(r->dma + alloc_len(x), g);
	int why = XL_OK;
	struct span m, below, above;
	struct ia_finding f;

	for (size_t i = 0; i < p->sg_out.n; i++) {
		const struct ck_seg *s = &p->sg_out.v[i];

		if (why == XL_OK) {
			why = first_wrong(x->dom, r->dma + exported, s->phys, s->len, &at, &got);
			want = s->phys + (at - r->dma - exported);
		}
		exported += s->len;
	}
	m = mapped_span(x->dom, lo, hi);
	below = mapped_span(x->dom, lo, r->dma & ~(pg - 1));
	above = mapped_span(x->dom, align_up(r->dma + exported, pg), hi);
	if (why == XL_OK && !below.bytes && !above.bytes)
		return;

	ck_finding_init(x, &f, IA_INV_TRANSLATION, why == XL_OK ? IA_SEV_WARNING : IA_SEV_ERROR,
			"translation.sgtable_mismatch");
	f.phys = p->sg_out.n ? p->sg_out.v[0].phys : 0;
	f.exported_bytes = exported;
	f.mapped_bytes = m.bytes;
	if (why == XL_UNMAPPED) {
		f.diff_dma = at;
		snprintf(f.message, sizeof(f.message),
			 "exported table of handle 0x%" PRIx64 ": byte %" PRIu64 " (phys 0x%" PRIx64
			 ") is at IOVA 0x%" PRIx64 ", which has no translation",
			 (uint64_t)r->dma, (uint64_t)(at - r->dma), (uint64_t)want, (uint64_t)at);
	} else if (why == XL_WRONG) {
		f.diff_dma = at;
		snprintf(f.message, sizeof(f.message),
			 "exported table of handle 0x%" PRIx64 ": byte %" PRIu64 " is phys 0x%" PRIx64
			 ", but IOVA 0x%" PRIx64 " translates to 0x%" PRIx64,
			 (uint64_t)r->dma, (uint64_t)(at - r->dma), (uint64_t)want, (uint64_t)at,
			 (uint64_t)got);
	} else {
		f.diff_dma = below.bytes ? below.first : above.first;
		snprintf(f.message, sizeof(f.message),
			 "exported table of handle 0x%" PRIx64 " describes %" PRIu64 " bytes, the IOMMU"
			 " maps %" PRIu64 " (granule %" PRIu64 "): IOVA 0x%" PRIx64
			 " is reachable but not in the table",
			 (uint64_t)r->dma, (uint64_t)exported, (uint64_t)m.bytes, (uint64_t)g,
			 (uint64_t)f.diff_dma);
	}
	ck_report(x->c, &f);
}

const struct ck_invariant ck_inv_translation = {
	.name = "translation",
	.map = translation_map,
	.sgtable = translation_sgtable,
};
