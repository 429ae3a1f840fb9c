// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the call-site frame choice (user/check/finding.c
 * ia_site_start()) that production mode's sites use: the first frame after
 * the DMA code's, whatever precedes the DMA code (a fexit trampoline that
 * kallsyms does not name resolves to any module's symbol below it). The
 * stacks are as the kernel's unwinder gives them from the programs
 * (innermost first); the expected site is the frame a reader of the stack
 * would name: the driver's call of the DMA API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "check/finding.h"

#define MAXF 12

static const struct {
	const char *name;
	const char *frames[MAXF];	/* NULL-terminated */
	int site;			/* index of the expected site; -1: none */
} cases[] = {
	{ "fentry: the traced function first", {
		"iommu_dma_map_page+0x0", "dma_map_page_attrs+0x5d", "fx_map+0x2fc [ia_fixture]",
		"fx_run_line+0x173 [ia_fixture]", NULL }, 2 },
	{ "fexit: the trampoline named (bpf_)", {
		"bpf_prog_6deef7357e7b4530_prod_map+0x1a3 [bpf]", "bpf_trampoline_6442484937+0x6f [bpf]",
		"iommu_dma_map_page+0x79", "dma_map_page_attrs+0x5d", "fx_map+0x2fc [ia_fixture]", NULL }, 4 },
	{ "fexit: a trampoline kallsyms does not name (6.1, seen)", {
		"bpf_prog_6deef7357e7b4530_prod_map+0x1a3 [bpf]", "cleanup_module+0x5f1 [ia_fixture]",
		"iommu_dma_map_page+0x79", "dma_map_page_attrs+0x5d", "fx_map+0x2fc [ia_fixture]", NULL }, 4 },
	/* production mode's fexit with record's fentry on the same functions
	 * (the VM case production): ftrace trampolines between the DMA
	 * functions' entry frames, named and not (both seen on 6.1) */
	{ "fexit beside fentry: named ftrace trampolines", {
		"bpf_prog_73c1629e89fe3b40_prod_map+0xcc0 [bpf]", "ftrace_trampoline+0xe101 [__builtin__ftrace]",
		"__iommu_dma_map+0x5", "iommu_dma_map_page+0xba", "ftrace_trampoline+0x6096 [__builtin__ftrace]",
		"iommu_dma_map_page+0x5", "fx_map+0x2fc [ia_fixture]", "fx_run_line+0x19f [ia_fixture]", NULL }, 6 },
	{ "fexit beside fentry: a trampoline between DMA frames named wrongly", {
		"bpf_prog_73c1629e89fe3b40_prod_map+0xcc0 [bpf]", "ftrace_trampoline+0xe101 [__builtin__ftrace]",
		"__iommu_dma_map+0x5", "iommu_dma_map_page+0xba", "cleanup_module+0x6096 [ia_fixture]",
		"iommu_dma_map_page+0x5", "fx_map+0x2fc [ia_fixture]", "fx_run_line+0x19f [ia_fixture]", NULL }, 6 },
	{ "an ENDBR kernel: the entry frame at +0x9", {
		"bpf_prog_73c1629e89fe3b40_prod_map+0xcc0 [bpf]", "nvme_pci_complete_rq+0x40 [nvme]",
		"__iommu_dma_map+0x9", "iommu_dma_map_page+0xba", "dma_map_page_attrs+0x5d",
		"nvme_map_data+0x1c2 [nvme]", NULL }, 5 },
	{ "a driver called back from the DMA code is a site (not an entry frame)", {
		"dma_map_page_attrs+0x5d", "drv_fence_cb+0x10 [drv]", "dma_fence_signal+0x80", NULL }, 1 },
	{ "an unknown frame first", {
		"", "__iommu_dma_map+0x10", "iommu_dma_alloc+0x1c0", "dma_alloc_attrs+0x9e",
		"nvme_alloc_queue+0x5a [nvme]", NULL }, 4 },
	{ "no DMA frame: from the top", {
		"__free_frozen_pages+0x550", "fx_free_buffer+0x3e [ia_fixture]", NULL }, 0 },
	{ "nothing but DMA frames", { "iommu_dma_map_page+0x0", "dma_map_page_attrs+0x5d", NULL }, -1 },
	{ "an empty stack", { NULL }, -1 },
};

static void site_after_the_dma_code(void **state)
{
	int bad = 0;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char syms[MAXF][IA_SYM_LEN] = {};
		size_t n = 0, got;
		int want;

		while (n < MAXF && cases[c].frames[n]) {
			snprintf(syms[n], sizeof(syms[n]), "%s", cases[c].frames[n]);
			n++;
		}
		got = ia_site_start((const char (*)[IA_SYM_LEN])syms, n);
		want = cases[c].site < 0 ? (int)n : cases[c].site;
		if ((int)got != want) {
			print_error("%s: site frame %zu (%s), expected %d (%s)\n", cases[c].name, got,
				    got < n ? syms[got] : "none", want, want < (int)n ? syms[want] : "none");
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(site_after_the_dma_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
