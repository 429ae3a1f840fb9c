/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Kernel symbols from /proc/kallsyms: for symbolizing call stacks, and the
 * addresses of the kernel data the BPF programs read.
 */
#ifndef IA_KSYMS_H
#define IA_KSYMS_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

struct ia_ksyms;

/* Load a kallsyms-format file; NULL on failure (errno set). */
struct ia_ksyms *ia_ksyms_load(const char *path);
/* The same from an open stream (the caller closes it). */
struct ia_ksyms *ia_ksyms_read(FILE *f);
void ia_ksyms_free(struct ia_ksyms *ks);

/*
 * "function+0xoff" or "function+0xoff [module]" for ip into buf; returns
 * false (buf "") when no symbol covers ip, or symbols are hidden (all zero
 * addresses: kptr_restrict).
 */
int ia_ksyms_symbolize(const struct ia_ksyms *ks, __u64 ip, char *buf, size_t len);

/*
 * One pass over a kallsyms-format stream for n names: addrs[i] is the
 * address of vmlinux's (not a module's) first symbol names[i], 0 when it is
 * absent or hidden (kptr_restrict shows every address as 0). Returns how
 * many were found, -1 on a read error (errno set). Stops reading once all
 * are found.
 */
int ia_ksyms_lookup(FILE *f, const char *const *names, __u64 *addrs, size_t n);

/*
 * A digest of the modules a /proc/modules-format stream lists: each line's
 * name and load address (its first and sixth fields; not the use count,
 * which moves with every open of a device), so that it changes when a
 * module is loaded, unloaded or loaded again elsewhere. Lines without six
 * fields are skipped. (FNV-1a: ia_fnv1a(), lib/fnv.h.)
 */
__u64 ia_modules_digest(FILE *f);

#endif
