// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unfolding the ring buffer's folded records (live/ringfold.h). The
 * tracepoint's record is rebuilt as bpf/pgtable.bpf.c's tp_seen() and
 * ia_tp_flush() make it: the write's header (same CPU, task, time and
 * request: the fold is only made when they are), no domain (the
 * tracepoints carry none), the write's iova and size, its paddr for a map
 * (0 for an unmap), result 0 for a map and the bytes unmapped for an unmap,
 * no prot.
 */
#include <string.h>
#include "live/ringfold.h"

int ia_ringfold(const struct ia_ev_hdr *rec, size_t len, ia_ringfold_fn fn, void *ctx)
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
