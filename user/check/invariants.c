// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The invariants of DESIGN.md section 2, in the order the replay runs them
 * for one event. A new invariant is a new inv_NAME.c and a row here.
 */
#include "check/invariant.h"

const struct ck_invariant *const ck_invariants[] = {
	&ck_inv_alignment,	/* first: it also sees maps that failed */
	&ck_inv_translation,
	&ck_inv_exposure,
	&ck_inv_lifecycle,
	&ck_inv_temporal,
	&ck_inv_failed,
	&ck_inv_iova,		/* the IOVA API's reservations and links */
	&ck_inv_freed,
	&ck_inv_oracle,		/* the recorded writes against page-table snapshots */
};
_Static_assert(sizeof(ck_invariants) / sizeof(ck_invariants[0]) <= CK_INVARIANTS_MAX,
	       "struct ck_callers holds every row");
const size_t ck_nr_invariants = sizeof(ck_invariants) / sizeof(ck_invariants[0]);
