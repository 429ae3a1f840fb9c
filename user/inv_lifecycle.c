// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Invariant 4, lifecycle: what CONFIG_DMA_API_DEBUG checks, without a
 * rebuilt kernel. Every root map registers a live mapping of its device;
 * unmaps, frees and syncs are checked against them:
 *
 *   lifecycle.unmap_unknown  unmap/free of a handle never mapped (and with
 *                            nothing in the page tables to remove)
 *   lifecycle.double_unmap   unmap of a handle already unmapped
 *   lifecycle.size_mismatch  unmap/free size differs from the map's
 *   lifecycle.dir_mismatch   unmap direction differs from the map's
 *   lifecycle.wrong_kind     e.g. dma_unmap_page of a dma_map_sg handle
 *   lifecycle.pt_leftover    page-table entries of the mapping still there
 *                            after its unmap
 *   lifecycle.sync_outside   a sync of bytes no live mapping holds
 *   lifecycle.live_at_end    mappings still live when the run ended (info:
 *                            ring buffers are; leaks are too)
 *
 * A mapping made before the recording started is not known: its unmap
 * removes page-table entries, which tells it apart from a handle never
 * mapped, and it is counted as pre-existing instead of reported.
 */
#include <inttypes.h>
#include <stdlib.h>
#include "check_int.h"
#include "devstats.h"

/* The map kind each unmap kind undoes. */
static __u32 map_kind_of(__u32 unmap)
{
	switch (unmap) {
	case IA_REQ_UNMAP_PAGE:		return IA_REQ_MAP_PAGE;
	case IA_REQ_UNMAP_SG:		return IA_REQ_MAP_SG;
	case IA_REQ_UNMAP_RESOURCE:	return IA_REQ_MAP_RESOURCE;
	case IA_REQ_FREE:		return IA_REQ_ALLOC;
	case IA_REQ_FREE_NONCONTIG:	return IA_REQ_ALLOC_NONCONTIG;
	case IA_REQ_FREE_PAGES:		return IA_REQ_ALLOC_PAGES;
	default:			return 0;
	}
}

/* Length a map request covers, as its unmap must repeat it. */
static __u64 map_len(const struct ck_ctx *x)
{
	const struct ck_pending *p = x->p;
	__u64 len = 0;

	if (x->req->kind != IA_REQ_MAP_SG)
		return x->req->size;
	for (size_t i = 0; i < p->sg_out.n && p->sg_out.v[i].dma_len; i++)
		len = p->sg_out.v[i].dma + p->sg_out.v[i].dma_len - x->req->dma;
	return len ? len : 1;
}

void ck_inv_lifecycle_map(struct ck_ctx *x)
{
	struct ck_map *m = calloc(1, sizeof(*m));
	struct ck_pt req[64];
	int n;

	if (!m) {
		x->c->oom = true;
		return;
	}
	m->req_id = x->req->hdr.req_id;
	m->kind = x->req->kind;
	m->dir = x->req->dir;
	m->stack_id = x->req->stack_id;
	m->iova.start = x->req->dma;
	m->iova.end = x->req->dma + map_len(x);
	m->iova_lo = ~0ULL;
	for (size_t i = 0; i < x->p->maps.n; i++) {
		const struct ck_pt *w = &x->p->maps.v[i];

		if (w->result)
			continue;
		if (w->iova < m->iova_lo)
			m->iova_lo = w->iova;
		if (w->iova + w->size > m->iova_hi)
			m->iova_hi = w->iova + w->size;
	}
	/* the phys range other requests' exposure is measured against */
	n = ck_requested_ranges(x, req, 64);
	if (n > 0) {
		m->phys.start = req[0].paddr;
		m->phys.end = req[n - 1].paddr + req[n - 1].size;
		ia_itree_insert(&x->dev->live_phys, &m->phys);
	}
	ia_itree_insert(&x->dev->live, &m->iova);
	ia_u64map_del(&x->dev->unmapped, x->req->dma);
	x->c->live_maps++;
}

struct find_handle {
	__u64 dma;
	struct ck_map *hit;
};

static int match_handle(struct ia_inode *n, void *ctx)
{
	struct find_handle *f = ctx;

	if (n->start != f->dma)
		return 0;
	f->hit = ia_container_of(n, struct ck_map, iova);
	return 1;
}

static void drop_map(struct ck_ctx *x, struct ck_map *m)
{
	ia_itree_remove(&x->dev->live, &m->iova);
	if (m->phys.end)
		ia_itree_remove(&x->dev->live_phys, &m->phys);
	x->c->live_maps--;
	free(m);
}

static void lifecycle_finding(struct ck_ctx *x, const char *code, const char *msg)
{
	struct ia_finding f;

	ck_finding_init(x, &f, IA_INV_LIFECYCLE, IA_SEV_ERROR, code);
	snprintf(f.message, sizeof(f.message), "%s", msg);
	ck_report(x->c, &f);
}

struct leftover {
	__u64 bytes;
};

static int count_left(struct ia_inode *n, void *ctx)
{
	((struct leftover *)ctx)->bytes += n->end - n->start;
	return 0;
}

void ck_inv_lifecycle_unmap(struct ck_ctx *x)
{
	const struct ia_ev_req *r = x->req;
	struct find_handle fh = { r->dma, NULL };
	__u64 removed = 0;
	char msg[200];

	for (size_t i = 0; i < x->p->unmaps.n; i++)
		removed += x->p->unmaps.v[i].size;
	ia_itree_overlaps(&x->dev->live, r->dma, r->dma + 1, match_handle, &fh);
	if (!fh.hit) {
		if (ia_u64map_get(&x->dev->unmapped, r->dma)) {
			snprintf(msg, sizeof(msg), "%s of handle 0x%" PRIx64 ", already unmapped",
				 ia_req_kind_str(r->kind), (uint64_t)r->dma);
			lifecycle_finding(x, "lifecycle.double_unmap", msg);
		} else if (removed) {
			x->dev->stats.preexisting++;	/* mapped before we started */
		} else {
			snprintf(msg, sizeof(msg), "%s of handle 0x%" PRIx64
				 " (%" PRIu64 " bytes), which was never mapped",
				 ia_req_kind_str(r->kind), (uint64_t)r->dma, (uint64_t)r->size);
			lifecycle_finding(x, "lifecycle.unmap_unknown", msg);
		}
		return;
	}
	if (map_kind_of(r->kind) != fh.hit->kind) {
		snprintf(msg, sizeof(msg), "%s of a handle made by %s", ia_req_kind_str(r->kind),
			 ia_req_kind_str(fh.hit->kind));
		lifecycle_finding(x, "lifecycle.wrong_kind", msg);
	} else if (r->kind != IA_REQ_UNMAP_SG && r->kind != IA_REQ_FREE_NONCONTIG &&
		   r->size != fh.hit->iova.end - fh.hit->iova.start) {
		snprintf(msg, sizeof(msg), "%s of handle 0x%" PRIx64 " with size %" PRIu64
			 ", mapped with size %" PRIu64, ia_req_kind_str(r->kind),
			 (uint64_t)r->dma, (uint64_t)r->size,
			 (uint64_t)(fh.hit->iova.end - fh.hit->iova.start));
		lifecycle_finding(x, "lifecycle.size_mismatch", msg);
	} else if (r->kind != IA_REQ_FREE && r->dir != fh.hit->dir) {
		snprintf(msg, sizeof(msg), "%s of handle 0x%" PRIx64 " with direction %u,"
			 " mapped with direction %u", ia_req_kind_str(r->kind),
			 (uint64_t)r->dma, r->dir, fh.hit->dir);
		lifecycle_finding(x, "lifecycle.dir_mismatch", msg);
	}
	if (x->dom && fh.hit->iova_hi > fh.hit->iova_lo) {
		struct leftover l = { 0 };

		ia_itree_overlaps(&x->dom->pt, fh.hit->iova_lo, fh.hit->iova_hi, count_left, &l);
		if (l.bytes) {
			snprintf(msg, sizeof(msg), "%" PRIu64 " bytes of the mapping at IOVA 0x%"
				 PRIx64 " still in the page tables after %s",
				 (uint64_t)l.bytes, (uint64_t)fh.hit->iova_lo,
				 ia_req_kind_str(r->kind));
			lifecycle_finding(x, "lifecycle.pt_leftover", msg);
		}
	}
	drop_map(x, fh.hit);
	if (ia_u64map_put(&x->dev->unmapped, r->dma, (void *)1))
		x->c->oom = true;
}

struct contains {
	__u64 start, end;
	bool inside;
};

static int holds(struct ia_inode *n, void *ctx)
{
	struct contains *c = ctx;

	if (n->start <= c->start && n->end >= c->end) {
		c->inside = true;
		return 1;
	}
	return 0;
}

void ck_inv_lifecycle_sync(struct ck_ctx *x)
{
	const struct ia_ev_req *r = x->req;
	struct contains c = { r->dma, r->dma + (r->size ? r->size : 1), false };
	__u64 phys, end;
	char msg[200];

	if (r->kind == IA_REQ_SYNC_SG_CPU || r->kind == IA_REQ_SYNC_SG_DEV)
		c.end = r->dma + 1;	/* the list's extent is not recorded */
	ia_itree_overlaps(&x->dev->live, c.start, c.end, holds, &c);
	if (c.inside)
		return;
	/* a mapping made before the recording still has its page tables */
	if (ck_translate(x->dom, r->dma, &phys, &end) && end >= c.end)
		return;
	snprintf(msg, sizeof(msg), "%s of 0x%" PRIx64 "+%" PRIu64
		 " outside any live mapping of the device", ia_req_kind_str(r->kind),
		 (uint64_t)r->dma, (uint64_t)r->size);
	lifecycle_finding(x, "lifecycle.sync_outside", msg);
}

struct live_ctx {
	struct ia_checker *c;
	struct ck_device *d;
};

static int report_live(struct ia_inode *n, void *ctx)
{
	struct live_ctx *l = ctx;
	const struct ck_map *m = ia_container_of(n, struct ck_map, iova);
	struct ia_finding f;

	ck_finding_init_dev(l->c, l->d, &f, IA_INV_LIFECYCLE, IA_SEV_INFO,
			    "lifecycle.live_at_end", m->stack_id);
	f.req_kind = m->kind;
	f.req_id = m->req_id;
	f.dma = n->start;
	f.len = n->end - n->start;
	snprintf(f.message, sizeof(f.message), "%s of %" PRIu64
		 " bytes at handle 0x%" PRIx64 " still mapped at the end of the run",
		 ia_req_kind_str(m->kind), (uint64_t)f.len, (uint64_t)f.dma);
	ck_report(l->c, &f);
	return 0;
}

void ck_inv_lifecycle_finish(struct ia_checker *c)
{
	for (size_t i = 0; i < c->devlist.n; i++) {
		struct live_ctx l = { c, c->devlist.v[i] };

		ia_itree_each(&c->devlist.v[i]->live, report_live, &l);
	}
}
