/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Transparent huge pages for the checker's big structures. A 10-million-
 * record trace makes the checker fault in about 290 MB of new memory, 72 000
 * page faults of 4 KiB: most of a replay's system time. Marked with
 * MADV_HUGEPAGE (what turns THP on in the kernel's usual "madvise" mode),
 * a 2 MiB-aligned range is faulted in once. Only what is already large is
 * marked: a huge page is committed whole, and a small trace's structures
 * stay on 4 KiB pages.
 */
#ifndef IA_HUGEMEM_H
#define IA_HUGEMEM_H

#include <stddef.h>

#define IA_HUGE_PAGE	((size_t)2 << 20)	/* x86-64 and arm64 (4 KiB pages) */

/*
 * Ask for huge pages on the whole pages of [p, p + len). Advice only: a
 * kernel without THP says EINVAL and the memory stays as it was.
 */
void ia_mem_advise_huge(void *p, size_t len);

#endif
