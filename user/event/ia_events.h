/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Events shared by the BPF programs (bpf/) and userspace (user/).
 *
 * Every record starts with struct ia_ev_hdr; hdr.size is the size of the
 * whole record in bytes, always a multiple of 8, so a reader can skip record
 * types it does not know. These structs are also the record payloads of the
 * trace file (docs/trace-format.md): change a layout only together with
 * IA_TRACE_VERSION.
 *
 * Only fixed-width types: the same bytes are written by BPF and read by a
 * userspace program possibly built for another machine.
 */
#ifndef IA_EVENTS_H
#define IA_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define IA_NAME_LEN	32	/* device and driver names (dev_name() is
				 * "0000:00:03.0" for PCI devices) */
#define IA_SG_CHUNK	8	/* scatterlist segments per IA_EV_SG record */
#define IA_STACK_DEPTH	32	/* kernel frames kept per call stack */
#define IA_SG_MAX	256	/* segments walked per map_sg; longer lists are
				 * marked IA_SG_TRUNCATED */

/*
 * Kernel data the programs read, by address: the loader finds them all in
 * one pass over /proc/kallsyms (user/lib/ksyms.c ia_ksyms_lookup) and sets
 * ksym_addr[] before load; 0: not listed (a kernel without
 * CONFIG_KALLSYMS_ALL). Not libbpf's typeless `__ksym` externs: libbpf
 * resolves those in a pass of its own, the loader needs one anyway to tell
 * which are missing, and a pass costs a TCG guest 0.7-1.8 s per start.
 * Their names: ia_ksym_names[] (user/live/hooks.c), in this order.
 */
enum ia_ksym {
	IA_KSYM_VMEMMAP_BASE,		/* struct page array: page -> phys */
	IA_KSYM_PAGE_OFFSET_BASE,	/* direct map: kfree's pointer -> phys */
	IA_KSYM_MAX_PFN,		/* classify: beyond RAM */
	IA_KSYM_PHYS_BASE,		/* classify: the kernel image ... */
	IA_KSYM_TEXT,			/* ... from _text */
	IA_KSYM_END,			/* ... to _end */
	IA_KSYM_IO_TLB_DEFAULT_MEM,	/* classify: the swiotlb pool */
	IA_NR_KSYMS
};
/* the longest name of ia_ksym_names[] (user/live/hooks.c), with its NUL */
#define IA_KSYM_NAME_LEN	32

enum ia_ev_type {
	IA_EV_DEVICE	= 1,	/* struct ia_ev_device: device context */
	IA_EV_REQ	= 2,	/* struct ia_ev_req: a DMA API request */
	IA_EV_SG	= 3,	/* struct ia_ev_sg: segments of a map_sg */
	IA_EV_PT_MAP	= 4,	/* struct ia_ev_pt: page-table write */
	IA_EV_PT_UNMAP	= 5,	/* struct ia_ev_pt: page-table removal */
	IA_EV_TP_MAP	= 6,	/* struct ia_ev_pt: iommu:map tracepoint */
	IA_EV_TP_UNMAP	= 7,	/* struct ia_ev_pt: iommu:unmap tracepoint */
	IA_EV_BOUNCE	= 8,	/* struct ia_ev_bounce: swiotlb slot */
	IA_EV_IOVA_FREE	= 9,	/* struct ia_ev_iova_free: IOVA released */
	IA_EV_FQ_FLUSH	= 10,	/* struct ia_ev_fq_flush: flush queue flushed */
	IA_EV_STACK	= 11,	/* struct ia_ev_stack: a call stack, symbolized
				 * (written by userspace, not BPF) */
	IA_EV_IOVA	= 12,	/* struct ia_ev_iova: a call of the two-step
				 * IOVA API (trace format version 3) */
	IA_EV_TP_DMA	= 13,	/* struct ia_ev_tp_dma: a dma:* tracepoint
				 * (version 3) */
	IA_EV_PAGE	= 14,	/* struct ia_ev_page: what a CPU page next to a
				 * mapped buffer held at map time (version 4) */
	IA_EV_FREED	= 15,	/* struct ia_ev_freed: memory freed while a
				 * device can reach it (version 4, --free-hooks) */
	IA_EV_PT_SNAP	= 16,	/* struct ia_ev_pt_snap: a piece of a snapshot
				 * of the IOMMU's own page tables (debugfs),
				 * written by userspace (version 5) */
	IA_EV_TYPE_MAX,
};

/* What a request record describes (struct ia_ev_req.kind). */
enum ia_req_kind {
	IA_REQ_MAP_PAGE = 1,	/* iommu_dma_map_page / iommu_dma_map_phys */
	IA_REQ_MAP_SG,		/* iommu_dma_map_sg */
	IA_REQ_MAP_RESOURCE,	/* iommu_dma_map_resource */
	IA_REQ_IOMMU_MAP,	/* __iommu_dma_map: internal, has a parent */
	IA_REQ_ALLOC,		/* iommu_dma_alloc (coherent) */
	IA_REQ_ALLOC_NONCONTIG,	/* iommu_dma_alloc_noncontiguous */
	IA_REQ_ALLOC_PAGES,	/* dma_common_alloc_pages */
	IA_REQ_UNMAP_PAGE,	/* iommu_dma_unmap_page / iommu_dma_unmap_phys */
	IA_REQ_UNMAP_SG,	/* iommu_dma_unmap_sg */
	IA_REQ_UNMAP_RESOURCE,	/* iommu_dma_unmap_resource */
	IA_REQ_FREE,		/* iommu_dma_free */
	IA_REQ_FREE_NONCONTIG,	/* iommu_dma_free_noncontiguous */
	IA_REQ_FREE_PAGES,	/* dma_common_free_pages */
	IA_REQ_SYNC_SINGLE_CPU,	/* iommu_dma_sync_single_for_cpu */
	IA_REQ_SYNC_SINGLE_DEV,	/* iommu_dma_sync_single_for_device */
	IA_REQ_SYNC_SG_CPU,	/* iommu_dma_sync_sg_for_cpu */
	IA_REQ_SYNC_SG_DEV,	/* iommu_dma_sync_sg_for_device */
	IA_REQ_GET_SGTABLE,	/* iommu_dma_get_sgtable: a coherent buffer's
				 * table exported (trace format version 2) */
	/* the two-step IOVA API: struct ia_ev_iova records (version 3) */
	IA_REQ_IOVA_TRY_ALLOC,	/* dma_iova_try_alloc(dev, state, phys, size) -> bool */
	IA_REQ_IOVA_LINK,	/* dma_iova_link(dev, state, phys, offset, size,
				 * dir, attrs) -> int */
	IA_REQ_IOVA_SYNC,	/* dma_iova_sync(dev, state, offset, size) -> int */
	IA_REQ_IOVA_UNLINK,	/* dma_iova_unlink(dev, state, offset, size, dir, attrs) */
	IA_REQ_IOVA_DESTROY,	/* dma_iova_destroy(dev, state, mapped_len, dir, attrs) */
	IA_REQ_IOVA_FREE,	/* dma_iova_free(dev, state) */
	IA_REQ_KIND_MAX,
};

struct ia_ev_hdr {
	__u16 type;		/* enum ia_ev_type */
	__u16 size;		/* whole record, bytes, multiple of 8 */
	__u32 cpu;
	/* bpf_ktime_get_ns(): CLOCK_MONOTONIC. A record made inside a
	 * request (a page-table write, a tracepoint's, a nested request:
	 * both its times; not an IOVA release, which starts a lazy window)
	 * takes its root request's entry time instead of reading the clock (the
	 * guest's HPET makes a read cost as much as a program:
	 * docs/benchmarks.md): those times are the earliest the event could
	 * have been. A request's own record (made at its exit) takes the
	 * latest time read inside it: its IOVA release's, else its entry's.
	 * An unmap or free reads no clock at entry: its removal waits for
	 * its release (struct ia_ev_bundle) and takes its time, as its
	 * entry_ns does.
	 * Order is the record's place in the trace (one ring buffer, in
	 * reservation order; a bundle's records at its place, in the order
	 * they were made), never its time. */
	__u64 ts_ns;
	__u64 req_id;		/* request this record belongs to; 0: none */
	__u32 pid;		/* tgid:pid low half (thread id) */
	__u32 flags;		/* per-type IA_F_* bits */
};

/* struct ia_ev_device.flags */
#define IA_DEV_UNTRUSTED	(1u << 0)	/* pci_dev->untrusted */
#define IA_DEV_PCI		(1u << 1)	/* on the PCI bus */
#define IA_DEV_NO_DOMAIN	(1u << 2)	/* no default domain */
#define IA_DEV_NO_COOKIE	(1u << 3)	/* domain has no iova cookie */
#define IA_DEV_UNBOUND		(1u << 4)	/* sent at the driver's unbind
						 * (driver now ""): what the
						 * device still maps was left
						 * by the driver it had */

/* IOMMU_DOMAIN_* types (include/linux/iommu.h, stable since 5.x) */
#define IA_DOMAIN_BLOCKED	0x0
#define IA_DOMAIN_IDENTITY	0x4
#define IA_DOMAIN_UNMANAGED	0x1
#define IA_DOMAIN_DMA		0x3
#define IA_DOMAIN_DMA_FQ	0xb

struct ia_ev_device {
	struct ia_ev_hdr hdr;	/* hdr.flags: IA_DEV_* */
	__u64 dev;		/* struct device *: the key other records use */
	__u64 domain;		/* default domain (struct iommu_domain *) */
	__u64 cookie;		/* domain->iova_cookie */
	__u64 granule;		/* cookie->iovad.granule; 0 when unknown */
	__u64 pgsize_bitmap;	/* domain->pgsize_bitmap */
	__u64 dma_mask;		/* *dev->dma_mask */
	__u64 coherent_dma_mask;
	__u64 bus_dma_limit;
	__u64 seg_boundary;	/* dma_parms->segment_boundary_mask */
	__u32 max_seg_size;	/* dma_parms->max_segment_size */
	__u32 domain_type;	/* IA_DOMAIN_* */
	__u32 page_size;	/* CPU PAGE_SIZE */
	__s32 group_id;		/* iommu_group->id; -1 when none */
	char name[IA_NAME_LEN];	/* dev_name() */
	char driver[IA_NAME_LEN];	/* dev->driver->name; "" when unbound */
	char bus[16];		/* dev->bus->name */
};

/* struct ia_ev_req.hdr.flags */
#define IA_REQ_F_FAILED		(1u << 0)	/* returned an error / no handle */
#define IA_REQ_F_ENTRY_ONLY	(1u << 1)	/* no fexit seen (unmaps, frees) */
#define IA_REQ_F_STACK		(1u << 2)	/* single map: the buffer is on the
						 * calling task's kernel stack */

struct ia_ev_req {
	struct ia_ev_hdr hdr;	/* hdr.req_id: this request's id */
	__u64 dev;
	__u64 parent_id;	/* enclosing request (map_page -> __iommu_dma_map) */
	__u64 phys;		/* requested physical address; 0 when n/a */
	__u64 size;		/* requested length */
	__u64 dma;		/* handle returned (maps) or given (unmaps) */
	__u64 attrs;		/* DMA_ATTR_* */
	__u64 gfp;		/* allocations: gfp flags */
	__u64 cpu_addr;		/* allocations: kernel virtual address */
	__u64 entry_ns;		/* fentry time (hdr.ts_ns: the latest time
				 * read inside the request, see above); a
				 * nested request's is its root's */
	__u32 kind;		/* enum ia_req_kind */
	__u32 dir;		/* enum dma_data_direction */
	__s32 ret;		/* map_sg: mapped count or -errno;
				 * get_sgtable: 0 or -errno */
	__s32 stack_id;		/* kernel stack id; <0 when not captured */
	__u32 nents;		/* sg: nents passed in; alloc_noncontiguous,
				 * get_sgtable: entries of the table made */
	__u32 pad;
};

/* struct ia_ev_sg.hdr.flags */
#define IA_SG_OUTPUT		(1u << 0)	/* dma side (fexit); else input */
#define IA_SG_TRUNCATED		(1u << 1)	/* list longer than IA_SG_MAX */
#define IA_SG_LAST_CHUNK	(1u << 2)	/* last record of this walk */

struct ia_sg_seg {
	__u64 phys;		/* sg_phys(): page_to_phys(page) + offset */
	__u64 dma;		/* sg_dma_address() (output walk) */
	__u32 len;		/* s->length */
	__u32 dma_len;		/* sg_dma_len() (output walk) */
};

struct ia_ev_sg {
	struct ia_ev_hdr hdr;	/* hdr.req_id: the map_sg, alloc_noncontiguous or
				 * get_sgtable request */
	__u32 first;		/* index of segs[0] within the list */
	__u32 count;		/* valid entries in segs[] */
	struct ia_sg_seg segs[IA_SG_CHUNK];
};

/* struct ia_ev_pt.hdr.flags */
#define IA_PT_UNATTRIBUTED	(1u << 0)	/* made outside any dma-iommu call */
/*
 * Ring buffer only (never in a trace): the iommu:map or iommu:unmap
 * tracepoint fired inside this page-table write, on the same CPU, with
 * the write's own iova, paddr (map), size and bytes unmapped (unmap), so
 * its record is not sent: userspace makes it from this one, before it
 * (user/live/ringfold.c), as the tracepoint's program would have. A
 * record of its own costs a program a reservation and the reader a
 * record (docs/benchmarks.md).
 */
#define IA_PT_TP_FOLDED		(1u << 31)

struct ia_ev_pt {
	struct ia_ev_hdr hdr;	/* hdr.req_id: request in flight, 0 if none */
	__u64 domain;		/* 0 for the tracepoints (they carry none) */
	__u64 iova;
	__u64 paddr;		/* maps only */
	__u64 size;
	__u64 result;		/* map: 0 or -errno (as s64); unmap: bytes unmapped */
	__u32 prot;		/* IOMMU_READ|IOMMU_WRITE|... */
	__u32 pad;
};

struct ia_ev_bounce {
	struct ia_ev_hdr hdr;	/* hdr.req_id: request in flight */
	__u64 dev;
	__u64 orig_phys;	/* the driver's buffer */
	__u64 tlb_phys;		/* the bounce slot (phys), ~0 on failure */
	__u64 mapping_size;
	__u64 alloc_size;
	__u32 dir;
	__u32 pad;
};

/* struct ia_ev_iova_free.hdr.flags */
#define IA_IOVA_QUEUED		(1u << 0)	/* lazy: IOTLB flush deferred */

struct ia_ev_iova_free {
	struct ia_ev_hdr hdr;
	__u64 dev;
	__u64 domain;
	__u64 iova;
	__u64 size;
};

/*
 * Ring buffer only (like IA_EV_KSTACK, outside 1 .. IA_EV_TYPE_MAX - 1):
 * an unmap's page-table removal and its IOVA release in one reservation,
 * sent at the release (the removal kept in its request's frame until
 * then), each a whole record with its own header; userspace passes them
 * on one after the other (user/live/ringfold.c). The removal takes the
 * release's time: an unmap reads the clock once, at its release.
 */
#define IA_EV_BUNDLE		0x41

struct ia_ev_bundle {
	struct ia_ev_hdr hdr;
	struct ia_ev_pt pt;		/* IA_EV_PT_UNMAP */
	struct ia_ev_iova_free rel;	/* IA_EV_IOVA_FREE */
};

/*
 * Ring buffer only: a map's own record and, after it in the reservation,
 * the two records its request made before it, in one reservation at its
 * exit: the page-table write of its nested __iommu_dma_map (IA_EV_PT_MAP,
 * IA_PT_TP_FOLDED as it was sent) and that nested request's record (kept
 * in the task's in-flight state until then, bpf/requests.bpf.c). req's
 * header is the bundle's: hdr.type IA_EV_REQ_BUNDLE, hdr.size the
 * bundle's; userspace passes pt, then inner, then req as an IA_EV_REQ of
 * its own size (user/live/ringfold.c). The request record comes first so
 * that it is the reservation itself: the programs that fill it in submit
 * it, whether it was bundled or not.
 */
#define IA_EV_REQ_BUNDLE	0x42

struct ia_ev_req_bundle {
	struct ia_ev_req req;		/* IA_EV_REQ once unfolded */
	struct ia_ev_pt pt;		/* IA_EV_PT_MAP */
	struct ia_ev_req inner;		/* IA_EV_REQ, kind IA_REQ_IOMMU_MAP */
};

/*
 * Ring buffer only: an unmap's whole story in one reservation at its IOVA
 * release (bpf/flush.bpf.c), when the request's record holds nothing the
 * release does not know (an unmap_page's, an unmap_resource's: handle,
 * size, direction, attributes): its page-table removal (IA_EV_PT_UNMAP),
 * the release (IA_EV_IOVA_FREE), then its own record, made there instead
 * of at its exit, whose program then only pops the frame. As in struct
 * ia_ev_req_bundle, the request record is the reservation, its header the
 * bundle's (hdr.type IA_EV_UNMAP_BUNDLE, hdr.size the bundle's); userspace
 * passes pt, rel, then req as an IA_EV_REQ of its own size.
 */
#define IA_EV_UNMAP_BUNDLE	0x43

struct ia_ev_unmap_bundle {
	struct ia_ev_req req;		/* IA_EV_REQ once unfolded */
	struct ia_ev_pt pt;		/* IA_EV_PT_UNMAP */
	struct ia_ev_iova_free rel;	/* IA_EV_IOVA_FREE */
};

struct ia_ev_fq_flush {
	struct ia_ev_hdr hdr;
	__u64 cookie;		/* struct iommu_dma_cookie * of the flushed queue */
};

#define IA_SYM_LEN	56

struct ia_stack_frame {
	__u64 ip;
	char sym[IA_SYM_LEN];	/* "function+0xoff [module]", "" if unknown */
};

/*
 * The kernel call stack of stack id stack_id (struct ia_ev_req.stack_id),
 * written once per id, before the first request that names it. Variable
 * size: hdr.size = sizeof(struct ia_ev_stack) + nr * sizeof(frame).
 */
struct ia_ev_stack {
	struct ia_ev_hdr hdr;
	__s32 stack_id;
	__u32 nr;		/* frames[] entries, innermost first */
	struct ia_stack_frame frames[];
};

/*
 * A call stack the stack map had no room for. bpf_get_stackid() fails with
 * -EEXIST when another stack already holds the hash bucket of this one
 * (the map never replaces a stack: an id must keep meaning one stack), which
 * happens to a few stacks of every run (about n^2 / (2 * 16384) for n
 * distinct stacks). The request then carries an inline id,
 * IA_STACK_INLINE | (request id & (IA_STACK_INLINE - 1)), and this record,
 * sent from the request's entry, carries the frames. Ring buffer only:
 * userspace turns it into an IA_EV_STACK record (stackrec.c), so it is not
 * a trace record type (its type is outside 1 .. IA_EV_TYPE_MAX - 1).
 */
#define IA_EV_KSTACK		0x40
#define IA_STACK_INLINE		0x40000000	/* inline ids: at or above */

/*
 * Production mode has no ring buffer record per request to carry a
 * stack inline: a stack whose bucket is taken goes into a hash of its own
 * (own_stacks, bpf/site.bpf.h) under IA_STACK_OWN | a hash of its frames,
 * kept by its call site like a stack map id. Ids below IA_STACK_INLINE.
 */
#define IA_STACK_OWN		0x20000000	/* own_stacks' ids: at or above */

struct ia_ev_kstack {
	struct ia_ev_hdr hdr;
	__s32 stack_id;		/* an inline id */
	__u32 nr;		/* ips[] used, innermost first */
	__u64 ips[IA_STACK_DEPTH];
};

/*
 * The two-step IOVA API (v6.16+: nvme-pci's data path since 6.17, RDMA ODP,
 * hmm, VFIO). A driver reserves an IOVA range (dma_iova_try_alloc), links
 * physical ranges into it at offsets (dma_iova_link, which writes the page
 * tables through iommu_map_nosync without an IOTLB sync), syncs the IOTLB
 * once (dma_iova_sync), and undoes it range by range (dma_iova_unlink,
 * flushed at once) or in one go (dma_iova_destroy: unlink [0, mapped_len)
 * and free the range, through the flush queue in a DMA-FQ domain), or
 * frees a range with nothing linked (dma_iova_free). The reservation is the
 * caller's struct dma_iova_state { dma_addr_t addr; u64 __size; }: addr is
 * the reserved IOVA plus the phys hint's offset within a granule, __size
 * the size asked for, bit 63 set once a link bounced through swiotlb.
 *
 * One record per call, at its exit: a request record of its own shape
 * (kind IA_REQ_IOVA_*), in the request id space of ia_ev_req: the page-table writes of a link carry its hdr.req_id;
 * hdr.flags: IA_REQ_F_FAILED when try_alloc refused or link/sync failed).
 * A destroy that unlinked something and a free also send an
 * IA_EV_IOVA_FREE record (the range released, IA_IOVA_QUEUED when through
 * the flush queue), as __iommu_dma_unmap does for the other unmaps.
 */

#define IA_IOVA_SWIOTLB		(1ULL << 63)	/* DMA_IOVA_USE_SWIOTLB in __size */

struct ia_ev_iova {
	struct ia_ev_hdr hdr;	/* hdr.req_id: this call's request id */
	__u64 dev;
	__u64 parent_id;	/* enclosing call (destroy -> free, a failed
				 * link -> unlink) */
	__u64 state;		/* struct dma_iova_state *: names the reservation */
	__u64 addr;		/* state->addr at exit (try_alloc: 0 if refused) */
	__u64 state_size;	/* state->__size at exit (bit 63: IA_IOVA_SWIOTLB) */
	__u64 phys;		/* try_alloc: the phys hint; link: the phys linked */
	__u64 offset;		/* link, sync, unlink: offset into the state */
	__u64 size;		/* try_alloc, link, sync, unlink: size; destroy:
				 * mapped_len; free: 0 */
	__u64 attrs;		/* link, unlink, destroy: DMA_ATTR_* */
	__u64 entry_ns;		/* fentry time (hdr.ts_ns is the fexit) */
	__u32 kind;		/* IA_REQ_IOVA_* (enum ia_req_kind) */
	__u32 dir;		/* link, unlink, destroy */
	__s32 ret;		/* try_alloc: 1 reserved, 0 refused; link, sync:
				 * 0 or -errno; else 0 */
	__s32 stack_id;		/* as ia_ev_req.stack_id */
};

/*
 * The dma:* tracepoints (v6.12+), fired by kernel/dma/mapping.c after each
 * DMA API call returns, with the device: a second witness of the requests
 * (the IOVA API fires none). Which fields an event fills follows its
 * TP_PROTO; the others are 0.
 */
enum ia_tp_dma_ev {
	IA_TP_DMA_MAP = 1,	/* dma_map_phys (v6.18+) / dma_map_page, dma_map_resource
				 * (v6.12-6.17): dev, phys, dma, size, dir, attrs */
	IA_TP_DMA_UNMAP,	/* dma_unmap_phys / dma_unmap_page, dma_unmap_resource:
				 * dev, dma, size, dir, attrs */
	IA_TP_DMA_MAP_SG,	/* dma_map_sg: nents, ents (mapped), dma = first
				 * segment's, dir, attrs */
	IA_TP_DMA_MAP_SG_ERR,	/* dma_map_sg_err: nents, ents = -errno */
	IA_TP_DMA_UNMAP_SG,	/* dma_unmap_sg: nents, dma, dir, attrs */
	IA_TP_DMA_ALLOC,	/* dma_alloc: cpu_addr, dma, size, dir, gfp, attrs */
	IA_TP_DMA_FREE,		/* dma_free: cpu_addr, dma, size, dir, attrs */
	IA_TP_DMA_ALLOC_PAGES,	/* dma_alloc_pages: as dma_alloc */
	IA_TP_DMA_FREE_PAGES,	/* dma_free_pages */
	IA_TP_DMA_ALLOC_SGT,	/* dma_alloc_sgt: cpu_addr = the sg_table, dma = its
				 * first segment's, size, dir, gfp, attrs */
	IA_TP_DMA_ALLOC_SGT_ERR, /* dma_alloc_sgt_err: as dma_alloc (dma 0) */
	IA_TP_DMA_FREE_SGT,	/* dma_free_sgt: cpu_addr = the sg_table, dma, size, dir */
	IA_TP_DMA_SYNC_SINGLE_CPU,	/* dma_sync_single_for_cpu: dma, size, dir */
	IA_TP_DMA_SYNC_SINGLE_DEV,	/* dma_sync_single_for_device */
	IA_TP_DMA_SYNC_SG_CPU,	/* dma_sync_sg_for_cpu: nents, dma = first segment's, dir */
	IA_TP_DMA_SYNC_SG_DEV,	/* dma_sync_sg_for_device */
	IA_TP_DMA_EV_MAX,
};

/* struct ia_ev_tp_dma.hdr.flags */
#define IA_TP_DMA_F_MMIO	(1u << 0)	/* dma_map_resource / dma_unmap_resource
						 * (v6.12-6.17; later DMA_ATTR_MMIO) */

struct ia_ev_tp_dma {
	struct ia_ev_hdr hdr;	/* hdr.req_id: 0 (fired after the request) */
	__u64 dev;
	__u64 phys;
	__u64 dma;
	__u64 size;
	__u64 attrs;
	__u64 gfp;
	__u64 cpu_addr;
	__u32 event;		/* enum ia_tp_dma_ev */
	__u32 dir;
	__s32 nents;
	__s32 ents;
};

/*
 * What a CPU page that a mapping may expose held when it was mapped
 * (bpf/classify.bpf.c). Read from the page's struct page (and its slab or
 * address_space) in BPF, at the exit of the internal map (__iommu_dma_map:
 * the pages of its granules outside the requested bytes) and at the
 * page-table writes of a scatterlist (each write's first and last page).
 * The checker keeps only what it finds exposed. At most IA_PAGE_MAX pages
 * per call; the rest are counted in one IA_PAGE_CAPPED record.
 */
enum ia_page_kind {
	IA_PAGE_UNKNOWN = 0,	/* no struct page could be read */
	IA_PAGE_SLAB,		/* slab: cache, object sizes, slab occupancy */
	IA_PAGE_FILE,		/* page cache of a file: dev, inode */
	IA_PAGE_ANON,		/* anonymous (user) memory, KSM included */
	IA_PAGE_PGTABLE,	/* a CPU page-table page (PG_table) */
	IA_PAGE_FREE,		/* free: inside a free block of the buddy allocator */
	IA_PAGE_RESERVED,	/* PG_reserved outside the kernel image */
	IA_PAGE_KIMAGE,		/* the kernel image (_text .. _end) */
	IA_PAGE_SWIOTLB,	/* the default swiotlb pool */
	IA_PAGE_MMIO,		/* no RAM: MMIO (IOMMU_MMIO) or past max_pfn */
	IA_PAGE_KERNEL,		/* allocated, no type the struct page tells:
				 * alloc_pages, vmalloc, kernel stacks, ... */
	IA_PAGE_CAPPED,		/* not classified: over IA_PAGE_MAX (capped) */
	IA_PAGE_KIND_MAX,
};

#define IA_PAGE_MAX		16	/* pages classified per call */
#define IA_PAGE_F_BUDDY		(1u << 0)	/* IA_PAGE_FREE: PageBuddy */
#define IA_PAGE_F_COMPOUND	(1u << 1)	/* part of a compound page */
#define IA_PAGE_F_NOREF		(1u << 2)	/* no reference, not in a free
						 * block: a per-CPU free list
						 * page, or a tail page of a
						 * non-compound allocation */

struct ia_ev_page {
	struct ia_ev_hdr hdr;	/* hdr.req_id: the map request; hdr.flags:
				 * IA_PAGE_F_* */
	__u64 phys;		/* the CPU page (page-aligned) */
	__u64 base;		/* SLAB: phys of the slab's first page; FILE:
				 * inode number; CAPPED: pages left out */
	__u32 kind;		/* enum ia_page_kind */
	__u32 dev;		/* FILE: the superblock's s_dev (kernel dev_t) */
	__u32 obj_size;		/* SLAB: kmem_cache.object_size */
	__u32 stride;		/* SLAB: kmem_cache.size (object + metadata) */
	__u32 objects;		/* SLAB: objects in the slab */
	__u32 inuse;		/* SLAB: of which allocated */
	__u32 red_left_pad;	/* SLAB: bytes before the first object */
	__u32 pad;
	char name[IA_NAME_LEN];	/* SLAB: cache name; FILE: filesystem type */
};

/*
 * Memory freed while a device can still reach it (bpf/frees.bpf.c, record
 * --free-hooks): a page (kmem:mm_page_free) or a slab object (kmem:kfree,
 * kmem:kmem_cache_free) overlapping a page the IOMMU maps, or one unmapped
 * lazily whose IOTLB flush has not happened yet. Objects are checked
 * against the requested bytes of the mapping (a neighbour's free is not
 * a finding), pages against the whole mapped page. One record per mapped
 * page and mapping: the frees of the page's later owners are not reported.
 */
#define IA_FREED_SLAB		(1u << 0)	/* hdr.flags: a slab object, not a page */
#define IA_FREED_LAZY		(1u << 1)	/* unmapped, its flush still queued */

struct ia_ev_freed {
	struct ia_ev_hdr hdr;	/* hdr.req_id: the mapping's root request */
	__u64 dev;		/* the mapping's device */
	__u64 phys;		/* what was freed: first byte ... */
	__u64 size;		/* ... and length (page: PAGE_SIZE << order) */
	__u64 map_phys;		/* the mapped page it overlaps */
	__u64 domain;		/* the mapping: domain, IOVA of that page */
	__u64 iova;
	__s32 free_stack_id;	/* the freeing call stack; < 0: none */
	__s32 map_stack_id;	/* the mapping request's */
};

/*
 * Production mode (bpf/prod.bpf.c, `devices --production`): per-device
 * counters kept in BPF, one per-CPU hash entry per device (userspace adds
 * the CPUs up), so no record is sent per request. The figures are those of
 * the checker's device totals (struct ia_check_dev) for the requests that
 * go through __iommu_dma_map (single maps, MMIO, contiguous allocations,
 * dma_alloc_pages), with exposure computed from the request and the
 * granule as dma-iommu rounds it.
 */
/* The lazy-flush window histogram's upper bounds, ns (the flush-queue
 * timer is 10 ms), shared by the checker (check/shadow.c) and the BPF
 * counters; a last bucket holds what is above them all. */
#define IA_LAZY_NBOUNDS		10
#define IA_LAZY_BOUNDS_NS	{ 10000, 100000, 1000000, 2500000, 5000000, 10000000, \
				  25000000, 50000000, 100000000, 1000000000 }
#define IA_PROD_LAZY_BUCKETS	(IA_LAZY_NBOUNDS + 1)

struct ia_prod_dev {
	__u64 maps;		/* successful __iommu_dma_map calls */
	__u64 failed;		/* ... that returned DMA_MAPPING_ERROR */
	__u64 bytes_requested;
	__u64 bytes_mapped;	/* granule-aligned span written */
	__u64 bytes_exposed;	/* mapped, not requested (head + tail) */
	__u64 pages_exposed;	/* whole CPU pages among them */
	__u64 unmaps;		/* __iommu_dma_unmap of a mapping counted here */
	__u64 untracked;	/* maps not kept (their live-table bucket full): their unmaps
				 * are not matched */
	__u64 unmatched;	/* unmaps of mappings not counted here (made
				 * before the start, by map_sg, remapped
				 * allocations, or untracked) */
	__u64 lazy_windows;	/* queued unmaps whose flush was seen */
	__u64 lazy_sum_ns;
	__u64 lazy_max_ns;
	__u64 lazy_hist[IA_PROD_LAZY_BUCKETS];	/* bounds: ia_lazy_bounds_ns */
};

/* Production mode's per-call-site counters of the maps that expose bytes:
 * key (device, call stack id in the stack map; -1 when it had no room). */
struct ia_prod_site_key {
	__u64 dev;
	__s64 stack_id;
};

struct ia_prod_site {
	__u64 maps;		/* maps exposing bytes, from this site */
	__u64 bytes_exposed;
	__u64 pages_exposed;
};

/* Production mode's bounded state: what did not fit, per cause (a per-CPU
 * array, prod_overflow). */
enum ia_prod_overflow {
	IA_PROD_OVF_DEVICES = 0,	/* a device beyond the per-device table */
	IA_PROD_OVF_LIVE,		/* a mapping its live-table bucket had no room for */
	IA_PROD_OVF_LAZY,		/* a queued unmap beyond a cookie's queue */
	IA_PROD_OVF_SITES,		/* a call site beyond the per-site table */
	IA_PROD_OVF_MAX,
};

/*
 * A snapshot of the IOMMU's page tables as the kernel dumps them
 * (/sys/kernel/debug/iommu/intel/.../domain_translation_struct: every
 * present leaf of each device's domain), written by `record` (user/live/
 * ptsnap.c), not by BPF: the oracle `check` compares the shadow page
 * tables with (docs/checks.md, "The page-table oracle"). One snapshot is
 *   one IA_SNAP_BEGIN record (written before the dump is read: hdr.ts_ns is
 *   when the read began), then per device one or more records of its
 *   leaves, merged into ranges (IOVA and phys contiguous, same prot and
 *   level), IA_SNAP_DEV_LAST on its last one, then one IA_SNAP_END record
 *   (end_ns: when the read ended; count: the devices).
 * A kernel without the dump gives one BEGIN and one END record with
 * IA_SNAP_ABSENT: the oracle is absent (coverage), not an error.
 */
#define IA_SNAP_CHUNK		256	/* ranges per record, at most */

/* struct ia_ev_pt_snap.hdr.flags */
#define IA_SNAP_BEGIN		(1u << 0)
#define IA_SNAP_END		(1u << 1)
#define IA_SNAP_DEV_LAST	(1u << 2)	/* the device's last record */
#define IA_SNAP_ABSENT		(1u << 3)	/* no dump on this kernel */
#define IA_SNAP_TRUNCATED	(1u << 4)	/* a device's dump was cut (too
						 * many ranges, unreadable):
						 * not compared */

/* struct ia_ev_pt_snap.why */
enum ia_snap_why {
	IA_SNAP_START = 1,	/* when the recording starts */
	IA_SNAP_STOP,		/* when it ends */
	IA_SNAP_SIGNAL,		/* SIGUSR2 */
	IA_SNAP_PERIODIC,	/* --pt-snapshot-every */
	IA_SNAP_WHY_MAX,
};

/* A run of present leaves: [iova, iova + size) -> [paddr, paddr + size). */
struct ia_snap_range {
	__u64 iova;
	__u64 paddr;
	__u64 size;
	__u32 prot;		/* VT-d leaf bits 0 (read) and 1 (write) */
	__u32 level;		/* 1: 4 KiB leaves, 2: 2 MiB, 3: 1 GiB */
};

struct ia_ev_pt_snap {
	struct ia_ev_hdr hdr;	/* hdr.req_id 0; hdr.flags: IA_SNAP_*;
				 * hdr.size: offsetof(r) + count ranges */
	__u64 end_ns;		/* END: when the read ended (CLOCK_MONOTONIC) */
	__u64 pgd;		/* the table's root, as the dump names it */
	__u32 snap;		/* snapshot number in the trace, from 1 */
	__u32 why;		/* enum ia_snap_why */
	__u32 pasid;		/* the dump's PASID; ~0: none (legacy mode) */
	__u32 count;		/* ranges that follow (END: devices) */
	char dev[IA_NAME_LEN];	/* the device (dev_name); "" in BEGIN, END */
	struct ia_snap_range r[];	/* count of them */
};

/*
 * Drop counters, one slot per reason, in a per-CPU array map (drops).
 * Userspace sums the CPUs; any non-zero count makes a run incomplete.
 */
enum ia_drop {
	IA_DROP_RINGBUF = 0,	/* bpf_ringbuf_reserve failed: buffer full */
	IA_DROP_INFLIGHT,	/* in-flight request stack full or missing */
	IA_DROP_STACK,		/* bpf_get_stackid failed */
	IA_DROP_MAX,
};

/*
 * Call-site stacks (bpf/site.bpf.h), per CPU, summed by userspace and shown
 * with -v: how many root requests took their site's stack without an
 * unwind, and (IA_SITE_VERIFY=1, the VM test) how many of those were
 * checked against the unwinder's frames.
 */
enum ia_site_count {
	IA_SITE_HIT = 0,	/* the site's stack, no unwind */
	IA_SITE_NEW,		/* a new site: unwound once, kept */
	IA_SITE_UNWOUND,	/* unwound, not kept: unwalkable, collision, full */
	IA_SITE_CHECKED,	/* IA_SITE_VERIFY: a hit whose frames were compared */
	IA_SITE_MISMATCH,	/* ... and differed from the unwinder's */
	/* not a call site's: a root request whose task's in-flight slot
	 * another task held, so its stack went to the LRU hash
	 * (bpf/audit.bpf.h: ia_inflight_get()) */
	IA_COUNT_INFLIGHT_SPILL,
	IA_SITE_MAX,
};

#endif /* IA_EVENTS_H */
