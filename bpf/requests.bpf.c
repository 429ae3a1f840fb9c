// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * DMA API requests as dma-iommu sees them: what a driver asked for.
 *
 * Each request is a frame on the calling task's in-flight stack from fentry to
 * fexit, so the page-table writes it causes (pgtable.bpf.c) carry its id, and
 * nested requests (dma_alloc_pages -> map_page -> __iommu_dma_map) carry
 * their parent's. The record is emitted at fexit, when the result is known.
 *
 * Every hook also has a kprobe/kretprobe pair, loaded instead where the
 * kernel refuses fentry/fexit (or with --force-kprobes): the kprobe saves the
 * arguments in the frame and the kretprobe hands them, with the return
 * value, to the same *_done() handler the fexit program uses. Handlers take
 * the arguments as an array: the fexit context or the saved copy.
 */
#include "audit.bpf.h"
#include "device.bpf.h"
#include "core_fixes.bpf.h"
#include "inflight.bpf.h"
#include "classify.bpf.h"
#include "frees.bpf.h"

#define SG_CHAIN	0x01UL	/* include/linux/scatterlist.h */
#define SG_END		0x02UL
#define SG_PAGE_MASK	(~(SG_CHAIN | SG_END))

#define DMA_MAPPING_ERROR	(~(__u64)0)

/* Scratch for building scatterlist records off the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ia_ev_sg);
} sg_scratch SEC(".maps");

/* The common fields of request record e, its header made: all the others
 * zero. */
static __always_inline void req_init(struct ia_ev_req *e, __u64 id, struct device *dev,
				     __u32 kind, __u64 parent, __s32 stack_id)
{
	__builtin_memset((void *)e + sizeof(e->hdr), 0, sizeof(*e) - sizeof(e->hdr));
	e->hdr.req_id = id;
	e->dev = (__u64)dev;
	e->parent_id = parent;
	e->stack_id = stack_id;
	e->kind = kind;
}

/* Reserve a request record of time ts (0: now), req_init()'s fields set. */
static __always_inline struct ia_ev_req *req_reserve(__u64 id, struct device *dev,
						     __u32 kind, __u64 parent,
						     __s32 stack_id, __u64 ts)
{
	struct ia_ev_req *e = ia_reserve_at(IA_EV_REQ, sizeof(*e), ts);

	if (!e)
		return NULL;
	req_init(e, id, dev, kind, parent, stack_id);
	return e;
}

/* The time and entry fields of the record of request f, popped. */
static __always_inline __u64 req_time(const struct ia_popped *f)
{
	return f->last_ns ? f->last_ns : f->entry_ns;
}

static __always_inline void req_entry(struct ia_ev_req *e, const struct ia_popped *f)
{
	/* a request that read no clock at its entry (lazy_time()): the
	 * first time it read, or its record's */
	e->entry_ns = f->entry_ns ? f->entry_ns : e->hdr.ts_ns;
	e->dma = f->entry_dma;
}

/*
 * The record of map f, whose nested __iommu_dma_map kept its write and its
 * own record: the three in one reservation (struct ia_ev_req_bundle), the
 * map's first, so that what the caller fills in and submits is the
 * reservation. A full ring loses the three, counted as three.
 */
static __always_inline struct ia_ev_req *req_bundle(struct ia_inflight *st,
						    const struct ia_popped *f, __u32 kind,
						    struct device *dev, __u64 parent)
{
	struct ia_ev_req_bundle *b;

	st->kept.valid = 0;
	b = ia_reserve_at(IA_EV_REQ_BUNDLE, sizeof(*b), req_time(f));
	if (!b) {
		if (armed) {
			ia_drop(IA_DROP_RINGBUF);
			ia_drop(IA_DROP_RINGBUF);
		}
		return NULL;
	}
	__builtin_memcpy(&b->pt, &st->kept.pt, sizeof(b->pt));
	__builtin_memcpy(&b->inner, &st->kept.inner, sizeof(b->inner));
	req_init(&b->req, f->req_id, dev, kind, parent, f->stack_id);
	req_entry(&b->req, f);
	return &b->req;
}

/*
 * Pop this request's frame and start its record. A fexit without a matching
 * frame (the call was already running when we attached) still gets a record,
 * with a fresh id, entry_ns 0 and no stack. The record takes the latest time
 * read inside the request (its IOVA release's, else its entry's: a nested
 * request's is its root's) instead of reading the clock again at the exit
 * (ts_ns, event/ia_events.h): two clock reads of the five a map+unmap pair
 * made, under TCG about 0.8 us each per pair (docs/benchmarks.md). A map
 * whose nested request kept its records sends them with its own
 * (req_bundle()); any other request's exit sends what is kept first.
 */
static __always_inline struct ia_ev_req *req_exit_from(struct ia_inflight *st,
							__u32 kind, struct device *dev)
{
	struct ia_popped f;
	struct ia_ev_req *e;
	__u64 parent;

	if (!req_pop(st, kind, dev, &f, &parent))
		return NULL;
	if (st && st->kept.valid) {
		if (st->kept.owner == f.req_id)
			return req_bundle(st, &f, kind, dev, parent);
		ia_kept_flush(st);
	}
	e = req_reserve(f.req_id, dev, kind, parent, f.stack_id, req_time(&f));
	if (!e)
		return NULL;
	req_entry(e, &f);
	return e;
}

/* ... of this task's in-flight stack */
static __always_inline struct ia_ev_req *req_exit(__u32 kind, struct device *dev)
{
	return req_exit_from(ia_inflight_get(false), kind, dev);
}

/* Save in the frame on top a handle the exit can no longer read. */
static __always_inline void req_set_entry_dma(__u64 dma)
{
	struct ia_frame *top = ia_top(ia_inflight_get(false));

	if (top)
		top->entry_dma = dma;
}

/* A request with no page-table side effects (syncs): one record at entry. */
static __always_inline struct ia_ev_req *req_instant(__u32 kind, struct device *dev)
{
	struct ia_ev_req *e;
	__u64 parent = ia_current_req();

	if (!ia_dev_observe(dev))
		return NULL;
	e = req_reserve(__sync_fetch_and_add(&req_seq, 1) + 1, dev, kind,
			parent == IA_REQ_FILTERED ? 0 : parent, -1, 0);
	if (!e)
		return NULL;
	e->hdr.flags = IA_REQ_F_ENTRY_ONLY;
	e->entry_ns = e->hdr.ts_ns;
	return e;
}

/*
 * Walk a scatterlist (following chain entries) and emit it in chunks of
 * IA_SG_CHUNK segments. Input walks take phys/len; output walks add the DMA
 * side. Bounded by IA_SG_MAX segments; a longer list is marked truncated.
 *
 * The walk is a bpf_loop() callback: an open-coded loop over a few hundred
 * entries makes the verifier explore too many states. Its state lives in a
 * map value, not in the callback's stack context: since 6.7 the verifier
 * checks a bpf_loop() callback like a loop body, iteration after iteration
 * until its states repeat, and a counter on the stack is a known constant
 * that never repeats (each of these programs processed 270,000 insns, 1.2 s
 * of verification natively and most of a record's start-up under TCG); a
 * map value's fields are unknown scalars, so one iteration is enough.
 */
struct sg_walk_ctx {
	__u64 sg;		/* current entry (kernel address) */
	__u32 n;		/* segments emitted */
	__u32 nents;		/* the caller's nents; 0 when unknown */
	__u32 flags;		/* IA_SG_OUTPUT or 0 */
	__u32 done;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_walk_ctx);
} sg_walk_state SEC(".maps");

static long sg_walk_step(__u32 i, void *data)
{
	__u32 zero = 0, c;
	struct sg_walk_ctx *w = bpf_map_lookup_elem(&sg_walk_state, &zero);
	struct ia_ev_sg *e = bpf_map_lookup_elem(&sg_scratch, &zero);
	struct scatterlist *sg;
	unsigned long link;
	struct ia_sg_seg *s;
	bool last;

	if (!e || !w || !(sg = (struct scatterlist *)w->sg))
		return 1;
	link = BPF_CORE_READ(sg, page_link);
	if (link & SG_CHAIN) {	/* sg_chain_ptr(): not a segment */
		w->sg = link & SG_PAGE_MASK;
		return 0;
	}
	if (w->n >= IA_SG_MAX)
		return 1;	/* truncated: the caller marks it */
	c = e->count;
	barrier_var(c);
	s = &e->segs[c & (IA_SG_CHUNK - 1)];
	s->phys = ia_page_to_phys((struct page *)(link & SG_PAGE_MASK)) +
		  BPF_CORE_READ(sg, offset);
	s->len = BPF_CORE_READ(sg, length);
	s->dma = w->flags ? BPF_CORE_READ(sg, dma_address) : 0;
	s->dma_len = w->flags ? ia_sg_dma_len(sg) : 0;
	e->count = c + 1;
	w->n++;
	last = (link & SG_END) || (w->nents && w->n >= w->nents);
	if (e->count == IA_SG_CHUNK || last) {
		e->hdr.flags = w->flags | (last ? IA_SG_LAST_CHUNK : 0);
		ia_output(e, sizeof(*e));
		e->first = w->n;
		e->count = 0;
	}
	w->sg += bpf_core_type_size(struct scatterlist);
	if (last) {
		w->done = 1;
		return 1;
	}
	return 0;
}

static __always_inline void sg_walk(__u64 req_id, struct scatterlist *sg,
				    int nents, bool output)
{
	__u32 zero = 0;
	struct ia_ev_sg *e = bpf_map_lookup_elem(&sg_scratch, &zero);
	struct sg_walk_ctx *w = bpf_map_lookup_elem(&sg_walk_state, &zero);

	if (!e || !w)
		return;
	w->sg = ia_addr(sg);
	w->n = 0;
	w->nents = nents > 0 ? nents : 0;
	w->flags = output ? IA_SG_OUTPUT : 0;
	w->done = 0;
	ia_hdr_init(&e->hdr, IA_EV_SG, sizeof(*e));
	e->hdr.req_id = req_id;
	e->first = 0;
	e->count = 0;
	/* chain entries take iterations too: allow one per 4 segments */
	bpf_loop(IA_SG_MAX + IA_SG_MAX / 4, sg_walk_step, NULL, 0);
	if (!w->done) {	/* bound hit, or a list that ended without SG_END */
		e->hdr.flags = w->flags | IA_SG_LAST_CHUNK | IA_SG_TRUNCATED;
		ia_output(e, sizeof(*e));
	}
}

static __always_inline void set_result(struct ia_ev_req *e, __u64 dma)
{
	e->dma = dma;
	if (dma == DMA_MAPPING_ERROR)
		e->hdr.flags |= IA_REQ_F_FAILED;
}

/* ---- single mappings ------------------------------------------------- */

#define IA_THREAD_PAGES	4	/* THREAD_SIZE, x86-64 without KASAN: 16 KiB */

/*
 * Is phys in the calling task's kernel stack? dma-debug's check_for_stack():
 * a vmapped stack (CONFIG_VMAP_STACK, Debian's kernels) by its pages, a
 * direct-mapped one (the lab config) by its linear-map address. A map made
 * in an interrupt is compared with the interrupted task's stack, where no
 * interrupt's buffer lies. The task is BTF-typed (loads, not probe reads:
 * IA_RD), and a vmapped stack's page pointers are read in one probe read
 * and compared with phys's own struct page.
 */
static __always_inline bool ia_on_stack(__u64 phys)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 base, lo, page = 1ULL << page_shift, stack = (__u64)t->stack;

	if (bpf_core_field_exists(t->stack_vm_area)) {
		struct vm_struct *vm = t->stack_vm_area;

		if (vm) {
			__u64 pages[IA_THREAD_PAGES] = {}, pg;
			__u32 n = vm->nr_pages;

			base = ia_vmemmap_base();
			if (!base || !struct_page_size ||
			    bpf_probe_read_kernel(pages, sizeof(pages), vm->pages))
				return false;
			pg = base + (phys >> page_shift) * struct_page_size;
			for (__u32 i = 0; i < IA_THREAD_PAGES && i < n; i++)
				if (pages[i] == pg)
					return true;
			return false;
		}
	}
	base = ia_page_offset_base();
	if (!stack || !base || stack < base)
		return false;
	lo = stack - base;
	return phys >= lo && phys < lo + IA_THREAD_PAGES * page;
}

/* iommu_dma_map_page(dev, page, offset, size, dir, attrs) -> dma */
/* page: a[1] as a number (REQ_EXIT_ARGN) */
static __always_inline void map_page_done(const __u64 *a, __u64 ret, __u64 page)
{
	struct ia_ev_req *e = req_exit(IA_REQ_MAP_PAGE, (void *)a[0]);

	if (!e)
		return;
	e->phys = ia_page_addr_to_phys(page) + a[2];
	e->size = a[3];
	e->dir = a[4];
	e->attrs = a[5];
	if (ia_on_stack(e->phys))
		e->hdr.flags |= IA_REQ_F_STACK;
	set_result(e, ret);
	ia_submit(e);
}
REQ_ENTRY(map_page, iommu_dma_map_page, IA_REQ_MAP_PAGE, NOTHING)
REQ_EXIT_ARGN(map_page, iommu_dma_map_page, IA_REQ_MAP_PAGE, ctx[6], 1)

/*
 * v6.18: iommu_dma_map_phys(dev, phys, size, dir, attrs) -> dma. It also
 * serves dma_map_resource(): with DMA_ATTR_MMIO the request is an MMIO map
 * and is recorded as one (the frame was pushed as a map_page, the record
 * says what it was).
 */
static __always_inline void map_phys_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_MAP_PAGE, (void *)a[0]);

	if (!e)
		return;
	if (a[4] & IA_DMA_ATTR_MMIO)
		e->kind = IA_REQ_MAP_RESOURCE;
	e->phys = a[1];
	e->size = a[2];
	e->dir = a[3];
	e->attrs = a[4];
	if (!(a[4] & IA_DMA_ATTR_MMIO) && ia_on_stack(e->phys))
		e->hdr.flags |= IA_REQ_F_STACK;
	set_result(e, ret);
	ia_submit(e);
}
REQ_HOOK(map_phys, iommu_dma_map_phys, IA_REQ_MAP_PAGE, 5)

#define IOMMU_MMIO	(1 << 4)	/* include/linux/iommu.h */

/* __iommu_dma_map(dev, phys, size, prot, dma_mask) -> dma */
static __always_inline void iommu_map_fill(struct ia_ev_req *e, const __u64 *a, __u64 ret)
{
	e->phys = a[1];
	e->size = a[2];
	e->attrs = (__u32)a[3];	/* IOMMU_READ/WRITE/... of the mapping */
	e->gfp = a[4];		/* the mask the IOVA was allocated under */
	set_result(e, ret);
}

/*
 * Keep this request's record, and the write it kept (pgtable.bpf.c:
 * pt_map_keeps()), for its parent map to send with its own (struct
 * ia_kept). Only when nothing else of the request goes out between them:
 * a mapping that exposes pages makes classification records, which
 * follow the write.
 */
static __always_inline bool iommu_map_keep(struct ia_inflight *st, struct ia_frame *top,
					   const __u64 *a, __u64 ret)
{
	struct ia_ev_req *k;
	struct ia_popped f;
	__u64 parent;

	if (!top->pt_kept || top->pt_type != IA_EV_PT_MAP || ret == DMA_MAPPING_ERROR ||
	    (!(a[3] & IOMMU_MMIO) && ia_classify_map_exposes(a[1], a[2], top->granule)))
		return false;
	ia_kept_flush(st);
	ia_pt_fill(&st->kept.pt, top, top->entry_ns);
	top->pt_kept = 0;
	if (!req_pop(st, IA_REQ_IOMMU_MAP, (void *)a[0], &f, &parent))
		return true;	/* not reached: the write kept had an id */
	k = &st->kept.inner;
	ia_hdr_init_at(&k->hdr, IA_EV_REQ, sizeof(*k), req_time(&f));
	req_init(k, f.req_id, (void *)a[0], IA_REQ_IOMMU_MAP, parent, f.stack_id);
	req_entry(k, &f);
	iommu_map_fill(k, a, ret);
	st->kept.owner = parent;
	st->kept.valid = 1;
	return true;
}

static __always_inline void iommu_map_done(const __u64 *a, __u64 ret)
{
	struct ia_inflight *st = ia_inflight_get(false);
	struct ia_frame *top = ia_top(st);
	__u64 id = top ? top->req_id : 0;
	struct ia_ev_req *e;

	if (top && iommu_map_keep(st, top, a, ret))
		return;
	/* a write kept for a keep that did not happen: before what follows */
	if (top)
		ia_pt_flush(top);
	/* what the mapping exposes, read now, under this request's id (its
	 * frame is still on top), so it reaches the root with the writes;
	 * the granule as the root request's entry read it */
	if (id && id != IA_REQ_FILTERED && ret != DMA_MAPPING_ERROR &&
	    !(a[3] & IOMMU_MMIO))
		ia_classify_map(id, a[1], a[2], top->granule);
	if (ret != DMA_MAPPING_ERROR && free_hooks)
		ia_frees_request(a[1], a[2]);
	e = req_exit_from(st, IA_REQ_IOMMU_MAP, (void *)a[0]);

	if (!e)
		return;
	iommu_map_fill(e, a, ret);
	ia_submit(e);
}
REQ_HOOK(iommu_map, __iommu_dma_map, IA_REQ_IOMMU_MAP, 5)

/* iommu_dma_map_resource(dev, phys, size, dir, attrs) -> dma */
static __always_inline void map_resource_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_MAP_RESOURCE, (void *)a[0]);

	if (!e)
		return;
	e->phys = a[1];
	e->size = a[2];
	e->dir = a[3];
	e->attrs = a[4];
	set_result(e, ret);
	ia_submit(e);
}
REQ_HOOK(map_resource, iommu_dma_map_resource, IA_REQ_MAP_RESOURCE, 5)

/* ---- scatterlists ---------------------------------------------------- */

/* iommu_dma_map_sg(dev, sg, nents, dir, attrs) -> int: input walk at entry */
static __always_inline void map_sg_started(const __u64 *a)
{
	__u64 id = ia_current_req();

	if (id && id != IA_REQ_FILTERED)
		sg_walk(id, (struct scatterlist *)a[1], (int)a[2], false);
}

static __always_inline void map_sg_done(const __u64 *a, __u64 ret)
{
	struct scatterlist *sg = (struct scatterlist *)a[1];
	struct ia_ev_req *e = req_exit(IA_REQ_MAP_SG, (void *)a[0]);
	int nents = (int)a[2], mapped = (int)ret;
	__u64 id;

	if (!e)
		return;
	e->dir = a[3];
	e->attrs = a[4];
	e->nents = nents;
	e->ret = mapped;
	e->dma = mapped > 0 ? BPF_CORE_READ(sg, dma_address) : DMA_MAPPING_ERROR;
	if (mapped <= 0)
		e->hdr.flags |= IA_REQ_F_FAILED;
	id = e->hdr.req_id;
	ia_submit(e);
	/* dma-iommu restores offset/length before returning (__finalise_sg),
	 * so this walk sees each input segment next to its DMA result */
	if (mapped > 0)
		sg_walk(id, sg, nents, true);
}
REQ_ENTRY(map_sg, iommu_dma_map_sg, IA_REQ_MAP_SG, map_sg_started)
REQ_EXIT(map_sg, iommu_dma_map_sg, IA_REQ_MAP_SG, ctx[5])

/* iommu_dma_unmap_sg(dev, sg, nents, dir, attrs) */
static __always_inline void unmap_sg_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_UNMAP_SG, (void *)a[0]);

	if (!e)
		return;
	e->dma = BPF_CORE_READ((struct scatterlist *)a[1], dma_address);
	e->nents = a[2];
	e->dir = a[3];
	e->attrs = a[4];
	ia_submit(e);
}
REQ_HOOK_VOID(unmap_sg, iommu_dma_unmap_sg, IA_REQ_UNMAP_SG)

/* ---- unmaps: (dev, handle, size, dir, attrs) ------------------------- */

/*
 * kind: the frame's; record_kind: what the record says it was. A record
 * sent with the IOVA release (struct ia_ev_unmap_bundle, flush.bpf.c):
 * only the frame to pop.
 */
static __always_inline void unmap_done(__u32 kind, const __u64 *a, __u32 record_kind)
{
	struct ia_inflight *st = ia_inflight_get(false);
	struct ia_frame *top = ia_top(st);
	struct ia_ev_req *e;

	if (top && (top->unmap_flags & IA_UNMAP_SENT) && top->kind == kind &&
	    top->dev == a[0]) {
		struct ia_popped f;
		__u64 parent;

		req_pop(st, kind, (void *)a[0], &f, &parent);
		return;
	}
	e = req_exit_from(st, kind, (void *)a[0]);
	if (!e)
		return;
	e->kind = record_kind;
	e->dma = a[1];
	e->size = a[2];
	e->dir = a[3];
	e->attrs = a[4];
	ia_submit(e);
}
#define unmap_page_done(a, ret)		unmap_done(IA_REQ_UNMAP_PAGE, a, IA_REQ_UNMAP_PAGE)
/* v6.18: dma_unmap_resource() is dma_unmap_phys() with DMA_ATTR_MMIO */
#define unmap_phys_done(a, ret)		unmap_done(IA_REQ_UNMAP_PAGE, a,		\
		(a)[4] & IA_DMA_ATTR_MMIO ? IA_REQ_UNMAP_RESOURCE : IA_REQ_UNMAP_PAGE)
#define unmap_resource_done(a, ret)	unmap_done(IA_REQ_UNMAP_RESOURCE, a, IA_REQ_UNMAP_RESOURCE)
/* an unmap_phys of MMIO: what its record, made at the release, says */
static __always_inline void unmap_phys_started(const __u64 *a)
{
	struct ia_frame *top;

	if (!(a[4] & IA_DMA_ATTR_MMIO))
		return;
	top = ia_top(ia_inflight_get(false));
	if (top)
		top->unmap_flags |= IA_UNMAP_MMIO;
}
REQ_HOOK_VOID(unmap_page, iommu_dma_unmap_page, IA_REQ_UNMAP_PAGE)
REQ_ENTRY(unmap_phys, iommu_dma_unmap_phys, IA_REQ_UNMAP_PAGE, unmap_phys_started)	/* v6.18 */
REQ_EXIT(unmap_phys, iommu_dma_unmap_phys, IA_REQ_UNMAP_PAGE, 0)
REQ_HOOK_VOID(unmap_resource, iommu_dma_unmap_resource, IA_REQ_UNMAP_RESOURCE)

/* ---- allocations ----------------------------------------------------- */

/* iommu_dma_alloc(dev, size, dma_addr_t *handle, gfp, attrs) -> cpu addr */
static __always_inline void alloc_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_ALLOC, (void *)a[0]);
	dma_addr_t dma = DMA_MAPPING_ERROR;

	if (!e)
		return;
	if (ret)
		bpf_probe_read_kernel(&dma, sizeof(dma), (void *)a[2]);
	e->size = a[1];
	e->gfp = a[3];
	e->attrs = a[4];
	e->cpu_addr = ret;
	e->dma = dma;
	if (!ret)
		e->hdr.flags |= IA_REQ_F_FAILED;
	ia_submit(e);
}
REQ_HOOK(alloc, iommu_dma_alloc, IA_REQ_ALLOC, 5)

/* iommu_dma_free(dev, size, cpu_addr, handle, attrs) */
static __always_inline void free_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_FREE, (void *)a[0]);

	if (!e)
		return;
	e->size = a[1];
	e->cpu_addr = a[2];
	e->dma = a[3];
	e->attrs = a[4];
	ia_submit(e);
}
REQ_HOOK_VOID(free, iommu_dma_free, IA_REQ_FREE)

/* iommu_dma_alloc_noncontiguous(dev, size, dir, gfp, attrs) -> sg_table */
static __always_inline void alloc_noncontig_done(const __u64 *a, __u64 ret)
{
	struct sg_table *sgt = (struct sg_table *)ret;
	struct scatterlist *sgl = sgt ? BPF_CORE_READ(sgt, sgl) : NULL;
	__u32 nents = sgt ? BPF_CORE_READ(sgt, orig_nents) : 0;
	struct ia_ev_req *e;
	__u64 id;

	/* reads first: a NULL test of e after them is one the verifier of
	 * older kernels cannot fold into req_exit's, and it then sees a leak */
	e = req_exit(IA_REQ_ALLOC_NONCONTIG, (void *)a[0]);
	if (!e)
		return;
	e->size = a[1];
	e->dir = a[2];
	e->gfp = a[3];
	e->attrs = a[4];
	e->cpu_addr = ret;	/* the sg_table */
	e->dma = sgl ? BPF_CORE_READ(sgl, dma_address) : DMA_MAPPING_ERROR;
	e->nents = nents;
	if (!sgt)
		e->hdr.flags |= IA_REQ_F_FAILED;
	id = e->hdr.req_id;
	ia_submit(e);
	if (sgl)	/* the pages that were really allocated */
		sg_walk(id, sgl, nents, true);
}
REQ_HOOK(alloc_noncontig, iommu_dma_alloc_noncontiguous, IA_REQ_ALLOC_NONCONTIG, 5)

/*
 * iommu_dma_free_noncontiguous(dev, size, sgt, dir): the table is freed by
 * the time the function returns, so its handle is read at entry.
 */
static __always_inline void free_noncontig_started(const __u64 *a)
{
	struct sg_table *sgt = (struct sg_table *)a[2];
	struct scatterlist *sgl = sgt ? BPF_CORE_READ(sgt, sgl) : NULL;

	req_set_entry_dma(sgl ? BPF_CORE_READ(sgl, dma_address) : 0);
}

static __always_inline void free_noncontig_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_FREE_NONCONTIG, (void *)a[0]);

	if (!e)
		return;
	e->size = a[1];
	e->cpu_addr = a[2];
	e->dir = a[3];
	ia_submit(e);
}
REQ_ENTRY(free_noncontig, iommu_dma_free_noncontiguous, IA_REQ_FREE_NONCONTIG,
	  free_noncontig_started)
REQ_EXIT(free_noncontig, iommu_dma_free_noncontiguous, IA_REQ_FREE_NONCONTIG, 0)

/* dma_common_alloc_pages(dev, size, dma_addr_t *handle, dir, gfp) -> page */
static __always_inline void alloc_pages_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_ALLOC_PAGES, (void *)a[0]);
	dma_addr_t dma = DMA_MAPPING_ERROR;

	if (!e)
		return;
	if (ret)
		bpf_probe_read_kernel(&dma, sizeof(dma), (void *)a[2]);
	e->phys = ia_page_to_phys((struct page *)ret);
	e->size = a[1];
	e->dir = a[3];
	e->gfp = a[4];
	e->dma = dma;
	if (!ret)
		e->hdr.flags |= IA_REQ_F_FAILED;
	ia_submit(e);
}
REQ_HOOK(alloc_pages, dma_common_alloc_pages, IA_REQ_ALLOC_PAGES, 5)

/* dma_common_free_pages(dev, size, page, handle, dir) */
static __always_inline void free_pages_done(const __u64 *a, __u64 ret)
{
	struct ia_ev_req *e = req_exit(IA_REQ_FREE_PAGES, (void *)a[0]);

	if (!e)
		return;
	e->size = a[1];
	e->phys = ia_page_to_phys((struct page *)a[2]);
	e->dma = a[3];
	e->dir = a[4];
	ia_submit(e);
}
REQ_HOOK_VOID(free_pages, dma_common_free_pages, IA_REQ_FREE_PAGES)

/*
 * iommu_dma_get_sgtable(dev, sgt, cpu_addr, dma_addr, size, attrs) -> int
 * (the same in 6.1 and 6.18): the table dma_get_sgtable() exports for a
 * coherent buffer, e.g. to a dma-buf importer. It maps nothing; the
 * checker compares its entries with what the IOMMU maps at the handle.
 */
static __always_inline void get_sgtable_done(const __u64 *a, __u64 ret)
{
	struct sg_table *sgt = (struct sg_table *)a[1];
	int err = (int)ret;
	struct scatterlist *sgl = !err && sgt ? BPF_CORE_READ(sgt, sgl) : NULL;
	__u32 nents = sgl ? BPF_CORE_READ(sgt, orig_nents) : 0;
	struct ia_ev_req *e;
	__u64 id;

	/* reads before req_exit(), as in alloc_noncontig_done() */
	e = req_exit(IA_REQ_GET_SGTABLE, (void *)a[0]);
	if (!e)
		return;
	e->cpu_addr = a[2];
	e->dma = a[3];
	e->size = a[4];
	e->attrs = a[5];
	e->ret = err;
	e->nents = nents;
	if (err)
		e->hdr.flags |= IA_REQ_F_FAILED;
	id = e->hdr.req_id;
	ia_submit(e);
	if (sgl)	/* the exported entries: an output walk, after the record */
		sg_walk(id, sgl, nents, true);
}
REQ_HOOK(get_sgtable, iommu_dma_get_sgtable, IA_REQ_GET_SGTABLE, 6)

/* ---- syncs: no page-table effect, one record at entry ---------------- */

/* (dev, handle, size, dir) */
static __always_inline void sync_single(__u32 kind, const __u64 *a)
{
	struct ia_ev_req *e = req_instant(kind, (void *)a[0]);

	if (!e)
		return;
	e->dma = a[1];
	e->size = a[2];
	e->dir = a[3];
	ia_submit(e);
}

/* (dev, sgl, nelems, dir) */
static __always_inline void sync_sg(__u32 kind, const __u64 *a)
{
	struct ia_ev_req *e = req_instant(kind, (void *)a[0]);

	if (!e)
		return;
	e->dma = BPF_CORE_READ((struct scatterlist *)a[1], dma_address);
	e->nents = a[2];
	e->dir = a[3];
	ia_submit(e);
}

#define REQ_SYNC(prog, func, kind, fn)					\
SEC("fentry/" #func)							\
int prog(__u64 *ctx)							\
{									\
	fn(kind, ctx);							\
	return 0;							\
}									\
SEC("kprobe/" #func)							\
int prog##_k(struct pt_regs *regs)					\
{									\
	__u64 a[IA_MAX_ARGS];						\
									\
	ia_regs_args(regs, a);						\
	fn(kind, a);							\
	return 0;							\
}

REQ_SYNC(sync_single_cpu, iommu_dma_sync_single_for_cpu, IA_REQ_SYNC_SINGLE_CPU, sync_single)
REQ_SYNC(sync_single_dev, iommu_dma_sync_single_for_device, IA_REQ_SYNC_SINGLE_DEV, sync_single)
REQ_SYNC(sync_sg_cpu, iommu_dma_sync_sg_for_cpu, IA_REQ_SYNC_SG_CPU, sync_sg)
REQ_SYNC(sync_sg_dev, iommu_dma_sync_sg_for_device, IA_REQ_SYNC_SG_DEV, sync_sg)
