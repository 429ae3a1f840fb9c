// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Writing a comparison of two runs (rundiff.h): text and JSON. */
#include <inttypes.h>
#include <string.h>
#include "check/devstats.h"
#include "live/hooks.h"
#include "lib/json.h"
#include "out/rundiff.h"

/* A total's change, "0" when there is none. */
static const char *delta(char *buf, size_t len, __u64 old, __u64 new)
{
	if (old == new)
		snprintf(buf, len, "0");
	else
		snprintf(buf, len, "%+" PRId64, (int64_t)(new - old));
	return buf;
}

/* ---- text ------------------------------------------------------------------- */

#define DEV_FMT	"%-14s %-10s %-8s %-7s %7s %8s %12s %12s %12s %8s\n"

static void dev_row(FILE *out, const char *name, const char *driver, const char *run,
		    const struct ia_check_dev *d)
{
	char v[6][24];

	snprintf(v[0], sizeof(v[0]), "%" PRIu64, (uint64_t)d->granule);
	snprintf(v[1], sizeof(v[1]), "%" PRIu64, (uint64_t)d->maps);
	snprintf(v[2], sizeof(v[2]), "%" PRIu64, (uint64_t)d->bytes_requested);
	snprintf(v[3], sizeof(v[3]), "%" PRIu64, (uint64_t)d->bytes_mapped);
	snprintf(v[4], sizeof(v[4]), "%" PRIu64, (uint64_t)d->bytes_exposed);
	snprintf(v[5], sizeof(v[5]), "%" PRIu64, (uint64_t)d->pages_exposed);
	fprintf(out, DEV_FMT, name, driver, run, ia_domain_type_str(d->domain_type),
		v[0], v[1], v[2], v[3], v[4], v[5]);
}

static void print_dev(FILE *out, const struct ia_diff_dev *e)
{
	const struct ia_check_dev *o = &e->old, *n = &e->new;
	const char *odrv = o->driver[0] ? o->driver : "-", *ndrv = n->driver[0] ? n->driver : "-";
	char v[6][24];

	if (!e->in_new) {
		dev_row(out, e->name, odrv, "old only", o);
		return;
	}
	if (!e->in_old) {
		dev_row(out, e->name, ndrv, "new only", n);
		return;
	}
	if (!e->differs) {
		dev_row(out, e->name, ndrv, "same", n);
		return;
	}
	dev_row(out, e->name, odrv, "old", o);
	dev_row(out, "", e->changed & IA_DIFF_DRIVER ? ndrv : "", "new", n);
	fprintf(out, DEV_FMT, "", "", "delta", "",
		delta(v[0], sizeof(v[0]), o->granule, n->granule),
		delta(v[1], sizeof(v[1]), o->maps, n->maps),
		delta(v[2], sizeof(v[2]), o->bytes_requested, n->bytes_requested),
		delta(v[3], sizeof(v[3]), o->bytes_mapped, n->bytes_mapped),
		delta(v[4], sizeof(v[4]), o->bytes_exposed, n->bytes_exposed),
		delta(v[5], sizeof(v[5]), o->pages_exposed, n->pages_exposed));
	if (!e->changed)
		return;
	/* what makes the two runs' numbers mean different things */
	fprintf(out, "%-14s changed:", "");
	if (e->changed & IA_DIFF_DRIVER)
		fprintf(out, " driver %s -> %s;", odrv, ndrv);
	if (e->changed & IA_DIFF_GRANULE)
		fprintf(out, " granule %" PRIu64 " -> %" PRIu64 ";", (uint64_t)o->granule,
			(uint64_t)n->granule);
	if (e->changed & IA_DIFF_DOMAIN_TYPE)
		fprintf(out, " domain %s -> %s;", ia_domain_type_str(o->domain_type),
			ia_domain_type_str(n->domain_type));
	if (e->changed & IA_DIFF_UNTRUSTED)
		fprintf(out, " untrusted %s -> %s;", o->untrusted ? "yes" : "no",
			n->untrusted ? "yes" : "no");
	fputc('\n', out);
}

static void print_changed(FILE *out, const struct ia_finding *o, const struct ia_finding *n)
{
	char d[24];

	fprintf(out, "    was x%" PRIu64 ", now x%" PRIu64, (uint64_t)o->count, (uint64_t)n->count);
	if (o->exposed_bytes != n->exposed_bytes)
		fprintf(out, "; exposed bytes %" PRIu64 " -> %" PRIu64 " (%s)",
			(uint64_t)o->exposed_bytes, (uint64_t)n->exposed_bytes,
			delta(d, sizeof(d), o->exposed_bytes, n->exposed_bytes));
	if (o->exposed_pages != n->exposed_pages)
		fprintf(out, "; unrelated pages %" PRIu64 " -> %" PRIu64 " (%s)",
			(uint64_t)o->exposed_pages, (uint64_t)n->exposed_pages,
			delta(d, sizeof(d), o->exposed_pages, n->exposed_pages));
	fputc('\n', out);
}

static void print_incomplete(FILE *out, const char *which, const struct ia_run_summary *s)
{
	if (s->lost)
		fprintf(out, "incomplete: %s run lost %" PRIu64 " events; findings they could "
			"explain are uncertain, and may be missing\n", which, (uint64_t)s->lost);
	if (s->malformed)
		fprintf(out, "incomplete: %s run has %" PRIu64 " malformed records\n", which,
			(uint64_t)s->malformed);
	if (!s->coverage_complete) {
		fprintf(out, "incomplete: %s run had hooks missing; partial checks:", which);
		for (int c = 0; c < IA_NR_CHECKS; c++)
			if (s->incomplete_checks & (1u << c))
				fprintf(out, " %s", ia_check_name(1u << c));
		fputc('\n', out);
	}
}

void ia_rundiff_print(FILE *out, const struct ia_rundiff *d, const struct ia_run_summary *old,
		      const struct ia_run_summary *new, int fail_level)
{
	static const char *const titles[] = {
		[IA_DIFF_NEW] = "NEW (only in the new run: regressions)",
		[IA_DIFF_FIXED] = "FIXED (only in the old run)",
		[IA_DIFF_CHANGED] = "CHANGED (in both runs; count or exposure differs)",
	};
	size_t only_old = 0, only_new = 0;

	fprintf(out, "old: %s (kernel %s, %" PRIu64 " records)\n", old->source, old->kernel,
		(uint64_t)old->records);
	fprintf(out, "new: %s (kernel %s, %" PRIu64 " records)\n\n", new->source, new->kernel,
		(uint64_t)new->records);
	fprintf(out, DEV_FMT, "DEVICE", "DRIVER", "RUN", "DOMAIN", "GRANULE", "MAPS",
		"REQUESTED", "MAPPED", "EXPOSED", "PAGES");
	for (size_t i = 0; i < d->ndevs; i++) {
		print_dev(out, &d->devs[i]);
		only_old += !d->devs[i].in_new;
		only_new += !d->devs[i].in_old;
	}
	for (size_t i = 0; i < d->nfindings; i++) {
		const struct ia_diff_finding *f = &d->findings[i];

		if (f->status == IA_DIFF_UNCHANGED)
			break;	/* the last group: counted in the summary only */
		if (!i || f->status != d->findings[i - 1].status)
			fprintf(out, "\n%s\n", titles[f->status]);
		ia_finding_print(f->new ? f->new : f->old, out);
		if (f->status == IA_DIFF_CHANGED)
			print_changed(out, f->old, f->new);
	}
	fputc('\n', out);
	if (ia_rundiff_no_change(d))
		fprintf(out, "no change: %zu findings and %zu devices the same in both runs\n",
			d->count[IA_DIFF_UNCHANGED], d->ndevs);
	else
		fprintf(out, "%zu new (%zu at or above --fail-on=%s), %zu fixed, %zu changed, "
			"%zu unchanged; devices: %zu differ (%zu only in old, %zu only in new), "
			"%zu the same\n", d->count[IA_DIFF_NEW], d->failing,
			ia_severity_str(fail_level), d->count[IA_DIFF_FIXED],
			d->count[IA_DIFF_CHANGED], d->count[IA_DIFF_UNCHANGED], d->devs_differ,
			only_old, only_new, d->ndevs - d->devs_differ);
	print_incomplete(out, "old", old);
	print_incomplete(out, "new", new);
}

/* ---- JSON ------------------------------------------------------------------- */

static void run_json(struct ia_json *j, const char *key, const struct ia_run_summary *s)
{
	ia_json_key(j, key);
	ia_json_obj_begin(j);
	ia_json_kstr(j, "source", s->source);
	ia_json_kstr(j, "kernel", s->kernel);
	ia_json_ku64(j, "records", s->records);
	ia_json_ku64(j, "lost", s->lost);
	ia_json_ku64(j, "malformed", s->malformed);
	ia_json_kbool(j, "coverage_complete", s->coverage_complete);
	ia_json_obj_end(j);
}

static void dev_json(struct ia_json *j, const char *key, const struct ia_check_dev *d,
		     bool present)
{
	ia_json_key(j, key);
	if (!present) {
		ia_json_null(j);
		return;
	}
	ia_json_obj_begin(j);
	ia_check_dev_json(j, d);
	ia_json_obj_end(j);
}

static void delta_json(struct ia_json *j, const struct ia_diff_dev *e)
{
	const struct ia_check_dev *o = &e->old, *n = &e->new;

	ia_json_key(j, "delta");
	if (!e->in_old || !e->in_new) {
		ia_json_null(j);
		return;
	}
	ia_json_obj_begin(j);
	ia_json_ks64(j, "granule", (__s64)(n->granule - o->granule));
	ia_json_ks64(j, "maps", (__s64)(n->maps - o->maps));
	ia_json_ks64(j, "bytes_requested", (__s64)(n->bytes_requested - o->bytes_requested));
	ia_json_ks64(j, "bytes_mapped", (__s64)(n->bytes_mapped - o->bytes_mapped));
	ia_json_ks64(j, "bytes_exposed", (__s64)(n->bytes_exposed - o->bytes_exposed));
	ia_json_ks64(j, "pages_exposed", (__s64)(n->pages_exposed - o->pages_exposed));
	ia_json_obj_end(j);
}

static void finding_json(struct ia_json *j, const char *key, const struct ia_finding *f)
{
	ia_json_key(j, key);
	if (f)
		ia_finding_json(f, j);
	else
		ia_json_null(j);
}

void ia_rundiff_json(struct ia_json *j, const struct ia_rundiff *d,
		     const struct ia_run_summary *old, const struct ia_run_summary *new,
		     int fail_level)
{
	ia_json_obj_begin(j);
	run_json(j, "old", old);
	run_json(j, "new", new);
	ia_json_kstr(j, "fail_on", ia_severity_str(fail_level));
	ia_json_key(j, "devices");
	ia_json_arr_begin(j);
	for (size_t i = 0; i < d->ndevs; i++) {
		const struct ia_diff_dev *e = &d->devs[i];

		ia_json_obj_begin(j);
		ia_json_kstr(j, "name", e->name);
		ia_json_kbool(j, "differs", e->differs);
		ia_json_key(j, "changed");
		ia_json_arr_begin(j);
		for (int b = 0; b < IA_DIFF_NR_CHANGES; b++)
			if (e->changed & (1u << b))
				ia_json_str(j, ia_diff_change_str(1u << b));
		ia_json_arr_end(j);
		dev_json(j, "old", &e->old, e->in_old);
		dev_json(j, "new", &e->new, e->in_new);
		delta_json(j, e);
		ia_json_obj_end(j);
	}
	ia_json_arr_end(j);
	ia_json_key(j, "findings");
	ia_json_arr_begin(j);
	for (size_t i = 0; i < d->nfindings; i++) {
		const struct ia_diff_finding *f = &d->findings[i];

		ia_json_obj_begin(j);
		ia_json_kstr(j, "status", ia_diff_status_str(f->status));
		ia_json_kbool(j, "fails", f->fails);
		finding_json(j, "old", f->old);
		finding_json(j, "new", f->new);
		ia_json_obj_end(j);
	}
	ia_json_arr_end(j);
	ia_json_key(j, "summary");
	ia_json_obj_begin(j);
	for (int s = 0; s < IA_DIFF_STATUS_MAX; s++)
		ia_json_ku64(j, ia_diff_status_str(s), d->count[s]);
	ia_json_ku64(j, "failing", d->failing);
	ia_json_ku64(j, "devices", d->ndevs);
	ia_json_ku64(j, "devices_differ", d->devs_differ);
	ia_json_kbool(j, "no_change", ia_rundiff_no_change(d));
	ia_json_obj_end(j);
	ia_json_close_all(j);
}
