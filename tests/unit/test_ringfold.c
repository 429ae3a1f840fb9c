// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the unfolding of the ring buffer's folded records
 * (user/live/ringfold.c). Each row is a ring record and the records that
 * must come out, written out field by field as the tracepoint programs
 * sent them before the fold (bpf/pgtable.bpf.c at 4f359fd: pt_emit() with
 * domain NULL, the tracepoint's arguments, result 0 or the bytes
 * unmapped, prot 0), and the write's own record without the flag; a
 * bundle's two records as pt_emit() and ia_iova_emit() (release.bpf.h)
 * sent them; a map's bundle's three as pt_emit() and req_reserve()
 * (bpf/requests.bpf.c at 87d1ec5) sent them: the nested __iommu_dma_map's
 * record, then the map's; an unmap's bundle's three as the bundle of its
 * removal and release and the unmap's own record at its exit (unmap_done()
 * at e615bc3) sent them.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "live/ringfold.h"

#define MAXOUT	5

union rec {
	struct ia_ev_hdr hdr;
	struct ia_ev_pt pt;
	struct ia_ev_iova_free rel;
	struct ia_ev_bundle b;
	struct ia_ev_req req;
	struct ia_ev_req_bundle mb;
	struct ia_ev_unmap_bundle ub;
};

struct out {
	int n;
	int fail_at;		/* fn returns -5 at this call (1-based); 0: never */
	union rec rec[MAXOUT];
	size_t len[MAXOUT];
};

static int collect(void *ctx, const struct ia_ev_hdr *rec, size_t len)
{
	struct out *o = ctx;

	if (o->n >= MAXOUT)
		return -1;
	memset(&o->rec[o->n], 0, sizeof(o->rec[0]));
	memcpy(&o->rec[o->n], rec, len < sizeof(o->rec[0]) ? len : sizeof(o->rec[0]));
	o->len[o->n] = len;
	o->n++;
	return o->fail_at && o->n == o->fail_at ? -5 : 0;
}

/* the header every record of the rows has: one CPU, task, time, request */
static struct ia_ev_hdr hdr(__u16 type, __u16 size, __u32 flags)
{
	struct ia_ev_hdr h = { .type = type, .size = size, .cpu = 1, .ts_ns = 5000,
			       .req_id = 42, .pid = 77, .flags = flags };
	return h;
}

static struct ia_ev_pt pt(__u16 type, __u32 flags, __u64 dom, __u64 iova, __u64 paddr,
			  __u64 size, __u64 result, __u32 prot)
{
	struct ia_ev_pt e = { .hdr = hdr(type, sizeof(e), flags), .domain = dom, .iova = iova,
			      .paddr = paddr, .size = size, .result = result, .prot = prot };
	return e;
}

static struct ia_ev_iova_free rel(__u32 flags, __u64 iova, __u64 size)
{
	struct ia_ev_iova_free e = { .hdr = hdr(IA_EV_IOVA_FREE, sizeof(e), flags),
				     .dev = 0xffff888001230000ull,
				     .domain = 0xffff888012340000ull, .iova = iova, .size = size };
	return e;
}

/* a row's record: P a write's, R a release's, zero past it */
static union rec P(struct ia_ev_pt e)
{
	union rec r = { 0 };

	r.pt = e;
	return r;
}

static union rec R(struct ia_ev_iova_free e)
{
	union rec r = { 0 };

	r.rel = e;
	return r;
}

/* a bundle as iova_unmap_done() (bpf/flush.bpf.c) makes it */
static union rec B(struct ia_ev_pt p, struct ia_ev_iova_free q)
{
	union rec r = { 0 };

	r.b.hdr = q.hdr;
	r.b.hdr.type = IA_EV_BUNDLE;
	r.b.hdr.size = sizeof(r.b);
	r.b.hdr.flags = 0;
	r.b.pt = p;
	r.b.rel = q;
	return r;
}

/* a request's record: kind, its own and its parent's id, what it asked
 * for and got */
static struct ia_ev_req req(__u32 kind, __u64 id, __u64 parent, __u64 phys, __u64 size,
			    __u64 dma, __u64 attrs, __u64 gfp)
{
	struct ia_ev_req e = { .hdr = hdr(IA_EV_REQ, sizeof(e), 0), .dev = 0xffff888001230000ull,
			       .parent_id = parent, .phys = phys, .size = size, .dma = dma,
			       .attrs = attrs, .gfp = gfp, .entry_ns = 4000, .kind = kind,
			       .dir = kind == IA_REQ_MAP_PAGE ? 1 : 0, .stack_id = 3 };

	e.hdr.req_id = id;
	return e;
}

static union rec Q(struct ia_ev_req e)
{
	union rec r = { 0 };

	r.req = e;
	return r;
}

/* a bundle whose reservation is a request's record (own): its header
 * says the bundle's type and size (struct ia_ev_req_bundle and struct
 * ia_ev_unmap_bundle both begin with it) */
static union rec own_req(struct ia_ev_req own, __u16 type, __u16 size)
{
	union rec r = { 0 };

	r.req = own;
	r.req.hdr.type = type;
	r.req.hdr.size = size;
	return r;
}

/* a map's bundle as req_bundle() (bpf/requests.bpf.c) makes it */
static union rec MB(struct ia_ev_pt p, struct ia_ev_req inner, struct ia_ev_req outer)
{
	union rec r = own_req(outer, IA_EV_REQ_BUNDLE, sizeof(struct ia_ev_req_bundle));

	r.mb.pt = p;
	r.mb.inner = inner;
	return r;
}

/* an unmap's bundle as unmap_bundle() (bpf/flush.bpf.c) makes it */
static union rec UB(struct ia_ev_pt p, struct ia_ev_iova_free q, struct ia_ev_req own)
{
	union rec r = own_req(own, IA_EV_UNMAP_BUNDLE, sizeof(struct ia_ev_unmap_bundle));

	r.ub.pt = p;
	r.ub.rel = q;
	return r;
}

#define UNMAPREQ(id)	req(IA_REQ_UNMAP_PAGE, id, 0, 0, 8192, 0xffffe200, 0, 0)
#define MAPREQ(id)	req(IA_REQ_MAP_PAGE, id, 0, 0x12345010, 100, 0xfffff010, 0, 0)
#define NESTED(id)	req(IA_REQ_IOMMU_MAP, id, 41, 0x12345010, 100, 0xfffff010, 3, \
			    0xffffffffull)

struct row {
	const char *what;
	union rec in;
	size_t len;
	int fail_at;
	int ret;		/* expected */
	int n;
	union rec out[4];
};

#define DOM	0xffff888012340000ull
#define F	IA_PT_TP_FOLDED

static void test_rows(void **state)
{
	const struct row rows[] = {
		{ "folded map: the tracepoint's record, then the write's",
		  P(pt(IA_EV_PT_MAP, F, DOM, 0xfffff000, 0x12345000, 4096, 0, 3)), sizeof(struct ia_ev_pt), 0,
		  0, 2, { P(pt(IA_EV_TP_MAP, 0, 0, 0xfffff000, 0x12345000, 4096, 0, 0)),
			  P(pt(IA_EV_PT_MAP, 0, DOM, 0xfffff000, 0x12345000, 4096, 0, 3)) } },
		{ "folded unmap: no paddr, the bytes unmapped as its result",
		  P(pt(IA_EV_PT_UNMAP, F, DOM, 0xffffe000, 0, 8192, 8192, 0)), sizeof(struct ia_ev_pt), 0,
		  0, 2, { P(pt(IA_EV_TP_UNMAP, 0, 0, 0xffffe000, 0, 8192, 8192, 0)),
			  P(pt(IA_EV_PT_UNMAP, 0, DOM, 0xffffe000, 0, 8192, 8192, 0)) } },
		{ "unattributed folded map keeps its other flag on both",
		  P(pt(IA_EV_PT_MAP, F | IA_PT_UNATTRIBUTED, DOM, 0x1000, 0x2000, 4096, 0, 1)),
		  sizeof(struct ia_ev_pt), 0,
		  0, 2, { P(pt(IA_EV_TP_MAP, IA_PT_UNATTRIBUTED, 0, 0x1000, 0x2000, 4096, 0, 0)),
			  P(pt(IA_EV_PT_MAP, IA_PT_UNATTRIBUTED, DOM, 0x1000, 0x2000, 4096, 0, 1)) } },
		{ "a write not folded passes as it is",
		  P(pt(IA_EV_PT_MAP, 0, DOM, 0x1000, 0x2000, 4096, (__u64)-22, 3)), sizeof(struct ia_ev_pt), 0,
		  0, 1, { P(pt(IA_EV_PT_MAP, 0, DOM, 0x1000, 0x2000, 4096, (__u64)-22, 3)) } },
		{ "a tracepoint's own record passes as it is",
		  P(pt(IA_EV_TP_UNMAP, 0, 0, 0x1000, 0, 4096, 4096, 0)), sizeof(struct ia_ev_pt), 0,
		  0, 1, { P(pt(IA_EV_TP_UNMAP, 0, 0, 0x1000, 0, 4096, 4096, 0)) } },
		{ "the flag on another type is not a fold",
		  P(pt(IA_EV_TP_MAP, F, 0, 0x1000, 0x2000, 4096, 0, 0)), sizeof(struct ia_ev_pt), 0,
		  0, 1, { P(pt(IA_EV_TP_MAP, F, 0, 0x1000, 0x2000, 4096, 0, 0)) } },
		{ "a short sample passes untouched (the consumer rejects it)",
		  P(pt(IA_EV_PT_MAP, F, DOM, 0x1000, 0x2000, 4096, 0, 3)), 40, 0,
		  0, 1, { P(pt(IA_EV_PT_MAP, F, DOM, 0x1000, 0x2000, 4096, 0, 3)) } },
		{ "an error on the tracepoint's record stops there",
		  P(pt(IA_EV_PT_MAP, F, DOM, 0x1000, 0x2000, 4096, 0, 3)), sizeof(struct ia_ev_pt), 1,
		  -5, 1, { P(pt(IA_EV_TP_MAP, 0, 0, 0x1000, 0x2000, 4096, 0, 0)) } },
		{ "an error on the write's record is returned",
		  P(pt(IA_EV_PT_UNMAP, F, DOM, 0x1000, 0, 4096, 4096, 0)), sizeof(struct ia_ev_pt), 2,
		  -5, 2, { P(pt(IA_EV_TP_UNMAP, 0, 0, 0x1000, 0, 4096, 4096, 0)),
			   P(pt(IA_EV_PT_UNMAP, 0, DOM, 0x1000, 0, 4096, 4096, 0)) } },
		{ "bundle: the removal (its tracepoint unfolded) and the release",
		  B(pt(IA_EV_PT_UNMAP, F, DOM, 0xffffe000, 0, 8192, 8192, 0), rel(IA_IOVA_QUEUED, 0xffffe200, 7680)),
		  sizeof(struct ia_ev_bundle), 0,
		  0, 3, { P(pt(IA_EV_TP_UNMAP, 0, 0, 0xffffe000, 0, 8192, 8192, 0)),
			  P(pt(IA_EV_PT_UNMAP, 0, DOM, 0xffffe000, 0, 8192, 8192, 0)),
			  R(rel(IA_IOVA_QUEUED, 0xffffe200, 7680)) } },
		{ "bundle without a folded tracepoint: two records",
		  B(pt(IA_EV_PT_UNMAP, 0, DOM, 0x3000, 0, 4096, 4096, 0), rel(0, 0x3000, 4096)),
		  sizeof(struct ia_ev_bundle), 0,
		  0, 2, { P(pt(IA_EV_PT_UNMAP, 0, DOM, 0x3000, 0, 4096, 4096, 0)), R(rel(0, 0x3000, 4096)) } },
		{ "a bundle whose inner records are not its layout's passes as it is",
		  B(pt(IA_EV_PT_MAP, 0, DOM, 0x3000, 0x5000, 4096, 0, 3), rel(0, 0x3000, 4096)),
		  sizeof(struct ia_ev_bundle), 0,
		  0, 1, { B(pt(IA_EV_PT_MAP, 0, DOM, 0x3000, 0x5000, 4096, 0, 3), rel(0, 0x3000, 4096)) } },
		{ "an error on a bundle's removal stops before its release",
		  B(pt(IA_EV_PT_UNMAP, 0, DOM, 0x3000, 0, 4096, 4096, 0), rel(0, 0x3000, 4096)),
		  sizeof(struct ia_ev_bundle), 1,
		  -5, 1, { P(pt(IA_EV_PT_UNMAP, 0, DOM, 0x3000, 0, 4096, 4096, 0)) } },
		{ "map bundle: the write (its tracepoint unfolded), the nested request, the map",
		  MB(pt(IA_EV_PT_MAP, F, DOM, 0xfffff000, 0x12345000, 4096, 0, 3), NESTED(42), MAPREQ(41)),
		  sizeof(struct ia_ev_req_bundle), 0,
		  0, 4, { P(pt(IA_EV_TP_MAP, 0, 0, 0xfffff000, 0x12345000, 4096, 0, 0)),
			  P(pt(IA_EV_PT_MAP, 0, DOM, 0xfffff000, 0x12345000, 4096, 0, 3)),
			  Q(NESTED(42)), Q(MAPREQ(41)) } },
		{ "map bundle without a folded tracepoint: three records",
		  MB(pt(IA_EV_PT_MAP, 0, DOM, 0xfffff000, 0x12345000, 4096, 0, 1), NESTED(42), MAPREQ(41)),
		  sizeof(struct ia_ev_req_bundle), 0,
		  0, 3, { P(pt(IA_EV_PT_MAP, 0, DOM, 0xfffff000, 0x12345000, 4096, 0, 1)),
			  Q(NESTED(42)), Q(MAPREQ(41)) } },
		{ "a map bundle whose write is a removal passes as it is",
		  MB(pt(IA_EV_PT_UNMAP, 0, DOM, 0x3000, 0, 4096, 4096, 0), NESTED(42), MAPREQ(41)),
		  sizeof(struct ia_ev_req_bundle), 0,
		  0, 1, { MB(pt(IA_EV_PT_UNMAP, 0, DOM, 0x3000, 0, 4096, 4096, 0), NESTED(42), MAPREQ(41)) } },
		{ "a map bundle cut short passes as it is",
		  MB(pt(IA_EV_PT_MAP, 0, DOM, 0x3000, 0x5000, 4096, 0, 1), NESTED(42), MAPREQ(41)),
		  sizeof(struct ia_ev_req), 0,
		  0, 1, { MB(pt(IA_EV_PT_MAP, 0, DOM, 0x3000, 0x5000, 4096, 0, 1), NESTED(42), MAPREQ(41)) } },
		{ "an error on a map bundle's nested request stops before the map's",
		  MB(pt(IA_EV_PT_MAP, 0, DOM, 0x3000, 0x5000, 4096, 0, 1), NESTED(42), MAPREQ(41)),
		  sizeof(struct ia_ev_req_bundle), 2,
		  -5, 2, { P(pt(IA_EV_PT_MAP, 0, DOM, 0x3000, 0x5000, 4096, 0, 1)), Q(NESTED(42)) } },
		{ "unmap bundle: the removal (its tracepoint unfolded), the release, the unmap",
		  UB(pt(IA_EV_PT_UNMAP, F, DOM, 0xffffe000, 0, 8192, 8192, 0),
		     rel(IA_IOVA_QUEUED, 0xffffe200, 8192), UNMAPREQ(42)),
		  sizeof(struct ia_ev_unmap_bundle), 0,
		  0, 4, { P(pt(IA_EV_TP_UNMAP, 0, 0, 0xffffe000, 0, 8192, 8192, 0)),
			  P(pt(IA_EV_PT_UNMAP, 0, DOM, 0xffffe000, 0, 8192, 8192, 0)),
			  R(rel(IA_IOVA_QUEUED, 0xffffe200, 8192)), Q(UNMAPREQ(42)) } },
		{ "unmap bundle without a folded tracepoint: three records",
		  UB(pt(IA_EV_PT_UNMAP, 0, DOM, 0x3000, 0, 4096, 4096, 0), rel(0, 0x3000, 4096),
		     UNMAPREQ(42)),
		  sizeof(struct ia_ev_unmap_bundle), 0,
		  0, 3, { P(pt(IA_EV_PT_UNMAP, 0, DOM, 0x3000, 0, 4096, 4096, 0)),
			  R(rel(0, 0x3000, 4096)), Q(UNMAPREQ(42)) } },
		{ "an unmap bundle whose write is a map passes as it is",
		  UB(pt(IA_EV_PT_MAP, 0, DOM, 0x3000, 0x5000, 4096, 0, 3), rel(0, 0x3000, 4096),
		     UNMAPREQ(42)),
		  sizeof(struct ia_ev_unmap_bundle), 0,
		  0, 1, { UB(pt(IA_EV_PT_MAP, 0, DOM, 0x3000, 0x5000, 4096, 0, 3), rel(0, 0x3000, 4096),
			     UNMAPREQ(42)) } },
		{ "an unmap bundle cut short passes as it is",
		  UB(pt(IA_EV_PT_UNMAP, 0, DOM, 0x3000, 0, 4096, 4096, 0), rel(0, 0x3000, 4096),
		     UNMAPREQ(42)),
		  sizeof(struct ia_ev_req) + 8, 0,
		  0, 1, { UB(pt(IA_EV_PT_UNMAP, 0, DOM, 0x3000, 0, 4096, 4096, 0), rel(0, 0x3000, 4096),
			     UNMAPREQ(42)) } },
		{ "an error on an unmap bundle's release stops before the unmap's record",
		  UB(pt(IA_EV_PT_UNMAP, 0, DOM, 0x3000, 0, 4096, 4096, 0), rel(0, 0x3000, 4096),
		     UNMAPREQ(42)),
		  sizeof(struct ia_ev_unmap_bundle), 2,
		  -5, 2, { P(pt(IA_EV_PT_UNMAP, 0, DOM, 0x3000, 0, 4096, 4096, 0)),
			   R(rel(0, 0x3000, 4096)) } },
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct out o = { .fail_at = r->fail_at };
		int ret = ia_ringfold(&r->in.hdr, r->len, collect, &o);
		bool ok = ret == r->ret && o.n == r->n;

		for (int k = 0; ok && k < r->n; k++) {
			/* a record passed as it is: its length; else each its size */
			size_t want = r->n == 1 && r->len != sizeof(struct ia_ev_bundle) &&
				      r->len != sizeof(struct ia_ev_req_bundle) &&
				      r->len != sizeof(struct ia_ev_unmap_bundle) ? r->len :
				      r->out[k].hdr.size;

			ok = o.len[k] == want && !memcmp(&o.rec[k], &r->out[k], want);
		}
		printf("%s - %s: ret %d (expected %d), %d record(s) (expected %d)\n",
		       ok ? "ok" : "not ok", r->what, ret, r->ret, o.n, r->n);
		for (int k = 0; !ok && k < o.n; k++)
			printf("#   out %d: type %u flags 0x%x domain 0x%llx iova 0x%llx paddr 0x%llx "
			       "size %llu result %lld prot %u\n", k, o.rec[k].hdr.type, o.rec[k].hdr.flags,
			       (unsigned long long)o.rec[k].pt.domain, (unsigned long long)o.rec[k].pt.iova,
			       (unsigned long long)o.rec[k].pt.paddr, (unsigned long long)o.rec[k].pt.size,
			       (long long)o.rec[k].pt.result, o.rec[k].pt.prot);
		bad += !ok;
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
