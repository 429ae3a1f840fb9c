/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-device traffic summary: what each device asked for and what the IOMMU
 * page tables received for it. Fed record by record, live or from a trace,
 * so both give the same table.
 *
 * Page-table writes are made inside a request but its record is emitted at
 * fexit, after them: writes wait in a pending table under their request id
 * until the request record says which device it belongs to.
 */
#ifndef IA_DEVSTATS_H
#define IA_DEVSTATS_H

#include <stdbool.h>
#include <stdio.h>
#include "event/ia_events.h"
#include "lib/u64map.h"

struct ia_json;

struct ia_dev_row {
	struct ia_ev_device ctx;	/* latest context */
	__u32 ctx_changes;		/* context records after the first */
	__u64 req[IA_REQ_KIND_MAX];	/* requests by kind (all depths) */
	__u64 req_failed;
	__u64 maps;			/* root map/alloc requests */
	__u64 unmaps;			/* root unmap/free requests */
	__u64 bytes_requested;		/* root map/alloc sizes, sg lengths */
	__u64 pt_maps, pt_map_bytes, pt_map_failed;
	__u64 pt_unmaps, pt_unmap_bytes;
	__u64 bounces;
	__u64 iova_queued, iova_strict;
};

struct ia_unattributed {
	__u64 domain;
	__u64 pt_maps, pt_map_bytes, pt_unmaps, pt_unmap_bytes;
};

struct ia_devstats {
	struct ia_u64map devs;		/* struct device * -> ia_dev_row */
	struct ia_u64map pending;	/* req id -> struct ia_pending */
	struct ia_u64map unattr;	/* domain -> ia_unattributed */
	struct ia_u64map iova_links;	/* struct dma_iova_state * -> links
					 * live in it (a count, as the value) */
	__u64 per_type[IA_EV_TYPE_MAX];
	__u64 records;
	__u64 bad_records;		/* too short for their type */
	__u64 pt_in_request;		/* page-table writes with a request id */
	__u64 pt_credited;		/* ... whose request record was seen */
	__u64 pt_unattributed;		/* made outside any dma-iommu call */
	__u64 fq_flushes;
	int oom;			/* allocation failed: totals incomplete */
};

void ia_devstats_init(struct ia_devstats *ds);
void ia_devstats_free(struct ia_devstats *ds);
/* Account one record (len bytes). */
void ia_devstats_add(struct ia_devstats *ds, const struct ia_ev_hdr *rec, size_t len);

/* Rows sorted by device name; *n set. Caller frees the array (not rows). */
struct ia_dev_row **ia_devstats_rows(const struct ia_devstats *ds, size_t *n);

void ia_devstats_print(const struct ia_devstats *ds, FILE *out);
void ia_devstats_json(const struct ia_devstats *ds, struct ia_json *j);

const char *ia_domain_type_str(__u32 type);
const char *ia_req_kind_str(__u32 kind);
const char *ia_tp_dma_ev_str(__u32 ev);	/* "dma_map_phys", ... */
/* A call of the IOVA API as a request of its kind (IA_REQ_IOVA_*): dma =
 * state->addr + offset; phys, size, dir, attrs, ids, stack as recorded. */
void ia_iova_as_req(const struct ia_ev_iova *e, struct ia_ev_req *r);

#endif
