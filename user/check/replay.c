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
#include "trace/trace.h"

/* Call callback CB of every invariant that has one, with ARGS. */
#define CK_EACH(cb, ...)						\
	for (size_t _i = 0; _i < ck_nr_invariants; _i++)		\
		if (ck_invariants[_i]->cb)				\
			ck_invariants[_i]->cb(__VA_ARGS__)

static void on_device(struct ia_checker *c, const struct ia_ev_device *e)
{
	struct ck_device *d = ck_device_get(c, e->dev);
	struct ck_domain *dom;

	if (!d)
		return;
	d->ctx = *e;
	d->has_ctx = true;
	memcpy(d->stats.name, e->name, sizeof(d->stats.name));
	d->stats.name[sizeof(d->stats.name) - 1] = 0;
	memcpy(d->stats.driver, e->driver, sizeof(d->stats.driver));
	d->stats.driver[sizeof(d->stats.driver) - 1] = 0;
	d->stats.domain_type = e->domain_type;
	d->stats.granule = e->granule;
	d->stats.untrusted = e->hdr.flags & IA_DEV_UNTRUSTED;
	if (e->domain && (dom = ck_domain_get(c, e->domain)) && e->granule)
		dom->granule = e->granule;
}

static void on_stack(struct ia_checker *c, const struct ia_ev_stack *e, size_t len)
{
	size_t fit = (len - sizeof(*e)) / sizeof(e->frames[0]);
	struct ck_stack *s;

	if (e->stack_id < 0 || ia_u64map_get(&c->stacks, (__u64)e->stack_id + 1))
		return;
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
		ia_u64map_del(&c->pending, e->hdr.req_id);
		evaluate(c, &p->req, p);
		ck_pending_free(p);
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
	CK_EACH(pt_map, c, e);
	ck_pt_insert(c, e->domain, e->iova, e->size, e->paddr);
}

static void on_pt_unmap(struct ia_checker *c, const struct ia_ev_pt *e)
{
	struct ck_domain *d = ck_domain_get(c, e->domain);
	struct ck_pending *p = ck_pending_get(c, e->hdr.req_id);

	/* result is what the IOMMU driver really removed, seen by us or not */
	if (p)
		p->pt_removed += e->result;
	if (d && e->result)
		ck_pt_remove(c, d, e->iova, e->iova + e->result, p);
}

static void on_bounce(struct ia_checker *c, const struct ia_ev_bounce *e)
{
	struct ck_pending *p = ck_pending_get(c, e->hdr.req_id);
	struct ck_bounce b = { e->orig_phys, e->tlb_phys, e->alloc_size };

	if (!p || e->tlb_phys == ~0ULL)
		return;
	CK_PUSH(c, p->bounces, b);
	if (p->bounced)
		return;
	p->bounced = true;
	p->bounce_tlb = e->tlb_phys;
}

static void on_page(struct ia_checker *c, const struct ia_ev_page *e)
{
	struct ck_pending *p = ck_pending_get(c, e->hdr.req_id);

	if (p)
		CK_PUSH(c, p->pages, *e);
}

/* A nested request's record: hand what it gathered to its parent. */
static void merge_into_parent(struct ia_checker *c, const struct ia_ev_req *e,
			      struct ck_pending *p)
{
	struct ck_pending *pp = ck_pending_get(c, e->parent_id);

	if (!pp)
		return;
	if (e->kind == IA_REQ_IOMMU_MAP && !(e->hdr.flags & IA_REQ_F_FAILED)) {
		pp->has_child = true;
		pp->child_phys = e->phys;
	}
	if (!p)
		return;
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
	if (p->bounced && !pp->bounced) {
		pp->bounced = true;
		pp->bounce_tlb = p->bounce_tlb;
	}
	if (p->has_child && !pp->has_child) {
		pp->has_child = true;
		pp->child_phys = p->child_phys;
	}
}

/* Run the invariants for a root request with what it did. */
static void evaluate(struct ia_checker *c, const struct ia_ev_req *e, struct ck_pending *p)
{
	static const struct ck_pending empty;
	struct ck_ctx x = { .c = c, .req = e };

	x.dev = ck_device_get(c, e->dev);
	x.p = p ? p : (struct ck_pending *)&empty;
	if (!x.dev) {
		ck_pending_free(p);
		return;
	}
	x.dom = x.dev->ctx.domain ? ia_u64map_get(&c->domains, x.dev->ctx.domain) : NULL;
	x.page_size = x.dev->ctx.page_size ? x.dev->ctx.page_size : CK_PAGE_SIZE;
	x.granule = x.dev->ctx.granule ? x.dev->ctx.granule : x.page_size;

	if (ck_kind_maps(e->kind)) {
		if (e->hdr.flags & IA_REQ_F_FAILED) {
			CK_EACH(map_failed, &x);
		} else {
			CK_EACH(map, &x);
		}
	} else if (ck_kind_unmaps(e->kind)) {
		CK_EACH(unmap, &x);
	} else if (e->kind == IA_REQ_GET_SGTABLE) {
		if (!(e->hdr.flags & IA_REQ_F_FAILED)) {
			CK_EACH(sgtable, &x);
		}
	} else {
		CK_EACH(sync, &x);
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
	struct ck_pending *p = ia_u64map_del(&c->pending, e->hdr.req_id);

	if (e->parent_id) {
		merge_into_parent(c, e, p);
		ck_pending_free(p);
		return;
	}
	if (has_output_walk(e)) {
		if (!p)
			p = calloc(1, sizeof(*p));
		if (p && !ia_u64map_put(&c->pending, e->hdr.req_id, p)) {
			p->awaiting_sg_out = true;
			p->req = *e;
			return;
		}
		c->oom = true;	/* check it now, without its output walk */
	}
	evaluate(c, e, p);
	ck_pending_free(p);
}


void ia_checker_event(struct ia_checker *c, const struct ia_ev_hdr *h, size_t len)
{
	if (len < sizeof(*h) || !h->type || h->type >= IA_EV_TYPE_MAX ||
	    len < ia_ev_min_size(h->type) || h->size > len) {
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
	case IA_EV_FREED:	CK_EACH(freed, c, (const void *)h); break;
	case IA_EV_REQ:		on_req(c, (const void *)h); break;
	case IA_EV_IOVA_FREE:
		CK_EACH(iova_free, c, (const void *)h, ia_u64map_get(&c->pending, h->req_id));
		break;
	case IA_EV_FQ_FLUSH:	CK_EACH(flush, c, (const void *)h); break;
	default:		break;	/* tracepoint cross-checks */
	}
}

void ia_checker_finish(struct ia_checker *c, __u64 lost)
{
	__u64 k;
	void *v;

	/* requests whose output walk never came (lost): check what we have */
	for (size_t it = 0; ia_u64map_next(&c->pending, &it, &k, &v);) {
		struct ck_pending *p = v;

		if (p->awaiting_sg_out) {
			p->awaiting_sg_out = false;
			evaluate(c, &p->req, p);
		}
	}
	CK_EACH(finish, c);
	if (!lost)
		return;
	/* a lost map, unmap, page-table or flush record could explain any of
	 * these; a lazy window is a measurement of what was seen */
	for (size_t i = 0; i < c->findings.n; i++)
		if (strcmp(c->findings.v[i].code, "temporal.lazy_window"))
			c->findings.v[i].uncertain = true;
}
