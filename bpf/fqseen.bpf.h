/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
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
 * the run changes nothing. Used by flush.bpf.c (record) and prod.bpf.c
 * (production counters).
 */
#ifndef IA_FQSEEN_BPF_H
#define IA_FQSEEN_BPF_H

#include "audit.bpf.h"

#define IA_FQ_SEEN_MAP	__uint(type, BPF_MAP_TYPE_LRU_HASH); \
			__uint(max_entries, 1024); \
			__type(key, __u64);	/* struct iommu_dma_cookie * */ \
			__type(value, __u64)	/* its fq_flush_finish_cnt last reported */
#ifndef IA_STATE_DEFINE
IA_MAP_DECL(fq_seen, IA_FQ_SEEN_MAP);

/* fq_ring_free_locked(cookie, ...) entered: did a flush happen since? */
static __always_inline bool ia_fq_flush_moved(__u64 key)
{
	struct iommu_dma_cookie *cookie = (void *)key;
	__u64 cnt, old, *last;

	cnt = BPF_CORE_READ(cookie, fq_flush_finish_cnt.counter);
	last = bpf_map_lookup_elem(&fq_seen, &key);
	if (!last)
		return !bpf_map_update_elem(&fq_seen, &key, &cnt, BPF_NOEXIST);
	old = *last;
	return old != cnt && __sync_val_compare_and_swap(last, old, cnt) == old;
}
#endif
#endif /* IA_FQSEEN_BPF_H */
