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
 *
 * And the prices of single operations `record`'s programs repeat, each
 * once per program run, to split the rest of its cost: `probe` (8
 * bpf_probe_read_kernel() of the current task's fields, as BPF_CORE_READ
 * does), `direct` (the same 8 fields as loads through the BTF-typed
 * pointer bpf_get_current_task_btf() returns), `lru` (one lookup of a
 * thread's entry in an LRU hash: the in-flight stack of inflight.bpf.h),
 * `taskstore` (the same entry in task-local storage), `array` (a slot of
 * a plain array indexed by the thread id, tagged with it: a lookup the
 * verifier inlines, where a hash lookup is a jhash and a bucket walk),
 * `cas` (that slot claimed and freed, two compare-and-swaps), `win8` and
 * `win32` (one probe read of 8 or 32 stack slots from the program's
 * context up, as the call-site walk reads its window: the price of a
 * read's length).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

enum { WORK_COUNT, WORK_CLOCK, WORK_RECORD, WORK_PROBE, WORK_DIRECT, WORK_LRU,
       WORK_TASKSTORE, WORK_ARRAY, WORK_CAS, WORK_WIN8, WORK_WIN32 };

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

struct floor_slot {
	__u64 v[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct floor_slot);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct floor_slot);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct floor_slot);
} tstore SEC(".maps");

/* what win8 and win32 read */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[32]);
} win SEC(".maps");

struct floor_rec {
	__u64 ts_ns;
	__u32 cpu, pid;
	__u64 data[10];
};

/* the 8 fields, read one way or the other; summed so nothing is dropped */
static __always_inline __u64 task_fields(bool direct)
{
	struct task_struct *t = bpf_get_current_task_btf();

	if (direct)
		return t->pid + t->tgid + t->flags + t->prio + t->static_prio +
		       (__u64)t->stack + (__u64)t->mm + (__u64)t->real_parent;
	return BPF_CORE_READ(t, pid) + BPF_CORE_READ(t, tgid) +
	       BPF_CORE_READ(t, flags) + BPF_CORE_READ(t, prio) +
	       BPF_CORE_READ(t, static_prio) + (__u64)BPF_CORE_READ(t, stack) +
	       (__u64)BPF_CORE_READ(t, mm) + (__u64)BPF_CORE_READ(t, real_parent);
}

static __always_inline struct floor_slot *lru_slot(void)
{
	__u64 key = (__u32)bpf_get_current_pid_tgid();
	static const struct floor_slot zero;
	struct floor_slot *s = bpf_map_lookup_elem(&lru, &key);

	if (!s) {
		bpf_map_update_elem(&lru, &key, &zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&lru, &key);
	}
	return s;
}

static __always_inline int count(void *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&calls, &k);
	struct floor_rec *r;
	struct floor_slot *s;

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
	if ((work == WORK_PROBE || work == WORK_DIRECT) && v)
		v[0] += task_fields(work == WORK_DIRECT) & 0;
	if (work == WORK_LRU && (s = lru_slot()))
		s->v[0]++;
	if (work == WORK_ARRAY) {
		__u32 pid = (__u32)bpf_get_current_pid_tgid(), i = pid & 8191;

		s = bpf_map_lookup_elem(&arr, &i);
		if (s && s->v[7] == pid)	/* the tag a slot's owner leaves */
			s->v[0]++;
		else if (s)
			s->v[7] = pid;
	}
	if (work == WORK_CAS) {
		__u32 pid = (__u32)bpf_get_current_pid_tgid(), i = pid & 8191;

		s = bpf_map_lookup_elem(&arr, &i);
		if (s && !__sync_val_compare_and_swap(&s->v[7], 0, pid))
			__sync_val_compare_and_swap(&s->v[7], pid, 0);
	}
	if (work == WORK_WIN8 || work == WORK_WIN32) {
		__u64 *w = bpf_map_lookup_elem(&win, &k);

		if (w)
			bpf_probe_read_kernel(w, work == WORK_WIN8 ? 64 : 256, ctx);
	}
	if (work == WORK_TASKSTORE &&
	    (s = bpf_task_storage_get(&tstore, bpf_get_current_task_btf(), NULL,
				      BPF_LOCAL_STORAGE_GET_F_CREATE)))
		s->v[0]++;
	return 0;
}

SEC("fentry")
int on_fentry(void *ctx) { return count(ctx); }

SEC("fexit")
int on_fexit(void *ctx) { return count(ctx); }

SEC("tp_btf")
int on_tp(void *ctx) { return count(ctx); }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
