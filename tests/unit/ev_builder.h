/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Synthetic event streams for the checker's unit tests (tests/unit/
 * test_inv_*.c): a small step language whose steps expand into the records
 * the BPF programs emit, in the kernel's order, and a table runner that
 * compares the findings with hand-computed expectations.
 *
 * Record order per step (docs/architecture.md, bpf/requests.bpf.c):
 *   EB_DEVICE    IA_EV_DEVICE
 *   EB_MAP_PAGE  [IA_EV_BOUNCE (root id)], IA_EV_PT_MAP... (child id),
 *                child IA_REQ_IOMMU_MAP (parent = root), root IA_REQ_MAP_PAGE
 *   EB_ALLOC     (EB_F_FAILED: the root alone, failed, handle 0)
 *                IA_EV_PT_MAP... (child id), child IA_REQ_IOMMU_MAP,
 *                root IA_REQ_ALLOC (the contiguous path: atomic or
 *                DMA_ATTR_FORCE_CONTIGUOUS); with EB_F_REMAP (the
 *                blocking path) the writes carry the root id, no child
 *   EB_ALLOC_PAGES  IA_EV_PT_MAP... (grandchild id), grandchild
 *                IA_REQ_IOMMU_MAP, child IA_REQ_MAP_PAGE, root
 *                IA_REQ_ALLOC_PAGES (dma_alloc_pages -> map_page)
 *   EB_ALLOC_NC  IA_EV_PT_MAP... (root id), root IA_REQ_ALLOC_NONCONTIG,
 *                IA_EV_SG output walk of .sg (after it)
 *   EB_SGTABLE   root IA_REQ_GET_SGTABLE (.dma .size; ret 0, or -ENOMEM
 *                with EB_F_FAILED), IA_EV_SG output walk of the exported
 *                entries .sg (phys/len) after it
 *   EB_MAP_SG    IA_EV_SG input walk, IA_EV_PT_MAP... (root id), root
 *                IA_REQ_MAP_SG, IA_EV_SG output walk (root id, after it);
 *                EB_F_FAILED: the root fails with -ENOMEM, no walk.
 *                With EB_F_SWIOTLB (an untrusted device,
 *                iommu_dma_map_sg_swiotlb): per segment, a child
 *                IA_REQ_MAP_PAGE at its own IOVA (the output's .dma),
 *                bounced to .tlb + i * granule when it does not fill its
 *                granules, as EB_MAP_PAGE does it; with EB_F_FAILED the first
 *                segment's map_page fails with no bounce and no child (bounce
 *                buffers inactive) and the root fails with -EIO
 *   EB_UNMAP     (kind UNMAP_SG with EB_F_SWIOTLB and .sg: one child
 *                IA_REQ_UNMAP_PAGE per output segment, each as below)
 *   EB_UNMAP     IA_EV_PT_UNMAP (result = bytes removed), IA_EV_IOVA_FREE
 *                (iova = the handle, size = the unmap size, as
 *                __iommu_dma_unmap's arguments), root unmap/free request
 *   EB_SYNC      one IA_REQ_SYNC_* record (entry only)
 *   EB_PT_MAP    unattributed IA_EV_PT_MAP writes (req_id 0)
 *   EB_PT_UNMAP  unattributed IA_EV_PT_UNMAP removals (req_id 0; .pt's
 *                result: the bytes removed)
 *   EB_FLUSH     IA_EV_FQ_FLUSH with the domain's cookie
 *   EB_IOVA_*    the two-step IOVA API, one IA_EV_IOVA record per call, on
 *                the state .state (EB_STATE_A when 0; the first alloc of it
 *                sets its addr .dma and size .size for the later steps):
 *                ALLOC  (.phys hint, .size, .dma = state->addr) the record;
 *                LINK   (.off .phys .size .dir) IA_EV_PT_MAP of the
 *                       granule-aligned range at addr + off, the record;
 *                UNLINK (.off .size) IA_EV_PT_UNMAP of the granule-aligned
 *                       range (result: all of it, or .pt), the record;
 *                SYNC   (.off .size) the record;
 *                DESTROY (.size = mapped_len) mapped_len > 0: the removal of
 *                       [0, mapped_len), IA_EV_IOVA_FREE of the state's
 *                       range (IA_IOVA_QUEUED with EB_F_QUEUED), the record;
 *                       mapped_len 0: a nested dma_iova_free, then the record;
 *                FREE   IA_EV_IOVA_FREE (never queued), the record
 * A step's records share one timestamp; each step then advances the clock
 * by 1 us. EB_TIME sets the clock. Call sites: .site = n > 0 gives the
 * request stack id n, whose IA_EV_STACK record (innermost driver frame
 * "siteN_submit") is emitted before the first request naming it.
 *
 * Page-table writes and removals, unless given in .pt[] (.npt > 0), are the
 * ones dma-iommu makes: granule-aligned, covering the buffer.
 */
#ifndef EV_BUILDER_H
#define EV_BUILDER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "check/checker.h"

#define EB_N(a)		(sizeof(a) / sizeof((a)[0]))

#define EB_DEV_A	0xffff888100a0c000ULL	/* struct device * */
#define EB_DEV_B	0xffff888100b0c000ULL
#define EB_DOM_A	0xffff888200001000ULL	/* struct iommu_domain * */
#define EB_DOM_B	0xffff888200002000ULL
#define EB_COOKIE(dom)	((dom) + 0x800)		/* its iova cookie */
#define EB_NAME_A	"0000:00:03.0"
#define EB_NAME_B	"0000:00:04.0"
#define EB_ERR(e)	((__u64)(__s64)-(e))	/* a page-table write's -errno */
#define EB_DMA_ERROR	(~0ULL)			/* DMA_MAPPING_ERROR */
#define EB_MASK48	0xffffffffffffULL
#define EB_STATE_A	0xffff888300001000ULL	/* struct dma_iova_state * */
#define EB_STATE_B	0xffff888300002000ULL

enum { EB_BIDI = 0, EB_TO_DEV = 1, EB_FROM_DEV = 2 };	/* dma_data_direction */

enum eb_op {
	EB_END = 0,
	EB_DEVICE,	/* .dev, .dom, .d */
	EB_MAP_PAGE,	/* .phys .size .dma .dir .kind (MAP_PAGE / MAP_RESOURCE)
			 * .tlb .tlb_alloc (bounced) .pt */
	EB_ALLOC,	/* .phys (the pages) .size .dma .pt: coherent allocation */
	EB_ALLOC_PAGES,	/* .phys (the page) .size (page-aligned) .dma .dir .pt;
			 * .tlb: its map_page bounced them there */
	EB_ALLOC_NC,	/* .sg (the table: phys/len) .size .dma .pt */
	EB_SGTABLE,	/* .dma .size .sg (exported phys/len): dma_get_sgtable */
	EB_MAP_SG,	/* .sg (input phys/len, output dma/dma_len) .dir .pt */
	EB_UNMAP,	/* .kind (default UNMAP_PAGE) .dma .size .dir .pt */
	EB_SYNC,	/* .kind (default SYNC_SINGLE_CPU) .dma .size .dir */
	EB_PT_MAP,	/* .pt, unattributed, in .dom or the device's domain */
	EB_PT_UNMAP,	/* .pt removals, the same */
	EB_FLUSH,	/* flush queue flush of .dom or the device's domain */
	EB_IOVA_ALLOC,	/* .state .phys .size .dma (state->addr) */
	EB_IOVA_LINK,	/* .state .off .phys .size .dir .pt */
	EB_IOVA_SYNC,	/* .state .off .size */
	EB_IOVA_UNLINK,	/* .state .off .size .pt */
	EB_IOVA_DESTROY, /* .state .size (mapped_len) .pt */
	EB_IOVA_FREE,	/* .state */
	EB_TIME,	/* clock = .ts */
	EB_FINISH,	/* ia_checker_finish(c, .lost) */
};

#define EB_F_FAILED	(1u << 0)	/* the map fails: handle DMA_MAPPING_ERROR */
#define EB_F_QUEUED	(1u << 1)	/* unmap: IOVA release queued (lazy) */
#define EB_F_NO_PT	(1u << 2)	/* map/unmap: no page-table record at all */
#define EB_F_NO_FREE	(1u << 3)	/* unmap: no IOVA release record */
#define EB_F_REMAP	(1u << 4)	/* alloc: the remap path, no child map */
#define EB_F_SWIOTLB	(1u << 5)	/* map_sg/unmap_sg: the untrusted path,
					 * one nested map_page/unmap_page per
					 * segment */
#define EB_F_STACK	(1u << 7)	/* map: the buffer is on the kernel stack
					 * (IA_REQ_F_STACK) */
#define EB_F_NO_CHILD	(1u << 6)	/* map: failed before __iommu_dma_map
					 * (no IA_REQ_IOMMU_MAP child) */

/* A page-table write (result 0 or EB_ERR()) or removal (result = bytes). */
struct eb_pt {
	__u64 iova, paddr, size, result;
};

/* Device context; zero fields take the defaults in eb_device(). */
struct eb_devspec {
	__u64 granule;		/* 4096 */
	__u64 dma_mask;		/* EB_MASK48 */
	__u64 coherent_mask;	/* dma_mask */
	__u64 bus_limit;	/* 0: none */
	__u64 seg_boundary;	/* 0xffffffff */
	__u32 max_seg_size;	/* 65536 */
	__u32 flags;		/* IA_DEV_* */
	__u32 domain_type;	/* IA_DOMAIN_DMA */
	const char *driver;	/* e1000e for EB_DEV_B, nvme for the others */
};

#define EB_MAX_SG	16

struct eb_step {
	enum eb_op op;
	__u64 dev;		/* 0: EB_DEV_A */
	__u64 dom;		/* EB_DEVICE: its domain (0: EB_DOM_A for A,
				 * EB_DOM_B for B); EB_PT_MAP/UNMAP/FLUSH: override */
	struct eb_devspec d;	/* EB_DEVICE */
	__u64 phys, size, dma;
	__u32 kind, dir, site, flags;
	__u32 nents;		/* EB_UNMAP, EB_SYNC: the entry count passed;
				 * EB_MAP_SG: the count given, when not nsg */
	__u64 cpu;		/* EB_ALLOC, EB_UNMAP (a free): the cpu address */
	__u64 state, off;	/* EB_IOVA_*: the dma_iova_state, the offset */
	__u64 tlb, tlb_alloc;	/* EB_MAP_PAGE: bounce slot (0: not bounced),
				 * its alloc size (0: size rounded to granule) */
	__u64 ts;		/* EB_TIME */
	__u64 lost;		/* EB_FINISH */
	struct eb_pt pt[4];
	int npt;		/* > 0: these writes/removals, not computed ones */
	struct ia_sg_seg sg[EB_MAX_SG];
	int nsg;
};

/* Steps, for tables: S_MAP(.phys = ..., .size = ..., .dma = ...) */
#define S_DEVICE(...)	{ .op = EB_DEVICE, __VA_ARGS__ }
#define S_MAP(...)	{ .op = EB_MAP_PAGE, __VA_ARGS__ }
#define S_ALLOC(...)	{ .op = EB_ALLOC, __VA_ARGS__ }
#define S_ALLOC_PAGES(...)	{ .op = EB_ALLOC_PAGES, __VA_ARGS__ }
#define S_ALLOC_NC(...)	{ .op = EB_ALLOC_NC, __VA_ARGS__ }
#define S_SGTABLE(...)	{ .op = EB_SGTABLE, __VA_ARGS__ }
#define S_MAP_SG(...)	{ .op = EB_MAP_SG, __VA_ARGS__ }
#define S_UNMAP(...)	{ .op = EB_UNMAP, __VA_ARGS__ }
#define S_SYNC(...)	{ .op = EB_SYNC, __VA_ARGS__ }
#define S_PT_MAP(...)	{ .op = EB_PT_MAP, __VA_ARGS__ }
#define S_PT_UNMAP(...)	{ .op = EB_PT_UNMAP, __VA_ARGS__ }
#define S_FLUSH(...)	{ .op = EB_FLUSH, __VA_ARGS__ }
#define S_IOVA_ALLOC(...)	{ .op = EB_IOVA_ALLOC, __VA_ARGS__ }
#define S_IOVA_LINK(...)	{ .op = EB_IOVA_LINK, __VA_ARGS__ }
#define S_IOVA_SYNC(...)	{ .op = EB_IOVA_SYNC, __VA_ARGS__ }
#define S_IOVA_UNLINK(...)	{ .op = EB_IOVA_UNLINK, __VA_ARGS__ }
#define S_IOVA_DESTROY(...)	{ .op = EB_IOVA_DESTROY, __VA_ARGS__ }
#define S_IOVA_FREE(...)	{ .op = EB_IOVA_FREE, __VA_ARGS__ }
#define S_TIME(t)	{ .op = EB_TIME, .ts = (t) }
#define S_FINISH(l)	{ .op = EB_FINISH, .lost = (l) }
/* explicit page-table writes / removals of a step: PT2(PTW(...), PTW(...)) */
#define PTW(iova, paddr, size, res)	{ (iova), (paddr), (size), (res) }
#define PT1(a)		.pt = { a }, .npt = 1
#define PT2(a, b)	.pt = { a, b }, .npt = 2
#define PT3(a, b, c)	.pt = { a, b, c }, .npt = 3
/* a scatterlist segment: input phys/len, output dma/dma_len */
#define SEG(p, l, d, dl)	{ .phys = (p), .len = (l), .dma = (d), .dma_len = (dl) }

/* ---- the world a case runs in -------------------------------------------- */

struct eb_world {
	struct ia_checker *c;
	__u64 now, next_id;
	struct { __u64 dev, dom, granule; } devs[8];
	int ndev;
	struct { __u64 state, addr, size; } iova[4];	/* as last reserved */
	int niova;
	bool site_sent[64];
};

static struct eb_world eb_w;

static inline void eb_begin(void)
{
	memset(&eb_w, 0, sizeof(eb_w));
	eb_w.now = 1000000;
	eb_w.next_id = 100;
	eb_w.c = ia_checker_new();
	assert_non_null(eb_w.c);
}

static inline void eb_end(void)
{
	ia_checker_free(eb_w.c);
	eb_w.c = NULL;
}

static inline __u64 eb_align(__u64 v, __u64 g)
{
	return (v + g - 1) & ~(g - 1);
}

static inline __u64 eb_dev_of(const struct eb_step *s)
{
	return s->dev ? s->dev : EB_DEV_A;
}

static inline __u64 eb_dom_of(__u64 dev)
{
	for (int i = 0; i < eb_w.ndev; i++)
		if (eb_w.devs[i].dev == dev)
			return eb_w.devs[i].dom;
	return dev == EB_DEV_B ? EB_DOM_B : EB_DOM_A;
}

static inline __u64 eb_granule_of(__u64 dev)
{
	for (int i = 0; i < eb_w.ndev; i++)
		if (eb_w.devs[i].dev == dev)
			return eb_w.devs[i].granule;
	return 4096;
}

/* ---- records --------------------------------------------------------------- */

static inline void eb_hdr(struct ia_ev_hdr *h, __u16 type, size_t size, __u64 req,
			  __u32 flags)
{
	h->type = type;
	h->size = (__u16)size;
	h->cpu = 2;
	h->ts_ns = eb_w.now;
	h->req_id = req;
	h->pid = 4242;
	h->flags = flags;
}

static inline void eb_feed(const void *rec)
{
	const struct ia_ev_hdr *h = rec;

	ia_checker_event(eb_w.c, h, h->size);
}

static inline void eb_ev_device(__u64 dev, __u64 dom, const struct eb_devspec *d)
{
	struct ia_ev_device e;

	memset(&e, 0, sizeof(e));
	eb_hdr(&e.hdr, IA_EV_DEVICE, sizeof(e), 0, d->flags | IA_DEV_PCI);
	e.dev = dev;
	e.domain = dom;
	e.cookie = EB_COOKIE(dom);
	e.granule = d->granule ? d->granule : 4096;
	e.pgsize_bitmap = 0x40201000;
	e.dma_mask = d->dma_mask ? d->dma_mask : EB_MASK48;
	e.coherent_dma_mask = d->coherent_mask ? d->coherent_mask : e.dma_mask;
	e.bus_dma_limit = d->bus_limit;
	e.seg_boundary = d->seg_boundary ? d->seg_boundary : 0xffffffffULL;
	e.max_seg_size = d->max_seg_size ? d->max_seg_size : 65536;
	e.domain_type = d->domain_type ? d->domain_type : IA_DOMAIN_DMA;
	e.page_size = 4096;
	e.group_id = dev == EB_DEV_B ? 8 : 7;
	snprintf(e.name, sizeof(e.name), "%s", dev == EB_DEV_B ? EB_NAME_B : EB_NAME_A);
	snprintf(e.driver, sizeof(e.driver), "%s",
		 d->driver ? d->driver : dev == EB_DEV_B ? "e1000e" : "nvme");
	snprintf(e.bus, sizeof(e.bus), "pci");
	eb_feed(&e);
	for (int i = 0; i < eb_w.ndev; i++)
		if (eb_w.devs[i].dev == dev) {
			eb_w.devs[i].dom = dom;
			eb_w.devs[i].granule = e.granule;
			return;
		}
	if (eb_w.ndev < (int)EB_N(eb_w.devs)) {
		eb_w.devs[eb_w.ndev].dev = dev;
		eb_w.devs[eb_w.ndev].dom = dom;
		eb_w.devs[eb_w.ndev].granule = e.granule;
		eb_w.ndev++;
	}
}

/* The call stack of site n: DMA API frames, then the driver's. */
static inline void eb_ev_stack(__u32 site)
{
	union {
		struct ia_ev_stack s;
		char buf[sizeof(struct ia_ev_stack) + 4 * sizeof(struct ia_stack_frame)];
	} u;

	if (!site || site >= EB_N(eb_w.site_sent) || eb_w.site_sent[site])
		return;
	eb_w.site_sent[site] = true;
	memset(&u, 0, sizeof(u));
	eb_hdr(&u.s.hdr, IA_EV_STACK, sizeof(u.buf), 0, 0);
	u.s.stack_id = (__s32)site;
	u.s.nr = 4;
	snprintf(u.s.frames[0].sym, IA_SYM_LEN, "iommu_dma_map_page+0x4c");
	snprintf(u.s.frames[1].sym, IA_SYM_LEN, "dma_map_page_attrs+0x3a");
	snprintf(u.s.frames[2].sym, IA_SYM_LEN, "site%u_submit+0x10 [drv]", site);
	snprintf(u.s.frames[3].sym, IA_SYM_LEN, "drv_queue_rq+0x99 [drv]");
	for (int i = 0; i < 4; i++)
		u.s.frames[i].ip = 0xffffffffc0001000ULL + site * 0x100 + i;
	eb_feed(&u);
}

static inline void eb_ev_req(__u64 id, __u64 dev, __u64 parent, __u32 kind, __u64 phys,
			     __u64 size, __u64 dma, __u32 dir, __u32 site, __u32 flags,
			     __s32 ret, __u32 nents,
			     __u64 cpu)
{
	struct ia_ev_req e;

	memset(&e, 0, sizeof(e));
	eb_hdr(&e.hdr, IA_EV_REQ, sizeof(e), id, flags);
	e.dev = dev;
	e.parent_id = parent;
	e.phys = phys;
	e.size = size;
	e.dma = dma;
	e.entry_ns = eb_w.now - 500;
	e.kind = kind;
	e.dir = dir;
	e.ret = ret;
	e.stack_id = site ? (__s32)site : -1;
	e.nents = nents;
	e.cpu_addr = cpu;
	eb_feed(&e);
}

static inline void eb_ev_pt(__u16 type, __u64 req, __u64 dom, const struct eb_pt *p)
{
	struct ia_ev_pt e;

	memset(&e, 0, sizeof(e));
	eb_hdr(&e.hdr, type, sizeof(e), req, req ? 0 : IA_PT_UNATTRIBUTED);
	e.domain = dom;
	e.iova = p->iova;
	e.paddr = type == IA_EV_PT_MAP ? p->paddr : 0;
	e.size = p->size;
	e.result = p->result;
	e.prot = 3;
	eb_feed(&e);
}

/* A scatterlist walk, IA_SG_CHUNK segments per record. */
static inline void eb_ev_sg(__u64 req, bool output, const struct ia_sg_seg *segs, int n)
{
	for (int first = 0; first < n; first += IA_SG_CHUNK) {
		struct ia_ev_sg e;
		int cnt = n - first < IA_SG_CHUNK ? n - first : IA_SG_CHUNK;

		memset(&e, 0, sizeof(e));
		eb_hdr(&e.hdr, IA_EV_SG, sizeof(e), req,
		       (output ? IA_SG_OUTPUT : 0) |
		       (first + cnt == n ? IA_SG_LAST_CHUNK : 0));
		e.first = first;
		e.count = cnt;
		for (int i = 0; i < cnt; i++) {
			e.segs[i].phys = segs[first + i].phys;
			e.segs[i].len = segs[first + i].len;
			e.segs[i].dma = output ? segs[first + i].dma : 0;
			e.segs[i].dma_len = output ? segs[first + i].dma_len : 0;
		}
		eb_feed(&e);
	}
}

static inline void eb_ev_bounce(__u64 req, __u64 dev, __u64 orig, __u64 tlb, __u64 size,
				__u64 alloc, __u32 dir)
{
	struct ia_ev_bounce e;

	memset(&e, 0, sizeof(e));
	eb_hdr(&e.hdr, IA_EV_BOUNCE, sizeof(e), req, 0);
	e.dev = dev;
	e.orig_phys = orig;
	e.tlb_phys = tlb;
	e.mapping_size = size;
	e.alloc_size = alloc;
	e.dir = dir;
	eb_feed(&e);
}

static inline void eb_ev_iova_free(__u64 req, __u64 dev, __u64 dom, __u64 iova, __u64 size,
				   bool queued)
{
	struct ia_ev_iova_free e;

	memset(&e, 0, sizeof(e));
	eb_hdr(&e.hdr, IA_EV_IOVA_FREE, sizeof(e), req, queued ? IA_IOVA_QUEUED : 0);
	e.dev = dev;
	e.domain = dom;
	e.iova = iova;
	e.size = size;
	eb_feed(&e);
}

static inline void eb_ev_fq_flush(__u64 cookie)
{
	struct ia_ev_fq_flush e;

	memset(&e, 0, sizeof(e));
	eb_hdr(&e.hdr, IA_EV_FQ_FLUSH, sizeof(e), 0, 0);
	e.cookie = cookie;
	eb_feed(&e);
}

/* ---- steps ------------------------------------------------------------------ */

/* The write dma-iommu makes for [phys, phys + size) at handle dma. */
static inline struct eb_pt eb_write_for(__u64 dma, __u64 phys, __u64 size, __u64 g)
{
	__u64 off = phys & (g - 1);

	return (struct eb_pt){ dma & ~(g - 1), phys - off, eb_align(off + size, g), 0 };
}

static inline void eb_writes(const struct eb_step *s, __u64 req, __u64 dom, __u64 dma,
			     __u64 phys, __u64 g)
{
	if (s->flags & EB_F_NO_PT)
		return;
	if (s->npt > 0) {
		for (int i = 0; i < s->npt; i++)
			eb_ev_pt(IA_EV_PT_MAP, req, dom, &s->pt[i]);
	} else {
		struct eb_pt w = eb_write_for(dma, phys, s->size, g);

		eb_ev_pt(IA_EV_PT_MAP, req, dom, &w);
	}
}

static inline void eb_step_map_page(const struct eb_step *s)
{
	__u64 dev = eb_dev_of(s), dom = eb_dom_of(dev), g = eb_granule_of(dev);
	__u64 root = eb_w.next_id++, child = eb_w.next_id++;
	__u64 cphys = s->tlb ? s->tlb : s->phys;
	bool failed = s->flags & EB_F_FAILED;
	__u64 dma = failed ? EB_DMA_ERROR : s->dma;

	eb_ev_stack(s->site);
	if (s->tlb)	/* EB_DMA_ERROR: swiotlb found no slot */
		eb_ev_bounce(root, dev, s->phys, s->tlb, s->size,
			     s->tlb_alloc ? s->tlb_alloc : eb_align(s->size, g), s->dir);
	if (!(s->flags & EB_F_NO_CHILD) && s->tlb != EB_DMA_ERROR) {
		eb_writes(s, child, dom, s->dma, cphys, g);
		eb_ev_req(child, dev, root, IA_REQ_IOMMU_MAP, cphys, s->size, dma, 0, 0,
			  failed ? IA_REQ_F_FAILED : 0, 0, 0, 0);
	}
	eb_ev_req(root, dev, 0, s->kind ? s->kind : IA_REQ_MAP_PAGE, s->phys, s->size, dma,
		  s->dir, s->site, (failed ? IA_REQ_F_FAILED : 0) |
		  (s->flags & EB_F_STACK ? IA_REQ_F_STACK : 0), 0, 0, 0);
}

static inline void eb_step_alloc(const struct eb_step *s)
{
	__u64 dev = eb_dev_of(s), dom = eb_dom_of(dev), g = eb_granule_of(dev);
	__u64 root = eb_w.next_id++, child = eb_w.next_id++;

	eb_ev_stack(s->site);
	if (s->flags & EB_F_FAILED) {	/* no pages, nothing mapped: NULL */
		eb_ev_req(root, dev, 0, IA_REQ_ALLOC, 0, s->size, 0, EB_BIDI, s->site,
			  IA_REQ_F_FAILED, 0, 0, 0);
		return;
	}
	if (s->flags & EB_F_REMAP) {
		eb_writes(s, root, dom, s->dma, s->phys, g);
	} else {
		eb_writes(s, child, dom, s->dma, s->phys, g);
		eb_ev_req(child, dev, root, IA_REQ_IOMMU_MAP, s->phys, s->size, s->dma, 0, 0, 0,
			  0, 0, 0);
	}
	eb_ev_req(root, dev, 0, IA_REQ_ALLOC, 0, s->size, s->dma, EB_BIDI, s->site, 0, 0, 0,
		  s->cpu);
}

static inline void eb_step_alloc_pages(const struct eb_step *s)
{
	__u64 dev = eb_dev_of(s), dom = eb_dom_of(dev), g = eb_granule_of(dev);
	__u64 root = eb_w.next_id++, child = eb_w.next_id++, grand = eb_w.next_id++;
	__u64 cphys = s->tlb ? s->tlb : s->phys;

	eb_ev_stack(s->site);
	if (s->tlb)	/* an untrusted device's map_page bounced the pages */
		eb_ev_bounce(child, dev, s->phys, s->tlb, s->size, eb_align(s->size, g), s->dir);
	eb_writes(s, grand, dom, s->dma, cphys, g);
	eb_ev_req(grand, dev, child, IA_REQ_IOMMU_MAP, cphys, s->size, s->dma, 0, 0, 0, 0, 0, 0);
	eb_ev_req(child, dev, root, IA_REQ_MAP_PAGE, s->phys, s->size, s->dma, s->dir, 0, 0, 0,
		  0, 0);
	eb_ev_req(root, dev, 0, IA_REQ_ALLOC_PAGES, s->phys, s->size, s->dma, s->dir, s->site,
		  0, 0, 0, 0);
}

static inline void eb_step_alloc_nc(const struct eb_step *s)
{
	__u64 dev = eb_dev_of(s), dom = eb_dom_of(dev), g = eb_granule_of(dev);
	__u64 root = eb_w.next_id++, cur = s->dma;

	eb_ev_stack(s->site);
	if (s->npt > 0) {
		eb_writes(s, root, dom, s->dma, 0, g);
	} else {	/* iommu_map_sg: the table's entries back to back */
		for (int i = 0; i < s->nsg; i++) {
			struct eb_pt w = { cur, s->sg[i].phys, s->sg[i].len, 0 };

			eb_ev_pt(IA_EV_PT_MAP, root, dom, &w);
			cur += s->sg[i].len;
		}
	}
	eb_ev_req(root, dev, 0, IA_REQ_ALLOC_NONCONTIG, 0, s->size, s->dma, s->dir, s->site, 0,
		  0, (__u32)s->nsg, 0);
	eb_ev_sg(root, true, s->sg, s->nsg);
}

static inline void eb_step_sgtable(const struct eb_step *s)
{
	__u64 root = eb_w.next_id++;
	bool failed = s->flags & EB_F_FAILED;

	eb_ev_stack(s->site);
	eb_ev_req(root, eb_dev_of(s), 0, IA_REQ_GET_SGTABLE, 0, s->size, s->dma, 0, s->site,
		  failed ? IA_REQ_F_FAILED : 0, failed ? -12 : 0, failed ? 0 : (__u32)s->nsg, 0);
	if (!failed)
		eb_ev_sg(root, true, s->sg, s->nsg);
}

/* iommu_dma_map_sg_swiotlb: one iommu_dma_map_page per segment */
static inline void eb_step_map_sg_swiotlb(const struct eb_step *s, __u64 root)
{
	__u64 dev = eb_dev_of(s), dom = eb_dom_of(dev), g = eb_granule_of(dev);
	bool failed = s->flags & EB_F_FAILED;

	eb_ev_sg(root, false, s->sg, s->nsg);
	for (int i = 0; i < (failed ? 1 : s->nsg); i++) {
		const struct ia_sg_seg *q = &s->sg[i];
		__u64 child = eb_w.next_id++, grand = eb_w.next_id++;
		bool bounce = (q->phys | q->len) & (g - 1);
		__u64 tlb = s->tlb + (__u64)i * g, cphys = bounce ? tlb : q->phys;
		struct eb_pt w = eb_write_for(q->dma, cphys, q->len, g);

		if (failed) {	/* bounce buffers inactive: nothing below */
			eb_ev_req(child, dev, root, IA_REQ_MAP_PAGE, q->phys, q->len,
				  EB_DMA_ERROR, s->dir, 0, IA_REQ_F_FAILED, 0, 0, 0);
			break;
		}
		if (bounce)
			eb_ev_bounce(child, dev, q->phys, tlb, q->len, eb_align(q->len, g), s->dir);
		eb_ev_pt(IA_EV_PT_MAP, grand, dom, &w);
		eb_ev_req(grand, dev, child, IA_REQ_IOMMU_MAP, cphys, q->len, q->dma, 0, 0, 0, 0, 0, 0);
		eb_ev_req(child, dev, root, IA_REQ_MAP_PAGE, q->phys, q->len, q->dma, s->dir, 0, 0,
			  0, 0, 0);
	}
	eb_ev_req(root, dev, 0, IA_REQ_MAP_SG, 0, 0, failed ? EB_DMA_ERROR : s->sg[0].dma,
		  s->dir, s->site, failed ? IA_REQ_F_FAILED : 0, failed ? -5 : s->nsg,
		  (__u32)s->nsg, 0);
	if (!failed)
		eb_ev_sg(root, true, s->sg, s->nsg);
}

static inline void eb_step_map_sg(const struct eb_step *s)
{
	__u64 dev = eb_dev_of(s), dom = eb_dom_of(dev), g = eb_granule_of(dev);
	__u64 root = eb_w.next_id++;
	int mapped = 0;

	eb_ev_stack(s->site);
	if (s->flags & EB_F_SWIOTLB) {
		eb_step_map_sg_swiotlb(s, root);
		return;
	}
	eb_ev_sg(root, false, s->sg, s->nsg);
	if (!(s->flags & EB_F_NO_PT) && s->npt > 0) {
		for (int i = 0; i < s->npt; i++)
			eb_ev_pt(IA_EV_PT_MAP, root, dom, &s->pt[i]);
	} else if (!(s->flags & EB_F_NO_PT)) {
		/* iommu_map_sg: each segment granule-padded, back to back */
		__u64 cur = s->sg[0].dma & ~(g - 1);

		for (int i = 0; i < s->nsg; i++) {
			struct eb_pt w = eb_write_for(cur, s->sg[i].phys, s->sg[i].len, g);

			eb_ev_pt(IA_EV_PT_MAP, root, dom, &w);
			cur += w.size;
		}
	}
	for (int i = 0; i < s->nsg; i++)
		mapped += s->sg[i].dma_len != 0;
	if (s->flags & EB_F_FAILED) {	/* iommu_dma_map_sg: -ENOMEM, no IOVA */
		eb_ev_req(root, dev, 0, IA_REQ_MAP_SG, 0, 0, EB_DMA_ERROR, s->dir, s->site,
			  IA_REQ_F_FAILED, -12, (__u32)s->nsg, 0);
		return;
	}
	eb_ev_req(root, dev, 0, IA_REQ_MAP_SG, 0, 0, s->sg[0].dma, s->dir, s->site, 0,
		  mapped, s->nents ? s->nents : (__u32)s->nsg, 0);
	eb_ev_sg(root, true, s->sg, s->nsg);	/* the fexit walk, after the record */
}

static inline void eb_step_unmap(const struct eb_step *s)
{
	__u64 dev = eb_dev_of(s), dom = eb_dom_of(dev), g = eb_granule_of(dev);
	__u64 root = eb_w.next_id++;

	if (s->flags & EB_F_SWIOTLB) {	/* iommu_dma_unmap_sg_swiotlb */
		for (int i = 0; i < s->nsg; i++) {
			const struct ia_sg_seg *q = &s->sg[i];
			__u64 child = eb_w.next_id++;
			struct eb_pt u = eb_write_for(q->dma, q->dma, q->dma_len, g);

			u.result = u.size;
			eb_ev_pt(IA_EV_PT_UNMAP, child, dom, &u);
			eb_ev_iova_free(child, dev, dom, q->dma, q->dma_len,
					s->flags & EB_F_QUEUED);
			eb_ev_req(child, dev, root, IA_REQ_UNMAP_PAGE, 0, q->dma_len, q->dma,
				  s->dir, 0, IA_REQ_F_ENTRY_ONLY, 0, 0, 0);
		}
		eb_ev_req(root, dev, 0, IA_REQ_UNMAP_SG, 0, 0, s->sg[0].dma, s->dir, s->site,
			  IA_REQ_F_ENTRY_ONLY, 0, (__u32)s->nsg, 0);
		return;
	}
	if (!(s->flags & EB_F_NO_PT)) {
		if (s->npt > 0) {
			for (int i = 0; i < s->npt; i++)
				eb_ev_pt(IA_EV_PT_UNMAP, root, dom, &s->pt[i]);
		} else {
			struct eb_pt u = eb_write_for(s->dma, s->dma, s->size, g);

			u.result = u.size;	/* all of it removed */
			eb_ev_pt(IA_EV_PT_UNMAP, root, dom, &u);
		}
	}
	if (!(s->flags & EB_F_NO_FREE))
		eb_ev_iova_free(root, dev, dom, s->dma, s->size, s->flags & EB_F_QUEUED);
	eb_ev_req(root, dev, 0, s->kind ? s->kind : IA_REQ_UNMAP_PAGE, 0, s->size, s->dma,
		  s->dir, s->site, IA_REQ_F_ENTRY_ONLY, 0, s->nents, s->cpu);
}

static inline void eb_step_sync(const struct eb_step *s)
{
	__u64 id = eb_w.next_id++;

	eb_ev_req(id, eb_dev_of(s), 0, s->kind ? s->kind : IA_REQ_SYNC_SINGLE_CPU, 0, s->size,
		  s->dma, s->dir, s->site, IA_REQ_F_ENTRY_ONLY, 0, s->nents, 0);
}

/* ---- the two-step IOVA API ---- */

static inline __u64 eb_state_of(const struct eb_step *s)
{
	return s->state ? s->state : EB_STATE_A;
}

/* The state's addr and size as its last EB_IOVA_ALLOC set them. */
static inline void eb_iova_get(__u64 state, __u64 *addr, __u64 *size)
{
	*addr = *size = 0;
	for (int i = 0; i < eb_w.niova; i++)
		if (eb_w.iova[i].state == state) {
			*addr = eb_w.iova[i].addr;
			*size = eb_w.iova[i].size;
		}
}

static inline void eb_ev_iova(__u64 id, __u64 parent, const struct eb_step *s, __u32 kind,
			      __u64 phys, __u64 off, __u64 size, __u32 flags, __s32 ret)
{
	struct ia_ev_iova e;
	__u64 addr, ssize;

	eb_iova_get(eb_state_of(s), &addr, &ssize);
	memset(&e, 0, sizeof(e));
	eb_hdr(&e.hdr, IA_EV_IOVA, sizeof(e), id, flags);
	e.dev = eb_dev_of(s);
	e.parent_id = parent;
	e.state = eb_state_of(s);
	e.addr = addr;
	e.state_size = ssize;
	e.phys = phys;
	e.offset = off;
	e.size = size;
	e.dir = s->dir;
	e.entry_ns = eb_w.now - 500;
	e.kind = kind;
	e.ret = ret;
	e.stack_id = s->site ? (__s32)s->site : -1;
	eb_feed(&e);
}

/* The removal dma-iommu makes for [off, off + len) of a state: all of it,
 * unless the step gives its own. */
static inline void eb_iova_removal(const struct eb_step *s, __u64 id, __u64 addr, __u64 off,
				   __u64 len)
{
	__u64 dev = eb_dev_of(s), dom = eb_dom_of(dev), g = eb_granule_of(dev);

	if (s->npt > 0) {
		for (int i = 0; i < s->npt; i++)
			eb_ev_pt(IA_EV_PT_UNMAP, id, dom, &s->pt[i]);
	} else {
		struct eb_pt u = eb_write_for(addr + off, addr + off, len, g);

		u.result = u.size;
		eb_ev_pt(IA_EV_PT_UNMAP, id, dom, &u);
	}
}

static inline void eb_step_iova(const struct eb_step *s)
{
	__u64 dev = eb_dev_of(s), dom = eb_dom_of(dev), g = eb_granule_of(dev);
	__u64 id = eb_w.next_id++, addr, size;
	bool failed = s->flags & EB_F_FAILED;

	eb_ev_stack(s->site);
	switch (s->op) {
	case EB_IOVA_ALLOC:
		if (!failed && eb_w.niova < (int)EB_N(eb_w.iova)) {
			eb_w.iova[eb_w.niova].state = eb_state_of(s);
			eb_w.iova[eb_w.niova].addr = s->dma;
			eb_w.iova[eb_w.niova].size = s->size;
			eb_w.niova++;
		}
		eb_ev_iova(id, 0, s, IA_REQ_IOVA_TRY_ALLOC, s->phys, 0, s->size,
			   failed ? IA_REQ_F_FAILED : 0, !failed);
		break;
	case EB_IOVA_LINK:
		eb_iova_get(eb_state_of(s), &addr, &size);
		eb_writes(s, id, dom, addr + s->off, s->phys, g);
		eb_ev_iova(id, 0, s, IA_REQ_IOVA_LINK, s->phys, s->off, s->size,
			   failed ? IA_REQ_F_FAILED : 0, failed ? -22 : 0);
		break;
	case EB_IOVA_SYNC:
		eb_ev_iova(id, 0, s, IA_REQ_IOVA_SYNC, 0, s->off, s->size, 0, 0);
		break;
	case EB_IOVA_UNLINK:
		eb_iova_get(eb_state_of(s), &addr, &size);
		eb_iova_removal(s, id, addr, s->off, s->size);
		eb_ev_iova(id, 0, s, IA_REQ_IOVA_UNLINK, 0, s->off, s->size, 0, 0);
		break;
	case EB_IOVA_DESTROY:
		eb_iova_get(eb_state_of(s), &addr, &size);
		if (s->size) {
			eb_iova_removal(s, id, addr, 0, s->size);
			eb_ev_iova_free(id, dev, dom, addr, size, s->flags & EB_F_QUEUED);
		} else {	/* dma_iova_free, nested */
			__u64 child = eb_w.next_id++;

			eb_ev_iova_free(child, dev, dom, addr, size, false);
			eb_ev_iova(child, id, s, IA_REQ_IOVA_FREE, 0, 0, 0, 0, 0);
		}
		eb_ev_iova(id, 0, s, IA_REQ_IOVA_DESTROY, 0, 0, s->size, 0, 0);
		break;
	case EB_IOVA_FREE:
		eb_iova_get(eb_state_of(s), &addr, &size);
		eb_ev_iova_free(id, dev, dom, addr, size, false);
		eb_ev_iova(id, 0, s, IA_REQ_IOVA_FREE, 0, 0, 0, 0, 0);
		break;
	default:
		break;
	}
}

static inline void eb_run(const struct eb_step *steps, size_t n)
{
	for (size_t i = 0; i < n && steps[i].op != EB_END; i++) {
		const struct eb_step *s = &steps[i];
		__u64 dev = eb_dev_of(s);

		switch (s->op) {
		case EB_DEVICE:
			eb_ev_device(dev, s->dom ? s->dom :
				     dev == EB_DEV_B ? EB_DOM_B : EB_DOM_A, &s->d);
			break;
		case EB_MAP_PAGE:	eb_step_map_page(s); break;
		case EB_ALLOC:		eb_step_alloc(s); break;
		case EB_ALLOC_PAGES:	eb_step_alloc_pages(s); break;
		case EB_ALLOC_NC:	eb_step_alloc_nc(s); break;
		case EB_SGTABLE:	eb_step_sgtable(s); break;
		case EB_MAP_SG:		eb_step_map_sg(s); break;
		case EB_UNMAP:		eb_step_unmap(s); break;
		case EB_SYNC:		eb_step_sync(s); break;
		case EB_IOVA_ALLOC: case EB_IOVA_LINK: case EB_IOVA_SYNC:
		case EB_IOVA_UNLINK: case EB_IOVA_DESTROY: case EB_IOVA_FREE:
			eb_step_iova(s);
			break;
		case EB_PT_MAP:
		case EB_PT_UNMAP:
			for (int k = 0; k < s->npt; k++)
				eb_ev_pt(s->op == EB_PT_MAP ? IA_EV_PT_MAP : IA_EV_PT_UNMAP, 0,
					 s->dom ? s->dom : eb_dom_of(dev), &s->pt[k]);
			break;
		case EB_FLUSH:
			eb_ev_fq_flush(EB_COOKIE(s->dom ? s->dom : eb_dom_of(dev)));
			break;
		case EB_TIME:
			eb_w.now = s->ts;
			continue;	/* no advance */
		case EB_FINISH:
			ia_checker_finish(eb_w.c, s->lost);
			break;
		case EB_END:
			return;
		}
		eb_w.now += 1000;
	}
}

/* ---- expectations ------------------------------------------------------------ */

/* struct eb_want.chk: the optional fields compared */
#define EB_W_HEAD	(1u << 0)
#define EB_W_TAIL	(1u << 1)
#define EB_W_EXP	(1u << 2)	/* exposed_bytes */
#define EB_W_PAGES	(1u << 3)	/* exposed_pages */
#define EB_W_VALUE	(1u << 4)
#define EB_W_DMA	(1u << 5)
#define EB_W_LEN	(1u << 6)
#define EB_W_PHYS	(1u << 7)
#define EB_W_DEVICE	(1u << 8)
#define EB_W_KIND	(1u << 9)	/* req_kind */
#define EB_W_SITE	(1u << 10)	/* site[0] starts with .site */
#define EB_W_SGT	(1u << 11)	/* exported_bytes, mapped_bytes, diff_dma */
#define EB_W_TS		(1u << 12)	/* ts_ns */

/* One expected finding: code, severity, count (0 means 1) and uncertain are
 * always compared, the fields named in chk too. */
struct eb_want {
	const char *code;	/* NULL: end of list */
	__u32 sev;
	__u64 count;
	unsigned chk;
	__u64 head, tail, exposed, pages, value, dma, len, phys;
	__u64 exported, mapped, diff;	/* EB_W_SGT */
	__u64 ts;			/* EB_W_TS */
	__u32 kind;
	bool uncertain;
	const char *device;
	const char *site;
};

/* struct eb_wantdev.chk */
#define EB_D_MAPS	(1u << 0)
#define EB_D_REQ	(1u << 1)	/* bytes_requested */
#define EB_D_MAPPED	(1u << 2)	/* bytes_mapped */
#define EB_D_EXP	(1u << 3)	/* bytes_exposed */
#define EB_D_PAGES	(1u << 4)	/* pages_exposed */
#define EB_D_LIVE	(1u << 5)	/* live (per device) */
#define EB_D_PREEX	(1u << 6)	/* preexisting */
#define EB_D_LAZY	(1u << 7)	/* lazy_max_ns */
#define EB_D_LIVEMAPS	(1u << 8)	/* ia_checker_live_mappings() */
#define EB_D_FAILED	(1u << 9)	/* failed */

struct eb_wantdev {
	unsigned chk;		/* 0: nothing compared */
	const char *name;	/* NULL: EB_NAME_A */
	__u64 maps, bytes_requested, bytes_mapped, bytes_exposed, pages_exposed;
	__u64 live, preexisting, lazy_max_ns, live_maps, failed;
};

#define EB_MAX_STEPS	16
#define EB_MAX_WANT	6

struct eb_case {
	const char *name;
	__u32 inv;		/* findings compared: this invariant's (0: all) */
	struct eb_step steps[EB_MAX_STEPS];
	struct eb_want want[EB_MAX_WANT];
	struct eb_wantdev dev;
};

static inline void eb_dump_findings(__u32 inv)
{
	size_t n;
	const struct ia_finding *f = ia_checker_findings(eb_w.c, &n);
	int shown = 0;

	for (size_t i = 0; i < n; i++, f++) {
		if (inv && f->invariant != inv)
			continue;
		print_error("      got: %s sev=%u count=%llu uncertain=%d head=%llu tail=%llu "
			    "exposed=%llu pages=%llu value=%llu dma=0x%llx phys=0x%llx len=%llu "
			    "kind=%u dev=%s site=%s\n           \"%s\"\n",
			    f->code, f->severity, (unsigned long long)f->count, f->uncertain,
			    (unsigned long long)f->head, (unsigned long long)f->tail,
			    (unsigned long long)f->exposed_bytes,
			    (unsigned long long)f->exposed_pages, (unsigned long long)f->value,
			    (unsigned long long)f->dma, (unsigned long long)f->phys,
			    (unsigned long long)f->len, f->req_kind, f->device, f->site[0],
			    f->message);
		shown++;
	}
	if (!shown)
		print_error("      got: no findings%s\n", inv ? " of this invariant" : "");
}

static inline int eb_field(const char *name, const char *what, unsigned long long got,
			   unsigned long long want)
{
	if (got == want)
		return 0;
	print_error("FAIL [%s] %s: got %llu (0x%llx), want %llu (0x%llx)\n", name, what, got,
		    got, want, want);
	return 1;
}

/* Compare the findings (of invariant inv, or all) with want[]; returns the
 * number of mismatches, each printed. The k-th want of a code is matched
 * with the k-th finding of that code. */
static inline int eb_check_findings(const char *name, __u32 inv, const struct eb_want *want,
				    size_t nwant)
{
	size_t n, nw = 0;
	const struct ia_finding *all = ia_checker_findings(eb_w.c, &n);
	bool used[256] = { false };
	int bad = 0;
	char what[160];

	while (nw < nwant && want[nw].code)
		nw++;
	for (size_t w = 0; w < nw; w++) {
		const struct eb_want *e = &want[w];
		const struct ia_finding *f = NULL;

		for (size_t i = 0; i < n && i < EB_N(used); i++)
			if (!used[i] && (!inv || all[i].invariant == inv) &&
			    !strcmp(all[i].code, e->code)) {
				used[i] = true;
				f = &all[i];
				break;
			}
		if (!f) {
			print_error("FAIL [%s] expected finding %s (#%zu) missing\n", name, e->code,
				    w + 1);
			bad++;
			continue;
		}
#define EB_CMP(label, got, exp)	do {						\
		snprintf(what, sizeof(what), "%s.%s", e->code, label);		\
		bad += eb_field(name, what, (got), (exp));			\
	} while (0)
		EB_CMP("severity", f->severity, e->sev);
		EB_CMP("count", f->count, e->count ? e->count : 1);
		EB_CMP("uncertain", f->uncertain, e->uncertain);
		if (e->chk & EB_W_HEAD)
			EB_CMP("head", f->head, e->head);
		if (e->chk & EB_W_TAIL)
			EB_CMP("tail", f->tail, e->tail);
		if (e->chk & EB_W_EXP)
			EB_CMP("exposed_bytes", f->exposed_bytes, e->exposed);
		if (e->chk & EB_W_PAGES)
			EB_CMP("exposed_pages", f->exposed_pages, e->pages);
		if (e->chk & EB_W_VALUE)
			EB_CMP("value", f->value, e->value);
		if (e->chk & EB_W_DMA)
			EB_CMP("dma", f->dma, e->dma);
		if (e->chk & EB_W_LEN)
			EB_CMP("len", f->len, e->len);
		if (e->chk & EB_W_PHYS)
			EB_CMP("phys", f->phys, e->phys);
		if (e->chk & EB_W_KIND)
			EB_CMP("req_kind", f->req_kind, e->kind);
		if (e->chk & EB_W_TS)
			EB_CMP("ts", f->ts_ns, e->ts);
		if (e->chk & EB_W_SGT) {
			EB_CMP("exported_bytes", f->exported_bytes, e->exported);
			EB_CMP("mapped_bytes", f->mapped_bytes, e->mapped);
			EB_CMP("diff_dma", f->diff_dma, e->diff);
		}
#undef EB_CMP
		if ((e->chk & EB_W_DEVICE) && strcmp(f->device, e->device)) {
			print_error("FAIL [%s] %s.device: got \"%s\", want \"%s\"\n", name,
				    e->code, f->device, e->device);
			bad++;
		}
		if ((e->chk & EB_W_SITE) && strncmp(f->site[0], e->site, strlen(e->site))) {
			print_error("FAIL [%s] %s.site: got \"%s\", want \"%s...\"\n", name,
				    e->code, f->site[0], e->site);
			bad++;
		}
	}
	for (size_t i = 0; i < n && i < EB_N(used); i++)
		if (!used[i] && (!inv || all[i].invariant == inv)) {
			print_error("FAIL [%s] unexpected finding %s\n", name, all[i].code);
			bad++;
		}
	if (n > EB_N(used)) {
		print_error("FAIL [%s] %zu findings, more than the test can compare\n", name, n);
		bad++;
	}
	if (bad) {
		print_error("    [%s] expected:", name);
		if (!nw)
			print_error(" no findings");
		for (size_t w = 0; w < nw; w++)
			print_error(" %s x%llu", want[w].code,
				    (unsigned long long)(want[w].count ? want[w].count : 1));
		print_error("\n");
		eb_dump_findings(inv);
	}
	return bad;
}

static inline int eb_check_dev(const char *name, const struct eb_wantdev *w)
{
	const char *dname = w->name ? w->name : EB_NAME_A;
	const struct ia_check_dev *d = NULL, *all;
	size_t n;
	int bad = 0;

	if (!w->chk)
		return 0;
	if (w->chk & EB_D_LIVEMAPS)
		bad += eb_field(name, "live mappings", ia_checker_live_mappings(eb_w.c),
				w->live_maps);
	all = ia_checker_devices(eb_w.c, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(all[i].name, dname))
			d = &all[i];
	if (!d) {
		print_error("FAIL [%s] device %s not in ia_checker_devices()\n", name, dname);
		return bad + 1;
	}
	if (w->chk & EB_D_MAPS)
		bad += eb_field(name, "dev.maps", d->maps, w->maps);
	if (w->chk & EB_D_REQ)
		bad += eb_field(name, "dev.bytes_requested", d->bytes_requested,
				w->bytes_requested);
	if (w->chk & EB_D_MAPPED)
		bad += eb_field(name, "dev.bytes_mapped", d->bytes_mapped, w->bytes_mapped);
	if (w->chk & EB_D_EXP)
		bad += eb_field(name, "dev.bytes_exposed", d->bytes_exposed, w->bytes_exposed);
	if (w->chk & EB_D_PAGES)
		bad += eb_field(name, "dev.pages_exposed", d->pages_exposed, w->pages_exposed);
	if (w->chk & EB_D_LIVE)
		bad += eb_field(name, "dev.live", d->live, w->live);
	if (w->chk & EB_D_PREEX)
		bad += eb_field(name, "dev.preexisting", d->preexisting, w->preexisting);
	if (w->chk & EB_D_FAILED)
		bad += eb_field(name, "dev.failed", d->failed, w->failed);
	if (w->chk & EB_D_LAZY)
		bad += eb_field(name, "dev.lazy_max_ns", d->lazy_max_ns, w->lazy_max_ns);
	return bad;
}

/* Run one case in a fresh checker; returns its mismatches (printed). */
static inline int eb_run_case(const struct eb_case *k)
{
	int bad = 0;

	eb_begin();
	eb_run(k->steps, EB_N(k->steps));
	bad += eb_check_findings(k->name, k->inv, k->want, EB_N(k->want));
	bad += eb_check_dev(k->name, &k->dev);
	bad += eb_field(k->name, "malformed records", ia_checker_malformed(eb_w.c), 0);
	eb_end();
	return bad;
}

/* Run a table; every case runs, then the test fails if any case did. */
static inline void eb_run_table(const char *table, const struct eb_case *cases, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		int bad = eb_run_case(&cases[i]);

		failed += bad > 0;
	}
	if (failed)
		fail_msg("%s: %d of %zu case(s) failed (details above)", table, failed, n);
}

#endif /* EV_BUILDER_H */
