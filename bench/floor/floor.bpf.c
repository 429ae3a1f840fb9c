// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The floor: what any BPF tracer on a hook costs at least. Each program
 * only counts its calls (one per-CPU counter); bench/floor/floor.c loads
 * one copy per hook, so it runs on exactly the hooks a mode attaches, with
 * the same attach types (fentry, fexit, tp_btf) and no work beyond.
 *
 * Two heavier variants (floor --work) price what every `record` program
 * adds to that, so that a mode's cost can be split: `clock` also reads the
 * clock once (bpf_ktime_get_ns(), the clocksource: HPET in the TCG guest),
 * `record` also writes one record of `record` mode's size (96 bytes, the
 * header iommu-audit fills: clock, CPU, pid) into a ring buffer that
 * floor.c drains, submitted without a wakeup as iommu-audit does.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum { WORK_COUNT, WORK_CLOCK, WORK_RECORD };

const volatile __u32 work = WORK_COUNT;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} ring SEC(".maps");

struct floor_rec {
	__u64 ts_ns;
	__u32 cpu, pid;
	__u64 data[10];
};

static __always_inline int count(void)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&calls, &k);
	struct floor_rec *r;

	if (v)
		(*v)++;
	if (work == WORK_CLOCK && v)
		v[0] += bpf_ktime_get_ns() & 0;	/* read, kept from dead-code removal */
	if (work == WORK_RECORD) {
		r = bpf_ringbuf_reserve(&ring, sizeof(*r), 0);
		if (!r)
			return 0;
		r->ts_ns = bpf_ktime_get_ns();
		r->cpu = bpf_get_smp_processor_id();
		r->pid = (__u32)bpf_get_current_pid_tgid();
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	}
	return 0;
}

SEC("fentry")
int on_fentry(void *ctx) { return count(); }

SEC("fexit")
int on_fexit(void *ctx) { return count(); }

SEC("tp_btf")
int on_tp(void *ctx) { return count(); }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
