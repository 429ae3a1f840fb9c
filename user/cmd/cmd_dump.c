// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * iommu-audit dump: a trace's records, one JSON object per line (like
 * `perf script` for iommu-audit), for scripts and for the VM tests.
 *
 * Kernel pointers (dev, domain, cookie) are hex strings; addresses and sizes
 * are numbers (IOVAs and physical addresses stay below 2^53, so tools that
 * read JSON numbers as doubles, such as jq, keep them exact).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include "cmd/cli.h"
#include "check/devstats.h"
#include "lib/json.h"
#include "check/finding.h"
#include "trace/trace.h"
#include "lib/u64map.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: iommu-audit dump TRACE\n"
"\n"
"Prints the header, then every record of TRACE as one JSON object per line\n"
"(JSON Lines), then the trailer's counts. Exit 2 on a bad trace, after the\n"
"records that could be read, with an {\"error\": ...} line.\n"
"\n"
"Example:\n"
"  iommu-audit dump nvme.trace | jq -c 'select(.type == \"request\")'\n");
}

static const char *const type_names[IA_EV_TYPE_MAX] = {
	[IA_EV_DEVICE] = "device", [IA_EV_REQ] = "request", [IA_EV_SG] = "sg",
	[IA_EV_PT_MAP] = "pt_map", [IA_EV_PT_UNMAP] = "pt_unmap",
	[IA_EV_TP_MAP] = "tp_map", [IA_EV_TP_UNMAP] = "tp_unmap",
	[IA_EV_BOUNCE] = "bounce", [IA_EV_IOVA_FREE] = "iova_free",
	[IA_EV_FQ_FLUSH] = "fq_flush", [IA_EV_STACK] = "stack",
	[IA_EV_IOVA] = "iova", [IA_EV_TP_DMA] = "tp_dma",
	[IA_EV_PAGE] = "page", [IA_EV_FREED] = "freed", [IA_EV_PT_SNAP] = "pt_snap",
};

static const char *const snap_why[IA_SNAP_WHY_MAX] = {
	[IA_SNAP_START] = "start", [IA_SNAP_STOP] = "stop",
	[IA_SNAP_SIGNAL] = "signal", [IA_SNAP_PERIODIC] = "periodic",
};

/* A page-table snapshot's piece: its ranges as far as the record holds
 * them, whatever count claims. */
static void dump_pt_snap(struct ia_json *j, const struct ia_ev_pt_snap *e)
{
	size_t fit = (e->hdr.size - sizeof(*e)) / sizeof(e->r[0]);
	char dev[IA_NAME_LEN + 1];
	const char *phase = e->hdr.flags & IA_SNAP_BEGIN ? "begin" :
			    e->hdr.flags & IA_SNAP_END ? "end" : "device";

	snprintf(dev, sizeof(dev), "%.*s", IA_NAME_LEN, e->dev);
	ia_json_ku64(j, "snap", e->snap);
	ia_json_kstr(j, "why", e->why < IA_SNAP_WHY_MAX && snap_why[e->why] ? snap_why[e->why] : "?");
	ia_json_kstr(j, "phase", phase);
	ia_json_kbool(j, "absent", e->hdr.flags & IA_SNAP_ABSENT);
	ia_json_kbool(j, "truncated", e->hdr.flags & IA_SNAP_TRUNCATED);
	if (e->hdr.flags & IA_SNAP_END) {
		ia_json_ku64(j, "end_ns", e->end_ns);
		ia_json_ku64(j, "devices", e->count);
		return;
	}
	if (e->hdr.flags & IA_SNAP_BEGIN)
		return;
	ia_json_kstr(j, "device", dev);
	ia_json_ks64(j, "pasid", e->pasid == ~0u ? -1 : (__s64)e->pasid);
	ia_json_khex(j, "pgd", e->pgd);
	ia_json_kbool(j, "last", e->hdr.flags & IA_SNAP_DEV_LAST);
	ia_json_key(j, "ranges");
	ia_json_arr_begin(j);
	for (size_t i = 0; i < e->count && i < fit; i++) {
		ia_json_obj_begin(j);
		ia_json_ku64(j, "iova", e->r[i].iova);
		ia_json_ku64(j, "paddr", e->r[i].paddr);
		ia_json_ku64(j, "size", e->r[i].size);
		ia_json_ku64(j, "prot", e->r[i].prot);
		ia_json_ku64(j, "level", e->r[i].level);
		ia_json_obj_end(j);
	}
	ia_json_arr_end(j);
}

/* Device names by struct device pointer, from the device records seen. */
static const char *dev_name(struct ia_u64map *names, __u64 dev)
{
	const char *n = ia_u64map_get(names, dev);

	return n ? n : "";
}

static void dump_device(struct ia_json *j, const struct ia_ev_device *e)
{
	ia_json_khex(j, "dev", e->dev);
	ia_json_kstr(j, "name", e->name);
	ia_json_kstr(j, "driver", e->driver);
	ia_json_kstr(j, "bus", e->bus);
	ia_json_khex(j, "domain", e->domain);
	ia_json_kstr(j, "domain_type", (e->hdr.flags & IA_DEV_NO_DOMAIN) ? "none" :
		     ia_domain_type_str(e->domain_type));
	ia_json_khex(j, "cookie", e->cookie);
	ia_json_ku64(j, "granule", e->granule);
	ia_json_khex(j, "pgsize_bitmap", e->pgsize_bitmap);
	ia_json_ku64(j, "page_size", e->page_size);
	ia_json_khex(j, "dma_mask", e->dma_mask);
	ia_json_khex(j, "coherent_dma_mask", e->coherent_dma_mask);
	ia_json_khex(j, "bus_dma_limit", e->bus_dma_limit);
	ia_json_khex(j, "seg_boundary", e->seg_boundary);
	ia_json_ku64(j, "max_seg_size", e->max_seg_size);
	ia_json_ks64(j, "iommu_group", e->group_id);
	ia_json_kbool(j, "untrusted", e->hdr.flags & IA_DEV_UNTRUSTED);
	ia_json_kbool(j, "pci", e->hdr.flags & IA_DEV_PCI);
}

static void dump_req(struct ia_json *j, struct ia_u64map *names, const struct ia_ev_req *e)
{
	ia_json_kstr(j, "kind", ia_req_kind_str(e->kind));
	ia_json_khex(j, "dev", e->dev);
	ia_json_kstr(j, "device", dev_name(names, e->dev));
	ia_json_ku64(j, "parent", e->parent_id);
	ia_json_ku64(j, "phys", e->phys);
	ia_json_ku64(j, "size", e->size);
	ia_json_ku64(j, "dma", e->dma);
	ia_json_ku64(j, "dir", e->dir);
	ia_json_khex(j, "attrs", e->attrs);
	ia_json_khex(j, "gfp", e->gfp);
	ia_json_khex(j, "cpu_addr", e->cpu_addr);
	ia_json_ks64(j, "ret", e->ret);
	ia_json_ku64(j, "nents", e->nents);
	ia_json_ks64(j, "stack_id", e->stack_id);
	ia_json_ku64(j, "entry_ns", e->entry_ns);
	ia_json_kbool(j, "failed", e->hdr.flags & IA_REQ_F_FAILED);
}

static void dump_iova(struct ia_json *j, struct ia_u64map *names, const struct ia_ev_iova *e)
{
	ia_json_kstr(j, "kind", ia_req_kind_str(e->kind));
	ia_json_khex(j, "dev", e->dev);
	ia_json_kstr(j, "device", dev_name(names, e->dev));
	ia_json_ku64(j, "parent", e->parent_id);
	ia_json_khex(j, "state", e->state);
	ia_json_ku64(j, "addr", e->addr);
	ia_json_ku64(j, "reserved", e->state_size & ~IA_IOVA_SWIOTLB);
	ia_json_kbool(j, "swiotlb", e->state_size & IA_IOVA_SWIOTLB);
	ia_json_ku64(j, "phys", e->phys);
	ia_json_ku64(j, "offset", e->offset);
	ia_json_ku64(j, "size", e->size);
	ia_json_ku64(j, "dir", e->dir);
	ia_json_khex(j, "attrs", e->attrs);
	ia_json_ks64(j, "ret", e->ret);
	ia_json_ks64(j, "stack_id", e->stack_id);
	ia_json_ku64(j, "entry_ns", e->entry_ns);
	ia_json_kbool(j, "failed", e->hdr.flags & IA_REQ_F_FAILED);
}

static void dump_tp_dma(struct ia_json *j, struct ia_u64map *names, const struct ia_ev_tp_dma *e)
{
	ia_json_kstr(j, "event", ia_tp_dma_ev_str(e->event));
	ia_json_khex(j, "dev", e->dev);
	ia_json_kstr(j, "device", dev_name(names, e->dev));
	ia_json_ku64(j, "phys", e->phys);
	ia_json_ku64(j, "dma", e->dma);
	ia_json_ku64(j, "size", e->size);
	ia_json_ku64(j, "dir", e->dir);
	ia_json_khex(j, "attrs", e->attrs);
	ia_json_khex(j, "gfp", e->gfp);
	ia_json_khex(j, "cpu_addr", e->cpu_addr);
	ia_json_ks64(j, "nents", e->nents);
	ia_json_ks64(j, "ents", e->ents);
	ia_json_kbool(j, "mmio", e->hdr.flags & IA_TP_DMA_F_MMIO);
}

static void dump_sg(struct ia_json *j, const struct ia_ev_sg *e)
{
	__u32 n = e->count < IA_SG_CHUNK ? e->count : IA_SG_CHUNK;

	ia_json_kbool(j, "output", e->hdr.flags & IA_SG_OUTPUT);
	ia_json_kbool(j, "last", e->hdr.flags & IA_SG_LAST_CHUNK);
	ia_json_kbool(j, "truncated", e->hdr.flags & IA_SG_TRUNCATED);
	ia_json_ku64(j, "first", e->first);
	ia_json_key(j, "segs");
	ia_json_arr_begin(j);
	for (__u32 i = 0; i < n; i++) {
		ia_json_obj_begin(j);
		ia_json_ku64(j, "phys", e->segs[i].phys);
		ia_json_ku64(j, "len", e->segs[i].len);
		if (e->hdr.flags & IA_SG_OUTPUT) {
			ia_json_ku64(j, "dma", e->segs[i].dma);
			ia_json_ku64(j, "dma_len", e->segs[i].dma_len);
		}
		ia_json_obj_end(j);
	}
	ia_json_arr_end(j);
}

static void dump_pt(struct ia_json *j, const struct ia_ev_pt *e)
{
	bool map = e->hdr.type == IA_EV_PT_MAP || e->hdr.type == IA_EV_TP_MAP;

	ia_json_khex(j, "domain", e->domain);
	ia_json_ku64(j, "iova", e->iova);
	if (map)
		ia_json_ku64(j, "paddr", e->paddr);
	ia_json_ku64(j, "size", e->size);
	if (e->hdr.type == IA_EV_PT_MAP) {
		ia_json_ks64(j, "result", (__s64)e->result);
		ia_json_ku64(j, "prot", e->prot);
	} else if (!map) {
		ia_json_ku64(j, "unmapped", e->result);
	}
	ia_json_kbool(j, "unattributed", e->hdr.flags & IA_PT_UNATTRIBUTED);
}

static void dump_record(struct ia_json *j, struct ia_u64map *names,
			const struct ia_ev_hdr *h)
{
	ia_json_obj_begin(j);
	ia_json_kstr(j, "type", h->type < IA_EV_TYPE_MAX && type_names[h->type] ?
		     type_names[h->type] : "?");
	ia_json_ku64(j, "ts", h->ts_ns);
	ia_json_ku64(j, "cpu", h->cpu);
	ia_json_ku64(j, "pid", h->pid);
	ia_json_ku64(j, "req", h->req_id);
	switch (h->type) {
	case IA_EV_DEVICE: {
		const struct ia_ev_device *e = (const void *)h;

		/* device names outlive the record: the map keeps its own copy */
		if (!ia_u64map_get(names, e->dev)) {
			char *n = malloc(IA_NAME_LEN);

			if (n) {
				snprintf(n, IA_NAME_LEN, "%.*s", IA_NAME_LEN - 1, e->name);
				if (ia_u64map_put(names, e->dev, n, NULL))
					free(n);
			}
		}
		dump_device(j, e);
		break;
	}
	case IA_EV_REQ:
		dump_req(j, names, (const void *)h);
		break;
	case IA_EV_SG:
		dump_sg(j, (const void *)h);
		break;
	case IA_EV_IOVA:
		dump_iova(j, names, (const void *)h);
		break;
	case IA_EV_TP_DMA:
		dump_tp_dma(j, names, (const void *)h);
		break;
	case IA_EV_PT_MAP: case IA_EV_PT_UNMAP: case IA_EV_TP_MAP: case IA_EV_TP_UNMAP:
		dump_pt(j, (const void *)h);
		break;
	case IA_EV_BOUNCE: {
		const struct ia_ev_bounce *e = (const void *)h;

		ia_json_khex(j, "dev", e->dev);
		ia_json_kstr(j, "device", dev_name(names, e->dev));
		ia_json_ku64(j, "orig_phys", e->orig_phys);
		ia_json_ku64(j, "tlb_phys", e->tlb_phys);
		ia_json_ku64(j, "mapping_size", e->mapping_size);
		ia_json_ku64(j, "alloc_size", e->alloc_size);
		ia_json_ku64(j, "dir", e->dir);
		break;
	}
	case IA_EV_IOVA_FREE: {
		const struct ia_ev_iova_free *e = (const void *)h;

		ia_json_khex(j, "dev", e->dev);
		ia_json_kstr(j, "device", dev_name(names, e->dev));
		ia_json_khex(j, "domain", e->domain);
		ia_json_ku64(j, "iova", e->iova);
		ia_json_ku64(j, "size", e->size);
		ia_json_kbool(j, "queued", h->flags & IA_IOVA_QUEUED);
		break;
	}
	case IA_EV_FQ_FLUSH:
		ia_json_khex(j, "cookie", ((const struct ia_ev_fq_flush *)h)->cookie);
		break;
	case IA_EV_STACK: {
		const struct ia_ev_stack *e = (const void *)h;
		/* frames that really fit in the record, whatever nr claims */
		size_t fit = (h->size - sizeof(*e)) / sizeof(e->frames[0]);

		ia_json_ks64(j, "stack_id", e->stack_id);
		ia_json_key(j, "frames");
		ia_json_arr_begin(j);
		for (size_t i = 0; i < e->nr && i < fit; i++) {
			char sym[IA_SYM_LEN + 1];

			snprintf(sym, sizeof(sym), "%.*s", IA_SYM_LEN, e->frames[i].sym);
			ia_json_str(j, sym[0] ? sym : "?");
		}
		ia_json_arr_end(j);
		break;
	}
	case IA_EV_FREED: {
		const struct ia_ev_freed *e = (const void *)h;

		ia_json_khex(j, "dev", e->dev);
		ia_json_kstr(j, "device", dev_name(names, e->dev));
		ia_json_ku64(j, "phys", e->phys);
		ia_json_ku64(j, "size", e->size);
		ia_json_ku64(j, "map_phys", e->map_phys);
		ia_json_khex(j, "domain", e->domain);
		ia_json_ku64(j, "iova", e->iova);
		ia_json_ks64(j, "free_stack_id", e->free_stack_id);
		ia_json_ks64(j, "map_stack_id", e->map_stack_id);
		ia_json_kbool(j, "slab", h->flags & IA_FREED_SLAB);
		ia_json_kbool(j, "lazy", h->flags & IA_FREED_LAZY);
		break;
	}
	case IA_EV_PT_SNAP:
		dump_pt_snap(j, (const void *)h);
		break;
	case IA_EV_PAGE: {
		const struct ia_ev_page *e = (const void *)h;
		char name[IA_NAME_LEN + 1];

		snprintf(name, sizeof(name), "%.*s", IA_NAME_LEN, e->name);
		ia_json_ku64(j, "phys", e->phys);
		ia_json_kstr(j, "kind", ia_page_kind_str(e->kind));
		ia_json_ku64(j, "base", e->base);
		ia_json_ku64(j, "dev", e->dev);
		ia_json_ku64(j, "obj_size", e->obj_size);
		ia_json_ku64(j, "stride", e->stride);
		ia_json_ku64(j, "objects", e->objects);
		ia_json_ku64(j, "inuse", e->inuse);
		ia_json_ku64(j, "red_left_pad", e->red_left_pad);
		ia_json_kstr(j, "name", name);
		ia_json_kbool(j, "buddy", h->flags & IA_PAGE_F_BUDDY);
		ia_json_kbool(j, "compound", h->flags & IA_PAGE_F_COMPOUND);
		ia_json_kbool(j, "noref", h->flags & IA_PAGE_F_NOREF);
		break;
	}
	}
	ia_json_obj_end(j);
	fputc('\n', j->out);
}

int cmd_dump(struct ia_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct ia_trace_reader *r;
	const struct ia_trace_meta *m;
	const struct ia_trace_stats *st;
	const struct ia_ev_hdr *rec;
	struct ia_u64map names;
	struct ia_json j;
	char err[512];
	int c, ret;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return IA_EXIT_OK;
		default: return ia_bad_option(cli, usage, c, argv);
		}
	}
	if (optind != argc - 1)
		return ia_usage_error(cli, usage, "dump: one TRACE argument expected");
	if (cli->parse_only)
		return IA_EXIT_OK;
	/* JSON Lines whatever -j says: errors too come as a JSON line */
	cli->json = true;
	r = ia_trace_open(argv[optind], err, sizeof(err));
	if (!r)
		return ia_fail(cli, IA_EXIT_USAGE, "%s", err);
	m = ia_trace_meta(r);
	ia_json_init(&j, stdout, false);
	ia_json_obj_begin(&j);
	ia_json_kstr(&j, "type", "header");
	ia_json_kstr(&j, "kernel", m->kernel_release);
	ia_json_ku64(&j, "page_size", m->page_size);
	ia_json_kstr(&j, "boot_id", m->boot_id);
	ia_json_kstr(&j, "hostname", m->hostname);
	ia_json_kstr(&j, "tool_version", m->tool_version);
	ia_json_ku64(&j, "start_realtime_ns", m->start_realtime_ns);
	ia_json_ku64(&j, "start_monotonic_ns", m->start_monotonic_ns);
	ia_json_obj_end(&j);
	fputc('\n', stdout);

	ia_u64map_init(&names);
	while ((ret = ia_trace_next(r, &rec)) == 1) {
		ia_json_init(&j, stdout, false);
		dump_record(&j, &names, rec);
	}
	ia_u64map_free_values(&names);
	if (ret < 0) {
		ia_json_init(&cli->j, stdout, false);
		ret = ia_fail(cli, IA_EXIT_USAGE, "%s", ia_trace_error(r));
		ia_trace_close(r);
		return ret;
	}
	st = ia_trace_stats(r);
	ia_json_init(&j, stdout, false);
	ia_json_obj_begin(&j);
	ia_json_kstr(&j, "type", "trailer");
	ia_json_ku64(&j, "records", st->records);
	ia_json_ku64(&j, "lost_ringbuf", st->lost[IA_DROP_RINGBUF]);
	ia_json_ku64(&j, "lost_inflight", st->lost[IA_DROP_INFLIGHT]);
	ia_json_ku64(&j, "lost_stack", st->lost[IA_DROP_STACK]);
	ia_json_obj_end(&j);
	fputc('\n', stdout);
	/* st is the reader's: decided before the close frees it */
	ret = st->lost[IA_DROP_RINGBUF] || st->lost[IA_DROP_INFLIGHT] ?
	      IA_EXIT_INCOMPLETE : IA_EXIT_OK;
	ia_trace_close(r);
	return ret;
}
