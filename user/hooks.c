// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include "hooks.h"
#include "trace.h"

#define REQ	(IA_CHECK_TRANSLATION | IA_CHECK_EXPOSURE | IA_CHECK_ALIGNMENT | \
		 IA_CHECK_LIFECYCLE)
#define REL	(IA_CHECK_EXPOSURE | IA_CHECK_LIFECYCLE)

#define PAIR(p)		{ #p "_enter", #p "_exit" }
#define ONE(p)		{ #p, NULL }

/*
 * Order matters only for reports. Versions in `since` were checked against
 * Debian 6.1 and a 6.18 kernel's BTF.
 */
const struct ia_hook ia_hooks[] = {
	{ "map_page", IA_ATTACH_FENTRY, REQ, "single mappings (dma_map_page/single)",
	  { { "iommu_dma_map_page", PAIR(map_page), "<= 6.17" },
	    { "iommu_dma_map_phys", PAIR(map_phys), "6.18+" } } },
	{ "unmap_page", IA_ATTACH_FENTRY, REL, "single unmappings",
	  { { "iommu_dma_unmap_page", PAIR(unmap_page), "<= 6.17" },
	    { "iommu_dma_unmap_phys", PAIR(unmap_phys), "6.18+" } } },
	{ "map_sg", IA_ATTACH_FENTRY, REQ, "scatterlist mappings",
	  { { "iommu_dma_map_sg", PAIR(map_sg), NULL } } },
	{ "unmap_sg", IA_ATTACH_FENTRY, REL, "scatterlist unmappings",
	  { { "iommu_dma_unmap_sg", PAIR(unmap_sg), NULL } } },
	{ "iommu_dma_map", IA_ATTACH_FENTRY, REQ, "internal map of page/resource/alloc",
	  { { "__iommu_dma_map", PAIR(iommu_map), NULL } } },
	{ "map_resource", IA_ATTACH_FENTRY, REQ, "MMIO mappings",
	  { { "iommu_dma_map_resource", PAIR(map_resource), "gone in 6.18" } } },
	{ "unmap_resource", IA_ATTACH_FENTRY, REL, "MMIO unmappings",
	  { { "iommu_dma_unmap_resource", PAIR(unmap_resource), "gone in 6.18" } } },
	{ "alloc", IA_ATTACH_FENTRY, REQ, "coherent allocations",
	  { { "iommu_dma_alloc", PAIR(alloc), NULL } } },
	{ "free", IA_ATTACH_FENTRY, REL, "coherent frees",
	  { { "iommu_dma_free", PAIR(free), NULL } } },
	{ "alloc_noncontiguous", IA_ATTACH_FENTRY, REQ, "noncontiguous allocations",
	  { { "iommu_dma_alloc_noncontiguous", PAIR(alloc_noncontig), NULL } } },
	{ "free_noncontiguous", IA_ATTACH_FENTRY, REL, "noncontiguous frees",
	  { { "iommu_dma_free_noncontiguous", PAIR(free_noncontig), NULL } } },
	{ "alloc_pages", IA_ATTACH_FENTRY, REQ, "dma_alloc_pages",
	  { { "dma_common_alloc_pages", PAIR(alloc_pages), NULL } } },
	{ "free_pages", IA_ATTACH_FENTRY, REL, "dma_free_pages",
	  { { "dma_common_free_pages", PAIR(free_pages), NULL } } },
	{ "sync_single_for_cpu", IA_ATTACH_FENTRY, IA_CHECK_LIFECYCLE, "syncs",
	  { { "iommu_dma_sync_single_for_cpu", ONE(sync_single_cpu), NULL } } },
	{ "sync_single_for_device", IA_ATTACH_FENTRY, IA_CHECK_LIFECYCLE, "syncs",
	  { { "iommu_dma_sync_single_for_device", ONE(sync_single_dev), NULL } } },
	{ "sync_sg_for_cpu", IA_ATTACH_FENTRY, IA_CHECK_LIFECYCLE, "syncs",
	  { { "iommu_dma_sync_sg_for_cpu", ONE(sync_sg_cpu), NULL } } },
	{ "sync_sg_for_device", IA_ATTACH_FENTRY, IA_CHECK_LIFECYCLE, "syncs",
	  { { "iommu_dma_sync_sg_for_device", ONE(sync_sg_dev), NULL } } },
	{ "pt_map", IA_ATTACH_FENTRY,
	  IA_CHECK_TRANSLATION | IA_CHECK_EXPOSURE | IA_CHECK_ALIGNMENT,
	  "page-table writes, with result",
	  { { "__iommu_map", ONE(pt_map), "<= 6.15" },
	    { "iommu_map_nosync", ONE(pt_map_nosync), "6.16+" } } },
	{ "pt_unmap", IA_ATTACH_FENTRY, IA_CHECK_EXPOSURE | IA_CHECK_LIFECYCLE,
	  "page-table removals",
	  { { "__iommu_unmap", ONE(pt_unmap), NULL } } },
	{ "tp_map", IA_ATTACH_TP_BTF, 0, "iommu:map cross-check",
	  { { "map", ONE(tp_map), NULL } } },
	{ "tp_unmap", IA_ATTACH_TP_BTF, 0, "iommu:unmap cross-check",
	  { { "unmap", ONE(tp_unmap), NULL } } },
	{ "swiotlb_map", IA_ATTACH_KPROBE, IA_CHECK_BOUNCE,
	  "bounce slots of untrusted devices",
	  { { "swiotlb_tbl_map_single", { "bounce_enter", "bounce_exit" }, NULL } } },
	{ "iova_unmap", IA_ATTACH_FENTRY, IA_CHECK_TEMPORAL,
	  "IOVA release, strict or queued",
	  { { "__iommu_dma_unmap", ONE(iova_unmap), NULL } } },
	{ "fq_flush", IA_ATTACH_FENTRY, IA_CHECK_TEMPORAL, "flush-queue flushes",
	  { { "fq_flush_iotlb", ONE(fq_flush), "6.1; renamed later" } } },
};
const size_t ia_nr_hooks = sizeof(ia_hooks) / sizeof(ia_hooks[0]);

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
