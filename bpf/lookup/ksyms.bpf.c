// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kernel data addresses the main programs read (enum ia_ksym), looked
 * up by the kernel itself: one BPF_PROG_RUN of this syscall program instead
 * of a pass over /proc/kallsyms. The symbols sit at the end of vmlinux's
 * list (.data, .bss, _end), so that pass reads nearly all of it: 1.3 s per
 * start under TCG on 7.2, about a seventh of a start, which the VM suites
 * pay some thirty times a kernel. kallsyms_lookup_name() is a binary search
 * since 6.2 (commit 60443c88f3a8, "kallsyms: Improve the performance of
 * kallsyms_lookup_name()"); before, a linear scan per name, slower than one
 * pass, so the loader runs this only where that search exists (loader.c,
 * ksyms_by_kernel()).
 *
 * Its own object, loaded before the main one: the main object's addresses
 * are .rodata, frozen when it loads. The names and results are in .bss,
 * written and read by the loader through the skeleton's mmap.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "event/ia_events.h"

char ksym_name[IA_NR_KSYMS][IA_KSYM_NAME_LEN];
__u64 ksym_addr[IA_NR_KSYMS];
long ksym_ret[IA_NR_KSYMS];	/* 0, -ENOENT, or -EPERM when addresses are hidden */

SEC("syscall")
int lookup_ksyms(void *ctx)
{
	for (int i = 0; i < IA_NR_KSYMS; i++)
		ksym_ret[i] = bpf_kallsyms_lookup_name(ksym_name[i], sizeof(ksym_name[i]), 0,
						       &ksym_addr[i]);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
