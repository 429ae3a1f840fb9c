// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Lazy invalidation. In a DMA-FQ domain __iommu_dma_unmap() clears the page
 * table but defers the IOTLB flush: the device can still reach the old pages
 * through stale IOTLB entries until the flush queue is flushed
 * (fq_flush_iotlb). The time between the two is the temporal exposure.
 */
#include "audit.bpf.h"
#include "release.bpf.h"
#include "frees.bpf.h"

/* __iommu_dma_unmap(dev, dma_addr, size) */
static __always_inline void iova_unmap_done(const __u64 *a, __u64 ret)
{
	ia_iova_release(ia_current_req(), (struct device *)a[0], a[1], a[2], true);
}

static __always_inline void fq_flush_emit(__u64 cookie)
{
	struct ia_ev_fq_flush *e;

	ia_frees_flush(ia_addr((void *)cookie));	/* may be a typed pointer (fexit) */
	e = ia_reserve(IA_EV_FQ_FLUSH, sizeof(*e));
	if (!e)
		return;
	e->cookie = cookie;
	ia_submit(e);
}

/* fq_flush_iotlb(cookie), 6.1 and 6.12 */
static __always_inline void fq_flush_done(const __u64 *a, __u64 ret)
{
	fq_flush_emit(a[0]);
}

/*
 * 7.x: fq_flush_iotlb() is inlined into its two callers (the timer,
 * fq_flush_timeout(), and queue_iova() when a queue is full), and so is not
 * in BTF. It bumps cookie->fq_flush_finish_cnt, and both callers then call
 * fq_ring_free_locked(cookie, fq), which frees the entries queued before
 * that count; queue_iova() also calls it before each queueing. A flush is
 * seen as the count having moved at that entry: the first caller after a
 * flush takes the new value with a compare-and-swap and reports it once,
 * before any IOVA it is about to queue (so that flush does not revoke it).
 * A cookie seen for the first time is reported too: nothing queued earlier
 * in the run is then left unflushed, and a flush that revokes nothing of
 * the run changes nothing.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);	/* struct iommu_dma_cookie * */
	__type(value, __u64);	/* its fq_flush_finish_cnt last reported */
} fq_seen SEC(".maps");

static __always_inline void fq_ring_free_seen(const __u64 *a, __u64 ret)
{
	struct iommu_dma_cookie *cookie = (void *)a[0];
	__u64 key = a[0], cnt, old, *last;

	cnt = BPF_CORE_READ(cookie, fq_flush_finish_cnt.counter);
	last = bpf_map_lookup_elem(&fq_seen, &key);
	if (!last) {
		if (bpf_map_update_elem(&fq_seen, &key, &cnt, BPF_NOEXIST))
			return;	/* another CPU was first */
	} else {
		old = *last;
		if (old == cnt || __sync_val_compare_and_swap(last, old, cnt) != old)
			return;
	}
	fq_flush_emit(key);
}

SEC("fexit/__iommu_dma_unmap")
int iova_unmap(__u64 *ctx)
{
	iova_unmap_done(ctx, 0);
	return 0;
}

SEC("fexit/fq_flush_iotlb")
int fq_flush(__u64 *ctx)
{
	fq_flush_done(ctx, 0);
	return 0;
}

SEC("fentry/fq_ring_free_locked")	/* 7.x */
int fq_ring_free(__u64 *ctx)
{
	fq_ring_free_seen(ctx, 0);
	return 0;
}

SEC("kprobe/fq_ring_free_locked")
int fq_ring_free_k(struct pt_regs *regs)
{
	__u64 a[IA_MAX_ARGS];

	ia_regs_args(regs, a);
	fq_ring_free_seen(a, 0);
	return 0;
}

IA_KPROBE_STASHED(iova_unmap, __iommu_dma_unmap, IA_STASH_IOVA_UNMAP, iova_unmap_done)
IA_KPROBE_STASHED(fq_flush, fq_flush_iotlb, IA_STASH_FQ_FLUSH, fq_flush_done)
