// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Shadow state and event replay for the checker.
 *
 * Order of records (docs/architecture.md): inside a request, the scatterlist
 * input walk, bounce slots, page-table writes and removals and IOVA releases
 * come first, each carrying the id of the innermost request in flight; nested
 * request records come before their parent's; the root request record comes
 * last. So everything is gathered in a pending entry under the request id,
 * nested entries are merged into their parent's, and the invariants run when
 * the root record arrives, with the domain's page tables already updated.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "check/shadow.h"
#include "live/coverage.h"
#include "check/devstats.h"
#include "out/findings_out.h"
#include "trace/trace.h"

int ck_vec_grow(void **v, size_t *cap, size_t elem, size_t need)
{
	size_t ncap;
	void *nv;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 4;
	while (ncap < need)
		ncap *= 2;
	nv = realloc(*v, ncap * elem);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

bool ck_kind_maps(__u32 k)
{
	return k == IA_REQ_MAP_PAGE || k == IA_REQ_MAP_SG || k == IA_REQ_MAP_RESOURCE ||
	       k == IA_REQ_ALLOC || k == IA_REQ_ALLOC_NONCONTIG || k == IA_REQ_ALLOC_PAGES ||
	       k == IA_REQ_IOMMU_MAP;
}

bool ck_kind_unmaps(__u32 k)
{
	return k == IA_REQ_UNMAP_PAGE || k == IA_REQ_UNMAP_SG ||
	       k == IA_REQ_UNMAP_RESOURCE || k == IA_REQ_FREE ||
	       k == IA_REQ_FREE_NONCONTIG || k == IA_REQ_FREE_PAGES;
}

struct ia_checker *ia_checker_new(void)
{
	struct ia_checker *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	ia_u64map_init(&c->devs);
	ia_u64map_init(&c->domains);
	ia_u64map_init(&c->pending);
	ia_u64map_init(&c->stacks);
	ia_u64map_init(&c->fq);
	ia_u64map_init(&c->fp);
	ia_itree_init(&c->stale);
	return c;
}

static void pending_free(struct ck_pending *p)
{
	if (!p)
		return;
	free(p->maps.v);
	free(p->unmaps.v);
	free(p->sg_in.v);
	free(p->sg_out.v);
	free(p->bounces.v);
	free(p);
}

static void free_ptmap(struct ia_inode *n, void *ctx)
{
	(void)ctx;
	free(ia_container_of(n, struct ck_ptmap, node));
}

void ia_checker_free(struct ia_checker *c)
{
	__u64 k;
	void *v;

	if (!c)
		return;
	for (size_t it = 0; ia_u64map_next(&c->devs, &it, &k, &v);) {
		struct ck_device *d = v;

		for (size_t i2 = 0; ia_u64map_next(&d->subbufs, &i2, &k, &v);)
			for (struct ck_subbuf *b = v, *next; b; b = next) {
				next = b->next;
				free(b);
			}
		ia_u64map_free(&d->subbufs);
		ia_u64map_free_values(&d->orphans);
		ia_u64map_free(&d->unmapped);
		free(d);
	}
	for (size_t it = 0; ia_u64map_next(&c->domains, &it, &k, &v);) {
		struct ck_domain *d = v;

		ia_itree_destroy(&d->pt, free_ptmap, NULL);
		free(d);
	}
	for (size_t it = 0; ia_u64map_next(&c->pending, &it, &k, &v);)
		pending_free(v);
	for (size_t it = 0; ia_u64map_next(&c->fq, &it, &k, &v);) {
		for (struct ck_queued *q = v, *next; q; q = next) {
			next = q->next;
			free(q);
		}
	}
	ia_u64map_free(&c->devs);
	ia_u64map_free(&c->domains);
	ia_u64map_free(&c->pending);
	ia_u64map_free_values(&c->stacks);
	ia_u64map_free(&c->fq);
	ia_u64map_free(&c->fp);
	free(c->findings.v);
	free(c->devlist.v);
	free(c->devstats);
	free(c);
}

static void *get_or_new(struct ia_checker *c, struct ia_u64map *m, __u64 key, size_t size)
{
	void *v = ia_u64map_get(m, key);

	if (v || !key)
		return v;
	v = calloc(1, size);
	if (!v || ia_u64map_put(m, key, v)) {
		free(v);
		c->oom = true;
		return NULL;
	}
	return v;
}

static struct ck_device *device(struct ia_checker *c, __u64 dev)
{
	struct ck_device *d = ia_u64map_get(&c->devs, dev);

	if (d || !dev)
		return d;
	d = get_or_new(c, &c->devs, dev, sizeof(*d));
	if (!d)
		return NULL;
	ia_itree_init(&d->live_phys);
	ia_u64map_init(&d->subbufs);
	ia_u64map_init(&d->orphans);
	ia_u64map_init(&d->unmapped);
	snprintf(d->stats.name, sizeof(d->stats.name), "dev@%" PRIx64, (uint64_t)dev);
	d->ctx.dev = dev;
	d->ctx.group_id = -1;
	if (CK_PUSH(c, c->devlist, d))
		return d;	/* still usable; only missing from reports */
	d->stats_idx = c->devlist.n - 1;
	return d;
}

static struct ck_domain *domain(struct ia_checker *c, __u64 dom)
{
	return get_or_new(c, &c->domains, dom, sizeof(struct ck_domain));
}

static struct ck_pending *pending(struct ia_checker *c, __u64 req)
{
	return req ? get_or_new(c, &c->pending, req, sizeof(struct ck_pending)) : NULL;
}

bool ck_translate(const struct ck_domain *d, __u64 iova, __u64 *phys, __u64 *run_end)
{
	struct ia_inode *n = d ? ia_itree_find(&d->pt, iova) : NULL;
	const struct ck_ptmap *m;

	if (!n)
		return false;
	m = ia_container_of(n, struct ck_ptmap, node);
	*phys = m->paddr + (iova - n->start);
	*run_end = n->end;
	return true;
}

/* ---- findings ---------------------------------------------------------- */

/* Frames of the DMA API itself are not the call site. */
static bool core_frame(const char *sym)
{
	static const char *const prefixes[] = {
		"iommu_dma_", "__iommu_dma_", "dma_", "__dma_", "debug_dma_",
		"dma_common_", "bpf_", "?",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(sym, prefixes[i], strlen(prefixes[i])))
			return true;
	return !sym[0];
}

static void fill_site(struct ia_checker *c, struct ia_finding *f, __s32 stack_id)
{
	const struct ck_stack *s = stack_id >= 0 ?
		ia_u64map_get(&c->stacks, (__u64)stack_id + 1) : NULL;
	__u32 i = 0, k = 0;

	memset(f->site, 0, sizeof(f->site));
	if (!s)
		return;
	while (i < s->nr && core_frame(s->sym[i]))
		i++;
	for (; i < s->nr && k < IA_SITE_FRAMES; i++, k++)
		memcpy(f->site[k], s->sym[i], IA_SYM_LEN);
}

void ck_finding_init_dev(struct ia_checker *c, struct ck_device *d,
			 struct ia_finding *f, __u32 inv, __u32 sev, const char *code,
			 __s32 stack_id)
{
	memset(f, 0, sizeof(*f));
	f->invariant = inv;
	f->severity = sev;
	f->code = code;
	f->count = 1;
	if (d) {
		memcpy(f->device, d->stats.name, sizeof(f->device));
		memcpy(f->driver, d->stats.driver, sizeof(f->driver));
		f->untrusted = d->stats.untrusted;
		f->granule = d->stats.granule;
	}
	fill_site(c, f, stack_id);
}

void ck_finding_init(const struct ck_ctx *x, struct ia_finding *f, __u32 inv,
		     __u32 sev, const char *code)
{
	ck_finding_init_dev(x->c, x->dev, f, inv, sev, code, x->req->stack_id);
	f->ts_ns = x->req->hdr.ts_ns;
	f->req_kind = x->req->kind;
	f->req_id = x->req->hdr.req_id;
	/* a scatterlist longer than the BPF walk: part of it was not seen */
	f->uncertain = x->p->sg_truncated;
	f->dma = x->req->dma;
	f->phys = x->req->phys;
	f->len = x->req->size;
	f->granule = x->granule;
}

void ck_report(struct ia_checker *c, struct ia_finding *f)
{
	struct ia_finding *old;
	__u64 key;
	size_t idx;

	ia_finding_fingerprint(f);
	key = ia_fingerprint_key(f->fingerprint);
	idx = (size_t)(uintptr_t)ia_u64map_get(&c->fp, key);
	if (idx) {
		old = &c->findings.v[idx - 1];
		old->count += f->count;
		old->exposed_bytes += f->exposed_bytes;
		old->exposed_pages += f->exposed_pages;
		if (f->value > old->value)
			old->value = f->value;
		if (f->severity > old->severity)
			old->severity = f->severity;
		old->uncertain = old->uncertain && f->uncertain;
		return;
	}
	if (CK_PUSH(c, c->findings, *f))
		return;
	if (ia_u64map_put(&c->fp, key, (void *)(uintptr_t)c->findings.n))
		c->oom = true;
}

/* ---- event replay -------------------------------------------------------- */

static void on_device(struct ia_checker *c, const struct ia_ev_device *e)
{
	struct ck_device *d = device(c, e->dev);
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
	if (e->domain && (dom = domain(c, e->domain)) && e->granule)
		dom->granule = e->granule;
}

static void on_stack(struct ia_checker *c, const struct ia_ev_stack *e, size_t len)
{
	size_t fit = (len - sizeof(*e)) / sizeof(e->frames[0]);
	struct ck_stack *s;

	if (e->stack_id < 0 || ia_u64map_get(&c->stacks, (__u64)e->stack_id + 1))
		return;
	s = get_or_new(c, &c->stacks, (__u64)e->stack_id + 1, sizeof(*s));
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
	struct ck_pending *p = pending(c, e->hdr.req_id);
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
		pending_free(p);
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
	struct ck_pending *p = pending(c, e->hdr.req_id);
	struct ck_pt w = { e->iova, e->paddr, e->size, (__s64)e->result };
	struct ck_domain *d;
	struct ck_ptmap *m;

	if (p)
		CK_PUSH(c, p->maps, w);
	if (w.result || !e->size)
		return;	/* refused: nothing reachable */
	ck_inv_temporal_pt_map(c, e);
	d = domain(c, e->domain);
	m = d ? calloc(1, sizeof(*m)) : NULL;
	if (!m) {
		c->oom = true;
		return;
	}
	m->node.start = e->iova;
	m->node.end = e->iova + e->size;
	m->paddr = e->paddr;
	ia_itree_insert(&d->pt, &m->node);
}

struct trim_ctx {
	__u64 start, end;
	struct ia_inode *hit;
};

static int first_hit(struct ia_inode *n, void *ctx)
{
	((struct trim_ctx *)ctx)->hit = n;
	return 1;
}

/*
 * Remove [start, end) from a domain's shadow, splitting mappings that stick
 * out; each removed piece is recorded in p with its phys, and with the live
 * mapping whose handle it held, if any (the piece keeps the owner whose
 * handle it contains; a kept head or tail keeps it otherwise).
 */
static void pt_remove(struct ia_checker *c, struct ck_domain *d, __u64 start, __u64 end,
		      struct ck_pending *p)
{
	struct trim_ctx t = { start, end, NULL };

	while (t.hit = NULL, ia_itree_overlaps(&d->pt, start, end, first_hit, &t), t.hit) {
		struct ck_ptmap *m = ia_container_of(t.hit, struct ck_ptmap, node);
		__u64 ms = m->node.start, me = m->node.end, pa = m->paddr;
		__u64 cs = ms > start ? ms : start, ce = me < end ? me : end;
		struct ck_pt gone = { cs, pa + (cs - ms), ce - cs, (__s64)(ce - cs) };
		struct ck_owner own = m->own;
		bool in_gone = own.req_id && own.dma >= cs && own.dma < ce;

		ia_itree_remove(&d->pt, &m->node);
		if (in_gone) {
			gone.own = own;
			own.req_id = 0;
		}
		if (p)
			CK_PUSH(c, p->unmaps, gone);
		if (ms < cs) {	/* keep the head */
			m->node.end = cs;
			m->own = own.req_id && own.dma < cs ? own : (struct ck_owner){ 0 };
			ia_itree_insert(&d->pt, &m->node);
			m = NULL;
		}
		if (ce < me) {	/* keep the tail */
			struct ck_ptmap *tail = m ? m : calloc(1, sizeof(*tail));

			if (!tail) {
				c->oom = true;
				return;
			}
			tail->node.start = ce;
			tail->node.end = me;
			tail->paddr = pa + (ce - ms);
			tail->own = own.req_id && own.dma >= ce ? own : (struct ck_owner){ 0 };
			ia_itree_insert(&d->pt, &tail->node);
			m = NULL;
		}
		free(m);
	}
}

static void on_pt_unmap(struct ia_checker *c, const struct ia_ev_pt *e)
{
	struct ck_domain *d = domain(c, e->domain);
	struct ck_pending *p = pending(c, e->hdr.req_id);

	/* result is what the IOMMU driver really removed, seen by us or not */
	if (p)
		p->pt_removed += e->result;
	if (d && e->result)
		pt_remove(c, d, e->iova, e->iova + e->result, p);
}

__u64 ck_bounced(const struct ck_pending *p, __u64 phys)
{
	for (size_t i = 0; i < p->bounces.n; i++)
		if (p->bounces.v[i].orig == phys)
			return p->bounces.v[i].tlb;
	return phys;
}

bool ck_in_slot(const struct ck_pending *p, __u64 g, __u64 a, __u64 b)
{
	for (size_t i = 0; i < p->bounces.n; i++) {
		const struct ck_bounce *k = &p->bounces.v[i];
		__u64 lo = k->tlb & ~(g - 1), hi = (k->tlb + k->alloc + g - 1) & ~(g - 1);

		if (a >= lo && b <= hi)
			return true;
	}
	return false;
}

static void on_bounce(struct ia_checker *c, const struct ia_ev_bounce *e)
{
	struct ck_pending *p = pending(c, e->hdr.req_id);
	struct ck_bounce b = { e->orig_phys, e->tlb_phys, e->alloc_size };

	if (!p || e->tlb_phys == ~0ULL)
		return;
	CK_PUSH(c, p->bounces, b);
	if (p->bounced)
		return;
	p->bounced = true;
	p->bounce_tlb = e->tlb_phys;
}

/* A nested request's record: hand what it gathered to its parent. */
static void merge_into_parent(struct ia_checker *c, const struct ia_ev_req *e,
			      struct ck_pending *p)
{
	struct ck_pending *pp = pending(c, e->parent_id);

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

	x.dev = device(c, e->dev);
	x.p = p ? p : (struct ck_pending *)&empty;
	if (!x.dev) {
		pending_free(p);
		return;
	}
	x.dom = x.dev->ctx.domain ? ia_u64map_get(&c->domains, x.dev->ctx.domain) : NULL;
	x.page_size = x.dev->ctx.page_size ? x.dev->ctx.page_size : CK_PAGE_SIZE;
	x.granule = x.dev->ctx.granule ? x.dev->ctx.granule : x.page_size;

	if (ck_kind_maps(e->kind)) {
		ck_inv_alignment(&x);	/* refused writes matter for failed maps too */
		if (!(e->hdr.flags & IA_REQ_F_FAILED)) {
			ck_inv_translation(&x);
			ck_inv_exposure(&x);
			ck_inv_lifecycle_map(&x);
		}
	} else if (ck_kind_unmaps(e->kind)) {
		ck_inv_lifecycle_unmap(&x);
	} else if (e->kind == IA_REQ_GET_SGTABLE) {
		if (!(e->hdr.flags & IA_REQ_F_FAILED))
			ck_inv_translation_sgtable(&x);
	} else {
		ck_inv_lifecycle_sync(&x);
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
		pending_free(p);
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
	pending_free(p);
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
	case IA_EV_REQ:		on_req(c, (const void *)h); break;
	case IA_EV_IOVA_FREE:
		ck_inv_temporal_iova_free(c, (const void *)h,
					  ia_u64map_get(&c->pending, h->req_id));
		break;
	case IA_EV_FQ_FLUSH:	ck_inv_temporal_flush(c, (const void *)h); break;
	default:		break;	/* tracepoint cross-checks */
	}
}

int ia_checker_from_trace(const char *path, struct ia_checker **ckp,
			  struct ia_trace_reader **rp, struct ia_run_summary *s,
			  char *err, size_t errlen)
{
	const struct ia_trace_stats *st;
	const struct ia_ev_hdr *rec;
	struct ia_trace_reader *r;
	struct ia_checker *c;
	int ret = ia_trace_open_ex(path, &r, err, errlen);

	if (ret)
		return ret;
	c = ia_checker_new();
	if (!c) {
		ia_trace_close(r);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memset(s, 0, sizeof(*s));
	while ((ret = ia_trace_next(r, &rec)) == 1) {
		ia_checker_event(c, rec, rec->size);
		s->records++;
	}
	if (ret < 0) {
		snprintf(err, errlen, "%s", ia_trace_error(r));
		ia_checker_free(c);
		ia_trace_close(r);
		return ret;
	}
	st = ia_trace_stats(r);
	s->source = path;
	s->kernel = ia_trace_meta(r)->kernel_release;
	s->lost = st->lost[IA_DROP_RINGBUF] + st->lost[IA_DROP_INFLIGHT];
	s->malformed = c->malformed;
	s->incomplete_checks = ia_coverage_incomplete(ia_trace_meta(r));
	s->coverage_complete = !s->incomplete_checks;
	ia_checker_finish(c, s->lost);
	*ckp = c;
	*rp = r;
	return 0;
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
	ck_inv_lifecycle_finish(c);
	ck_inv_temporal_finish(c);
	if (!lost)
		return;
	/* a lost map, unmap, page-table or flush record could explain any of
	 * these; a lazy window is a measurement of what was seen */
	for (size_t i = 0; i < c->findings.n; i++)
		if (strcmp(c->findings.v[i].code, "temporal.lazy_window"))
			c->findings.v[i].uncertain = true;
}

const struct ia_finding *ia_checker_findings(const struct ia_checker *c, size_t *n)
{
	*n = c->findings.n;
	return c->findings.v;
}

size_t ia_checker_new_since(const struct ia_checker *c, size_t *mark)
{
	size_t first = *mark;

	*mark = c->findings.n;
	return first;
}

const struct ia_check_dev *ia_checker_devices(const struct ia_checker *c, size_t *n)
{
	struct ia_checker *m = (struct ia_checker *)c;	/* a cache, not state */

	free(m->devstats);
	m->devstats = calloc(c->devlist.n + 1, sizeof(*m->devstats));
	*n = 0;
	if (!m->devstats)
		return NULL;
	for (size_t i = 0; i < c->devlist.n; i++) {
		m->devstats[i] = c->devlist.v[i]->stats;
	}
	*n = c->devlist.n;
	return m->devstats;
}

__u64 ia_checker_malformed(const struct ia_checker *c)
{
	return c->malformed;
}

size_t ia_checker_live_mappings(const struct ia_checker *c)
{
	return c->live_maps;
}
