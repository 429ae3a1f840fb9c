// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The checker's lower layer: shadow state (per IOMMU domain the page-table
 * mappings, per device the live buffers, per request what it did until its
 * record arrives), lookups on it (translate, bounce slots, requested
 * ranges) and building and folding findings. The invariants (inv_*.c) and
 * the replay (replay.c) use it; it calls neither.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "check/shadow.h"

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
	       k == IA_REQ_IOMMU_MAP || k == IA_REQ_IOVA_LINK;
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
	ia_u64map_init(&c->iovas);
	ia_u64map_init(&c->domains);
	ia_u64stage_init(&c->pending);
	ia_u64map_init(&c->stacks);
	ia_u64map_init(&c->fq);
	ia_u64map_init(&c->fp);
	ia_u64map_init(&c->far);
	ia_u64map_init(&c->oracle.started);
	ia_pool_init(&c->pt_pool, sizeof(struct ck_ptmap), IA_ITREE_MAX_NODES);
	ia_pool_init(&c->subbuf_pool, sizeof(struct ck_subbuf), IA_ITREE_MAX_NODES);
	ia_pool_init(&c->queued_pool, sizeof(struct ck_queued), IA_ITREE_MAX_NODES);
	ia_itree_init(&c->stale, &c->queued_pool);
	snprintf(c->sensitive, sizeof(c->sensitive), "%s", IA_SENSITIVE_DEFAULT);
	return c;
}

void ck_pending_free(struct ck_pending *p)
{
	if (!p)
		return;
	free(p->maps.v);
	free(p->unmaps.v);
	free(p->sg_in.v);
	free(p->sg_out.v);
	free(p->bounces.v);
	free(p->pages.v);
	free(p);
}

/*
 * Page-table entries come from a pool (lib/pool.h: slabs, no allocator
 * header or rounding per entry, 32-bit handles for the tree's links). A
 * million live mappings are a million of them: this is most of the
 * checker's memory. The handle of a new, zeroed entry, or 0.
 */
static __u32 ptmap_new(struct ia_checker *c)
{
	__u32 h = ia_pool_alloc(&c->pt_pool);

	if (!h)
		c->oom = true;
	return h;
}

static struct ck_ptmap *ptmap_at(struct ia_checker *c, __u32 h)
{
	return ia_pool_at(&c->pt_pool, h);
}

/*
 * An owner's field too big for its entry (shadow.h: struct ck_ptown, the
 * bounds CK_*_FAR) is kept in checker.far under the entry's address plus
 * the field's number: entries are 56 bytes apart, so no two keys meet. The
 * value kept is at least the field's bound, never 0 (0 is "absent" to a
 * u64map). ck_ptown.far says whether any field is kept so: most owners
 * have none, and are read and cleared without a look at the fields.
 */
enum { FAR_REQ, FAR_LEN, FAR_OFF, FAR_AUX, FAR_STACK, FAR_DEV, FAR_KIND, FAR_DIR, FAR_FIELDS };
_Static_assert(FAR_FIELDS <= sizeof(struct ck_ptmap), "far keys of two entries never meet");

static __u64 far_key(const struct ck_ptmap *m, int field)
{
	return (__u64)(uintptr_t)m + (__u64)field;
}

static __u64 far_get(const struct ia_checker *c, const struct ck_ptmap *m, int field,
		     __u32 packed, __u32 bound)
{
	return packed == bound ? (__u64)(uintptr_t)ia_u64map_get(&c->far, far_key(m, field)) :
				 packed;
}

/* What to store in a field of width bound: v, or the bound with v in far
 * (*far set). */
static __u32 far_put(struct ia_checker *c, const struct ck_ptmap *m, int field, __u64 v,
		     __u32 bound, bool *far)
{
	if (v < bound)
		return (__u32)v;
	if (ia_u64map_put(&c->far, far_key(m, field), (void *)(uintptr_t)v, NULL))
		c->oom = true;
	*far = true;
	return bound;
}

static void far_del(struct ia_checker *c, const struct ck_ptmap *m, int field,
		    __u32 packed, __u32 bound)
{
	if (packed == bound)
		ia_u64map_del(&c->far, far_key(m, field));
}

/* Forget what far holds for m's owner. */
static void far_drop(struct ia_checker *c, const struct ck_ptmap *m)
{
	const struct ck_ptown *o = &m->own;

	if (!o->far)
		return;
	far_del(c, m, FAR_REQ, o->req, CK_REQ_FAR);
	far_del(c, m, FAR_LEN, o->len, CK_LEN_FAR);
	far_del(c, m, FAR_OFF, o->off, CK_OFF_FAR);
	far_del(c, m, FAR_AUX, o->aux, CK_AUX_FAR);
	far_del(c, m, FAR_STACK, o->stack, CK_STACK_FAR);
	far_del(c, m, FAR_DEV, o->dev, CK_DEV_FAR);
	far_del(c, m, FAR_KIND, o->kind, CK_KIND_FAR);
	far_del(c, m, FAR_DIR, o->dir, CK_DIR_FAR);
}

static void ptmap_free(struct ia_checker *c, __u32 h)
{
	if (h)
		far_drop(c, ptmap_at(c, h));
	ia_pool_free(&c->pt_pool, h);
}

__u64 ck_ptmap_req(const struct ia_checker *c, const struct ck_ptmap *m)
{
	return m->own.far ? far_get(c, m, FAR_REQ, m->own.req, CK_REQ_FAR) : m->own.req;
}

struct ck_owner ck_ptmap_owner(const struct ia_checker *c, const struct ck_ptmap *m)
{
	const struct ck_ptown *o = &m->own;

	if (!o->req)
		return (struct ck_owner){ 0 };
	if (!o->far)
		return (struct ck_owner){
			.req_id = o->req, .len = o->len, .stack_id = (__s32)o->stack - 1,
			.dev = o->dev, .kind = o->kind, .dir = o->dir,
			.dma = m->node.start + o->off, .aux = o->aux,
		};
	return (struct ck_owner){
		.req_id = far_get(c, m, FAR_REQ, o->req, CK_REQ_FAR),
		.len = (__u32)far_get(c, m, FAR_LEN, o->len, CK_LEN_FAR),
		/* stored + 1: -1 (none) is 0 */
		.stack_id = (__s32)(__u32)(far_get(c, m, FAR_STACK, o->stack, CK_STACK_FAR) - 1),
		.dev = (__u16)far_get(c, m, FAR_DEV, o->dev, CK_DEV_FAR),
		.kind = (__u8)far_get(c, m, FAR_KIND, o->kind, CK_KIND_FAR),
		.dir = (__u8)far_get(c, m, FAR_DIR, o->dir, CK_DIR_FAR),
		.dma = m->node.start + far_get(c, m, FAR_OFF, o->off, CK_OFF_FAR),
		.aux = (__u32)far_get(c, m, FAR_AUX, o->aux, CK_AUX_FAR),
	};
}

void ck_ptmap_set_owner(struct ia_checker *c, struct ck_ptmap *m, const struct ck_owner *o)
{
	struct ck_ptown p = { .seeded = m->own.seeded };	/* req 0: no owner */
	bool far = false;

	far_drop(c, m);
	if (o->req_id) {
		p.req = far_put(c, m, FAR_REQ, o->req_id, CK_REQ_FAR, &far);
		p.len = far_put(c, m, FAR_LEN, o->len, CK_LEN_FAR, &far);
		p.stack = far_put(c, m, FAR_STACK, (__u32)o->stack_id + 1u, CK_STACK_FAR, &far);
		p.dev = far_put(c, m, FAR_DEV, o->dev, CK_DEV_FAR, &far);
		p.kind = far_put(c, m, FAR_KIND, o->kind, CK_KIND_FAR, &far);
		p.dir = far_put(c, m, FAR_DIR, o->dir, CK_DIR_FAR, &far);
		p.off = far_put(c, m, FAR_OFF, o->dma - m->node.start, CK_OFF_FAR, &far);
		p.aux = far_put(c, m, FAR_AUX, o->aux, CK_AUX_FAR, &far);
		p.far = far;
	}
	m->own = p;	/* one store of the packed words */
}

/* The page-table oracle's state (shadow_oracle.c fills it). */
static void oracle_free(struct ck_oracle *o)
{
	for (size_t i = 0; i < o->devs.n; i++)
		free(o->devs.v[i].r.v);
	for (size_t i = 0; i < o->seeds.n; i++)
		free(o->seeds.v[i].r.v);
	free(o->devs.v);
	free(o->seeds.v);
	free(o->touched.v);
	ia_u64map_free(&o->started);
}

void ia_checker_free(struct ia_checker *c)
{
	__u64 k;
	void *v;

	if (!c)
		return;
	for (size_t it = 0; ia_u64map_next(&c->devs, &it, &k, &v);) {
		struct ck_device *d = v;

		/* its sub-granule buffers are in c->subbuf_pool */
		ia_u64map_free(&d->subbufs);
		ia_u64map_free_values(&d->orphans);
		ia_u64map_free(&d->at_unbind);
		ia_recent_free(&d->unmapped);
		ia_u64map_free_values(&d->extents);
		free(d->samples.v);
		free(d);
	}
	for (size_t it = 0; ia_u64map_next(&c->domains, &it, &k, &v);) {
		struct ck_domain *d = v;

		free(d);	/* its entries are in the slabs */
	}
	oracle_free(&c->oracle);
	for (size_t it = 0; ia_u64map_next(ia_u64stage_map(&c->pending), &it, &k, &v);)
		ck_pending_free(v);
	for (size_t it = 0; ia_u64map_next(&c->iovas, &it, &k, &v);) {
		struct ck_iova *st = v;

		free(st->live.v);
		free(st->dead.v);
		free(st);
	}
	ia_u64map_free(&c->iovas);
	for (size_t i = 0; i < c->spare.n; i++)
		ck_pending_free(c->spare.v[i]);
	free(c->spare.v);
	ia_u64map_free(&c->devs);
	ia_u64map_free(&c->domains);
	ia_u64stage_free(&c->pending);
	ia_u64map_free_values(&c->stacks);
	ia_u64map_free(&c->fq);
	ia_u64map_free(&c->fp);
	ia_u64map_free(&c->far);
	ia_pool_release(&c->pt_pool);
	ia_pool_release(&c->subbuf_pool);
	ia_pool_release(&c->queued_pool);
	free(c->findings.v);
	free(c->codes.v);
	free(c->devlist.v);
	free(c->devstats);
	free(c);
}

void *ck_get_or_new(struct ia_checker *c, struct ia_u64map *m, __u64 key, size_t size)
{
	void *v = ia_u64map_get(m, key);

	if (v || !key)
		return v;
	v = calloc(1, size);
	if (!v || ia_u64map_put(m, key, v, NULL)) {	/* key was absent */
		free(v);
		c->oom = true;
		return NULL;
	}
	return v;
}

/*
 * Devices and domains are never removed, and nearly every record names the
 * one the record before it named: the last one found is looked at first.
 */
static void *last_hit(const struct ck_last *l, __u64 key)
{
	return key && l->key == key ? l->val : NULL;
}

static void *remember(struct ck_last *l, __u64 key, void *val)
{
	if (val) {
		l->key = key;
		l->val = val;
	}
	return val;
}

struct ck_device *ck_device_lookup(struct ia_checker *c, __u64 dev)
{
	struct ck_device *d = last_hit(&c->last_dev, dev);

	return d ? d : remember(&c->last_dev, dev, ia_u64map_get(&c->devs, dev));
}

struct ck_domain *ck_domain_lookup(struct ia_checker *c, __u64 dom)
{
	struct ck_domain *d = last_hit(&c->last_dom, dom);

	return d ? d : remember(&c->last_dom, dom, ia_u64map_get(&c->domains, dom));
}

struct ck_device *ck_device_get(struct ia_checker *c, __u64 dev)
{
	struct ck_device *d = ck_device_find(c, dev);

	if (d || !dev)
		return d;
	if (c->lim.devices && c->devs.len >= c->lim.devices) {
		c->devices_dropped++;	/* its records are not checked */
		return NULL;
	}
	d = ck_get_or_new(c, &c->devs, dev, sizeof(*d));
	if (!d)
		return NULL;
	ia_itree_init(&d->live_phys, &c->subbuf_pool);
	ia_u64map_init(&d->subbufs);
	ia_u64map_init(&d->orphans);
	ia_u64map_init(&d->at_unbind);
	ia_recent_init(&d->unmapped, c->lim.unmapped);
	ia_u64map_init(&d->extents);
	snprintf(d->stats.name, sizeof(d->stats.name), "dev@%" PRIx64, (uint64_t)dev);
	d->ctx.dev = dev;
	d->ctx.group_id = -1;
	if (CK_PUSH(c, c->devlist, d))
		return d;	/* still usable; only missing from reports */
	d->stats_idx = c->devlist.n - 1;
	return d;
}

struct ck_domain *ck_domain_get(struct ia_checker *c, __u64 dom)
{
	struct ck_domain *d = ck_domain_find(c, dom);

	if (d)
		return d;
	d = ck_get_or_new(c, &c->domains, dom, sizeof(struct ck_domain));
	if (d)
		ia_itree_init(&d->pt, &c->pt_pool);
	return d;
}

/* Spare pending entries kept for reuse (their vectors keep their room). */
#define CK_SPARE_MAX 256

struct ck_pending *ck_pending_new(struct ia_checker *c)
{
	struct ck_pending *p = c->spare.n ? c->spare.v[--c->spare.n] :
			       calloc(1, sizeof(*p));

	if (!p)
		c->oom = true;
	return p;
}

void ck_pending_release(struct ia_checker *c, struct ck_pending *p)
{
	bool oom = c->oom;

	if (!p)
		return;
	if (c->spare.n == CK_SPARE_MAX || CK_PUSH(c, c->spare, p)) {
		c->oom = oom;	/* not keeping a spare is not running out */
		ck_pending_free(p);
		return;
	}
	/* empty it, keeping the vectors' room */
	p->maps.n = p->unmaps.n = p->sg_in.n = p->sg_out.n = p->bounces.n =
		p->pages.n = 0;
	ck_zero(&p->sg_truncated, sizeof(*p) - offsetof(struct ck_pending, sg_truncated));
}

struct ck_pending *ck_pending_get(struct ia_checker *c, __u64 req)
{
	struct ck_pending *p;

	void **slot;
	int added;

	if (!req)
		return NULL;
	slot = ia_u64stage_slot(&c->pending, req, &added);	/* one probe */
	if (!slot) {
		c->oom = true;
		return NULL;
	}
	if (!added)
		return *slot;
	p = ck_pending_new(c);
	if (!p) {
		ia_u64stage_del(&c->pending, req);
		return NULL;
	}
	*slot = p;
	p->gen = c->gen;
	return p;
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

void ck_live_end(struct ia_checker *c, struct ck_device *d, __u64 req_id)
{
	for (__u32 h = (__u32)(uintptr_t)ia_u64map_del(&d->subbufs, req_id), next; h; h = next) {
		struct ck_subbuf *b = ia_pool_at(&c->subbuf_pool, h);

		next = b->next;
		ia_itree_remove(&d->live_phys, &b->phys);
		ia_pool_free(&c->subbuf_pool, h);
	}
	d->stats.live--;
	c->live_maps--;
}

const __u64 ia_lazy_bounds_ns[IA_LAZY_BUCKETS] = IA_LAZY_BOUNDS_NS;

void ia_check_dev_add(struct ia_check_dev *sum, const struct ia_check_dev *d)
{
	sum->maps += d->maps;
	sum->bytes_requested += d->bytes_requested;
	sum->bytes_mapped += d->bytes_mapped;
	sum->bytes_exposed += d->bytes_exposed;
	sum->pages_exposed += d->pages_exposed;
	sum->live += d->live;
	sum->preexisting += d->preexisting;
	sum->snapshot_unmaps += d->snapshot_unmaps;
	sum->failed += d->failed;
	sum->bytes_untrusted += d->bytes_untrusted;
	sum->lazy_windows += d->lazy_windows;
	sum->lazy_sum_ns += d->lazy_sum_ns;
	for (size_t b = 0; b <= IA_LAZY_BUCKETS; b++)
		sum->lazy_hist[b] += d->lazy_hist[b];
	if (d->lazy_max_ns > sum->lazy_max_ns)
		sum->lazy_max_ns = d->lazy_max_ns;
}

void ia_lazy_observe(struct ia_check_dev *d, __u64 ns)
{
	size_t b = 0;

	while (b < IA_LAZY_BUCKETS && ns > ia_lazy_bounds_ns[b])
		b++;
	d->lazy_hist[b]++;
	d->lazy_windows++;
	d->lazy_sum_ns += ns;
	if (ns > d->lazy_max_ns)
		d->lazy_max_ns = ns;
}

/* ---- findings ---------------------------------------------------------- */

/* Frames of the DMA API itself are not the call site. */
static void fill_site(struct ia_checker *c, struct ia_finding *f, __s32 stack_id)
{
	const struct ck_stack *s = stack_id >= 0 ?
		ia_u64map_get(&c->stacks, (__u64)stack_id + 1) : NULL;
	__u32 i = 0, k = 0;

	memset(f->site, 0, sizeof(f->site));
	if (!s)
		return;
	while (i < s->nr && ia_site_core_frame(s->sym[i]))
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

/* The counter of f's code (codes are few: a linear search). */
static struct ia_code_count *code_count(struct ia_checker *c, const struct ia_finding *f)
{
	struct ia_code_count n = { .code = f->code, .invariant = f->invariant,
				   .severity = f->severity };

	for (size_t i = 0; i < c->codes.n; i++)
		if (c->codes.v[i].code == f->code || !strcmp(c->codes.v[i].code, f->code))
			return &c->codes.v[i];
	if (CK_PUSH(c, c->codes, n))
		return NULL;
	return &c->codes.v[c->codes.n - 1];
}

void ck_report(struct ia_checker *c, struct ia_finding *f)
{
	struct ia_code_count *cc = code_count(c, f);
	struct ia_finding *old;
	__u64 key;
	size_t idx;

	if (cc) {
		cc->count += f->count;
		if (f->severity > cc->severity)
			cc->severity = f->severity;
	}
	ia_finding_fingerprint(f);
	key = ia_fingerprint_key(f->fingerprint);
	idx = c->no_fold ? 0 : (size_t)(uintptr_t)ia_u64map_get(&c->fp, key);
	if (idx) {
		old = &c->findings.v[idx - 1];
		old->count += f->count;
		old->exposed_bytes += f->exposed_bytes;
		old->exposed_pages += f->exposed_pages;
		for (int k = 0; k < IA_PAGE_KIND_MAX; k++)
			old->kind_bytes[k] += f->kind_bytes[k];
		old->slab_objects += f->slab_objects;
		old->classified |= f->classified;
		if (f->value > old->value)
			old->value = f->value;
		if (f->severity > old->severity)
			old->severity = f->severity;
		old->uncertain = old->uncertain && f->uncertain;
		return;
	}
	if (c->lim.findings && c->findings.n >= c->lim.findings) {
		c->findings_dropped += f->count;	/* counted by code only */
		return;
	}
	if (CK_PUSH(c, c->findings, *f))
		return;
	if (cc)
		cc->distinct++;
	if (c->no_fold)
		return;
	if (ia_u64map_put(&c->fp, key, (void *)(uintptr_t)c->findings.n, NULL))
		c->oom = true;
}

/* ---- shadow page tables ---------------------------------------------------- */

int ck_pt_insert(struct ia_checker *c, __u64 dom, __u64 iova, __u64 size, __u64 paddr)
{
	struct ck_domain *d = ck_domain_get(c, dom);
	__u32 h = d ? ptmap_new(c) : 0;
	struct ck_ptmap *m;

	if (!h) {
		c->oom = true;
		return -ENOMEM;
	}
	m = ptmap_at(c, h);
	m->node.start = iova;
	m->node.end = iova + size;
	m->paddr = paddr;
	ia_itree_insert(&d->pt, h);
	d->inserts++;
	d->changes++;
	return 0;
}

/*
 * Pieces a removal keeps (the head and tail of an entry it cuts) lie
 * outside what it removes, and what an earlier one emptied holds no entry
 * to cut: only a write (d->inserts) can put something back in a range.
 */
void ck_pending_removed(struct ck_pending *p, struct ck_domain *d, __u64 lo, __u64 hi)
{
	if (p->rm_mixed)
		return;
	if (!p->rm_dom) {
		p->rm_dom = d;
		p->rm_lo = lo;
		p->rm_hi = hi;
		p->rm_gen = d->inserts;
		return;
	}
	if (p->rm_dom != d || p->rm_gen != d->inserts || hi < p->rm_lo || lo > p->rm_hi) {
		p->rm_mixed = true;	/* not one range: no shortcut */
		return;
	}
	p->rm_lo = lo < p->rm_lo ? lo : p->rm_lo;
	p->rm_hi = hi > p->rm_hi ? hi : p->rm_hi;
}

void ck_pending_removed_merge(struct ck_pending *p, const struct ck_pending *child)
{
	if (child->rm_mixed)
		p->rm_mixed = true;
	else if (child->rm_dom && child->rm_gen == child->rm_dom->inserts)
		ck_pending_removed(p, child->rm_dom, child->rm_lo, child->rm_hi);
	else if (child->rm_dom)
		p->rm_mixed = true;
}

bool ck_pending_emptied(const struct ck_pending *p, const struct ck_domain *d, __u64 lo,
			__u64 hi)
{
	return !p->rm_mixed && p->rm_dom && p->rm_dom == d && p->rm_gen == d->inserts &&
	       p->rm_lo <= lo && hi <= p->rm_hi;
}

/* The ranges overlapping a removal, gathered before any is changed. */
struct trim_hits {
	struct ia_inode *inl[8], **v;
	size_t n, cap;
	bool oom;
};

static int gather_hit(struct ia_inode *n, void *ctx)
{
	struct trim_hits *h = ctx;

	if (h->n == h->cap) {
		size_t cap = h->cap * 2;
		struct ia_inode **v = malloc(cap * sizeof(*v));

		if (!v) {
			h->oom = true;
			return 1;
		}
		memcpy(v, h->v, h->n * sizeof(*v));
		if (h->v != h->inl)
			free(h->v);
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = n;
	return 0;
}

/*
 * What a removal of [start, end) does to one entry m (handle hm, already
 * out of the tree: 0 if it was not in it) overlapping it: the piece inside
 * is recorded in p (if not NULL) with its phys, and with the live mapping
 * whose handle it held, if any (the piece keeps the owner whose handle it
 * contains; a kept head or tail keeps it otherwise); the head and tail
 * sticking out go back in. False when out of memory.
 */
static bool trim_one(struct ia_checker *c, struct ck_domain *d, __u64 start, __u64 end,
		     struct ck_pending *p, struct ck_ptmap *m, __u32 hm)
{
	__u64 ms = m->node.start, me = m->node.end, pa = m->paddr;
	__u64 cs = ms > start ? ms : start, ce = me < end ? me : end;
	struct ck_pt gone = { cs, pa + (cs - ms), ce - cs, (__s64)(ce - cs),
			      .seeded = m->own.seeded };
	struct ck_owner own = ck_ptmap_owner(c, m), none = { 0 };
	bool seeded = m->own.seeded;
	bool in_gone = own.req_id && own.dma >= cs && own.dma < ce;
	__u32 ht;

	if (in_gone) {
		gone.own = own;
		own.req_id = 0;
	}
	if (p)
		CK_PUSH(c, p->unmaps, gone);
	if (ms < cs) {	/* keep the head */
		m->node.end = cs;
		ck_ptmap_set_owner(c, m, own.req_id && own.dma < cs ? &own : &none);
		ia_itree_insert(&d->pt, hm);
		hm = 0;
	}
	if (ce < me) {	/* keep the tail */
		struct ck_ptmap *tail;

		ht = hm ? hm : ptmap_new(c);
		if (!ht) {
			c->oom = true;
			return false;
		}
		tail = ptmap_at(c, ht);
		tail->own.seeded = seeded;
		tail->node.start = ce;
		tail->node.end = me;
		tail->paddr = pa + (ce - ms);
		ck_ptmap_set_owner(c, tail, own.req_id && own.dma >= ce ? &own : &none);
		ia_itree_insert(&d->pt, ht);
		hm = 0;
	}
	ptmap_free(c, hm);
	return true;
}

/*
 * Remove [start, end) from a domain's shadow, splitting mappings that
 * stick out (trim_one), in start order. In a disjoint tree the entry
 * holding start is the first piece: found and taken out in one descent
 * (ia_itree_take), and when it holds all of the range (a removal of what
 * one write mapped: nearly every one) it is the only piece. The others are
 * gathered in one walk; what is kept of them lies outside the range, so
 * the walk stays valid.
 */
void ck_pt_remove(struct ia_checker *c, struct ck_domain *d, __u64 start, __u64 end,
		  struct ck_pending *p)
{
	struct trim_hits h;	/* set only past the one-entry case (its room is 8 pointers) */
	__u32 first = start < end ? ia_itree_take(&d->pt, start) : 0;

	d->changes++;
	if (first) {
		struct ck_ptmap *m = ptmap_at(c, first);
		bool all = m->node.end >= end;

		if (!trim_one(c, d, start, end, p, m, first) || all)
			return;
	}
	h.v = h.inl;
	h.n = 0;
	h.cap = sizeof(h.inl) / sizeof(h.inl[0]);
	h.oom = false;
	ia_itree_overlaps(&d->pt, start, end, gather_hit, &h);
	if (h.oom)
		c->oom = true;
	for (size_t i = 0; i < h.n; i++) {
		struct ck_ptmap *m = ia_container_of(h.v[i], struct ck_ptmap, node);

		if (!trim_one(c, d, start, end, p, m, ia_itree_remove(&d->pt, &m->node)))
			break;
	}
	if (h.v != h.inl)
		free(h.v);
}

__u64 ck_bounced(const struct ck_pending *p, __u64 phys)
{
	for (size_t i = 0; i < p->bounces.n; i++)
		if (p->bounces.v[i].orig == phys)
			return p->bounces.v[i].tlb;
	return phys;
}

__u64 ck_slot_cut(const struct ck_pending *p, __u64 a, __u64 b, bool *in)
{
	__u64 end = b;

	*in = false;
	for (size_t i = 0; i < p->bounces.n; i++) {
		const struct ck_bounce *k = &p->bounces.v[i];
		/* the slot itself, not the granules around it: swiotlb aligns a
		 * slot to the granule only relative to its pool's start, so with
		 * a granule > PAGE_SIZE the granules mapped around it hold other
		 * slots (found by the random programs on the lab kernel) */
		__u64 lo = k->tlb, hi = k->tlb + k->alloc;

		if (a >= lo && a < hi) {
			*in = true;
			return hi < b ? hi : b;
		}
		if (lo > a && lo < end)
			end = lo;
	}
	return end;
}

/* ---- what a request asked for ---------------------------------------------- */

static int cmp_pt(const void *a, const void *b)
{
	const struct ck_pt *x = a, *y = b;

	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/* Sort by paddr and merge overlapping/adjacent ranges; returns the count. */
int ck_merge_ranges(struct ck_pt *r, int n)
{
	int k = 0;

	if (n <= 1)
		return n;	/* most requests: one range, nothing to copy */
	qsort(r, n, sizeof(*r), cmp_pt);
	for (int i = 0; i < n; i++) {
		if (k && r[i].paddr <= r[k - 1].paddr + r[k - 1].size) {
			__u64 end = r[i].paddr + r[i].size;

			if (end > r[k - 1].paddr + r[k - 1].size)
				r[k - 1].size = end - r[k - 1].paddr;
		} else {
			r[k++] = r[i];
		}
	}
	return k;
}

__u64 ck_page_align(__u64 v, __u64 page)
{
	return (v + page - 1) & ~(page - 1);
}

int ck_requested_ranges(const struct ck_ctx *x, struct ck_pt *out, int max)
{
	const struct ia_ev_req *r = x->req;
	const struct ck_pending *p = x->p;
	int n = 0;

	switch (r->kind) {
	case IA_REQ_MAP_PAGE:
	case IA_REQ_MAP_RESOURCE:
	case IA_REQ_IOVA_LINK:
		out[n++] = (struct ck_pt){ .paddr = p->bounced ? p->bounce_tlb : r->phys,
					   .size = r->size };
		break;
	case IA_REQ_MAP_SG:
		for (size_t i = 0; i < p->sg_in.n && n < max; i++)
			out[n++] = (struct ck_pt){ .paddr = ck_bounced(p, p->sg_in.v[i].phys),
						   .size = p->sg_in.v[i].len };
		break;
	case IA_REQ_ALLOC_NONCONTIG:
		for (size_t i = 0; i < p->sg_out.n && n < max; i++)
			out[n++] = (struct ck_pt){ .paddr = p->sg_out.v[i].phys,
						   .size = p->sg_out.v[i].len };
		break;
	case IA_REQ_ALLOC:
		/* an allocation owns whole pages. The contiguous path (atomic,
		 * DMA_ATTR_FORCE_CONTIGUOUS) maps them with one __iommu_dma_map,
		 * whose phys is theirs; the remap path maps pages it allocated
		 * for this buffer alone, in whole granules: all it maps */
		if (p->has_child) {
			out[n++] = (struct ck_pt){ .paddr = p->child_phys,
						   .size = ck_page_align(r->size, x->page_size) };
			break;
		}
		for (size_t i = 0; i < p->maps.n && n < max; i++)
			if (!p->maps.v[i].result)
				out[n++] = (struct ck_pt){ .paddr = p->maps.v[i].paddr,
							   .size = p->maps.v[i].size };
		break;
	case IA_REQ_ALLOC_PAGES:
		/* dma_alloc_pages() maps its pages with map_page: on an untrusted
		 * device whose pages do not fill their granules (G > PAGE_SIZE)
		 * that bounces them, and the device is given the slot (found by
		 * the random programs on the lab kernel at 16K: the slot's own
		 * bytes were counted exposed, exposure.untrusted of the whole
		 * granules) */
		out[n++] = (struct ck_pt){ .paddr = p->bounced ? p->bounce_tlb : r->phys,
					   .size = ck_page_align(r->size, x->page_size) };
		break;
	default:
		return -1;
	}
	return ck_merge_ranges(out, n);
}

/* ---- results -------------------------------------------------------------- */

const struct ia_finding *ia_checker_findings(const struct ia_checker *c, size_t *n)
{
	*n = c->findings.n;
	return c->findings.v;
}

void ia_checker_set_fold(struct ia_checker *c, bool fold)
{
	c->no_fold = !fold;
}

int ia_checker_set_sensitive(struct ia_checker *c, const char *list)
{
	if (strlen(list) >= sizeof(c->sensitive))
		return -1;
	snprintf(c->sensitive, sizeof(c->sensitive), "%s", list);
	return 0;
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

size_t ia_checker_pool_bytes(const struct ia_checker *c)
{
	return ia_pool_bytes(&c->pt_pool) + ia_pool_bytes(&c->subbuf_pool) +
	       ia_pool_bytes(&c->queued_pool);
}

void ia_checker_set_limits(struct ia_checker *c, const struct ia_checker_limits *l)
{
	c->lim = *l;
}

const struct ia_code_count *ia_checker_codes(const struct ia_checker *c, size_t *n)
{
	*n = c->codes.n;
	return c->codes.v;
}

void ia_checker_state(const struct ia_checker *c, struct ia_checker_state *s)
{
	__u64 k;
	void *v;

	memset(s, 0, sizeof(*s));
	s->findings = c->findings.n;
	s->stacks = c->stacks.len;
	s->devices = c->devs.len;
	s->domains = c->domains.len;
	s->pending = ia_u64stage_len(&c->pending);
	s->live_maps = c->live_maps;
	s->lazy_queued = c->stale.count;
	for (size_t it = 0; ia_u64map_next(&c->devs, &it, &k, &v);) {
		const struct ck_device *d = v;

		s->unmapped += ia_recent_len(&d->unmapped);
		s->unmapped_forgotten += d->unmapped.dropped;
	}
	s->findings_dropped = c->findings_dropped;
	s->stacks_dropped = c->stacks_dropped;
	s->devices_dropped = c->devices_dropped;
	s->pending_expired = c->pending_expired;
	s->oom = c->oom;
}
