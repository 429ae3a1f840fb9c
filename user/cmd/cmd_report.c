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
#include "out/report_out.h"
#include "lib/json.h"
#include "trace/trace.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: iommu-audit report TRACE\n"
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
"Example:\n"
"  iommu-audit report run.trace\n", IA_REPORT_WORST_SITES);
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

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return IA_EXIT_OK;
		}
		return ia_bad_option(cli, usage, c, argv);
	}
	if (optind != argc - 1)
		return ia_usage_error(cli, usage, "report: one TRACE argument expected");
	if (cli->parse_only)
		return IA_EXIT_OK;
	ret = ia_checker_from_trace(argv[optind], 0, &ck, &r, &s, err, sizeof(err));
	if (ret)
		return ia_fail(cli, ret == -ENOMEM ? IA_EXIT_FAILURE : IA_EXIT_USAGE, "%s", err);
	d = ia_checker_devices(ck, &nd);
	f = ia_checker_findings(ck, &nf);
	if (cli->json) {
		ia_json_init(&cli->j, stdout, cli->pretty);
		ia_report_json(&cli->j, d, nd, f, nf, ia_trace_meta(r));
	} else {
		ia_report_text(stdout, d, nd, f, nf, ia_trace_meta(r));
		if (s.lost)
			printf("incomplete: %" PRIu64 " events lost\n", (uint64_t)s.lost);
	}
	ret = s.lost || !s.coverage_complete ? IA_EXIT_INCOMPLETE : IA_EXIT_OK;
	ia_checker_free(ck);
	ia_trace_close(r);
	return ret;
}
