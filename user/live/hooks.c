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
#define ENTRY(t, p, since)	{ t, { #p, NULL }, { #p "_k", NULL }, since }
/* t is now served by hook h's function and recorded by its programs */
#define VIA(t, h, since)	{ t, { NULL, NULL }, { NULL, NULL }, since, h }
#define KSYM(t)			{ t, { NULL, NULL }, { NULL, NULL }, NULL }
#define TPV(t, since)		{ t, { "tp_" t, NULL }, { NULL, NULL }, since }
/* a kernel data symbol whose absence changes no check's verdict: no check bit */
#define KSYM_ROW(name, sym, role)	{ name, IA_ATTACH_KSYM, 0, role, { KSYM(sym) } }

/* the two-step IOVA API (v6.16); its struct names the API */
#define IOVA_API	.api_struct = "dma_iova_state", .api_since = "6.16"
#define IOVA(p, fn, checks, role)					\
	{ #p, IA_ATTACH_FENTRY, checks, role, { REQ(fn, p, NULL) }, IOVA_API }
/* the dma:* tracepoints (v6.12): cross-checks, no check depends on them */
#define DMA_TP_API	.api_struct = "trace_event_raw_dma_map", .api_since = "6.12"
#define DMA_TP(name, role)						\
	{ "tp_" name, IA_ATTACH_TP_BTF, 0, role, { TPV(name, NULL) }, DMA_TP_API }

/*
 * Order matters only for reports. Versions in `since` were checked against
 * Debian 6.1, 6.12 and 7.2 and a 6.18 kernel's BTF (tests/unit/test_hooks.c
 * runs the table against the Debian ones, tests/data/btf/).
 */
const char *const ia_ksym_names[IA_NR_KSYMS] = {
	[IA_KSYM_VMEMMAP_BASE]		= "vmemmap_base",
	[IA_KSYM_PAGE_OFFSET_BASE]	= "page_offset_base",
	[IA_KSYM_MAX_PFN]		= "max_pfn",
	[IA_KSYM_PHYS_BASE]		= "phys_base",
	[IA_KSYM_TEXT]			= "_text",
	[IA_KSYM_END]			= "_end",
	[IA_KSYM_IO_TLB_DEFAULT_MEM]	= "io_tlb_default_mem",
};

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
	/* 6.18: dma_map_resource() = dma_map_phys(.., DMA_ATTR_MMIO), which
	 * the map_page hook's map_phys programs record as MMIO requests */
	{ "map_resource", IA_ATTACH_FENTRY, CK_MAP, "MMIO mappings",
	  { REQ("iommu_dma_map_resource", map_resource, "<= 6.17"),
	    VIA("iommu_dma_map_phys", "map_page", "6.18+: with DMA_ATTR_MMIO") } },
	{ "unmap_resource", IA_ATTACH_FENTRY, CK_UNMAP, "MMIO unmappings",
	  { REQ("iommu_dma_unmap_resource", unmap_resource, "<= 6.17"),
	    VIA("iommu_dma_unmap_phys", "unmap_page", "6.18+: with DMA_ATTR_MMIO") } },
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
	/* bpf/unbind.bpf.c: every unbind (sysfs, driver_detach, removal)
	 * leaves through it, after remove() and devres. Missing on a live
	 * kernel: leaks are reported at the end only (lifecycle partial); a
	 * trace recorded before the row reports them at the end as it did */
	{ "unbind", IA_ATTACH_FENTRY, IA_CHECK_LIFECYCLE,
	  "driver unbinds: mappings left at the release",
	  { EXIT("device_release_driver_internal", unbind, NULL) }, .unlisted_ok = true },
	{ "pt_map", IA_ATTACH_FENTRY,
	  IA_CHECK_TRANSLATION | IA_CHECK_EXPOSURE | IA_CHECK_ALIGNMENT,
	  "page-table writes, with result",
	  { EXIT("__iommu_map", pt_map, "<= 6.15"),
	    EXIT("iommu_map_nosync", pt_map_nosync, "6.16+") } },
	{ "pt_unmap", IA_ATTACH_FENTRY, IA_CHECK_EXPOSURE | IA_CHECK_LIFECYCLE,
	  "page-table removals",
	  { EXIT("__iommu_unmap", pt_unmap, NULL) } },
	/* bpf/audit.bpf.h ia_page_to_phys(): the physical address of every
	 * request given as a struct page (map_page, map_sg, alloc_pages) is
	 * (page - vmemmap_base) / sizeof(struct page). A kernel without
	 * CONFIG_KALLSYMS_ALL (or RANDOMIZE_MEMORY) does not list it */
	{ "page_to_phys", IA_ATTACH_KSYM, CK_MAP,
	  "struct page -> phys (vmemmap_base in /proc/kallsyms)",
	  { KSYM("vmemmap_base") } },
	/* The rest of enum ia_ksym (tests/unit/test_hooks.c: each has its
	 * row). Without one, the programs name less, and no check's verdict
	 * changes (so no check bit): bpf/classify.bpf.c names the exposed
	 * pages of MMIO, the kernel image and swiotlb's pool by address and
	 * calls them by what their struct page says (reserved, or a guess
	 * past RAM) when it cannot; bpf/frees.bpf.c and requests.bpf.c turn
	 * kfree's pointers and linear-map stacks into phys with
	 * page_offset_base (--free-hooks refuses to start without it) */
	KSYM_ROW("ksym_page_offset_base", "page_offset_base",
		 "direct map: kfree'd objects (--free-hooks), linear-map stacks (exposure.stack)"),
	KSYM_ROW("ksym_max_pfn", "max_pfn",
		 "classification: exposed pages past RAM named mmio"),
	KSYM_ROW("ksym_phys_base", "phys_base",
		 "classification: kernel image pages named (with _text, _end)"),
	KSYM_ROW("ksym_text", "_text",
		 "classification: kernel image pages named (its start)"),
	KSYM_ROW("ksym_end", "_end",
		 "classification: kernel image pages named (its end)"),
	KSYM_ROW("ksym_io_tlb_default_mem", "io_tlb_default_mem",
		 "classification: swiotlb's default pool named swiotlb"),
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
	  { EXIT("fq_flush_iotlb", fq_flush, "<= 6.12; inlined later"),
	    ENTRY("fq_ring_free_locked", fq_ring_free, "7.x: fq_flush_finish_cnt moved") } },
	IOVA(iova_alloc, "dma_iova_try_alloc", IA_CHECK_LIFECYCLE | IA_CHECK_ALIGNMENT,
	     "IOVA API: ranges reserved"),
	IOVA(iova_link, "dma_iova_link", CK_MAP, "IOVA API: ranges linked (mapped)"),
	IOVA(iova_sync, "dma_iova_sync", IA_CHECK_LIFECYCLE, "IOVA API: IOTLB syncs"),
	IOVA(iova_unlink, "dma_iova_unlink", CK_UNMAP, "IOVA API: ranges unlinked"),
	IOVA(iova_destroy, "dma_iova_destroy", CK_UNMAP | IA_CHECK_TEMPORAL,
	     "IOVA API: unlink all and release"),
	IOVA(iova_free, "dma_iova_free", IA_CHECK_LIFECYCLE, "IOVA API: ranges released"),
	{ "tp_dma_map", IA_ATTACH_TP_BTF, 0, "dma:* cross-check: single maps",
	  { TPV("dma_map_phys", "6.18+"), TPV("dma_map_page", "6.12-6.17") }, DMA_TP_API },
	{ "tp_dma_unmap", IA_ATTACH_TP_BTF, 0, "dma:* cross-check: single unmaps",
	  { TPV("dma_unmap_phys", "6.18+"), TPV("dma_unmap_page", "6.12-6.17") }, DMA_TP_API },
	{ "tp_dma_map_resource", IA_ATTACH_TP_BTF, 0, "dma:* cross-check: MMIO maps",
	  { TPV("dma_map_resource", "6.12-6.17"), VIA("dma_map_phys", "tp_dma_map", "6.18+: folded in") }, DMA_TP_API },
	{ "tp_dma_unmap_resource", IA_ATTACH_TP_BTF, 0, "dma:* cross-check: MMIO unmaps",
	  { TPV("dma_unmap_resource", "6.12-6.17"), VIA("dma_unmap_phys", "tp_dma_unmap", "6.18+: folded in") },
	  DMA_TP_API },
	DMA_TP("dma_map_sg", "dma:* cross-check: scatterlist maps"),
	DMA_TP("dma_map_sg_err", "dma:* cross-check: failed scatterlist maps"),
	DMA_TP("dma_unmap_sg", "dma:* cross-check: scatterlist unmaps"),
	DMA_TP("dma_alloc", "dma:* cross-check: coherent allocations"),
	DMA_TP("dma_free", "dma:* cross-check: coherent frees"),
	DMA_TP("dma_alloc_pages", "dma:* cross-check: dma_alloc_pages"),
	DMA_TP("dma_free_pages", "dma:* cross-check: dma_free_pages"),
	DMA_TP("dma_alloc_sgt", "dma:* cross-check: noncontiguous allocations"),
	DMA_TP("dma_alloc_sgt_err", "dma:* cross-check: failed noncontiguous allocations"),
	DMA_TP("dma_free_sgt", "dma:* cross-check: noncontiguous frees"),
	DMA_TP("dma_sync_single_for_cpu", "dma:* cross-check: syncs"),
	DMA_TP("dma_sync_single_for_device", "dma:* cross-check: syncs"),
	DMA_TP("dma_sync_sg_for_cpu", "dma:* cross-check: syncs"),
	DMA_TP("dma_sync_sg_for_device", "dma:* cross-check: syncs"),
};
const size_t ia_nr_hooks = sizeof(ia_hooks) / sizeof(ia_hooks[0]);
_Static_assert(sizeof(ia_hooks) / sizeof(ia_hooks[0]) <= IA_MAX_HOOKS,
	       "ia_hooks[] has more rows than a status array holds (IA_MAX_HOOKS)");

/*
 * Production mode (bpf/prod.bpf.c): the hooks its counters need, one
 * program each per map, unmap and flush. What it does not see is listed
 * in ia_prod_not_counted.
 */
const struct ia_hook ia_prod_hooks[] = {
	{ "prod_map", IA_ATTACH_FENTRY, IA_CHECK_EXPOSURE,
	  "maps and their exposure, counted in BPF",
	  { EXIT("__iommu_dma_map", prod_map, NULL) } },
	{ "prod_unmap", IA_ATTACH_FENTRY, IA_CHECK_LIFECYCLE | IA_CHECK_TEMPORAL,
	  "unmaps: live mappings, lazy queue",
	  { EXIT("__iommu_dma_unmap", prod_unmap, NULL) } },
	{ "prod_fq_flush", IA_ATTACH_FENTRY, IA_CHECK_TEMPORAL, "flush-queue flushes: lazy windows",
	  { EXIT("fq_flush_iotlb", prod_fq_flush, "<= 6.12; inlined later"),
	    ENTRY("fq_ring_free_locked", prod_fq_ring_free, "7.x: fq_flush_finish_cnt moved") } },
};
const size_t ia_nr_prod_hooks = sizeof(ia_prod_hooks) / sizeof(ia_prod_hooks[0]);

const char *const ia_prod_not_counted[] = {
	"map_sg (iommu_map_sg)",
	"remapped and noncontiguous allocations (iommu_map_sg)",
	"IOVA API links (iommu_map_nosync)",
	NULL,
};

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
	if (kind == IA_ATTACH_KSYM)
		return true;	/* provisional: the loader reads /proc/kallsyms */
	if (kind == IA_ATTACH_TP_BTF) {
		snprintf(name, sizeof(name), "btf_trace_%s", target);
		return btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) > 0;
	}
	return btf__find_by_name_kind(btf, target, BTF_KIND_FUNC) > 0;
}

void ia_hooks_resolve(const struct btf *btf, struct ia_hook_status *out)
{
	ia_hooks_resolve_table(btf, ia_hooks, ia_nr_hooks, out);
}

void ia_hooks_resolve_table(const struct btf *btf, const struct ia_hook *table, size_t n,
			    struct ia_hook_status *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct ia_hook *h = &table[i];
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
		if (s->variant >= 0) {	/* a `via` one: ia_hooks_follow_via() decides */
			s->state = IA_HOOK_ATTACHED;
			continue;
		}
		if (h->api_struct && btf &&
		    btf__find_by_name_kind(btf, h->api_struct, BTF_KIND_STRUCT) <= 0) {
			s->state = IA_HOOK_ABSENT;
			snprintf(s->reason, sizeof(s->reason),
				 "not in this kernel: no struct %s (API of %s+)",
				 h->api_struct, h->api_since);
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
	ia_hooks_follow_via(out, n);
}

static struct ia_hook_status *status_by_name(struct ia_hook_status *st, size_t n,
					    const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(st[i].hook->name, name))
			return &st[i];
	return NULL;
}

void ia_hooks_follow_via(struct ia_hook_status *st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ia_hook_status *s = &st[i], *by;
		const char *via;

		if (s->variant < 0 || !(via = s->hook->v[s->variant].via))
			continue;
		by = status_by_name(st, n, via);
		if (!by || by->state != IA_HOOK_ATTACHED) {
			s->state = by ? by->state : IA_HOOK_MISSING;
			snprintf(s->reason, sizeof(s->reason), "via %s: %.60s", via,
				 by ? by->reason : "no such hook");
			continue;
		}
		s->state = IA_HOOK_ATTACHED;
		s->kprobe = by->kprobe;
		s->fentry_err = by->fentry_err;
		memcpy(s->reason, by->reason, sizeof(s->reason));
	}
}

__u32 ia_hooks_incomplete_checks(const struct ia_hook_status *st, size_t n)
{
	__u32 bad = 0;

	for (size_t i = 0; i < n; i++)
		if (!ia_hook_state_covers(st[i].state))
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

/* Index of name in ia_ksym_names[], or -1. */
static int ksym_index(const char *name)
{
	for (int i = 0; i < IA_NR_KSYMS; i++)
		if (!strcmp(ia_ksym_names[i], name))
			return i;
	return -1;
}

void ia_hooks_check_ksyms(struct ia_hook_status *st, size_t n, const __u64 *addr, int err,
			  const char *path)
{
	for (size_t i = 0; i < n; i++) {
		struct ia_hook_status *s = &st[i];
		const char *target;
		int k;

		if (s->hook->kind != IA_ATTACH_KSYM || s->state != IA_HOOK_ATTACHED)
			continue;
		target = s->hook->v[s->variant].target;
		k = ksym_index(target);
		if (k >= 0 && addr[k])
			continue;
		s->state = IA_HOOK_MISSING;
		if (err)
			snprintf(s->reason, sizeof(s->reason), "%s: cannot read %s: %s",
				 target, path, strerror(err));
		else
			snprintf(s->reason, sizeof(s->reason), "%s not in %s%s", target, path,
				 k < 0 ? " (internal: not in ia_ksym_names)" :
				 " (CONFIG_KALLSYMS_ALL off?)");
	}
}
