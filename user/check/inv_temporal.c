// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Invariant 5, temporal exposure under lazy invalidation. In a DMA-FQ domain
 * an unmap clears the page tables but queues the IOTLB flush: the device can
 * still reach the old pages through stale IOTLB entries until the flush
 * queue is flushed. Each queued unmap is kept (by phys) until the flush of
 * its cookie:
 *
 *   temporal.lazy_window          unmapped memory reachable until the flush;
 *                                 value = the longest window, ns (info)
 *   temporal.reuse_before_flush   pages mapped again in another domain while
 *                                 a stale IOTLB entry may still reach them
 *                                 (warning: the old device can still read or
 *                                 write the new owner's data)
 *   temporal.unflushed_at_end     queued unmaps not flushed when the run
 *                                 ended (info)
 */
#include <inttypes.h>
#include <stdlib.h>
#include "check/invariant.h"

static void temporal_iova_free(struct ia_checker *c, const struct ia_ev_iova_free *e,
			       const struct ck_pending *p)
{
	struct ck_device *d = ck_device_find(c, e->dev);
	__u64 cookie = d ? d->ctx.cookie : 0;
	__u64 g = d && d->ctx.granule ? d->ctx.granule : CK_PAGE_SIZE;
	/* __iommu_dma_unmap gets the handle and size; it frees the
	 * granule-aligned range around them */
	__u64 lo = e->iova & ~(g - 1), hi = (e->iova + e->size + g - 1) & ~(g - 1);

	if (!(e->hdr.flags & IA_IOVA_QUEUED) || !p || !cookie)
		return;
	/* the pieces this unmap removed from the page tables, by phys */
	for (size_t i = 0; i < p->unmaps.n; i++) {
		const struct ck_pt *u = &p->unmaps.v[i];
		struct ck_queued *q;
		__u32 h;

		if (u->iova < lo || u->iova >= hi)
			continue;
		h = ia_pool_alloc(&c->queued_pool);
		if (!h) {
			c->oom = true;
			return;
		}
		q = ia_pool_at(&c->queued_pool, h);
		q->phys.start = u->paddr;
		q->phys.end = u->paddr + u->size;
		q->ts_ns = e->hdr.ts_ns;
		q->dev = e->dev;
		q->cookie = cookie;
		q->next = (__u32)(uintptr_t)ia_u64map_get(&c->fq, cookie);
		/* the new head; the old one is q->next */
		if (ia_u64map_put(&c->fq, cookie, (void *)(uintptr_t)h, NULL)) {
			ia_pool_free(&c->queued_pool, h);
			c->oom = true;
			return;
		}
		ia_itree_insert(&c->stale, h);
	}
}

static void temporal_flush(struct ia_checker *c, const struct ia_ev_fq_flush *e)
{
	__u32 h = (__u32)(uintptr_t)ia_u64map_del(&c->fq, e->cookie), next;

	for (; h; h = next) {
		struct ck_queued *q = ia_pool_at(&c->queued_pool, h);
		struct ck_device *d = ck_device_find(c, q->dev);
		__u64 window = e->hdr.ts_ns > q->ts_ns ? e->hdr.ts_ns - q->ts_ns : 0;
		struct ia_finding f;

		next = q->next;
		ia_itree_remove(&c->stale, &q->phys);
		if (d)
			ia_lazy_observe(&d->stats, window);
		ck_finding_init_dev(c, d, &f, IA_INV_TEMPORAL, IA_SEV_INFO,
				    "temporal.lazy_window", -1);
		f.ts_ns = q->ts_ns;
		f.phys = q->phys.start;
		f.len = q->phys.end - q->phys.start;
		f.value = window;
		snprintf(f.message, sizeof(f.message),
			 "unmapped memory stays reachable through the IOTLB until the "
			 "flush-queue flush (value: the longest window seen, ns)");
		ck_report(c, &f);
		ia_pool_free(&c->queued_pool, h);
	}
}

struct reuse {
	struct ia_checker *c;
	const struct ia_ev_pt *e;
	int found;
};

static int on_stale(struct ia_inode *n, void *ctx)
{
	struct reuse *r = ctx;
	const struct ck_queued *q = ia_container_of(n, struct ck_queued, phys);
	struct ck_device *d = ck_device_find(r->c, q->dev);
	struct ia_finding f;

	/* the same domain mapping it again: the same owner (a recycled
	 * buffer), nothing new reachable */
	if (d && d->ctx.domain == r->e->domain)
		return 0;
	ck_finding_init_dev(r->c, d, &f, IA_INV_TEMPORAL, IA_SEV_WARNING,
			    "temporal.reuse_before_flush", -1);
	f.ts_ns = r->e->hdr.ts_ns;
	f.phys = n->start;
	f.len = n->end - n->start;
	/* a write made inside a request has its request's entry time
	 * (event/ia_events.h): one that began before the unmap on another
	 * CPU, and wrote after it, is earlier by its time */
	f.value = r->e->hdr.ts_ns > q->ts_ns ? r->e->hdr.ts_ns - q->ts_ns : 0;
	snprintf(f.message, sizeof(f.message),
		 "phys 0x%" PRIx64 " mapped again (IOVA 0x%" PRIx64 ") %" PRIu64
		 " ns after its lazy unmap, before the IOTLB flush: this device may "
		 "still reach it", (uint64_t)n->start, (uint64_t)r->e->iova,
		 (uint64_t)f.value);
	ck_report(r->c, &f);
	r->found = 1;
	return 1;	/* once per write */
}

static void temporal_pt_map(struct ia_checker *c, const struct ia_ev_pt *e)
{
	struct reuse r = { c, e, 0 };

	ia_itree_overlaps(&c->stale, e->paddr, e->paddr + e->size, on_stale, &r);
}

static void temporal_finish(struct ia_checker *c)
{
	__u64 k;
	void *v;

	for (size_t it = 0; ia_u64map_next(&c->fq, &it, &k, &v);) {
		for (__u32 h = (__u32)(uintptr_t)v; h;) {
			const struct ck_queued *q = ia_pool_at(&c->queued_pool, h);
			struct ck_device *d = ck_device_find(c, q->dev);
			struct ia_finding f;

			h = q->next;
			ck_finding_init_dev(c, d, &f, IA_INV_TEMPORAL, IA_SEV_INFO,
					    "temporal.unflushed_at_end", -1);
			f.phys = q->phys.start;
			f.len = q->phys.end - q->phys.start;
			snprintf(f.message, sizeof(f.message),
				 "a lazy unmap was not yet flushed when the run ended");
			ck_report(c, &f);
		}
	}
}

const struct ck_invariant ck_inv_temporal = {
	.name = "temporal",
	.pt_map = temporal_pt_map,
	.iova_free = temporal_iova_free,
	.flush = temporal_flush,
	.finish = temporal_finish,
};
