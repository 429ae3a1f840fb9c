// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The maps and globals shared by all iommu-audit programs, defined once. */
#define IA_STATE_DEFINE
#include "audit.bpf.h"
#include "fqseen.bpf.h"

struct { IA_EVENTS_MAP; } events SEC(".maps");
struct { IA_DROPS_MAP; } drops SEC(".maps");
struct { IA_INFLIGHT_MAP; } inflight SEC(".maps");
struct { IA_INFLIGHT_SLOTS_MAP; } inflight_slots SEC(".maps");
struct { IA_DEVS_MAP; } devs SEC(".maps");
struct { IA_DEV_CACHE_MAP; } dev_cache SEC(".maps");
struct { IA_STACKS_MAP; } stacks SEC(".maps");
struct { IA_SITE_COUNTS_MAP; } site_counts SEC(".maps");
struct { IA_SITE_HOPS_MAP; } site_hops SEC(".maps");
struct { IA_SITE_SLOTS_MAP; } site_slots SEC(".maps");
struct { IA_SITE_STACKS_MAP; } site_stacks SEC(".maps");
struct { IA_OWN_STACKS_MAP; } own_stacks SEC(".maps");
struct { IA_SITE_SCRATCH_MAP; } site_scratch SEC(".maps");
struct { IA_SITE_FAST_MAP; } site_fast SEC(".maps");
struct { IA_STASH_MAP; } arg_stash SEC(".maps");
struct { IA_FQ_SEEN_MAP; } fq_seen SEC(".maps");

/* Request ids, unique per run; 0 means "no request". */
__u64 req_seq = 0;
/*
 * 0 until the loader has attached every program (user/live/loader.c sets it
 * through the mmapped .bss): before that, no frame is pushed and nothing is
 * sent. Attaching takes seconds under load (tens under TCG), one program
 * after another: a request whose entry program was attached but not its
 * nested call's met the nested exit with the wrong frame on top, and a run
 * started under I/O counted hundreds of in-flight "losses" (exit 3) that were
 * only its own attach order.
 */
__u32 armed = 0;
/*
 * Bumped each time a device's shared state (devs) is written, whichever
 * CPU wrote it. A copy of a device's context kept per CPU (production
 * mode's, prod.bpf.c) is good only while the epoch it was taken at is
 * current: the task may have moved to another CPU, seen a change there
 * and sent it, and a change back to what this CPU's copy holds would look
 * like no change at all (the production VM case's untrusted bit flipped
 * on and back off on another CPU did: 2 context records of 3).
 */
__u64 dev_epoch = 0;

/* Set by the loader before load. */
const volatile __u32 page_shift = 12;
const volatile __u32 struct_page_size = 64;
/* wake the reader only once this many bytes wait in the ring (0: at every
 * record); the loader sets an eighth of the ring */
const volatile __u64 wake_bytes = 0;
/* records sent per CPU, for the fill test's sampling (ia_wake_flags()) */
__u32 wake_tick[IA_WAKE_CPUS] = {};
/* frames an in-flight stack holds, at most IA_INFLIGHT_DEPTH: fewer only
 * to make it overflow on purpose (IA_FAULT_INFLIGHT_DEPTH, the overload test) */
const volatile __u32 inflight_depth = IA_INFLIGHT_DEPTH;
/* the thread-id bits that pick a task's in-flight slot (ia_inflight_idx()):
 * 0 only to make every task's the same (IA_FAULT_INFLIGHT_SLOTS=1, the
 * record-spill test), so that tasks in requests at once take the hash */
const volatile __u32 inflight_slot_mask = IA_INFLIGHT_SLOTS - 1;
/* call stacks of root requests (record); off for aggregate-only commands */
const volatile __u32 capture_stacks = 1;
/* --full-stacks: unwind every root request, not once per call site
 * (site.bpf.h) */
const volatile __u32 full_stacks = 0;
/* production mode: a stack whose stack map bucket is taken goes into
 * own_stacks (ia_own_stack(), site.bpf.h) */
const volatile __u32 own_stack_ids = 0;
/* IA_SITE_VERIFY=1 (the VM test's witness): every site hit also unwinds
 * and compares its walked return addresses with the unwinder's */
const volatile __u32 site_verify = 0;
/* what exposed pages hold, read at map time (classify.bpf.c); 0: off */
const volatile __u32 classify_pages = 1;
/* --device NAME...: only these devices' requests are reported (0: all) */
const volatile __u32 nr_dev_filters = 0;
const volatile char dev_filters[IA_MAX_DEV_FILTERS][IA_NAME_LEN] = {};

/* addresses of kernel data, from /proc/kallsyms (enum ia_ksym) */
const volatile __u64 ksym_addr[IA_NR_KSYMS] = {};

/*
 * The values of two kernel variables that are set once, at boot (KASLR),
 * as first read: vmemmap_base and page_offset_base. Read through a probe
 * read of their addresses (ksym_addr) the first time only: the readers are
 * on every request's path.
 */
__u64 vmemmap_base_seen = 0;
__u64 page_offset_base_seen = 0;

static __always_inline __u64 boot_base(__u64 *seen, __u32 ksym)
{
	__u64 v = *seen;

	if (!v && ksym_addr[ksym]) {
		bpf_probe_read_kernel(&v, sizeof(v), (const void *)ksym_addr[ksym]);
		*seen = v;
	}
	return v;
}

__noinline __u64 ia_vmemmap_base(void)
{
	return boot_base(&vmemmap_base_seen, IA_KSYM_VMEMMAP_BASE);
}

__noinline __u64 ia_page_offset_base(void)
{
	return boot_base(&page_offset_base_seen, IA_KSYM_PAGE_OFFSET_BASE);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
