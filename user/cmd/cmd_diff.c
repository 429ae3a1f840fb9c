// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * iommu-audit diff OLD NEW: what changed between two runs of the same
 * workload, e.g. recorded before and after a kernel patch. Each trace is
 * checked as `check` does; rundiff.c pairs the two.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check/checker.h"
#include "cmd/cli.h"
#include "out/findings_out.h"
#include "out/html_out.h"
#include "out/rundiff.h"
#include "trace/trace.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: iommu-audit diff OLD NEW [--fail-on LEVEL] [--device NAME]...\n"
"                          [--format text|json|html] [-o FILE]\n"
"\n"
"Compares two traces of the same workload, typically recorded before (OLD)\n"
"and after (NEW) a kernel patch. Devices are paired by name (PCI address):\n"
"per device, maps, bytes requested, mapped and exposed, whole unrelated\n"
"pages and granule in both runs with the deltas, and a note when the\n"
"driver, granule, domain type or untrusted bit changed. Findings are paired\n"
"by fingerprint, as `check --baseline` pairs them: NEW (in NEW only:\n"
"regressions), FIXED (in OLD only), CHANGED (count or exposed bytes\n"
"differ); unchanged ones are counted (-j lists them too).\n"
"\n"
"  --fail-on LEVEL     exit 1 if a certain NEW finding is at or above LEVEL\n"
"                      (info, warning, error; default error)\n"
"  -D, --device NAME   compare only this device (e.g. 0000:00:03.0); repeatable\n"
"      --format F      text (default), json (-j is the same), html (one\n"
"                      self-contained page, with the call stacks)\n"
"  -o FILE             write to FILE instead of stdout\n"
"\n"
"Exit: 0 no NEW finding at or above --fail-on; 1 NEW findings at or above it\n"
"(a regression); 2 bad arguments or a bad trace; 3 nothing fails, but a run\n"
"is incomplete (events lost, malformed records or hooks missing).\n"
"\n"
"Examples:\n"
"  iommu-audit diff before.trace after.trace\n"
"  iommu-audit diff before.trace after.trace --fail-on warning -D 0000:00:04.0\n"
"  iommu-audit -j diff before.trace after.trace | jq '.findings[] | select(.status == \"new\")'\n");
}

struct diff_run {
	struct ia_checker *ck;
	struct ia_trace_reader *r;
	struct ia_run_summary s;
};

/* Check one trace; 0, or the exit code with the error reported. */
static int load(struct ia_cli *cli, const char *which, const char *path, struct diff_run *run)
{
	char err[512];
	int ret = ia_checker_from_trace(path, 0, NULL, &run->ck, &run->r, &run->s, err, sizeof(err));

	if (!ret)
		return 0;
	/* the message starts with the path; say which of the two it is */
	return ia_fail(cli, ret == -ENOMEM ? IA_EXIT_FAILURE : IA_EXIT_USAGE, "%s trace %s",
		       which, err);
}

static void unload(struct diff_run *run)
{
	ia_checker_free(run->ck);
	ia_trace_close(run->r);
}

/* Index of a --device name that neither run has, or -1. */
static int missing_device(const struct ia_rundiff *d, const struct ia_diff_opts *o)
{
	for (size_t i = 0; i < o->nr_devices; i++) {
		size_t k;

		for (k = 0; k < d->ndevs && strcmp(d->devs[k].name, o->devices[i]); k++)
			;
		if (k == d->ndevs)
			return (int)i;
	}
	return -1;
}

/* Pair the two runs, write the comparison; the exit code. */
static int compare(struct ia_cli *cli, const struct diff_run *old, const struct diff_run *new,
		   const struct ia_diff_opts *o, bool html, const char *output)
{
	FILE *out = stdout;
	struct ia_rundiff d;
	int miss, ret;

	if (ia_rundiff_build(&d, old->ck, new->ck, o))
		return ia_fail(cli, IA_EXIT_FAILURE, "out of memory");
	miss = missing_device(&d, o);
	if (miss >= 0) {
		/* a misspelt name would compare nothing and pass */
		ia_rundiff_free(&d);
		return ia_fail(cli, IA_EXIT_USAGE, "--device %s: in neither trace",
			       o->devices[miss]);
	}
	if (output && !(out = fopen(output, "w"))) {
		ia_rundiff_free(&d);
		return ia_fail(cli, IA_EXIT_USAGE, "cannot write %s", output);
	}
	if (html) {
		ia_html_diff(out, &d, &old->s, &new->s);
	} else if (cli->json) {
		ia_json_init(&cli->j, out, cli->pretty);
		ia_rundiff_json(&cli->j, &d, &old->s, &new->s, o->fail_level);
	} else {
		ia_rundiff_print(out, &d, &old->s, &new->s, o->fail_level);
	}
	if (out != stdout && fclose(out)) {
		ia_rundiff_free(&d);
		return ia_fail(cli, IA_EXIT_FAILURE, "writing %s failed", output);
	}
	if (d.failing)
		ret = IA_EXIT_FINDINGS;
	else if (ia_run_incomplete(&old->s) || ia_run_incomplete(&new->s))
		ret = IA_EXIT_INCOMPLETE;
	else
		ret = IA_EXIT_OK;
	ia_rundiff_free(&d);
	return ret;
}

int cmd_diff(struct ia_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fail-on", required_argument, NULL, 'F' },
		{ "device", required_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	/* every --device is an argument: argc bounds their number */
	const char **devices = calloc(argc, sizeof(*devices));
	struct ia_diff_opts o = { .fail_level = IA_SEV_ERROR, .devices = devices };
	struct diff_run old = { 0 }, new = { 0 };
	const char *output = NULL;
	bool html = false;
	int c, ret;

	if (!devices)
		return ia_fail(cli, IA_EXIT_FAILURE, "out of memory");
	while ((c = getopt_long(argc, argv, ":D:o:h", opts, NULL)) != -1) {
		ret = -1;
		switch (c) {
		case 'h':
			usage(stdout);
			ret = IA_EXIT_OK;
			break;
		case 'F':
			o.fail_level = ia_severity_parse(optarg);
			if (o.fail_level < 0)
				ret = ia_fail(cli, IA_EXIT_USAGE, "--fail-on: info, warning or error");
			break;
		case 'D':
			if (!*optarg || strlen(optarg) >= IA_NAME_LEN)
				ret = ia_usage_error(cli, NULL, "bad --device '%s': a device name "
						     "of 1 to %d characters", optarg,
						     IA_NAME_LEN - 1);
			else
				devices[o.nr_devices++] = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "html"))
				html = true;
			else if (!strcmp(optarg, "json"))
				cli->json = true;
			else if (strcmp(optarg, "text"))
				ret = ia_usage_error(cli, usage, "--format: text, json or html");
			break;
		default:
			ret = ia_bad_option(cli, usage, c, argv);
		}
		if (ret >= 0) {
			free(devices);
			return ret;
		}
	}
	if (optind != argc - 2 || cli->parse_only) {
		free(devices);
		return cli->parse_only && optind == argc - 2 ? IA_EXIT_OK :
		       ia_usage_error(cli, usage, "diff: two trace arguments expected, OLD and NEW");
	}
	ret = load(cli, "old", argv[optind], &old);
	if (!ret && (ret = load(cli, "new", argv[optind + 1], &new)))
		unload(&old);
	if (ret) {
		free(devices);
		return ret;
	}
	ret = compare(cli, &old, &new, &o, html, output);
	unload(&old);
	unload(&new);
	free(devices);
	return ret;
}
