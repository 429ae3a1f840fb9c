// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The floor: what any BPF tracer on a hook costs at least. Each program
 * only counts its calls (one per-CPU counter); bench/floor/floor.c loads
 * one copy per hook, so it runs on exactly the hooks a mode attaches, with
 * the same attach types (fentry, fexit, tp_btf) and no work beyond.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

static __always_inline int count(void)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&calls, &k);

	if (v)
		(*v)++;
	return 0;
}

SEC("fentry")
int on_fentry(void *ctx) { return count(); }

SEC("fexit")
int on_fexit(void *ctx) { return count(); }

SEC("tp_btf")
int on_tp(void *ctx) { return count(); }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
