// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Checker scale benchmark: N live mappings in the shadow state. Feeds the
 * records the kernel emits for N dma_map_page calls of one device (a 4 KiB
 * page each, distinct IOVA and phys, never unmapped), then unmaps them all.
 * Prints the heap bytes per live mapping (glibc mallinfo2: what the checker
 * really holds, allocator overhead included) and the time per request.
 *
 * usage: checker-scale [N=1000000]
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "check/checker.h"

#define DEV	0xffff888000100000ULL
#define DOM	0xffff888000200000ULL

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void hdr(struct ia_ev_hdr *h, __u16 type, __u16 size, __u64 req)
{
	memset(h, 0, size);
	h->type = type;
	h->size = size;
	h->req_id = req;
}

/* One map_page (req id 2i+1) with its __iommu_dma_map child (2i+2). */
static void map_one(struct ia_checker *c, __u64 i)
{
	struct ia_ev_pt pt;
	struct ia_ev_req child, root;
	__u64 iova = 0x100000000ULL + i * 4096, phys = 0x200000000ULL + i * 4096;

	hdr(&pt.hdr, IA_EV_PT_MAP, sizeof(pt), 2 * i + 2);
	pt.domain = DOM;
	pt.iova = iova;
	pt.paddr = phys;
	pt.size = 4096;
	ia_checker_event(c, &pt.hdr, sizeof(pt));
	hdr(&child.hdr, IA_EV_REQ, sizeof(child), 2 * i + 2);
	child.kind = IA_REQ_IOMMU_MAP;
	child.dev = DEV;
	child.parent_id = 2 * i + 1;
	child.phys = phys;
	child.size = 4096;
	child.dma = iova;
	child.stack_id = -1;
	ia_checker_event(c, &child.hdr, sizeof(child));
	hdr(&root.hdr, IA_EV_REQ, sizeof(root), 2 * i + 1);
	root.kind = IA_REQ_MAP_PAGE;
	root.dev = DEV;
	root.phys = phys;
	root.size = 4096;
	root.dma = iova;
	root.dir = 2;
	root.stack_id = -1;
	ia_checker_event(c, &root.hdr, sizeof(root));
}

static void unmap_one(struct ia_checker *c, __u64 i, __u64 base)
{
	struct ia_ev_pt pt;
	struct ia_ev_req root;
	__u64 iova = 0x100000000ULL + i * 4096;

	hdr(&pt.hdr, IA_EV_PT_UNMAP, sizeof(pt), base + i);
	pt.domain = DOM;
	pt.iova = iova;
	pt.size = 4096;
	pt.result = 4096;
	ia_checker_event(c, &pt.hdr, sizeof(pt));
	hdr(&root.hdr, IA_EV_REQ, sizeof(root), base + i);
	root.kind = IA_REQ_UNMAP_PAGE;
	root.dev = DEV;
	root.size = 4096;
	root.dma = iova;
	root.dir = 2;
	root.stack_id = -1;
	ia_checker_event(c, &root.hdr, sizeof(root));
}

int main(int argc, char **argv)
{
	__u64 n = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
	struct ia_checker *c = ia_checker_new();
	struct ia_ev_device d;
	size_t before, after, nf;
	double t0, t1, t2;

	if (!c || !n)
		return 1;
	hdr(&d.hdr, IA_EV_DEVICE, sizeof(d), 0);
	d.dev = DEV;
	d.domain = DOM;
	d.granule = 4096;
	d.page_size = 4096;
	d.dma_mask = ~0ULL;
	d.seg_boundary = ~0ULL;
	d.max_seg_size = 65536;
	d.domain_type = 3;
	strcpy(d.name, "0000:00:01.0");
	ia_checker_event(c, &d.hdr, sizeof(d));

	before = mallinfo2().uordblks;
	t0 = now();
	for (__u64 i = 0; i < n; i++)
		map_one(c, i);
	t1 = now();
	after = mallinfo2().uordblks;
	printf("%llu live mappings: %zu heap bytes, %.1f bytes per live mapping; "
	       "map_page: %.0f ns per request (3 records)\n",
	       (unsigned long long)ia_checker_live_mappings(c), after - before,
	       (double)(after - before) / n, (t1 - t0) * 1e9 / n);
	for (__u64 i = 0; i < n; i++)
		unmap_one(c, i, 2 * n + 1);
	t2 = now();
	ia_checker_findings(c, &nf);
	printf("unmapped all: %llu live, %zu findings, unmap_page: %.0f ns per request "
	       "(2 records)\n", (unsigned long long)ia_checker_live_mappings(c), nf,
	       (t2 - t1) * 1e9 / n);
	ia_checker_free(c);
	return 0;
}
