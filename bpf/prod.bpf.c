// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Production mode (`devices --production`): the per-device totals that
 * `report` gives for a recording, counted here in BPF maps that userspace
 * reads on a timer, with no ring-buffer record per request. The ring
 * buffer carries only device context changes (device.bpf.h).
 *
 * Three hooks, each fired once per map or unmap:
 * - exit of __iommu_dma_map(dev, phys, size, prot, dma_mask) -> IOVA: the
 *   internal map of single maps (map_page, 6.18's map_phys), MMIO maps and
 *   the contiguous allocations (coherent contig/atomic, dma_alloc_pages).
 *   It maps iova_align(iova_offset(phys) + size) bytes from
 *   phys & ~(granule - 1) (drivers/iommu/dma-iommu.c), so the exposure is
 *   known from the request and the granule: head = phys % granule, tail =
 *   the rest of the last granule. Scatterlists, remapped and noncontiguous
 *   allocations and the IOVA API map through iommu_map_sg() or
 *   iommu_map_nosync() instead: not counted here (the coverage says so).
 * - exit of __iommu_dma_unmap(dev, dma_addr, size): every unmap and free
 *   of dma-iommu; matched against the live table (a mapping counted here),
 *   and queued on its cookie's lazy queue in a DMA-FQ domain. At its exit,
 *   not its entry: on 7.x a flush is seen inside it (queue_iova() calls
 *   fq_ring_free_locked() first), and must not revoke this unmap;
 * - the flush-queue flush (fq_flush_iotlb's exit, 6.1/6.12; the
 *   fq_flush_finish_cnt move at fq_ring_free_locked, 7.x): each queued
 *   unmap's window goes into its device's histogram.
 *
 * Maps that expose bytes are also counted per call stack (prod_sites;
 * `devices --production` names each by its first frame outside the DMA
 * code, as the checker names a finding's site).
 *
 * The exposure counted is mapped minus requested, like the checker's
 * (check/inv_exposure.c) except that the checker also takes out the bytes
 * of the device's other live buffers sharing the granule (two sub-page
 * buffers of one page): there this is an upper bound.
 */
#include "audit.bpf.h"
#include "core_fixes.bpf.h"
#include "device.bpf.h"
#include "fqseen.bpf.h"
#include "site.bpf.h"

#define DMA_MAPPING_ERROR	(~0ULL)
#define PROD_FQ_SLOTS		1024	/* queued unmaps kept per cookie */

/*
 * This CPU's copy of the device context its counters were last checked
 * against. A request compares the four things production mode's figures
 * depend on with it, read straight from the device (its default domain,
 * the domain's type, the driver, a PCI device's untrusted bit: 4-5 reads);
 * only when one differs, or when any CPU has changed a device's shared
 * state since the copy was taken (dev_epoch: a task that moved here from
 * the CPU that saw a change must not trust this CPU's older copy), does it
 * take the device state's full path (device.bpf.h: ten more reads, the
 * shared state's lookup, the context record on a change). So a DMA mask or
 * segment limit changed alone is sent with the device's next change of
 * those four, not at once: no figure of production mode depends on it (the
 * checker's do, and `record` reads the whole context at every request).
 */
struct prod_ctx {
	__u64 domain;
	__u64 driver;
	__u64 granule;		/* device state's: ia_dev_observe_view() */
	__u64 fq_cookie;
	__u32 domain_type;
	__u32 untrusted;	/* IA_DEV_PCI | IA_DEV_UNTRUSTED as last read */
	__u32 allowed;		/* passes the --device filter */
	__u32 valid;
	__u64 epoch;		/* dev_epoch when it was taken (state.bpf.c) */
	/* the device's address as a number, the live table's key: an
	 * fexit's device is a typed pointer, which the verifier lets no
	 * program hash (read with ia_addr() when the copy is taken) */
	__u64 dev;
};

/* the per-CPU value: the counters (what userspace adds up: the loader
 * reads the struct ia_prod_dev at the start of each CPU's value) and the
 * context check, in one lookup */
struct prod_dev_slot {
	struct ia_prod_dev c;
	struct prod_ctx ctx;
};

/* device -> its counters, per CPU (no atomics on the hot path); the cap
 * is the loader's (--max-devices) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, struct prod_dev_slot);
} prod_devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IA_PROD_OVF_MAX);
	__type(key, __u32);
	__type(value, __u64);
} prod_overflow SEC(".maps");

/* (device, call stack) -> the exposure of its maps, per CPU; only maps
 * that expose bytes pay for the stack (a page-aligned buffer costs none) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct ia_prod_site_key);
	__type(value, struct ia_prod_site);
} prod_sites SEC(".maps");

/*
 * The mappings counted here and not unmapped yet, each as (device, IOVA of
 * its first granule): a set, open-addressed in buckets of PROD_LIVE_WAYS
 * slots that CPUs claim and free with atomics. Not a BPF hash map: its
 * update and delete per pair (a bucket lock with interrupts off, the
 * preallocated element's free list) were half of production mode's cost
 * per pair (docs/benchmarks.md, "Production mode's live table"); an array
 * element is found by the program itself, without a helper call.
 *
 * A slot's tag is 0 (free), PROD_LIVE_BUSY (being claimed), or the IOVA |
 * 1 (IOVAs are granule-aligned, so bit 0 is free, and IOVA 0 is not 0).
 * A map claims a free slot (0 -> BUSY), writes the device, then the tag
 * (an exchange: the device is written before the tag can be seen); an
 * unmap frees the slot whose tag and device are its own (tag -> 0). An
 * unmap never mistakes a slot being claimed for its own: its mapping's
 * slot was complete before the map returned. A bucket with no free slot
 * leaves the mapping untracked (counted, overflow.live). 8192 buckets x 8:
 * the 65536 mappings the hash table held; with 16384 live mappings a
 * bucket overflows about once or twice (Poisson, 2 per bucket on
 * average), with 4096 practically never.
 */
#define PROD_LIVE_WAYS		8
#define PROD_LIVE_BUCKETS	8192
#define PROD_LIVE_BUSY		2ULL

struct prod_live_bucket {
	__u64 tag[PROD_LIVE_WAYS];
	__u64 dev[PROD_LIVE_WAYS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PROD_LIVE_BUCKETS);
	__type(key, __u32);
	__type(value, struct prod_live_bucket);
} prod_live SEC(".maps");

static __always_inline struct prod_live_bucket *live_bucket(__u64 dev, __u64 iova)
{
	/* Fibonacci hashing of both: the top bits of the product */
	__u32 b = ((dev ^ (iova >> 12)) * 0x9E3779B97F4A7C15ULL) >> (64 - 13);

	return bpf_map_lookup_elem(&prod_live, &b);
}

/* Keep (dev, iova) live; false when its bucket is full. dev: the device's
 * address as a number (prod_ctx.dev). */
static __always_inline bool live_add(__u64 dev, __u64 iova)
{
	struct prod_live_bucket *lb = live_bucket(dev, iova);
	__u64 tag = iova | 1;

	if (!lb)
		return false;
	for (int i = 0; i < PROD_LIVE_WAYS; i++)	/* a set: kept once */
		if (lb->tag[i] == tag && lb->dev[i] == dev)
			return true;
	for (int i = 0; i < PROD_LIVE_WAYS; i++) {
		if (lb->tag[i] || __sync_val_compare_and_swap(&lb->tag[i], 0, PROD_LIVE_BUSY))
			continue;
		lb->dev[i] = dev;
		__sync_lock_test_and_set(&lb->tag[i], tag);
		return true;
	}
	return false;
}

/* (dev, iova) unmapped: true when it was live here. */
static __always_inline bool live_del(__u64 dev, __u64 iova)
{
	struct prod_live_bucket *lb = live_bucket(dev, iova);
	__u64 tag = iova | 1;

	if (!lb)
		return false;
	for (int i = 0; i < PROD_LIVE_WAYS; i++)
		if (lb->tag[i] == tag && lb->dev[i] == dev &&
		    __sync_val_compare_and_swap(&lb->tag[i], tag, 0) == tag)
			return true;
	return false;
}

/*
 * Unmaps queued in a cookie's flush queue, oldest first: a ring that
 * several CPUs append to (a slot taken with an atomic add, its seq written
 * last) and the flush empties (the head moved with a compare-and-swap). A
 * slot whose seq is not its index was overwritten or not yet written: its
 * window is lost, and counted.
 */
struct prod_queued {
	__u64 seq;	/* index + 1 once written */
	__u64 ts_ns;
	__u64 dev;
};

struct prod_fq {
	__u64 head, tail;
	struct prod_queued q[PROD_FQ_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);	/* struct iommu_dma_cookie * */
	__type(value, struct prod_fq);
} prod_fqs SEC(".maps");

/* a zeroed value to create entries from (too big for the stack) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct prod_fq);
} prod_zero SEC(".maps");

static const __u64 lazy_bounds[IA_LAZY_NBOUNDS] = IA_LAZY_BOUNDS_NS;

static __always_inline void overflow(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&prod_overflow, &what);

	if (n)
		(*n)++;		/* per CPU: no other writer */
}

/* This CPU's slot of a device, created at its first use. */
static __always_inline struct prod_dev_slot *dev_slot(__u64 dev)
{
	static const struct prod_dev_slot zero;
	struct prod_dev_slot *c = bpf_map_lookup_elem(&prod_devs, &dev);

	if (c)
		return c;
	if (bpf_map_update_elem(&prod_devs, &dev, &zero, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&prod_devs, &dev)) {
		overflow(IA_PROD_OVF_DEVICES);
		return NULL;
	}
	return bpf_map_lookup_elem(&prod_devs, &dev);
}

static __always_inline struct ia_prod_dev *dev_counters(__u64 dev)
{
	struct prod_dev_slot *c = dev_slot(dev);

	return c ? &c->c : NULL;
}

/*
 * A request's device: this CPU's counters of it, with the granule and
 * flush-queue cookie of its context; NULL when it is filtered out (or had
 * no room). The context check of struct prod_ctx: the device state's path
 * only when something production mode counts by changed.
 */
/* typed: dev is BTF-typed (an fexit's argument: loads, IA_RD) */
static __always_inline struct ia_prod_dev *dev_request(struct device *dev, __u64 *g,
						       __u64 *fq, __u64 *devkey, bool typed)
{
	/* read first: a change sent after this read makes the copy taken
	 * below stale at once (checked again next time), never current */
	__u64 epoch = dev_epoch;
	struct prod_dev_slot *c = dev_slot((__u64)dev);
	struct iommu_group *grp = IA_RD(typed, dev, iommu_group);
	struct iommu_domain *dom = grp ? IA_RD(typed, grp, default_domain) : NULL;
	struct prod_ctx now = {
		.domain = (__u64)dom,
		.domain_type = dom ? IA_RD(typed, dom, type) : 0,
		.driver = (__u64)IA_RD(typed, dev, driver),
	};
	struct ia_dev_view v;

	if (!c)
		return NULL;
	if (c->ctx.untrusted & IA_DEV_PCI)
		now.untrusted = ia_dev_pci_untrusted(dev);
	if (!c->ctx.valid || c->ctx.epoch != epoch || c->ctx.domain != now.domain ||
	    c->ctx.domain_type != now.domain_type || c->ctx.driver != now.driver ||
	    c->ctx.untrusted != now.untrusted) {
		/* the PCI flags as the device state read them: the bus is
		 * read there only when its state changed */
		now.allowed = ia_dev_observe_view(dev, 0, typed, false, &v);
		now.granule = v.granule;
		now.fq_cookie = v.fq_cookie;
		now.untrusted = v.pci_flags;
		now.valid = 1;
		now.epoch = epoch;
		now.dev = ia_addr(dev);
		c->ctx = now;
	}
	if (!c->ctx.allowed)
		return NULL;
	*g = c->ctx.granule;
	*fq = c->ctx.fq_cookie;
	*devkey = c->ctx.dev;
	return &c->c;
}

/* kretprobe: the return address is gone from the stack (site.bpf.h walks
 * from it), so the kprobe fallback unwinds each time */
static __always_inline void count_site(void *ctx, __u64 dev, __u64 exposed, __u64 pages,
				       bool kretprobe)
{
	static const struct ia_prod_site zero;
	struct ia_prod_site_key k = { .dev = dev };
	struct ia_prod_site *v;

	k.stack_id = kretprobe ? ia_site_id(ctx) :
				 ia_site_stack_fentry(ctx);
	if (k.stack_id < 0) {
		ia_drop(IA_DROP_STACK);
		k.stack_id = -1;
	}
	v = bpf_map_lookup_elem(&prod_sites, &k);
	if (!v) {
		bpf_map_update_elem(&prod_sites, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&prod_sites, &k);
		if (!v) {
			overflow(IA_PROD_OVF_SITES);
			return;
		}
	}
	v->maps++;
	v->bytes_exposed += exposed;
	v->pages_exposed += pages;
}

static __always_inline void prod_map_done(void *ctx, const __u64 *a, __u64 ret,
					  bool kretprobe)
{
	struct device *dev = (void *)a[0];
	__u64 phys = a[1], size = a[2], g, page, off, mapped, end, lo, hi, pages = 0;
	struct ia_prod_dev *c;
	__u64 fq, key;

	/* the granule as the device state holds it: read again only when
	 * the device's domain, its type or driver changed */
	c = dev_request(dev, &g, &fq, &key, !kretprobe);
	if (!c)
		return;
	if (ret == DMA_MAPPING_ERROR) {
		c->failed++;
		return;
	}
	page = 1ULL << page_shift;
	if (!g)
		g = page;
	off = phys & (g - 1);
	mapped = (off + size + g - 1) & ~(g - 1);
	c->maps++;
	c->bytes_requested += size;
	c->bytes_mapped += mapped;
	c->bytes_exposed += mapped - size;
	/* whole CPU pages below the buffer's first page and above its last,
	 * inside the granules mapped */
	lo = phys - off;
	end = phys + size;
	hi = lo + mapped;
	if (g > page) {
		pages = ((phys & ~(page - 1)) - lo) / page;
		pages += (hi - ((end + page - 1) & ~(page - 1))) / page;
	}
	c->pages_exposed += pages;
	if (mapped > size)
		count_site(ctx, (__u64)dev, mapped - size, pages, kretprobe);

	if (!live_add(key, ret & ~(g - 1))) {
		c->untracked++;
		overflow(IA_PROD_OVF_LIVE);
	}
}

/* Queue an unmap's time on its cookie's lazy queue. */
static __always_inline void queue_unmap(struct iommu_dma_cookie *cookie, __u64 dev)
{
	__u64 key = (__u64)cookie, slot;
	struct prod_fq *fq = bpf_map_lookup_elem(&prod_fqs, &key);
	struct prod_queued *q;
	__u32 zk = 0;

	if (!fq) {
		struct prod_fq *zero = bpf_map_lookup_elem(&prod_zero, &zk);

		if (!zero)
			return;
		bpf_map_update_elem(&prod_fqs, &key, zero, BPF_NOEXIST);
		fq = bpf_map_lookup_elem(&prod_fqs, &key);
		if (!fq) {
			overflow(IA_PROD_OVF_LAZY);
			return;
		}
	}
	slot = __sync_fetch_and_add(&fq->tail, 1);
	q = &fq->q[slot & (PROD_FQ_SLOTS - 1)];
	q->ts_ns = bpf_ktime_get_ns();
	q->dev = dev;
	q->seq = slot + 1;
}

static __always_inline void prod_unmap_done(const __u64 *a, __u64 ret, bool typed)
{
	struct device *dev = (void *)a[0];
	struct ia_prod_dev *c;
	__u64 g, fq, key;

	c = dev_request(dev, &g, &fq, &key, typed);
	if (!c)
		return;
	if (!g)
		g = 1ULL << page_shift;
	if (live_del(key, a[1] & ~(g - 1)))
		c->unmaps++;
	else
		c->unmatched++;
	/* iotlb_gather.queued = cookie->fq_domain: the IOTLB flush waits for
	 * the flush queue (release.bpf.h's test), read when the device state
	 * was: its fq_cookie */
	if (fq)
		queue_unmap((struct iommu_dma_cookie *)fq, (__u64)dev);
}

struct flush_ctx {
	struct prod_fq *fq;
	__u64 from;	/* first index to take */
	__u64 now;
};

static long flush_one(__u32 i, void *data)
{
	struct flush_ctx *x = data;
	__u64 idx = x->from + i, w;
	struct prod_queued *q = &x->fq->q[idx & (PROD_FQ_SLOTS - 1)];
	struct ia_prod_dev *c;
	__u32 b;

	if (q->seq != idx + 1) {
		overflow(IA_PROD_OVF_LAZY);
		return 0;
	}
	c = dev_counters(q->dev);
	if (!c)
		return 0;
	w = x->now > q->ts_ns ? x->now - q->ts_ns : 0;
	for (b = 0; b < IA_LAZY_NBOUNDS; b++)
		if (w <= lazy_bounds[b])
			break;
	if (b < IA_PROD_LAZY_BUCKETS)
		c->lazy_hist[b]++;
	c->lazy_windows++;
	c->lazy_sum_ns += w;
	if (w > c->lazy_max_ns)
		c->lazy_max_ns = w;
	return 0;
}

/* The cookie's flush queue was flushed: every unmap queued so far is
 * unreachable now. */
static __always_inline void prod_flushed(__u64 cookie)
{
	struct prod_fq *fq = bpf_map_lookup_elem(&prod_fqs, &cookie);
	struct flush_ctx x;
	__u64 head, tail, n;

	if (!fq)
		return;
	head = fq->head;
	tail = fq->tail;
	if (tail <= head || __sync_val_compare_and_swap(&fq->head, head, tail) != head)
		return;		/* nothing queued, or another CPU flushes it */
	n = tail - head;
	if (n > PROD_FQ_SLOTS) {	/* overwritten before this flush */
		for (__u64 i = 0; i < 4 && i < n - PROD_FQ_SLOTS; i++)
			overflow(IA_PROD_OVF_LAZY);
		head = tail - PROD_FQ_SLOTS;
		n = PROD_FQ_SLOTS;
	}
	x.fq = fq;
	x.from = head;
	x.now = bpf_ktime_get_ns();
	bpf_loop(n, flush_one, &x, 0);
}

static __always_inline void prod_fq_flush_done(const __u64 *a, __u64 ret, bool typed)
{
	prod_flushed(ia_addr((void *)a[0]));
}

static __always_inline void prod_fq_ring_free_seen(const __u64 *a)
{
	if (ia_fq_flush_moved(a[0]))
		prod_flushed(a[0]);
}

SEC("fexit/__iommu_dma_map")
int prod_map(__u64 *ctx)
{
	prod_map_done(ctx, ctx, ctx[5], false);
	return 0;
}

/* the kprobe fallback: the kretprobe's context for the call stack */
SEC("kprobe/__iommu_dma_map")
int prod_map_kenter(struct pt_regs *regs)
{
	ia_stash_put(IA_STASH_PROD_MAP, regs);
	return 0;
}

SEC("kretprobe/__iommu_dma_map")
int prod_map_kexit(struct pt_regs *regs)
{
	__u64 a[IA_MAX_ARGS];

	if (ia_stash_take(IA_STASH_PROD_MAP, a))
		prod_map_done(regs, a, PT_REGS_RC(regs), true);
	return 0;
}

IA_FEXIT_VOID(prod_unmap, __iommu_dma_unmap, prod_unmap_done)
IA_FEXIT_VOID(prod_fq_flush, fq_flush_iotlb, prod_fq_flush_done)

SEC("fentry/fq_ring_free_locked")	/* 7.x */
int prod_fq_ring_free(__u64 *ctx)
{
	prod_fq_ring_free_seen(ctx);
	return 0;
}

SEC("kprobe/fq_ring_free_locked")
int prod_fq_ring_free_k(struct pt_regs *regs)
{
	__u64 a[IA_MAX_ARGS];

	ia_regs_args(regs, a);
	prod_fq_ring_free_seen(a);
	return 0;
}

IA_KPROBE_STASHED(prod_unmap, __iommu_dma_unmap, IA_STASH_PROD_UNMAP, prod_unmap_done)
IA_KPROBE_STASHED(prod_fq_flush, fq_flush_iotlb, IA_STASH_PROD_FQ_FLUSH, prod_fq_flush_done)
