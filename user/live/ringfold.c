// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unfolding the ring buffer's folded records (live/ringfold.h). The
 * tracepoint's record is rebuilt as bpf/pgtable.bpf.c's tp_seen() and
 * ia_tp_flush() make it: the write's header (same CPU, task, time and
 * request: the fold is only made when they are), no domain (the
 * tracepoints carry none), the write's iova and size, its paddr for a map
 * (0 for an unmap), result 0 for a map and the bytes unmapped for an unmap,
 * no prot. A map's bundle passes its write, its nested request's record
 * and its own, in the order the programs made them.
 */
#include <string.h>
#include "live/ringfold.h"

static int unfold_pt(const struct ia_ev_hdr *rec, size_t len, ia_ringfold_fn fn, void *ctx)
{
	struct ia_ev_pt pt, tp;
	int ret;

	if (len < sizeof(pt) || rec->size != sizeof(pt) ||
	    (rec->type != IA_EV_PT_MAP && rec->type != IA_EV_PT_UNMAP) ||
	    !(rec->flags & IA_PT_TP_FOLDED))
		return fn(ctx, rec, len);
	/* the ring's pages are mapped read-only: work on copies */
	memcpy(&pt, rec, sizeof(pt));
	pt.hdr.flags &= ~IA_PT_TP_FOLDED;
	tp = pt;
	tp.hdr.type = pt.hdr.type == IA_EV_PT_MAP ? IA_EV_TP_MAP : IA_EV_TP_UNMAP;
	tp.domain = 0;
	if (pt.hdr.type == IA_EV_PT_MAP)
		tp.result = 0;
	else
		tp.paddr = 0;
	tp.prot = 0;
	tp.pad = 0;
	ret = fn(ctx, &tp.hdr, sizeof(tp));
	if (ret < 0)
		return ret;
	return fn(ctx, &pt.hdr, sizeof(pt));
}

/*
 * A map's bundle (struct ia_ev_req_bundle): the write, unfolded in turn,
 * then the nested request's record, then the map's own as an IA_EV_REQ of
 * its own size. One whose parts do not say what its layout holds passes
 * as it is, for fn to reject.
 */
static int unfold_req(const struct ia_ev_hdr *rec, size_t len, ia_ringfold_fn fn, void *ctx)
{
	struct ia_ev_req_bundle b;
	int ret;

	if (len < sizeof(b) || rec->size != sizeof(b))
		return fn(ctx, rec, len);
	memcpy(&b, rec, sizeof(b));
	if (b.pt.hdr.type != IA_EV_PT_MAP || b.pt.hdr.size != sizeof(b.pt) ||
	    b.inner.hdr.type != IA_EV_REQ || b.inner.hdr.size != sizeof(b.inner))
		return fn(ctx, rec, len);
	ret = unfold_pt(&b.pt.hdr, sizeof(b.pt), fn, ctx);
	if (ret < 0)
		return ret;
	ret = fn(ctx, &b.inner.hdr, sizeof(b.inner));
	if (ret < 0)
		return ret;
	b.req.hdr.type = IA_EV_REQ;
	b.req.hdr.size = sizeof(b.req);
	return fn(ctx, &b.req.hdr, sizeof(b.req));
}

/*
 * A bundle (struct ia_ev_bundle: an unmap's removal and its IOVA release)
 * passes its two records, the removal unfolded in turn; one whose inner
 * headers do not say what its layout holds passes as it is, for fn to
 * reject (a ring record of a type no trace has).
 */
int ia_ringfold(const struct ia_ev_hdr *rec, size_t len, ia_ringfold_fn fn, void *ctx)
{
	struct ia_ev_bundle b;
	int ret;

	if (len >= sizeof(*rec) && rec->type == IA_EV_REQ_BUNDLE)
		return unfold_req(rec, len, fn, ctx);
	if (len < sizeof(*rec) || rec->type != IA_EV_BUNDLE)
		return unfold_pt(rec, len, fn, ctx);
	if (len < sizeof(b) || rec->size != sizeof(b))
		return fn(ctx, rec, len);
	memcpy(&b, rec, sizeof(b));
	if (b.pt.hdr.type != IA_EV_PT_UNMAP || b.pt.hdr.size != sizeof(b.pt) ||
	    b.rel.hdr.type != IA_EV_IOVA_FREE || b.rel.hdr.size != sizeof(b.rel))
		return fn(ctx, rec, len);
	ret = unfold_pt(&b.pt.hdr, sizeof(b.pt), fn, ctx);
	if (ret < 0)
		return ret;
	return fn(ctx, &b.rel.hdr, sizeof(b.rel));
}
