/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Page-table snapshots: the IOMMU's own page tables, as the Intel VT-d
 * driver dumps them in debugfs (CONFIG_INTEL_IOMMU_DEBUGFS), read and
 * turned into trace records (IA_EV_PT_SNAP, ia_events.h) for the checker's
 * oracle (docs/checks.md, "The page-table oracle").
 *
 * Where the dumps are (drivers/iommu/intel/debugfs.c):
 *   6.1: ROOT/domain_translation_struct, one file, every PCI device's
 *        domain ("Device 0000:00:01.0 @0x..."; one device per IOMMU group);
 *   6.8+ (7.2 checked): ROOT/<dev>/domain_translation_struct per device,
 *        ROOT/<dev>/<pasid>/domain_translation_struct per PASID attached
 *        ("Device 0000:00:01.0 [with pasid 1] @0x...").
 * Both print one line per present leaf: "0x<IOVA pfn> |" and the raw entry
 * of each level from the PML5E down to the leaf (6.1 prints all five, 0 for
 * levels below a superpage; 7.2 stops at the leaf). The leaf is the last
 * non-zero entry. 7.2's generic_pt (iommu_vtdss) writes the same hardware
 * format, and the dump walks the context entry's table, not the driver's
 * structures.
 */
#ifndef IA_LIVE_PTSNAP_H
#define IA_LIVE_PTSNAP_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "event/ia_events.h"

#define IA_PTSNAP_ROOT		"/sys/kernel/debug/iommu/intel"
#define IA_PTSNAP_MAX_RANGES	(1u << 20)	/* per device: beyond, truncated */
#define IA_PTSNAP_MAX_DEVS	256

struct ia_ptsnap_dev {
	char name[IA_NAME_LEN];
	__u32 pasid;		/* ~0: none */
	__u64 pgd;
	bool truncated;
	size_t n, cap;
	struct ia_snap_range *r;
};

struct ia_ptsnap {
	size_t n, cap;
	struct ia_ptsnap_dev *dev;
	bool absent;		/* no dump on this kernel */
	char why[160];		/* absent: why (the paths looked at) */
};

/*
 * Parse one dump (the text of a domain_translation_struct file) into s,
 * appending a device per "Device" line; devices whose name is not in
 * only[0..nonly) are skipped (nonly 0: all). max: ranges per device, then
 * it is marked truncated. 0, or -ENOMEM (s keeps what was parsed).
 */
int ia_ptsnap_parse(FILE *f, struct ia_ptsnap *s, const char *const *only, int nonly,
		    size_t max);

/* Read every dump under root (IA_PTSNAP_ROOT) into s (zeroed first);
 * s->absent when there is none. 0 or -ENOMEM. */
int ia_ptsnap_read(const char *root, struct ia_ptsnap *s, const char *const *only, int nonly);

void ia_ptsnap_free(struct ia_ptsnap *s);

/*
 * The records of snapshot s (number snap, enum ia_snap_why why, read from
 * begin_ns to end_ns), each handed to emit: BEGIN, the devices' ranges in
 * chunks of IA_SNAP_CHUNK, END. emit's non-zero return stops and is
 * returned. emit_begin / emit_rest split it around the read, as record
 * does (the BEGIN record goes out before the dump is read).
 */
typedef int (*ia_ptsnap_emit_fn)(void *ctx, const struct ia_ev_hdr *rec);
int ia_ptsnap_emit_begin(__u32 snap, __u32 why, __u64 begin_ns, ia_ptsnap_emit_fn emit,
			 void *ctx);
int ia_ptsnap_emit_rest(const struct ia_ptsnap *s, __u32 snap, __u32 why, __u64 end_ns,
			ia_ptsnap_emit_fn emit, void *ctx);

#endif
