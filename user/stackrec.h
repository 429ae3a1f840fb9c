/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Call-stack records for live runs: the first time a stack id is named by a
 * request, its frames are read from the BPF stack map and symbolized with
 * /proc/kallsyms (the trace must be readable on another machine), and an
 * IA_EV_STACK record is made to go before the request.
 */
#ifndef IA_STACKREC_H
#define IA_STACKREC_H

#include <stdbool.h>
#include "ia_events.h"
#include "u64map.h"

struct ia_session;
struct ia_ksyms;

struct ia_stackrec {
	struct ia_ev_stack s;
	struct ia_stack_frame f[IA_STACK_DEPTH];
};

struct ia_stack_cache {
	struct ia_ksyms *ksyms;		/* loaded at the first stack */
	bool ksyms_tried;
	struct ia_u64map done;		/* stack id + 1 -> 1 */
};

void ia_stack_cache_init(struct ia_stack_cache *c);
void ia_stack_cache_free(struct ia_stack_cache *c);

/* Fill *rec for stack id if it is new: true; false if seen before or < 0. */
bool ia_stack_cache_new(struct ia_stack_cache *c, struct ia_session *s, __s32 id,
			struct ia_stackrec *rec);

#endif
