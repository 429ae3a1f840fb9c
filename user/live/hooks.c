// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include "live/hooks.h"
#include "trace/trace.h"

#define CK_MAP	(IA_CHECK_TRANSLATION | IA_CHECK_EXPOSURE | IA_CHECK_ALIGNMENT | \
		 IA_CHECK_LIFECYCLE)
#define CK_UNMAP	(IA_CHECK_EXPOSURE | IA_CHECK_LIFECYCLE)

/* variants: request hooks (entry+exit), exit-only hooks, syncs (entry
 * only), tracepoints (no fallback); the kprobe programs are named after the
 * fentry ones (bpf/requests.bpf.c, pgtable.bpf.c, flush.bpf.c) */
#define REQ(t, p, since)	{ t, { #p "_enter", #p "_exit" }, { #p "_kenter", #p "_kexit" }, since }
#define EXIT(t, p, since)	{ t, { #p, NULL }, { #p "_kenter", #p "_kexit" }, since }
#define SYNC(t, p)		{ t, { #p, NULL }, { #p "_k", NULL }, NULL }
#define TP(t, p)		{ t, { #p, NULL }, { NULL, NULL }, NULL }

/*
 * Order matters only for reports. Versions in `since` were checked against
 * Debian 6.1 and a 6.18 kernel's BTF.
 */
const struct ia_hook ia_hooks[] = {
	{ "map_page", IA_ATTACH_FENTRY, CK_MAP, "single mappings (dma_map_page/single)",
	  { REQ("iommu_dma_map_page", map_page, "<= 6.17"),
	    REQ("iommu_dma_map_phys", map_phys, "6.18+") } },
	{ "unmap_page", IA_ATTACH_FENTRY, CK_UNMAP, "single unmappings",
	  { REQ("iommu_dma_unmap_page", unmap_page, "<= 6.17"),
	    REQ("iommu_dma_unmap_phys", unmap_phys, "6.18+") } },
	{ "map_sg", IA_ATTACH_FENTRY, CK_MAP, "scatterlist mappings",
	  { REQ("iommu_dma_map_sg", map_sg, NULL) } },
	{ "unmap_sg", IA_ATTACH_FENTRY, CK_UNMAP, "scatterlist unmappings",
	  { REQ("iommu_dma_unmap_sg", unmap_sg, NULL) } },
	{ "iommu_dma_map", IA_ATTACH_FENTRY, CK_MAP, "internal map of page/resource/alloc",
	  { REQ("__iommu_dma_map", iommu_map, NULL) } },
	{ "map_resource", IA_ATTACH_FENTRY, CK_MAP, "MMIO mappings",
	  { REQ("iommu_dma_map_resource", map_resource, "gone in 6.18") } },
	{ "unmap_resource", IA_ATTACH_FENTRY, CK_UNMAP, "MMIO unmappings",
	  { REQ("iommu_dma_unmap_resource", unmap_resource, "gone in 6.18") } },
	{ "alloc", IA_ATTACH_FENTRY, CK_MAP, "coherent allocations",
	  { REQ("iommu_dma_alloc", alloc, NULL) } },
	{ "free", IA_ATTACH_FENTRY, CK_UNMAP, "coherent frees",
	  { REQ("iommu_dma_free", free, NULL) } },
	{ "alloc_noncontiguous", IA_ATTACH_FENTRY, CK_MAP, "noncontiguous allocations",
	  { REQ("iommu_dma_alloc_noncontiguous", alloc_noncontig, NULL) } },
	{ "free_noncontiguous", IA_ATTACH_FENTRY, CK_UNMAP, "noncontiguous frees",
	  { REQ("iommu_dma_free_noncontiguous", free_noncontig, NULL) } },
	{ "alloc_pages", IA_ATTACH_FENTRY, CK_MAP, "dma_alloc_pages",
	  { REQ("dma_common_alloc_pages", alloc_pages, NULL) } },
	{ "free_pages", IA_ATTACH_FENTRY, CK_UNMAP, "dma_free_pages",
	  { REQ("dma_common_free_pages", free_pages, NULL) } },
	{ "get_sgtable", IA_ATTACH_FENTRY, IA_CHECK_TRANSLATION,
	  "tables exported by dma_get_sgtable",
	  { REQ("iommu_dma_get_sgtable", get_sgtable, NULL) } },
	{ "sync_single_for_cpu", IA_ATTACH_FENTRY, IA_CHECK_LIFECYCLE, "syncs",
	  { SYNC("iommu_dma_sync_single_for_cpu", sync_single_cpu) } },
	{ "sync_single_for_device", IA_ATTACH_FENTRY, IA_CHECK_LIFECYCLE, "syncs",
	  { SYNC("iommu_dma_sync_single_for_device", sync_single_dev) } },
	{ "sync_sg_for_cpu", IA_ATTACH_FENTRY, IA_CHECK_LIFECYCLE, "syncs",
	  { SYNC("iommu_dma_sync_sg_for_cpu", sync_sg_cpu) } },
	{ "sync_sg_for_device", IA_ATTACH_FENTRY, IA_CHECK_LIFECYCLE, "syncs",
	  { SYNC("iommu_dma_sync_sg_for_device", sync_sg_dev) } },
	{ "pt_map", IA_ATTACH_FENTRY,
	  IA_CHECK_TRANSLATION | IA_CHECK_EXPOSURE | IA_CHECK_ALIGNMENT,
	  "page-table writes, with result",
	  { EXIT("__iommu_map", pt_map, "<= 6.15"),
	    EXIT("iommu_map_nosync", pt_map_nosync, "6.16+") } },
	{ "pt_unmap", IA_ATTACH_FENTRY, IA_CHECK_EXPOSURE | IA_CHECK_LIFECYCLE,
	  "page-table removals",
	  { EXIT("__iommu_unmap", pt_unmap, NULL) } },
	{ "tp_map", IA_ATTACH_TP_BTF, 0, "iommu:map cross-check",
	  { TP("map", tp_map) } },
	{ "tp_unmap", IA_ATTACH_TP_BTF, 0, "iommu:unmap cross-check",
	  { TP("unmap", tp_unmap) } },
	{ "swiotlb_map", IA_ATTACH_KPROBE, IA_CHECK_BOUNCE,
	  "bounce slots of untrusted devices",
	  { { "swiotlb_tbl_map_single", { "bounce_enter", "bounce_exit" }, { NULL, NULL }, NULL } } },
	{ "iova_unmap", IA_ATTACH_FENTRY, IA_CHECK_TEMPORAL,
	  "IOVA release, strict or queued",
	  { EXIT("__iommu_dma_unmap", iova_unmap, NULL) } },
	{ "fq_flush", IA_ATTACH_FENTRY, IA_CHECK_TEMPORAL, "flush-queue flushes",
	  { EXIT("fq_flush_iotlb", fq_flush, "6.1; renamed later") } },
};
const size_t ia_nr_hooks = sizeof(ia_hooks) / sizeof(ia_hooks[0]);

const char *const ia_free_progs[IA_NR_FREE_HOOKS] = {
	"free_page", "free_object", "free_kmalloc",
};
const char *const ia_free_tracepoints[IA_NR_FREE_HOOKS] = {
	"mm_page_free", "kmem_cache_free", "kfree",
};
const char *const ia_free_sections[IA_NR_FREE_HOOKS] = {
	"tp_btf/mm_page_free", "raw_tp/kmem_cache_free", "raw_tp/kfree",
};

const char *const *ia_hook_progs(const struct ia_hook_status *st)
{
	const struct ia_hook_variant *v = &st->hook->v[st->variant];

	return st->kprobe ? v->kprogs : v->progs;
}

const char *ia_check_name(__u32 check)
{
	switch (check) {
	case IA_CHECK_TRANSLATION:	return "translation";
	case IA_CHECK_EXPOSURE:		return "exposure";
	case IA_CHECK_ALIGNMENT:	return "alignment";
	case IA_CHECK_LIFECYCLE:	return "lifecycle";
	case IA_CHECK_TEMPORAL:		return "temporal";
	case IA_CHECK_BOUNCE:		return "bounce";
	default:			return "?";
	}
}

static bool target_exists(const struct btf *btf, enum ia_attach_kind kind,
			  const char *target)
{
	char name[128];

	if (!btf)
		return false;
	if (kind == IA_ATTACH_TP_BTF) {
		snprintf(name, sizeof(name), "btf_trace_%s", target);
		return btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) > 0;
	}
	return btf__find_by_name_kind(btf, target, BTF_KIND_FUNC) > 0;
}

void ia_hooks_resolve(const struct btf *btf, struct ia_hook_status *out)
{
	for (size_t i = 0; i < ia_nr_hooks; i++) {
		const struct ia_hook *h = &ia_hooks[i];
		struct ia_hook_status *s = &out[i];

		memset(s, 0, sizeof(*s));
		s->hook = h;
		s->variant = -1;
		for (int v = 0; v < IA_HOOK_MAX_VARIANTS && h->v[v].target; v++) {
			if (target_exists(btf, h->kind, h->v[v].target)) {
				s->variant = v;
				break;
			}
		}
		if (s->variant >= 0) {
			s->state = IA_HOOK_ATTACHED;
			continue;
		}
		s->state = IA_HOOK_MISSING;
		if (!btf)
			snprintf(s->reason, sizeof(s->reason), "no kernel BTF");
		else if (h->kind == IA_ATTACH_TP_BTF)
			snprintf(s->reason, sizeof(s->reason), "tracepoint %s (btf_trace_%s) not in kernel BTF",
				 h->v[0].target, h->v[0].target);
		else if (h->v[1].target)
			snprintf(s->reason, sizeof(s->reason), "neither %s nor %s in kernel BTF",
				 h->v[0].target, h->v[1].target);
		else
			snprintf(s->reason, sizeof(s->reason), "%s not in kernel BTF",
				 h->v[0].target);
	}
}

__u32 ia_hooks_incomplete_checks(const struct ia_hook_status *st, size_t n)
{
	__u32 bad = 0;

	for (size_t i = 0; i < n; i++)
		if (st[i].state != IA_HOOK_ATTACHED)
			bad |= st[i].hook->checks;
	return bad;
}

int ia_btf_func_nargs(const struct btf *btf, const char *func)
{
	const struct btf_type *t;
	int id;

	if (!btf)
		return -1;
	id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	if (id <= 0)
		return -1;
	t = btf__type_by_id(btf, id);
	t = t ? btf__type_by_id(btf, t->type) : NULL;	/* FUNC_PROTO */
	return t ? btf_vlen(t) : -1;
}
