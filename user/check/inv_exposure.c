// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Invariant 2, over-exposure: the bytes a request's page-table writes made
 * reachable that are neither the request's buffer nor another live buffer
 * of the same device. Exact, in bytes, head (below the buffer) and tail
 * (above it), and classified:
 *
 *   exposure.sub_page         slack inside the CPU pages of the buffer
 *                             (sub-granule rounding); info
 *   exposure.unrelated_pages  whole CPU pages the buffer does not touch
 *                             (the granule is larger than the page); warning
 *   exposure.sg_padding       a scatterlist mapped beyond its segments'
 *                             granule-aligned spans: dma-iommu lengthens a
 *                             segment to pad the next one to the segment
 *                             boundary, and maps the memory after it; warning
 *   exposure.bounce_slack     inside the bounce slot of a bounced request:
 *                             the slot owns its whole granule; info
 *   exposure.untrusted        an untrusted device reaches anything else; error
 *   exposure.stack            the buffer itself is on the mapping task's
 *                             kernel stack (IA_REQ_F_STACK); error
 *
 * With page records (bpf/classify.bpf.c, trace version 4) the exposed
 * bytes are also split by what their CPU pages held at map time (slab and
 * which cache, page cache and which file, anonymous, page table, free,
 * ...), and exposing a sensitive kind is one more finding:
 *
 *   exposure.sensitive        the exposed bytes include a kind of the
 *                             checker's sensitive list (--sensitive: page
 *                             tables and the credential and key caches by
 *                             default); error
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "check/invariant.h"
#include "check/devstats.h"

#define MAX_RANGES 512

struct sub_ctx {
	__u64 start, end;	/* the exposed piece being trimmed */
	__u64 self;		/* request id: not "another live buffer" */
	__u64 covered;		/* bytes of it inside other live buffers */
	__u64 done;		/* [start, done) is accounted for */
};

/* Buffers come in start order: each adds what it holds past those counted,
 * so buffers that overlap (MMIO ranges of one BAR) count once (they were
 * added whole, and a map_resource inside another live one made the
 * exposure 1620 bytes short: the random programs at 64K) */
static int count_covered(struct ia_inode *n, void *ctx)
{
	struct sub_ctx *s = ctx;
	const struct ck_subbuf *m = ia_container_of(n, struct ck_subbuf, phys);
	__u64 a = n->start > s->done ? n->start : s->done;
	__u64 b = n->end < s->end ? n->end : s->end;

	if (m->req_id != s->self && b > a) {
		s->covered += b - a;
		s->done = b;
	}
	return 0;
}

struct pages_ctx {
	__u64 self;		/* request id: not "another live buffer" */
	__u64 page;
	__u64 lo, hi;		/* the whole pages of the piece: [lo, hi) */
	__u64 done;		/* [lo, done) is accounted for */
	__u64 touched;		/* bytes of [lo, hi) in pages other buffers touch */
};

/* Buffers come in start order: the pages each touches, past those counted. */
static int touched_pages(struct ia_inode *n, void *ctx)
{
	struct pages_ctx *t = ctx;
	__u64 s, e;

	if (ia_container_of(n, struct ck_subbuf, phys)->req_id == t->self)
		return 0;
	s = (n->start > t->lo ? n->start : t->lo) & ~(t->page - 1);
	e = n->end < t->hi ? n->end : t->hi;
	if (e & (t->page - 1))
		e = (e | (t->page - 1)) + 1;	/* <= hi: hi is page-aligned */
	if (s < t->done)
		s = t->done;
	if (e > s) {
		t->touched += e - s;
		t->done = e;
	}
	return 0;
}

/*
 * Whole CPU pages of [a, b) that no other live buffer of the device touches,
 * counted arithmetically: the pages inside the piece less those the buffers
 * overlapping it touch (one walk of those buffers, whatever the piece's
 * size). No requested range touches them: a piece is mapped minus requested.
 */
static __u64 unrelated_pages(const struct ck_ctx *x, __u64 a, __u64 b)
{
	struct pages_ctx t = { .self = x->req->hdr.req_id, .page = x->page_size };
	__u64 mask = t.page - 1;

	t.lo = a & ~mask;
	if (t.lo < a) {
		if (t.lo > UINT64_MAX - t.page)
			return 0;	/* no whole page above a */
		t.lo += t.page;
	}
	t.hi = b & ~mask;
	if (t.hi <= t.lo)
		return 0;
	t.done = t.lo;
	ia_itree_overlaps(&x->dev->live_phys, t.lo, t.hi, touched_pages, &t);
	return (t.hi - t.lo - t.touched) / t.page;
}

struct gaps {
	struct ck_ctx *x;
	__u64 lo;			/* lowest requested byte */
	__u64 head, tail, pages, in_slot;
	/* by page kind (only when the request has page records) */
	__u64 kind_bytes[IA_PAGE_KIND_MAX];
	const struct ia_ev_page *slab;	/* first slab page exposed */
	__u64 slab_objects;
	__u64 file_ino;
	__u32 file_dev;
	__u64 sensitive;		/* bytes of a sensitive kind ... */
	char sensitive_what[IA_NAME_LEN];	/* ... the first one */
};

static __u64 covered_bytes(struct ck_ctx *x, __u64 a, __u64 b)
{
	struct sub_ctx s = { a, b, x->req->hdr.req_id, 0, a };

	ia_itree_overlaps(&x->dev->live_phys, a, b, count_covered, &s);
	return s.covered;
}

/* Is NAME in the comma-separated list? */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; n && *p;) {
		size_t k = strcspn(p, ",");

		if (k == n && !strncmp(p, name, n))
			return true;
		p += k + (p[k] == ',');
	}
	return false;
}

/* Page records in address order; of two for one page the first recorded
 * (the one a lookup by page met first). */
static int page_rec_cmp(const void *pa, const void *pb)
{
	const struct ia_ev_page *a = *(const struct ia_ev_page *const *)pa;
	const struct ia_ev_page *b = *(const struct ia_ev_page *const *)pb;

	if (a->phys != b->phys)
		return a->phys < b->phys ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* Objects of a slab whose bytes overlap [a, b). */
static __u64 slab_overlaps(const struct ia_ev_page *e, __u64 a, __u64 b)
{
	__u64 first = e->base + e->red_left_pad, n = 0;

	if (!e->stride || b <= first)
		return 0;
	for (__u64 k = a > first ? (a - first) / e->stride : 0;
	     k < e->objects && first + k * e->stride < b; k++) {
		__u64 os = first + k * e->stride, oe = os + e->obj_size;

		n += os < b && oe > a;
	}
	return n;
}

/* Bytes of one CPU page's share [s, e) of a piece, by what r says it held. */
static void classify_bytes(struct gaps *g, const struct ia_ev_page *r, __u64 s, __u64 e,
			   __u64 bytes)
{
	const char *what = ia_page_kind_str(r->kind);

	g->kind_bytes[r->kind] += bytes;
	if (r->kind == IA_PAGE_SLAB) {
		if (!g->slab)
			g->slab = r;
		g->slab_objects += slab_overlaps(r, s, e);
		what = r->name;
	} else if (r->kind == IA_PAGE_FILE && !g->file_ino) {
		g->file_ino = r->base;
		g->file_dev = r->dev;
	}
	if ((r->kind == IA_PAGE_SLAB || r->kind == IA_PAGE_PGTABLE) &&
	    listed(g->x->c->sensitive, what)) {
		if (!g->sensitive)
			snprintf(g->sensitive_what, sizeof(g->sensitive_what), "%s", what);
		g->sensitive += bytes;
	}
}

/*
 * Split an exposed piece [a, b), of which `uncovered` bytes no other live
 * buffer holds, by what its CPU pages held. Only the pages with a record of
 * their own are visited, in address order (so "the first slab page" is the
 * lowest); the rest of the piece, whatever its size, counts as the capped
 * record's kind if the request has one (pages over IA_PAGE_MAX), else as
 * unknown. A walk page by page was linear in the piece's size, which a
 * trace controls: fuzz_trace found an input that ran for minutes.
 */
static void classify_piece(struct gaps *g, __u64 a, __u64 b, __u64 uncovered)
{
	struct ck_ctx *x = g->x;
	const struct ck_pending *p = x->p;
	__u64 page = x->page_size, lo = a & ~(page - 1), rest = uncovered;
	const struct ia_ev_page **own;
	bool capped = false;
	size_t n = 0;

	own = malloc(p->pages.n * sizeof(*own));
	if (!own) {
		x->c->oom = true;
		return;
	}
	for (size_t i = 0; i < p->pages.n; i++) {
		const struct ia_ev_page *r = &p->pages.v[i];

		if (r->kind == IA_PAGE_CAPPED)
			capped = true;
		else if (r->phys >= lo && r->phys < b &&
			 !(r->phys & (page - 1)))
			own[n++] = r;
	}
	qsort(own, n, sizeof(*own), page_rec_cmp);
	for (size_t i = 0; i < n; i++) {
		__u64 pg = own[i]->phys, s = pg > a ? pg : a, e, bytes, cov;

		if (i && own[i - 1]->phys == pg)
			continue;
		/* the page's end, or b if the page reaches it (or the top) */
		e = pg + page > pg && pg + page < b ? pg + page : b;
		bytes = e - s;
		cov = covered_bytes(x, s, e);
		bytes = bytes > cov ? bytes - cov : 0;
		if (!bytes)
			continue;
		rest = rest > bytes ? rest - bytes : 0;
		classify_bytes(g, own[i], s, e, bytes);
	}
	if (rest)
		g->kind_bytes[capped ? IA_PAGE_CAPPED : IA_PAGE_UNKNOWN] += rest;
	free(own);
}

/* A part of an exposed piece, inside a bounce slot of the request or
 * outside them all: less other live buffers, then classified. */
static void gap_part(struct gaps *g, __u64 a, __u64 b, bool in_slot)
{
	struct ck_ctx *x = g->x;
	__u64 covered = covered_bytes(x, a, b), bytes;

	bytes = b - a > covered ? b - a - covered : 0;
	if (!bytes)
		return;
	if (x->p->pages.n)
		classify_piece(g, a, b, bytes);
	if (a < g->lo)
		g->head += bytes;
	else
		g->tail += bytes;
	if (in_slot)
		g->in_slot += bytes;
	else
		g->pages += unrelated_pages(x, a, b);
}

/*
 * One exposed piece [a, b), cut where it enters or leaves a bounce slot: a
 * slot of several granules at an offset in its granule (6.1's swiotlb at
 * 64K) ends inside the mapping's last granule, so the piece after the
 * buffer runs past the slot's end (the random program at 64K: taken whole
 * for outside the slot, the slot's slack was exposure.untrusted).
 */
static void gap(struct gaps *g, __u64 a, __u64 b)
{
	bool in;

	for (__u64 e; a < b; a = e) {
		e = ck_slot_cut(g->x->p, a, b, &in);
		gap_part(g, a, e, in);
	}
}

/* A picture's worth of this mapping (ia_checker_keep_maps). */
static void sample(struct ck_ctx *x, __u64 requested, const struct gaps *g)
{
	struct ia_map_sample m = { .dma = x->req->dma, .requested = requested,
				   .iova_lo = ~0ULL, .head = g->head, .tail = g->tail,
				   .kind = x->req->kind };

	if (x->dev->samples.n >= x->c->keep_maps)
		return;
	for (size_t i = 0; i < x->p->maps.n; i++) {
		const struct ck_pt *w = &x->p->maps.v[i];

		if (w->result)
			continue;
		if (w->iova < m.iova_lo)
			m.iova_lo = w->iova;
		if (w->iova + w->size > m.iova_hi)
			m.iova_hi = w->iova + w->size;
	}
	if (m.iova_hi)
		CK_PUSH(x->c, x->dev->samples, m);
}

/* The kinds into the finding, and into the device totals when count. */
static void set_kinds(struct ck_ctx *x, const struct gaps *g, struct ia_finding *f,
		      bool count)
{
	f->classified = true;
	x->dev->stats.classified = true;
	for (int k = 0; k < IA_PAGE_KIND_MAX; k++) {
		f->kind_bytes[k] = g->kind_bytes[k];
		if (count)
			x->dev->stats.kind_bytes[k] += g->kind_bytes[k];
	}
	if (g->slab) {
		snprintf(f->slab, sizeof(f->slab), "%s", g->slab->name);
		f->slab_obj_size = g->slab->obj_size;
		f->slab_objects = g->slab_objects;
	}
	f->file_ino = g->file_ino;
	f->file_dev = g->file_dev;
}

/* The same request again, as an error naming the sensitive kind. */
static void report_sensitive(struct ck_ctx *x, const struct gaps *g,
			     const struct ia_finding *exp)
{
	struct ia_finding f;

	ck_finding_init(x, &f, IA_INV_EXPOSURE, IA_SEV_ERROR, "exposure.sensitive");
	f.head = exp->head;
	f.tail = exp->tail;
	f.phys = exp->phys;
	f.len = exp->len;
	f.exposed_bytes = g->sensitive;
	set_kinds(x, g, &f, false);	/* counted with the exposure finding */
	snprintf(f.message, sizeof(f.message),
		 "%s of %" PRIu64 " bytes at phys 0x%" PRIx64 ": %" PRIu64
		 " bytes of %s reachable (sensitive), granule %" PRIu64,
		 ia_req_kind_str(x->req->kind), (uint64_t)exp->len, (uint64_t)exp->phys,
		 (uint64_t)g->sensitive, g->sensitive_what, (uint64_t)x->granule);
	ck_report(x->c, &f);
}

/*
 * The buffer is on the mapping task's kernel stack (BPF compares its phys
 * with the task's stack pages at the map, IA_REQ_F_STACK): the device
 * reaches the stack, whose frame is gone when the function returns, and
 * the rest of its page besides (dma-debug: "maps memory from stack").
 */
static void report_stack(struct ck_ctx *x)
{
	struct ia_finding f;

	ck_finding_init(x, &f, IA_INV_EXPOSURE, IA_SEV_ERROR, "exposure.stack");
	snprintf(f.message, sizeof(f.message), "%s of %" PRIu64 " bytes at phys 0x%" PRIx64
		 ": a buffer on the mapping task's kernel stack", ia_req_kind_str(x->req->kind),
		 (uint64_t)x->req->size, (uint64_t)x->req->phys);
	ck_report(x->c, &f);
}

static void exposure_map(struct ck_ctx *x)
{
	static struct ck_pt req[MAX_RANGES], map[MAX_RANGES];
	const struct ck_pending *p = x->p;
	__u64 mapped = 0, requested = 0, exposed, spans = 0;
	struct gaps g;
	int nmap = 0, nreq;
	struct ia_finding f;

	ck_zero(&g, sizeof(g));	/* as = { .x = x }, without a rep stos */
	g.x = x;

	if (x->req->hdr.flags & IA_REQ_F_STACK)
		report_stack(x);
	for (size_t i = 0; i < p->maps.n && nmap < MAX_RANGES; i++)
		if (!p->maps.v[i].result)
			map[nmap++] = p->maps.v[i];
	nmap = ck_merge_ranges(map, nmap);
	for (int i = 0; i < nmap; i++)
		mapped += map[i].size;
	x->dev->stats.maps++;
	x->dev->stats.bytes_mapped += mapped;
	nreq = ck_requested_ranges(x, req, MAX_RANGES);
	if (nreq <= 0 || !nmap)
		return;	/* remapped allocation, or nothing mapped: no ranges */
	for (int i = 0; i < nreq; i++)
		requested += req[i].size;
	x->dev->stats.bytes_requested += requested;
	g.lo = req[0].paddr;

	/* mapped minus requested (both sorted and merged), piece by piece */
	for (int i = 0; i < nmap; i++) {
		__u64 cur = map[i].paddr, end = map[i].paddr + map[i].size;

		for (int k = 0; k < nreq && cur < end; k++) {
			__u64 rs = req[k].paddr, re = rs + req[k].size;

			if (re <= cur)
				continue;
			if (rs >= end)
				break;
			if (rs > cur)
				gap(&g, cur, rs);
			cur = re;
		}
		if (cur < end)
			gap(&g, cur, end);
	}
	exposed = g.head + g.tail;
	sample(x, requested, &g);
	if (!exposed)
		return;
	x->dev->stats.bytes_exposed += exposed;
	x->dev->stats.pages_exposed += g.pages;

	if (x->req->kind == IA_REQ_MAP_SG) {
		/* what each segment needs: its granule-aligned span where the
		 * device reaches it (a bounced one's slot: at 64K 6.1's slots
		 * sit at an offset of their own, and the granules around the
		 * slot are no padding) */
		for (size_t i = 0; i < p->sg_in.n; i++) {
			__u64 off = ck_bounced(p, p->sg_in.v[i].phys) & (x->granule - 1);

			spans += ck_page_align(off + p->sg_in.v[i].len, x->granule);
		}
	}
	if (x->dev->stats.untrusted && exposed > g.in_slot)
		x->dev->stats.bytes_untrusted += exposed - g.in_slot;
	if (x->dev->stats.untrusted && exposed > g.in_slot)
		ck_finding_init(x, &f, IA_INV_EXPOSURE, IA_SEV_ERROR, "exposure.untrusted");
	else if (spans && mapped > spans)
		ck_finding_init(x, &f, IA_INV_EXPOSURE, IA_SEV_WARNING, "exposure.sg_padding");
	else if (p->bounces.n && exposed == g.in_slot)
		ck_finding_init(x, &f, IA_INV_EXPOSURE, IA_SEV_INFO, "exposure.bounce_slack");
	else if (g.pages)
		ck_finding_init(x, &f, IA_INV_EXPOSURE, IA_SEV_WARNING,
				"exposure.unrelated_pages");
	else
		ck_finding_init(x, &f, IA_INV_EXPOSURE, IA_SEV_INFO, "exposure.sub_page");
	f.head = g.head;
	f.tail = g.tail;
	f.exposed_bytes = exposed;
	f.exposed_pages = g.pages;
	f.phys = g.lo;
	f.len = requested;
	if (p->pages.n)
		set_kinds(x, &g, &f, true);
	snprintf(f.message, sizeof(f.message),
		 "%s of %" PRIu64 " bytes at phys 0x%" PRIx64 ": %" PRIu64
		 " more bytes reachable (head %" PRIu64 ", tail %" PRIu64 "; %" PRIu64
		 " whole unrelated pages%s), granule %" PRIu64,
		 ia_req_kind_str(x->req->kind), (uint64_t)requested, (uint64_t)g.lo,
		 (uint64_t)exposed, (uint64_t)g.head, (uint64_t)g.tail, (uint64_t)g.pages,
		 p->bounced ? "; bounced" : "", (uint64_t)x->granule);
	ck_report(x->c, &f);
	if (g.sensitive)
		report_sensitive(x, &g, &f);
}

const struct ck_invariant ck_inv_exposure = {
	.name = "exposure",
	.map = exposure_map,
};
