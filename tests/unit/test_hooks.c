// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the hook table and its resolution against a kernel's BTF
 * (user/live/hooks.c).
 *
 * The kernels are synthetic BTFs built with libbpf's btf__add_*(): one with
 * the 6.1 names (iommu_dma_map_page, __iommu_map, fq_flush_iotlb, a 7-argument
 * swiotlb_tbl_map_single), one with the 6.18 names (iommu_dma_map_phys,
 * iommu_map_nosync, no iommu_dma_map_resource/fq_flush_iotlb, 6 arguments),
 * an empty one and none at all; and the real ones of Debian's 6.1, 6.12 and
 * 7.2 (tests/data/btf/, cut down by tools/gen-test-btf.sh), with the CO-RE
 * flavours of the granule's path checked against them. The expected
 * outcomes are written out by hand, hook by hook.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "live/coverage.h"
#include "live/hooks.h"
#include "lib/json.h"
#include "trace/trace.h"
#include "iommu_audit.skel.h"

/* ---- helpers ---- */

#define EXPECT_INT(what, got, want) do {					\
	long long _g = (got), _w = (want);					\
	if (_g != _w)								\
		fail_msg("%s: got %lld, want %lld", (what), _g, _w);		\
} while (0)

#define EXPECT_HEX(what, got, want) do {					\
	unsigned long long _g = (got), _w = (want);				\
	if (_g != _w)								\
		fail_msg("%s: got 0x%llx, want 0x%llx", (what), _g, _w);	\
} while (0)

#define EXPECT_STR(what, got, want) do {					\
	const char *_g = (got), *_w = (want);					\
	if (!_g || strcmp(_g, _w))						\
		fail_msg("%s: got \"%s\", want \"%s\"", (what),			\
			 _g ? _g : "(null)", _w);				\
} while (0)

struct fn {
	const char *name;
	int nargs;
};

/*
 * A BTF holding the functions fns (each an int f(int, ...) with nargs
 * parameters) and, for each tracepoint name in tps, the typedef
 * btf_trace_<name> to a pointer to a function prototype, as the kernel has.
 * Decoys: typedefs given in typedefs (not functions).
 */
static struct btf *make_btf(const struct fn *fns, const char *const *tps,
			    const char *const *typedefs)
{
	struct btf *btf = btf__new_empty();
	int int_id, proto, id;
	char name[128];

	if (!btf)
		fail_msg("btf__new_empty: %s", strerror(errno));
	int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	if (int_id <= 0)
		fail_msg("btf__add_int: %d", int_id);
	for (; fns && fns->name; fns++) {
		proto = btf__add_func_proto(btf, int_id);
		if (proto <= 0)
			fail_msg("btf__add_func_proto(%s): %d", fns->name, proto);
		for (int i = 0; i < fns->nargs; i++) {
			snprintf(name, sizeof(name), "a%d", i);
			if (btf__add_func_param(btf, name, int_id))
				fail_msg("btf__add_func_param(%s, %d)", fns->name, i);
		}
		id = btf__add_func(btf, fns->name, BTF_FUNC_GLOBAL, proto);
		if (id <= 0)
			fail_msg("btf__add_func(%s): %d", fns->name, id);
	}
	for (; tps && *tps; tps++) {
		proto = btf__add_func_proto(btf, 0);
		if (proto <= 0 || btf__add_func_param(btf, "__data", int_id))
			fail_msg("tracepoint %s: proto", *tps);
		id = btf__add_ptr(btf, proto);
		snprintf(name, sizeof(name), "btf_trace_%s", *tps);
		if (id <= 0 || btf__add_typedef(btf, name, id) <= 0)
			fail_msg("btf__add_typedef(%s)", name);
	}
	for (; typedefs && *typedefs; typedefs++)
		if (btf__add_typedef(btf, *typedefs, int_id) <= 0)
			fail_msg("btf__add_typedef(%s)", *typedefs);
	return btf;
}

static const struct ia_hook *hook_by_name(const char *name)
{
	for (size_t i = 0; i < ia_nr_hooks; i++)
		if (!strcmp(ia_hooks[i].name, name))
			return &ia_hooks[i];
	fail_msg("hook \"%s\" is not in ia_hooks[]", name);
	return NULL;
}

static size_t hook_index(const char *name)
{
	return hook_by_name(name) - ia_hooks;
}

/* ia_hooks_resolve into a freshly allocated array poisoned beforehand. */
static struct ia_hook_status *resolve(const struct btf *btf)
{
	struct ia_hook_status *st = malloc(ia_nr_hooks * sizeof(*st));

	assert_non_null(st);
	/* poison: every field must be written by resolve */
	memset(st, 0x5a, ia_nr_hooks * sizeof(*st));
	ia_hooks_resolve(btf, st);
	return st;
}

struct want_hook {
	const char *name;
	int variant;		/* -1: missing (or absent) */
	const char *reason;	/* exact; "" when attached */
	bool absent;		/* variant -1: IA_HOOK_ABSENT, not missing */
};

/*
 * Every hook of the table must be listed in want, exactly once, and resolve
 * as stated there.
 */
static void check_status(const char *kernel, const struct ia_hook_status *st,
			 const struct want_hook *want, size_t n)
{
	char what[160];

	EXPECT_INT("number of hooks in the expectation table (update the test "
		   "when ia_hooks[] changes)", n, ia_nr_hooks);
	for (size_t k = 0; k < n; k++) {
		const struct want_hook *w = &want[k];
		size_t i = hook_index(w->name);
		const struct ia_hook_status *s = &st[i];

		for (size_t m = 0; m < k; m++)
			if (!strcmp(want[m].name, w->name))
				fail_msg("%s: hook %s listed twice in the test", kernel, w->name);
		snprintf(what, sizeof(what), "%s: hook %s: status.hook", kernel, w->name);
		if (s->hook != &ia_hooks[i])
			fail_msg("%s: got %p, want %p", what, (void *)s->hook, (void *)&ia_hooks[i]);
		snprintf(what, sizeof(what), "%s: hook %s: variant", kernel, w->name);
		EXPECT_INT(what, s->variant, w->variant);
		snprintf(what, sizeof(what), "%s: hook %s: state", kernel, w->name);
		EXPECT_INT(what, s->state, w->variant >= 0 ? IA_HOOK_ATTACHED :
					   w->absent ? IA_HOOK_ABSENT : IA_HOOK_MISSING);
		snprintf(what, sizeof(what), "%s: hook %s: kprobe", kernel, w->name);
		EXPECT_INT(what, s->kprobe, false);
		snprintf(what, sizeof(what), "%s: hook %s: fentry_err", kernel, w->name);
		EXPECT_INT(what, s->fentry_err, 0);
		snprintf(what, sizeof(what), "%s: hook %s: reason", kernel, w->name);
		if (!memchr(s->reason, 0, sizeof(s->reason)))
			fail_msg("%s: not NUL-terminated", what);
		EXPECT_STR(what, s->reason, w->reason);
	}
}

/* ---- the kernels ---- */

static const struct fn fns_6_1[] = {
	{ "iommu_dma_map_page", 6 },
	{ "iommu_dma_unmap_page", 5 },
	{ "iommu_dma_map_sg", 5 },
	{ "iommu_dma_unmap_sg", 5 },
	{ "__iommu_dma_map", 5 },
	{ "iommu_dma_map_resource", 5 },
	{ "iommu_dma_unmap_resource", 5 },
	{ "iommu_dma_alloc", 5 },
	{ "iommu_dma_free", 5 },
	{ "iommu_dma_alloc_noncontiguous", 5 },
	{ "iommu_dma_free_noncontiguous", 3 },
	{ "dma_common_alloc_pages", 5 },
	{ "dma_common_free_pages", 5 },
	{ "iommu_dma_get_sgtable", 6 },
	{ "iommu_dma_sync_single_for_cpu", 4 },
	{ "iommu_dma_sync_single_for_device", 4 },
	{ "iommu_dma_sync_sg_for_cpu", 4 },
	{ "iommu_dma_sync_sg_for_device", 4 },
	{ "__iommu_map", 6 },
	{ "__iommu_unmap", 4 },
	{ "swiotlb_tbl_map_single", 7 },
	{ "__iommu_dma_unmap", 3 },
	{ "fq_flush_iotlb", 1 },
	{ "device_release_driver_internal", 3 },
	/* unrelated functions a kernel has too */
	{ "iommu_map", 6 },
	{ "iommu_unmap", 3 },
	{ "dma_map_page_attrs", 6 },
	{ NULL, 0 },
};

static const struct fn fns_6_18[] = {
	{ "iommu_dma_map_phys", 5 },
	{ "iommu_dma_unmap_phys", 5 },
	{ "iommu_dma_map_sg", 5 },
	{ "iommu_dma_unmap_sg", 5 },
	{ "__iommu_dma_map", 5 },
	{ "iommu_dma_alloc", 5 },
	{ "iommu_dma_free", 5 },
	{ "iommu_dma_alloc_noncontiguous", 5 },
	{ "iommu_dma_free_noncontiguous", 3 },
	{ "dma_common_alloc_pages", 5 },
	{ "dma_common_free_pages", 5 },
	{ "iommu_dma_get_sgtable", 6 },
	{ "iommu_dma_sync_single_for_cpu", 4 },
	{ "iommu_dma_sync_single_for_device", 4 },
	{ "iommu_dma_sync_sg_for_cpu", 4 },
	{ "iommu_dma_sync_sg_for_device", 4 },
	{ "iommu_map_nosync", 6 },
	{ "__iommu_unmap", 4 },
	{ "swiotlb_tbl_map_single", 6 },
	{ "__iommu_dma_unmap", 3 },
	{ "iommu_map", 6 },
	{ "dma_map_phys", 5 },
	{ "device_release_driver_internal", 3 },
	{ NULL, 0 },
};

static const char *const tps_iommu[] = { "map", "unmap", "io_page_fault", NULL };

/* The IOVA API (6.16) and dma:* tracepoint (6.12) hooks: absent on a kernel
 * without their API struct, attached where it is */
#define IOVA_NONE	"not in this kernel: no struct dma_iova_state (API of 6.16+)"
#define DMA_TP_NONE	"not in this kernel: no struct trace_event_raw_dma_map (API of 6.12+)"
#define IOVA_ABSENT \
	{ "iova_alloc", -1, IOVA_NONE, true }, \
	{ "iova_link", -1, IOVA_NONE, true }, \
	{ "iova_sync", -1, IOVA_NONE, true }, \
	{ "iova_unlink", -1, IOVA_NONE, true }, \
	{ "iova_destroy", -1, IOVA_NONE, true }, \
	{ "iova_free", -1, IOVA_NONE, true }
#define IOVA_ATTACHED \
	{ "iova_alloc", 0, "" }, \
	{ "iova_link", 0, "" }, \
	{ "iova_sync", 0, "" }, \
	{ "iova_unlink", 0, "" }, \
	{ "iova_destroy", 0, "" }, \
	{ "iova_free", 0, "" }
#define DMA_TP_ABSENT \
	{ "tp_dma_map", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_unmap", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_map_resource", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_unmap_resource", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_map_sg", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_map_sg_err", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_unmap_sg", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_alloc", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_free", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_alloc_pages", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_free_pages", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_alloc_sgt", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_alloc_sgt_err", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_free_sgt", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_sync_single_for_cpu", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_sync_single_for_device", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_sync_sg_for_cpu", -1, DMA_TP_NONE, true }, \
	{ "tp_dma_sync_sg_for_device", -1, DMA_TP_NONE, true }
/* the dma:* tracepoint hooks attached: the single map/unmap ones with
 * variant vmap, the MMIO ones with vres */
#define DMA_TP_ATTACHED(vmap, vres) \
	{ "tp_dma_map", vmap, "" }, { "tp_dma_unmap", vmap, "" }, \
	{ "tp_dma_map_resource", vres, "" }, { "tp_dma_unmap_resource", vres, "" }, \
	{ "tp_dma_map_sg", 0, "" }, \
	{ "tp_dma_map_sg_err", 0, "" }, \
	{ "tp_dma_unmap_sg", 0, "" }, \
	{ "tp_dma_alloc", 0, "" }, \
	{ "tp_dma_free", 0, "" }, \
	{ "tp_dma_alloc_pages", 0, "" }, \
	{ "tp_dma_free_pages", 0, "" }, \
	{ "tp_dma_alloc_sgt", 0, "" }, \
	{ "tp_dma_alloc_sgt_err", 0, "" }, \
	{ "tp_dma_free_sgt", 0, "" }, \
	{ "tp_dma_sync_single_for_cpu", 0, "" }, \
	{ "tp_dma_sync_single_for_device", 0, "" }, \
	{ "tp_dma_sync_sg_for_cpu", 0, "" }, \
	{ "tp_dma_sync_sg_for_device", 0, "" }
/* 6.12 names: dma_map_page etc. (variant 1), dma_map_resource its own;
 * 6.18: dma_map_phys, dma_map_resource folded in (recorded via tp_dma_map) */
#define DMA_TP_6_12	DMA_TP_ATTACHED(1, 0)
#define DMA_TP_6_18	DMA_TP_ATTACHED(0, 1)

/* the kernel data rows after page_to_phys: BTF cannot tell, the loader
 * reads /proc/kallsyms (test_ksym_rows) */
#define KSYM_ROWS \
	{ "ksym_page_offset_base", 0, "" }, \
	{ "ksym_max_pfn", 0, "" }, \
	{ "ksym_phys_base", 0, "" }, \
	{ "ksym_text", 0, "" }, \
	{ "ksym_end", 0, "" }, \
	{ "ksym_io_tlb_default_mem", 0, "" }

#define WANT_CORE_6_1 \
	{ "map_page", 0, "" }, \
	{ "unmap_page", 0, "" }, \
	{ "map_sg", 0, "" }, \
	{ "unmap_sg", 0, "" }, \
	{ "iommu_dma_map", 0, "" }, \
	{ "map_resource", 0, "" }, \
	{ "unmap_resource", 0, "" }, \
	{ "alloc", 0, "" }, \
	{ "free", 0, "" }, \
	{ "alloc_noncontiguous", 0, "" }, \
	{ "free_noncontiguous", 0, "" }, \
	{ "alloc_pages", 0, "" }, \
	{ "free_pages", 0, "" }, \
	{ "get_sgtable", 0, "" }, \
	{ "sync_single_for_cpu", 0, "" }, \
	{ "sync_single_for_device", 0, "" }, \
	{ "sync_sg_for_cpu", 0, "" }, \
	{ "sync_sg_for_device", 0, "" }, \
	{ "unbind", 0, "" }, \
	{ "pt_map", 0, "" }, \
	{ "pt_unmap", 0, "" }, \
	{ "page_to_phys", 0, "" }, \
	KSYM_ROWS, \
	{ "tp_map", 0, "" }, \
	{ "tp_unmap", 0, "" }, \
	{ "swiotlb_map", 0, "" }, \
	{ "iova_unmap", 0, "" }, \
	{ "fq_flush", 0, "" }

static const struct want_hook want_6_1[] = {
	WANT_CORE_6_1,
	IOVA_ABSENT,
	DMA_TP_ABSENT,
};

/* the real 6.12: the 6.1 names, the dma:* tracepoints, no IOVA API */
static const struct want_hook want_6_12[] = {
	WANT_CORE_6_1,
	IOVA_ABSENT,
	DMA_TP_6_12,
};

static const struct want_hook want_6_18[] = {
	{ "map_page", 1, "" },
	{ "unmap_page", 1, "" },
	{ "map_sg", 0, "" },
	{ "unmap_sg", 0, "" },
	{ "iommu_dma_map", 0, "" },
	{ "map_resource", 1, "" },	/* via map_page's iommu_dma_map_phys */
	{ "unmap_resource", 1, "" },
	{ "alloc", 0, "" },
	{ "free", 0, "" },
	{ "alloc_noncontiguous", 0, "" },
	{ "free_noncontiguous", 0, "" },
	{ "alloc_pages", 0, "" },
	{ "free_pages", 0, "" },
	{ "get_sgtable", 0, "" },
	{ "sync_single_for_cpu", 0, "" },
	{ "sync_single_for_device", 0, "" },
	{ "sync_sg_for_cpu", 0, "" },
	{ "sync_sg_for_device", 0, "" },
	{ "unbind", 0, "" },
	{ "pt_map", 1, "" },
	{ "pt_unmap", 0, "" },
	{ "page_to_phys", 0, "" },
	KSYM_ROWS,
	{ "tp_map", 0, "" },
	{ "tp_unmap", 0, "" },
	{ "swiotlb_map", 0, "" },
	{ "iova_unmap", 0, "" },
	{ "fq_flush", -1, "neither fq_flush_iotlb nor fq_ring_free_locked in kernel BTF" },
	IOVA_ABSENT,
	DMA_TP_ABSENT,
};

static const struct want_hook want_empty[] = {
	{ "map_page", -1, "neither iommu_dma_map_page nor iommu_dma_map_phys in kernel BTF" },
	{ "unmap_page", -1, "neither iommu_dma_unmap_page nor iommu_dma_unmap_phys in kernel BTF" },
	{ "map_sg", -1, "iommu_dma_map_sg not in kernel BTF" },
	{ "unmap_sg", -1, "iommu_dma_unmap_sg not in kernel BTF" },
	{ "iommu_dma_map", -1, "__iommu_dma_map not in kernel BTF" },
	{ "map_resource", -1, "neither iommu_dma_map_resource nor iommu_dma_map_phys in kernel BTF" },
	{ "unmap_resource", -1, "neither iommu_dma_unmap_resource nor iommu_dma_unmap_phys in kernel BTF" },
	{ "alloc", -1, "iommu_dma_alloc not in kernel BTF" },
	{ "free", -1, "iommu_dma_free not in kernel BTF" },
	{ "alloc_noncontiguous", -1, "iommu_dma_alloc_noncontiguous not in kernel BTF" },
	{ "free_noncontiguous", -1, "iommu_dma_free_noncontiguous not in kernel BTF" },
	{ "alloc_pages", -1, "dma_common_alloc_pages not in kernel BTF" },
	{ "free_pages", -1, "dma_common_free_pages not in kernel BTF" },
	{ "get_sgtable", -1, "iommu_dma_get_sgtable not in kernel BTF" },
	{ "sync_single_for_cpu", -1, "iommu_dma_sync_single_for_cpu not in kernel BTF" },
	{ "sync_single_for_device", -1, "iommu_dma_sync_single_for_device not in kernel BTF" },
	{ "sync_sg_for_cpu", -1, "iommu_dma_sync_sg_for_cpu not in kernel BTF" },
	{ "sync_sg_for_device", -1, "iommu_dma_sync_sg_for_device not in kernel BTF" },
	{ "unbind", -1, "device_release_driver_internal not in kernel BTF" },
	{ "pt_map", -1, "neither __iommu_map nor iommu_map_nosync in kernel BTF" },
	{ "pt_unmap", -1, "__iommu_unmap not in kernel BTF" },
	/* a ksym: BTF cannot tell, the loader reads kallsyms */
	{ "page_to_phys", 0, "" },
	KSYM_ROWS,
	{ "tp_map", -1, "tracepoint map (btf_trace_map) not in kernel BTF" },
	{ "tp_unmap", -1, "tracepoint unmap (btf_trace_unmap) not in kernel BTF" },
	{ "swiotlb_map", -1, "swiotlb_tbl_map_single not in kernel BTF" },
	{ "iova_unmap", -1, "__iommu_dma_unmap not in kernel BTF" },
	{ "fq_flush", -1, "neither fq_flush_iotlb nor fq_ring_free_locked in kernel BTF" },
	IOVA_ABSENT,
	DMA_TP_ABSENT,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- tests ---- */

static void test_resolve_6_1(void **state)
{
	struct btf *btf = make_btf(fns_6_1, tps_iommu, NULL);
	struct ia_hook_status *st = resolve(btf);

	check_status("6.1", st, want_6_1, N(want_6_1));
	EXPECT_HEX("6.1: incomplete checks", ia_hooks_incomplete_checks(st, ia_nr_hooks), 0);
	free(st);
	btf__free(btf);
}

static void test_resolve_6_18(void **state)
{
	struct btf *btf = make_btf(fns_6_18, tps_iommu, NULL);
	struct ia_hook_status *st = resolve(btf);

	check_status("6.18", st, want_6_18, N(want_6_18));
	/* MMIO maps moved into map_phys: not missing; this synthetic kernel
	 * has neither flush-queue marker: temporal */
	EXPECT_HEX("6.18: incomplete checks", ia_hooks_incomplete_checks(st, ia_nr_hooks),
		   IA_CHECK_TEMPORAL);
	free(st);
	btf__free(btf);
}

/* A kernel with both generations of a name uses the first variant. */
static void test_resolve_prefers_first_variant(void **state)
{
	static const struct fn fns[] = {
		{ "iommu_dma_map_phys", 5 }, { "iommu_dma_map_page", 6 },
		{ "iommu_map_nosync", 6 }, { "__iommu_map", 6 },
		{ "iommu_dma_unmap_phys", 5 },	/* only the second */
		{ NULL, 0 },
	};
	static const struct { const char *hook; int variant; } cases[] = {
		{ "map_page", 0 }, { "pt_map", 0 }, { "unmap_page", 1 }, { "map_sg", -1 },
	};
	struct btf *btf = make_btf(fns, NULL, NULL);
	struct ia_hook_status *st = resolve(btf);
	char what[96];

	for (size_t i = 0; i < N(cases); i++) {
		snprintf(what, sizeof(what), "case %s: variant", cases[i].hook);
		EXPECT_INT(what, st[hook_index(cases[i].hook)].variant, cases[i].variant);
	}
	free(st);
	btf__free(btf);
}

/*
 * Names of the wrong kind do not count: a function named like a tracepoint,
 * a typedef named like a function, btf_trace_ typedefs for functions.
 */
static void test_resolve_kind_matters(void **state)
{
	static const struct fn fns[] = { { "map", 3 }, { "unmap", 3 }, { NULL, 0 } };
	static const char *const tds[] = {
		"iommu_dma_map_sg", "__iommu_unmap", "btf_trace_iommu_dma_map_page",
		"btf_trace___iommu_map", "btf_trace_swiotlb_tbl_map_single", NULL,
	};
	static const char *const tps[] = { "fq_flush_iotlb", "__iommu_dma_unmap", NULL };
	struct btf *btf = make_btf(fns, tps, tds);
	struct ia_hook_status *st = resolve(btf);
	char what[96];

	for (size_t i = 0; i < ia_nr_hooks; i++) {
		snprintf(what, sizeof(what), "hook %s: state", ia_hooks[i].name);
		/* no API struct either: those are absent; a ksym row is
		 * the loader's to decide */
		EXPECT_INT(what, st[i].state,
			   ia_hooks[i].kind == IA_ATTACH_KSYM ? IA_HOOK_ATTACHED :
			   ia_hooks[i].api_struct ? IA_HOOK_ABSENT : IA_HOOK_MISSING);
		snprintf(what, sizeof(what), "hook %s: variant", ia_hooks[i].name);
		EXPECT_INT(what, st[i].variant, ia_hooks[i].kind == IA_ATTACH_KSYM ? 0 : -1);
	}
	EXPECT_HEX("incomplete checks", ia_hooks_incomplete_checks(st, ia_nr_hooks),
		   IA_CHECK_ALL);
	free(st);
	btf__free(btf);
}

static void test_resolve_empty_btf(void **state)
{
	struct btf *btf = make_btf(NULL, NULL, NULL);
	struct ia_hook_status *st = resolve(btf);

	check_status("empty BTF", st, want_empty, N(want_empty));
	EXPECT_HEX("empty BTF: incomplete checks",
		   ia_hooks_incomplete_checks(st, ia_nr_hooks), IA_CHECK_ALL);
	free(st);
	btf__free(btf);
}

static void test_resolve_no_btf(void **state)
{
	struct ia_hook_status *st = resolve(NULL);
	struct want_hook want[N(want_empty)];

	for (size_t i = 0; i < N(want); i++)
		want[i] = (struct want_hook){ want_empty[i].name, -1, "no kernel BTF" };
	check_status("no BTF", st, want, N(want));
	EXPECT_HEX("no BTF: incomplete checks",
		   ia_hooks_incomplete_checks(st, ia_nr_hooks), IA_CHECK_ALL);
	free(st);
}

/* One hook not attached (missing or failed), all others attached. */
static void test_incomplete_checks(void **state)
{
	static const struct {
		const char *hook;
		__u32 want;
	} cases[] = {
		{ "map_page", IA_CHECK_TRANSLATION | IA_CHECK_EXPOSURE |
			      IA_CHECK_ALIGNMENT | IA_CHECK_LIFECYCLE },
		{ "unmap_page", IA_CHECK_EXPOSURE | IA_CHECK_LIFECYCLE },
		{ "get_sgtable", IA_CHECK_TRANSLATION },
		{ "pt_map", IA_CHECK_TRANSLATION | IA_CHECK_EXPOSURE | IA_CHECK_ALIGNMENT },
		{ "pt_unmap", IA_CHECK_EXPOSURE | IA_CHECK_LIFECYCLE },
		{ "sync_sg_for_cpu", IA_CHECK_LIFECYCLE },
		{ "unbind", IA_CHECK_LIFECYCLE },
		{ "swiotlb_map", IA_CHECK_BOUNCE },
		{ "iova_unmap", IA_CHECK_TEMPORAL },
		{ "fq_flush", IA_CHECK_TEMPORAL },
		{ "page_to_phys", IA_CHECK_TRANSLATION | IA_CHECK_EXPOSURE |
				  IA_CHECK_ALIGNMENT | IA_CHECK_LIFECYCLE },
		{ "tp_map", 0 },	/* cross-check only */
		{ "tp_unmap", 0 },
		{ "iova_link", IA_CHECK_TRANSLATION | IA_CHECK_EXPOSURE |
			       IA_CHECK_ALIGNMENT | IA_CHECK_LIFECYCLE },
		{ "iova_destroy", IA_CHECK_EXPOSURE | IA_CHECK_LIFECYCLE | IA_CHECK_TEMPORAL },
		{ "iova_alloc", IA_CHECK_LIFECYCLE | IA_CHECK_ALIGNMENT },
		{ "tp_dma_map", 0 },
	};
	static const __u32 states[] = { IA_HOOK_MISSING, IA_HOOK_FAILED, 0 };
	struct btf *btf = make_btf(fns_6_1, tps_iommu, NULL);
	struct ia_hook_status *st = resolve(btf);
	char what[128];

	for (size_t c = 0; c < N(cases); c++) {
		for (size_t s = 0; s < N(states); s++) {
			size_t i = hook_index(cases[c].hook);

			st[i].state = states[s];
			snprintf(what, sizeof(what), "case %s state %u", cases[c].hook, states[s]);
			EXPECT_HEX(what, ia_hooks_incomplete_checks(st, ia_nr_hooks), cases[c].want);
			st[i].state = IA_HOOK_ATTACHED;
		}
	}
	/* absent: nothing to watch, so nothing incomplete */
	st[hook_index("map_page")].state = IA_HOOK_ABSENT;
	EXPECT_HEX("map_page absent", ia_hooks_incomplete_checks(st, ia_nr_hooks), 0);
	st[hook_index("map_page")].state = IA_HOOK_ATTACHED;
	/* two at once: the union */
	st[hook_index("swiotlb_map")].state = IA_HOOK_FAILED;
	st[hook_index("fq_flush")].state = IA_HOOK_MISSING;
	EXPECT_HEX("swiotlb_map+fq_flush", ia_hooks_incomplete_checks(st, ia_nr_hooks),
		   IA_CHECK_BOUNCE | IA_CHECK_TEMPORAL);
	/* only the first n entries count */
	EXPECT_HEX("n = 0", ia_hooks_incomplete_checks(st, 0), 0);
	EXPECT_HEX("n excludes the failed ones",
		   ia_hooks_incomplete_checks(st, hook_index("swiotlb_map")), 0);
	free(st);
	btf__free(btf);
}

static void test_func_nargs(void **state)
{
	static const struct fn extra[] = {
		{ "no_args", 0 }, { "sixteen", 16 }, { NULL, 0 },
	};
	static const char *const tds[] = { "a_typedef", NULL };
	struct btf *b61 = make_btf(fns_6_1, tps_iommu, tds);
	struct btf *b618 = make_btf(fns_6_18, tps_iommu, NULL);
	struct btf *bx = make_btf(extra, NULL, NULL);
	const struct {
		const char *what;
		const struct btf *btf;
		const char *func;
		int want;
	} cases[] = {
		{ "6.1", b61, "swiotlb_tbl_map_single", 7 },
		{ "6.18", b618, "swiotlb_tbl_map_single", 6 },
		{ "6.1", b61, "iommu_dma_map_page", 6 },
		{ "6.1", b61, "fq_flush_iotlb", 1 },
		{ "6.18", b618, "fq_flush_iotlb", -1 },
		{ "6.18", b618, "iommu_dma_map_page", -1 },
		{ "6.1 tracepoint typedef", b61, "btf_trace_map", -1 },
		{ "6.1 typedef", b61, "a_typedef", -1 },
		{ "6.1 base type", b61, "int", -1 },
		{ "6.1 empty name", b61, "", -1 },
		{ "extra", bx, "no_args", 0 },
		{ "extra", bx, "sixteen", 16 },
		{ "NULL btf", NULL, "swiotlb_tbl_map_single", -1 },
	};
	char what[128];

	for (size_t i = 0; i < N(cases); i++) {
		snprintf(what, sizeof(what), "case %s: nargs(%s)", cases[i].what, cases[i].func);
		EXPECT_INT(what, ia_btf_func_nargs(cases[i].btf, cases[i].func), cases[i].want);
	}
	btf__free(b61);
	btf__free(b618);
	btf__free(bx);
}

static void test_check_names(void **state)
{
	static const struct { __u32 check; const char *want; } cases[] = {
		{ IA_CHECK_TRANSLATION, "translation" },
		{ IA_CHECK_EXPOSURE, "exposure" },
		{ IA_CHECK_ALIGNMENT, "alignment" },
		{ IA_CHECK_LIFECYCLE, "lifecycle" },
		{ IA_CHECK_TEMPORAL, "temporal" },
		{ IA_CHECK_BOUNCE, "bounce" },
		{ 0, "?" },
		{ IA_CHECK_TRANSLATION | IA_CHECK_BOUNCE, "?" },
		{ 1u << IA_NR_CHECKS, "?" },
	};
	char what[64];

	for (size_t i = 0; i < N(cases); i++) {
		snprintf(what, sizeof(what), "case 0x%x", cases[i].check);
		EXPECT_STR(what, ia_check_name(cases[i].check), cases[i].want);
	}
	EXPECT_HEX("IA_CHECK_ALL", IA_CHECK_ALL, (1u << IA_NR_CHECKS) - 1);
}

/* Every program the table names, fentry ones and kprobe fallbacks. */
struct prog_ref {
	const char *name;
	const struct ia_hook *hook;
	int variant;
	bool kprobe;	/* from kprogs[] */
};

static struct prog_ref progs[4 * IA_HOOK_MAX_VARIANTS * IA_TRACE_MAX_HOOKS];
static size_t nprogs;

static void collect_table(const struct ia_hook *table, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int v = 0; v < IA_HOOK_MAX_VARIANTS && table[i].v[v].target; v++)
			for (int p = 0; p < 2; p++) {
				const struct ia_hook_variant *hv = &table[i].v[v];

				if (hv->progs[p])
					progs[nprogs++] = (struct prog_ref){
						hv->progs[p], &table[i], v, false };
				if (hv->kprogs[p])
					progs[nprogs++] = (struct prog_ref){
						hv->kprogs[p], &table[i], v, true };
			}
}

/* the programs of both tables: the audit's and production mode's */
static void collect_progs(void)
{
	nprogs = 0;
	collect_table(ia_hooks, ia_nr_hooks);
	collect_table(ia_prod_hooks, ia_nr_prod_hooks);
}

/* The table's own invariants. */
static void test_table_invariants(void **state)
{
	const size_t name_max = sizeof(((struct ia_trace_hook *)0)->name);
	const size_t reason_max = sizeof(((struct ia_trace_hook *)0)->reason);
	__u32 all = 0;

	collect_progs();

	if (ia_nr_hooks == 0 || ia_nr_hooks > IA_TRACE_MAX_HOOKS)
		fail_msg("ia_nr_hooks: got %zu, want 1..%d", ia_nr_hooks, IA_TRACE_MAX_HOOKS);
	EXPECT_INT("sizeof(ia_hook_status.reason) vs trace hook reason",
		   sizeof(((struct ia_hook_status *)0)->reason), reason_max);
	for (size_t i = 0; i < ia_nr_hooks; i++) {
		const struct ia_hook *h = &ia_hooks[i];
		const char *n = h->name;

		if (!n || !n[0])
			fail_msg("hook %zu: no name", i);
		if (strlen(n) >= name_max)
			fail_msg("hook %s: name is %zu chars, want < %zu (ia_trace_hook.name)",
				 n, strlen(n), name_max);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(ia_hooks[k].name, n))
				fail_msg("hook name %s used by hooks %zu and %zu", n, k, i);
		if (h->kind != IA_ATTACH_FENTRY && h->kind != IA_ATTACH_TP_BTF &&
		    h->kind != IA_ATTACH_KPROBE && h->kind != IA_ATTACH_KSYM)
			fail_msg("hook %s: kind %d", n, h->kind);
		if (h->checks & ~(__u32)IA_CHECK_ALL)
			fail_msg("hook %s: checks 0x%x outside IA_CHECK_ALL", n, h->checks);
		if (!h->role || !h->role[0])
			fail_msg("hook %s: no role", n);
		if (!h->v[0].target)
			fail_msg("hook %s: no variant", n);
		all |= h->checks;
		for (int v = 0; v < IA_HOOK_MAX_VARIANTS; v++) {
			const struct ia_hook_variant *hv = &h->v[v];

			if (!hv->target) {
				/* resolve stops at the first empty variant */
				for (int w = v + 1; w < IA_HOOK_MAX_VARIANTS; w++)
					if (h->v[w].target)
						fail_msg("hook %s: variant %d after an empty one", n, w);
				if (hv->progs[0] || hv->progs[1] || hv->kprogs[0] || hv->kprogs[1])
					fail_msg("hook %s: programs for an empty variant %d", n, v);
				break;
			}
			if (!hv->target[0])
				fail_msg("hook %s variant %d: empty target", n, v);
			/* attached: the target is stored as the trace's reason */
			if (strlen(hv->target) >= reason_max)
				fail_msg("hook %s: target %s is %zu chars, want < %zu", n,
					 hv->target, strlen(hv->target), reason_max);
			if (h->kind == IA_ATTACH_TP_BTF &&
			    strlen("btf_trace_") + strlen(hv->target) >= 128)
				fail_msg("hook %s: tracepoint name too long", n);
			if (hv->via) {
				/* recorded by another hook: its programs, its target */
				const struct ia_hook *by = hook_by_name(hv->via);
				bool same = false;

				if (hv->progs[0] || hv->progs[1] || hv->kprogs[0] || hv->kprogs[1])
					fail_msg("hook %s variant %d: via %s, with programs", n, v, hv->via);
				for (int w = 0; w < IA_HOOK_MAX_VARIANTS; w++)
					same |= by->v[w].target && !strcmp(by->v[w].target, hv->target) &&
						!by->v[w].via;
				if (!same || by == h)
					fail_msg("hook %s variant %d: %s is no target of hook %s", n, v,
						 hv->target, hv->via);
				continue;
			}
			if (h->kind == IA_ATTACH_KSYM) {
				if (hv->progs[0] || hv->progs[1] || hv->kprogs[0] || hv->kprogs[1])
					fail_msg("hook %s variant %d: a ksym with programs", n, v);
				continue;
			}
			if (!hv->progs[0] || !hv->progs[0][0])
				fail_msg("hook %s variant %d: no progs[0]", n, v);
			/* the kprobe fallback: progs[1] only after progs[0], and
			 * only for fentry hooks (the others are kprobes or
			 * tracepoints already) */
			if (hv->kprogs[1] && !hv->kprogs[0])
				fail_msg("hook %s variant %d: kprogs[1] without kprogs[0]", n, v);
			if (hv->kprogs[0] && h->kind != IA_ATTACH_FENTRY)
				fail_msg("hook %s variant %d: kprobe fallback for a kind %d hook",
					 n, v, h->kind);
			for (int w = 0; w < v; w++)
				if (!strcmp(h->v[w].target, hv->target))
					fail_msg("hook %s: variants %d and %d both %s", n, w, v,
						 hv->target);
		}
	}
	/* every check has some hook it depends on */
	EXPECT_HEX("union of all hooks' checks", all, IA_CHECK_ALL);

	/* a program belongs to one hook variant only */
	for (size_t a = 0; a < nprogs; a++)
		for (size_t b = 0; b < a; b++)
			if (!strcmp(progs[a].name, progs[b].name))
				fail_msg("program %s named by hooks %s and %s", progs[a].name,
					 progs[b].hook->name, progs[a].hook->name);
}

/*
 * The programs the table names exist in the BPF object, and their section
 * attaches them to the variant's target. Only opens the object: no load,
 * no privilege needed.
 */
static void test_table_matches_skeleton(void **state)
{
	struct iommu_audit_bpf *skel;
	struct bpf_program *prog;
	char want[2][160];

	libbpf_set_print(NULL);
	skel = iommu_audit_bpf__open();
	if (!skel)
		fail_msg("iommu_audit_bpf__open: %s", strerror(errno));
	collect_progs();
	for (size_t i = 0; i < nprogs; i++) {
		const struct prog_ref *r = &progs[i];
		const char *t = r->hook->v[r->variant].target, *sec;

		switch (r->kprobe ? IA_ATTACH_KPROBE : r->hook->kind) {
		case IA_ATTACH_FENTRY:
			snprintf(want[0], sizeof(want[0]), "fentry/%s", t);
			snprintf(want[1], sizeof(want[1]), "fexit/%s", t);
			break;
		case IA_ATTACH_TP_BTF:
			snprintf(want[0], sizeof(want[0]), "tp_btf/%s", t);
			snprintf(want[1], sizeof(want[1]), "tp_btf/%s", t);
			break;
		case IA_ATTACH_KPROBE:
			snprintf(want[0], sizeof(want[0]), "kprobe/%s", t);
			snprintf(want[1], sizeof(want[1]), "kretprobe/%s", t);
			break;
		case IA_ATTACH_KSYM:	/* no programs: collect_progs() has none */
			fail_msg("hook %s: a ksym row names program %s", r->hook->name, r->name);
		}
		prog = bpf_object__find_program_by_name(skel->obj, r->name);
		if (!prog)
			fail_msg("hook %s variant %d: program %s not in the BPF object",
				 r->hook->name, r->variant, r->name);
		sec = bpf_program__section_name(prog);
		if (strcmp(sec, want[0]) && strcmp(sec, want[1]))
			fail_msg("hook %s: program %s: got section %s, want %s or %s",
				 r->hook->name, r->name, sec, want[0], want[1]);
	}
	/* and no program of the object is left out of the table */
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);
		bool found = false;

		for (size_t i = 0; i < nprogs; i++)
			found |= !strcmp(progs[i].name, name);
		for (int i = 0; i < IA_NR_FREE_HOOKS; i++) {	/* opt-in, outside */
			if (!strcmp(ia_free_progs[i], name)) {
				assert_string_equal(bpf_program__section_name(prog),
						    ia_free_sections[i]);
				assert_non_null(strstr(ia_free_sections[i], ia_free_tracepoints[i]));
				found = true;
			}
		}
		if (!found)
			fail_msg("BPF program %s (%s) is named by no hook in ia_hooks[] "
				 "or ia_prod_hooks[]",
				 name, bpf_program__section_name(prog));
	}
	iommu_audit_bpf__destroy(skel);
}

/* ia_hook_progs(): the variant's fentry programs, or its kprobe fallback. */
static void test_hook_progs(void **state)
{
	static const struct {
		const char *kernel, *hook;
		bool kprobe;
		const char *want[2];
	} cases[] = {
		{ "6.1", "map_page", false, { "map_page_enter", "map_page_exit" } },
		{ "6.1", "map_page", true, { "map_page_kenter", "map_page_kexit" } },
		{ "6.18", "map_page", false, { "map_phys_enter", "map_phys_exit" } },
		{ "6.18", "map_page", true, { "map_phys_kenter", "map_phys_kexit" } },
		{ "6.18", "pt_map", false, { "pt_map_nosync", NULL } },
		{ "6.1", "pt_map", false, { "pt_map", NULL } },
		{ "6.1", "tp_map", false, { "tp_map", NULL } },
		{ "6.1", "swiotlb_map", false, { "bounce_enter", "bounce_exit" } },
	};
	struct btf *b61 = make_btf(fns_6_1, tps_iommu, NULL);
	struct btf *b618 = make_btf(fns_6_18, tps_iommu, NULL);
	struct ia_hook_status *st61 = resolve(b61), *st618 = resolve(b618);
	char what[128];

	for (size_t c = 0; c < N(cases); c++) {
		struct ia_hook_status s = (!strcmp(cases[c].kernel, "6.1") ? st61 : st618)
					  [hook_index(cases[c].hook)];
		const char *const *got;

		s.kprobe = cases[c].kprobe;
		got = ia_hook_progs(&s);
		if (!got)
			fail_msg("case %s %s kprobe=%d: NULL", cases[c].kernel, cases[c].hook,
				 cases[c].kprobe);
		for (int p = 0; p < 2; p++) {
			snprintf(what, sizeof(what), "case %s %s kprobe=%d: prog[%d]",
				 cases[c].kernel, cases[c].hook, cases[c].kprobe, p);
			if (!cases[c].want[p]) {
				if (got[p])
					fail_msg("%s: got \"%s\", want NULL", what, got[p]);
			} else {
				EXPECT_STR(what, got[p], cases[c].want[p]);
			}
		}
	}
	free(st61);
	free(st618);
	btf__free(b61);
	btf__free(b618);
}

/* The IOVA API there (its struct), one of its functions not: lost coverage,
 * not an absent API. */
static void test_resolve_api_without_function(void **state)
{
	static const struct fn fns[] = { { "dma_iova_try_alloc", 4 }, { NULL, 0 } };
	struct btf *btf = make_btf(fns, NULL, NULL);
	struct ia_hook_status *st;
	size_t link = hook_index("iova_link");

	if (btf__add_struct(btf, "dma_iova_state", 16) <= 0)
		fail_msg("btf__add_struct");
	st = resolve(btf);
	EXPECT_INT("iova_alloc: state", st[hook_index("iova_alloc")].state, IA_HOOK_ATTACHED);
	EXPECT_INT("iova_link: state", st[link].state, IA_HOOK_MISSING);
	EXPECT_STR("iova_link: reason", st[link].reason, "dma_iova_link not in kernel BTF");
	EXPECT_INT("tp_dma_map: state", st[hook_index("tp_dma_map")].state, IA_HOOK_ABSENT);
	free(st);
	btf__free(btf);
}

/* ---- the real kernels: tests/data/btf/ (tools/gen-test-btf.sh) ---- */

/*
 * Debian's stock kernels, as the VM bench boots them. The BTFs are the
 * kernels' own types, cut down to what the hook table and the CO-RE
 * flavours read; the expectations come from the kernels' full BTF
 * (bpftool btf dump) and from `iommu-audit coverage` in the VM.
 */
#define BTF_6_1		"tests/data/btf/6.1.0-57-amd64.btf"
#define BTF_6_12	"tests/data/btf/6.12.117+deb13-amd64.btf"
#define BTF_7_2		"tests/data/btf/7.2.13+deb14-amd64.btf"

static struct btf *real_btf(const char *path)
{
	struct btf *btf = btf__parse_raw(path);

	if (!btf)
		fail_msg("%s: %s (run from the repository root; tools/gen-test-btf.sh makes it)",
			 path, strerror(errno));
	return btf;
}

/* 7.2: renamed single maps, MMIO maps through map_phys, iommu_map_nosync,
 * the flush seen at fq_ring_free_locked */
static const struct want_hook want_7_2[] = {
	{ "map_page", 1, "" },
	{ "unmap_page", 1, "" },
	{ "map_sg", 0, "" },
	{ "unmap_sg", 0, "" },
	{ "iommu_dma_map", 0, "" },
	{ "map_resource", 1, "" },
	{ "unmap_resource", 1, "" },
	{ "alloc", 0, "" },
	{ "free", 0, "" },
	{ "alloc_noncontiguous", 0, "" },
	{ "free_noncontiguous", 0, "" },
	{ "alloc_pages", 0, "" },
	{ "free_pages", 0, "" },
	{ "get_sgtable", 0, "" },
	{ "sync_single_for_cpu", 0, "" },
	{ "sync_single_for_device", 0, "" },
	{ "sync_sg_for_cpu", 0, "" },
	{ "sync_sg_for_device", 0, "" },
	{ "unbind", 0, "" },
	{ "pt_map", 1, "" },
	{ "pt_unmap", 0, "" },
	{ "page_to_phys", 0, "" },
	KSYM_ROWS,
	{ "tp_map", 0, "" },
	{ "tp_unmap", 0, "" },
	{ "swiotlb_map", 0, "" },
	{ "iova_unmap", 0, "" },
	{ "fq_flush", 1, "" },
	IOVA_ATTACHED,
	DMA_TP_6_18,
};

static void resolve_real(const char *kernel, const char *path, const struct want_hook *want,
			 size_t n, int swiotlb_nargs)
{
	struct btf *btf = real_btf(path);
	struct ia_hook_status *st = resolve(btf);
	char what[96];

	check_status(kernel, st, want, n);
	snprintf(what, sizeof(what), "%s: incomplete checks", kernel);
	EXPECT_HEX(what, ia_hooks_incomplete_checks(st, ia_nr_hooks), 0);
	snprintf(what, sizeof(what), "%s: swiotlb_tbl_map_single arguments", kernel);
	EXPECT_INT(what, ia_btf_func_nargs(btf, "swiotlb_tbl_map_single"), swiotlb_nargs);
	free(st);
	btf__free(btf);
}

static void test_real_6_1(void **state)
{
	resolve_real("6.1", BTF_6_1, want_6_1, N(want_6_1), 7);
}

/* 6.12 has the 6.1 names (fq_ring_free_locked too, but fq_flush_iotlb
 * comes first) */
static void test_real_6_12(void **state)
{
	resolve_real("6.12", BTF_6_12, want_6_12, N(want_6_12), 6);
}

static void test_real_7_2(void **state)
{
	resolve_real("7.2", BTF_7_2, want_7_2, N(want_7_2), 6);
}

/*
 * Issue 17: the kernel data the programs read (enum ia_ksym) are coverage.
 * Every symbol is the target of one IA_ATTACH_KSYM row (before, only
 * vmemmap_base was: a kernel whose kallsyms lacked max_pfn or
 * io_tlb_default_mem classified less and said nothing). With one missing,
 * its row is missing with the reason, in `coverage`'s text and -j and in
 * a trace's coverage (ia_coverage_to_meta), and no check's verdict changes;
 * page_to_phys's symbol still makes the map checks partial.
 */
static void test_ksym_rows(void **state)
{
	struct btf *btf = real_btf(BTF_6_1);
	struct ia_hook_status *st = resolve(btf);
	struct ia_trace_meta *m = calloc(1, sizeof(*m));
	__u64 addr[IA_NR_KSYMS];
	char *text = NULL;
	size_t len = 0, row = ia_nr_hooks;
	struct ia_json j;
	FILE *f;

	assert_non_null(m);
	for (int k = 0; k < IA_NR_KSYMS; k++) {
		int rows = 0;

		for (size_t i = 0; i < ia_nr_hooks; i++)
			rows += ia_hooks[i].kind == IA_ATTACH_KSYM &&
				!strcmp(ia_hooks[i].v[0].target, ia_ksym_names[k]);
		if (rows != 1)
			fail_msg("%s: %d coverage rows, want 1", ia_ksym_names[k], rows);
	}
	for (int k = 0; k < IA_NR_KSYMS; k++)
		addr[k] = 0xffffffff81000000ULL + k;
	addr[IA_KSYM_MAX_PFN] = 0;
	ia_hooks_check_ksyms(st, ia_nr_hooks, addr, 0, "/proc/kallsyms");
	for (size_t i = 0; i < ia_nr_hooks; i++) {
		if (ia_hooks[i].kind != IA_ATTACH_KSYM)
			continue;
		if (!strcmp(ia_hooks[i].name, "ksym_max_pfn")) {
			row = i;
			EXPECT_INT("ksym_max_pfn state", st[i].state, IA_HOOK_MISSING);
			EXPECT_STR("ksym_max_pfn reason", st[i].reason,
				   "max_pfn not in /proc/kallsyms (CONFIG_KALLSYMS_ALL off?)");
		} else {
			EXPECT_INT(ia_hooks[i].name, st[i].state, IA_HOOK_ATTACHED);
		}
	}
	assert_true(row < ia_nr_hooks);
	EXPECT_HEX("checks with max_pfn missing", ia_hooks_incomplete_checks(st, ia_nr_hooks), 0);

	ia_coverage_to_meta(st, ia_nr_hooks, m);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	ia_coverage_print(m, f, true);
	fclose(f);
	if (!strstr(text, "ksym_max_pfn             missing   max_pfn not in /proc/kallsyms"))
		fail_msg("coverage text without the missing row:\n%s", text);
	if (!strstr(text, "coverage: translation=complete exposure=complete"))
		fail_msg("coverage text: a check's verdict changed:\n%s", text);
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	ia_json_init(&j, f, false);
	ia_coverage_json(m, &j);
	fclose(f);
	if (!strstr(text, "{\"name\":\"ksym_max_pfn\",\"state\":\"missing\",\"reason\":"
		    "\"max_pfn not in /proc/kallsyms (CONFIG_KALLSYMS_ALL off?)\"}"))
		fail_msg("coverage -j without the missing row: %s", text);
	if (!strstr(text, "\"complete\":true"))
		fail_msg("coverage -j: incomplete: %s", text);
	free(text);

	/* an unreadable kallsyms (no address read): every row missing, the
	 * map checks partial */
	free(st);
	st = resolve(btf);
	memset(addr, 0, sizeof(addr));
	ia_hooks_check_ksyms(st, ia_nr_hooks, addr, EACCES, "/proc/kallsyms");
	EXPECT_STR("unreadable: reason", st[row].reason,
		   "max_pfn: cannot read /proc/kallsyms: Permission denied");
	EXPECT_HEX("unreadable: checks", ia_hooks_incomplete_checks(st, ia_nr_hooks),
		   IA_CHECK_TRANSLATION | IA_CHECK_EXPOSURE | IA_CHECK_ALIGNMENT |
		   IA_CHECK_LIFECYCLE);
	free(m);
	free(st);
	btf__free(btf);
}

/*
 * Production mode's hooks on Debian's kernels: each one found, with the
 * variant of that kernel (the flush-queue flush inlined on 7.2), so that
 * its counters are complete there.
 */
static void prod_real(const char *kernel, const char *path, int fq_variant)
{
	struct btf *btf = real_btf(path);
	struct ia_hook_status st[8];
	const int want_variant[] = { 0, 0, fq_variant };
	char what[96];

	assert_true(ia_nr_prod_hooks == N(want_variant));
	ia_hooks_resolve_table(btf, ia_prod_hooks, ia_nr_prod_hooks, st);
	for (size_t i = 0; i < ia_nr_prod_hooks; i++) {
		snprintf(what, sizeof(what), "%s: %s state", kernel, ia_prod_hooks[i].name);
		EXPECT_INT(what, st[i].state, IA_HOOK_ATTACHED);
		snprintf(what, sizeof(what), "%s: %s variant", kernel, ia_prod_hooks[i].name);
		EXPECT_INT(what, st[i].variant, want_variant[i]);
	}
	snprintf(what, sizeof(what), "%s: production incomplete checks", kernel);
	EXPECT_HEX(what, ia_hooks_incomplete_checks(st, ia_nr_prod_hooks), 0);
	btf__free(btf);
}

static void test_prod_real(void **state)
{
	prod_real("6.1", BTF_6_1, 0);
	prod_real("6.12", BTF_6_12, 0);
	prod_real("7.2", BTF_7_2, 1);
}

/*
 * Member `name` of struct sid, through anonymous members as CO-RE finds it;
 * its byte offset in *off. Returns the member's type id after typedefs and
 * modifiers, 0 when absent.
 */
static int member_of(const struct btf *btf, int sid, const char *name, __u32 *off)
{
	const struct btf_type *t = btf__type_by_id(btf, sid);
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		int mt = btf__resolve_type(btf, m->type);
		const struct btf_type *mtt = btf__type_by_id(btf, mt);
		__u32 inner;

		if (mn && *mn && !strcmp(mn, name)) {
			*off = btf_member_bit_offset(t, i) / 8;
			return mt;
		}
		if ((!mn || !*mn) && (btf_is_struct(mtt) || btf_is_union(mtt)) &&
		    (mt = member_of(btf, mt, name, &inner))) {
			*off = btf_member_bit_offset(t, i) / 8 + inner;
			return mt;
		}
	}
	return 0;
}

/*
 * Does the flavour's field (local struct S___x, member m, in the BPF
 * object's own BTF) exist on this kernel as CO-RE decides
 * bpf_core_field_exists(): the member by name in struct S, of a
 * compatible kind (an int only matches an int, an enum an enum: the rule
 * that made a `unsigned int cookie_type` flavour miss 7.2's enum).
 */
static bool flavour_field_exists(const struct btf *local, const struct btf *kernel,
				 const char *flavour, const char *member)
{
	char base[64];
	int lid = btf__find_by_name_kind(local, flavour, BTF_KIND_STRUCT), kid, lt, kt;
	__u32 off;

	if (lid <= 0)
		fail_msg("flavour %s not in the BPF object's BTF", flavour);
	snprintf(base, sizeof(base), "%.*s", (int)(strstr(flavour, "___") - flavour), flavour);
	lt = member_of(local, lid, member, &off);
	if (!lt)
		fail_msg("flavour %s has no member %s", flavour, member);
	kid = btf__find_by_name_kind(kernel, base, BTF_KIND_STRUCT);
	kt = kid > 0 ? member_of(kernel, kid, member, &off) : 0;
	if (!kt)
		return false;
	return btf_kind(btf__type_by_id(local, lt)) == btf_kind(btf__type_by_id(kernel, kt));
}

static __u32 offset_of(const struct btf *btf, const char *sname, const char *member)
{
	int id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);
	__u32 off = ~0u;

	if (id <= 0 || !member_of(btf, id, member, &off))
		fail_msg("%s.%s not in the kernel BTF", sname, member);
	return off;
}

/*
 * The granule's path per kernel (bpf/core_fixes.bpf.h,
 * ia_domain_has_iova_cookie, and device.bpf.h's iovad.granule read): which
 * cookie-type flavour exists, the IOVA cookie's enum value, and where the
 * granule is. Offsets from the kernels' full BTF (bpftool btf dump).
 */
static void test_granule_layout(void **state)
{
	static const struct {
		const char *kernel, *path;
		bool old_type, cookie_type;
		__u32 iovad, granule;
	} k[] = {
		{ "6.1", BTF_6_1, true, false, 8, 32 },
		{ "6.12", BTF_6_12, true, false, 8, 32 },
		{ "7.2", BTF_7_2, false, true, 0, 32 },
	};
	struct iommu_audit_bpf *skel;
	const struct btf *local;
	char what[128];

	libbpf_set_print(NULL);
	skel = iommu_audit_bpf__open();
	if (!skel)
		fail_msg("iommu_audit_bpf__open: %s", strerror(errno));
	local = bpf_object__btf(skel->obj);
	for (size_t i = 0; i < N(k); i++) {
		struct btf *btf = real_btf(k[i].path);

		snprintf(what, sizeof(what), "%s: iommu_dma_cookie___old.type exists", k[i].kernel);
		EXPECT_INT(what, flavour_field_exists(local, btf, "iommu_dma_cookie___old", "type"),
			   k[i].old_type);
		snprintf(what, sizeof(what), "%s: iommu_domain___cookie_type.cookie_type exists",
			 k[i].kernel);
		EXPECT_INT(what, flavour_field_exists(local, btf, "iommu_domain___cookie_type",
						      "cookie_type"), k[i].cookie_type);
		snprintf(what, sizeof(what), "%s: offset of iommu_dma_cookie.iovad", k[i].kernel);
		EXPECT_INT(what, offset_of(btf, "iommu_dma_cookie", "iovad"), k[i].iovad);
		snprintf(what, sizeof(what), "%s: offset of iova_domain.granule", k[i].kernel);
		EXPECT_INT(what, offset_of(btf, "iova_domain", "granule"), k[i].granule);
		if (k[i].cookie_type) {
			int eid = btf__find_by_name_kind(btf, "iommu_domain_cookie_type",
							 BTF_KIND_ENUM);
			const struct btf_type *e = eid > 0 ? btf__type_by_id(btf, eid) : NULL;
			long long val = -1;

			for (int v = 0; e && v < btf_vlen(e); v++)
				if (!strcmp(btf__name_by_offset(btf, btf_enum(e)[v].name_off),
					    "IOMMU_COOKIE_DMA_IOVA"))
					val = btf_enum(e)[v].val;
			snprintf(what, sizeof(what), "%s: IOMMU_COOKIE_DMA_IOVA", k[i].kernel);
			EXPECT_INT(what, val, 1);
			/* the 7.x flush marker reads it */
			snprintf(what, sizeof(what), "%s: offset of iommu_dma_cookie.fq_flush_finish_cnt",
				 k[i].kernel);
			EXPECT_INT(what, offset_of(btf, "iommu_dma_cookie", "fq_flush_finish_cnt"), 160);
		}
		btf__free(btf);
	}
	iommu_audit_bpf__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_6_1),
		cmocka_unit_test(test_resolve_6_18),
		cmocka_unit_test(test_resolve_api_without_function),
		cmocka_unit_test(test_resolve_prefers_first_variant),
		cmocka_unit_test(test_resolve_kind_matters),
		cmocka_unit_test(test_resolve_empty_btf),
		cmocka_unit_test(test_resolve_no_btf),
		cmocka_unit_test(test_incomplete_checks),
		cmocka_unit_test(test_func_nargs),
		cmocka_unit_test(test_check_names),
		cmocka_unit_test(test_hook_progs),
		cmocka_unit_test(test_table_invariants),
		cmocka_unit_test(test_table_matches_skeleton),
		cmocka_unit_test(test_real_6_1),
		cmocka_unit_test(test_real_6_12),
		cmocka_unit_test(test_real_7_2),
		cmocka_unit_test(test_prod_real),
		cmocka_unit_test(test_ksym_rows),
		cmocka_unit_test(test_granule_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
