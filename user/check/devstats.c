// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check/devstats.h"
#include "trace/trace.h"
#include "lib/json.h"

struct ia_pending {
	__u64 pt_maps, pt_map_bytes, pt_map_failed;
	__u64 pt_unmaps, pt_unmap_bytes;
	__u64 sg_bytes;		/* input scatterlist lengths */
};

const char *ia_domain_type_str(__u32 type)
{
	switch (type) {
	case IA_DOMAIN_BLOCKED:		return "blocked";
	case IA_DOMAIN_IDENTITY:	return "identity";
	case IA_DOMAIN_UNMANAGED:	return "unmanaged";
	case IA_DOMAIN_DMA:		return "DMA";
	case IA_DOMAIN_DMA_FQ:		return "DMA-FQ";
	default:			return "?";
	}
}

static const char *const kind_names[IA_REQ_KIND_MAX] = {
	[IA_REQ_MAP_PAGE] = "map_page",
	[IA_REQ_MAP_SG] = "map_sg",
	[IA_REQ_MAP_RESOURCE] = "map_resource",
	[IA_REQ_IOMMU_MAP] = "iommu_dma_map",
	[IA_REQ_ALLOC] = "alloc",
	[IA_REQ_ALLOC_NONCONTIG] = "alloc_noncontiguous",
	[IA_REQ_ALLOC_PAGES] = "alloc_pages",
	[IA_REQ_UNMAP_PAGE] = "unmap_page",
	[IA_REQ_UNMAP_SG] = "unmap_sg",
	[IA_REQ_UNMAP_RESOURCE] = "unmap_resource",
	[IA_REQ_FREE] = "free",
	[IA_REQ_FREE_NONCONTIG] = "free_noncontiguous",
	[IA_REQ_FREE_PAGES] = "free_pages",
	[IA_REQ_SYNC_SINGLE_CPU] = "sync_single_for_cpu",
	[IA_REQ_SYNC_SINGLE_DEV] = "sync_single_for_device",
	[IA_REQ_SYNC_SG_CPU] = "sync_sg_for_cpu",
	[IA_REQ_SYNC_SG_DEV] = "sync_sg_for_device",
	[IA_REQ_GET_SGTABLE] = "get_sgtable",
	[IA_REQ_IOVA_TRY_ALLOC] = "iova_try_alloc",
	[IA_REQ_IOVA_LINK] = "iova_link",
	[IA_REQ_IOVA_SYNC] = "iova_sync",
	[IA_REQ_IOVA_UNLINK] = "iova_unlink",
	[IA_REQ_IOVA_DESTROY] = "iova_destroy",
	[IA_REQ_IOVA_FREE] = "iova_free",
};

const char *ia_req_kind_str(__u32 kind)
{
	return kind < IA_REQ_KIND_MAX && kind_names[kind] ? kind_names[kind] : "?";
}

/* named after the tracepoints (of v6.18: dma_map_phys also stands for
 * 6.12's dma_map_page) */
static const char *const tp_dma_names[IA_TP_DMA_EV_MAX] = {
	[IA_TP_DMA_MAP] = "dma_map_phys", [IA_TP_DMA_UNMAP] = "dma_unmap_phys",
	[IA_TP_DMA_MAP_SG] = "dma_map_sg", [IA_TP_DMA_MAP_SG_ERR] = "dma_map_sg_err",
	[IA_TP_DMA_UNMAP_SG] = "dma_unmap_sg", [IA_TP_DMA_ALLOC] = "dma_alloc",
	[IA_TP_DMA_FREE] = "dma_free", [IA_TP_DMA_ALLOC_PAGES] = "dma_alloc_pages",
	[IA_TP_DMA_FREE_PAGES] = "dma_free_pages", [IA_TP_DMA_ALLOC_SGT] = "dma_alloc_sgt",
	[IA_TP_DMA_ALLOC_SGT_ERR] = "dma_alloc_sgt_err", [IA_TP_DMA_FREE_SGT] = "dma_free_sgt",
	[IA_TP_DMA_SYNC_SINGLE_CPU] = "dma_sync_single_for_cpu",
	[IA_TP_DMA_SYNC_SINGLE_DEV] = "dma_sync_single_for_device",
	[IA_TP_DMA_SYNC_SG_CPU] = "dma_sync_sg_for_cpu",
	[IA_TP_DMA_SYNC_SG_DEV] = "dma_sync_sg_for_device",
};

const char *ia_tp_dma_ev_str(__u32 ev)
{
	return ev < IA_TP_DMA_EV_MAX && tp_dma_names[ev] ? tp_dma_names[ev] : "?";
}

static bool kind_is_map(__u32 k)
{
	return k == IA_REQ_MAP_PAGE || k == IA_REQ_MAP_SG || k == IA_REQ_MAP_RESOURCE ||
	       k == IA_REQ_ALLOC || k == IA_REQ_ALLOC_NONCONTIG || k == IA_REQ_ALLOC_PAGES ||
	       k == IA_REQ_IOMMU_MAP || k == IA_REQ_IOVA_LINK;
}

static bool kind_is_unmap(__u32 k)
{
	return k == IA_REQ_UNMAP_PAGE || k == IA_REQ_UNMAP_SG ||
	       k == IA_REQ_UNMAP_RESOURCE || k == IA_REQ_FREE ||
	       k == IA_REQ_FREE_NONCONTIG || k == IA_REQ_FREE_PAGES;
}

void ia_iova_as_req(const struct ia_ev_iova *e, struct ia_ev_req *r)
{
	memset(r, 0, sizeof(*r));
	r->hdr = e->hdr;
	r->hdr.type = IA_EV_REQ;
	r->hdr.size = sizeof(*r);
	r->dev = e->dev;
	r->parent_id = e->parent_id;
	r->phys = e->phys;
	r->size = e->size;
	r->dma = e->addr + e->offset;
	r->attrs = e->attrs;
	r->entry_ns = e->entry_ns;
	r->kind = e->kind;
	r->dir = e->dir;
	r->ret = e->ret;
	r->stack_id = e->stack_id;
}

void ia_devstats_init(struct ia_devstats *ds)
{
	memset(ds, 0, sizeof(*ds));
	ia_u64map_init(&ds->devs);
	ia_u64map_init(&ds->pending);
	ia_u64map_init(&ds->unattr);
	ia_u64map_init(&ds->iova_links);
}

void ia_devstats_free(struct ia_devstats *ds)
{
	ia_u64map_free_values(&ds->devs);
	ia_u64map_free_values(&ds->pending);
	ia_u64map_free_values(&ds->unattr);
	ia_u64map_free(&ds->iova_links);
}

/*
 * Get or create the value for key; NULL (and ds->oom) on allocation failure.
 * Key 0 (a NULL device, no request) is a record that names nothing: NULL,
 * counted as malformed.
 */
static void *get_or_new(struct ia_devstats *ds, struct ia_u64map *m, __u64 key,
			size_t size)
{
	void *v;

	if (!key) {
		ds->bad_records++;
		return NULL;
	}
	v = ia_u64map_get(m, key);
	if (v)
		return v;
	v = calloc(1, size);
	if (!v || ia_u64map_put(m, key, v, NULL)) {	/* key was absent */
		free(v);
		ds->oom = 1;
		return NULL;
	}
	return v;
}

/* A row made by a request before any context record has hdr.type 0. */
static bool has_context(const struct ia_dev_row *r)
{
	return r->ctx.hdr.type == IA_EV_DEVICE;
}

static void on_device(struct ia_devstats *ds, const struct ia_ev_device *e)
{
	struct ia_dev_row *r = get_or_new(ds, &ds->devs, e->dev, sizeof(*r));

	if (!r)
		return;
	if (has_context(r))
		r->ctx_changes++;
	r->ctx = *e;
}

static struct ia_dev_row *row_of(struct ia_devstats *ds, __u64 dev)
{
	struct ia_dev_row *r = get_or_new(ds, &ds->devs, dev, sizeof(*r));

	/* no context (yet, or its record was lost): name it by its pointer */
	if (r && !has_context(r) && !r->ctx.dev) {
		r->ctx.dev = dev;
		r->ctx.group_id = -1;
		snprintf(r->ctx.name, sizeof(r->ctx.name), "dev@%" PRIx64, (uint64_t)dev);
	}
	return r;
}

/* Domain type column: "none" without a domain, "?" without a context. */
static const char *row_domain_type(const struct ia_dev_row *r)
{
	if (!has_context(r))
		return "unknown";
	if (r->ctx.hdr.flags & IA_DEV_NO_DOMAIN)
		return "none";
	return ia_domain_type_str(r->ctx.domain_type);
}

static void on_req(struct ia_devstats *ds, const struct ia_ev_req *e)
{
	struct ia_dev_row *r = row_of(ds, e->dev);
	struct ia_pending *p = ia_u64map_del(&ds->pending, e->hdr.req_id);

	if (!r) {
		free(p);
		return;
	}
	if (e->kind < IA_REQ_KIND_MAX)
		r->req[e->kind]++;
	if (e->hdr.flags & IA_REQ_F_FAILED)
		r->req_failed++;
	if (!e->parent_id && !(e->hdr.flags & IA_REQ_F_FAILED)) {
		if (kind_is_map(e->kind)) {
			r->maps++;
			r->bytes_requested += e->kind == IA_REQ_MAP_SG && p ? p->sg_bytes : e->size;
		} else if (kind_is_unmap(e->kind)) {
			r->unmaps++;
		}
	}
	if (p) {
		r->pt_maps += p->pt_maps;
		r->pt_map_bytes += p->pt_map_bytes;
		r->pt_map_failed += p->pt_map_failed;
		r->pt_unmaps += p->pt_unmaps;
		r->pt_unmap_bytes += p->pt_unmap_bytes;
		ds->pt_credited += p->pt_maps + p->pt_unmaps;
		free(p);
	}
}

/*
 * A root IOVA API call: a link is a map (on_req counted it); its unmap is
 * the unlink that ends it (one per unlink) or the destroy or free that ends
 * the reservation with the links still counted in it, so that maps minus
 * unmaps stays the live mappings.
 */
static void on_iova(struct ia_devstats *ds, const struct ia_ev_iova *e)
{
	struct ia_ev_req r;
	struct ia_dev_row *row;
	__u64 n;

	ia_iova_as_req(e, &r);
	on_req(ds, &r);
	row = row_of(ds, e->dev);
	if (!row || e->parent_id || (e->hdr.flags & IA_REQ_F_FAILED) || !e->state)
		return;
	n = (__u64)(uintptr_t)ia_u64map_get(&ds->iova_links, e->state);
	switch (e->kind) {
	case IA_REQ_IOVA_LINK:
		n++;
		break;
	case IA_REQ_IOVA_UNLINK:
		if (n) {
			n--;
			row->unmaps++;
		}
		break;
	case IA_REQ_IOVA_DESTROY:
	case IA_REQ_IOVA_FREE:
		row->unmaps += n;
		n = 0;
		break;
	default:
		return;
	}
	ia_u64map_del(&ds->iova_links, e->state);
	if (n && ia_u64map_put(&ds->iova_links, e->state, (void *)(uintptr_t)n, NULL))
		ds->oom = 1;
}

static void on_pt(struct ia_devstats *ds, const struct ia_ev_pt *e, bool map)
{
	struct ia_pending *p;
	struct ia_unattributed *u;
	bool failed = map && (__s64)e->result < 0;

	if (!e->hdr.req_id) {
		ds->pt_unattributed++;
		u = get_or_new(ds, &ds->unattr, e->domain ? e->domain : ~0ULL, sizeof(*u));
		if (!u)
			return;
		u->domain = e->domain;
		if (map) {
			u->pt_maps++;
			u->pt_map_bytes += failed ? 0 : e->size;
		} else {
			u->pt_unmaps++;
			u->pt_unmap_bytes += e->result;
		}
		return;
	}
	ds->pt_in_request++;
	p = get_or_new(ds, &ds->pending, e->hdr.req_id, sizeof(*p));
	if (!p)
		return;
	if (map) {
		p->pt_maps++;
		if (failed)
			p->pt_map_failed++;
		else
			p->pt_map_bytes += e->size;
	} else {
		p->pt_unmaps++;
		p->pt_unmap_bytes += e->result;
	}
}

static void on_sg(struct ia_devstats *ds, const struct ia_ev_sg *e)
{
	struct ia_pending *p;
	__u32 n = e->count < IA_SG_CHUNK ? e->count : IA_SG_CHUNK;

	if (e->hdr.flags & IA_SG_OUTPUT)
		return;
	p = get_or_new(ds, &ds->pending, e->hdr.req_id, sizeof(*p));
	if (!p)
		return;
	for (__u32 i = 0; i < n; i++)
		p->sg_bytes += e->segs[i].len;
}


void ia_devstats_add(struct ia_devstats *ds, const struct ia_ev_hdr *h, size_t len)
{
	ds->records++;
	if (len < sizeof(*h) || h->type == 0 || h->type >= IA_EV_TYPE_MAX ||
	    len < ia_ev_min_size(h->type) || h->size > len) {
		ds->bad_records++;
		return;
	}
	ds->per_type[h->type]++;
	switch (h->type) {
	case IA_EV_DEVICE:
		on_device(ds, (const void *)h);
		break;
	case IA_EV_REQ:
		on_req(ds, (const void *)h);
		break;
	case IA_EV_IOVA:
		on_iova(ds, (const void *)h);
		break;
	case IA_EV_SG:
		on_sg(ds, (const void *)h);
		break;
	case IA_EV_PT_MAP:
	case IA_EV_PT_UNMAP:
		on_pt(ds, (const void *)h, h->type == IA_EV_PT_MAP);
		break;
	case IA_EV_BOUNCE: {
		const struct ia_ev_bounce *b = (const void *)h;
		struct ia_dev_row *r = row_of(ds, b->dev);

		if (r)
			r->bounces++;
		break;
	}
	case IA_EV_IOVA_FREE: {
		const struct ia_ev_iova_free *f = (const void *)h;
		struct ia_dev_row *r = row_of(ds, f->dev);

		if (r && (h->flags & IA_IOVA_QUEUED))
			r->iova_queued++;
		else if (r)
			r->iova_strict++;
		break;
	}
	case IA_EV_FQ_FLUSH:
		ds->fq_flushes++;
		break;
	default:	/* tracepoint cross-checks: counted in per_type */
		break;
	}
}

static int cmp_row(const void *a, const void *b)
{
	const struct ia_dev_row *x = *(struct ia_dev_row *const *)a;
	const struct ia_dev_row *y = *(struct ia_dev_row *const *)b;

	return strcmp(x->ctx.name, y->ctx.name);
}

struct ia_dev_row **ia_devstats_rows(const struct ia_devstats *ds, size_t *n)
{
	struct ia_dev_row **rows = calloc(ds->devs.len + 1, sizeof(*rows));
	__u64 k;
	void *v;

	*n = 0;
	if (!rows)
		return NULL;
	for (size_t it = 0; ia_u64map_next(&ds->devs, &it, &k, &v);)
		rows[(*n)++] = v;
	qsort(rows, *n, sizeof(*rows), cmp_row);
	return rows;
}

/* Share of in-request page-table writes whose request record was seen. */
static double attribution_pct(const struct ia_devstats *ds)
{
	return ds->pt_in_request ? 100.0 * ds->pt_credited / ds->pt_in_request : 100.0;
}

static void fmt_size(char *buf, size_t len, __u64 v)
{
	if (!v)
		snprintf(buf, len, "-");
	else if (v % (1ULL << 20) == 0)
		snprintf(buf, len, "%" PRIu64 "M", (uint64_t)(v >> 20));
	else if (v % 1024 == 0)
		snprintf(buf, len, "%" PRIu64 "K", (uint64_t)(v >> 10));
	else
		snprintf(buf, len, "%" PRIu64, (uint64_t)v);
}

void ia_devstats_print(const struct ia_devstats *ds, FILE *out)
{
	size_t n;
	struct ia_dev_row **rows = ia_devstats_rows(ds, &n);

	fprintf(out, "%-14s %-10s %-8s %7s %3s %9s %9s %12s %9s %9s %7s %6s\n",
		"DEVICE", "DRIVER", "DOMAIN", "GRANULE", "UNT", "MAPS", "UNMAPS",
		"BYTES", "PT_MAPS", "PT_UNMAPS", "PT_FAIL", "LIVE");
	for (size_t i = 0; rows && i < n; i++) {
		const struct ia_dev_row *r = rows[i];
		char gran[24];

		fmt_size(gran, sizeof(gran), r->ctx.granule);
		fprintf(out, "%-14s %-10s %-8s %7s %3s %9" PRIu64 " %9" PRIu64 " %12" PRIu64
			" %9" PRIu64 " %9" PRIu64 " %7" PRIu64 " %6" PRId64 "\n",
			r->ctx.name, r->ctx.driver[0] ? r->ctx.driver : "-",
			row_domain_type(r),
			gran, (r->ctx.hdr.flags & IA_DEV_UNTRUSTED) ? "yes" : "no",
			(uint64_t)r->maps, (uint64_t)r->unmaps, (uint64_t)r->bytes_requested,
			(uint64_t)r->pt_maps, (uint64_t)r->pt_unmaps,
			(uint64_t)r->pt_map_failed, (int64_t)(r->maps - r->unmaps));
	}
	free(rows);
	fprintf(out, "page-table writes: %" PRIu64 " in requests (%.2f%% attributed), "
		"%" PRIu64 " outside any request\n", (uint64_t)ds->pt_in_request,
		attribution_pct(ds), (uint64_t)ds->pt_unattributed);
	if (ds->bad_records || ds->oom)
		fprintf(out, "warning: %" PRIu64 " malformed records%s\n",
			(uint64_t)ds->bad_records, ds->oom ? ", out of memory: totals incomplete" : "");
}

void ia_devstats_json(const struct ia_devstats *ds, struct ia_json *j)
{
	size_t n;
	struct ia_dev_row **rows = ia_devstats_rows(ds, &n);
	__u64 k;
	void *v;

	ia_json_key(j, "devices");
	ia_json_arr_begin(j);
	for (size_t i = 0; rows && i < n; i++) {
		const struct ia_dev_row *r = rows[i];

		ia_json_obj_begin(j);
		ia_json_kstr(j, "name", r->ctx.name);
		ia_json_kstr(j, "driver", r->ctx.driver);
		ia_json_kstr(j, "bus", r->ctx.bus);
		ia_json_khex(j, "dev", r->ctx.dev);
		ia_json_khex(j, "domain", r->ctx.domain);
		ia_json_kstr(j, "domain_type", row_domain_type(r));
		ia_json_ks64(j, "iommu_group", r->ctx.group_id);
		ia_json_ku64(j, "granule", r->ctx.granule);
		ia_json_khex(j, "pgsize_bitmap", r->ctx.pgsize_bitmap);
		ia_json_ku64(j, "page_size", r->ctx.page_size);
		ia_json_khex(j, "dma_mask", r->ctx.dma_mask);
		ia_json_khex(j, "coherent_dma_mask", r->ctx.coherent_dma_mask);
		ia_json_khex(j, "bus_dma_limit", r->ctx.bus_dma_limit);
		ia_json_khex(j, "seg_boundary", r->ctx.seg_boundary);
		ia_json_ku64(j, "max_seg_size", r->ctx.max_seg_size);
		ia_json_kbool(j, "untrusted", r->ctx.hdr.flags & IA_DEV_UNTRUSTED);
		ia_json_ku64(j, "context_changes", r->ctx_changes);
		ia_json_key(j, "requests");
		ia_json_obj_begin(j);
		for (__u32 kd = 1; kd < IA_REQ_KIND_MAX; kd++)
			if (r->req[kd])
				ia_json_ku64(j, ia_req_kind_str(kd), r->req[kd]);
		ia_json_obj_end(j);
		ia_json_ku64(j, "requests_failed", r->req_failed);
		ia_json_ku64(j, "maps", r->maps);
		ia_json_ku64(j, "unmaps", r->unmaps);
		ia_json_ku64(j, "bytes_requested", r->bytes_requested);
		ia_json_ku64(j, "pt_maps", r->pt_maps);
		ia_json_ku64(j, "pt_map_bytes", r->pt_map_bytes);
		ia_json_ku64(j, "pt_map_failed", r->pt_map_failed);
		ia_json_ku64(j, "pt_unmaps", r->pt_unmaps);
		ia_json_ku64(j, "pt_unmap_bytes", r->pt_unmap_bytes);
		ia_json_ku64(j, "bounces", r->bounces);
		ia_json_ku64(j, "iova_free_queued", r->iova_queued);
		ia_json_ku64(j, "iova_free_strict", r->iova_strict);
		ia_json_obj_end(j);
	}
	ia_json_arr_end(j);
	free(rows);

	ia_json_key(j, "unattributed");
	ia_json_arr_begin(j);
	for (size_t it = 0; ia_u64map_next(&ds->unattr, &it, &k, &v);) {
		const struct ia_unattributed *u = v;

		ia_json_obj_begin(j);
		ia_json_khex(j, "domain", u->domain);
		ia_json_ku64(j, "pt_maps", u->pt_maps);
		ia_json_ku64(j, "pt_map_bytes", u->pt_map_bytes);
		ia_json_ku64(j, "pt_unmaps", u->pt_unmaps);
		ia_json_ku64(j, "pt_unmap_bytes", u->pt_unmap_bytes);
		ia_json_obj_end(j);
	}
	ia_json_arr_end(j);

	ia_json_key(j, "events");
	ia_json_obj_begin(j);
	ia_json_ku64(j, "records", ds->records);
	ia_json_ku64(j, "malformed", ds->bad_records);
	ia_json_ku64(j, "device", ds->per_type[IA_EV_DEVICE]);
	ia_json_ku64(j, "request", ds->per_type[IA_EV_REQ]);
	ia_json_ku64(j, "sg", ds->per_type[IA_EV_SG]);
	ia_json_ku64(j, "pt_map", ds->per_type[IA_EV_PT_MAP]);
	ia_json_ku64(j, "pt_unmap", ds->per_type[IA_EV_PT_UNMAP]);
	ia_json_ku64(j, "tp_map", ds->per_type[IA_EV_TP_MAP]);
	ia_json_ku64(j, "tp_unmap", ds->per_type[IA_EV_TP_UNMAP]);
	ia_json_ku64(j, "bounce", ds->per_type[IA_EV_BOUNCE]);
	ia_json_ku64(j, "iova_free", ds->per_type[IA_EV_IOVA_FREE]);
	ia_json_ku64(j, "fq_flush", ds->per_type[IA_EV_FQ_FLUSH]);
	ia_json_ku64(j, "pt_in_request", ds->pt_in_request);
	ia_json_ku64(j, "pt_attributed", ds->pt_credited);
	ia_json_ku64(j, "pt_unattributed", ds->pt_unattributed);
	ia_json_key(j, "attribution_pct");
	ia_json_f64(j, attribution_pct(ds), 2);
	ia_json_obj_end(j);
}
