// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the exposed memory is: for each CPU page a mapping may expose, what
 * the page held when it was mapped (struct ia_ev_page). It has to be read
 * here, at map time: by the time userspace looks, the page may belong to
 * someone else. The checker (user/check/inv_exposure.c) keeps only the
 * bytes it finds exposed.
 *
 * Callers (global functions, so each is verified once):
 *   ia_classify_map()  the exit of __iommu_dma_map(phys, size): the pages of
 *                      its granules outside [phys, phys + size), exactly the
 *                      head and tail pieces the mapping adds;
 *   ia_classify_write() a page-table write of a scatterlist (dma-iommu maps
 *                      the whole list with one iommu_map_sg, no per-segment
 *                      request): the write's first and last page, where the
 *                      sub-page slack of its segments lies. Boundary padding
 *                      pages in the middle of a write are not classified.
 *
 * At most IA_PAGE_MAX pages per call; the others are counted in one
 * IA_PAGE_CAPPED record, so the report can say how many bytes went
 * unnamed. Cost: a few probe reads per page (struct page, then its slab
 * cache or its address_space), one ring-buffer record per page.
 *
 * Kernel differences (bridged with CO-RE; checked against the BTF of the
 * Debian 6.1, 6.12 and 7.2 kernels):
 *   - struct slab (v5.17, "mm: Split slab into its own type") overlays
 *     struct page; slab_cache, inuse and objects moved inside it since (in
 *     7.2 into an anonymous struct freelist_counters): read by name.
 *   - PG_slab left page->flags in v6.10 ("mm: free up PG_slab") and became
 *     a page type; page types became one value in the top byte of
 *     page_type (enum pagetype, PGTY_*) in v6.12 ("mm: support only one
 *     page_type per page"); 6.1 has inverted bits under PAGE_TYPE_BASE.
 *   - page->flags became memdesc_flags_t (a struct holding one unsigned
 *     long) in 7.x: read as the unsigned long at offset 0 in every version.
 *   - page->compound_head became compound_info in 7.x, which holds either
 *     the head pointer | 1 (as before) or, with the HugeTLB vmemmap
 *     optimization and a power-of-2 struct page (Debian 7.2: both), the
 *     mask that turns a tail's address into its head's, | 1.
 *   - swiotlb's default pool moved into io_tlb_mem.defpool in v6.7
 *     ("swiotlb: move memory pool fields to a separate struct").
 */
#include "audit.bpf.h"
#include "classify.bpf.h"

/* 6.1 page types: a set bit under PAGE_TYPE_BASE is an absent type */
#define PAGE_TYPE_BASE_OLD	0xf0000000u
#define PG_buddy_OLD		0x00000080u
#define PG_table_OLD		0x00000200u

#define PAGE_MAPPING_ANON	0x1UL	/* FOLIO_MAPPING_ANON in 7.x */
#define PAGE_MAPPING_FLAGS	0x3UL
#define START_KERNEL_MAP	0xffffffff80000000UL	/* x86-64 __START_KERNEL_map */

enum pagetype___new {			/* v6.12+ */
	PGTY_buddy___new = 0xf0,
	PGTY_table___new = 0xf2,
	PGTY_slab___new = 0xf5,
};

struct page___compound_info {		/* 7.x */
	unsigned long compound_info;
};

struct io_tlb_mem___old {		/* before v6.7 */
	phys_addr_t start;
	phys_addr_t end;
};

struct io_tlb_mem___pool {		/* v6.7+ */
	struct {
		phys_addr_t start;
		phys_addr_t end;
	} defpool;
};


static __always_inline __u64 read_u64(const void *p)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), p);
	return v;
}

static __always_inline bool has_old_type(__u32 type, __u32 bit)
{
	return (type & (PAGE_TYPE_BASE_OLD | bit)) == PAGE_TYPE_BASE_OLD;
}

/* compound_head(): the head page of a tail page, else the page itself */
static __always_inline __u64 head_page(__u64 page)
{
	struct page___compound_info *ci = (void *)page;
	struct page *pg = (void *)page;
	__u64 info, mask;

	if (bpf_core_field_exists(pg->compound_head)) {
		info = BPF_CORE_READ(pg, compound_head);
		return info & 1 ? info - 1 : page;
	}
	if (!bpf_core_field_exists(ci->compound_info))
		return page;
	info = BPF_CORE_READ(ci, compound_info);
	if (!(info & 1))
		return page;
	/* a mask is ~(2^k - 1): its complement is all low ones */
	mask = ~(info & ~1UL);
	if (!(mask & (mask + 1)))
		return page & (info & ~1UL);
	return info - 1;
}

/*
 * Page types. Each CO-RE value is read behind its own existence test, so
 * libbpf can turn the read of what this kernel lacks into dead code.
 */
#define PGTY_IS(type, name)						\
	(bpf_core_enum_value_exists(enum pagetype___new, name) &&	\
	 ((type) >> 24) == bpf_core_enum_value(enum pagetype___new, name))

static __always_inline bool page_is_slab(__u64 flags, __u32 type)
{
	if (bpf_core_enum_value_exists(enum pageflags, PG_slab))	/* < v6.10 */
		return (flags >> bpf_core_enum_value(enum pageflags, PG_slab)) & 1;
	return PGTY_IS(type, PGTY_slab___new);
}

static __always_inline bool page_is_buddy(__u32 type)
{
	if (bpf_core_enum_value_exists(enum pagetype___new, PGTY_buddy___new))
		return PGTY_IS(type, PGTY_buddy___new);
	return has_old_type(type, PG_buddy_OLD);
}

static __always_inline bool page_is_table(__u32 type)
{
	if (bpf_core_enum_value_exists(enum pagetype___new, PGTY_table___new))
		return PGTY_IS(type, PGTY_table___new);
	return has_old_type(type, PG_table_OLD);
}

#define IA_BUDDY_ORDERS	11	/* MAX_ORDER in 6.1; MAX_PAGE_ORDER + 1 later */

/*
 * Is the page inside a free block of the buddy allocator? Only a block's
 * first page is PageBuddy, with its order in page->private: look at the
 * aligned first page of each order that could cover this one. (A page with
 * no reference and no such block is on a per-CPU free list, or a tail page
 * of a high-order allocation made without __GFP_COMP, as blk-mq's request
 * pools are: those two cannot be told apart here.)
 */
static __always_inline bool in_buddy_block(__u64 base, __u64 pfn)
{
#pragma unroll
	for (int k = 0; k < IA_BUDDY_ORDERS; k++) {
		struct page *p = (void *)(base + (pfn & ~((1ULL << k) - 1)) * struct_page_size);

		if (page_is_buddy(BPF_CORE_READ(p, page_type)))
			return BPF_CORE_READ(p, private) >= (unsigned long)k;
	}
	return false;
}

static __always_inline bool in_swiotlb(__u64 phys)
{
	struct io_tlb_mem___pool *np = (void *)ksym_addr[IA_KSYM_IO_TLB_DEFAULT_MEM];
	struct io_tlb_mem___old *op = (void *)ksym_addr[IA_KSYM_IO_TLB_DEFAULT_MEM];
	__u64 start = 0, end = 0;

	if (!np)
		return false;
	if (bpf_core_field_exists(np->defpool)) {
		start = BPF_CORE_READ(np, defpool.start);
		end = BPF_CORE_READ(np, defpool.end);
	} else if (bpf_core_field_exists(op->start)) {
		start = BPF_CORE_READ(op, start);
		end = BPF_CORE_READ(op, end);
	}
	return phys >= start && phys < end;
}

static __always_inline bool in_kernel_image(__u64 phys)
{
	__u64 text = ksym_addr[IA_KSYM_TEXT], end = ksym_addr[IA_KSYM_END];
	__u64 base;

	if (!text || !end || !ksym_addr[IA_KSYM_PHYS_BASE])
		return false;
	base = read_u64((const void *)ksym_addr[IA_KSYM_PHYS_BASE]);
	return phys >= text - START_KERNEL_MAP + base &&
	       phys < end - START_KERNEL_MAP + base;
}

static __always_inline void fill_slab(struct ia_ev_page *e, __u64 head)
{
	struct slab *slab = (void *)head;
	struct kmem_cache *s = BPF_CORE_READ(slab, slab_cache);
	const char *name;

	e->kind = IA_PAGE_SLAB;
	e->base = ia_page_to_phys((struct page *)head);
	e->objects = BPF_CORE_READ_BITFIELD_PROBED(slab, objects);
	e->inuse = BPF_CORE_READ_BITFIELD_PROBED(slab, inuse);
	if (!s)
		return;
	e->obj_size = BPF_CORE_READ(s, object_size);
	e->stride = BPF_CORE_READ(s, size);
	e->red_left_pad = BPF_CORE_READ(s, red_left_pad);
	name = BPF_CORE_READ(s, name);
	if (name)
		bpf_probe_read_kernel_str(e->name, sizeof(e->name), name);
}

static __always_inline void fill_mapping(struct ia_ev_page *e, __u64 mapping)
{
	struct address_space *as = (void *)mapping;
	struct inode *host;
	const char *fs;

	if ((mapping & PAGE_MAPPING_FLAGS) != 0) {
		/* anon (KSM: both bits); 2 alone was 6.1's non-LRU movable */
		e->kind = mapping & PAGE_MAPPING_ANON ? IA_PAGE_ANON : IA_PAGE_KERNEL;
		return;
	}
	e->kind = IA_PAGE_FILE;
	host = BPF_CORE_READ(as, host);
	if (!host)
		return;
	e->base = BPF_CORE_READ(host, i_ino);
	e->dev = BPF_CORE_READ(host, i_sb, s_dev);
	fs = BPF_CORE_READ(host, i_sb, s_type, name);
	if (fs)
		bpf_probe_read_kernel_str(e->name, sizeof(e->name), fs);
}

static __always_inline void classify_page(struct ia_ev_page *e, __u64 pfn)
{
	__u64 phys = pfn << page_shift, base, page, head, flags, mapping;
	struct page *hp;
	__u32 type;
	int ref;

	e->phys = phys;
	if (ksym_addr[IA_KSYM_MAX_PFN] &&
	    pfn >= read_u64((const void *)ksym_addr[IA_KSYM_MAX_PFN])) {
		e->kind = IA_PAGE_MMIO;
		return;
	}
	if (in_swiotlb(phys)) {
		e->kind = IA_PAGE_SWIOTLB;
		return;
	}
	base = ia_vmemmap_base();
	if (!base || !struct_page_size)
		return;		/* IA_PAGE_UNKNOWN */
	page = base + pfn * struct_page_size;
	head = head_page(page);
	if (head != page)
		e->hdr.flags |= IA_PAGE_F_COMPOUND;
	hp = (void *)head;
	flags = read_u64(hp);		/* flags: offset 0, one unsigned long */
	type = BPF_CORE_READ(hp, page_type);
	mapping = (__u64)BPF_CORE_READ(hp, mapping);
	ref = BPF_CORE_READ(hp, _refcount.counter);

	if (page_is_slab(flags, type)) {
		fill_slab(e, head);
		return;
	}
	if (ref == 0 && head == page && in_buddy_block(base, pfn)) {
		e->kind = IA_PAGE_FREE;
		e->hdr.flags |= IA_PAGE_F_BUDDY;
		return;
	}
	if (page_is_table(type)) {
		e->kind = IA_PAGE_PGTABLE;
		return;
	}
	if (in_kernel_image(phys)) {
		e->kind = IA_PAGE_KIMAGE;
		return;
	}
	if ((flags >> bpf_core_enum_value(enum pageflags, PG_reserved)) & 1) {
		e->kind = IA_PAGE_RESERVED;
		return;
	}
	if (ref == 0)	/* a per-CPU free list, or a non-compound tail */
		e->hdr.flags |= IA_PAGE_F_NOREF;
	if (mapping) {
		fill_mapping(e, mapping);
		return;
	}
	e->kind = IA_PAGE_KERNEL;
}

/* Pages [p0, p0 + n0) then [p1, p1 + n1), at most IA_PAGE_MAX of them. */
struct classify_ctx {
	__u64 req_id;
	__u64 p0, n0, p1, n1;
};

static long classify_step(__u32 i, void *data)
{
	struct classify_ctx *c = data;
	__u64 pfn = i < c->n0 ? c->p0 + i : c->p1 + (i - c->n0);
	struct ia_ev_page *e;

	if (i >= c->n0 + c->n1)
		return 1;
	e = ia_reserve(IA_EV_PAGE, sizeof(*e));
	if (!e)
		return 1;
	__builtin_memset((void *)e + sizeof(e->hdr), 0, sizeof(*e) - sizeof(e->hdr));
	e->hdr.req_id = c->req_id;
	classify_page(e, pfn);
	ia_submit(e);
	return 0;
}

static __always_inline void classify(struct classify_ctx *c)
{
	__u64 total = c->n0 + c->n1;
	struct ia_ev_page *e;

	if (!total)	/* a mapping that exposes nothing: most of them */
		return;
	bpf_loop(IA_PAGE_MAX, classify_step, c, 0);
	if (total <= IA_PAGE_MAX)
		return;
	e = ia_reserve(IA_EV_PAGE, sizeof(*e));
	if (!e)
		return;
	__builtin_memset((void *)e + sizeof(e->hdr), 0, sizeof(*e) - sizeof(e->hdr));
	e->hdr.req_id = c->req_id;
	e->kind = IA_PAGE_CAPPED;
	e->phys = (IA_PAGE_MAX < c->n0 ? c->p0 + IA_PAGE_MAX :
		   c->p1 + (IA_PAGE_MAX - c->n0)) << page_shift;
	e->base = total - IA_PAGE_MAX;
	ia_submit(e);
}

__noinline int ia_classify_map(__u64 req_id, __u64 phys, __u64 size, __u64 granule)
{
	__u64 lo, hi, first, last, end;
	struct classify_ctx c = { .req_id = req_id };

	if (!ia_classify_map_exposes(phys, size, granule))
		return 0;	/* nothing exposed: most mappings */
	lo = phys & ~(granule - 1);
	end = phys + size;
	hi = (end + granule - 1) & ~(granule - 1);
	first = phys >> page_shift;		/* page of the first requested byte */
	last = (end - 1) >> page_shift;		/* ... and of the last */
	if (phys > lo) {			/* head: [lo, phys) */
		c.p0 = lo >> page_shift;
		c.n0 = first - c.p0 + 1;
	}
	if (hi > end) {				/* tail: [end, hi) */
		c.p1 = last;
		c.n1 = ((hi - 1) >> page_shift) - last + 1;
		if (c.n0 && c.p1 == first) {	/* one page holds both pieces */
			c.p1++;
			c.n1--;
		}
	}
	classify(&c);
	return 0;
}

__noinline int ia_classify_write(__u64 req_id, __u64 paddr, __u64 size)
{
	struct classify_ctx c = { .req_id = req_id };
	__u64 first = paddr >> page_shift, last;

	if (!classify_pages || !size)
		return 0;
	last = (paddr + size - 1) >> page_shift;
	c.p0 = first;
	c.n0 = 1;
	if (last != first) {
		c.p1 = last;
		c.n1 = 1;
	}
	classify(&c);
	return 0;
}
