// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "lib/json.h"
#include "live/coverage.h"
#include "live/loader.h"
#include "out/findings_out.h"
#include "out/prod_out.h"
#include "out/report_out.h"

static const char *const overflow_names[IA_PROD_OVF_MAX] = {
	[IA_PROD_OVF_DEVICES] = "devices",
	[IA_PROD_OVF_LIVE] = "live",
	[IA_PROD_OVF_LAZY] = "lazy",
};

void ia_prod_table_add(struct ia_prod_table *t, const struct ia_devstats *ds, __u64 dev,
		       const struct ia_prod_dev *c)
{
	const struct ia_dev_row *r = ia_u64map_get(&ds->devs, dev);
	struct ia_prod_row *row;
	__u64 ended;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct ia_prod_row *n = realloc(t->rows, cap * sizeof(*n));

		if (!n) {
			t->oom = 1;
			return;
		}
		t->rows = n;
		t->cap = cap;
	}
	row = &t->rows[t->n++];
	memset(row, 0, sizeof(*row));
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
