// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Checker scale benchmark: N live mappings in the shadow state. Feeds the
 * records the kernel emits for N dma_map_page calls of one device (a 4 KiB
 * page each, distinct IOVA and phys, never unmapped), then unmaps them all.
 * Prints the heap bytes per live mapping (glibc mallinfo2 and the checker's
 * pools: what the checker really holds, allocator overhead included) and the
 * time per request.
 *
 * With --trace FILE the same records are written to a trace file instead,
 * which is then replayed as `check` does (ia_checker_from_trace: the reader,
 * its CRC, the checker): records per second end to end. 2000000 mappings
 * make the 10-million-record trace (3 records per map, 2 per unmap).
 * --replay FILE replays a trace written so, without writing it again.
 *
 * Rates are per second of this process's CPU time (user + system: one
 * core's work, whatever else the machine runs), wall time beside it.
 * bench/checker-speed.sh runs the rounds docs/benchmarks.md shows.
 *
 * usage: checker-scale [--trace FILE | --replay FILE] [N=1000000]
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "check/checker.h"
#include "trace/trace.h"

#define DEV	0xffff888000100000ULL
#define DOM	0xffff888000200000ULL

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time (the measure) and wall time, at one instant. */
struct stamp {
	double cpu, wall;
};

static struct stamp now(void)
{
	return (struct stamp){ clock_s(CLOCK_PROCESS_CPUTIME_ID), clock_s(CLOCK_MONOTONIC) };
}

/* Where the records go: the checker, or a trace file. */
struct sink {
	struct ia_checker *c;
	struct ia_trace_writer *w;
};

static void emit(struct sink *k, const struct ia_ev_hdr *h, size_t len)
{
	if (k->w) {
		if (ia_trace_write(k->w, h)) {
			fprintf(stderr, "%s\n", ia_trace_writer_error(k->w));
			exit(1);
		}
	} else {
		ia_checker_event(k->c, h, len);
	}
}

static void hdr(struct ia_ev_hdr *h, __u16 type, __u16 size, __u64 req)
{
	memset(h, 0, size);
	h->type = type;
	h->size = size;
	h->req_id = req;
}

/*
 * The records of a map and an unmap, made once: a request changes only
 * their ids and addresses. Clearing and filling five records per request
 * (GCC made each memset a rep stosq) was a tenth of a direct run's time:
 * the harness's, not the checker's.
 */
struct recs {
	struct ia_ev_pt map_pt, unmap_pt;
	struct ia_ev_req child, root, unroot;
};

/* A request record of this device for one 4 KiB page. */
static void req_init(struct ia_ev_req *q, __u32 kind, __u32 dir)
{
	hdr(&q->hdr, IA_EV_REQ, sizeof(*q), 0);
	q->kind = kind;
	q->dev = DEV;
	q->size = 4096;
	q->dir = dir;
	q->stack_id = -1;
}

static void recs_init(struct recs *r)
{
	hdr(&r->map_pt.hdr, IA_EV_PT_MAP, sizeof(r->map_pt), 0);
	r->map_pt.domain = DOM;
	r->map_pt.size = 4096;
	hdr(&r->unmap_pt.hdr, IA_EV_PT_UNMAP, sizeof(r->unmap_pt), 0);
	r->unmap_pt.domain = DOM;
	r->unmap_pt.size = 4096;
	r->unmap_pt.result = 4096;
	req_init(&r->child, IA_REQ_IOMMU_MAP, 0);
	req_init(&r->root, IA_REQ_MAP_PAGE, 2);
	req_init(&r->unroot, IA_REQ_UNMAP_PAGE, 2);
}

/* One map_page (req id 2i+1) with its __iommu_dma_map child (2i+2). */
static void map_one(struct sink *c, struct recs *r, __u64 i)
{
	__u64 iova = 0x100000000ULL + i * 4096, phys = 0x200000000ULL + i * 4096;

	r->map_pt.hdr.req_id = 2 * i + 2;
	r->map_pt.iova = iova;
	r->map_pt.paddr = phys;
	emit(c, &r->map_pt.hdr, sizeof(r->map_pt));
	r->child.hdr.req_id = 2 * i + 2;
	r->child.parent_id = 2 * i + 1;
	r->child.phys = phys;
	r->child.dma = iova;
	emit(c, &r->child.hdr, sizeof(r->child));
	r->root.hdr.req_id = 2 * i + 1;
	r->root.phys = phys;
	r->root.dma = iova;
	emit(c, &r->root.hdr, sizeof(r->root));
}

static void unmap_one(struct sink *c, struct recs *r, __u64 i, __u64 base)
{
	__u64 iova = 0x100000000ULL + i * 4096;

	r->unmap_pt.hdr.req_id = base + i;
	r->unmap_pt.iova = iova;
	emit(c, &r->unmap_pt.hdr, sizeof(r->unmap_pt));
	r->unroot.hdr.req_id = base + i;
	r->unroot.dma = iova;
	emit(c, &r->unroot.hdr, sizeof(r->unroot));
}

static void device(struct sink *k)
{
	struct ia_ev_device d;

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
	emit(k, &d.hdr, sizeof(d));
}

/* Replay a trace as `check` does. */
static int replay(const char *path)
{
	struct ia_trace_reader *r;
	struct ia_run_summary s;
	struct ia_checker *c;
	struct stamp t0, t1;
	char err[512];
	size_t nf;

	t0 = now();
	if (ia_checker_from_trace(path, 0, NULL, &c, &r, &s, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t1 = now();
	ia_checker_findings(c, &nf);
	printf("%s: %llu records replayed in %.3f s CPU (%.3f s wall): %.2f M records/s, "
	       "%zu findings\n", path, (unsigned long long)s.records, t1.cpu - t0.cpu,
	       t1.wall - t0.wall, s.records / (t1.cpu - t0.cpu) / 1e6, nf);
	ia_checker_free(c);
	ia_trace_close(r);
	return 0;
}

/* Write the trace of n mappings. */
static int write_trace(const char *path, __u64 n)
{
	static const __u64 lost[IA_DROP_MAX];
	struct ia_trace_meta m = { .page_size = 4096 };
	struct sink k = { NULL, NULL };
	struct recs r;
	char err[512];

	recs_init(&r);
	strcpy(m.kernel_release, "bench");
	k.w = ia_trace_create(path, &m, err, sizeof(err));
	if (!k.w) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	device(&k);
	for (__u64 i = 0; i < n; i++)
		map_one(&k, &r, i);
	for (__u64 i = 0; i < n; i++)
		unmap_one(&k, &r, i, 2 * n + 1);
	if (ia_trace_finish(k.w, lost, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	return 0;
}

/* Heap in use, mmapped chunks included (the big arrays are mmapped), and
 * the checker's pools, which are mapped outside malloc (lib/pool.h). */
static size_t heap(const struct ia_checker *c)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd + ia_checker_pool_bytes(c);
}

int main(int argc, char **argv)
{
	const char *trace = NULL;
	struct sink k = { NULL, NULL };
	size_t before, after, nf;
	struct recs r;
	struct stamp t0, t1, t2;
	__u64 n;

	if (argc > 2 && !strcmp(argv[1], "--replay"))
		return replay(argv[2]);
	if (argc > 2 && !strcmp(argv[1], "--trace")) {
		trace = argv[2];
		argv += 2;
		argc -= 2;
	}
	n = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
	if (!n)
		return 1;
	if (trace)
		return write_trace(trace, n) || replay(trace);
	k.c = ia_checker_new();
	if (!k.c)
		return 1;
	device(&k);

	recs_init(&r);
	before = heap(k.c);
	t0 = now();
	for (__u64 i = 0; i < n; i++)
		map_one(&k, &r, i);
	t1 = now();
	after = heap(k.c);
	printf("%llu live mappings: %zu heap bytes, %.1f bytes per live mapping; "
	       "map_page: %.0f ns per request (3 records)\n",
	       (unsigned long long)ia_checker_live_mappings(k.c), after - before,
	       (double)(after - before) / n, (t1.cpu - t0.cpu) * 1e9 / n);
	for (__u64 i = 0; i < n; i++)
		unmap_one(&k, &r, i, 2 * n + 1);
	t2 = now();
	ia_checker_findings(k.c, &nf);
	printf("unmapped all: %llu live, %zu findings, unmap_page: %.0f ns per request "
	       "(2 records); %.2f M records/s (%.3f s CPU, %.3f s wall)\n",
	       (unsigned long long)ia_checker_live_mappings(k.c), nf,
	       (t2.cpu - t1.cpu) * 1e9 / n, 5.0 * n / (t2.cpu - t0.cpu) / 1e6,
	       t2.cpu - t0.cpu, t2.wall - t0.wall);
	ia_checker_free(k.c);
	return 0;
}
