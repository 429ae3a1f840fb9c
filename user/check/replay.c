// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The checker's upper layer: replays event records into the shadow state
 * (shadow.c) and hands each completed request, page-table write, IOVA
 * release and flush to the invariants through their table (invariant.h).
 *
 * Order of records (docs/architecture.md): inside a request, the scatterlist
 * input walk, bounce slots, page-table writes and removals and IOVA releases
 * come first, each carrying the id of the innermost request in flight; nested
 * request records come before their parent's; the root request record comes
 * last. So everything is gathered in a pending entry under the request id,
 * nested entries are merged into their parent's, and the invariants run when
 * the root record arrives, with the domain's page tables already updated.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "check/invariant.h"
#include "check/devstats.h"
#include "trace/trace.h"

/* Which invariants have each callback (c->callers, made once). */
static const struct ck_callers *callers(struct ia_checker *c)
{
	struct ck_callers *k = &c->callers;

	if (k->built)
		return k;
	for (size_t i = 0; i < ck_nr_invariants; i++) {
		const struct ck_invariant *inv = ck_invariants[i];

#define CK_CB_ADD(cb)	if (inv->cb)							\
				k->row[CK_CB_##cb].inv[k->row[CK_CB_##cb].n++] = (__u8)i;
		CK_CALLBACKS(CK_CB_ADD)
#undef CK_CB_ADD
	}
	k->built = true;
	return k;
}

/* Call callback CB of every invariant that has one (in table order), with
 * ARGS; C is the checker. */
#define CK_EACH(c, cb, ...)							\
	for (size_t _i = 0, _n = callers(c)->row[CK_CB_##cb].n; _i < _n; _i++)	\
		ck_invariants[(c)->callers.row[CK_CB_##cb].inv[_i]]->cb(__VA_ARGS__)

static void on_device(struct ia_checker *c, const struct ia_ev_device *e)
{
	struct ck_device *d = ck_device_get(c, e->dev);
	struct ck_domain *dom;

	if (!d)
		return;
	if (e->hdr.flags & IA_DEV_UNBOUND) {
		CK_EACH(c, unbind, c, d, e->hdr.ts_ns);
		/* the device keeps the name of the driver it had in reports */
		memcpy(d->stats.driver, d->ctx.driver, sizeof(d->stats.driver));
	}
	d->ctx = *e;
	d->has_ctx = true;
	memcpy(d->stats.name, e->name, sizeof(d->stats.name));
	d->stats.name[sizeof(d->stats.name) - 1] = 0;
	if (!(e->hdr.flags & IA_DEV_UNBOUND))
		memcpy(d->stats.driver, e->driver, sizeof(d->stats.driver));
	d->stats.driver[sizeof(d->stats.driver) - 1] = 0;
	d->stats.domain_type = e->domain_type;
	d->stats.granule = e->granule;
	d->stats.untrusted = e->hdr.flags & IA_DEV_UNTRUSTED;
	if (e->domain && (dom = ck_domain_get(c, e->domain)) && e->granule)
		dom->granule = e->granule;
	ck_oracle_device(c, d);
}

static void on_stack(struct ia_checker *c, const struct ia_ev_stack *e, size_t len)
{
	size_t fit = (len - sizeof(*e)) / sizeof(e->frames[0]);
	struct ck_stack *s;

	if (e->stack_id < 0 || ia_u64map_get(&c->stacks, (__u64)e->stack_id + 1))
		return;
	if (c->lim.stacks && c->stacks.len >= c->lim.stacks) {
		c->stacks_dropped++;	/* its findings have no call site */
		return;
	}
	s = ck_get_or_new(c, &c->stacks, (__u64)e->stack_id + 1, sizeof(*s));
	if (!s)
		return;
	for (__u32 i = 0; i < e->nr && i < fit && i < IA_STACK_DEPTH; i++) {
		memcpy(s->sym[i], e->frames[i].sym, IA_SYM_LEN);
		s->sym[i][IA_SYM_LEN - 1] = 0;
		s->nr = i + 1;
	}
}

static void evaluate(struct ia_checker *c, const struct ia_ev_req *e, struct ck_pending *p);

static void on_sg(struct ia_checker *c, const struct ia_ev_sg *e)
{
	struct ck_pending *p = ck_pending_get(c, e->hdr.req_id);
	__u32 n = e->count < IA_SG_CHUNK ? e->count : IA_SG_CHUNK;

	if (!p)
		return;
	if ((e->hdr.flags & IA_SG_OUTPUT) && (e->hdr.flags & IA_SG_LAST_CHUNK) &&
	    p->awaiting_sg_out) {
		/* the walk is complete: the request can be checked now */
		for (__u32 i = 0; i < n; i++) {
			struct ck_seg s = { e->segs[i].phys, e->segs[i].dma, e->segs[i].len,
					    e->segs[i].dma_len };

			CK_PUSH(c, p->sg_out, s);
		}
		p->sg_truncated |= e->hdr.flags & IA_SG_TRUNCATED;
		ia_u64stage_del(&c->pending, e->hdr.req_id);
		evaluate(c, &p->req, p);
		ck_pending_release(c, p);
		return;
	}
	if (e->hdr.flags & IA_SG_TRUNCATED)
		p->sg_truncated = true;
	for (__u32 i = 0; i < n; i++) {
		struct ck_seg s = { e->segs[i].phys, e->segs[i].dma, e->segs[i].len,
				    e->segs[i].dma_len };

		if (e->hdr.flags & IA_SG_OUTPUT)
			CK_PUSH(c, p->sg_out, s);
		else
			CK_PUSH(c, p->sg_in, s);
	}
}

static void on_pt_map(struct ia_checker *c, const struct ia_ev_pt *e)
{
	struct ck_pending *p = ck_pending_get(c, e->hdr.req_id);
	struct ck_pt w = { e->iova, e->paddr, e->size, (__s64)e->result };

	if (p)
		CK_PUSH(c, p->maps, w);
	if (w.result || !e->size)
		return;	/* refused: nothing reachable */
	CK_EACH(c, pt_map, c, e);
	ck_pt_insert(c, e->domain, e->iova, e->size, e->paddr);
	ck_oracle_touch(c, e->domain, e->iova, e->iova + e->size);
}

static void on_pt_unmap(struct ia_checker *c, const struct ia_ev_pt *e)
{
	struct ck_domain *d = ck_domain_get(c, e->domain);
	struct ck_pending *p = ck_pending_get(c, e->hdr.req_id);

	/* result is what the IOMMU driver really removed, seen by us or not */
	if (p)
		p->pt_removed += e->result;
	if (d && e->result) {
		if (!e->hdr.req_id)
			CK_EACH(c, pt_unmap_outside, c, d, e);
		ck_pt_remove(c, d, e->iova, e->iova + e->result, p);
		if (p)
			ck_pending_removed(p, d, e->iova, e->iova + e->result);
	}
	/* what it asked to remove: a removal stopped short is in flight too */
	ck_oracle_touch(c, e->domain, e->iova, e->iova + (e->size > e->result ? e->size : e->result));
}

static void on_bounce(struct ia_checker *c, const struct ia_ev_bounce *e)
{
	struct ck_pending *p = ck_pending_get(c, e->hdr.req_id);
	struct ck_bounce b = { e->orig_phys, e->tlb_phys, e->alloc_size };

	if (p && e->tlb_phys == ~0ULL)
		p->bounce_failed = true;
	if (!p || e->tlb_phys == ~0ULL)
		return;
	CK_PUSH(c, p->bounces, b);
	if (p->bounced)
		return;
	p->bounced = true;
	p->bounce_tlb = e->tlb_phys;
}

/*
 * What tells why a map failed, from a nested request's record e and its
 * pending state p (NULL when it had no records of its own): a failed
 * __iommu_dma_map that made no write found no IOVA; a failed map_page that
 * neither bounced nor reached __iommu_dma_map stopped at dma-iommu's
 * "bounce buffers are inactive" check.
 */
static void merge_failure(struct ck_pending *pp, const struct ia_ev_req *e,
			  const struct ck_pending *p)
{
	bool failed = e->hdr.flags & IA_REQ_F_FAILED;

	if (p) {
		pp->saw_iommu_map |= p->saw_iommu_map;
		pp->bounce_failed |= p->bounce_failed;
		if (p->iova_failed && !pp->iova_failed) {
			pp->iova_failed = true;
			pp->iova_phys = p->iova_phys;
			pp->iova_size = p->iova_size;
		}
		if (p->not_bounced && !pp->not_bounced) {
			pp->not_bounced = true;
			pp->nb_phys = p->nb_phys;
			pp->nb_size = p->nb_size;
		}
	}
	if (e->kind == IA_REQ_IOMMU_MAP) {
		pp->saw_iommu_map = true;
		if (failed && !(p && p->maps.n) && !pp->iova_failed) {
			pp->iova_failed = true;
			pp->iova_phys = e->phys;
			pp->iova_size = e->size;
		}
	} else if (e->kind == IA_REQ_MAP_PAGE && failed && !pp->not_bounced &&
		   !(p && (p->saw_iommu_map || p->bounced || p->bounce_failed))) {
		pp->not_bounced = true;
		pp->nb_phys = e->phys;
		pp->nb_size = e->size;
	}
}

static void on_page(struct ia_checker *c, const struct ia_ev_page *e)
{
	struct ck_pending *p = ck_pending_get(c, e->hdr.req_id);

	if (p)
		CK_PUSH(c, p->pages, *e);
}

/*
 * A parent with nothing pending yet (the usual case: map_page's
 * __iommu_dma_map child made its writes) takes its child's entry as its
 * own: merged into an empty entry it would be copied as it is. What the
 * merge would not copy is made as it would be: a new entry's generation,
 * and removals whose range a write has changed since, which make the
 * merged entry's removals mixed (ck_pending_removed_merge). Returns false
 * when the parent already has an entry (or there is no memory).
 */
static bool adopt(struct ia_checker *c, __u64 parent, struct ck_pending *p)
{
	int added;
	void **slot = ia_u64stage_slot(&c->pending, parent, &added);

	if (!slot || !added)
		return false;
	*slot = p;
	p->gen = c->gen;
	if (!p->rm_mixed && p->rm_dom && p->rm_gen != p->rm_dom->inserts)
		p->rm_mixed = true;
	return true;
}

/* A nested request's record: hand what it gathered (p: NULL if nothing)
 * to its parent. Returns true when p became the parent's entry. */
static bool merge_into_parent(struct ia_checker *c, const struct ia_ev_req *e,
			      struct ck_pending *p)
{
	bool adopted = p && adopt(c, e->parent_id, p);
	struct ck_pending *pp = adopted ? p : ck_pending_get(c, e->parent_id);

	if (!pp)
		return false;
	if (e->kind == IA_REQ_IOMMU_MAP && !(e->hdr.flags & IA_REQ_F_FAILED)) {
		pp->has_child = true;
		pp->child_phys = e->phys;
	}
	merge_failure(pp, e, p);
	if (!p || adopted)
		return adopted;
	for (size_t i = 0; i < p->maps.n; i++)
		CK_PUSH(c, pp->maps, p->maps.v[i]);
	for (size_t i = 0; i < p->unmaps.n; i++)
		CK_PUSH(c, pp->unmaps, p->unmaps.v[i]);
	for (size_t i = 0; i < p->sg_in.n; i++)
		CK_PUSH(c, pp->sg_in, p->sg_in.v[i]);
	for (size_t i = 0; i < p->sg_out.n; i++)
		CK_PUSH(c, pp->sg_out, p->sg_out.v[i]);
	for (size_t i = 0; i < p->bounces.n; i++)
		CK_PUSH(c, pp->bounces, p->bounces.v[i]);
	for (size_t i = 0; i < p->pages.n; i++)
		CK_PUSH(c, pp->pages, p->pages.v[i]);
	pp->sg_truncated |= p->sg_truncated;
	pp->pt_removed += p->pt_removed;
	ck_pending_removed_merge(pp, p);
	if (p->bounced && !pp->bounced) {
		pp->bounced = true;
		pp->bounce_tlb = p->bounce_tlb;
	}
	if (p->has_child && !pp->has_child) {
		pp->has_child = true;
		pp->child_phys = p->child_phys;
	}
	return false;
}

/* What the invariants see of root request e; false without a device. */
static bool ctx_init(struct ck_ctx *x, struct ia_checker *c, const struct ia_ev_req *e,
		     struct ck_pending *p)
{
	static const struct ck_pending empty;

	*x = (struct ck_ctx){ .c = c, .req = e };
	x->dev = ck_device_get(c, e->dev);
	x->p = p ? p : (struct ck_pending *)&empty;
	if (!x->dev)
		return false;
	x->dom = x->dev->ctx.domain ? ck_domain_find(c, x->dev->ctx.domain) : NULL;
	x->page_size = x->dev->ctx.page_size ? x->dev->ctx.page_size : CK_PAGE_SIZE;
	x->granule = x->dev->ctx.granule ? x->dev->ctx.granule : x->page_size;
	return true;
}

/* Run the invariants for a root request with what it did. P stays the
 * caller's: every caller frees it (or leaves it in c->pending) afterwards. */
static void evaluate(struct ia_checker *c, const struct ia_ev_req *e, struct ck_pending *p)
{
	struct ck_ctx x;

	if (!ctx_init(&x, c, e, p))
		return;	/* no device to check it against (dev 0, or out of memory) */

	if (ck_kind_maps(e->kind)) {
		if (e->hdr.flags & IA_REQ_F_FAILED) {
			CK_EACH(c, map_failed, &x);
		} else {
			CK_EACH(c, map, &x);
		}
	} else if (ck_kind_unmaps(e->kind)) {
		CK_EACH(c, unmap, &x);
	} else if (e->kind == IA_REQ_GET_SGTABLE) {
		if (!(e->hdr.flags & IA_REQ_F_FAILED)) {
			CK_EACH(c, sgtable, &x);
		}
	} else {
		CK_EACH(c, sync, &x);
	}
}

/* The output walk of a map_sg (or the table an alloc_noncontiguous made,
 * or the one a get_sgtable exported) is emitted after its request record. */
static bool has_output_walk(const struct ia_ev_req *e)
{
	return !(e->hdr.flags & IA_REQ_F_FAILED) &&
	       (e->kind == IA_REQ_MAP_SG || e->kind == IA_REQ_ALLOC_NONCONTIG ||
		e->kind == IA_REQ_GET_SGTABLE);
}

static void on_req(struct ia_checker *c, const struct ia_ev_req *e)
{
	struct ck_pending *p = ia_u64stage_del(&c->pending, e->hdr.req_id);

	if (e->parent_id) {
		if (!merge_into_parent(c, e, p))
			ck_pending_release(c, p);
		return;
	}
	if (has_output_walk(e)) {
		if (!p)
			p = ck_pending_new(c);
		if (p && !ia_u64stage_put(&c->pending, e->hdr.req_id, p)) {
			p->awaiting_sg_out = true;
			p->req = *e;
			return;
		}
		c->oom = true;	/* check it now, without its output walk */
	}
	evaluate(c, e, p);
	ck_pending_release(c, p);
}

/* Does [a, a + len) run past the end of the 64-bit address space? */
static bool wraps(__u64 a, __u64 len)
{
	return len > UINT64_MAX - a;
}

/* 0 (unknown: a fallback is used) or a power of two in [min, max]. */
static bool sane_size(__u64 v, __u64 min, __u64 max)
{
	return !v || (!(v & (v - 1)) && v >= min && v <= max);
}

static bool req_sane(const struct ia_ev_req *e)
{
	/* ids are the BPF side's, from 1: 0 means "no request" elsewhere */
	if (!e->hdr.req_id || wraps(e->phys, e->size))
		return false;
	/* a failed map's handle is DMA_MAPPING_ERROR (~0): not a range; nor
	 * is an unmap's of it (a driver that never checked its map failed:
	 * lifecycle.unmap_unknown, dma-debug's "invalid DMA memory address") */
	return ((e->hdr.flags & IA_REQ_F_FAILED) && ck_kind_maps(e->kind)) ||
	       (e->dma == ~0ULL && ck_kind_unmaps(e->kind)) || !wraps(e->dma, e->size);
}

static bool sg_sane(const struct ia_ev_sg *e)
{
	for (__u32 i = 0; i < e->count && i < IA_SG_CHUNK; i++)
		if (wraps(e->segs[i].phys, e->segs[i].len) ||
		    (e->segs[i].dma_len && wraps(e->segs[i].dma, e->segs[i].dma_len)))
			return false;
	return true;
}

/*
 * A call of the IOVA API: a kind of that API, and no range (the reservation,
 * the bytes linked, the offset into the reservation) past the end of the
 * address space.
 */
static bool iova_sane(const struct ia_ev_iova *e)
{
	__u64 size = e->state_size & ~IA_IOVA_SWIOTLB;

	if (e->kind < IA_REQ_IOVA_TRY_ALLOC || e->kind > IA_REQ_IOVA_FREE)
		return false;
	if (wraps(e->addr, size) || wraps(e->offset, e->size) ||
	    wraps(e->addr, e->offset + e->size))
		return false;
	return e->kind != IA_REQ_IOVA_LINK || !wraps(e->phys, e->size);
}

/*
 * What a record may claim: no range past the end of the address space, and
 * a device's page size and granule powers of two of a size some kernel
 * uses. Everything the invariants compute from a record is then bounded by
 * the record itself (docs/checks.md, "Hostile input").
 */
/*
 * A page-table snapshot record: its ranges fit in it (count at most
 * IA_SNAP_CHUNK), none wraps or is empty, levels are VT-d's. An END
 * record's count is the devices (no ranges follow).
 */
static bool snap_sane(const struct ia_ev_pt_snap *e)
{
	if (!e->snap || !e->why || e->why >= IA_SNAP_WHY_MAX)
		return false;
	if (e->hdr.flags & (IA_SNAP_BEGIN | IA_SNAP_END))
		return true;
	if (e->count > IA_SNAP_CHUNK ||
	    e->hdr.size < sizeof(*e) + (size_t)e->count * sizeof(e->r[0]))
		return false;
	for (__u32 i = 0; i < e->count; i++)
		if (!e->r[i].size || wraps(e->r[i].iova, e->r[i].size) ||
		    wraps(e->r[i].paddr, e->r[i].size) || !e->r[i].level || e->r[i].level > 5)
			return false;
	return true;
}

static bool record_sane(const struct ia_ev_hdr *h)
{
	const struct ia_ev_pt *pt = (const void *)h;
	const struct ia_ev_device *d = (const void *)h;
	const struct ia_ev_bounce *b = (const void *)h;
	const struct ia_ev_iova_free *f = (const void *)h;

	switch (h->type) {
	case IA_EV_DEVICE:
		return sane_size(d->page_size, CK_PAGE_MIN, CK_PAGE_MAX) &&
		       sane_size(d->granule, CK_GRANULE_MIN, CK_GRANULE_MAX);
	case IA_EV_REQ:
		return req_sane((const void *)h);
	case IA_EV_SG:
		return sg_sane((const void *)h);
	case IA_EV_PT_MAP:
		return pt->result || (!wraps(pt->iova, pt->size) && !wraps(pt->paddr, pt->size));
	case IA_EV_PT_UNMAP:
		return !wraps(pt->iova, pt->size) && !wraps(pt->iova, pt->result);
	case IA_EV_BOUNCE:
		return b->tlb_phys == ~0ULL ||
		       (!wraps(b->tlb_phys, b->alloc_size) && !wraps(b->orig_phys, b->alloc_size));
	case IA_EV_IOVA_FREE:
		return !wraps(f->iova, f->size);
	case IA_EV_IOVA:
		return iova_sane((const void *)h);
	case IA_EV_PT_SNAP:
		return snap_sane((const void *)h);
	case IA_EV_PAGE:	/* indexes the per-kind byte counts */
		return ((const struct ia_ev_page *)h)->kind < IA_PAGE_KIND_MAX;
	default:
		return true;
	}
}

/*
 * A call of the two-step IOVA API. Nested ones (destroy -> free, a failed
 * link's unlink) hand what they did to their parent, as nested requests do.
 * A root one updates the reservation's shadow; a link is then also checked
 * as the mapping it is (the map invariants, kind IA_REQ_IOVA_LINK), before
 * the iova callbacks see what the call did.
 */
static void on_iova(struct ia_checker *c, const struct ia_ev_iova *e)
{
	struct ck_pending *p = ia_u64stage_del(&c->pending, e->hdr.req_id);
	struct ck_iova_ctx xi = { .e = e };
	struct ia_ev_req r;

	ia_iova_as_req(e, &r);
	if (e->parent_id) {
		if (!merge_into_parent(c, &r, p))
			ck_pending_free(p);
		return;
	}
	if (ctx_init(&xi.x, c, &r, p)) {
		ck_iova_apply(&xi);
		if (e->kind == IA_REQ_IOVA_LINK)
			evaluate(c, &r, p);
		CK_EACH(c, iova, &xi);
	}
	ck_pending_free(p);
}

void ia_checker_event(struct ia_checker *c, const struct ia_ev_hdr *h, size_t len)
{
	if (len < sizeof(*h) || !h->type || h->type >= IA_EV_TYPE_MAX ||
	    len < ia_ev_min_size(h->type) || h->size > len || !record_sane(h)) {
		c->malformed++;
		return;
	}
	switch (h->type) {
	case IA_EV_DEVICE:	on_device(c, (const void *)h); break;
	case IA_EV_STACK:	on_stack(c, (const void *)h, h->size); break;
	case IA_EV_SG:		on_sg(c, (const void *)h); break;
	case IA_EV_PT_MAP:	on_pt_map(c, (const void *)h); break;
	case IA_EV_PT_UNMAP:	on_pt_unmap(c, (const void *)h); break;
	case IA_EV_BOUNCE:	on_bounce(c, (const void *)h); break;
	case IA_EV_PAGE:	on_page(c, (const void *)h); break;
	case IA_EV_FREED:	CK_EACH(c, freed, c, (const void *)h); break;
	case IA_EV_REQ:		on_req(c, (const void *)h); break;
	case IA_EV_IOVA:	on_iova(c, (const void *)h); break;
	case IA_EV_IOVA_FREE:
		CK_EACH(c, iova_free, c, (const void *)h, ia_u64stage_get(&c->pending, h->req_id));
		break;
	case IA_EV_FQ_FLUSH:	CK_EACH(c, flush, c, (const void *)h); break;
	case IA_EV_PT_SNAP:
		if (ck_oracle_add(c, (const void *)h)) {
			CK_EACH(c, snapshot, c);
			ck_oracle_close(c);
		}
		break;
	default:		break;	/* tracepoint cross-checks */
	}
}

void ia_checker_finish(struct ia_checker *c, __u64 lost)
{
	__u64 k;
	void *v;

	/* requests whose output walk never came (lost): check what we have */
	for (size_t it = 0; ia_u64map_next(ia_u64stage_map(&c->pending), &it, &k, &v);) {
		struct ck_pending *p = v;

		if (p->awaiting_sg_out) {
			p->awaiting_sg_out = false;
			evaluate(c, &p->req, p);
		}
	}
	CK_EACH(c, finish, c);
	if (!lost)
		return;
	/* a lost map, unmap, page-table or flush record could explain any of
	 * these; a lazy window is a measurement of what was seen */
	for (size_t i = 0; i < c->findings.n; i++)
		if (strcmp(c->findings.v[i].code, "temporal.lazy_window"))
			c->findings.v[i].uncertain = true;
}

size_t ia_checker_expire(struct ia_checker *c)
{
	CK_VEC(__u64) old = { 0 };
	size_t n;
	__u64 k;
	void *v;

	for (size_t it = 0; ia_u64map_next(ia_u64stage_map(&c->pending), &it, &k, &v);)
		if (((struct ck_pending *)v)->gen != c->gen)
			CK_PUSH(c, old, k);
	for (size_t i = 0; i < old.n; i++) {
		struct ck_pending *p = ia_u64stage_del(&c->pending, old.v[i]);

		/* a root request whose output walk never came: check what we
		 * have, as ia_checker_finish() does */
		if (p->awaiting_sg_out) {
			p->awaiting_sg_out = false;
			evaluate(c, &p->req, p);
		}
		ck_pending_free(p);
	}
	n = old.n;
	free(old.v);
	c->pending_expired += n;
	c->gen++;
	return n;
}

void ia_checker_keep_maps(struct ia_checker *c, size_t max)
{
	c->keep_maps = max;
}

const struct ia_oracle_stats *ia_checker_oracle(const struct ia_checker *c)
{
	return &c->oracle.st;
}

const struct ia_map_sample *ia_checker_dev_maps(const struct ia_checker *c, size_t i,
						 size_t *n)
{
	*n = i < c->devlist.n ? c->devlist.v[i]->samples.n : 0;
	return *n ? c->devlist.v[i]->samples.v : NULL;
}
