/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Records the BPF side folds into one ring-buffer record, unfolded before
 * anything else sees them: a page-table write with IA_PT_TP_FOLDED stands
 * for the iommu:map or iommu:unmap tracepoint's record and its own, an
 * IA_EV_BUNDLE for an unmap's removal and its IOVA release, an
 * IA_EV_REQ_BUNDLE for a map's record with the write and the nested
 * request's record made before it (event/ia_events.h). What comes out is what the programs would have sent
 * unfolded, byte for byte, so traces and live checks are the same.
 */
#ifndef IA_LIVE_RINGFOLD_H
#define IA_LIVE_RINGFOLD_H

#include <stddef.h>
#include "event/ia_events.h"

typedef int (*ia_ringfold_fn)(void *ctx, const struct ia_ev_hdr *rec, size_t len);

/*
 * Pass ring-buffer record rec (len bytes) to fn: a folded write as the
 * tracepoint's record, then the write's without the flag; a bundle as its
 * records; anything else as it is (fn judges it). Returns fn's first negative return, else 0.
 */
int ia_ringfold(const struct ia_ev_hdr *rec, size_t len, ia_ringfold_fn fn, void *ctx);

#endif /* IA_LIVE_RINGFOLD_H */
