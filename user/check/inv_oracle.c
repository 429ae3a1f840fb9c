// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The page-table oracle: at each page-table snapshot (IA_EV_PT_SNAP, the
 * IOMMU's own page tables as the kernel dumps them), the shadow page
 * tables of each dumped device's domain (what the recorded writes and
 * removals say is mapped) against the dump. Every IOVA range where they
 * differ is a finding that says which side has what:
 *   oracle.not_in_trace        the page tables map it, the recorded writes
 *                              do not (a write no hook saw);
 *   oracle.not_in_page_tables  the recorded writes map it, the page tables
 *                              do not (a removal no hook saw);
 *   oracle.phys_mismatch       both map it, to different memory.
 * A device's first dump is its starting state (the mappings made before
 * the recording), not compared. Ranges changed while the dump was read
 * (recorded between its BEGIN and END records) are in flight: tolerated
 * and counted, not reported (docs/checks.md, "The page-table oracle").
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check/invariant.h"

/* One side's mapping of a range: [lo, hi) -> phys at lo. */
struct side {
	__u64 lo, hi, phys;
};

struct side_vec {
	CK_VEC(struct side) v;
	struct ia_checker *c;
};

static int shadow_side(struct ia_inode *n, void *ctx)
{
	struct side_vec *s = ctx;
	struct ck_ptmap *m = ia_container_of(n, struct ck_ptmap, node);
	struct side x = { n->start, n->end, m->paddr };

	return CK_PUSH(s->c, s->v, x) ? 1 : 0;
}

static int by_lo(const void *a, const void *b)
{
	const struct side *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

enum diff_kind { D_NONE, D_NOT_IN_TRACE, D_NOT_IN_PT, D_PHYS };

/* A difference being grown: contiguous pieces of one kind, phys linear. */
struct diff {
	enum diff_kind kind;
	__u64 lo, hi, phys, other;	/* other: the shadow's phys (D_PHYS) */
};

struct cmp {
	struct ia_checker *c;
	struct ck_device *dev;
	__u64 dom;
	struct diff cur;
};

static void report(struct cmp *x, const struct diff *d)
{
	static const char *const code[] = {
		[D_NOT_IN_TRACE] = "oracle.not_in_trace",
		[D_NOT_IN_PT] = "oracle.not_in_page_tables",
		[D_PHYS] = "oracle.phys_mismatch",
	};
	struct ck_oracle *o = &x->c->oracle;
	struct ia_finding f;
	char what[120];

	if (ck_oracle_in_flight(x->c, x->dom, d->lo, d->hi)) {
		o->st.tolerated++;
		return;
	}
	o->st.differences++;
	ck_finding_init_dev(x->c, x->dev, &f, IA_INV_ORACLE, IA_SEV_ERROR, code[d->kind], -1);
	f.ts_ns = o->begin_ns;
	f.dma = d->lo;
	f.len = d->hi - d->lo;
	f.phys = d->phys;
	f.value = o->snap;
	switch (d->kind) {
	case D_NOT_IN_TRACE:
		snprintf(what, sizeof(what), "the IOMMU's page tables map it to phys 0x%" PRIx64
			 ", the recorded writes do not", (uint64_t)d->phys);
		break;
	case D_NOT_IN_PT:
		snprintf(what, sizeof(what), "the recorded writes map it to phys 0x%" PRIx64
			 ", the IOMMU's page tables do not", (uint64_t)d->phys);
		break;
	default:
		snprintf(what, sizeof(what), "the page tables map it to phys 0x%" PRIx64
			 ", the recorded writes to 0x%" PRIx64, (uint64_t)d->phys,
			 (uint64_t)d->other);
	}
	snprintf(f.message, sizeof(f.message), "IOVA 0x%" PRIx64 "-0x%" PRIx64 ": %s "
		 "(page-table snapshot %u)", (uint64_t)d->lo, (uint64_t)d->hi, what, o->snap);
	ck_report(x->c, &f);
}

/* A differing piece [lo, hi): joins the current difference or starts one. */
static void piece(struct cmp *x, enum diff_kind k, __u64 lo, __u64 hi, __u64 phys, __u64 other)
{
	struct diff *d = &x->cur;

	if (d->kind == k && d->hi == lo && d->phys + (d->hi - d->lo) == phys &&
	    (k != D_PHYS || d->other + (d->hi - d->lo) == other)) {
		d->hi = hi;
		return;
	}
	if (d->kind != D_NONE)
		report(x, d);
	*d = (struct diff){ k, lo, hi, phys, other };
}

/*
 * Sweep both sides (sorted by lo) over the IOVA space: each elementary
 * piece is on neither side, one, or both (then the phys must agree; both
 * are linear inside a piece, so its first byte tells).
 */
static void sweep(struct cmp *x, const struct side *s, size_t ns, const struct side *h, size_t nh)
{
	size_t i = 0, k = 0;
	__u64 at = 0;

	while (i < ns || k < nh) {
		const struct side *a = i < ns ? &s[i] : NULL, *b = k < nh ? &h[k] : NULL;
		__u64 alo, blo, lo, hi = ~0ULL;
		bool ain, bin;

		if (a && a->hi <= at) {
			i++;
			continue;
		}
		if (b && b->hi <= at) {
			k++;
			continue;
		}
		alo = a ? (a->lo > at ? a->lo : at) : ~0ULL;
		blo = b ? (b->lo > at ? b->lo : at) : ~0ULL;
		lo = alo < blo ? alo : blo;
		ain = a && alo == lo;
		bin = b && blo == lo;
		if (a)
			hi = ain ? a->hi : a->lo;
		if (b) {
			__u64 e = bin ? b->hi : b->lo;

			hi = e < hi ? e : hi;
		}
		if (ain && bin) {
			__u64 sp = a->phys + (lo - a->lo), hp = b->phys + (lo - b->lo);

			if (sp != hp)
				piece(x, D_PHYS, lo, hi, hp, sp);
		} else if (ain) {
			piece(x, D_NOT_IN_PT, lo, hi, a->phys + (lo - a->lo), 0);
		} else {
			piece(x, D_NOT_IN_TRACE, lo, hi, b->phys + (lo - b->lo), 0);
		}
		at = hi;
	}
	if (x->cur.kind != D_NONE)
		report(x, &x->cur);
}

static void compare(struct ia_checker *c, struct ck_device *dev, const struct ck_snapdev *sd)
{
	struct ck_oracle *o = &c->oracle;
	const struct ck_domain *d = ia_u64map_get(&c->domains, dev->ctx.domain);
	struct side_vec sh = { .c = c }, hw = { .c = c };
	struct cmp x = { c, dev, dev->ctx.domain, { D_NONE } };

	if (d)
		ia_itree_each(&d->pt, shadow_side, &sh);
	for (size_t i = 0; i < sd->r.n; i++) {
		struct side e = { sd->r.v[i].iova, sd->r.v[i].iova + sd->r.v[i].size,
				  sd->r.v[i].paddr };

		if (CK_PUSH(c, hw.v, e))
			break;
	}
	o->work += sh.v.n + hw.v.n;
	if (o->work > CK_ORACLE_WORK_MAX || c->oom) {
		o->st.skipped++;
	} else {
		/* the shadow comes in order; a dump from a trace need not */
		if (hw.v.n)
			qsort(hw.v.v, hw.v.n, sizeof(*hw.v.v), by_lo);
		o->st.compared++;
		sweep(&x, sh.v.v, sh.v.n, hw.v.v, hw.v.n);
	}
	free(sh.v.v);
	free(hw.v.v);
}

/* The device the trace knows by this name (the latest), with a domain. */
static struct ck_device *by_name(struct ia_checker *c, const char *name)
{
	for (size_t i = c->devlist.n; i-- > 0;) {
		struct ck_device *d = c->devlist.v[i];

		if (d->has_ctx && d->ctx.domain && !strncmp(d->stats.name, name, IA_NAME_LEN))
			return d;
	}
	return NULL;
}

/* Keep a first dump of a device not named yet (ck_oracle_device). */
static void keep_seed(struct ia_checker *c, struct ck_snapdev *sd)
{
	struct ck_oracle *o = &c->oracle;

	for (size_t i = 0; i < o->seeds.n; i++)
		if (!strncmp(o->seeds.v[i].name, sd->name, IA_NAME_LEN)) {
			o->st.unresolved++;	/* its first dump is kept already */
			return;
		}
	if (o->seeds.n >= CK_SNAP_MAX_DEVS || CK_PUSH(c, o->seeds, *sd)) {
		o->st.unresolved++;
		return;
	}
	sd->r.v = NULL;	/* moved */
	sd->r.n = sd->r.cap = 0;
	o->st.seeded++;
}

static void oracle_snapshot(struct ia_checker *c)
{
	struct ck_oracle *o = &c->oracle;

	for (size_t i = 0; i < o->devs.n; i++) {
		struct ck_snapdev *sd = &o->devs.v[i];
		struct ck_device *dev;
		__u64 key = ck_name_key(sd->name);

		/* a PASID's domain is not the device's default one (0 is
		 * IOMMU_NO_PASID in scalable mode) */
		if (sd->pasid != ~0u && sd->pasid != 0) {
			o->st.unresolved++;
			continue;
		}
		if (sd->truncated) {
			o->st.skipped++;
			continue;
		}
		dev = by_name(c, sd->name);
		if (!dev) {
			if (ia_u64map_get(&o->started, key))
				o->st.unresolved++;
			else
				keep_seed(c, sd);
			continue;
		}
		if (!ia_u64map_get(&o->started, key)) {
			/* its first dump: the state the recording started from */
			ck_oracle_seed(c, dev->ctx.domain, sd);
			ia_u64map_put(&o->started, key, (void *)1, NULL);
			o->st.seeded++;
			continue;
		}
		compare(c, dev, sd);
	}
}

const struct ck_invariant ck_inv_oracle = {
	.name = "oracle",
	.snapshot = oracle_snapshot,
};
