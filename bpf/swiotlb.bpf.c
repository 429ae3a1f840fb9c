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
		a.alloc_size = a.mapping_size;
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
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&bounce_inflight, &key);
	return 0;
}
