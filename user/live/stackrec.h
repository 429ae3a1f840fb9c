/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Call-stack records for live runs: the first time a stack id is named by a
 * request, its frames are read from the BPF stack map and symbolized with
 * /proc/kallsyms (the trace must be readable on another machine), and an
 * IA_EV_STACK record is made to go before the request. A stack the map had
 * no room for arrives as an IA_EV_KSTACK record under an inline id (see
 * ia_events.h): the first one with given frames becomes an IA_EV_STACK
 * record under its own id, and later ones with the same frames are named
 * by that id (ia_stack_cache_resolve), so a hot colliding call site costs
 * one record, not one per request.
 */
#ifndef IA_STACKREC_H
#define IA_STACKREC_H

#include <stdbool.h>
#include <stddef.h>
#include "event/ia_events.h"
#include "lib/u64map.h"

struct ia_session;
struct ia_ksyms;

struct ia_stackrec {
	struct ia_ev_stack s;
	struct ia_stack_frame f[IA_STACK_DEPTH];
};

struct ia_stack_cache {
	struct ia_ksyms *ksyms;		/* loaded at the first stack */
	bool ksyms_tried;
	__u64 modules;			/* /proc/modules' digest when loaded */
	struct ia_u64map done;		/* stack id + 1 -> 1 */
	/* ids known done, direct-mapped by the id's low bits (id + 1; 0:
	 * empty): the few sites of a busy run hit it, and the reader meets
	 * an id with every request record */
	__s32 recent[64];
	struct ia_u64map inline_first;	/* frames key -> first inline id */
	struct ia_u64map inline_alias;	/* inline id -> first inline id */
};

void ia_stack_cache_init(struct ia_stack_cache *c);
/*
 * Read the kernel's symbols now (else at the first stack): a live run
 * calls it once its session is open (its programs' own frames are told
 * by their [bpf] symbols, which exist from then on) and before its
 * command runs. Loaded at the first stack, they
 * stopped the reader when the workload began (under TCG /proc/kallsyms
 * takes a second or more to read and sort), while 4 benchmark threads
 * filled the 16 MiB ring in half a second: the losses at 4 threads of
 * docs/benchmarks.md ("The reader's first stack"). A module loaded since
 * (the workload's own: the fixture) has no symbols in them, so each new
 * stack first compares /proc/modules' names and addresses with what they
 * were at the load, and loads the symbols again when they changed.
 */
void ia_stack_cache_preload(struct ia_stack_cache *c);
void ia_stack_cache_free(struct ia_stack_cache *c);

/* Fill *rec for stack id if it is new: true; false if seen before or < 0. */
bool ia_stack_cache_new(struct ia_stack_cache *c, struct ia_session *s, __s32 id,
			struct ia_stackrec *rec);

/* An IA_EV_KSTACK record: fill *rec and true when its frames are new;
 * false when they came before (the id is then an alias of the first). */
bool ia_stack_cache_inline(struct ia_stack_cache *c, const struct ia_ev_kstack *k,
			   struct ia_stackrec *rec);

/* The id a request's stack_id is written as: an inline id whose frames
 * came before under another inline id becomes that id; others unchanged.
 * Once per request record: the alias is consumed. */
__s32 ia_stack_cache_resolve(struct ia_stack_cache *c, __s32 id);

/* What a ring-buffer record becomes before it is written or checked. */
struct ia_stack_passed {
	struct ia_stackrec stack;	/* to pass on first, when has_stack */
	bool has_stack;
	struct ia_ev_req req;		/* a request with its stack id resolved */
};

/* The record to pass on after out->stack (if any): rec itself, a copy in
 * out->req, or NULL for an IA_EV_KSTACK (consumed: it is not a trace
 * record). For record and live, which both write what they receive. */
const struct ia_ev_hdr *ia_stack_pass(struct ia_stack_cache *c, struct ia_session *s,
				      const struct ia_ev_hdr *rec, size_t len,
				      struct ia_stack_passed *out);

#endif
