// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Lifecycle (invariant 4) of the two-step IOVA API (v6.16+): a driver
 * reserves an IOVA range (dma_iova_try_alloc), links physical ranges into
 * it at offsets (dma_iova_link), and unlinks them (dma_iova_unlink) or
 * unlinks [0, mapped_len) and releases the range at once
 * (dma_iova_destroy), or releases a range with nothing linked
 * (dma_iova_free). Each link is also checked as a mapping by the map
 * invariants (translation, exposure, alignment, lifecycle's live buffers);
 * the lazy window of a destroy is the temporal invariant's (its IOVA release
 * record, queued in a DMA-FQ domain; an unlink is flushed at once).
 *
 *   lifecycle.iova_link_outside     a link past the end of the reserved
 *                                   range (IOVA the state does not own)
 *   lifecycle.iova_not_linked       unlink or destroy of bytes never linked
 *   lifecycle.iova_double_unlink    unlink or destroy of bytes already
 *                                   unlinked
 *   lifecycle.iova_live_at_release  destroy or free leaving links mapped:
 *                                   the device still reaches them through
 *                                   IOVA space that is released
 *   lifecycle.iova_not_reserved     a call on a state destroyed or freed
 *                                   earlier (a use after release)
 *   lifecycle.iova_reserve_live     try_alloc into a state still reserved:
 *                                   the old range is lost
 *   lifecycle.iova_reserved_at_end  reserved when the run ended (info, as
 *                                   lifecycle.live_at_end)
 *
 * A state first seen after its try_alloc (the recording started later) is
 * not known: its calls are not judged.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include "check/invariant.h"
#include "check/devstats.h"

static void report(struct ck_iova_ctx *xi, __u32 sev, const char *code, __u64 len,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void report(struct ck_iova_ctx *xi, __u32 sev, const char *code, __u64 len,
		   const char *fmt, ...)
{
	struct ia_finding f;
	va_list ap;

	ck_finding_init(&xi->x, &f, IA_INV_LIFECYCLE, sev, code);
	f.len = len;
	va_start(ap, fmt);
	vsnprintf(f.message, sizeof(f.message), fmt, ap);
	va_end(ap);
	ck_report(xi->x.c, &f);
}

static void iova_check(struct ck_iova_ctx *xi)
{
	const struct ia_ev_iova *e = xi->e;
	const char *call = ia_req_kind_str(e->kind);

	if (e->kind == IA_REQ_IOVA_TRY_ALLOC) {
		if (xi->replaced)
			report(xi, IA_SEV_ERROR, "lifecycle.iova_reserve_live", e->size,
			       "%s into a state still reserved: its earlier IOVA range is lost",
			       call);
		return;
	}
	if (!xi->was_reserved) {
		if (xi->st)	/* seen reserved, then released */
			report(xi, IA_SEV_ERROR, "lifecycle.iova_not_reserved", e->size,
			       "%s on a state already destroyed or freed", call);
		return;
	}
	if (xi->outside)
		report(xi, IA_SEV_ERROR, "lifecycle.iova_link_outside", xi->outside,
		       "%s of %" PRIu64 " bytes at offset %" PRIu64 ": %" PRIu64
		       " bytes past the %" PRIu64 " reserved", call, (uint64_t)e->size,
		       (uint64_t)e->offset, (uint64_t)xi->outside, (uint64_t)xi->st->size);
	if (xi->not_linked)
		report(xi, IA_SEV_ERROR, "lifecycle.iova_not_linked", xi->not_linked,
		       "%s of %" PRIu64 " bytes at offset %" PRIu64 ": %" PRIu64
		       " of them were never linked", call, (uint64_t)e->size,
		       (uint64_t)(e->kind == IA_REQ_IOVA_UNLINK ? e->offset : 0),
		       (uint64_t)xi->not_linked);
	if (xi->unlinked_twice)
		report(xi, IA_SEV_ERROR, "lifecycle.iova_double_unlink", xi->unlinked_twice,
		       "%s of %" PRIu64 " bytes at offset %" PRIu64 ": %" PRIu64
		       " of them were already unlinked", call, (uint64_t)e->size,
		       (uint64_t)(e->kind == IA_REQ_IOVA_UNLINK ? e->offset : 0),
		       (uint64_t)xi->unlinked_twice);
	if (xi->left_links)
		report(xi, IA_SEV_ERROR, "lifecycle.iova_live_at_release", xi->left_bytes,
		       "%s releases the IOVA range with %" PRIu64 " links (%" PRIu64
		       " bytes) still mapped", call, (uint64_t)xi->left_links,
		       (uint64_t)xi->left_bytes);
}

static void iova_finish(struct ia_checker *c)
{
	__u64 k;
	void *v;

	for (size_t it = 0; ia_u64map_next(&c->iovas, &it, &k, &v);) {
		const struct ck_iova *st = v;
		struct ia_finding f;

		if (!st->reserved)
			continue;
		ck_finding_init_dev(c, ck_device_find(c, st->dev), &f, IA_INV_LIFECYCLE,
				    IA_SEV_INFO, "lifecycle.iova_reserved_at_end", st->stack_id);
		f.req_kind = IA_REQ_IOVA_TRY_ALLOC;
		f.req_id = st->req_id;
		f.dma = st->addr;
		f.len = st->size;
		snprintf(f.message, sizeof(f.message), "IOVA range of %" PRIu64
			 " bytes at 0x%" PRIx64 " still reserved at the end of the run (%zu links)",
			 (uint64_t)st->size, (uint64_t)st->addr, st->live.n);
		ck_report(c, &f);
	}
}

const struct ck_invariant ck_inv_iova = {
	.name = "iova",
	.iova = iova_check,
	.finish = iova_finish,
};
