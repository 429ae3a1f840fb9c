// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Bounce buffers: dma-iommu bounces sub-granule buffers of untrusted devices
 * through a swiotlb slot, and the device handle then points into the slot.
 *
 * swiotlb_tbl_map_single() takes 7 arguments in 6.1, more than the x86
 * fentry trampoline takes, so it is a kprobe/kretprobe pair; the loader tells
 * the programs the argument layout of the running kernel (6.1: dev, orig_addr,
 * mapping_size, alloc_size, alloc_align_mask, dir, attrs; later kernels
 * dropped alloc_size).
 */
#include "audit.bpf.h"

/* number of arguments of swiotlb_tbl_map_single on this kernel (BTF) */
const volatile __u32 swiotlb_map_nargs = 7;

struct bounce_args {
	__u64 dev;
	__u64 orig_phys;
	__u64 mapping_size;
	__u64 alloc_size;
	__u32 dir;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct bounce_args);
} bounce_inflight SEC(".maps");

#define IA_IO_TLB_SIZE	2048	/* 1 << IO_TLB_SHIFT, include/linux/swiotlb.h */

/*
 * 6-argument kernels (alloc_size dropped, "swiotlb: remove alloc_size
 * argument to swiotlb_tbl_map_single()", v6.10) size the allocation
 * themselves, as 6.12's kernel/dma/swiotlb.c does:
 *   offset = orig_addr & dma_get_min_align_mask(dev) & (align_mask | (IO_TLB_SIZE - 1))
 *   size = ALIGN(mapping_size + offset, align_mask + 1)
 * and return its start + offset. The slot the device may reach from the
 * returned address on is size - offset bytes: what 6.1's callers passed as
 * alloc_size (iova_align(size) from dma-iommu).
 */
static __always_inline __u64 slot_bytes(struct device *dev, __u64 orig, __u64 mapping,
					__u32 align_mask)
{
	struct device_dma_parameters *parms = BPF_CORE_READ(dev, dma_parms);
	__u64 min_align = parms ? BPF_CORE_READ(parms, min_align_mask) : 0;
	__u64 offset = orig & min_align & (align_mask | (IA_IO_TLB_SIZE - 1));
	__u64 a = (__u64)align_mask + 1;

	return ((mapping + offset + a - 1) & ~(a - 1)) - offset;
}

SEC("kprobe/swiotlb_tbl_map_single")
int bounce_enter(struct pt_regs *regs)
{
	__u64 key = ia_task_key();
	/* read every register first: the verifier only allows ctx loads at
	 * constant offsets, which a conditional load would not be */
	__u64 arg4 = PT_REGS_PARM4(regs), arg5 = PT_REGS_PARM5(regs);
	__u64 arg6 = IA_KPROBE_ARG6(regs);
	struct bounce_args a = {
		.dev = PT_REGS_PARM1(regs),
		.orig_phys = PT_REGS_PARM2(regs),
		.mapping_size = PT_REGS_PARM3(regs),
	};

	barrier_var(arg5);
	barrier_var(arg6);
	if (swiotlb_map_nargs >= 7) {
		a.alloc_size = arg4;
		a.dir = arg6;
	} else {
		a.alloc_size = slot_bytes((struct device *)a.dev, a.orig_phys,
					  a.mapping_size, (__u32)arg4);
		a.dir = arg5;
	}
	bpf_map_update_elem(&bounce_inflight, &key, &a, BPF_ANY);
	return 0;
}

SEC("kretprobe/swiotlb_tbl_map_single")
int BPF_KRETPROBE(bounce_exit, phys_addr_t tlb_addr)
{
	__u64 key = ia_task_key();
	struct bounce_args *a = bpf_map_lookup_elem(&bounce_inflight, &key);
	__u64 id = ia_current_req();
	struct ia_ev_bounce *e;

	if (!a)
		return 0;
	e = id != IA_REQ_FILTERED ? ia_reserve(IA_EV_BOUNCE, sizeof(*e)) : NULL;
	if (e) {
		e->hdr.req_id = id;
		e->dev = a->dev;
		e->orig_phys = a->orig_phys;
		e->tlb_phys = tlb_addr;
		e->mapping_size = a->mapping_size;
		e->alloc_size = a->alloc_size;
		e->dir = a->dir;
		e->pad = 0;
		ia_submit(e);
	}
	bpf_map_delete_elem(&bounce_inflight, &key);
	return 0;
}
