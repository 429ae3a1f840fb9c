/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Kernel symbols from /proc/kallsyms, for symbolizing call stacks. */
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
 * Does the kallsyms-format stream f list the symbol name (of any type, data
 * symbols too)? 1 yes, 0 no, -1 read error or out of memory. Lines of any
 * length are read whole: a symbol is the line's third field, compared
 * exactly (a longer symbol that starts with name is not name).
 */
int ia_ksyms_has(FILE *f, const char *name);

#endif
