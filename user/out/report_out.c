// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `report`'s output: per device, what was mapped and exposed, the call sites
 * that exposed most, and the totals per driver (text or JSON).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "check/devstats.h"
#include "live/coverage.h"
#include "lib/json.h"
#include "out/findings_out.h"
#include "out/report_out.h"

/* The exposure findings of one device, most exposed bytes first. */
static size_t worst_sites(const struct ia_finding *f, size_t n, const char *dev,
			  const struct ia_finding **out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t pos;

		if (f[i].invariant != IA_INV_EXPOSURE || strcmp(f[i].device, dev))
			continue;
		for (pos = k; pos > 0 && out[pos - 1]->exposed_bytes < f[i].exposed_bytes; pos--)
			if (pos < IA_REPORT_WORST_SITES)
				out[pos] = out[pos - 1];
		if (pos < IA_REPORT_WORST_SITES) {
			out[pos] = &f[i];
			if (k < IA_REPORT_WORST_SITES)
				k++;
		}
	}
	return k;
}

/* Totals per driver: the devices' rows added up by driver name. */
struct drv_total {
	char driver[IA_NAME_LEN];
	__u64 devices, maps, bytes_requested, bytes_mapped, bytes_exposed, pages_exposed;
};

static size_t driver_totals(const struct ia_check_dev *d, size_t nd, struct drv_total *t)
{
	size_t n = 0;

	for (size_t i = 0; i < nd; i++) {
		size_t k;

		for (k = 0; k < n && strcmp(t[k].driver, d[i].driver); k++)
			;
		if (k == n) {
			memset(&t[n], 0, sizeof(t[n]));
			memcpy(t[n].driver, d[i].driver, sizeof(t[n].driver));
			n++;
		}
		t[k].devices++;
		t[k].maps += d[i].maps;
		t[k].bytes_requested += d[i].bytes_requested;
		t[k].bytes_mapped += d[i].bytes_mapped;
		t[k].bytes_exposed += d[i].bytes_exposed;
		t[k].pages_exposed += d[i].pages_exposed;
	}
	return n;
}

/* Exposed bytes by what the pages held: only for traces with page records
 * (version 4), so older traces report exactly as before. */
static void print_kinds_text(FILE *out, const struct ia_check_dev *d, size_t nd)
{
	bool any = false;

	for (size_t i = 0; i < nd; i++)
		any |= d[i].classified;
	if (!any)
		return;
	fprintf(out, "\nexposed bytes by what the pages held at map time\n");
	fprintf(out, "%-14s %-10s %-14s %12s\n", "DEVICE", "DRIVER", "KIND", "EXPOSED");
	for (size_t i = 0; i < nd; i++)
		for (int k = 0; k < IA_PAGE_KIND_MAX; k++)
			if (d[i].kind_bytes[k])
				fprintf(out, "%-14s %-10s %-14s %12" PRIu64 "\n", d[i].name,
					d[i].driver[0] ? d[i].driver : "-", ia_page_kind_str(k),
					(uint64_t)d[i].kind_bytes[k]);
}

void ia_report_devices_text(FILE *out, const struct ia_check_dev *d, size_t nd)
{
	struct drv_total *t = calloc(nd + 1, sizeof(*t));
	size_t nt = t ? driver_totals(d, nd, t) : 0;

	fprintf(out, "%-14s %-10s %-7s %7s %3s %8s %6s %12s %12s %12s %8s %6s %10s\n",
	       "DEVICE", "DRIVER", "DOMAIN", "GRANULE", "UNT", "MAPS", "FAILED", "REQUESTED",
	       "MAPPED", "EXPOSED", "PAGES", "LIVE", "LAZY_MAX");
	for (size_t i = 0; i < nd; i++) {
		char lazy[24] = "-";

		if (d[i].lazy_max_ns)
			snprintf(lazy, sizeof(lazy), "%.1fms", d[i].lazy_max_ns / 1e6);
		fprintf(out, "%-14s %-10s %-7s %7" PRIu64 " %3s %8" PRIu64 " %6" PRIu64 " %12" PRIu64
		       " %12" PRIu64 " %12" PRIu64 " %8" PRIu64 " %6" PRIu64 " %10s\n",
		       d[i].name, d[i].driver[0] ? d[i].driver : "-",
		       ia_domain_type_str(d[i].domain_type), (uint64_t)d[i].granule,
		       d[i].untrusted ? "yes" : "no", (uint64_t)d[i].maps, (uint64_t)d[i].failed,
		       (uint64_t)d[i].bytes_requested, (uint64_t)d[i].bytes_mapped,
		       (uint64_t)d[i].bytes_exposed, (uint64_t)d[i].pages_exposed,
		       (uint64_t)d[i].live, lazy);
	}
	fprintf(out, "\n%-14s %7s %8s %12s %12s %12s %8s\n", "DRIVER", "DEVICES", "MAPS",
	       "REQUESTED", "MAPPED", "EXPOSED", "PAGES");
	for (size_t i = 0; i < nt; i++)
		fprintf(out, "%-14s %7" PRIu64 " %8" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64
		       " %8" PRIu64 "\n", t[i].driver[0] ? t[i].driver : "-",
		       (uint64_t)t[i].devices, (uint64_t)t[i].maps,
		       (uint64_t)t[i].bytes_requested, (uint64_t)t[i].bytes_mapped,
		       (uint64_t)t[i].bytes_exposed, (uint64_t)t[i].pages_exposed);
	free(t);
}

void ia_report_text(FILE *out, const struct ia_check_dev *d, size_t nd,
		    const struct ia_finding *f, size_t nf, const struct ia_trace_meta *m)
{
	fprintf(out, "kernel %s, page size %u\n", m->kernel_release, m->page_size);
	ia_report_devices_text(out, d, nd);
	for (size_t i = 0; i < nd; i++) {
		const struct ia_finding *w[IA_REPORT_WORST_SITES];
		size_t k = worst_sites(f, nf, d[i].name, w);

		if (!k)
			continue;
		fprintf(out, "\n%s (%s): call sites exposing the most\n", d[i].name, d[i].driver);
		for (size_t s = 0; s < k; s++)
			fprintf(out, "  %10" PRIu64 " bytes in %6" PRIu64 " mappings  %-24s %s\n",
			       (uint64_t)w[s]->exposed_bytes, (uint64_t)w[s]->count, w[s]->code,
			       w[s]->site[0][0] ? w[s]->site[0] : "(no call stack)");
	}
	print_kinds_text(out, d, nd);
	ia_coverage_print(m, out, false);
}

void ia_report_device_json(struct ia_json *j, const struct ia_check_dev *d)
{
	ia_json_kstr(j, "name", d->name);
	ia_check_dev_json(j, d);
	ia_json_ku64(j, "live", d->live);
	ia_json_ku64(j, "preexisting_unmaps", d->preexisting);
	ia_json_ku64(j, "snapshot_unmaps", d->snapshot_unmaps);
	ia_json_ku64(j, "lazy_max_ns", d->lazy_max_ns);
}

void ia_report_json(struct ia_json *j, const struct ia_check_dev *d, size_t nd,
		    const struct ia_finding *f, size_t nf, const struct ia_trace_meta *m)
{
	ia_json_obj_begin(j);
	ia_json_kstr(j, "kernel", m->kernel_release);
	ia_json_ku64(j, "page_size", m->page_size);
	ia_coverage_json(m, j);
	ia_json_key(j, "devices");
	ia_json_arr_begin(j);
	for (size_t i = 0; i < nd; i++) {
		const struct ia_finding *w[IA_REPORT_WORST_SITES];
		size_t k = worst_sites(f, nf, d[i].name, w);

		ia_json_obj_begin(j);
		ia_report_device_json(j, &d[i]);
		if (d[i].classified) {
			ia_json_key(j, "exposed_kinds");
			ia_json_obj_begin(j);
			for (int kd = 0; kd < IA_PAGE_KIND_MAX; kd++)
				if (d[i].kind_bytes[kd])
					ia_json_ku64(j, ia_page_kind_str(kd), d[i].kind_bytes[kd]);
			ia_json_obj_end(j);
		}
		ia_json_key(j, "worst_sites");
		ia_json_arr_begin(j);
		for (size_t s = 0; s < k; s++) {
			ia_json_obj_begin(j);
			ia_json_kstr(j, "code", w[s]->code);
			ia_json_kstr(j, "site", w[s]->site[0]);
			ia_json_ku64(j, "exposed_bytes", w[s]->exposed_bytes);
			ia_json_ku64(j, "mappings", w[s]->count);
			ia_json_obj_end(j);
		}
		ia_json_arr_end(j);
		ia_json_obj_end(j);
	}
	ia_json_arr_end(j);
	{
		struct drv_total *t = calloc(nd + 1, sizeof(*t));
		size_t nt = t ? driver_totals(d, nd, t) : 0;

		ia_json_key(j, "drivers");
		ia_json_arr_begin(j);
		for (size_t i = 0; i < nt; i++) {
			ia_json_obj_begin(j);
			ia_json_kstr(j, "driver", t[i].driver);
			ia_json_ku64(j, "devices", t[i].devices);
			ia_json_ku64(j, "maps", t[i].maps);
			ia_json_ku64(j, "bytes_requested", t[i].bytes_requested);
			ia_json_ku64(j, "bytes_mapped", t[i].bytes_mapped);
			ia_json_ku64(j, "bytes_exposed", t[i].bytes_exposed);
			ia_json_ku64(j, "pages_exposed", t[i].pages_exposed);
			ia_json_obj_end(j);
		}
		ia_json_arr_end(j);
		free(t);
	}
	ia_json_close_all(j);
}
