/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The interface between the replay (replay.c) and the invariants (inv_*.c):
 * each invariant is one file that fills one struct ck_invariant, and one row
 * of ck_invariants[] (invariants.c). The replay calls the rows in table
 * order for every event an invariant asked for; a NULL callback is "not
 * interested". An invariant reads and updates the shadow (shadow.h) and
 * reports findings through it; it never calls the replay or another
 * invariant.
 *
 * Request callbacks run when a root request is complete (its record, and
 * for scatterlists its output walk, arrived), with everything its nested
 * requests did merged into x->p and the domain's shadow page tables already
 * updated by its writes.
 */
#ifndef IA_CHECK_INVARIANT_H
#define IA_CHECK_INVARIANT_H

#include "check/shadow.h"

struct ck_invariant {
	const char *name;
	/* a root map or allocation that mapped (x->req not IA_REQ_F_FAILED) */
	void (*map)(struct ck_ctx *x);
	/* a root map or allocation that failed (refused writes matter) */
	void (*map_failed)(struct ck_ctx *x);
	void (*unmap)(struct ck_ctx *x);	/* unmaps and frees */
	void (*sync)(struct ck_ctx *x);		/* syncs */
	void (*sgtable)(struct ck_ctx *x);	/* a get_sgtable that succeeded */
	/* a page-table write that succeeded, before the shadow has it */
	void (*pt_map)(struct ia_checker *c, const struct ia_ev_pt *e);
	/* a page-table removal outside any request (req 0) that removed
	 * bytes of domain d, before the shadow applies it */
	void (*pt_unmap_outside)(struct ia_checker *c, struct ck_domain *d,
				 const struct ia_ev_pt *e);
	/* an IOVA range released; p: its request's pending state, or NULL */
	void (*iova_free)(struct ia_checker *c, const struct ia_ev_iova_free *e,
			  const struct ck_pending *p);
	void (*flush)(struct ia_checker *c, const struct ia_ev_fq_flush *e);
	/* a root call of the two-step IOVA API, after the shadow applied it
	 * (and, for a link, after the map callbacks saw it as a mapping) */
	void (*iova)(struct ck_iova_ctx *x);
	/* memory freed while a device could reach it (record --free-hooks) */
	void (*freed)(struct ia_checker *c, const struct ia_ev_freed *e);
	/* a device's driver was released (an IA_DEV_UNBOUND device record),
	 * before the device's context is replaced by the record's */
	/* ts_ns: the unbind's time, which its findings carry */
	void (*unbind)(struct ia_checker *c, struct ck_device *d, __u64 ts_ns);
	/* a page-table snapshot completed (c->oracle holds it) */
	void (*snapshot)(struct ia_checker *c);
	/* end of input: end-of-run findings */
	void (*finish)(struct ia_checker *c);
};

/* Every callback of struct ck_invariant: the replay's CK_EACH walks, per
 * callback, only the rows that have it (struct ck_callers). */
#define CK_CALLBACKS(X)	X(map) X(map_failed) X(unmap) X(sync) X(sgtable) X(pt_map) \
			X(pt_unmap_outside) X(iova_free) X(flush) X(iova) X(freed) \
			X(unbind) X(snapshot) X(finish)
enum ck_callback {
#define CK_CB_ENUM(cb) CK_CB_##cb,
	CK_CALLBACKS(CK_CB_ENUM)
#undef CK_CB_ENUM
	CK_CB_NR
};
_Static_assert(sizeof(struct ck_invariant) ==
	       sizeof(const char *) + CK_CB_NR * sizeof(void (*)(void)),
	       "every callback of struct ck_invariant is in CK_CALLBACKS");
_Static_assert(CK_CB_NR <= CK_CALLBACKS_MAX, "struct ck_callers has a row per callback");

extern const struct ck_invariant ck_inv_translation, ck_inv_exposure, ck_inv_alignment,
	ck_inv_lifecycle, ck_inv_temporal, ck_inv_failed, ck_inv_iova, ck_inv_freed,
	ck_inv_oracle;

/* In the order the replay calls them (which is the order of the findings
 * of one event). */
extern const struct ck_invariant *const ck_invariants[];
extern const size_t ck_nr_invariants;

#endif
