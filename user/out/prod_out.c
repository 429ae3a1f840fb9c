// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "check/finding.h"
#include "lib/json.h"
#include "lib/ksyms.h"
#include "live/coverage.h"
#include "live/loader.h"
#include "out/findings_out.h"
#include "out/prod_out.h"
#include "out/report_out.h"

static const char *const overflow_names[IA_PROD_OVF_MAX] = {
	[IA_PROD_OVF_DEVICES] = "devices",
	[IA_PROD_OVF_LIVE] = "live",
	[IA_PROD_OVF_LAZY] = "lazy",
	[IA_PROD_OVF_SITES] = "sites",
};

/* Room for entry n of an array of *cap entries of size bytes (doubled
 * when full); false, and *oom set, when there is none. */
static bool room(void **v, size_t *cap, size_t n, size_t size, int *oom)
{
	size_t c = *cap ? 2 * *cap : 16;
	void *nv;

	if (n < *cap)
		return true;
	nv = realloc(*v, c * size);
	if (!nv) {
		*oom = 1;
		return false;
	}
	*v = nv;
	*cap = c;
	return true;
}

void ia_prod_table_add(struct ia_prod_table *t, const struct ia_devstats *ds, __u64 dev,
		       const struct ia_prod_dev *c)
{
	const struct ia_dev_row *r = ia_u64map_get(&ds->devs, dev);
	struct ia_prod_row *row;
	__u64 ended;

	if (!room((void **)&t->rows, &t->cap, t->n, sizeof(*t->rows), &t->oom))
		return;
	row = &t->rows[t->n++];
	memset(row, 0, sizeof(*row));
	row->dev = dev;
	row->c = *c;
	if (r && r->ctx.hdr.type == IA_EV_DEVICE) {
		memcpy(row->d.name, r->ctx.name, sizeof(row->d.name));
		memcpy(row->d.driver, r->ctx.driver, sizeof(row->d.driver));
		row->d.domain_type = r->ctx.domain_type;
		row->d.granule = r->ctx.granule;
		row->d.untrusted = r->ctx.hdr.flags & IA_DEV_UNTRUSTED;
	} else {
		snprintf(row->d.name, sizeof(row->d.name), "dev@%" PRIx64, (uint64_t)dev);
	}
	row->d.maps = c->maps;
	row->d.failed = c->failed;
	row->d.bytes_requested = c->bytes_requested;
	row->d.bytes_mapped = c->bytes_mapped;
	row->d.bytes_exposed = c->bytes_exposed;
	row->d.pages_exposed = c->pages_exposed;
	/* the mappings counted here that no unmap has ended, nor left the
	 * live table full (their unmaps cannot be told) */
	ended = c->unmaps + c->untracked;
	row->d.live = c->maps > ended ? c->maps - ended : 0;
	row->d.lazy_windows = c->lazy_windows;
	row->d.lazy_sum_ns = c->lazy_sum_ns;
	row->d.lazy_max_ns = c->lazy_max_ns;
	memcpy(row->d.lazy_hist, c->lazy_hist, sizeof(row->d.lazy_hist));
}

void ia_prod_table_free(struct ia_prod_table *t)
{
	free(t->rows);
	free(t->sites);
	memset(t, 0, sizeof(*t));
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct ia_prod_row *)a)->d.name,
		      ((const struct ia_prod_row *)b)->d.name);
}

struct prod_read {
	struct ia_prod_table *t;
	const struct ia_devstats *ds;
};

static void on_prod_dev(void *ctx, __u64 dev, const struct ia_prod_dev *c)
{
	struct prod_read *r = ctx;

	ia_prod_table_add(r->t, r->ds, dev, c);
}

int ia_prod_table_read(struct ia_prod_table *t, struct ia_session *s,
		       const struct ia_devstats *ds)
{
	struct prod_read r = { t, ds };
	int ret = ia_session_prod_devs(s, on_prod_dev, &r);

	t->records = ds->records;
	if (!ret)
		ret = ia_session_prod_overflow(s, t->overflow);
	if (!ret)
		qsort(t->rows, t->n, sizeof(*t->rows), cmp_name);
	return ret;
}

struct site_read {
	struct ia_prod_table *t;
	struct ia_session *s;
	struct ia_ksyms *ks;
};

static void on_site(void *ctx, const struct ia_prod_site_key *k, const struct ia_prod_site *v)
{
	struct site_read *r = ctx;
	struct ia_prod_table *t = r->t;
	char syms[IA_STACK_DEPTH][IA_SYM_LEN];
	__u64 ips[IA_STACK_DEPTH];
	int got = r->ks && k->stack_id >= 0 ?
		ia_session_stack(r->s, (__s32)k->stack_id, ips, IA_STACK_DEPTH) : 0;
	size_t n = got > 0 ? (size_t)got : 0, i, at;
	char site[IA_SYM_LEN] = "", *off;

	for (i = 0; i < n; i++)
		ia_ksyms_symbolize(r->ks, ips[i], syms[i], sizeof(syms[i]));
	/*
	 * Added up by the first frame's function, the one shown: the deeper
	 * frames of one call site's stacks differ with the path into it, and
	 * under another tracer whose trampoline is gone before this
	 * symbolization (ia_site_start()) (seen on 7.2, by 4 frames:
	 * "fx_map [ia_fixture]" twice, 1 and 2 mappings). "fn+0x1f [mod]" ->
	 * "fn [mod]": whichever call in the function.
	 */
	i = ia_site_start(syms, n);
	if (i < n) {
		memcpy(site, syms[i], sizeof(site));
		if ((off = strchr(site, '+')))
			memmove(off, off + strcspn(off, " "), strlen(off + strcspn(off, " ")) + 1);
	}
	for (at = 0; at < t->nsites; at++)
		if (t->sites[at].dev == k->dev && !strcmp(t->sites[at].site, site))
			break;
	if (at == t->nsites) {
		if (!room((void **)&t->sites, &t->sites_cap, t->nsites, sizeof(*t->sites), &t->oom))
			return;
		memset(&t->sites[at], 0, sizeof(t->sites[at]));
		t->sites[at].dev = k->dev;
		memcpy(t->sites[at].site, site, sizeof(site));
		t->nsites++;
	}
	t->sites[at].v.maps += v->maps;
	t->sites[at].v.bytes_exposed += v->bytes_exposed;
	t->sites[at].v.pages_exposed += v->pages_exposed;
}

int ia_prod_table_read_sites(struct ia_prod_table *t, struct ia_session *s)
{
	struct site_read r = { t, s, ia_ksyms_load("/proc/kallsyms") };
	int ret = ia_session_prod_sites(s, on_site, &r);

	ia_ksyms_free(r.ks);
	return ret;
}

/* The sites of device dev exposing the most, most first (at most max). */
static size_t worst_sites(const struct ia_prod_table *t, __u64 dev,
			  const struct ia_prod_siterow **out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < t->nsites; i++) {
		const struct ia_prod_siterow *x = &t->sites[i];
		size_t pos;

		if (x->dev != dev)
			continue;
		for (pos = k; pos > 0 && out[pos - 1]->v.bytes_exposed < x->v.bytes_exposed; pos--)
			if (pos < max)
				out[pos] = out[pos - 1];
		if (pos < max) {
			out[pos] = x;
			if (k < max)
				k++;
		}
	}
	return k;
}

struct ia_check_dev *ia_prod_check_devs(struct ia_prod_table *t)
{
	struct ia_check_dev *d = calloc(t->n + 1, sizeof(*d));

	for (size_t i = 0; d && i < t->n; i++)
		d[i] = t->rows[i].d;
	return d;
}

void ia_prod_state(const struct ia_prod_table *t, struct ia_checker_state *st)
{
	memset(st, 0, sizeof(*st));
	st->devices = t->n;
	for (size_t i = 0; i < t->n; i++)
		st->live_maps += t->rows[i].d.live;
	st->devices_dropped = t->overflow[IA_PROD_OVF_DEVICES];
	st->oom = t->oom;
}

/* Are all the hooks of the run attached (or absent from this kernel)? */
static bool hooks_complete(const struct ia_hook_status *st, size_t n)
{
	return !ia_hooks_incomplete_checks(st, n);
}

void ia_prod_text(FILE *out, struct ia_prod_table *t, const struct ia_trace_meta *m,
		  const struct ia_hook_status *st, size_t n)
{
	struct ia_check_dev *d = ia_prod_check_devs(t);

	fprintf(out, "kernel %s, page size %u, production mode (counted in BPF)\n",
		m->kernel_release, m->page_size);
	ia_report_devices_text(out, d, d ? t->n : 0);
	free(d);
	for (size_t i = 0; i < t->n; i++) {
		const struct ia_prod_siterow *w[IA_REPORT_WORST_SITES];
		size_t k = worst_sites(t, t->rows[i].dev, w, IA_REPORT_WORST_SITES);

		if (k)
			fprintf(out, "\n%s (%s): call sites exposing the most\n",
				t->rows[i].d.name, t->rows[i].d.driver);
		for (size_t x = 0; x < k; x++)
			fprintf(out, "  %10" PRIu64 " bytes in %6" PRIu64 " mappings  %s\n",
				(uint64_t)w[x]->v.bytes_exposed, (uint64_t)w[x]->v.maps,
				w[x]->site[0] ? w[x]->site : "(no call stack)");
	}
	fprintf(out, "\nhooks:");
	for (size_t i = 0; i < n; i++)
		fprintf(out, " %s=%s", st[i].hook->name, ia_trace_hook_state_str(st[i].state));
	fprintf(out, "%s\nnot counted in production mode:", hooks_complete(st, n) ? "" : " (incomplete)");
	for (size_t i = 0; ia_prod_not_counted[i]; i++)
		fprintf(out, "%s %s", i ? "," : "", ia_prod_not_counted[i]);
	fputc('\n', out);
	for (int k = 0; k < IA_PROD_OVF_MAX; k++)
		if (t->overflow[k])
			fprintf(out, "table full: %" PRIu64 " %s not kept\n",
				(uint64_t)t->overflow[k], overflow_names[k]);
}

void ia_prod_json(struct ia_json *j, struct ia_prod_table *t,
		  const struct ia_hook_status *st, size_t n)
{
	ia_json_kstr(j, "mode", "production");
	ia_json_key(j, "devices");
	ia_json_arr_begin(j);
	for (size_t i = 0; i < t->n; i++) {
		const struct ia_prod_row *r = &t->rows[i];
		const struct ia_prod_siterow *w[IA_REPORT_WORST_SITES];
		size_t k;

		ia_json_obj_begin(j);
		ia_report_device_json(j, &r->d);
		ia_json_ku64(j, "unmaps", r->c.unmaps);
		ia_json_ku64(j, "unmatched_unmaps", r->c.unmatched);
		ia_json_ku64(j, "untracked", r->c.untracked);
		ia_json_ku64(j, "lazy_windows", r->d.lazy_windows);
		ia_json_ku64(j, "lazy_sum_ns", r->d.lazy_sum_ns);
		ia_json_key(j, "lazy_hist");
		ia_json_arr_begin(j);
		for (int b = 0; b < IA_LAZY_BUCKETS + 1; b++)
			ia_json_u64(j, r->d.lazy_hist[b]);
		ia_json_arr_end(j);
		/* as report's, without a finding code (no check runs) */
		ia_json_key(j, "worst_sites");
		ia_json_arr_begin(j);
		k = worst_sites(t, r->dev, w, IA_REPORT_WORST_SITES);
		for (size_t x = 0; x < k; x++) {
			ia_json_obj_begin(j);
			ia_json_kstr(j, "site", w[x]->site);
			ia_json_ku64(j, "exposed_bytes", w[x]->v.bytes_exposed);
			ia_json_ku64(j, "mappings", w[x]->v.maps);
			ia_json_obj_end(j);
		}
		ia_json_arr_end(j);
		ia_json_obj_end(j);
	}
	ia_json_arr_end(j);
	ia_json_key(j, "hooks");
	ia_json_arr_begin(j);
	for (size_t i = 0; i < n; i++) {
		const struct ia_hook_status *s = &st[i];

		ia_json_obj_begin(j);
		ia_json_kstr(j, "name", s->hook->name);
		ia_json_kstr(j, "state", ia_trace_hook_state_str(s->state));
		if (s->variant >= 0)
			ia_json_kstr(j, "target", s->hook->v[s->variant].target);
		ia_json_kbool(j, "kprobe", s->kprobe);
		if (s->state != IA_HOOK_ATTACHED)
			ia_json_kstr(j, "reason", s->reason);
		ia_json_obj_end(j);
	}
	ia_json_arr_end(j);
	ia_json_kbool(j, "hooks_complete", hooks_complete(st, n));
	ia_json_key(j, "not_counted");
	ia_json_arr_begin(j);
	for (size_t i = 0; ia_prod_not_counted[i]; i++)
		ia_json_str(j, ia_prod_not_counted[i]);
	ia_json_arr_end(j);
	ia_json_ku64(j, "records", t->records);
	ia_json_key(j, "overflow");
	ia_json_obj_begin(j);
	for (int k = 0; k < IA_PROD_OVF_MAX; k++)
		ia_json_ku64(j, overflow_names[k], t->overflow[k]);
	ia_json_obj_end(j);
}
