// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Failed requests: a map or allocation the kernel refused (DMA_MAPPING_ERROR,
 * a map_sg returning 0 or -errno, a NULL allocation). The driver sees only
 * the error; the trace often shows why, from what happened inside the
 * request (dma-iommu 6.1, iommu_dma_map_page / __iommu_dma_map /
 * iommu_dma_map_sg; the same in 6.18):
 *
 *   failed.pt_refused       the IOMMU driver refused a page-table write
 *                           (alignment.pt_refused says which)
 *   failed.bounce_full      swiotlb found no free slot for the bounce
 *                           (swiotlb_tbl_map_single returned an error)
 *   failed.bounce_inactive  an untrusted device's buffer that does not fill
 *                           its granules must be bounced, and swiotlb is not
 *                           active ("DMA bounce buffers are inactive"): the
 *                           map stopped before bouncing or mapping anything
 *   failed.dma_mask         no IOVA: the request is larger than the IOVA
 *                           space below the device's DMA limit
 *   failed.iova_exhausted   no IOVA: the space below the DMA limit is taken
 *   failed.unknown          the trace does not say (e.g. an allocation that
 *                           got no pages, before any IOVA or write)
 *
 * All warnings: the kernel did nothing wrong, but the driver's DMA fails,
 * which is what someone debugging it needs to know. Each failed root request
 * also counts in its device's `failed` total (report).
 */
#include <inttypes.h>
#include "check/devstats.h"
#include "check/invariant.h"

/* The DMA limit dma-iommu allocates IOVAs below for this request. */
static __u64 dma_limit(const struct ck_ctx *x)
{
	const struct ia_ev_device *d = &x->dev->ctx;
	bool coherent = x->req->kind == IA_REQ_ALLOC || x->req->kind == IA_REQ_ALLOC_NONCONTIG;
	__u64 mask = coherent ? d->coherent_dma_mask : d->dma_mask;

	if (!x->dev->has_ctx || !mask)
		return ~0ULL;
	return d->bus_dma_limit && d->bus_dma_limit < mask ? d->bus_dma_limit : mask;
}

/* The IOVA bytes __iommu_dma_map asks for: whole granules around phys. */
static __u64 iova_bytes(const struct ck_ctx *x, __u64 phys, __u64 size)
{
	__u64 g = x->granule;

	return ((phys & (g - 1)) + size + g - 1) & ~(g - 1);
}

/* Bytes a request asked for (a scatterlist's: its segments'). */
static __u64 asked(const struct ck_ctx *x)
{
	__u64 n = 0;

	if (x->req->kind != IA_REQ_MAP_SG)
		return x->req->size;
	for (size_t i = 0; i < x->p->sg_in.n; i++)
		n += x->p->sg_in.v[i].len;
	return n;
}

/* No IOVA for `bytes`: beyond the DMA mask, or the space is taken. IOVA
 * allocation starts at the first granule (iova pfn 0 is never handed out). */
static const char *no_iova(const struct ck_ctx *x, __u64 bytes, char *why, size_t n)
{
	__u64 limit = dma_limit(x);
	bool too_big = limit != ~0ULL && bytes > limit + 1 - x->granule;

	snprintf(why, n, "no IOVA range of %" PRIu64 " bytes below the DMA limit 0x%" PRIx64
		 "%s", (uint64_t)bytes, (uint64_t)limit,
		 too_big ? " (beyond the DMA mask)" : " (IOVA space exhausted)");
	return too_big ? "failed.dma_mask" : "failed.iova_exhausted";
}

/* Granule-aligned IOVA bytes a non-bounced scatterlist needs. */
static __u64 sg_iova_bytes(const struct ck_ctx *x)
{
	__u64 n = 0;

	for (size_t i = 0; i < x->p->sg_in.n; i++)
		n += iova_bytes(x, x->p->sg_in.v[i].phys, x->p->sg_in.v[i].len);
	return n;
}

static const char *reason(const struct ck_ctx *x, char *why, size_t n)
{
	const struct ck_pending *p = x->p;
	const struct ia_ev_req *r = x->req;
	bool untrusted = x->dev->ctx.hdr.flags & IA_DEV_UNTRUSTED;

	for (size_t i = 0; i < p->maps.n; i++)
		if (p->maps.v[i].result) {
			snprintf(why, n, "page-table write of IOVA 0x%" PRIx64
				 " refused (error %" PRId64 ")", (uint64_t)p->maps.v[i].iova,
				 (int64_t)p->maps.v[i].result);
			return "failed.pt_refused";
		}
	if (p->bounce_failed) {
		snprintf(why, n, "swiotlb has no free bounce slot");
		return "failed.bounce_full";
	}
	if (p->iova_failed)
		return no_iova(x, iova_bytes(x, p->iova_phys, p->iova_size), why, n);
	if (p->not_bounced || (r->kind == IA_REQ_MAP_PAGE && !p->saw_iommu_map && !p->bounced)) {
		__u64 ph = p->not_bounced ? p->nb_phys : r->phys;
		__u64 sz = p->not_bounced ? p->nb_size : r->size;

		if (untrusted && ((ph | sz) & (x->granule - 1))) {
			snprintf(why, n, "untrusted, %" PRIu64 " bytes at 0x%" PRIx64
				 " not filling %" PRIu64 "-byte granules: bounce buffers inactive",
				 (uint64_t)sz, (uint64_t)ph, (uint64_t)x->granule);
			return "failed.bounce_inactive";
		}
	}
	/* iommu_dma_map_sg allocates the IOVA itself: -ENOMEM before any write */
	if (r->kind == IA_REQ_MAP_SG && r->ret == -12 && !p->maps.n && !p->saw_iommu_map)
		return no_iova(x, sg_iova_bytes(x), why, n);
	/* nothing reached the IOMMU, and the IOVA could not have fitted */
	if (!p->maps.n && !p->saw_iommu_map && dma_limit(x) != ~0ULL &&
	    iova_bytes(x, 0, r->size) > dma_limit(x) + 1 - x->granule)
		return no_iova(x, iova_bytes(x, 0, r->size), why, n);
	snprintf(why, n, "the trace does not show why (no refused write, bounce or IOVA"
		 " failure seen)");
	return "failed.unknown";
}

static void failed_map(struct ck_ctx *x)
{
	const struct ia_ev_req *r = x->req;
	struct ia_finding f;
	char why[120];	/* with the message's start, fits in f.message */
	const char *code = reason(x, why, sizeof(why));

	x->dev->stats.failed++;
	ck_finding_init(x, &f, IA_INV_FAILED, IA_SEV_WARNING, code);
	f.len = asked(x);
	if (r->kind == IA_REQ_MAP_SG)
		snprintf(f.message, sizeof(f.message), "map_sg of %u segments (%" PRIu64
			 " bytes) failed (ret %d): %s", r->nents, (uint64_t)f.len, r->ret, why);
	else
		snprintf(f.message, sizeof(f.message), "%s of %" PRIu64 " bytes failed: %s",
			 ia_req_kind_str(r->kind), (uint64_t)f.len, why);
	ck_report(x->c, &f);
}

const struct ck_invariant ck_inv_failed = {
	.name = "failed",
	.map_failed = failed_map,
};
