// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Invariant 1, translation: for every byte b of a request,
 * translate(domain, handle + b) == phys + b, where phys is the bounce slot
 * when the request was bounced. A violation means the device reads or writes
 * other memory than the driver's buffer: data corruption. A byte with no
 * translation at all means the device faults.
 */
#include <inttypes.h>
#include "check_int.h"

/*
 * Check [iova, iova + len) -> [phys, ...). Returns 0, or reports a finding
 * (one per request: the first wrong byte) and returns -1.
 */
static int check_range(struct ck_ctx *x, __u64 iova, __u64 phys, __u64 len)
{
	__u64 end = iova + len, cur = iova;

	while (cur < end) {
		__u64 got, run_end, want = phys + (cur - iova);
		struct ia_finding f;

		if (!ck_translate(x->dom, cur, &got, &run_end)) {
			ck_finding_init(x, &f, IA_INV_TRANSLATION, IA_SEV_ERROR,
					"translation.unmapped");
			snprintf(f.message, sizeof(f.message),
				 "IOVA 0x%" PRIx64 " (byte %" PRIu64 " of %" PRIu64
				 ") has no page-table entry: the device faults there",
				 (uint64_t)cur, (uint64_t)(cur - iova), (uint64_t)len);
			ck_report(x->c, &f);
			return -1;
		}
		if (got != want) {
			ck_finding_init(x, &f, IA_INV_TRANSLATION, IA_SEV_ERROR,
					"translation.wrong_phys");
			snprintf(f.message, sizeof(f.message),
				 "IOVA 0x%" PRIx64 " translates to 0x%" PRIx64
				 ", the buffer is at 0x%" PRIx64 ": the device reaches other memory",
				 (uint64_t)cur, (uint64_t)got, (uint64_t)want);
			ck_report(x->c, &f);
			return -1;
		}
		cur = run_end < end ? run_end : end;
	}
	return 0;
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

void ck_inv_translation(struct ck_ctx *x)
{
	const struct ia_ev_req *r = x->req;
	const struct ck_pending *p = x->p;

	switch (r->kind) {
	case IA_REQ_MAP_PAGE:
	case IA_REQ_MAP_RESOURCE:
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
