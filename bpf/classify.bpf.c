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
 *                      head and tail pieces the mapping adds (a page the
 *                      buffer fills is not one);
 *   ia_classify_write() a page-table write of a scatterlist (dma-iommu maps
 *                      the whole list with one iommu_map_sg, no per-segment
 *                      request): the write's first and last page, where the
 *                      sub-page slack of its segments lies. Boundary padding
 *                      pages in the middle of a write are not classified.
 *
 * At most IA_PAGE_MAX pages per call; the others are counted in one
 * IA_PAGE_CAPPED record, so the report can say how many bytes went
 * unnamed. Cost: one probe read per page for its struct page (two for a
 * compound tail: its head's too), then a few for its slab cache or its
 * address_space when it has one, and one ring-buffer record per page; what
 * every page is compared with is read once per call (max_pfn) or once
 * (swiotlb's pool, the kernel image: boot_ranges).
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

/*
 * The first IA_PAGE_COPY bytes of a struct page, read at once: its flags,
 * compound head, mapping, page type and reference count (64 bytes on
 * x86-64) in one probe read instead of one each. PAGE_FIELD() takes a
 * field from the copy by its CO-RE offset (a constant the verifier checks
 * against the copy's size), or reads it from the page itself on a kernel
 * where it lies beyond the copy.
 */
#define IA_PAGE_COPY	64
struct page_copy {
	__u64 w[IA_PAGE_COPY / 8];
};

#define PAGE_FIELD(pc, page, T, S, field)					\
	(bpf_core_field_offset(S, field) + sizeof(T) <= IA_PAGE_COPY ?		\
	 *(T *)((void *)(pc) + bpf_core_field_offset(S, field)) :		\
	 (T)BPF_CORE_READ((S *)(page), field))

/* compound_head(): the head page of a tail page, else the page itself
 * (pc: a copy of the page, struct page_copy above) */
static __always_inline __u64 head_page(__u64 page, const void *pc)
{
	struct page___compound_info *ci = (void *)page;
	struct page *pg = (void *)page;
	__u64 info, mask;

	if (bpf_core_field_exists(pg->compound_head)) {
		info = PAGE_FIELD(pc, page, __u64, struct page, compound_head);
		return info & 1 ? info - 1 : page;
	}
	if (!bpf_core_field_exists(ci->compound_info))
		return page;
	info = PAGE_FIELD(pc, page, __u64, struct page___compound_info, compound_info);
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
 * pools are: those two cannot be told apart here.) type: the page's own
 * page_type (order 0's first page is the page); an order whose first page
 * is the order below's (bit k - 1 of pfn clear) is not read again: up to
 * 10 probe reads became one per set bit of the pfn's low 10.
 */
static __always_inline bool in_buddy_block(__u64 base, __u64 pfn, __u32 type)
{
	if (page_is_buddy(type))
		return true;	/* its own order, at least 0 */
#pragma unroll
	for (int k = 1; k < IA_BUDDY_ORDERS; k++) {
		struct page *p;

		if (!(pfn & (1ULL << (k - 1))))
			continue;	/* order k - 1's first page: not buddy */
		p = (void *)(base + (pfn & ~((1ULL << k) - 1)) * struct_page_size);
		if (page_is_buddy(BPF_CORE_READ(p, page_type)))
			return BPF_CORE_READ(p, private) >= (unsigned long)k;
	}
	return false;
}

/*
 * Pages [p0, p0 + n0) then [p1, p1 + n1), at most IA_PAGE_MAX of them;
 * and what every page is compared with, read once per call (ctx_globals())
 * instead of once per page: under TCG a probe read is 0.1-0.2 us, and at a
 * 16K granule each one-page map classifies 3 pages.
 */
struct classify_ctx {
	__u64 req_id;
	__u64 p0, n0, p1, n1;
	__u64 max_pfn;			/* 0: unknown */
	__u64 vmemmap;			/* 0: unknown */
};

/* swiotlb's default pool, [*start, *end) (both 0: none known) */
static __always_inline void swiotlb_range(__u64 *start, __u64 *end)
{
	struct io_tlb_mem___pool *np = (void *)ksym_addr[IA_KSYM_IO_TLB_DEFAULT_MEM];
	struct io_tlb_mem___old *op = (void *)ksym_addr[IA_KSYM_IO_TLB_DEFAULT_MEM];

	*start = *end = 0;
	if (!np)
		return;
	if (bpf_core_field_exists(np->defpool)) {
		*start = BPF_CORE_READ(np, defpool.start);
		*end = BPF_CORE_READ(np, defpool.end);
	} else if (bpf_core_field_exists(op->start)) {
		*start = BPF_CORE_READ(op, start);
		*end = BPF_CORE_READ(op, end);
	}
}

/* the kernel image's phys, [*start, *end) (both 0: unknown) */
static __always_inline void kernel_image_range(__u64 *start, __u64 *end)
{
	__u64 text = ksym_addr[IA_KSYM_TEXT], kend = ksym_addr[IA_KSYM_END];
	__u64 base;

	*start = *end = 0;
	if (!text || !kend || !ksym_addr[IA_KSYM_PHYS_BASE])
		return;
	base = read_u64((const void *)ksym_addr[IA_KSYM_PHYS_BASE]);
	*start = text - START_KERNEL_MAP + base;
	*end = kend - START_KERNEL_MAP + base;
}

/*
 * swiotlb's default pool and the kernel image's phys are set at boot, and
 * stay (the pools CONFIG_SWIOTLB_DYNAMIC adds later are others): read on
 * the first classification only (4 probe reads a call, where a 16K
 * granule's one-page map classifies 3 pages), then compared with every
 * page from here. Two CPUs filling it at once write the same values;
 * `read` last.
 */
static struct {
	__u64 tlb_start, tlb_end;	/* swiotlb's default pool, 0 0: none */
	__u64 kimg_start, kimg_end;	/* the kernel image's phys, 0 0: unknown */
	__u32 read;
} boot_ranges;

static __always_inline void ctx_globals(struct classify_ctx *c)
{
	c->max_pfn = ksym_addr[IA_KSYM_MAX_PFN] ?	/* memory hotplug moves it */
		     read_u64((const void *)ksym_addr[IA_KSYM_MAX_PFN]) : 0;
	if (!boot_ranges.read) {
		swiotlb_range(&boot_ranges.tlb_start, &boot_ranges.tlb_end);
		kernel_image_range(&boot_ranges.kimg_start, &boot_ranges.kimg_end);
		asm volatile("" ::: "memory");	/* the ranges, then the flag */
		boot_ranges.read = 1;
	}
	c->vmemmap = ia_vmemmap_base();
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

static __always_inline void classify_page(struct ia_ev_page *e, __u64 pfn,
					  const struct classify_ctx *c)
{
	__u64 phys = pfn << page_shift, base, page, head, flags, mapping;
	struct page_copy pc;
	__u32 type;
	int ref;

	e->phys = phys;
	if (c->max_pfn && pfn >= c->max_pfn) {
		e->kind = IA_PAGE_MMIO;
		return;
	}
	if (phys >= boot_ranges.tlb_start && phys < boot_ranges.tlb_end) {
		e->kind = IA_PAGE_SWIOTLB;
		return;
	}
	base = c->vmemmap;
	if (!base || !struct_page_size)
		return;		/* IA_PAGE_UNKNOWN */
	page = base + pfn * struct_page_size;
	if (bpf_probe_read_kernel(&pc, sizeof(pc), (void *)page))
		return;		/* IA_PAGE_UNKNOWN */
	head = head_page(page, &pc);
	if (head != page) {
		e->hdr.flags |= IA_PAGE_F_COMPOUND;
		if (bpf_probe_read_kernel(&pc, sizeof(pc), (void *)head))
			return;
	}
	flags = pc.w[0];		/* flags: offset 0, one unsigned long */
	type = PAGE_FIELD(&pc, head, __u32, struct page, page_type);
	mapping = PAGE_FIELD(&pc, head, __u64, struct page, mapping);
	ref = PAGE_FIELD(&pc, head, int, struct page, _refcount.counter);

	if (page_is_slab(flags, type)) {
		fill_slab(e, head);
		return;
	}
	if (ref == 0 && head == page && in_buddy_block(base, pfn, type)) {
		e->kind = IA_PAGE_FREE;
		e->hdr.flags |= IA_PAGE_F_BUDDY;
		return;
	}
	if (page_is_table(type)) {
		e->kind = IA_PAGE_PGTABLE;
		return;
	}
	if (phys >= boot_ranges.kimg_start && phys < boot_ranges.kimg_end) {
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
	classify_page(e, pfn, c);
	ia_submit(e);
	return 0;
}

static __always_inline void classify(struct classify_ctx *c)
{
	__u64 total = c->n0 + c->n1;
	struct ia_ev_page *e;

	if (!total)	/* a mapping that exposes nothing: most of them */
		return;
	ctx_globals(c);
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
	__u64 lo, hi, end;
	struct classify_ctx c = { .req_id = req_id };

	if (!ia_classify_map_exposes(phys, size, granule))
		return 0;	/* nothing exposed: most mappings */
	lo = phys & ~(granule - 1);
	end = phys + size;
	hi = (end + granule - 1) & ~(granule - 1);
	/* the pages holding exposed bytes only: a buffer's first or last
	 * page is one of them when the buffer starts or ends inside it */
	if (phys > lo) {			/* head: [lo, phys) */
		c.p0 = lo >> page_shift;
		c.n0 = ((phys - 1) >> page_shift) - c.p0 + 1;
	}
	if (hi > end) {				/* tail: [end, hi) */
		c.p1 = end >> page_shift;
		c.n1 = ((hi - 1) >> page_shift) - c.p1 + 1;
		if (c.n0 && c.p1 == c.p0 + c.n0 - 1) {	/* one page holds both */
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
