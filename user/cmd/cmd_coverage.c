// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * iommu-audit coverage: the hooks this kernel offers and what is checked.
 * Live (load + attach, then detach), from another kernel's BTF (--btf, no
 * privileges needed: "what would iommu-audit see on that kernel?"), or from
 * a trace's header.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/btf.h>
#include "cmd/cli.h"
#include "live/coverage.h"
#include "live/loader.h"
#include "trace/trace.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: iommu-audit coverage [--btf FILE | -i TRACE]\n"
"\n"
"Lists every hook (attached, missing on this kernel, or failed, with the\n"
"reason) and whether each check is complete. Exit 3 when a hook is missing.\n"
"\n"
"  (none)          load and attach on the running kernel (needs root)\n"
"  --btf FILE      resolve against a kernel's BTF (e.g. another kernel's\n"
"                  /sys/kernel/btf/vmlinux or a vmlinux); loads nothing\n"
"  -i, --input T   the coverage a trace was recorded with\n"
"\n"
"Examples:\n"
"  iommu-audit coverage\n"
"  iommu-audit -j coverage --btf /tmp/vmlinux-6.18\n");
}

int cmd_coverage(struct ia_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "btf", required_argument, NULL, 'b' },
		{ "input", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct ia_hook_status st[IA_MAX_HOOKS];
	struct ia_trace_meta *meta = calloc(1, sizeof(*meta));
	const char *btf_path = NULL, *input = NULL;
	char err[512];
	int c, ret = 0;

	if (!meta)
		return ia_fail(cli, IA_EXIT_FAILURE, "out of memory");
	while ((c = getopt_long(argc, argv, ":b:i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': btf_path = optarg; break;
		case 'i': input = optarg; break;
		case 'h': usage(stdout); free(meta); return IA_EXIT_OK;
		default: free(meta); return ia_bad_option(cli, usage, c, argv);
		}
	}
	if (optind < argc || (btf_path && input)) {
		free(meta);
		return ia_usage_error(cli, usage, "coverage: unexpected arguments");
	}
	if (cli->parse_only) {
		free(meta);
		return IA_EXIT_OK;
	}

	if (input) {
		struct ia_trace_reader *r = ia_trace_open(input, err, sizeof(err));
		const struct ia_ev_hdr *rec;
		int n;

		if (!r) {
			ret = ia_fail(cli, IA_EXIT_USAGE, "%s", err);
		} else {
			*meta = *ia_trace_meta(r);
			/* a damaged trace is reported as such, whatever is asked of it */
			while ((n = ia_trace_next(r, &rec)) == 1)
				;
			if (n < 0)
				ret = ia_fail(cli, IA_EXIT_USAGE, "%s", ia_trace_error(r));
		}
		ia_trace_close(r);
	} else if (btf_path) {
		struct stat sb;
		/* a FIFO would block the open: regular files only */
		struct btf *btf = stat(btf_path, &sb) || !S_ISREG(sb.st_mode) ? NULL :
				  btf__parse(btf_path, NULL);

		if (!btf) {
			ret = ia_fail(cli, IA_EXIT_USAGE, "%s: not a BTF or ELF file with BTF",
				      btf_path);
		} else {
			ia_hooks_resolve(btf, st);
			ia_coverage_to_meta(st, ia_nr_hooks, meta);
			btf__free(btf);
		}
	} else {
		/* the hooks this kernel allows, translated DMA or not */
		struct ia_session_opts so = { .verbose = cli->verbose,
					.force_kprobes = cli->force_kprobes,
					.untranslated_ok = true };
		struct ia_session *s = ia_session_open(&so, err, sizeof(err));
		const struct ia_hook_status *hs;
		size_t n;

		if (!s) {
			ret = ia_fail(cli, IA_EXIT_FAILURE, "%s", err);
		} else {
			ia_trace_meta_fill_host(meta);
			hs = ia_session_hooks(s, &n);
			ia_coverage_to_meta(hs, n, meta);
			ia_session_close(s);
		}
	}
	if (ret) {
		free(meta);
		return ret;
	}
	if (cli->json) {
		ia_json_init(&cli->j, stdout, cli->pretty);
		ia_json_obj_begin(&cli->j);
		ia_coverage_json(meta, &cli->j);
		ia_json_close_all(&cli->j);
	} else {
		ia_coverage_print(meta, stdout, true);
	}
	ret = ia_coverage_incomplete(meta) ? IA_EXIT_INCOMPLETE : IA_EXIT_OK;
	free(meta);
	return ret;
}
