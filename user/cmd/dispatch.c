// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Subcommand dispatch and global options, in the style of bpftool (main.c
 * calls it; so does tests/fuzz/fuzz_args.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/cli.h"

#ifndef IA_VERSION
#define IA_VERSION "unknown"
#endif

static const struct ia_cmd cmds[] = {
	{ "live", cmd_live, "check live DMA traffic: findings as they happen, then the full list" },
	{ "monitor", cmd_monitor, "long-running service: Prometheus metrics, findings as JSON Lines" },
	{ "check", cmd_check, "check a trace: translation, exposure, alignment, lifecycle, lazy flush" },
	{ "report", cmd_report, "per-device table of a trace: mapped, exposed, worst call sites" },
	{ "diff", cmd_diff, "compare two traces, e.g. before/after a patch: new and fixed findings" },
	{ "record", cmd_record, "record DMA requests and IOMMU page-table writes to a trace" },
	{ "devices", cmd_devices, "per-device table: domain, granule, mappings (live or from a trace)" },
	{ "dump", cmd_dump, "print a trace's records as JSON Lines" },
	{ "coverage", cmd_coverage, "which hooks this kernel has and which checks are complete" },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: iommu-audit [-j] [-p] [-v] COMMAND [ARGS]\n"
"       iommu-audit COMMAND --help\n"
"\n"
"Audits what devices can reach through the IOMMU: records the DMA API\n"
"requests drivers make and the IOMMU page-table writes they cause.\n"
"\n"
"Commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f,
"\n"
"Options:\n"
"  -j, --json      JSON output (stays valid JSON on errors)\n"
"  -p, --pretty    indented JSON (implies -j)\n"
"  -v, --verbose   more detail; -vv also prints libbpf's debug log\n"
"  --force-kprobes use the kprobe/kretprobe programs even where fentry/fexit\n"
"                  work (they are the automatic fallback where they do not)\n"
"  -V, --version   print the version\n"
"  -h, --help      this help\n"
"\n"
"Exit codes: 0 ok; 1 findings (diff: new findings) at or above --fail-on,\n"
"or a runtime failure (BPF load, I/O); 2 bad arguments or input (with -j\n"
"also one JSON document {\"error\": ...} on stdout); 3 incomplete (lost\n"
"events, malformed records, or hooks missing on this kernel).\n"
"Live commands need root (or CAP_BPF + CAP_PERFMON) and a kernel with BTF.\n");
}

int ia_dispatch(struct ia_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "force-kprobes", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	/* errors are ours to report (as JSON under -j): getopt prints none */
	opterr = 0;
	optind = 0;	/* a full restart of getopt (it may run again in-process) */
	/* stop at the command name: its options are its own */
	while ((c = getopt_long(argc, argv, "+:jpvVh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': cli->json = true; break;
		case 'p': cli->json = cli->pretty = true; break;
		case 'v': cli->verbose++; break;
		case 'K': cli->force_kprobes = true; break;
		case 'V': printf("iommu-audit %s\n", IA_VERSION); return IA_EXIT_OK;
		case 'h': usage(stdout); return IA_EXIT_OK;
		default: return ia_bad_option(cli, usage, c, argv);
		}
	}
	if (optind >= argc)
		return ia_usage_error(cli, usage, "no command given (see iommu-audit --help)");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[optind], cmds[i].name)) {
			/* the command sees argv[0] = its name; getopt restarts */
			argc -= optind;
			argv += optind;
			optind = 0;
			return cmds[i].fn(cli, argc, argv);
		}
	}
	return ia_fail(cli, IA_EXIT_USAGE, "unknown command '%s' (see iommu-audit --help)",
		       argv[optind]);
}
