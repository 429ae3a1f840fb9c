// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The shadow of the two-step IOVA API (v6.16+): reservations by their
 * struct dma_iova_state, the ranges linked into each, and what each call
 * did to them, for the invariants (struct ck_iova_ctx). Part of the lower
 * layer (shadow.h): the replay feeds it, the invariants read what it says.
 *
 * A link is a live buffer of its device like a DMA API mapping (the replay
 * also runs the map invariants on it, as a request of kind
 * IA_REQ_IOVA_LINK); an unlink or destroy ends the links it covers, a
 * destroy or free ends the reservation and with it any link left.
 */
#include <stdlib.h>
#include <string.h>
#include "check/shadow.h"
#include "check/devstats.h"

static __u64 overlap(__u64 a0, __u64 a1, __u64 b0, __u64 b1)
{
	__u64 lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;

	return hi > lo ? hi - lo : 0;
}

/*
 * A link of st ended: its live buffer too. A link its reservation's release
 * left mapped keeps its entries, which no live mapping owns any more: a
 * removal of them outside any request (the fixture's repair) is not one
 * behind the API's back (inv_lifecycle.c), nor is the link live at the end.
 */
static void end_link(struct ck_iova_ctx *xi, struct ck_iova *st,
		     const struct ck_iova_link *l)
{
	struct ck_device *d = xi->x.dev;
	struct ia_inode *n = xi->x.dom ? ia_itree_find(&xi->x.dom->pt, st->addr + l->off) : NULL;
	struct ck_ptmap *m = n ? ia_container_of(n, struct ck_ptmap, node) : NULL;
	struct ck_owner none = { 0 };

	if (!d)
		return;
	if (m && ck_ptmap_req(xi->x.c, m) == l->req_id)
		ck_ptmap_set_owner(xi->x.c, m, &none);
	free(ia_u64map_del(&d->orphans, st->addr + l->off));
	ck_live_end(xi->x.c, d, l->req_id);
}

/* The granule-aligned IOVA range [*lo, *hi) that [off, off + len) of st
 * covers: what dma-iommu maps for a link there and removes for an unlink. */
static void span(const struct ck_iova_ctx *xi, const struct ck_iova *st, __u64 off,
		 __u64 len, __u64 *lo, __u64 *hi)
{
	__u64 g = xi->x.granule;

	*lo = (st->addr + off) & ~(g - 1);
	*hi = (st->addr + off + len + g - 1) & ~(g - 1);
}

/*
 * [off, off + len) of st unlinked: links inside its range end, links it
 * cuts are trimmed to what is left below the cut (or above it). What it
 * covers is judged in the granule-aligned ranges the kernel maps and
 * removes (successful links never share a granule: a second write of one
 * fails): bytes of its range that no live link maps were never linked,
 * unless an earlier unlink took them.
 */
static void unlink_range(struct ck_iova_ctx *xi, struct ck_iova *st, __u64 off, __u64 len)
{
	struct ia_checker *c = xi->x.c;
	__u64 lo, hi, a, b, covered = 0, twice = 0;
	size_t keep = 0;

	span(xi, st, off, len, &lo, &hi);
	for (size_t i = 0; i < st->dead.n; i++) {
		span(xi, st, st->dead.v[i].off, st->dead.v[i].len, &a, &b);
		twice += overlap(lo, hi, a, b);
	}
	for (size_t i = 0; i < st->live.n; i++) {
		struct ck_iova_link l = st->live.v[i];
		__u64 lend = l.off + l.len, o;

		span(xi, st, l.off, l.len, &a, &b);
		o = overlap(lo, hi, a, b);
		covered += o;
		if (o && o == b - a) {	/* all of it */
			end_link(xi, st, &l);
			CK_PUSH(c, st->dead, l);
			continue;
		}
		if (o) {		/* cut: keep the part below, else above */
			if (l.off < off) {
				l.len = off - l.off;
			} else {
				l.len = lend > off + len ? lend - (off + len) : 0;
				l.off = off + len;
			}
		}
		st->live.v[keep++] = l;
	}
	st->live.n = keep;
	if (twice > hi - lo - covered)
		twice = hi - lo - covered;
	xi->unlinked_twice = twice;
	xi->not_linked = hi - lo - covered - twice;
}

/* The reservation ends; links still live end with it. */
static void release(struct ck_iova_ctx *xi, struct ck_iova *st)
{
	for (size_t i = 0; i < st->live.n; i++) {
		xi->left_links++;
		xi->left_bytes += st->live.v[i].len;
		end_link(xi, st, &st->live.v[i]);
	}
	st->live.n = 0;
	st->dead.n = 0;
	st->reserved = false;
}

static void reserve(struct ck_iova_ctx *xi)
{
	const struct ia_ev_iova *e = xi->e;
	struct ck_iova *st = xi->st;

	if (!st) {
		st = ck_get_or_new(xi->x.c, &xi->x.c->iovas, e->state, sizeof(*st));
		if (!st)
			return;
	} else if (st->reserved) {
		xi->replaced = true;	/* the old range is lost */
		release(xi, st);
		xi->left_links = xi->left_bytes = 0;
	}
	st->dev = e->dev;
	st->addr = e->addr;
	st->size = e->state_size & ~IA_IOVA_SWIOTLB;
	st->req_id = e->hdr.req_id;
	st->stack_id = e->stack_id;
	st->reserved = true;
	xi->st = st;
}

static void link(struct ck_iova_ctx *xi)
{
	const struct ia_ev_iova *e = xi->e;
	struct ck_iova *st = xi->st;
	struct ck_iova_link l = { e->offset, e->size, e->hdr.req_id };
	__u64 end = e->offset + e->size, lo, hi, a, b;
	size_t keep = 0;

	if (end > st->size)
		xi->outside = end - (e->offset > st->size ? e->offset : st->size);
	/* linked again: no longer "unlinked before" */
	span(xi, st, e->offset, e->size, &lo, &hi);
	for (size_t i = 0; i < st->dead.n; i++) {
		span(xi, st, st->dead.v[i].off, st->dead.v[i].len, &a, &b);
		if (!overlap(lo, hi, a, b))
			st->dead.v[keep++] = st->dead.v[i];
	}
	st->dead.n = keep;
	CK_PUSH(xi->x.c, st->live, l);
}

void ck_iova_apply(struct ck_iova_ctx *xi)
{
	const struct ia_ev_iova *e = xi->e;
	struct ck_iova *st = ia_u64map_get(&xi->x.c->iovas, e->state);

	xi->st = st;
	xi->was_reserved = st && st->reserved;
	if (e->kind == IA_REQ_IOVA_TRY_ALLOC) {
		if (!(e->hdr.flags & IA_REQ_F_FAILED))
			reserve(xi);
		return;
	}
	if (!xi->was_reserved)
		return;	/* never seen reserved, or already released */
	switch (e->kind) {
	case IA_REQ_IOVA_LINK:
		if (!(e->hdr.flags & IA_REQ_F_FAILED))
			link(xi);
		break;
	case IA_REQ_IOVA_UNLINK:
		unlink_range(xi, st, e->offset, e->size);
		break;
	case IA_REQ_IOVA_DESTROY:	/* mapped_len 0: a free */
		if (e->size)
			unlink_range(xi, st, 0, e->size);
		release(xi, st);
		break;
	case IA_REQ_IOVA_FREE:
		release(xi, st);
		break;
	}
}
