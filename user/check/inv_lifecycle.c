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
 *   lifecycle.sync_dir_mismatch  a sync with another direction than the
 *                            map's (a bidirectional map takes any)
 *   lifecycle.sg_nents_mismatch  unmap_sg or sync_sg with another entry
 *                            count than the map_sg was given (the classic
 *                            bug: the count dma_map_sg() returned)
 *   lifecycle.free_cpu_mismatch  dma_free_coherent() with another cpu
 *                            address than the allocation returned
 *   lifecycle.live_at_unbind a mapping still live when its device's driver
 *                            was unbound (the driver leaked it)
 *   lifecycle.unmapped_behind_api  entries of a live mapping removed outside
 *                            any request: the device faults at its next
 *                            access to a handle the API still holds
 *   lifecycle.live_at_end    mappings still live when the run ended (info:
 *                            ring buffers are; leaks are too), unless
 *                            reported at an unbind
 *
 * A mapping made before the recording started is not known: its unmap
 * removes page-table entries, which tells it apart from a handle never
 * mapped, and it is counted as pre-existing instead of reported.
 */
#include <inttypes.h>
#include <stdlib.h>
#include "check/invariant.h"
#include "check/devstats.h"

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

/*
 * Length a map request covers from its handle, as its unmap must repeat
 * it. A scatterlist: up to the end of its last output segment at or above
 * the handle (an untrusted device's segments have IOVAs of their own, some
 * below the first one: those are in the mapping's extents, not its length).
 */
static __u64 map_len(const struct ck_ctx *x)
{
	const struct ck_pending *p = x->p;
	__u64 len = 0;

	if (x->req->kind != IA_REQ_MAP_SG)
		return x->req->size;
	for (size_t i = 0; i < p->sg_out.n && p->sg_out.v[i].dma_len; i++) {
		const struct ck_seg *s = &p->sg_out.v[i];

		if (s->dma >= x->req->dma && s->dma + s->dma_len - x->req->dma > len)
			len = s->dma + s->dma_len - x->req->dma;
	}
	return len ? len : 1;
}

static __u64 align_up(__u64 v, __u64 g)
{
	return (v + g - 1) & ~(g - 1);
}

static int cmp_iova(const void *a, const void *b)
{
	const struct ck_pt *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

/*
 * Keep the IOVA ranges the map's own writes covered when they are not the
 * one range [lo, hi) its handle and length imply (struct ck_extents).
 */
static void add_extents(struct ck_ctx *x, __u64 lo, __u64 hi)
{
	const struct ck_pt *one = NULL;
	struct ck_extents *e;
	struct ck_pt *w;
	size_t n = 0;

	for (size_t i = 0; i < x->p->maps.n; i++) {
		if (x->p->maps.v[i].result || !x->p->maps.v[i].size)
			continue;
		one = n ? NULL : &x->p->maps.v[i];
		n++;
	}
	if (!n || (one && one->iova == lo && one->iova + one->size == hi))
		return;	/* no write seen, or the one range: nothing to keep */
	w = malloc(x->p->maps.n * sizeof(*w));
	n = 0;
	if (!w)
		goto oom;
	for (size_t i = 0; i < x->p->maps.n; i++)
		if (!x->p->maps.v[i].result && x->p->maps.v[i].size)
			w[n++] = x->p->maps.v[i];
	qsort(w, n, sizeof(*w), cmp_iova);
	e = malloc(sizeof(*e) + (n + x->p->sg_out.n + 1) * sizeof(e->r[0]));
	if (!e) {
		free(w);
		goto oom;
	}
	e->n = 0;
	e->nseg = 0;
	for (size_t i = 0; i < n; i++) {
		if (e->n && w[i].iova <= e->r[e->n - 1].hi) {
			if (w[i].iova + w[i].size > e->r[e->n - 1].hi)
				e->r[e->n - 1].hi = w[i].iova + w[i].size;
			continue;
		}
		e->r[e->n].lo = w[i].iova;
		e->r[e->n].hi = w[i].iova + w[i].size;
		e->n++;
	}
	free(w);
	if (!e->n || (e->n == 1 && e->r[0].lo == lo && e->r[0].hi == hi)) {
		free(e);	/* the common case: nothing to keep */
		return;
	}
	for (size_t i = 0; x->req->kind == IA_REQ_MAP_SG && i < x->p->sg_out.n; i++) {
		const struct ck_seg *s = &x->p->sg_out.v[i];

		if (!s->dma_len)
			break;
		e->r[e->n + e->nseg].lo = s->dma;
		e->r[e->n + e->nseg].hi = s->dma + s->dma_len;
		e->nseg++;
	}
	free(ia_u64map_del(&x->dev->extents, x->req->hdr.req_id));
	if (!ia_u64map_put(&x->dev->extents, x->req->hdr.req_id, e, NULL))
		return;
	free(e);
oom:
	x->c->oom = true;
}

/* Remember a sub-granule buffer's phys ranges (see struct ck_subbuf). */
static void add_subbuf(struct ck_ctx *x)
{
	struct ia_pool *pool = &x->c->subbuf_pool;
	struct ck_pt req[64];
	__u32 head = 0, old, tail;
	bool whole = true;
	int n = ck_requested_ranges(x, req, 64);
	void *prev;

	for (int i = 0; i < n; i++)
		whole &= !(req[i].paddr & (x->granule - 1)) &&
			 !(req[i].size & (x->granule - 1));
	if (n <= 0 || whole)
		return;
	for (int i = n - 1; i >= 0; i--) {
		__u32 h = ia_pool_alloc(pool);
		struct ck_subbuf *b;

		if (!h) {
			x->c->oom = true;
			break;
		}
		b = ia_pool_at(pool, h);
		b->req_id = x->req->hdr.req_id;
		b->phys.start = req[i].paddr;
		b->phys.end = req[i].paddr + req[i].size;
		b->next = head;
		head = h;
		ia_itree_insert(&x->dev->live_phys, h);
	}
	if (!head)
		return;
	if (ia_u64map_put(&x->dev->subbufs, x->req->hdr.req_id, (void *)(uintptr_t)head,
			  &prev)) {
		x->c->oom = true;	/* stays in the tree until the end */
		return;
	}
	/* a request id seen twice (a damaged trace): one list for both */
	old = (__u32)(uintptr_t)prev;
	for (tail = head; old && ((struct ck_subbuf *)ia_pool_at(pool, tail))->next;
	     tail = ((struct ck_subbuf *)ia_pool_at(pool, tail))->next)
		;
	if (old)
		((struct ck_subbuf *)ia_pool_at(pool, tail))->next = old;
}

static void lifecycle_map(struct ck_ctx *x)
{
	struct ck_owner own = {
		.req_id = x->req->hdr.req_id,
		.dma = x->req->dma,
		.len = (__u32)map_len(x),
		.stack_id = x->req->stack_id,
		.dev = (__u16)x->dev->stats_idx,
		.kind = (__u8)x->req->kind,
		.dir = (__u8)x->req->dir,
		.aux = x->req->kind == IA_REQ_MAP_SG ? x->req->nents :
		       x->req->kind == IA_REQ_ALLOC ? (__u32)x->req->cpu_addr : 0,
	};
	struct ia_inode *n = x->dom ? ia_itree_find(&x->dom->pt, x->req->dma) : NULL;
	struct ck_ptmap *m = n ? ia_container_of(n, struct ck_ptmap, node) : NULL;

	if (m && !m->own.req) {
		/* the entry holding the handle owns the mapping */
		ck_ptmap_set_owner(x->c, m, &own);
	} else {
		/* no write of ours holds the handle (a mapping made elsewhere,
		 * or two handles in one entry): keep it on the side */
		struct ck_owner *o = malloc(sizeof(*o)), *old;

		if (!o || ia_u64map_put(&x->dev->orphans, own.dma, o, (void **)&old)) {
			free(o);
			x->c->oom = true;
			return;
		}
		*o = own;
		if (old) {
			/* a live handle returned again: the first mapping's
			 * unmap was not seen; this one supersedes it */
			free(old);
			x->dev->stats.live--;
			x->c->live_maps--;
		}
	}
	add_subbuf(x);
	add_extents(x, own.dma & ~(x->granule - 1), align_up(own.dma + own.len, x->granule));
	ia_recent_del(&x->dev->unmapped, x->req->dma);
	x->dev->stats.live++;
	x->c->live_maps++;
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

/*
 * After the unmap (and everything nested in it) the IOVA ranges the mapping
 * took must be empty: its extents, or the granule-aligned range around its
 * handle.
 */
static void check_leftover(struct ck_ctx *x, const struct ck_owner *own)
{
	struct ck_extents *e = ia_u64map_del(&x->dev->extents, own->req_id);
	__u64 lo = own->dma & ~(x->granule - 1);
	__u64 hi = align_up(own->dma + own->len, x->granule);
	struct leftover l = { 0 };
	__u64 first = lo;
	char msg[200];

	/* the common case: this unmap's own removals emptied the range */
	if (!e && ck_pending_emptied(x->p, x->dom, lo, hi))
		return;
	for (size_t i = 0; x->dom && i < (e ? e->n : 1); i++) {
		__u64 before = l.bytes;

		if (e) {
			lo = e->r[i].lo;
			hi = e->r[i].hi;
		}
		ia_itree_overlaps(&x->dom->pt, lo, hi, count_left, &l);
		if (!before && l.bytes)
			first = lo;
	}
	free(e);
	if (!l.bytes)
		return;
	snprintf(msg, sizeof(msg), "%" PRIu64 " bytes of the mapping at IOVA 0x%"
		 PRIx64 " still in the page tables after %s",
		 (uint64_t)l.bytes, (uint64_t)first, ia_req_kind_str(x->req->kind));
	lifecycle_finding(x, "lifecycle.pt_leftover", msg);
}

/* The live mapping an unmap ends: on a removed page-table piece, or kept
 * on the side; false when there is none. */
static bool take_owner(struct ck_ctx *x, struct ck_owner *own)
{
	struct ck_owner *o;

	for (size_t i = 0; i < x->p->unmaps.n; i++) {
		const struct ck_owner *u = &x->p->unmaps.v[i].own;

		if (u->req_id && u->dma == x->req->dma && u->dev == x->dev->stats_idx) {
			*own = *u;
			return true;
		}
	}
	o = ia_u64map_del(&x->dev->orphans, x->req->dma);
	if (!o)
		return false;
	*own = *o;
	free(o);
	return true;
}

/*
 * What dma-debug checks besides kind, size and direction (kernel/dma/debug.c
 * check_unmap(), check_sync()): the entry count of a scatterlist's unmap or
 * sync, the cpu address of a coherent free. Unknown (0) on either side:
 * nothing to compare. The cpu address is compared by its low 32 bits (what
 * struct ck_owner keeps): a free differing only above them is missed.
 */
static void check_sg_nents(struct ck_ctx *x, const struct ck_owner *own)
{
	const struct ia_ev_req *r = x->req;
	char msg[200];

	if (own->kind != IA_REQ_MAP_SG || !own->aux || !r->nents || r->nents == own->aux)
		return;
	snprintf(msg, sizeof(msg), "%s of handle 0x%" PRIx64 " with %u entries, mapped"
		 " with %u", ia_req_kind_str(r->kind), (uint64_t)r->dma, r->nents, own->aux);
	lifecycle_finding(x, "lifecycle.sg_nents_mismatch", msg);
}

static void check_free_cpu(struct ck_ctx *x, const struct ck_owner *own)
{
	const struct ia_ev_req *r = x->req;
	char msg[200];

	if (r->kind != IA_REQ_FREE || own->kind != IA_REQ_ALLOC || !own->aux ||
	    !r->cpu_addr || (__u32)r->cpu_addr == own->aux)
		return;
	snprintf(msg, sizeof(msg), "free of handle 0x%" PRIx64 " with cpu address 0x%" PRIx64
		 ", allocated at ...%08x", (uint64_t)r->dma, (uint64_t)r->cpu_addr, own->aux);
	lifecycle_finding(x, "lifecycle.free_cpu_mismatch", msg);
}

/* A sync's direction: the map's, unless it was mapped bidirectional
 * (DMA_BIDIRECTIONAL, 0), which every sync may name. */
static void check_sync_dir(struct ck_ctx *x, const struct ck_owner *own)
{
	const struct ia_ev_req *r = x->req;
	char msg[200];

	if (!own->dir || r->dir == own->dir)
		return;
	snprintf(msg, sizeof(msg), "%s of 0x%" PRIx64 " with direction %u, mapped with"
		 " direction %u", ia_req_kind_str(r->kind), (uint64_t)r->dma, r->dir, own->dir);
	lifecycle_finding(x, "lifecycle.sync_dir_mismatch", msg);
}

/* Removed only entries a page-table snapshot showed before the recording. */
static bool all_seeded(const struct ck_pending *p)
{
	for (size_t i = 0; i < p->unmaps.n; i++)
		if (!p->unmaps.v[i].seeded)
			return false;
	return p->unmaps.n > 0;
}

static void lifecycle_unmap(struct ck_ctx *x)
{
	const struct ia_ev_req *r = x->req;
	struct ck_owner own;
	char msg[200];

	if (!take_owner(x, &own)) {
		if (ia_recent_has(&x->dev->unmapped, r->dma)) {
			snprintf(msg, sizeof(msg), "%s of handle 0x%" PRIx64 ", already unmapped",
				 ia_req_kind_str(r->kind), (uint64_t)r->dma);
			lifecycle_finding(x, "lifecycle.double_unmap", msg);
		} else if (x->p->pt_removed && !x->p->unmaps.n) {
			/* the kernel removed entries our shadow never saw made */
			x->dev->stats.preexisting++;
		} else if (all_seeded(x->p)) {
			/* made before the recording, known from the start snapshot
			 * (inv_oracle.c): its request was never seen */
			x->dev->stats.snapshot_unmaps++;
		} else if (x->p->unmaps.n) {
			snprintf(msg, sizeof(msg), "%s of handle 0x%" PRIx64 ", which is not"
				 " a mapping's handle but lies inside a live mapping",
				 ia_req_kind_str(r->kind), (uint64_t)r->dma);
			lifecycle_finding(x, "lifecycle.unmap_unknown", msg);
		} else if (r->dma == ~0ULL) {
			snprintf(msg, sizeof(msg), "%s of DMA_MAPPING_ERROR (%" PRIu64 " bytes):"
				 " the handle of a map that failed", ia_req_kind_str(r->kind),
				 (uint64_t)r->size);
			lifecycle_finding(x, "lifecycle.unmap_unknown", msg);
		} else {
			snprintf(msg, sizeof(msg), "%s of handle 0x%" PRIx64
				 " (%" PRIu64 " bytes), which was never mapped",
				 ia_req_kind_str(r->kind), (uint64_t)r->dma, (uint64_t)r->size);
			lifecycle_finding(x, "lifecycle.unmap_unknown", msg);
		}
		return;
	}
	if (map_kind_of(r->kind) != own.kind) {
		snprintf(msg, sizeof(msg), "%s of a handle made by %s", ia_req_kind_str(r->kind),
			 ia_req_kind_str(own.kind));
		lifecycle_finding(x, "lifecycle.wrong_kind", msg);
	} else if (r->kind != IA_REQ_UNMAP_SG && r->kind != IA_REQ_FREE_NONCONTIG &&
		   r->size != own.len) {
		snprintf(msg, sizeof(msg), "%s of handle 0x%" PRIx64 " with size %" PRIu64
			 ", mapped with size %u", ia_req_kind_str(r->kind),
			 (uint64_t)r->dma, (uint64_t)r->size, own.len);
		lifecycle_finding(x, "lifecycle.size_mismatch", msg);
	} else if (r->kind != IA_REQ_FREE && r->dir != own.dir) {
		snprintf(msg, sizeof(msg), "%s of handle 0x%" PRIx64 " with direction %u,"
			 " mapped with direction %u", ia_req_kind_str(r->kind),
			 (uint64_t)r->dma, r->dir, own.dir);
		lifecycle_finding(x, "lifecycle.dir_mismatch", msg);
	}
	if (r->kind == IA_REQ_UNMAP_SG)
		check_sg_nents(x, &own);
	check_free_cpu(x, &own);
	check_leftover(x, &own);
	ck_live_end(x->c, x->dev, own.req_id);
	if (ia_recent_add(&x->dev->unmapped, r->dma))
		x->c->oom = true;
}

#define CK_SYNC_WALK	64	/* entries walked back to a mapping's first */

/*
 * The live mapping whose entries hold iova: the owner on the entry holding
 * it, or on the nearest entry before it in the same IOVA-contiguous run (a
 * mapping made of several writes keeps its owner on the first). *before:
 * iova lies in a mapping's first entry, before its handle (no mapping holds
 * it: dma-iommu gives each mapping IOVA granules of its own). NULL when the
 * run has no owner (a mapping made before the recording) or is too long.
 */
static const struct ck_owner *sync_owner(const struct ck_ctx *x, __u64 iova, bool *before,
					 struct ck_owner *own)
{
	const struct ck_domain *d = x->dom;
	struct ia_inode *n = d ? ia_itree_find(&d->pt, iova) : NULL;

	*before = false;
	for (int i = 0; n && i < CK_SYNC_WALK; i++) {
		const struct ck_ptmap *m = ia_container_of(n, struct ck_ptmap, node);

		if (m->own.req) {
			*own = ck_ptmap_owner(x->c, m);
			*before = own->dma > iova;
			return *before ? NULL : own;
		}
		n = n->start ? ia_itree_find(&d->pt, n->start - 1) : NULL;
	}
	return NULL;
}

/* Does one of e's output segments hold [start, end)? */
static bool extents_hold_seg(const struct ck_extents *e, __u64 start, __u64 end)
{
	for (size_t i = e->n; i < e->n + e->nseg; i++)
		if (start >= e->r[i].lo && end <= e->r[i].hi)
			return true;
	return false;
}

/* The owner of request req's mapping, whose written ranges are e's: on
 * the entry holding its handle, its first output segment's IOVA (the
 * written ranges merge where segments touch, so their starts need not be
 * an owner's entry); else on the first entry of a written range (an
 * allocation's several writes). False if none has it. */
static bool extents_owner(const struct ck_ctx *x, __u64 req, const struct ck_extents *e,
			  struct ck_owner *own)
{
	for (size_t i = 0; x->dom && i <= e->n; i++) {
		__u64 at = i == 0 ? (e->nseg ? e->r[e->n].lo : e->r[0].lo) : e->r[i - 1].lo;
		struct ia_inode *n = ia_itree_find(&x->dom->pt, at);
		const struct ck_ptmap *m = n ? ia_container_of(n, struct ck_ptmap, node) : NULL;

		if (m && m->own.req && (*own = ck_ptmap_owner(x->c, m)).req_id == req)
			return true;
	}
	return false;
}

/*
 * A live mapping with extents (an untrusted device's scatterlist: segments
 * at IOVAs of their own, the owner only on the first one's entry) whose
 * written ranges hold iova: 1 if one of its output segments holds [start,
 * end), its owner in *own (own->req_id 0 when its entry is not found), -1
 * if none does, 0 when no such mapping holds iova.
 */
static int sync_in_extents(const struct ck_ctx *x, __u64 start, __u64 end,
			   struct ck_owner *own)
{
	const struct ck_device *d = x->dev;
	__u64 k;
	void *v;

	for (size_t it = 0; ia_u64map_next(&d->extents, &it, &k, &v);) {
		const struct ck_extents *e = v;
		bool mine = false;

		for (size_t i = 0; i < e->n; i++)
			mine |= start >= e->r[i].lo && start < e->r[i].hi;
		if (!mine)
			continue;
		if (!extents_hold_seg(e, start, end))
			return -1;
		if (!extents_owner(x, k, e, own))
			*own = (struct ck_owner){ 0 };
		return 1;
	}
	return 0;
}

/* A sync a segment of a mapping with extents holds (sync_in_extents()):
 * checked as one its owner holds, when that is known. */
static void check_held_sync(struct ck_ctx *x, const struct ck_owner *own);
static void check_extent_sync(struct ck_ctx *x, const struct ck_owner *own)
{
	if (own->req_id)
		check_held_sync(x, own);
}

/* A sync a live mapping holds: its direction and, for a list, its count. */
static void check_held_sync(struct ck_ctx *x, const struct ck_owner *own)
{
	check_sync_dir(x, own);
	if (x->req->kind == IA_REQ_SYNC_SG_CPU || x->req->kind == IA_REQ_SYNC_SG_DEV)
		check_sg_nents(x, own);
}

static void lifecycle_sync(struct ck_ctx *x)
{
	const struct ia_ev_req *r = x->req;
	__u64 start = r->dma, end = r->dma + (r->size ? r->size : 1);
	const struct ck_owner *o = ia_u64map_get(&x->dev->orphans, start), *m;
	struct ck_owner found;
	__u64 phys, run_end;
	bool before;
	int held;
	char msg[200];

	if (r->kind == IA_REQ_SYNC_SG_CPU || r->kind == IA_REQ_SYNC_SG_DEV)
		end = start + 1;	/* the list's extent is not recorded */
	m = sync_owner(x, start, &before, &found);
	if (!m && !o && !before && (held = sync_in_extents(x, start, end, &found))) {
		if (held > 0) {
			check_extent_sync(x, &found);
			return;
		}
	} else if (m) {
		/* the live mapping holding the first byte must hold them all:
		 * an untrusted device's scatterlist only in its output
		 * segments (its handle and length span other mappings' IOVAs) */
		const struct ck_extents *e = ia_u64map_get(&x->dev->extents, m->req_id);

		if (e && e->nseg ? extents_hold_seg(e, start, end) : end <= m->dma + m->len) {
			check_held_sync(x, m);
			return;
		}
		/* the owner met walking down from an entry of none may not
		 * be the entry's: an untrusted scatterlist's segment has its
		 * owner on another segment's entry, at an IOVA of its own */
		if (sync_in_extents(x, start, end, &found) > 0) {
			check_extent_sync(x, &found);
			return;
		}
	} else if (o) {
		if (end <= o->dma + o->len) {
			check_held_sync(x, o);
			return;
		}
	} else if (!before) {
		/* a mapping made before the recording: the bytes must at least
		 * be mapped */
		__u64 cur = start;

		while (cur < end && ck_translate(x->dom, cur, &phys, &run_end))
			cur = run_end;
		if (cur >= end)
			return;
	}
	snprintf(msg, sizeof(msg), "%s of 0x%" PRIx64 "+%" PRIu64
		 " outside any live mapping of the device", ia_req_kind_str(r->kind),
		 (uint64_t)r->dma, (uint64_t)r->size);
	lifecycle_finding(x, "lifecycle.sync_outside", msg);
}

/*
 * A page-table removal outside any request (req 0: VFIO, a driver calling
 * iommu_unmap() on its DMA domain, the fixture's iommu_unmap) of entries a
 * live DMA API mapping holds: the API still hands its handle out and
 * dma-iommu will unmap it later, while the device faults at its next access.
 * One finding per mapping hit: the removed bytes of its granules (or of the
 * ranges its writes covered, struct ck_extents), the first of them and its
 * phys, the mapping's call site. A mapping whose handle's entry goes is
 * kept on the side (orphans): still live, its own unmap finds it later.
 * Mappings the API released are no owners (an IOVA API link ends with its
 * reservation, shadow_iova.c): the fixture's repair of the links a destroy
 * left mapped is none of this, nor is a lazy unmap (its removal is made
 * inside the unmap; only the IOTLB flush is deferred).
 */
struct behind_hit {
	struct ck_owner own;
	__u64 first, bytes;
	bool on_entry;		/* its owner sits on an entry, not aside */
};

struct behind {
	struct ia_checker *c;
	struct ck_domain *d;
	__u64 start, end;	/* the removal */
	bool walked;		/* the first entry's run walked back */
	CK_VEC(struct behind_hit) hit;
};

/* The bytes of the removal that o's mapping covers (0: none), the first at
 * *first. */
static __u64 behind_bytes(const struct behind *b, const struct ck_owner *o, __u64 *first)
{
	struct ck_device *dev = o->dev < b->c->devlist.n ? b->c->devlist.v[o->dev] : NULL;
	const struct ck_extents *e = dev ? ia_u64map_get(&dev->extents, o->req_id) : NULL;
	__u64 g = dev && dev->ctx.granule ? dev->ctx.granule :
		  b->d->granule ? b->d->granule : CK_PAGE_SIZE;
	__u64 lo = o->dma & ~(g - 1), hi = align_up(o->dma + o->len, g), bytes = 0;

	for (size_t i = 0; i < (e ? e->n : 1); i++) {
		__u64 a, z;

		if (e) {
			lo = e->r[i].lo;
			hi = e->r[i].hi;
		}
		a = lo > b->start ? lo : b->start;
		z = hi < b->end ? hi : b->end;
		if (z <= a)
			continue;
		if (!bytes || a < *first)
			*first = a;
		bytes += z - a;
	}
	return bytes;
}

static void behind_add(struct behind *b, const struct ck_owner *o, bool on_entry)
{
	struct behind_hit h = { *o, 0, 0, on_entry };

	for (size_t i = 0; i < b->hit.n; i++)
		if (b->hit.v[i].own.req_id == o->req_id)
			return;
	h.bytes = behind_bytes(b, o, &h.first);
	if (h.bytes)
		CK_PUSH(b->c, b->hit, h);
}

/* An entry the removal overlaps: its owner, or (the first entry only: the
 * later ones' runs are the entries before them, visited already) the owner
 * on the nearest entry before it in its IOVA-contiguous run, as a sync's. */
static int behind_entry(struct ia_inode *n, void *ctx)
{
	struct behind *b = ctx;
	int walk = b->walked ? 1 : CK_SYNC_WALK;

	b->walked = true;
	for (int i = 0; n && i < walk; i++) {
		const struct ck_ptmap *m = ia_container_of(n, struct ck_ptmap, node);

		if (m->own.req) {
			struct ck_owner o = ck_ptmap_owner(b->c, m);

			behind_add(b, &o, true);
			return 0;
		}
		n = n->start ? ia_itree_find(&b->d->pt, n->start - 1) : NULL;
	}
	return 0;
}

static int cmp_hit(const void *a, const void *b)
{
	const struct behind_hit *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

static void report_behind(struct behind *b, const struct ia_ev_pt *e, const struct behind_hit *h)
{
	const struct ck_owner *o = &h->own;
	struct ck_device *dev = o->dev < b->c->devlist.n ? b->c->devlist.v[o->dev] : NULL;
	struct ia_finding f;
	__u64 phys = 0, run_end;

	ck_translate(b->d, h->first, &phys, &run_end);
	ck_finding_init_dev(b->c, dev, &f, IA_INV_LIFECYCLE, IA_SEV_ERROR,
			    "lifecycle.unmapped_behind_api", o->stack_id);
	f.req_kind = o->kind;
	f.req_id = o->req_id;
	f.dma = h->first;
	f.phys = phys;
	f.len = h->bytes;
	f.ts_ns = e->hdr.ts_ns;
	snprintf(f.message, sizeof(f.message), "%" PRIu64 " bytes at IOVA 0x%" PRIx64
		 " of the live %s at handle 0x%" PRIx64 " (%u bytes) removed outside any"
		 " DMA API request: the device faults at its next access",
		 (uint64_t)h->bytes, (uint64_t)h->first, ia_req_kind_str(o->kind),
		 (uint64_t)o->dma, o->len);
	ck_report(b->c, &f);
}

/* The owner of the entry holding its handle goes with the entry: keep it
 * on the side, still live. */
static void behind_aside(struct behind *b, const struct ck_owner *o)
{
	struct ck_device *dev = o->dev < b->c->devlist.n ? b->c->devlist.v[o->dev] : NULL;
	struct ia_inode *n = ia_itree_find(&b->d->pt, o->dma);
	struct ck_ptmap *m = n ? ia_container_of(n, struct ck_ptmap, node) : NULL;
	struct ck_owner none = { 0 }, *keep, *old = NULL;

	if (!dev || !m || ck_ptmap_req(b->c, m) != o->req_id || o->dma < b->start || o->dma >= b->end)
		return;
	ck_ptmap_set_owner(b->c, m, &none);
	keep = malloc(sizeof(*keep));
	if (!keep || ia_u64map_put(&dev->orphans, o->dma, keep, (void **)&old)) {
		free(keep);
		b->c->oom = true;
		return;
	}
	*keep = *o;
	if (old) {	/* as lifecycle_map: the newer mapping supersedes it */
		free(old);
		dev->stats.live--;
		b->c->live_maps--;
	}
}

static void lifecycle_pt_unmap_outside(struct ia_checker *c, struct ck_domain *d,
				       const struct ia_ev_pt *e)
{
	struct behind b = { .c = c, .d = d, .start = e->iova, .end = e->iova + e->result };
	__u64 k;
	void *v;

	/* mappings kept on the side, of the devices in this domain */
	for (size_t i = 0; i < c->devlist.n; i++) {
		struct ck_device *dev = c->devlist.v[i];

		if (dev->ctx.domain != e->domain)
			continue;
		for (size_t it = 0; ia_u64map_next(&dev->orphans, &it, &k, &v);)
			behind_add(&b, v, false);
	}
	ia_itree_overlaps(&d->pt, b.start, b.end, behind_entry, &b);
	if (b.hit.n > 1)
		qsort(b.hit.v, b.hit.n, sizeof(b.hit.v[0]), cmp_hit);
	for (size_t i = 0; i < b.hit.n; i++) {
		report_behind(&b, e, &b.hit.v[i]);
		if (b.hit.v[i].on_entry)
			behind_aside(&b, &b.hit.v[i].own);
	}
	free(b.hit.v);
}

/* A live mapping at the end of the run (info: rings are; ts 0, the end has
 * no time of its own) or when its device's driver was unbound at ts_ns (an
 * error: the driver left it, dma-debug's "has pending DMA allocations while
 * released from device"). */
static void report_live(struct ia_checker *c, const struct ck_owner *o, bool unbind,
			__u64 ts_ns)
{

	struct ck_device *d = o->dev < c->devlist.n ? c->devlist.v[o->dev] : NULL;
	struct ia_finding f;

	ck_finding_init_dev(c, d, &f, IA_INV_LIFECYCLE, unbind ? IA_SEV_ERROR : IA_SEV_INFO,
			    unbind ? "lifecycle.live_at_unbind" : "lifecycle.live_at_end",
			    o->stack_id);
	f.req_kind = o->kind;
	f.req_id = o->req_id;
	f.dma = o->dma;
	f.len = o->len;
	f.ts_ns = ts_ns;
	snprintf(f.message, sizeof(f.message), "%s of %" PRIu64
		 " bytes at handle 0x%" PRIx64 " still mapped %s", ia_req_kind_str(o->kind),
		 (uint64_t)f.len, (uint64_t)f.dma,
		 unbind ? "when its driver was unbound" : "at the end of the run");
	ck_report(c, &f);
}

/* Reported at an unbind already: not again at the end. */
static bool seen_at_unbind(struct ia_checker *c, const struct ck_owner *o)
{
	return o->dev < c->devlist.n && ia_u64map_get(&c->devlist.v[o->dev]->at_unbind, o->req_id);
}

static int live_entry(struct ia_inode *n, void *ctx)
{
	struct ia_checker *c = ctx;
	const struct ck_ptmap *m = ia_container_of(n, struct ck_ptmap, node);
	struct ck_owner own = ck_ptmap_owner(c, m);

	if (own.req_id && !seen_at_unbind(c, &own))
		report_live(c, &own, false, 0);
	return 0;
}

static void lifecycle_finish(struct ia_checker *c)
{
	__u64 k;
	void *v;

	for (size_t it = 0; ia_u64map_next(&c->domains, &it, &k, &v);)
		ia_itree_each(&((struct ck_domain *)v)->pt, live_entry, c);
	for (size_t i = 0; i < c->devlist.n; i++)
		for (size_t it = 0; ia_u64map_next(&c->devlist.v[i]->orphans, &it, &k, &v);)
			if (!seen_at_unbind(c, v))
				report_live(c, v, false, 0);
}

struct unbind_walk {
	struct ia_checker *c;
	struct ck_device *d;
	__u64 ts_ns;
};

static void report_at_unbind(struct ia_checker *c, struct ck_device *d, const struct ck_owner *o,
			     __u64 ts_ns)
{
	if (o->dev != d->stats_idx || seen_at_unbind(c, o))
		return;
	if (ia_u64map_put(&d->at_unbind, o->req_id, d, NULL))
		c->oom = true;
	report_live(c, o, true, ts_ns);
}

static int unbind_entry(struct ia_inode *n, void *ctx)
{
	const struct ck_ptmap *m = ia_container_of(n, struct ck_ptmap, node);
	struct unbind_walk *w = ctx;
	struct ck_owner own;

	if (!m->own.req)
		return 0;
	own = ck_ptmap_owner(w->c, m);
	report_at_unbind(w->c, w->d, &own, w->ts_ns);
	return 0;
}

/* Every live mapping of the device, in any domain (it may have moved). */
static void lifecycle_unbind(struct ia_checker *c, struct ck_device *d, __u64 ts_ns)
{
	struct unbind_walk w = { c, d, ts_ns };
	__u64 k;
	void *v;

	for (size_t it = 0; ia_u64map_next(&c->domains, &it, &k, &v);)
		ia_itree_each(&((struct ck_domain *)v)->pt, unbind_entry, &w);
	for (size_t it = 0; ia_u64map_next(&d->orphans, &it, &k, &v);)
		report_at_unbind(c, d, v, ts_ns);
}

const struct ck_invariant ck_inv_lifecycle = {
	.name = "lifecycle",
	.map = lifecycle_map,
	.unmap = lifecycle_unmap,
	.sync = lifecycle_sync,
	.unbind = lifecycle_unbind,
	.pt_unmap_outside = lifecycle_pt_unmap_outside,
	.finish = lifecycle_finish,
};
