// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the per-device summary (user/check/devstats.c): synthetic records
 * in the order the BPF programs emit them, and the rows and counters worked
 * out by hand.
 *
 * Ordering as in the kernel: a device context record comes at the root
 * request's fentry; page-table writes and scatterlist input walks happen
 * inside the call and carry the innermost request's id; the request record
 * itself is emitted at fexit, so after them; nested requests end (and are
 * emitted) before their parent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "check/devstats.h"
#include "lib/json.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define EXPECT_U64(what, got, want) do {					\
	unsigned long long _g = (got), _w = (want);				\
	if (_g != _w)								\
		fail_msg("%s: got %llu (0x%llx), want %llu (0x%llx)", (what),	\
			 _g, _g, _w, _w);					\
} while (0)

#define EXPECT_STR(what, got, want) do {					\
	const char *_g = (got), *_w = (want);					\
	if (!_g || strcmp(_g, _w))						\
		fail_msg("%s: got \"%s\", want \"%s\"", (what),			\
			 _g ? _g : "(null)", _w);				\
} while (0)

/* ---- per-test state, released by the teardown even after a failure ---- */

static struct ia_devstats g_ds;
static struct ia_dev_row **g_rows;
static char *g_text;
static FILE *g_f;

static int setup(void **state)
{
	ia_devstats_init(&g_ds);
	return 0;
}

static int teardown(void **state)
{
	if (g_f)
		fclose(g_f);
	free(g_text);
	free(g_rows);
	ia_devstats_free(&g_ds);
	g_f = NULL;
	g_text = NULL;
	g_rows = NULL;
	return 0;
}

/* ---- record builders ---- */

#define DEV_A	0xffff888100a0c000ULL	/* struct device * values */
#define DEV_B	0xffff888100b0c000ULL
#define DEV_C	0xffff888100c0c000ULL
#define DOM_A	0xffff888200001000ULL	/* struct iommu_domain * */
#define DOM_B	0xffff888200002000ULL
#define ENOMEM_RESULT ((__u64)(__s64)-ENOMEM)

static __u64 g_ts = 1000;

static void hdr(struct ia_ev_hdr *h, __u16 type, __u16 size, __u64 req_id, __u32 flags)
{
	h->type = type;
	h->size = size;
	h->cpu = 1;
	h->ts_ns = g_ts += 100;
	h->req_id = req_id;
	h->pid = 4242;
	h->flags = flags;
}

static void add(const void *rec)
{
	const struct ia_ev_hdr *h = rec;

	ia_devstats_add(&g_ds, h, h->size);
}

static void ev_device(__u64 dev, const char *name, const char *driver, __u32 flags,
		      __u32 domain_type, __u64 domain, __u64 granule)
{
	struct ia_ev_device e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, IA_EV_DEVICE, sizeof(e), 0, flags);
	e.dev = dev;
	e.domain = domain;
	e.cookie = domain + 0x800;
	e.granule = granule;
	e.pgsize_bitmap = 0x40201000;
	e.dma_mask = 0xffffffffffffULL;
	e.coherent_dma_mask = 0xffffffffULL;
	e.seg_boundary = 0xffffffff;
	e.max_seg_size = 65536;
	e.domain_type = domain_type;
	e.page_size = 4096;
	e.group_id = 7;
	snprintf(e.name, sizeof(e.name), "%s", name);
	snprintf(e.driver, sizeof(e.driver), "%s", driver);
	snprintf(e.bus, sizeof(e.bus), "pci");
	add(&e);
}

static void ev_req(__u64 id, __u64 dev, __u32 kind, __u64 parent, __u64 size, __u32 flags)
{
	struct ia_ev_req e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, IA_EV_REQ, sizeof(e), id, flags);
	e.dev = dev;
	e.parent_id = parent;
	e.phys = 0x100000000ULL + id * 0x1000;
	e.size = size;
	e.dma = flags & IA_REQ_F_FAILED ? ~0ULL : 0xfffff000ULL - id * 0x1000;
	e.entry_ns = e.hdr.ts_ns - 50;
	e.kind = kind;
	e.dir = 1;
	e.stack_id = -1;
	add(&e);
}

static void ev_pt(__u16 type, __u64 req_id, __u64 domain, __u64 size, __u64 result)
{
	struct ia_ev_pt e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, type, sizeof(e), req_id, req_id ? 0 : IA_PT_UNATTRIBUTED);
	e.domain = domain;
	e.iova = 0xfff00000ULL;
	e.paddr = type == IA_EV_PT_MAP || type == IA_EV_TP_MAP ? 0x200000000ULL : 0;
	e.size = size;
	e.result = result;
	e.prot = 3;
	add(&e);
}

static void ev_sg(__u64 req_id, __u32 flags, __u32 first, __u32 count, const __u32 *lens,
		  int nlens)
{
	struct ia_ev_sg e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, IA_EV_SG, sizeof(e), req_id, flags);
	e.first = first;
	e.count = count;
	for (int i = 0; i < nlens && i < IA_SG_CHUNK; i++) {
		e.segs[i].phys = 0x300000000ULL + i * 0x10000;
		e.segs[i].len = lens[i];
		e.segs[i].dma = flags & IA_SG_OUTPUT ? 0xffe00000ULL + i * 0x10000 : 0;
		e.segs[i].dma_len = flags & IA_SG_OUTPUT ? lens[i] : 0;
	}
	add(&e);
}

static void ev_iova_free(__u64 dev, __u64 domain, bool queued)
{
	struct ia_ev_iova_free e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, IA_EV_IOVA_FREE, sizeof(e), 0, queued ? IA_IOVA_QUEUED : 0);
	e.dev = dev;
	e.domain = domain;
	e.iova = 0xffff0000;
	e.size = 4096;
	add(&e);
}

static void ev_bounce(__u64 req_id, __u64 dev)
{
	struct ia_ev_bounce e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, IA_EV_BOUNCE, sizeof(e), req_id, 0);
	e.dev = dev;
	e.orig_phys = 0x123456;
	e.tlb_phys = 0x7000000;
	e.mapping_size = 100;
	e.alloc_size = 4096;
	add(&e);
}

static void ev_fq_flush(void)
{
	struct ia_ev_fq_flush e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, IA_EV_FQ_FLUSH, sizeof(e), 0, 0);
	e.cookie = DOM_A + 0x800;
	add(&e);
}

/* ---- row checks ---- */

struct want_row {
	__u64 maps, unmaps, bytes_requested, req_failed;
	__u64 pt_maps, pt_map_bytes, pt_map_failed, pt_unmaps, pt_unmap_bytes;
	__u64 bounces, iova_queued, iova_strict;
};

static struct ia_dev_row *row(__u64 dev)
{
	struct ia_dev_row *r = ia_u64map_get(&g_ds.devs, dev);

	if (!r)
		fail_msg("no row for device 0x%llx", (unsigned long long)dev);
	return r;
}

#define CHECK_FIELD(f) do {							\
	snprintf(what, sizeof(what), "%s: row %s: " #f, ctx, r->ctx.name);	\
	EXPECT_U64(what, r->f, w->f);						\
} while (0)

static void check_row(const char *ctx, __u64 dev, const struct want_row *w)
{
	const struct ia_dev_row *r = row(dev);
	char what[160];

	CHECK_FIELD(maps);
	CHECK_FIELD(unmaps);
	CHECK_FIELD(bytes_requested);
	CHECK_FIELD(req_failed);
	CHECK_FIELD(pt_maps);
	CHECK_FIELD(pt_map_bytes);
	CHECK_FIELD(pt_map_failed);
	CHECK_FIELD(pt_unmaps);
	CHECK_FIELD(pt_unmap_bytes);
	CHECK_FIELD(bounces);
	CHECK_FIELD(iova_queued);
	CHECK_FIELD(iova_strict);
}

/* Request counts by kind: all kinds listed in want (kind, count), others 0. */
static void check_kinds(const char *ctx, __u64 dev, const __u32 (*want)[2], size_t n)
{
	const struct ia_dev_row *r = row(dev);
	char what[160];

	for (__u32 k = 0; k < IA_REQ_KIND_MAX; k++) {
		__u64 c = 0;

		for (size_t i = 0; i < n; i++)
			if (want[i][0] == k)
				c = want[i][1];
		snprintf(what, sizeof(what), "%s: row %s: req[%s]", ctx, r->ctx.name,
			 ia_req_kind_str(k));
		EXPECT_U64(what, r->req[k], c);
	}
}

struct want_totals {
	__u64 records, bad_records, pt_in_request, pt_credited, pt_unattributed;
	__u64 fq_flushes, devs, pending, unattr;
};

#define CHECK_TOTAL(f, got) do {						\
	snprintf(what, sizeof(what), "%s: " #f, ctx);				\
	EXPECT_U64(what, got, w->f);						\
} while (0)

static void check_totals(const char *ctx, const struct want_totals *w)
{
	char what[128];

	CHECK_TOTAL(records, g_ds.records);
	CHECK_TOTAL(bad_records, g_ds.bad_records);
	CHECK_TOTAL(pt_in_request, g_ds.pt_in_request);
	CHECK_TOTAL(pt_credited, g_ds.pt_credited);
	CHECK_TOTAL(pt_unattributed, g_ds.pt_unattributed);
	CHECK_TOTAL(fq_flushes, g_ds.fq_flushes);
	CHECK_TOTAL(devs, g_ds.devs.len);
	CHECK_TOTAL(pending, g_ds.pending.len);
	CHECK_TOTAL(unattr, g_ds.unattr.len);
	snprintf(what, sizeof(what), "%s: oom", ctx);
	EXPECT_U64(what, g_ds.oom, 0);
}

/* JSON of the summary, as the devices command writes it. */
static const char *json_text(bool pretty)
{
	struct ia_json j;
	size_t len;

	free(g_text);
	g_text = NULL;
	g_f = open_memstream(&g_text, &len);
	assert_non_null(g_f);
	ia_json_init(&j, g_f, pretty);
	ia_json_obj_begin(&j);
	ia_devstats_json(&g_ds, &j);
	ia_json_close_all(&j);
	fclose(g_f);
	g_f = NULL;
	return g_text;
}

static const char *print_text(void)
{
	size_t len;

	free(g_text);
	g_text = NULL;
	g_f = open_memstream(&g_text, &len);
	assert_non_null(g_f);
	ia_devstats_print(&g_ds, g_f);
	fclose(g_f);
	g_f = NULL;
	return g_text;
}

static void expect_contains(const char *what, const char *text, const char *const *subs,
			    size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strstr(text, subs[i]))
			fail_msg("%s: \"%s\" not found in:\n%s", what, subs[i], text);
}

#include "json_valid.h"

static void expect_valid_json(const char *what, const char *s)
{
	if (!json_valid(s))
		fail_msg("%s: not valid JSON:\n%s", what, s);
}

/* ---- tests ---- */

/*
 * map_page: context, then the page-table writes (inside the call), then the
 * request record (fexit). Then the unmap, the same way.
 */
static void test_map_page_writes_before_record(void **state)
{
	static const __u32 kinds[][2] = { { IA_REQ_MAP_PAGE, 1 }, { IA_REQ_UNMAP_PAGE, 1 } };
	const struct want_row w = {
		.maps = 1, .unmaps = 1, .bytes_requested = 8192,
		.pt_maps = 2, .pt_map_bytes = 8192,
		.pt_unmaps = 1, .pt_unmap_bytes = 8192,
		.iova_queued = 1,
	};
	const struct want_totals t = {
		.records = 7, .pt_in_request = 3, .pt_credited = 3, .devs = 1,
	};
	const struct ia_dev_row *r;

	ev_device(DEV_A, "0000:00:03.0", "nvme", IA_DEV_PCI, IA_DOMAIN_DMA_FQ, DOM_A, 4096);
	ev_pt(IA_EV_PT_MAP, 7, DOM_A, 4096, 0);
	ev_pt(IA_EV_PT_MAP, 7, DOM_A, 4096, 0);
	/* before the record, the writes wait under their request id */
	EXPECT_U64("pending before the record", g_ds.pending.len, 1);
	EXPECT_U64("row pt_maps before the record", row(DEV_A)->pt_maps, 0);
	ev_req(7, DEV_A, IA_REQ_MAP_PAGE, 0, 8192, 0);
	EXPECT_U64("pending after the record", g_ds.pending.len, 0);
	ev_pt(IA_EV_PT_UNMAP, 8, DOM_A, 8192, 8192);
	ev_req(8, DEV_A, IA_REQ_UNMAP_PAGE, 0, 8192, 0);
	ev_iova_free(DEV_A, DOM_A, true);	/* unrelated to requests: see its test */
	check_row("map_page", DEV_A, &w);
	check_kinds("map_page", DEV_A, kinds, N(kinds));
	check_totals("map_page", &t);
	r = row(DEV_A);
	EXPECT_STR("name", r->ctx.name, "0000:00:03.0");
	EXPECT_STR("driver", r->ctx.driver, "nvme");
	EXPECT_U64("ctx.domain", r->ctx.domain, DOM_A);
	EXPECT_U64("ctx_changes", r->ctx_changes, 0);
	EXPECT_U64("per_type[PT_MAP]", g_ds.per_type[IA_EV_PT_MAP], 2);
	EXPECT_U64("per_type[PT_UNMAP]", g_ds.per_type[IA_EV_PT_UNMAP], 1);
	EXPECT_U64("per_type[REQ]", g_ds.per_type[IA_EV_REQ], 2);
	EXPECT_U64("per_type[DEVICE]", g_ds.per_type[IA_EV_DEVICE], 1);
	{
		static const char *const subs[] = {
			"\"attribution_pct\":100.00", "\"pt_in_request\":3",
			"\"pt_attributed\":3", "\"pt_unattributed\":0",
		};
		const char *js = json_text(false);

		expect_valid_json("map_page json", js);
		expect_contains("map_page json", js, subs, N(subs));
	}
}

/*
 * map_page -> __iommu_dma_map: the page-table write carries the inner id;
 * the inner record (parent = outer id) comes first. Only the root counts as
 * a map, with the root's size.
 */
static void test_nested_requests(void **state)
{
	static const __u32 kinds[][2] = {
		{ IA_REQ_MAP_PAGE, 2 }, { IA_REQ_IOMMU_MAP, 2 }, { IA_REQ_SYNC_SINGLE_DEV, 1 },
	};
	const struct want_row w = {
		.maps = 2, .bytes_requested = 100 + 12288,
		.pt_maps = 3, .pt_map_bytes = 4096 + 8192 + 4096,
	};
	const struct want_totals t = {
		.records = 13, .pt_in_request = 3, .pt_credited = 3, .devs = 1,
		.fq_flushes = 2,
	};

	ev_device(DEV_A, "0000:00:03.0", "nvme", IA_DEV_PCI, IA_DOMAIN_DMA, DOM_A, 4096);
	/* 1: map_page(100 bytes) -> __iommu_dma_map(4096): one write */
	ev_pt(IA_EV_PT_MAP, 11, DOM_A, 4096, 0);
	ev_req(11, DEV_A, IA_REQ_IOMMU_MAP, 10, 4096, 0);
	ev_req(10, DEV_A, IA_REQ_MAP_PAGE, 0, 100, 0);
	/* 2: map_page(12288) -> sync (instant, inside) and __iommu_dma_map
	 * (two writes, 8K + 4K) */
	ev_req(21, DEV_A, IA_REQ_SYNC_SINGLE_DEV, 20, 12288, IA_REQ_F_ENTRY_ONLY);
	ev_pt(IA_EV_PT_MAP, 22, DOM_A, 8192, 0);
	ev_pt(IA_EV_PT_MAP, 22, DOM_A, 4096, 0);
	ev_req(22, DEV_A, IA_REQ_IOMMU_MAP, 20, 12288, 0);
	ev_req(20, DEV_A, IA_REQ_MAP_PAGE, 0, 12288, 0);
	/* a tracepoint cross-check record: counted by type only */
	ev_pt(IA_EV_TP_MAP, 22, 0, 4096, 0);
	ev_pt(IA_EV_TP_UNMAP, 0, 0, 4096, 4096);
	ev_fq_flush();
	ev_fq_flush();

	check_row("nested", DEV_A, &w);
	check_kinds("nested", DEV_A, kinds, N(kinds));
	check_totals("nested", &t);
	EXPECT_U64("per_type[TP_MAP]", g_ds.per_type[IA_EV_TP_MAP], 1);
	EXPECT_U64("per_type[TP_UNMAP]", g_ds.per_type[IA_EV_TP_UNMAP], 1);
	EXPECT_U64("per_type[FQ_FLUSH]", g_ds.per_type[IA_EV_FQ_FLUSH], 2);
}

/* map_sg: bytes from the input walk (IA_EV_SG without IA_SG_OUTPUT). */
static void test_map_sg(void **state)
{
	static const __u32 eight[8] = { 512, 512, 512, 512, 512, 512, 512, 512 };
	static const __u32 three[3] = { 1000, 2000, 3000 };
	static const __u32 out[2] = { 65536, 65536 };
	static const __u32 kinds[][2] = {
		{ IA_REQ_MAP_SG, 3 }, { IA_REQ_UNMAP_SG, 1 },
	};
	const struct want_row w = {
		.maps = 3, .unmaps = 1,
		/* 8 * 512 + 6000; then 8 * 512 (count clamped); then no walk:
		 * the record's size */
		.bytes_requested = 4096 + 6000 + 4096 + 777,
		.pt_maps = 2, .pt_map_bytes = 8192 + 4096,
		.pt_unmaps = 1, .pt_unmap_bytes = 12288,
	};

	ev_device(DEV_B, "0000:00:1f.2", "ahci", IA_DEV_PCI, IA_DOMAIN_DMA, DOM_B, 4096);
	/* 11 segments: a full chunk and a last chunk of 3 */
	ev_sg(30, 0, 0, 8, eight, 8);
	ev_sg(30, IA_SG_LAST_CHUNK, 8, 3, three, 3);
	ev_pt(IA_EV_PT_MAP, 30, DOM_B, 8192, 0);
	ev_pt(IA_EV_PT_MAP, 30, DOM_B, 4096, 0);
	ev_req(30, DEV_B, IA_REQ_MAP_SG, 0, 0, 0);
	/* the output walk comes after the record: ignored, nothing pending */
	ev_sg(30, IA_SG_OUTPUT | IA_SG_LAST_CHUNK, 0, 2, out, 2);
	EXPECT_U64("pending after the output walk", g_ds.pending.len, 0);
	/* a record whose count exceeds IA_SG_CHUNK: only segs[] is read */
	ev_sg(31, IA_SG_TRUNCATED | IA_SG_LAST_CHUNK, 0, 0xffffffffu, eight, 8);
	ev_req(31, DEV_B, IA_REQ_MAP_SG, 0, 0, 0);
	/* no walk seen (dropped): the record's size is all there is */
	ev_req(32, DEV_B, IA_REQ_MAP_SG, 0, 777, 0);
	/* unmap_sg: its removal, of fewer bytes than asked (result counts) */
	ev_pt(IA_EV_PT_UNMAP, 33, DOM_B, 16384, 12288);
	ev_req(33, DEV_B, IA_REQ_UNMAP_SG, 0, 0, 0);

	check_row("map_sg", DEV_B, &w);
	check_kinds("map_sg", DEV_B, kinds, N(kinds));
	check_totals("map_sg", &(struct want_totals){
		.records = 12, .pt_in_request = 3, .pt_credited = 3, .devs = 1 });
	EXPECT_U64("per_type[SG]", g_ds.per_type[IA_EV_SG], 4);
}

/* Failed requests: counted as failed, not as maps; their writes still are. */
static void test_failed_requests(void **state)
{
	static const __u32 lens[2] = { 4096, 4096 };
	static const __u32 kinds[][2] = {
		{ IA_REQ_MAP_PAGE, 2 }, { IA_REQ_MAP_SG, 1 }, { IA_REQ_ALLOC, 2 },
		{ IA_REQ_IOMMU_MAP, 1 },
	};
	const struct want_row w = {
		.maps = 2, .req_failed = 4, .bytes_requested = 65536 + 4096,
		/* map_page: a failed write; map_sg: one good write then a failed
		 * one; the good alloc: one write */
		.pt_maps = 4, .pt_map_bytes = 4096 + 65536, .pt_map_failed = 2,
		/* the failed map_sg rolled back its good write */
		.pt_unmaps = 1, .pt_unmap_bytes = 4096,
	};

	ev_device(DEV_A, "0000:00:03.0", "nvme", IA_DEV_PCI, IA_DOMAIN_DMA, DOM_A, 4096);
	/* map_page -> __iommu_dma_map, both fail */
	ev_pt(IA_EV_PT_MAP, 41, DOM_A, 4096, ENOMEM_RESULT);
	ev_req(41, DEV_A, IA_REQ_IOMMU_MAP, 40, 4096, IA_REQ_F_FAILED);
	ev_req(40, DEV_A, IA_REQ_MAP_PAGE, 0, 4096, IA_REQ_F_FAILED);
	/* map_sg fails after one write, rolls it back */
	ev_sg(42, IA_SG_LAST_CHUNK, 0, 2, lens, 2);
	ev_pt(IA_EV_PT_MAP, 42, DOM_A, 4096, 0);
	ev_pt(IA_EV_PT_MAP, 42, DOM_A, 4096, ENOMEM_RESULT);
	ev_pt(IA_EV_PT_UNMAP, 42, DOM_A, 4096, 4096);
	ev_req(42, DEV_A, IA_REQ_MAP_SG, 0, 0, IA_REQ_F_FAILED);
	/* coherent allocation fails without touching the page table */
	ev_req(43, DEV_A, IA_REQ_ALLOC, 0, 1 << 20, IA_REQ_F_FAILED);
	/* and succeeding ones */
	ev_pt(IA_EV_PT_MAP, 44, DOM_A, 65536, 0);
	ev_req(44, DEV_A, IA_REQ_ALLOC, 0, 65536, 0);
	ev_req(45, DEV_A, IA_REQ_MAP_PAGE, 0, 4096, 0);

	check_row("failed", DEV_A, &w);
	check_kinds("failed", DEV_A, kinds, N(kinds));
	check_totals("failed", &(struct want_totals){
		.records = 13, .pt_in_request = 5, .pt_credited = 5, .devs = 1 });
}

/* Page-table writes outside any request: grouped by domain. */
static void test_unattributed(void **state)
{
	static const struct {
		__u64 domain;
		__u64 pt_maps, pt_map_bytes, pt_unmaps, pt_unmap_bytes;
	} want[] = {
		{ DOM_A, 2, 8192, 1, 4096 },
		{ DOM_B, 4, (2 << 20) + 4096, 0, 0 },	/* one failed: no bytes */
		{ 0, 1, 4096, 1, 8192 },	/* no domain known */
	};
	size_t seen = 0;
	__u64 k;
	void *v;

	ev_pt(IA_EV_PT_MAP, 0, DOM_A, 4096, 0);
	ev_pt(IA_EV_PT_MAP, 0, DOM_B, 2 << 20, 0);
	ev_pt(IA_EV_PT_MAP, 0, DOM_A, 4096, 0);
	ev_pt(IA_EV_PT_UNMAP, 0, DOM_A, 8192, 4096);	/* only 4096 removed */
	ev_pt(IA_EV_PT_MAP, 0, DOM_B, 4096, (__u64)(__s64)-EINVAL);
	ev_pt(IA_EV_PT_MAP, 0, 0, 4096, 0);
	ev_pt(IA_EV_PT_UNMAP, 0, 0, 8192, 8192);
	ev_pt(IA_EV_PT_MAP, 0, DOM_B, 4096, 0);
	ev_pt(IA_EV_PT_MAP, 0, DOM_B, 0, 0);	/* size 0: still a write */

	check_totals("unattributed", &(struct want_totals){
		.records = 9, .pt_unattributed = 9, .unattr = 3 });
	for (size_t it = 0; ia_u64map_next(&g_ds.unattr, &it, &k, &v);) {
		const struct ia_unattributed *u = v;
		char what[96];
		size_t i;

		for (i = 0; i < N(want) && want[i].domain != u->domain; i++)
			;
		if (i == N(want))
			fail_msg("unexpected unattributed domain 0x%llx",
				 (unsigned long long)u->domain);
		seen++;
#define UF(f) do {								\
	snprintf(what, sizeof(what), "domain 0x%llx: " #f,			\
		 (unsigned long long)u->domain);				\
	EXPECT_U64(what, u->f, want[i].f);					\
} while (0)
		UF(pt_maps);
		UF(pt_map_bytes);
		UF(pt_unmaps);
		UF(pt_unmap_bytes);
#undef UF
	}
	EXPECT_U64("domains seen", seen, N(want));
	{
		static const char *const subs[] = {
			"\"unattributed\":[{", "\"domain\":\"0xffff888200002000\",\"pt_maps\":4,"
			"\"pt_map_bytes\":2101248,\"pt_unmaps\":0,\"pt_unmap_bytes\":0}",
			"\"domain\":\"0x0\",\"pt_maps\":1,\"pt_map_bytes\":4096,\"pt_unmaps\":1,"
			"\"pt_unmap_bytes\":8192}",
			"\"devices\":[]", "\"pt_unattributed\":9", "\"attribution_pct\":100.00",
		};
		const char *js = json_text(false);

		expect_valid_json("unattributed json", js);
		expect_contains("unattributed json", js, subs, N(subs));
	}
}

/* A request for a device whose context record was never seen. */
static void test_unknown_device(void **state)
{
	const struct ia_dev_row *r;
	char name[IA_NAME_LEN];

	ev_pt(IA_EV_PT_MAP, 50, DOM_A, 4096, 0);
	ev_req(50, DEV_C, IA_REQ_MAP_PAGE, 0, 4096, 0);
	ev_bounce(0, DEV_C);
	r = row(DEV_C);
	snprintf(name, sizeof(name), "dev@%llx", (unsigned long long)DEV_C);
	EXPECT_STR("name", r->ctx.name, name);
	EXPECT_STR("name, literally", r->ctx.name, "dev@ffff888100c0c000");
	EXPECT_U64("ctx.dev", r->ctx.dev, DEV_C);
	EXPECT_STR("driver", r->ctx.driver, "");
	check_row("unknown device", DEV_C, &(struct want_row){
		.maps = 1, .bytes_requested = 4096, .pt_maps = 1, .pt_map_bytes = 4096,
		.bounces = 1 });
	check_totals("unknown device", &(struct want_totals){
		.records = 3, .pt_in_request = 1, .pt_credited = 1, .devs = 1 });
	{
		static const char *const subs[] = {
			"\"name\":\"dev@ffff888100c0c000\"", "\"driver\":\"\"",
			"\"dev\":\"0xffff888100c0c000\"",
		};
		const char *js = json_text(false);

		expect_valid_json("unknown device json", js);
		expect_contains("unknown device json", js, subs, N(subs));
	}
}

/*
 * Nothing is known of the domain of a device without context record: its
 * row must not claim a domain type (IA_DOMAIN_BLOCKED is 0, what a zeroed
 * context holds) nor an IOMMU group (group_id is -1 when there is none).
 */
static void test_unknown_device_context(void **state)
{
	const char *js, *txt, *line;

	ev_req(55, DEV_C, IA_REQ_MAP_PAGE, 0, 4096, 0);
	js = json_text(false);
	expect_valid_json("unknown device json", js);
	if (strstr(js, "\"domain_type\":\"blocked\""))
		fail_msg("device without context reported with a blocked domain:\n%s", js);
	if (strstr(js, "\"iommu_group\":0,"))
		fail_msg("device without context reported in IOMMU group 0:\n%s", js);
	txt = print_text();
	line = strstr(txt, "dev@ffff888100c0c000");
	if (!line)
		fail_msg("print: row dev@ffff888100c0c000 missing:\n%s", txt);
	if (strstr(line, "blocked"))
		fail_msg("print: device without context shown with a blocked domain:\n%s", txt);
}

/*
 * The context record of a device arrives after one of its requests (the
 * BPF side sends it again on the next request when the first could not be
 * reserved): the row takes the real name, and this is its first context
 * record, so no context change.
 */
static void test_context_after_request(void **state)
{
	const struct ia_dev_row *r;

	ev_req(60, DEV_C, IA_REQ_MAP_PAGE, 0, 4096, 0);
	ev_device(DEV_C, "0000:02:00.0", "e1000e", IA_DEV_PCI, IA_DOMAIN_DMA, DOM_B, 4096);
	ev_req(61, DEV_C, IA_REQ_MAP_PAGE, 0, 4096, 0);
	r = row(DEV_C);
	EXPECT_STR("name", r->ctx.name, "0000:02:00.0");
	EXPECT_STR("driver", r->ctx.driver, "e1000e");
	EXPECT_U64("maps", r->maps, 2);
	EXPECT_U64("devs", g_ds.devs.len, 1);
	EXPECT_U64("ctx_changes (context records after the first)", r->ctx_changes, 0);
}

/* Context changes: a later record replaces the context and is counted. */
static void test_context_changes(void **state)
{
	const struct ia_dev_row *r;

	ev_device(DEV_A, "0000:00:03.0", "", IA_DEV_PCI, IA_DOMAIN_IDENTITY, DOM_A, 0);
	ev_req(70, DEV_A, IA_REQ_MAP_PAGE, 0, 4096, 0);
	ev_device(DEV_A, "0000:00:03.0", "nvme", IA_DEV_PCI | IA_DEV_UNTRUSTED,
		  IA_DOMAIN_DMA_FQ, DOM_B, 4096);
	ev_device(DEV_A, "0000:00:03.0", "nvme", IA_DEV_PCI | IA_DEV_UNTRUSTED,
		  IA_DOMAIN_DMA, DOM_B, 16384);
	r = row(DEV_A);
	EXPECT_U64("ctx_changes", r->ctx_changes, 2);
	EXPECT_U64("ctx.domain_type", r->ctx.domain_type, IA_DOMAIN_DMA);
	EXPECT_U64("ctx.domain", r->ctx.domain, DOM_B);
	EXPECT_U64("ctx.granule", r->ctx.granule, 16384);
	EXPECT_STR("ctx.driver", r->ctx.driver, "nvme");
	EXPECT_U64("maps kept", r->maps, 1);
	{
		static const char *const subs[] = {
			"\"context_changes\":2", "\"untrusted\":true", "\"domain_type\":\"DMA\"",
			"\"granule\":16384", "\"iommu_group\":7", "\"bus\":\"pci\"",
			"\"driver\":\"nvme\"", "\"dma_mask\":\"0xffffffffffff\"",
			"\"coherent_dma_mask\":\"0xffffffff\"", "\"max_seg_size\":65536",
			"\"pgsize_bitmap\":\"0x40201000\"", "\"page_size\":4096",
		};
		const char *js = json_text(true);	/* pretty: same fields */
		char *flat = strdup(js), *p, *q;

		expect_valid_json("context json (pretty)", js);
		/* compare without the pretty spacing */
		for (p = q = flat; *p; p++)
			if (*p != '\n' && !(*p == ' ' && (p[-1] == ':' || p[-1] == ' ' ||
							  p[-1] == '\n')))
				*q++ = *p;
		*q = 0;
		free(g_text);
		g_text = flat;
		expect_contains("context json", flat, subs, N(subs));
	}
}

/* Malformed records are counted and otherwise ignored. */
static void test_malformed(void **state)
{
	static union {
		struct ia_ev_hdr h;
		struct ia_ev_req req;
		struct ia_ev_device dev;
		struct ia_ev_pt pt;
		struct ia_ev_stack st;
		unsigned char b[512];
	} u;
	static const struct {
		const char *what;
		__u16 type;
		__u16 hdr_size;	/* hdr.size */
		size_t len;	/* length passed */
		bool bad;
	} cases[] = {
		{ "req 8 bytes short", IA_EV_REQ, sizeof(struct ia_ev_req) - 8,
		  sizeof(struct ia_ev_req) - 8, true },
		{ "req header only", IA_EV_REQ, sizeof(struct ia_ev_hdr),
		  sizeof(struct ia_ev_hdr), true },
		{ "device one byte short", IA_EV_DEVICE, sizeof(struct ia_ev_device) - 1,
		  sizeof(struct ia_ev_device) - 1, true },
		{ "pt short", IA_EV_PT_MAP, sizeof(struct ia_ev_pt) - 8,
		  sizeof(struct ia_ev_pt) - 8, true },
		{ "sg short", IA_EV_SG, 64, 64, true },
		{ "bounce short", IA_EV_BOUNCE, 40, 40, true },
		{ "iova_free short", IA_EV_IOVA_FREE, 40, 40, true },
		{ "fq_flush short", IA_EV_FQ_FLUSH, 32, 32, true },
		{ "stack short", IA_EV_STACK, 32, 32, true },
		{ "less than a header", IA_EV_REQ, 16, 16, true },
		{ "zero length", IA_EV_REQ, 0, 0, true },
		{ "type 0", 0, 64, 64, true },
		{ "type IA_EV_TYPE_MAX", IA_EV_TYPE_MAX, 64, 64, true },
		{ "type 0xffff", 0xffff, 64, 64, true },
		{ "hdr.size beyond len", IA_EV_PT_MAP, 256, sizeof(struct ia_ev_pt), true },
		/* sound ones, for contrast */
		{ "stack with no frames", IA_EV_STACK, sizeof(struct ia_ev_stack),
		  sizeof(struct ia_ev_stack), false },
		{ "stack with 2 frames", IA_EV_STACK,
		  sizeof(struct ia_ev_stack) + 2 * sizeof(struct ia_stack_frame),
		  sizeof(struct ia_ev_stack) + 2 * sizeof(struct ia_stack_frame), false },
		{ "tp_map", IA_EV_TP_MAP, sizeof(struct ia_ev_pt), sizeof(struct ia_ev_pt), false },
	};
	__u64 bad = 0, per_type[IA_EV_TYPE_MAX] = { 0 };
	char what[128];

	for (size_t i = 0; i < N(cases); i++) {
		/* a would-be request of device A with a write pending under it */
		memset(&u, 0, sizeof(u));
		u.h.type = cases[i].type;
		u.h.size = cases[i].hdr_size;
		u.h.req_id = 90 + i;
		u.req.dev = DEV_A;
		u.req.kind = IA_REQ_MAP_PAGE;
		u.req.size = 4096;
		ia_devstats_add(&g_ds, &u.h, cases[i].len);
		if (cases[i].bad)
			bad++;
		else
			per_type[cases[i].type]++;
		snprintf(what, sizeof(what), "case %s: bad_records", cases[i].what);
		EXPECT_U64(what, g_ds.bad_records, bad);
		snprintf(what, sizeof(what), "case %s: records", cases[i].what);
		EXPECT_U64(what, g_ds.records, i + 1);
		for (int t = 0; t < IA_EV_TYPE_MAX; t++) {
			snprintf(what, sizeof(what), "case %s: per_type[%d]", cases[i].what, t);
			EXPECT_U64(what, g_ds.per_type[t], per_type[t]);
		}
		snprintf(what, sizeof(what), "case %s: devices", cases[i].what);
		EXPECT_U64(what, g_ds.devs.len, 0);
		snprintf(what, sizeof(what), "case %s: pending", cases[i].what);
		EXPECT_U64(what, g_ds.pending.len, 0);
		snprintf(what, sizeof(what), "case %s: pt_in_request", cases[i].what);
		EXPECT_U64(what, g_ds.pt_in_request, 0);
	}
	/* sound records are still accounted after the bad ones */
	ev_req(99, DEV_A, IA_REQ_MAP_PAGE, 0, 4096, 0);
	EXPECT_U64("maps after the malformed records", row(DEV_A)->maps, 1);
	{
		static const char *const subs[] = { "warning: 15 malformed records" };
		const char *txt = print_text();

		expect_contains("print", txt, subs, N(subs));
	}
	{
		static const char *const subs[] = { "\"malformed\":15", "\"records\":19" };
		const char *js = json_text(false);

		expect_valid_json("malformed json", js);
		expect_contains("malformed json", js, subs, N(subs));
	}
}

/* IOVA frees, queued (lazy flush) or strict, and bounces, per device. */
static void test_iova_free_and_bounces(void **state)
{
	ev_device(DEV_A, "0000:00:03.0", "nvme", IA_DEV_PCI, IA_DOMAIN_DMA_FQ, DOM_A, 4096);
	ev_device(DEV_B, "0000:00:1f.2", "ahci", IA_DEV_PCI | IA_DEV_UNTRUSTED,
		  IA_DOMAIN_DMA, DOM_B, 4096);
	for (int i = 0; i < 3; i++)
		ev_iova_free(DEV_A, DOM_A, true);
	ev_iova_free(DEV_A, DOM_A, false);
	ev_iova_free(DEV_A, DOM_A, false);
	ev_iova_free(DEV_B, DOM_B, false);
	ev_bounce(80, DEV_B);
	ev_bounce(0, DEV_B);
	ev_fq_flush();
	check_row("iova A", DEV_A, &(struct want_row){ .iova_queued = 3, .iova_strict = 2 });
	check_row("iova B", DEV_B, &(struct want_row){ .iova_strict = 1, .bounces = 2 });
	/* bounces count by their own dev: nothing waits for request 80 */
	check_totals("iova", &(struct want_totals){
		.records = 11, .fq_flushes = 1, .devs = 2 });
	{
		static const char *const subs[] = {
			"\"iova_free_queued\":3,\"iova_free_strict\":2}",
			"\"bounces\":2,\"iova_free_queued\":0,\"iova_free_strict\":1}",
			"\"fq_flush\":1", "\"iova_free\":6", "\"bounce\":2",
			"\"domain_type\":\"DMA-FQ\"",
		};
		const char *js = json_text(false);

		expect_valid_json("iova json", js);
		expect_contains("iova json", js, subs, N(subs));
	}
}

/* Rows come sorted by device name, each once. */
static void test_rows_sorted(void **state)
{
	const int ndev = 40;
	size_t n = 99;

	/* empty first */
	g_rows = ia_devstats_rows(&g_ds, &n);
	assert_non_null(g_rows);
	EXPECT_U64("rows of an empty summary", n, 0);
	free(g_rows);
	g_rows = NULL;

	/* insert in a scrambled order: i * 17 mod 40 */
	for (int k = 0; k < ndev; k++) {
		int i = k * 17 % ndev;
		char name[32];

		snprintf(name, sizeof(name), "0000:%02x:%02x.%d", i / 8, i % 8 * 3, i % 2);
		if (i == 5)	/* one without context: "dev@..." sorts after digits */
			ev_req(100 + i, 0xffff888100000000ULL + i * 0x1000, IA_REQ_MAP_PAGE, 0,
			       4096, 0);
		else
			ev_device(0xffff888100000000ULL + i * 0x1000, name, "drv", IA_DEV_PCI,
				  IA_DOMAIN_DMA, DOM_A, 4096);
	}
	g_rows = ia_devstats_rows(&g_ds, &n);
	assert_non_null(g_rows);
	EXPECT_U64("rows", n, ndev);
	for (size_t i = 1; i < n; i++)
		if (strcmp(g_rows[i - 1]->ctx.name, g_rows[i]->ctx.name) >= 0)
			fail_msg("rows %zu and %zu out of order: \"%s\" then \"%s\"", i - 1, i,
				 g_rows[i - 1]->ctx.name, g_rows[i]->ctx.name);
	EXPECT_STR("first row", g_rows[0]->ctx.name, "0000:00:00.0");
	EXPECT_STR("last row", g_rows[n - 1]->ctx.name, "dev@ffff888100005000");
	/* the rows are the map's own */
	for (size_t i = 0; i < n; i++)
		if (ia_u64map_get(&g_ds.devs, g_rows[i]->ctx.dev) != g_rows[i])
			fail_msg("row %zu (%s) is not the map's row", i, g_rows[i]->ctx.name);
	/* and the JSON lists them in the same order */
	{
		const char *js = json_text(false), *p = js;

		expect_valid_json("rows json", js);
		for (size_t i = 0; i < n; i++) {
			char key[64];

			snprintf(key, sizeof(key), "\"name\":\"%s\"", g_rows[i]->ctx.name);
			p = strstr(p, key);
			if (!p)
				fail_msg("json: row %zu %s missing or out of order", i,
					 g_rows[i]->ctx.name);
		}
	}
}

/* Writes whose request record never came lower the attribution. */
static void test_attribution(void **state)
{
	ev_device(DEV_A, "0000:00:03.0", "nvme", IA_DEV_PCI, IA_DOMAIN_DMA, DOM_A, 4096);
	ev_pt(IA_EV_PT_MAP, 200, DOM_A, 4096, 0);
	ev_pt(IA_EV_PT_MAP, 200, DOM_A, 4096, 0);
	ev_req(200, DEV_A, IA_REQ_MAP_PAGE, 0, 8192, 0);
	ev_pt(IA_EV_PT_MAP, 201, DOM_A, 4096, 0);	/* record lost */
	ev_pt(IA_EV_PT_MAP, 0, DOM_B, 4096, 0);		/* outside: not counted */
	check_totals("attribution", &(struct want_totals){
		.records = 6, .pt_in_request = 3, .pt_credited = 2, .pt_unattributed = 1,
		.devs = 1, .pending = 1, .unattr = 1 });
	{
		static const char *const subs[] = {
			"\"attribution_pct\":66.67", "\"pt_in_request\":3", "\"pt_attributed\":2",
		};
		const char *js = json_text(false);

		expect_valid_json("attribution json", js);
		expect_contains("attribution json", js, subs, N(subs));
	}
	{
		static const char *const subs[] = {
			"page-table writes: 3 in requests (66.67% attributed), 1 outside any request",
			"0000:00:03.0", "nvme",
		};
		const char *txt = print_text();

		expect_contains("print", txt, subs, N(subs));
		if (strstr(txt, "warning"))
			fail_msg("print: unexpected warning in:\n%s", txt);
	}
}

static void test_strings(void **state)
{
	static const struct { __u32 v; const char *want; } domains[] = {
		{ IA_DOMAIN_BLOCKED, "blocked" }, { IA_DOMAIN_IDENTITY, "identity" },
		{ IA_DOMAIN_UNMANAGED, "unmanaged" }, { IA_DOMAIN_DMA, "DMA" },
		{ IA_DOMAIN_DMA_FQ, "DMA-FQ" }, { 2, "?" }, { 0x10, "?" }, { ~0u, "?" },
	};
	static const struct { __u32 v; const char *want; } kinds[] = {
		{ 0, "?" },
		{ IA_REQ_MAP_PAGE, "map_page" },
		{ IA_REQ_MAP_SG, "map_sg" },
		{ IA_REQ_MAP_RESOURCE, "map_resource" },
		{ IA_REQ_IOMMU_MAP, "iommu_dma_map" },
		{ IA_REQ_ALLOC, "alloc" },
		{ IA_REQ_ALLOC_NONCONTIG, "alloc_noncontiguous" },
		{ IA_REQ_ALLOC_PAGES, "alloc_pages" },
		{ IA_REQ_UNMAP_PAGE, "unmap_page" },
		{ IA_REQ_UNMAP_SG, "unmap_sg" },
		{ IA_REQ_UNMAP_RESOURCE, "unmap_resource" },
		{ IA_REQ_FREE, "free" },
		{ IA_REQ_FREE_NONCONTIG, "free_noncontiguous" },
		{ IA_REQ_FREE_PAGES, "free_pages" },
		{ IA_REQ_SYNC_SINGLE_CPU, "sync_single_for_cpu" },
		{ IA_REQ_SYNC_SINGLE_DEV, "sync_single_for_device" },
		{ IA_REQ_SYNC_SG_CPU, "sync_sg_for_cpu" },
		{ IA_REQ_SYNC_SG_DEV, "sync_sg_for_device" },
		{ IA_REQ_KIND_MAX, "?" },
		{ 1000, "?" },
		{ ~0u, "?" },
	};
	char what[64];

	for (size_t i = 0; i < N(domains); i++) {
		snprintf(what, sizeof(what), "case domain type 0x%x", domains[i].v);
		EXPECT_STR(what, ia_domain_type_str(domains[i].v), domains[i].want);
	}
	for (size_t i = 0; i < N(kinds); i++) {
		snprintf(what, sizeof(what), "case request kind %u", kinds[i].v);
		EXPECT_STR(what, ia_req_kind_str(kinds[i].v), kinds[i].want);
	}
	/* every real kind has a name */
	for (__u32 k = 1; k < IA_REQ_KIND_MAX; k++)
		if (!strcmp(ia_req_kind_str(k), "?"))
			fail_msg("request kind %u has no name", k);
}

/* A device without a default domain says so in the table and the JSON. */
static void test_no_domain(void **state)
{
	ev_device(DEV_B, "0000:00:02.0", "i915", IA_DEV_PCI | IA_DEV_NO_DOMAIN,
		  IA_DOMAIN_DMA, 0, 0);
	{
		static const char *const subs[] = { "\"domain_type\":\"none\"",
						    "\"domain\":\"0x0\"" };
		const char *js = json_text(false);

		expect_valid_json("no-domain json", js);
		expect_contains("no-domain json", js, subs, N(subs));
	}
	{
		static const char *const subs[] = { "0000:00:02.0", " none " };
		const char *txt = print_text();

		expect_contains("no-domain print", txt, subs, N(subs));
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_map_page_writes_before_record),
		T(test_nested_requests),
		T(test_map_sg),
		T(test_failed_requests),
		T(test_unattributed),
		T(test_unknown_device),
		T(test_unknown_device_context),
		T(test_context_after_request),
		T(test_context_changes),
		T(test_malformed),
		T(test_iova_free_and_bounces),
		T(test_rows_sorted),
		T(test_attribution),
		T(test_strings),
		T(test_no_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
