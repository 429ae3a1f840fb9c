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
#include "out/html_out.h"
#include "out/prom_out.h"
#include "out/report_out.h"
#include "lib/json.h"
#include "trace/trace.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: iommu-audit report TRACE [--format text|json|prometheus|html] [-o FILE]\n"
"\n"
"Per device: domain type, granule, root mappings checked, maps and\n"
"allocations that failed (FAILED; each is also a failed.* finding saying\n"
"why, when the trace shows it), bytes requested,\n"
"bytes written to the page tables, bytes exposed (reachable beyond the\n"
"buffers) and whole unrelated pages among them, mappings live at the end,\n"
"the longest lazy-flush window, and the %d call sites that exposed most;\n"
"then the same totals per driver.\n"
"-j gives the same as JSON.\n"
"\n"
"  --format F   text (default); json (-j is the same); prometheus (the\n"
"               metrics `monitor` serves, for this trace); html (one\n"
"               self-contained page: per device an IOVA map, exposure per\n"
"               call site, findings with call stacks, coverage)\n"
"  -o FILE      write to FILE instead of stdout\n"
"\n"
"Examples:\n"
"  iommu-audit report run.trace\n"
"  iommu-audit report run.trace --format html -o report.html\n"
"  iommu-audit report run.trace --format prometheus | promtool check metrics\n",
		IA_REPORT_WORST_SITES);
}

int cmd_report(struct ia_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	enum { F_TEXT, F_JSON, F_PROM, F_HTML } fmt = cli->json ? F_JSON : F_TEXT;
	const char *output = NULL;
	FILE *out = stdout;
	struct ia_trace_reader *r;
	struct ia_checker *ck;
	const struct ia_check_dev *d;
	const struct ia_finding *f;
	size_t nd, nf;
	struct ia_run_summary s;
	char err[512];
	int c, ret;

	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return IA_EXIT_OK;
		case 'o':
			output = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "text"))
				fmt = F_TEXT;
			else if (!strcmp(optarg, "json"))
				fmt = F_JSON;
			else if (!strcmp(optarg, "prometheus"))
				fmt = F_PROM;
			else if (!strcmp(optarg, "html"))
				fmt = F_HTML;
			else
				return ia_usage_error(cli, usage,
						      "--format: text, json, prometheus or html");
			break;
		default:
			return ia_bad_option(cli, usage, c, argv);
		}
	}
	if (optind != argc - 1)
		return ia_usage_error(cli, usage, "report: one TRACE argument expected");
	if (cli->parse_only)
		return IA_EXIT_OK;
	/* the html page draws the mappings: keep a picture's worth */
	ret = ia_checker_from_trace(argv[optind], fmt == F_HTML ? IA_CHECK_MAPS : 0, NULL, &ck, &r, &s,
				    err, sizeof(err));
	if (ret)
		return ia_fail(cli, ret == -ENOMEM ? IA_EXIT_FAILURE : IA_EXIT_USAGE, "%s", err);
	if (output && !(out = fopen(output, "w"))) {
		ia_checker_free(ck);
		ia_trace_close(r);
		return ia_fail(cli, IA_EXIT_USAGE, "cannot write %s", output);
	}
	d = ia_checker_devices(ck, &nd);
	f = ia_checker_findings(ck, &nf);
	if (fmt == F_JSON) {
		ia_json_init(&cli->j, out, cli->pretty);
		ia_report_json(&cli->j, d, nd, f, nf, ia_trace_meta(r));
	} else if (fmt == F_PROM) {
		struct ia_prom_run pr = { .meta = ia_trace_meta(r),
					  .lost = ia_trace_stats(r)->lost,
					  .records = s.records, .malformed = s.malformed,
					  .devs = d, .ndevs = nd, .programs = -1 };

		pr.codes = ia_checker_codes(ck, &pr.ncodes);
		ia_prom_write(out, &pr);
	} else if (fmt == F_HTML) {
		struct ia_html_run hr = { .meta = ia_trace_meta(r), .summary = &s, .ck = ck,
					  .devs = d, .ndevs = nd, .findings = f, .nfindings = nf };

		ia_html_report(out, &hr);
	} else {
		ia_report_text(out, d, nd, f, nf, ia_trace_meta(r));
		if (s.lost)
			fprintf(out, "incomplete: %" PRIu64 " events lost\n", (uint64_t)s.lost);
	}
	ret = s.lost || !s.coverage_complete ? IA_EXIT_INCOMPLETE : IA_EXIT_OK;
	if (out != stdout && fclose(out))
		ret = ia_fail(cli, IA_EXIT_FAILURE, "writing %s failed", output);
	ia_checker_free(ck);
	ia_trace_close(r);
	return ret;
}
