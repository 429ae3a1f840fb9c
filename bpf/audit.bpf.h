/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared state and helpers of the iommu-audit BPF programs.
 *
 * The programs are split by what they observe (requests.bpf.c: DMA API
 * requests; pgtable.bpf.c: IOMMU page-table writes; swiotlb.bpf.c: bounce
 * slots; flush.bpf.c: lazy invalidation) and linked into one object with
 * `bpftool gen object`. The maps and globals are defined once in
 * state.bpf.c and declared extern here.
 */
#ifndef IA_AUDIT_BPF_H
#define IA_AUDIT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "event/ia_events.h"

#define IA_INFLIGHT_DEPTH	4	/* alloc_pages -> map_page -> __iommu_dma_map
					 * nests 3 deep; one spare for an IRQ */

#define IA_MAX_ARGS		7	/* arguments kept for a kretprobe
					 * (dma_iova_link takes 7) */

/* One dma-iommu call in flight on a task (or on an idle CPU). */
struct ia_frame {
	__u64 req_id;
	__u64 entry_ns;
	__u64 dev;
	__s32 stack_id;
	__u32 kind;
	__u64 args[IA_MAX_ARGS];	/* kprobe mode: the call's arguments */
	__u64 entry_dma;		/* a handle only readable at entry */
	/* the device's context as its root request's entry read it
	 * (ia_dev_observe_view(); a nested frame copies its parent's), for
	 * what the hooks inside the request would otherwise read again */
	__u64 domain;			/* default domain */
	__u64 granule;			/* its IOVA granule, 0: no IOVA cookie */
	__u64 fq_cookie;		/* its cookie when unmaps wait for the
					 * flush queue, else 0 */
	/* the latest clock read inside the request (its IOVA release's;
	 * a nested frame's passes to its parent at its exit), 0: none
	 * since the entry. Its record's time, instead of a read at exit */
	__u64 last_ns;
	/* the iommu:map/unmap tracepoint's values, kept for the page-table
	 * write's fexit to fold into its record (IA_PT_TP_FOLDED):
	 * tp_type IA_EV_TP_MAP or IA_EV_TP_UNMAP, 0: none kept */
	__u64 tp_iova;
	__u64 tp_paddr;
	__u64 tp_size;
	__u64 tp_unmapped;
	__u32 tp_type;
	__u32 tp_cpu;
	/* a page-table write kept to go out with a later record: an
	 * unmap's removal (IA_EV_PT_UNMAP) with its IOVA release (struct
	 * ia_ev_bundle), a map's write (IA_EV_PT_MAP) with its request's
	 * records (struct ia_ev_req_bundle). pt_kept 1, pt_type its type,
	 * pt_flags its header's flags, pt_cpu its CPU */
	__u64 pt_domain;
	__u64 pt_iova;
	__u64 pt_paddr;
	__u64 pt_size;
	__u64 pt_result;
	__u32 pt_prot;
	__u32 pt_type;
	__u32 pt_flags;
	__u32 pt_cpu;
	__u32 pt_kept;
	/* an unmap_page's or unmap_resource's frame (IA_UNMAP_*): its
	 * record went out with its IOVA release (struct
	 * ia_ev_unmap_bundle), or it was an unmap_phys of MMIO; its
	 * direction and attributes are in args[3] and args[4], saved at
	 * entry for the release to fill the record in */
	__u32 unmap_flags;
};

#define IA_UNMAP_SENT	(1u << 0)	/* the record is out: the exit pops */
#define IA_UNMAP_MMIO	(1u << 1)	/* unmap_phys with DMA_ATTR_MMIO: the
					 * record says unmap_resource */

/*
 * The records a nested __iommu_dma_map made (its page-table write, its own
 * record), kept for its parent map's exit to send with the map's record
 * in one reservation (struct ia_ev_req_bundle). One per task: a second
 * keep, or another request's exit first (an interrupt's), sends them on
 * their own before it (ia_kept_flush(), requests.bpf.c). owner: the
 * parent's request id; valid 0: none kept.
 */
struct ia_kept {
	__u64 owner;
	__u32 valid;
	__u32 pad;
	struct ia_ev_pt pt;
	struct ia_ev_req inner;
};

/*
 * A task's in-flight stack: one of the direct-mapped slots of
 * inflight_slots (ia_inflight_get()), or, for a task whose slot another
 * task holds, an entry of the LRU hash inflight.
 */
struct ia_inflight {
	__u32 depth;
	/* a slot of inflight_slots: some task of this index took the LRU
	 * hash (sticky), so a lookup there tries the hash too */
	__u32 spilled;
	/* a slot of inflight_slots: the key (ia_task_key()) of the task
	 * using it, 0: free; always 0 in the LRU hash */
	__u64 owner;
	struct ia_frame f[IA_INFLIGHT_DEPTH];
	struct ia_kept kept;
};

/* What we last told userspace about a device, to send context only on change. */
struct ia_dev_state {
	__u64 domain;
	__u64 driver;
	__u64 dma_mask;
	__u64 bus_dma_limit;
	__u64 seg_boundary;
	__u32 max_seg_size;
	__u32 untrusted;
	__u32 allowed;		/* passes the --device filter */
	/* the domain's type: DMA -> DMA-FQ is switched in place, the same
	 * domain, with the driver bound (iommu_group_store_type()) */
	__u32 domain_type;
	/* of the domain above, read when it changed (production mode's
	 * per-request figures): its IOVA granule (0: no IOVA cookie), and
	 * its cookie when its unmaps wait for the flush queue
	 * (cookie->fq_domain set), else 0 */
	__u64 granule;
	__u64 fq_cookie;
};

/* Frame id of a request of a device the --device filter excludes: its
 * nested requests and page-table writes are not reported either. */
#define IA_REQ_FILTERED		(~0ULL)
#define IA_MAX_DEV_FILTERS	8

#define IA_MAP_DECL(name, ...) extern struct { __VA_ARGS__; } name SEC(".maps")
#define IA_EVENTS_MAP	__uint(type, BPF_MAP_TYPE_RINGBUF); \
			__uint(max_entries, 16 << 20)
#define IA_DROPS_MAP	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
			__uint(max_entries, IA_DROP_MAX); \
			__type(key, __u32); __type(value, __u64)
/* the stacks of tasks whose slot in inflight_slots another task holds */
#define IA_INFLIGHT_MAP	__uint(type, BPF_MAP_TYPE_LRU_HASH); \
			__uint(max_entries, 1024); \
			__type(key, __u64); __type(value, struct ia_inflight)
#define IA_INFLIGHT_SLOTS 4096	/* by thread id; then the idle tasks' by CPU */
#define IA_INFLIGHT_IDLE 64
#define IA_INFLIGHT_SLOTS_MAP __uint(type, BPF_MAP_TYPE_ARRAY); \
			__uint(max_entries, IA_INFLIGHT_SLOTS + IA_INFLIGHT_IDLE); \
			__type(key, __u32); __type(value, struct ia_inflight)
#define IA_DEVS_MAP	__uint(type, BPF_MAP_TYPE_LRU_HASH); \
			__uint(max_entries, 4096); \
			__type(key, __u64); __type(value, struct ia_dev_state)
/*
 * devs' entries, direct-mapped by device address, for the check every
 * root request makes (device.bpf.h): an array element the verifier
 * inlines, where the hash lookup (a jhash, a bucket walk and a memcmp
 * call) was most of the check's 0.4 us under TCG (docs/benchmarks.md).
 * chk ties the entry's fields together, as the call-site caches' do: a
 * change written on another CPU half-way through this read fails it, and
 * the hash is read instead. devs stays the truth: it is written first.
 */
struct ia_dev_cached {
	__u64 key;		/* struct device *; 0: empty */
	struct ia_dev_state st;
	__u32 chk;
	__u32 pad;
};
#define IA_DEV_CACHE	256
#define IA_DEV_CACHE_MAP __uint(type, BPF_MAP_TYPE_ARRAY); \
			__uint(max_entries, IA_DEV_CACHE); \
			__type(key, __u32); __type(value, struct ia_dev_cached)
/* kprobe mode: arguments of a call in flight, for its kretprobe */
struct ia_stash_key {
	__u64 task;		/* ia_task_key() */
	__u32 fn;		/* enum ia_stash_fn */
	__u32 pad;
};
#define IA_STASH_MAP	__uint(type, BPF_MAP_TYPE_LRU_HASH); \
			__uint(max_entries, 8192); \
			__type(key, struct ia_stash_key); \
			__type(value, __u64[IA_MAX_ARGS])
#define IA_STACKS_MAP	__uint(type, BPF_MAP_TYPE_STACK_TRACE); \
			__uint(max_entries, 16384); \
			__uint(key_size, sizeof(__u32)); \
			__uint(value_size, IA_STACK_DEPTH * sizeof(__u64))

/* call sites (site.bpf.h): the first return addresses above a root
 * request's function, walked with learned frame sizes */
#define IA_SITE_DEPTH	4	/* return addresses that tell sites apart */
#define IA_SITE_SCAN	64	/* stack slots searched for the next one */
#define IA_SITE_CTX_SLOTS 12	/* slots above a trampoline's context searched
				 * for its caller's return address: up to 7
				 * arguments, the return value, the saved RBP,
				 * the return into the traced function, then it */
struct ia_site_key {
	__u64 ret[IA_SITE_DEPTH];
};
#define IA_SITE_WIN	64	/* stack slots read at once from the context up */
#define IA_SITE_HCACHE	128	/* per-CPU cache entries: return address -> hop */
#define IA_SITE_SCACHE	64	/* ... and call site -> stack id */
#define IA_SITE_SLOTC	16	/* ... and traced function -> its slot */
struct ia_site_scratch {
	struct ia_site_key key;
	__u64 ctxw[IA_SITE_CTX_SLOTS];	/* a trampoline's frame (site.bpf.h) */
	__u64 ips[IA_STACK_DEPTH];
};
/*
 * What the walk of a call site reads on every root request, per CPU and
 * without a helper call (an array element's address is inlined by the
 * verifier; a hash lookup is a jhash and a bucket walk): the hops and the
 * site ids the hash maps hold, cached direct-mapped, and one read of the
 * stack above the context in place of one read per return address. chk
 * ties each entry's fields together: a program nested on this CPU (an
 * interrupt's request) that rewrites an entry half-way through another's
 * write leaves a chk that fails, read as a miss. busy: the window is in
 * use (a nested walk takes the hash maps and single reads).
 */
struct ia_site_hop_ent {
	__u64 ret;
	__s32 hop;
	__u32 chk;
};
struct ia_site_id_ent {
	struct ia_site_key key;
	__s32 id;
	__u32 chk;
};
struct ia_site_fast {
	/* the fast walk's hits (IA_SITE_HIT, counted here: the counters'
	 * map is one more lookup, a helper call on 6.1); first, where
	 * userspace reads it (user/live/loader.c: site_summary()) */
	__u64 hits;
	__u64 win[IA_SITE_WIN];
	__u32 busy;
	__u32 pad;
	struct ia_site_hop_ent hop[IA_SITE_HCACHE];
	struct ia_site_hop_ent slot[IA_SITE_SLOTC];	/* traced function ->
							 * its slot (hop: the
							 * u64 slot index) */
	struct ia_site_id_ent site[IA_SITE_SCACHE];
	/* per slot[] entry: the window slots its function's walks needed
	 * at most, so far (0: unknown, read all IA_SITE_WIN). A hint only:
	 * a walk that leaves a shorter window falls back and resets it */
	__u8 ext[IA_SITE_SLOTC];
};
/* return address -> bytes to the slot of the next one (<= 0: unusable) */
#define IA_SITE_HOPS_MAP __uint(type, BPF_MAP_TYPE_HASH); \
			__uint(max_entries, 4096); \
			__type(key, __u64); __type(value, __s32)
/* traced function -> the slot of its caller's return address, counted in
 * u64s from the program's context (fentry, fexit) */
#define IA_SITE_SLOTS_MAP __uint(type, BPF_MAP_TYPE_HASH); \
			__uint(max_entries, 256); \
			__type(key, __u64); __type(value, __u32)
/* call site -> the stack id of its first request */
#define IA_SITE_STACKS_MAP __uint(type, BPF_MAP_TYPE_HASH); \
			__uint(max_entries, 4096); \
			__type(key, struct ia_site_key); __type(value, __s32)
/* stacks whose stack map bucket another holds, production mode's
 * (ia_own_stack(), site.bpf.h); one entry when not in production mode */
#define IA_OWN_STACKS_MAP __uint(type, BPF_MAP_TYPE_HASH); \
			__uint(max_entries, 1024); \
			__uint(key_size, sizeof(__u32)); \
			__uint(value_size, IA_STACK_DEPTH * sizeof(__u64))
#define IA_SITE_SCRATCH_MAP __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
			__uint(max_entries, 1); \
			__type(key, __u32); __type(value, struct ia_site_scratch)

#define IA_SITE_FAST_MAP __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
			__uint(max_entries, 1); \
			__type(key, __u32); __type(value, struct ia_site_fast)

#define IA_SITE_COUNTS_MAP __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
			__uint(max_entries, IA_SITE_MAX + 16); \
			__type(key, __u32); __type(value, __u64)

#define IA_WAKE_CPUS	256	/* wake_tick's counters (CPUs above share them) */
#define IA_WAKE_EVERY	8	/* records between two fill tests on one CPU */

#ifndef IA_STATE_DEFINE
IA_MAP_DECL(site_counts, IA_SITE_COUNTS_MAP);
IA_MAP_DECL(site_hops, IA_SITE_HOPS_MAP);
IA_MAP_DECL(site_slots, IA_SITE_SLOTS_MAP);
IA_MAP_DECL(site_stacks, IA_SITE_STACKS_MAP);
IA_MAP_DECL(own_stacks, IA_OWN_STACKS_MAP);
IA_MAP_DECL(site_scratch, IA_SITE_SCRATCH_MAP);
IA_MAP_DECL(site_fast, IA_SITE_FAST_MAP);
IA_MAP_DECL(events, IA_EVENTS_MAP);
IA_MAP_DECL(drops, IA_DROPS_MAP);
IA_MAP_DECL(inflight, IA_INFLIGHT_MAP);
IA_MAP_DECL(inflight_slots, IA_INFLIGHT_SLOTS_MAP);
IA_MAP_DECL(devs, IA_DEVS_MAP);
IA_MAP_DECL(dev_cache, IA_DEV_CACHE_MAP);
IA_MAP_DECL(stacks, IA_STACKS_MAP);
IA_MAP_DECL(arg_stash, IA_STASH_MAP);
extern __u64 req_seq;
extern __u32 armed;
extern __u64 dev_epoch;
extern const volatile __u32 page_shift;
extern const volatile __u32 struct_page_size;
extern const volatile __u32 capture_stacks;
extern const volatile __u32 full_stacks;
extern const volatile __u32 site_verify;
extern const volatile __u32 inflight_depth;
extern const volatile __u32 inflight_slot_mask;
extern const volatile __u32 own_stack_ids;
extern const volatile __u32 classify_pages;
extern const volatile __u64 wake_bytes;
extern __u32 wake_tick[IA_WAKE_CPUS];
extern const volatile __u32 nr_dev_filters;
extern const volatile char dev_filters[IA_MAX_DEV_FILTERS][IA_NAME_LEN];

extern const volatile __u64 ksym_addr[IA_NR_KSYMS];

/* x86-64 with a randomized layout: struct page array base (vmemmap_base),
 * 0 when unknown. */
extern __u64 ia_vmemmap_base(void);
/* x86-64: the direct map's base (page_offset_base), 0 when unknown. */
extern __u64 ia_page_offset_base(void);

static __always_inline void ia_drop(__u32 reason)
{
	__u64 *cnt = bpf_map_lookup_elem(&drops, &reason);

	if (cnt)
		__sync_fetch_and_add(cnt, 1);
}

/*
 * A field of a kernel object, *p's: a plain load when p is a BTF-typed
 * pointer (an fentry/fexit argument, bpf_get_current_task_btf(), or a
 * pointer to a struct loaded through one: the verifier checks the access
 * against the kernel's BTF and the JIT makes it a load that reads 0
 * instead of faulting), else through bpf_probe_read_kernel() (a kprobe's
 * arguments are plain numbers). A probe read is a helper call: under TCG
 * about 0.2 us, a load nothing measurable (docs/benchmarks.md, "The price
 * of one operation"). typed must be a compile-time constant once inlined,
 * so that a program holds only one of the two.
 */
#define IA_RD(typed, p, field) ((typed) ? (p)->field : BPF_CORE_READ(p, field))

/* ts: the record's time; 0 reads the clock */
static __always_inline void ia_hdr_init_at(struct ia_ev_hdr *h, __u32 type,
					   __u32 size, __u64 ts)
{
	h->type = type;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
	h->ts_ns = ts ? ts : bpf_ktime_get_ns();
	h->req_id = 0;
	h->pid = (__u32)bpf_get_current_pid_tgid();
	h->flags = 0;
}

static __always_inline void ia_hdr_init(struct ia_ev_hdr *h, __u32 type,
					__u32 size)
{
	ia_hdr_init_at(h, type, size, 0);
}

/*
 * Submit flags: no wakeup per record (a wakeup is an interrupt and a
 * context switch per record, half of what a record cost); the reader
 * consumes on its poll timeout (user/live/loader.c: IA_POLL_MS), and is
 * woken at once when wake_bytes wait, so that a burst cannot fill the ring
 * between two timeouts. The fill is tested at every IA_WAKE_EVERY-th
 * record a CPU sends, not at each (bpf_ringbuf_query() is a helper call,
 * three a map+unmap pair): the reader is then woken at most 7 records per
 * CPU past the threshold, an eighth of the ring. cpu: the record's header's
 * (counted without atomics: a nested program's count may be lost, which
 * only moves the next test).
 */
static __always_inline __u64 ia_wake_flags(__u32 cpu)
{
	if (!wake_bytes)
		return 0;
	if (wake_tick[cpu & (IA_WAKE_CPUS - 1)]++ & (IA_WAKE_EVERY - 1))
		return BPF_RB_NO_WAKEUP;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wake_bytes ?
	       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void ia_submit(void *rec)
{
	bpf_ringbuf_submit(rec, ia_wake_flags(((struct ia_ev_hdr *)rec)->cpu));
}

/* Reserve a record in the ring buffer, of time ts (0: now); a full buffer
 * is counted, not hidden. */
static __always_inline void *ia_reserve_at(__u32 type, __u32 size, __u64 ts)
{
	struct ia_ev_hdr *h;

	if (!armed)	/* the run has not started: nothing to count */
		return NULL;
	h = bpf_ringbuf_reserve(&events, size, 0);
	if (!h) {
		ia_drop(IA_DROP_RINGBUF);
		return NULL;
	}
	ia_hdr_init_at(h, type, size, ts);
	return h;
}

static __always_inline void *ia_reserve(__u32 type, __u32 size)
{
	return ia_reserve_at(type, size, 0);
}

/* Copy a record built elsewhere (per-CPU scratch) into the ring buffer. */
static __always_inline void ia_output(void *rec, __u32 size)
{
	if (armed && bpf_ringbuf_output(&events, rec, size,
					ia_wake_flags(((struct ia_ev_hdr *)rec)->cpu)))
		ia_drop(IA_DROP_RINGBUF);
}

/*
 * The records a nested __iommu_dma_map kept (struct ia_kept) sent on their
 * own, now: a record of another request is about to go out first (an
 * interrupt's, or a map's whose frame was lost), or another keep. Their
 * order, write then request, is the one they were made in.
 */
static __always_inline void ia_kept_flush(struct ia_inflight *st)
{
	if (!st || !st->kept.valid)
		return;
	st->kept.valid = 0;
	ia_output(&st->kept.pt, sizeof(st->kept.pt));
	ia_output(&st->kept.inner, sizeof(st->kept.inner));
}

/*
 * Key of the in-flight stack: the thread id, except for the idle tasks, which
 * all have pid 0 (one per CPU), so DMA calls made from interrupts on two idle
 * CPUs at once never share a stack. Interrupts nesting on one task push on top
 * of the interrupted call and pop before it resumes, so a stack stays LIFO.
 */
static __always_inline __u64 ia_task_key(void)
{
	__u32 pid = (__u32)bpf_get_current_pid_tgid();

	if (!pid)
		return (1ULL << 63) | bpf_get_smp_processor_id();
	return pid;
}

/* The slot of inflight_slots of the task of key (ia_task_key()) */
static __always_inline __u32 ia_inflight_idx(__u64 key)
{
	return key >> 63 ? IA_INFLIGHT_SLOTS + (__u32)(key & (IA_INFLIGHT_IDLE - 1))
			 : (__u32)(key & inflight_slot_mask & (IA_INFLIGHT_SLOTS - 1));
}

/*
 * This task's in-flight stack (create: made when it has none; NULL when it
 * has none, or none could be made). Every program of a request runs this,
 * 11 per map+unmap pair: a hash lookup (a jhash and a bucket walk, about
 * 0.12 us under TCG) became an array slot by thread id, which the
 * verifier inlines (0.04 us: docs/benchmarks.md, "floor-array"). A slot
 * belongs to one task from its root request's entry to its exit, claimed
 * with a compare-and-swap (ia_inflight_put() frees it): a task whose slot
 * another holds (a thread id 4096 apart, in a request at the same time)
 * takes the LRU hash instead, and marks the slot spilled, so that its own
 * lookups, and a slot freed while its stack in the hash is not empty,
 * find it there.
 */
static __always_inline struct ia_inflight *ia_inflight_get(bool create)
{
	__u64 key = ia_task_key();
	__u32 idx = ia_inflight_idx(key);
	struct ia_inflight *s = bpf_map_lookup_elem(&inflight_slots, &idx), *st;
	static const struct ia_inflight zero;

	if (!s)
		return NULL;	/* not reached: idx is in bounds */
	if (s->owner == key)
		return s;
	if (s->spilled) {
		st = bpf_map_lookup_elem(&inflight, &key);
		if (st && (st->depth || !create))
			return st;
	}
	if (!create)
		return NULL;
	if (!s->owner && __sync_val_compare_and_swap(&s->owner, 0, key) == 0)
		return s;
	s->spilled = 1;
	{
		__u32 what = IA_COUNT_INFLIGHT_SPILL;
		__u64 *n = bpf_map_lookup_elem(&site_counts, &what);

		if (n)
			(*n)++;	/* per CPU */
	}
	st = bpf_map_lookup_elem(&inflight, &key);
	if (st)
		return st;
	bpf_map_update_elem(&inflight, &key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&inflight, &key);
}

/*
 * The end of a request's exit program, its record sent: this task's slot,
 * its stack now empty, is free for another task (a stack in the hash
 * stays). Not while it keeps records for a parent (struct ia_kept), which
 * only a lost frame leaves at depth 0: the owner's next exit frees it.
 * At the end, not in the pop: what the exit reads of the slot after the
 * pop (the kept records) is read before another task can claim it, and
 * the compare-and-swap orders the stores before it (a plain store need
 * not, on arm64).
 */
static __always_inline void ia_inflight_put(void)
{
	__u64 key = ia_task_key();
	__u32 idx = ia_inflight_idx(key);
	struct ia_inflight *s = bpf_map_lookup_elem(&inflight_slots, &idx);

	if (s && s->owner == key && !s->depth && !s->kept.valid)
		__sync_val_compare_and_swap(&s->owner, key, 0);
}

/*
 * Slot of frame n (0-based) of an in-flight stack. The mask is what proves
 * the access in bounds to the verifier; barrier_var() stops clang from
 * dropping it when it can prove n < IA_INFLIGHT_DEPTH on its own.
 */
static __always_inline __u32 ia_slot(__u32 n)
{
	barrier_var(n);
	return n & (IA_INFLIGHT_DEPTH - 1);
}

/*
 * A kernel pointer as a number. Typed pointers from fentry arguments may not
 * take part in arithmetic (the verifier refuses "math between ptr_ and
 * register"): copying the value through the helper makes it a plain scalar.
 */
static __always_inline __u64 ia_addr(const void *p)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

/* The innermost frame of this task's in-flight stack st (NULL: none), or
 * NULL when none, or when it overflowed (nothing stored). */
static __always_inline struct ia_frame *ia_top(struct ia_inflight *st)
{
	__u32 d = st ? st->depth : 0;

	if (d == 0 || d > inflight_depth)
		return NULL;
	return &st->f[ia_slot(d - 1)];
}

/*
 * The tracepoint record kept in frame f (tp_type), sent now as its own
 * record: the page-table write that would fold it did not come, or did
 * not match (pgtable.bpf.c). Time and id: the frame's, as the tracepoint
 * program's own record takes.
 */
static __always_inline void ia_tp_flush(struct ia_frame *f)
{
	__u32 type = f->tp_type;
	struct ia_ev_pt *e;

	if (!type)
		return;
	f->tp_type = 0;
	e = ia_reserve_at(type, sizeof(*e), f->entry_ns);
	if (!e)
		return;
	e->hdr.cpu = f->tp_cpu;
	e->hdr.req_id = f->req_id;
	e->domain = 0;
	e->iova = f->tp_iova;
	e->paddr = f->tp_paddr;
	e->size = f->tp_size;
	e->result = f->tp_unmapped;
	e->prot = 0;
	e->pad = 0;
	ia_submit(e);
}

/* Fill record e as the page-table write kept in frame f, of time ts. */
static __always_inline void ia_pt_fill(struct ia_ev_pt *e, const struct ia_frame *f, __u64 ts)
{
	e->hdr.type = f->pt_type;
	e->hdr.size = sizeof(*e);
	e->hdr.cpu = f->pt_cpu;
	e->hdr.ts_ns = ts;
	e->hdr.req_id = f->req_id;
	e->hdr.pid = (__u32)bpf_get_current_pid_tgid();
	e->hdr.flags = f->pt_flags;
	e->domain = f->pt_domain;
	e->iova = f->pt_iova;
	e->paddr = f->pt_paddr;
	e->size = f->pt_size;
	e->result = f->pt_result;
	e->prot = f->pt_prot;
	e->pad = 0;
}

/*
 * The write kept in frame f, sent now as its own record: something else
 * of its request comes before the record it waits for (another write, a
 * tracepoint, the request's exit, a classification). Its time: the
 * frame's (a map's: its root's entry, as pt_emit() gives it), else now.
 */
static __always_inline void ia_pt_flush(struct ia_frame *f)
{
	struct ia_ev_pt *e;

	if (!f->pt_kept)
		return;
	f->pt_kept = 0;
	e = ia_reserve_at(f->pt_type, sizeof(*e), f->entry_ns);
	if (!e)
		return;
	ia_pt_fill(e, f, e->hdr.ts_ns);
	ia_submit(e);
}

/* Innermost request in flight on this task: 0 when none, IA_REQ_FILTERED
 * when it belongs to a device excluded by --device. */
static __always_inline __u64 ia_current_req(void)
{
	struct ia_frame *top = ia_top(ia_inflight_get(false));

	return top ? top->req_id : 0;
}

/* The phys of the struct page at address page (a number) */
static __always_inline __u64 ia_page_addr_to_phys(__u64 page)
{
	__u64 base;

	if (!page)
		return 0;
	base = ia_vmemmap_base();
	if (!base || !struct_page_size)
		return 0;
	return ((page - base) / struct_page_size) << page_shift;
}

static __always_inline __u64 ia_page_to_phys(struct page *page)
{
	return page ? ia_page_addr_to_phys(ia_addr(page)) : 0;
}

/*
 * kprobe fallback (kernels without BPF trampolines): the function arguments
 * from the registers. libbpf's PT_REGS macros stop at the 5th. The 7th is on
 * the stack on x86-64, above the return address (valid at function entry,
 * where all our kprobes sit; for functions with fewer arguments it is junk
 * that no handler reads).
 */
#if defined(__TARGET_ARCH_x86)
#define IA_KPROBE_ARG6(regs)	((regs)->r9)
static __always_inline __u64 ia_kprobe_arg7(struct pt_regs *regs)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (void *)(PT_REGS_SP(regs) + 8));
	return v;
}
#elif defined(__TARGET_ARCH_arm64)
#define IA_KPROBE_ARG6(regs)	((regs)->regs[5])
#define ia_kprobe_arg7(regs)	((regs)->regs[6])
#endif

static __always_inline void ia_regs_args(struct pt_regs *regs, __u64 a[IA_MAX_ARGS])
{
	a[0] = PT_REGS_PARM1(regs);
	a[1] = PT_REGS_PARM2(regs);
	a[2] = PT_REGS_PARM3(regs);
	a[3] = PT_REGS_PARM4(regs);
	a[4] = PT_REGS_PARM5(regs);
	a[5] = IA_KPROBE_ARG6(regs);
	a[6] = ia_kprobe_arg7(regs);
}

/* Functions whose kprobe/kretprobe pairs pass arguments through arg_stash. */
enum ia_stash_fn {
	IA_STASH_IOMMU_MAP = 1,
	IA_STASH_IOMMU_UNMAP,
	IA_STASH_IOVA_UNMAP,
	IA_STASH_FQ_FLUSH,
	IA_STASH_PROD_MAP,	/* prod.bpf.c */
	IA_STASH_PROD_UNMAP,
	IA_STASH_PROD_FQ_FLUSH,
	IA_STASH_UNBIND,
};

static __always_inline void ia_stash_put(__u32 fn, struct pt_regs *regs)
{
	struct ia_stash_key k = { .task = ia_task_key(), .fn = fn };
	__u64 a[IA_MAX_ARGS];

	ia_regs_args(regs, a);
	bpf_map_update_elem(&arg_stash, &k, a, BPF_ANY);
}

/* Take the arguments the kprobe saved; false when there are none. */
static __always_inline bool ia_stash_take(__u32 fn, __u64 a[IA_MAX_ARGS])
{
	struct ia_stash_key k = { .task = ia_task_key(), .fn = fn };
	__u64 *saved = bpf_map_lookup_elem(&arg_stash, &k);

	if (!saved)
		return false;
	__builtin_memcpy(a, saved, sizeof(__u64) * IA_MAX_ARGS);
	bpf_map_delete_elem(&arg_stash, &k);
	return true;
}

/* The fexit program of a void function (or one whose result the handler
 * ignores): done(args, 0, typed), typed: the arguments are BTF-typed
 * (IA_RD), as an fexit's are and a kretprobe's are not. */
#define IA_FEXIT_VOID(prog, func, done)					\
SEC("fexit/" #func)							\
int prog(__u64 *ctx)							\
{									\
	done(ctx, 0, true);						\
	return 0;							\
}

/* Both halves of a stashed kprobe fallback for one function. */
#define IA_KPROBE_STASHED(prog, func, fn, done)				\
SEC("kprobe/" #func)							\
int prog##_kenter(struct pt_regs *regs)					\
{									\
	ia_stash_put(fn, regs);						\
	return 0;							\
}									\
SEC("kretprobe/" #func)							\
int prog##_kexit(struct pt_regs *regs)					\
{									\
	__u64 a[IA_MAX_ARGS];						\
									\
	if (ia_stash_take(fn, a))					\
		done(a, PT_REGS_RC(regs), false);			\
	return 0;							\
}

#endif /* !IA_STATE_DEFINE */
#endif /* IA_AUDIT_BPF_H */
