/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Mapped pages for the free hooks (frees.bpf.c): the calls that keep them. */
#ifndef IA_FREES_BPF_H
#define IA_FREES_BPF_H

/* --free-hooks (frees.bpf.c): callers test it before working out the
 * arguments (ia_addr() is a helper call) */
extern const volatile __u32 free_hooks;

extern int ia_frees_map(__u64 domain, __u64 iova, __u64 paddr, __u64 size);
extern int ia_frees_unmap(__u64 domain, __u64 iova, __u64 size);
extern int ia_frees_flush(__u64 cookie);
extern int ia_frees_request(__u64 phys, __u64 size);

#endif
