// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The page-table oracle's state (lower layer): the snapshot being read
 * from its records, the page-table changes recorded while it was read (in
 * flight), and the first dumps that give a domain its state from before
 * the recording. The comparison and its findings are inv_oracle.c.
 *
 * Everything kept is bounded by the records themselves and by the
 * CK_SNAP_* limits (shadow.h): a hostile trace cannot make the checker
 * hold or compare more than it gave.
 */
#include <stdlib.h>
#include <string.h>
#include "check/shadow.h"

__u64 ck_name_key(const char *name)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < IA_NAME_LEN && name[i]; i++)
		h = (h ^ (unsigned char)name[i]) * 0x100000001b3ULL;
	return h ? h : 1;
}

static void snapdevs_free(struct ck_snapdev *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].r.v);
}

void ck_oracle_close(struct ia_checker *c)
{
	struct ck_oracle *o = &c->oracle;

	snapdevs_free(o->devs.v, o->devs.n);
	o->devs.n = 0;
	o->touched.n = 0;
	o->touched_full = false;
	o->ranges = 0;
	o->open = false;
}

/* The device entry a record continues, or a new one. */
static struct ck_snapdev *snapdev(struct ia_checker *c, const struct ia_ev_pt_snap *e)
{
	struct ck_oracle *o = &c->oracle;
	struct ck_snapdev *d = o->devs.n ? &o->devs.v[o->devs.n - 1] : NULL, nd = { 0 };

	if (d && !d->last && !strncmp(d->name, e->dev, IA_NAME_LEN) && d->pasid == e->pasid)
		return d;
	if (o->devs.n >= CK_SNAP_MAX_DEVS)
		return NULL;
	memcpy(nd.name, e->dev, IA_NAME_LEN);
	nd.name[IA_NAME_LEN - 1] = 0;
	nd.pasid = e->pasid;
	if (CK_PUSH(c, o->devs, nd))
		return NULL;
	return &o->devs.v[o->devs.n - 1];
}

bool ck_oracle_add(struct ia_checker *c, const struct ia_ev_pt_snap *e)
{
	struct ck_oracle *o = &c->oracle;
	struct ck_snapdev *d;

	if (e->hdr.flags & IA_SNAP_BEGIN) {
		ck_oracle_close(c);	/* an unfinished one (cut short) is dropped */
		o->open = true;
		o->snap = e->snap;
		o->why = e->why;
		o->begin_ns = e->hdr.ts_ns;
		return false;
	}
	if (!o->open || e->snap != o->snap)
		return false;	/* no BEGIN: nothing to compare with in flight */
	if (e->hdr.flags & IA_SNAP_END) {
		o->st.snapshots++;
		if (e->hdr.flags & IA_SNAP_ABSENT)
			o->st.absent++;
		return true;
	}
	d = snapdev(c, e);
	if (!d) {
		o->st.skipped++;
		return false;
	}
	/* record_sane() (replay.c) checked that count ranges fit in hdr.size */
	for (__u32 i = 0; i < e->count; i++) {
		if (o->ranges >= CK_SNAP_MAX_RANGES) {
			d->truncated = true;
			break;
		}
		if (CK_PUSH(c, d->r, e->r[i]))
			break;
		o->ranges++;
	}
	d->truncated |= !!(e->hdr.flags & IA_SNAP_TRUNCATED);
	d->last = e->hdr.flags & IA_SNAP_DEV_LAST;
	return false;
}

void ck_oracle_touch(struct ia_checker *c, __u64 dom, __u64 lo, __u64 hi)
{
	struct ck_oracle *o = &c->oracle;
	struct ck_touch t = { dom, lo, hi };

	if (!o->open || o->touched_full)
		return;
	if (o->touched.n >= CK_SNAP_MAX_TOUCHED) {
		o->touched_full = true;
		return;
	}
	CK_PUSH(c, o->touched, t);
}

bool ck_oracle_in_flight(const struct ia_checker *c, __u64 dom, __u64 lo, __u64 hi)
{
	const struct ck_oracle *o = &c->oracle;

	if (o->touched_full)
		return true;
	for (size_t i = 0; i < o->touched.n; i++) {
		const struct ck_touch *t = &o->touched.v[i];

		if (t->dom == dom && t->lo < hi && lo < t->hi)
			return true;
	}
	return false;
}

/* A dump's range [lo, hi) -> phys, to be seeded around what a domain holds. */
struct gap_ctx {
	struct ia_checker *c;
	__u64 dom, lo, hi, phys;
	__u64 at;		/* where the next gap starts */
};

static void seed_piece(struct gap_ctx *g, __u64 a, __u64 b)
{
	struct ck_domain *d;

	if (a >= b || ck_oracle_in_flight(g->c, g->dom, a, b))
		return;
	if (ck_pt_insert(g->c, g->dom, a, b - a, g->phys + (a - g->lo)))
		return;
	/* the entry just inserted (the tree's hint): the snapshot's, no owner */
	d = ck_domain_get(g->c, g->dom);
	ia_container_of(ia_itree_node(&d->pt, d->pt.hint), struct ck_ptmap, node)->own.seeded = true;
	/* a start state, not a change; d->inserts stays counted: the tree
	 * did gain an entry (ck_pending_emptied must not skip over it) */
	d->changes--;
}

static int seed_gap(struct ia_inode *n, void *ctx)
{
	struct gap_ctx *g = ctx;

	if (n->start > g->at)
		seed_piece(g, g->at, n->start < g->hi ? n->start : g->hi);
	if (n->end > g->at)
		g->at = n->end;
	return 0;
}

/* Gathered first: seeding inserts into the tree being walked. */
struct hits {
	CK_VEC(struct ia_inode) v;
	struct ia_checker *c;
};

static int gather(struct ia_inode *n, void *ctx)
{
	struct hits *h = ctx;

	return CK_PUSH(h->c, h->v, *n) ? 1 : 0;
}

void ck_oracle_seed(struct ia_checker *c, __u64 dom, const struct ck_snapdev *s)
{
	struct ck_domain *d = ck_domain_get(c, dom);
	struct hits h = { .c = c };

	if (!d)
		return;
	for (size_t i = 0; i < s->r.n; i++) {
		const struct ia_snap_range *r = &s->r.v[i];
		struct gap_ctx g = { c, dom, r->iova, r->iova + r->size, r->paddr, r->iova };

		h.v.n = 0;
		ia_itree_overlaps(&d->pt, g.lo, g.hi, gather, &h);
		for (size_t k = 0; k < h.v.n; k++)
			seed_gap(&h.v.v[k], &g);
		if (g.at < g.hi)
			seed_piece(&g, g.at, g.hi);
	}
	free(h.v.v);
}

void ck_oracle_device(struct ia_checker *c, struct ck_device *d)
{
	struct ck_oracle *o = &c->oracle;
	__u64 key = ck_name_key(d->stats.name);

	if (!d->ctx.domain || ia_u64map_get(&o->started, key))
		return;
	for (size_t i = 0; i < o->seeds.n; i++) {
		struct ck_snapdev *s = &o->seeds.v[i];
		struct ck_domain *dom;

		if (strncmp(s->name, d->stats.name, IA_NAME_LEN))
			continue;
		dom = ck_domain_get(c, d->ctx.domain);
		/* a domain something already changed: the dump is stale for it,
		 * the device's next dump will be its start */
		if (dom && !dom->changes) {
			ck_oracle_seed(c, d->ctx.domain, s);
			ia_u64map_put(&o->started, key, (void *)1, NULL);
		}
		free(s->r.v);
		o->seeds.v[i] = o->seeds.v[--o->seeds.n];
		return;
	}
}
