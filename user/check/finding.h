/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Findings: what the checker reports. Each names one invariant of
 * DESIGN.md section 2 and a stable code ("exposure.unrelated_pages"), and
 * carries the device, driver, request, addresses, exposed bytes and the call
 * site. Repeats of the same finding (same fingerprint: code, device, driver,
 * call site) are folded into one with a count and totals.
 */
#ifndef IA_FINDING_H
#define IA_FINDING_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "event/ia_events.h"

struct ia_json;

enum ia_severity {
	IA_SEV_INFO = 0,
	IA_SEV_WARNING = 1,
	IA_SEV_ERROR = 2,
};

enum ia_invariant {
	IA_INV_TRANSLATION = 1,	/* the device reaches other memory than asked */
	IA_INV_EXPOSURE,	/* the device reaches memory it was never given */
	IA_INV_ALIGNMENT,	/* handle/offset/page-table/segment constraints */
	IA_INV_LIFECYCLE,	/* DMA API misuse: unmaps, syncs, leaks */
	IA_INV_TEMPORAL,	/* unmapped memory reachable until a lazy flush */
	IA_INV_FAILED,		/* a map or allocation the kernel refused, and why */
	IA_INV_ORACLE,		/* the recorded page-table writes disagree with
				 * the IOMMU's own page tables (a snapshot) */
	IA_INV_MAX,
};

#define IA_SITE_FRAMES	4	/* call-site frames kept per finding */

/* A frame of the DMA code itself (dma-iommu, dma-mapping, BPF's), skipped
 * before a call site's frames; "" (unknown) too. */
bool ia_site_core_frame(const char *sym);

/*
 * The first call-site frame of a stack taken inside the DMA code (syms[0..n),
 * innermost first): after the DMA code's frames, and after whatever precedes
 * the first of them, and with the trampolines between them (an ftrace
 * trampoline sits below each traced DMA function's entry frame, "fn+0x5").
 * Production mode symbolizes its sites' stacks when it ends: a trampoline
 * made for another tracer's programs on the same functions (the VM case
 * production runs `record` under it) is gone by then, and its address
 * resolves to the nearest symbol below it, any module's (seen on 6.1:
 * "cleanup_module [ia_fixture]", before and between the DMA frames, as the
 * boot's module layout fell). n when none; a stack without a DMA frame
 * starts at 0.
 */
size_t ia_site_start(const char (*syms)[IA_SYM_LEN], size_t n);

struct ia_finding {
	__u32 invariant;		/* enum ia_invariant */
	__u32 severity;			/* enum ia_severity */
	const char *code;		/* stable: "<invariant>.<what>" */
	bool uncertain;			/* a lost event could explain it */
	__u64 ts_ns;			/* first occurrence (CLOCK_MONOTONIC) */
	__u64 count;			/* occurrences folded in */
	char device[IA_NAME_LEN];
	char driver[IA_NAME_LEN];
	bool untrusted;
	__u32 req_kind;			/* enum ia_req_kind of the request */
	__u64 req_id;			/* first occurrence's request */
	__u64 dma, phys, len;		/* first occurrence: handle, buffer */
	__u64 granule;
	__u64 head, tail;		/* exposure: bytes before/after the buffer */
	__u64 exposed_bytes;		/* exposure: total over all occurrences */
	__u64 exposed_pages;		/* ... of which whole unrelated CPU pages */
	__u64 value;			/* code-specific (e.g. lazy window, ns) */
	/* translation.sgtable_mismatch (first occurrence): bytes the exported
	 * table describes, bytes the IOMMU maps for the handle, and the first
	 * IOVA where they disagree */
	__u64 exported_bytes, mapped_bytes, diff_dma;
	/* exposure with page records (trace version 4): the exposed bytes by
	 * what the pages held at map time (enum ia_page_kind; the bytes of
	 * pages no record names count as IA_PAGE_UNKNOWN), summed over all
	 * occurrences; the first slab cache among them, its object size and
	 * the objects the exposed bytes overlap (summed) */
	bool classified;
	__u64 kind_bytes[IA_PAGE_KIND_MAX];
	char slab[IA_NAME_LEN];
	__u32 slab_obj_size;
	__u64 slab_objects;
	__u64 file_ino;			/* first page-cache page: inode, dev */
	__u32 file_dev;
	char site[IA_SITE_FRAMES][IA_SYM_LEN];	/* call site, innermost first */
	char message[200];
	char fingerprint[17];		/* 16 hex digits */
};

const char *ia_severity_str(__u32 sev);
int ia_severity_parse(const char *s);		/* -1 if unknown */
const char *ia_invariant_str(__u32 inv);
const char *ia_page_kind_str(__u32 kind);	/* "slab", "file", ... */

/* Kinds whose exposure is an error unless --sensitive says otherwise. */
#define IA_SENSITIVE_DEFAULT	"pgtable,cred_jar,key_jar"

/* Fill f->fingerprint from code, device, driver and the call site's
 * function names (offsets and modules left out: they change across builds). */
void ia_finding_fingerprint(struct ia_finding *f);

/* A fingerprint's 16 hex digits as a map key (never 0): the one key that
 * folding (the checker), --baseline and diff all match findings on. */
__u64 ia_fingerprint_key(const char *hex);

/* Output formats. */
void ia_finding_print(const struct ia_finding *f, FILE *out);
void ia_finding_json(const struct ia_finding *f, struct ia_json *j);

#endif
