/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A u64map (u64map.h) whose last added key waits beside the table until
 * the map changes otherwise or is iterated. A key added and removed in
 * between (a request's pending entry: made by its first record, taken at
 * its last, with nothing else added meanwhile) then costs no hash, probe
 * or shift.
 *
 * The table goes through the states it would without the stage, so what
 * iterates it sees the plain map's order: the growth adding the key would
 * make is made when it is staged, a staged key goes into the table before
 * any other change, and an insert undone before anything else changed
 * leaves a linear-probing table with backward-shift deletion as it was
 * (the key took the first empty slot of its run; every entry after that
 * slot has its home after it, so removing the key moves none).
 */
#ifndef IA_U64STAGE_H
#define IA_U64STAGE_H

#include "lib/u64map.h"

struct ia_u64stage {
	struct ia_u64map m;	/* every key but the staged one */
	__u64 key;		/* the staged key, not in m; 0: none */
	void *val;
};

void ia_u64stage_init(struct ia_u64stage *s);
void ia_u64stage_free(struct ia_u64stage *s);	/* values are the caller's */
void *ia_u64stage_get(const struct ia_u64stage *s, __u64 key);
/* As ia_u64map_slot: the slot is valid until the next change of s. */
void **ia_u64stage_slot(struct ia_u64stage *s, __u64 key, int *added);
/* As ia_u64map_put, without the replaced value (values not owned). */
int ia_u64stage_put(struct ia_u64stage *s, __u64 key, void *val);
void *ia_u64stage_del(struct ia_u64stage *s, __u64 key);
size_t ia_u64stage_len(const struct ia_u64stage *s);
/* Every key in the table (the staged one put in): to iterate, as the
 * plain map would be. Valid until the next change of s. */
const struct ia_u64map *ia_u64stage_map(struct ia_u64stage *s);

#endif
