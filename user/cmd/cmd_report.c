// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * iommu-audit report TRACE: per device, what was mapped and what was
 * exposed, and the call sites that exposed the most.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check/checker.h"
#include "cmd/cli.h"
#include "live/coverage.h"
#include "check/devstats.h"
#include "out/findings_out.h"
#include "lib/json.h"
#include "trace/trace.h"

#define WORST_SITES 3

static void usage(FILE *f)
{
	fprintf(f,
"Usage: iommu-audit report TRACE\n"
"\n"
"Per device: domain type, granule, root mappings checked, bytes requested,\n"
"bytes written to the page tables, bytes exposed (reachable beyond the\n"
"buffers) and whole unrelated pages among them, mappings live at the end,\n"
"the longest lazy-flush window, and the %d call sites that exposed most;\n"
"then the same totals per driver.\n"
"-j gives the same as JSON.\n"
"\n"
"Example:\n"
"  iommu-audit report run.trace\n", WORST_SITES);
}

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
			if (pos < WORST_SITES)
				out[pos] = out[pos - 1];
		if (pos < WORST_SITES) {
			out[pos] = &f[i];
			if (k < WORST_SITES)
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
 * (version 3), so older traces report exactly as before. */
static void print_kinds_text(const struct ia_check_dev *d, size_t nd)
{
	bool any = false;

	for (size_t i = 0; i < nd; i++)
		any |= d[i].classified;
	if (!any)
		return;
	printf("\nexposed bytes by what the pages held at map time\n");
	printf("%-14s %-10s %-14s %12s\n", "DEVICE", "DRIVER", "KIND", "EXPOSED");
	for (size_t i = 0; i < nd; i++)
		for (int k = 0; k < IA_PAGE_KIND_MAX; k++)
			if (d[i].kind_bytes[k])
				printf("%-14s %-10s %-14s %12" PRIu64 "\n", d[i].name,
				       d[i].driver[0] ? d[i].driver : "-", ia_page_kind_str(k),
				       (uint64_t)d[i].kind_bytes[k]);
}

static void print_text(const struct ia_check_dev *d, size_t nd, const struct ia_finding *f,
		       size_t nf, const struct ia_trace_meta *m)
{
	struct drv_total *t = calloc(nd + 1, sizeof(*t));
	size_t nt = t ? driver_totals(d, nd, t) : 0;

	printf("kernel %s, page size %u\n", m->kernel_release, m->page_size);
	printf("%-14s %-10s %-7s %7s %3s %8s %12s %12s %12s %8s %6s %10s\n",
	       "DEVICE", "DRIVER", "DOMAIN", "GRANULE", "UNT", "MAPS", "REQUESTED",
	       "MAPPED", "EXPOSED", "PAGES", "LIVE", "LAZY_MAX");
	for (size_t i = 0; i < nd; i++) {
		char lazy[24] = "-";

		if (d[i].lazy_max_ns)
			snprintf(lazy, sizeof(lazy), "%.1fms", d[i].lazy_max_ns / 1e6);
		printf("%-14s %-10s %-7s %7" PRIu64 " %3s %8" PRIu64 " %12" PRIu64 " %12" PRIu64
		       " %12" PRIu64 " %8" PRIu64 " %6" PRIu64 " %10s\n",
		       d[i].name, d[i].driver[0] ? d[i].driver : "-",
		       ia_domain_type_str(d[i].domain_type), (uint64_t)d[i].granule,
		       d[i].untrusted ? "yes" : "no", (uint64_t)d[i].maps,
		       (uint64_t)d[i].bytes_requested, (uint64_t)d[i].bytes_mapped,
		       (uint64_t)d[i].bytes_exposed, (uint64_t)d[i].pages_exposed,
		       (uint64_t)d[i].live, lazy);
	}
	printf("\n%-14s %7s %8s %12s %12s %12s %8s\n", "DRIVER", "DEVICES", "MAPS",
	       "REQUESTED", "MAPPED", "EXPOSED", "PAGES");
	for (size_t i = 0; i < nt; i++)
		printf("%-14s %7" PRIu64 " %8" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64
		       " %8" PRIu64 "\n", t[i].driver[0] ? t[i].driver : "-",
		       (uint64_t)t[i].devices, (uint64_t)t[i].maps,
		       (uint64_t)t[i].bytes_requested, (uint64_t)t[i].bytes_mapped,
		       (uint64_t)t[i].bytes_exposed, (uint64_t)t[i].pages_exposed);
	free(t);
	for (size_t i = 0; i < nd; i++) {
		const struct ia_finding *w[WORST_SITES];
		size_t k = worst_sites(f, nf, d[i].name, w);

		if (!k)
			continue;
		printf("\n%s (%s): call sites exposing the most\n", d[i].name, d[i].driver);
		for (size_t s = 0; s < k; s++)
			printf("  %10" PRIu64 " bytes in %6" PRIu64 " mappings  %-24s %s\n",
			       (uint64_t)w[s]->exposed_bytes, (uint64_t)w[s]->count, w[s]->code,
			       w[s]->site[0][0] ? w[s]->site[0] : "(no call stack)");
	}
	print_kinds_text(d, nd);
	ia_coverage_print(m, stdout, false);
}

static void print_json(struct ia_json *j, const struct ia_check_dev *d, size_t nd,
		       const struct ia_finding *f, size_t nf, const struct ia_trace_meta *m)
{
	ia_json_obj_begin(j);
	ia_json_kstr(j, "kernel", m->kernel_release);
	ia_json_ku64(j, "page_size", m->page_size);
	ia_coverage_json(m, j);
	ia_json_key(j, "devices");
	ia_json_arr_begin(j);
	for (size_t i = 0; i < nd; i++) {
		const struct ia_finding *w[WORST_SITES];
		size_t k = worst_sites(f, nf, d[i].name, w);

		ia_json_obj_begin(j);
		ia_json_kstr(j, "name", d[i].name);
		ia_check_dev_json(j, &d[i]);
		ia_json_ku64(j, "live", d[i].live);
		ia_json_ku64(j, "preexisting_unmaps", d[i].preexisting);
		ia_json_ku64(j, "lazy_max_ns", d[i].lazy_max_ns);
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

int cmd_report(struct ia_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct ia_trace_reader *r;
	struct ia_checker *ck;
	const struct ia_check_dev *d;
	const struct ia_finding *f;
	size_t nd, nf;
	struct ia_run_summary s;
	char err[512];
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return IA_EXIT_OK;
		}
		usage(stderr);
		return IA_EXIT_USAGE;
	}
	if (optind != argc - 1) {
		usage(stderr);
		return ia_fail(cli, IA_EXIT_USAGE, "report: one TRACE argument expected");
	}
	ret = ia_checker_from_trace(argv[optind], NULL, &ck, &r, &s, err, sizeof(err));
	if (ret)
		return ia_fail(cli, ret == -ENOMEM ? IA_EXIT_FAILURE : IA_EXIT_USAGE, "%s", err);
	d = ia_checker_devices(ck, &nd);
	f = ia_checker_findings(ck, &nf);
	if (cli->json) {
		ia_json_init(&cli->j, stdout, cli->pretty);
		print_json(&cli->j, d, nd, f, nf, ia_trace_meta(r));
	} else {
		print_text(d, nd, f, nf, ia_trace_meta(r));
		if (s.lost)
			printf("incomplete: %" PRIu64 " events lost\n", (uint64_t)s.lost);
	}
	ret = s.lost || !s.coverage_complete ? IA_EXIT_INCOMPLETE : IA_EXIT_OK;
	ia_checker_free(ck);
	ia_trace_close(r);
	return ret;
}
