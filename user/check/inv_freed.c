// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Memory freed while a device can reach it (record --free-hooks,
 * bpf/frees.bpf.c): the device then reads or writes memory that someone
 * else owns next.
 *
 *   lifecycle.freed_while_mapped  a page, or a slab object overlapping the
 *                                 requested bytes, freed while the IOMMU
 *                                 still maps it; error
 *   temporal.freed_before_flush   the same after a lazy unmap, before its
 *                                 flush queue was flushed: a stale IOTLB
 *                                 entry may still reach it; warning (every
 *                                 driver that frees right after a lazy
 *                                 unmap does it: that is the lazy mode's
 *                                 known window, here counted and named)
 *
 * The finding's call site is the freeing stack (what to fix); the mapping's
 * call site is in the message.
 */
#include <inttypes.h>
#include <string.h>
#include "check/invariant.h"

static void freed(struct ia_checker *c, const struct ia_ev_freed *e)
{
	bool lazy = e->hdr.flags & IA_FREED_LAZY;
	struct ck_device *d = ck_device_find(c, e->dev);
	struct ia_finding f, m;

	/* the mapping's call site, DMA API frames left out as in findings */
	ck_finding_init_dev(c, d, &m, 0, 0, "", e->map_stack_id);
	ck_finding_init_dev(c, d, &f, lazy ? IA_INV_TEMPORAL : IA_INV_LIFECYCLE,
			    lazy ? IA_SEV_WARNING : IA_SEV_ERROR,
			    lazy ? "temporal.freed_before_flush" : "lifecycle.freed_while_mapped",
			    e->free_stack_id);
	f.ts_ns = e->hdr.ts_ns;
	f.req_id = e->hdr.req_id;
	f.dma = e->iova;
	f.phys = e->phys;
	f.len = e->size;
	/* the message says where it was mapped; a long site is cut */
	if (snprintf(f.message, sizeof(f.message),
		     "%s, %" PRIu64 " bytes at phys 0x%" PRIx64 " freed while %s page 0x%" PRIx64
		     " (iova 0x%" PRIx64 ") mapped at %s",
		     !(e->hdr.flags & IA_FREED_SLAB) ? "page" :
		     e->size > 1 ? "slab object" : "kfree() of an object",
		     (uint64_t)e->size, (uint64_t)e->phys,
		     lazy ? "the IOTLB may still reach, before the flush, its" : "the device maps its",
		     (uint64_t)e->map_phys, (uint64_t)e->iova,
		     m.site[0][0] ? m.site[0] : "(no call stack)") >= (int)sizeof(f.message))
		f.message[sizeof(f.message) - 1] = 0;
	ck_report(c, &f);
}

const struct ck_invariant ck_inv_freed = {
	.name = "freed",
	.freed = freed,
};
