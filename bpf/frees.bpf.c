// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Memory freed while a device can reach it (record --free-hooks).
 *
 * The pages the IOMMU maps are kept in a BPF hash by PFN (mapped_pfns),
 * maintained at every page-table write and removal (pgtable.bpf.c calls
 * ia_frees_map/ia_frees_unmap); a page unmapped from a DMA-FQ (lazy)
 * domain stays in it, marked lazy with its cookie's flush count, until
 * that flush queue is flushed (flush.bpf.c calls ia_frees_flush). Then
 * every free is looked up in it:
 *
 *   kmem:mm_page_free (page, order)   every page the page allocator frees,
 *                                     batched frees included (6.1, 6.12
 *                                     and 7.2 call it from
 *                                     free_pages_prepare for each)
 *   kmem:kfree, kmem:kmem_cache_free  slab objects; checked against the
 *                                     requested bytes of the mapping, so a
 *                                     neighbour's free is not reported
 *
 * One hash lookup per free in the common case (nothing mapped there). Not
 * seen: kmem_cache_free_bulk / kfree_bulk (no tracepoint), and pages of
 * writes or frees beyond IA_FREES_MAX_PAGES (counted, frees_capped). A
 * kfree() is matched by its first byte (the object's size is not in the
 * tracepoint), kmem_cache_free() by the cache's object size.
 */
#include "audit.bpf.h"
#include "frees.bpf.h"

#define IA_FREES_MAX_PAGES	1024	/* per write, removal or free */
#define IA_DOMAIN_DMA_FQ_TYPE	0xb	/* IOMMU_DOMAIN_DMA_FQ */

struct mapped_pfn {
	__u64 req_id;		/* root request of the newest mapping */
	__u64 dev;		/* its device */
	__u64 domain;
	__u64 iova;		/* of this page in that mapping */
	__u64 req_lo, req_hi;	/* requested bytes in this page (phys) */
	__u64 cookie;		/* lazy: the flush queue's cookie ... */
	__u64 flush_gen;	/* ... and its flush count at the unmap */
	__u32 live;		/* live mappings of the page */
	__u32 lazy;		/* unmapped, flush pending */
	__s32 stack_id;		/* the mapping request's call stack */
	__u32 reported;		/* a free was reported: the page's next
				 * owners' frees are not this mapping's bug */
};

struct iova_key {
	__u64 domain;
	__u64 iova_pfn;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);	/* 256 MiB of mapped 4 KiB pages */
	__type(key, __u64);
	__type(value, struct mapped_pfn);
} mapped_pfns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct iova_key);
	__type(value, __u64);
} iova_pfns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);	/* cookie */
	__type(value, __u64);	/* flushes so far */
} flush_gens SEC(".maps");

const volatile __u32 free_hooks = 0;
/* pages of writes, removals or frees beyond IA_FREES_MAX_PAGES, and map
 * updates that failed (hash full): what the check could not see */
__u64 frees_capped = 0;


/* The root request in flight and its call stack. */
static __always_inline void root_req(__u64 *id, __u64 *dev, __s32 *stack)
{
	struct ia_inflight *st = ia_inflight_get(false);

	*id = 0;
	*dev = 0;
	*stack = -1;
	if (!st || !st->depth || st->depth > inflight_depth)
		return;
	*id = st->f[0].req_id;
	*dev = st->f[0].dev;
	*stack = st->f[0].stack_id;
}

static __always_inline __u64 flush_gen(__u64 cookie)
{
	__u64 *g = bpf_map_lookup_elem(&flush_gens, &cookie);

	return g ? *g : 0;
}

struct range_ctx {
	__u64 domain, iova, paddr, req_id, dev, cookie, gen;
	__s32 stack_id;
	__u32 lazy;
	__u64 n;
};

static long map_step(__u32 i, void *data)
{
	struct range_ctx *c = data;
	__u64 pfn = (c->paddr >> page_shift) + i, phys = pfn << page_shift;
	struct iova_key k = { c->domain, (c->iova >> page_shift) + i };
	struct mapped_pfn v = {}, *old;

	if (i >= c->n)
		return 1;
	old = bpf_map_lookup_elem(&mapped_pfns, &pfn);
	if (old)
		v = *old;
	if (v.lazy)	/* mapped again before its old flush: live now */
		v.lazy = 0;
	v.live++;
	v.req_id = c->req_id;
	v.dev = c->dev;
	v.reported = 0;
	v.domain = c->domain;
	v.iova = c->iova + ((__u64)i << page_shift);
	v.stack_id = c->stack_id;
	v.req_lo = phys;	/* the whole page until the request narrows it */
	v.req_hi = phys + (1ULL << page_shift);
	if (bpf_map_update_elem(&mapped_pfns, &pfn, &v, BPF_ANY) ||
	    bpf_map_update_elem(&iova_pfns, &k, &pfn, BPF_ANY))
		__sync_fetch_and_add(&frees_capped, 1);
	return 0;
}

static long unmap_step(__u32 i, void *data)
{
	struct range_ctx *c = data;
	struct iova_key k = { c->domain, (c->iova >> page_shift) + i };
	struct mapped_pfn *v;
	__u64 *pfnp, pfn;

	if (i >= c->n)
		return 1;
	pfnp = bpf_map_lookup_elem(&iova_pfns, &k);
	if (!pfnp)
		return 0;
	pfn = *pfnp;
	bpf_map_delete_elem(&iova_pfns, &k);
	v = bpf_map_lookup_elem(&mapped_pfns, &pfn);
	if (!v)
		return 0;
	if (v->live > 1) {
		v->live--;
		return 0;
	}
	if (!c->lazy) {
		bpf_map_delete_elem(&mapped_pfns, &pfn);
		return 0;
	}
	v->live = 0;
	v->lazy = 1;
	v->cookie = c->cookie;
	v->flush_gen = c->gen;
	return 0;
}

static __always_inline __u64 bounded(__u64 size)
{
	__u64 n = (size + (1ULL << page_shift) - 1) >> page_shift;

	if (n > IA_FREES_MAX_PAGES) {
		__sync_fetch_and_add(&frees_capped, n - IA_FREES_MAX_PAGES);
		n = IA_FREES_MAX_PAGES;
	}
	return n;
}

__noinline int ia_frees_map(__u64 domain, __u64 iova, __u64 paddr, __u64 size)
{
	struct range_ctx c = { .domain = domain, .iova = iova, .paddr = paddr };

	if (!free_hooks || !size)
		return 0;
	root_req(&c.req_id, &c.dev, &c.stack_id);
	if (c.req_id == IA_REQ_FILTERED)	/* --device leaves it out */
		return 0;
	c.n = bounded(size);
	bpf_loop(IA_FREES_MAX_PAGES, map_step, &c, 0);
	return 0;
}

__noinline int ia_frees_unmap(__u64 domain, __u64 iova, __u64 size)
{
	struct iommu_domain *dom = (void *)domain;
	struct range_ctx c = { .domain = domain, .iova = iova };

	if (!free_hooks || !size || !dom)
		return 0;
	/* a DMA-FQ domain defers the IOTLB flush to its flush queue */
	if (BPF_CORE_READ(dom, type) == IA_DOMAIN_DMA_FQ_TYPE) {
		c.lazy = 1;
		c.cookie = (__u64)BPF_CORE_READ(dom, iova_cookie);
		c.gen = flush_gen(c.cookie);
	}
	c.n = bounded(size);
	bpf_loop(IA_FREES_MAX_PAGES, unmap_step, &c, 0);
	return 0;
}

__noinline int ia_frees_flush(__u64 cookie)
{
	__u64 one = 1, *g;

	if (!free_hooks)
		return 0;
	g = bpf_map_lookup_elem(&flush_gens, &cookie);
	if (g)
		__sync_fetch_and_add(g, 1);
	else
		bpf_map_update_elem(&flush_gens, &cookie, &one, BPF_NOEXIST);
	return 0;
}

/* The requested bytes [phys, phys + size) of a map narrow its pages'. */
__noinline int ia_frees_request(__u64 phys, __u64 size)
{
	__u64 end = phys + size;

	if (!free_hooks || !size)
		return 0;
	/* only the first and the last page hold bytes not requested */
	for (int i = 0; i < 2; i++) {
		__u64 pfn = (i ? end - 1 : phys) >> page_shift;
		__u64 pg = pfn << page_shift;
		struct mapped_pfn *v;

		v = bpf_map_lookup_elem(&mapped_pfns, &pfn);
		if (!v)
			continue;
		if (phys > pg)
			v->req_lo = phys;
		if (end < pg + (1ULL << page_shift))
			v->req_hi = end;
	}
	return 0;
}

/* Is the mapped page's entry still reachable (live, or lazily unmapped
 * and not flushed yet)? Stale lazy entries are dropped on the way. */
static __always_inline struct mapped_pfn *reachable(__u64 pfn)
{
	struct mapped_pfn *v = bpf_map_lookup_elem(&mapped_pfns, &pfn);

	if (!v || v->reported)
		return NULL;
	if (v->live)
		return v;
	if (flush_gen(v->cookie) > v->flush_gen) {
		bpf_map_delete_elem(&mapped_pfns, &pfn);
		return NULL;
	}
	return v;
}

static __always_inline void report(void *ctx, struct mapped_pfn *v, __u64 pfn,
				   __u64 phys, __u64 size, __u32 flags)
{
	struct ia_ev_freed *e = ia_reserve(IA_EV_FREED, sizeof(*e));

	v->reported = 1;
	if (!e)
		return;
	e->hdr.req_id = v->req_id;
	e->hdr.flags = flags | (v->live ? 0 : IA_FREED_LAZY);
	e->dev = v->dev;
	e->phys = phys;
	e->size = size;
	e->map_phys = pfn << page_shift;
	e->domain = v->domain;
	e->iova = v->iova;
	e->map_stack_id = v->stack_id;
	e->free_stack_id = bpf_get_stackid(ctx, &stacks, 0);
	ia_submit(e);
}

struct free_ctx {
	void *ctx;
	__u64 pfn, n;
};

static long page_free_step(__u32 i, void *data)
{
	struct free_ctx *f = data;
	__u64 pfn = f->pfn + i;
	struct mapped_pfn *v;

	if (i >= f->n)
		return 1;
	v = reachable(pfn);
	if (v) {
		report(f->ctx, v, pfn, f->pfn << page_shift, f->n << page_shift, 0);
		return 1;	/* one record per free */
	}
	return 0;
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(free_page, struct page *page, unsigned int order)
{
	struct free_ctx f = { .ctx = ctx };
	__u64 phys = ia_page_to_phys(page);

	if (!phys && !page)
		return 0;
	f.pfn = phys >> page_shift;
	if (order == 0) {	/* the common case: one lookup, no loop */
		struct mapped_pfn *v = reachable(f.pfn);

		if (v)
			report(ctx, v, f.pfn, phys, 1ULL << page_shift, 0);
		return 0;
	}
	f.n = bounded((1ULL << (order & 31)) << page_shift);
	bpf_loop(IA_FREES_MAX_PAGES, page_free_step, &f, 0);
	return 0;
}

/* A slab object at ptr of size bytes (found when its page is mapped). */
static __always_inline void object_freed(void *ctx, const void *ptr, __u32 size)
{
	__u64 base = ia_page_offset_base(), phys, pfn;
	struct mapped_pfn *v;

	if (!base || (__u64)ptr < base)	/* unknown; NULL, ZERO_SIZE_PTR */
		return;
	phys = (__u64)ptr - base;
	pfn = phys >> page_shift;
	v = reachable(pfn);
	if (!v)
		return;
	if (phys < v->req_hi && phys + size > v->req_lo)
		report(ctx, v, pfn, phys, size, IA_FREED_SLAB);
}

/*
 * Raw tracepoints: their `const void *ptr` argument is one the 6.1
 * verifier refuses to type for tp_btf ("arg1 type UNKNOWN is not a
 * struct"); raw ones take the arguments as plain numbers.
 */
SEC("raw_tp/kmem_cache_free")	/* (call_site, ptr, struct kmem_cache *s) */
int free_object(struct bpf_raw_tracepoint_args *ctx)
{
	struct kmem_cache *s = (void *)ctx->args[2];

	object_freed(ctx, (const void *)ctx->args[1], s ? BPF_CORE_READ(s, object_size) : 1);
	return 0;
}

/* kfree(call_site, ptr): no size; matched by the object's first byte */
SEC("raw_tp/kfree")
int free_kmalloc(struct bpf_raw_tracepoint_args *ctx)
{
	object_freed(ctx, (const void *)ctx->args[1], 1);
	return 0;
}
