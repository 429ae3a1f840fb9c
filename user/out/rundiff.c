// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "out/findings_out.h"
#include "out/rundiff.h"
#include "lib/u64map.h"

const char *ia_diff_status_str(enum ia_diff_status s)
{
	switch (s) {
	case IA_DIFF_NEW:	return "new";
	case IA_DIFF_FIXED:	return "fixed";
	case IA_DIFF_CHANGED:	return "changed";
	case IA_DIFF_UNCHANGED:	return "unchanged";
	default:		return "?";
	}
}

const char *ia_diff_change_str(__u32 bit)
{
	switch (bit) {
	case IA_DIFF_DRIVER:		return "driver";
	case IA_DIFF_GRANULE:		return "granule";
	case IA_DIFF_DOMAIN_TYPE:	return "domain_type";
	case IA_DIFF_UNTRUSTED:		return "untrusted";
	default:			return "?";
	}
}

/* --device: nothing given means every device. */
static bool wanted(const struct ia_diff_opts *o, const char *name)
{
	for (size_t i = 0; i < o->nr_devices; i++)
		if (!strcmp(o->devices[i], name))
			return true;
	return !o->nr_devices;
}

/* ---- devices ---------------------------------------------------------------- */

/* A device row (a copy: ia_checker_devices() rebuilds its array on each
 * call), tagged with its run and its place in that run. */
struct dev_ref {
	struct ia_check_dev d;
	bool is_new;
	size_t idx;
};

/* By name, OLD's rows first, each run's in its own order: a group of equal
 * names then adds up in run order, so the last row's context wins. */
static int cmp_ref(const void *a, const void *b)
{
	const struct dev_ref *x = a, *y = b;
	int c = strcmp(x->d.name, y->d.name);

	if (c)
		return c;
	if (x->is_new != y->is_new)
		return x->is_new ? 1 : -1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int add_refs(struct dev_ref **refs, size_t *n, const struct ia_checker *c, bool is_new,
		    const struct ia_diff_opts *o)
{
	size_t nd;
	const struct ia_check_dev *d = ia_checker_devices(c, &nd);
	struct dev_ref *r = realloc(*refs, (*n + nd + 1) * sizeof(*r));

	if (!r)
		return -ENOMEM;
	*refs = r;
	for (size_t i = 0; i < nd; i++)
		if (wanted(o, d[i].name))
			r[(*n)++] = (struct dev_ref){ d[i], is_new, i };
	return 0;
}

static void add_row(struct ia_check_dev *sum, const struct ia_check_dev *d)
{
	struct ia_check_dev s = *d;	/* the latest context */

	ia_check_dev_add(&s, sum);
	*sum = s;
}

static void compare_dev(struct ia_diff_dev *e)
{
	const struct ia_check_dev *o = &e->old, *n = &e->new;

	if (e->in_old && e->in_new) {
		if (strcmp(o->driver, n->driver))
			e->changed |= IA_DIFF_DRIVER;
		if (o->granule != n->granule)
			e->changed |= IA_DIFF_GRANULE;
		if (o->domain_type != n->domain_type)
			e->changed |= IA_DIFF_DOMAIN_TYPE;
		if (o->untrusted != n->untrusted)
			e->changed |= IA_DIFF_UNTRUSTED;
	}
	/* the totals `diff` shows; the others (live, lazy) have findings */
	e->differs = e->in_old != e->in_new || e->changed || o->maps != n->maps ||
		     o->bytes_requested != n->bytes_requested ||
		     o->bytes_mapped != n->bytes_mapped ||
		     o->bytes_exposed != n->bytes_exposed ||
		     o->pages_exposed != n->pages_exposed;
}

static int diff_devices(struct ia_rundiff *d, const struct ia_checker *old,
			const struct ia_checker *new, const struct ia_diff_opts *o)
{
	struct dev_ref *refs = NULL;
	size_t nref = 0;

	if (add_refs(&refs, &nref, old, false, o) || add_refs(&refs, &nref, new, true, o) ||
	    !(d->devs = calloc(nref + 1, sizeof(*d->devs)))) {
		free(refs);
		return -ENOMEM;
	}
	qsort(refs, nref, sizeof(*refs), cmp_ref);
	for (size_t i = 0; i < nref; i++) {
		struct ia_diff_dev *e;

		if (!i || strcmp(refs[i].d.name, refs[i - 1].d.name)) {
			e = &d->devs[d->ndevs++];
			memcpy(e->name, refs[i].d.name, sizeof(e->name));
		}
		e = &d->devs[d->ndevs - 1];
		if (refs[i].is_new) {
			add_row(&e->new, &refs[i].d);
			e->in_new = true;
		} else {
			add_row(&e->old, &refs[i].d);
			e->in_old = true;
		}
	}
	free(refs);
	for (size_t i = 0; i < d->ndevs; i++) {
		compare_dev(&d->devs[i]);
		d->devs_differ += d->devs[i].differs;
	}
	return 0;
}

/* ---- findings --------------------------------------------------------------- */

static bool finding_changed(const struct ia_finding *o, const struct ia_finding *n)
{
	/* value (the longest lazy window) is a timing: it differs every run */
	return o->count != n->count || o->exposed_bytes != n->exposed_bytes ||
	       o->exposed_pages != n->exposed_pages;
}

static int diff_findings(struct ia_rundiff *d, const struct ia_checker *old,
			 const struct ia_checker *new, const struct ia_diff_opts *o)
{
	size_t no, nn, k = 0, at[IA_DIFF_STATUS_MAX];
	const struct ia_finding *of = ia_checker_findings(old, &no);
	const struct ia_finding *nf = ia_checker_findings(new, &nn);
	struct ia_diff_finding *tmp = calloc(no + nn + 1, sizeof(*tmp));
	bool *seen = calloc(no + 1, sizeof(*seen));
	struct ia_u64map by_fp;		/* OLD's fingerprint key -> index + 1 */
	int ret = -ENOMEM;

	ia_u64map_init(&by_fp);
	if (!tmp || !seen)
		goto out;
	for (size_t i = 0; i < no; i++)
		if (wanted(o, of[i].device) &&
		    ia_u64map_put(&by_fp, ia_fingerprint_key(of[i].fingerprint),
				  (void *)(uintptr_t)(i + 1), NULL))
			goto out;
	for (size_t i = 0; i < nn; i++) {
		size_t oi = (size_t)(uintptr_t)ia_u64map_get(&by_fp,
							     ia_fingerprint_key(nf[i].fingerprint));
		struct ia_diff_finding *e = &tmp[k];

		if (!wanted(o, nf[i].device))
			continue;
		k++;
		e->new = &nf[i];
		if (!oi) {
			e->status = IA_DIFF_NEW;
			/* OLD's fingerprints are the baseline */
			e->fails = ia_finding_fails(&nf[i], o->fail_level, NULL);
			continue;
		}
		e->old = &of[oi - 1];
		seen[oi - 1] = true;
		e->status = finding_changed(e->old, e->new) ? IA_DIFF_CHANGED : IA_DIFF_UNCHANGED;
	}
	for (size_t i = 0; i < no; i++)
		if (!seen[i] && wanted(o, of[i].device))
			tmp[k++] = (struct ia_diff_finding){ .status = IA_DIFF_FIXED, .old = &of[i] };

	/* group by status, keeping the order inside each group */
	for (size_t i = 0; i < k; i++) {
		d->count[tmp[i].status]++;
		d->failing += tmp[i].fails;
	}
	at[0] = 0;
	for (int s = 1; s < IA_DIFF_STATUS_MAX; s++)
		at[s] = at[s - 1] + d->count[s - 1];
	d->findings = calloc(k + 1, sizeof(*d->findings));
	if (!d->findings)
		goto out;
	for (size_t i = 0; i < k; i++)
		d->findings[at[tmp[i].status]++] = tmp[i];
	d->nfindings = k;
	ret = 0;
out:
	ia_u64map_free(&by_fp);
	free(seen);
	free(tmp);
	return ret;
}

int ia_rundiff_build(struct ia_rundiff *d, const struct ia_checker *old,
		     const struct ia_checker *new, const struct ia_diff_opts *o)
{
	memset(d, 0, sizeof(*d));
	if (diff_devices(d, old, new, o) || diff_findings(d, old, new, o)) {
		ia_rundiff_free(d);
		return -ENOMEM;
	}
	return 0;
}

void ia_rundiff_free(struct ia_rundiff *d)
{
	free(d->devs);
	free(d->findings);
	memset(d, 0, sizeof(*d));
}

bool ia_rundiff_no_change(const struct ia_rundiff *d)
{
	return !d->count[IA_DIFF_NEW] && !d->count[IA_DIFF_FIXED] &&
	       !d->count[IA_DIFF_CHANGED] && !d->devs_differ;
}
