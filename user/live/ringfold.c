// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unfolding the ring buffer's folded records (live/ringfold.h). The
 * tracepoint's record is rebuilt as bpf/pgtable.bpf.c's tp_seen() and
 * ia_tp_flush() make it: the write's header (same CPU, task, time and
 * request: the fold is only made when they are), no domain (the
 * tracepoints carry none), the write's iova and size, its paddr for a map
 * (0 for an unmap), result 0 for a map and the bytes unmapped for an unmap,
 * no prot. A map's bundle passes its write, its nested request's record
 * and its own, an unmap's its removal, its release and its own, in the
 * order the programs made them.
 */
#include <stddef.h>
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
 * The bundles (several whole records in one reservation) and their parts,
 * in the order they are passed on: each part must say it is what its
 * layout holds (type, size), except a part at offset 0, the bundle's own
 * header, which passes as a record of type as_type and its own size.
 */
struct fold_part {
	__u16 off, size;
	__u16 type;		/* what the part must say it is; 0: the bundle's
				 * own header */
	__u16 as_type;		/* for the bundle's own header */
};

static const struct fold {
	__u16 type, size;
	int n;
	struct fold_part p[3];
} folds[] = {
	/* an unmap's removal and its IOVA release */
	{ IA_EV_BUNDLE, sizeof(struct ia_ev_bundle), 2, {
		{ offsetof(struct ia_ev_bundle, pt), sizeof(struct ia_ev_pt), IA_EV_PT_UNMAP, 0 },
		{ offsetof(struct ia_ev_bundle, rel), sizeof(struct ia_ev_iova_free),
		  IA_EV_IOVA_FREE, 0 } } },
	/* a map's write, its nested request's record, then its own */
	{ IA_EV_REQ_BUNDLE, sizeof(struct ia_ev_req_bundle), 3, {
		{ offsetof(struct ia_ev_req_bundle, pt), sizeof(struct ia_ev_pt), IA_EV_PT_MAP, 0 },
		{ offsetof(struct ia_ev_req_bundle, inner), sizeof(struct ia_ev_req), IA_EV_REQ, 0 },
		{ 0, sizeof(struct ia_ev_req), 0, IA_EV_REQ } } },
	/* an unmap's removal, its release, then its own record */
	{ IA_EV_UNMAP_BUNDLE, sizeof(struct ia_ev_unmap_bundle), 3, {
		{ offsetof(struct ia_ev_unmap_bundle, pt), sizeof(struct ia_ev_pt),
		  IA_EV_PT_UNMAP, 0 },
		{ offsetof(struct ia_ev_unmap_bundle, rel), sizeof(struct ia_ev_iova_free),
		  IA_EV_IOVA_FREE, 0 },
		{ 0, sizeof(struct ia_ev_req), 0, IA_EV_REQ } } },
};

union fold_buf {
	struct ia_ev_bundle b;
	struct ia_ev_req_bundle rb;
};

/*
 * A bundle passes its records, a page-table write among them unfolded in
 * turn; one whose parts do not say what its layout holds passes as it is,
 * for fn to reject (a ring record of a type no trace has).
 */
int ia_ringfold(const struct ia_ev_hdr *rec, size_t len, ia_ringfold_fn fn, void *ctx)
{
	const struct fold *f = NULL;
	union fold_buf own;
	int ret;

	for (size_t i = 0; len >= sizeof(*rec) && i < sizeof(folds) / sizeof(folds[0]); i++)
		if (rec->type == folds[i].type)
			f = &folds[i];
	if (!f)
		return unfold_pt(rec, len, fn, ctx);
	if (len < f->size || rec->size != f->size)
		return fn(ctx, rec, len);
	/* the ring is read where it lies (its pages are mapped read-only,
	 * and fn only reads): only the part that is the bundle's own header
	 * is copied, to say what it is (the reader's work per record is
	 * what a busy run's ring waits on, docs/benchmarks.md) */
	for (int k = 0; k < f->n; k++) {
		const struct ia_ev_hdr *h = (const void *)((const char *)rec + f->p[k].off);

		if (f->p[k].type && (h->type != f->p[k].type || h->size != f->p[k].size))
			return fn(ctx, rec, len);
	}
	for (int k = 0; k < f->n; k++) {
		const struct ia_ev_hdr *h = (const void *)((const char *)rec + f->p[k].off);

		if (!f->p[k].type) {
			memcpy(&own, h, f->p[k].size);
			own.b.hdr.type = f->p[k].as_type;
			own.b.hdr.size = f->p[k].size;
			h = &own.b.hdr;
		}
		ret = unfold_pt(h, f->p[k].size, fn, ctx);
		if (ret < 0)
			return ret;
	}
	return 0;
}
