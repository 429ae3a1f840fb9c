// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * iommu-audit check TRACE / iommu-audit live: run the checker over a trace
 * or over live events. Both feed the same records in the same order into the
 * same checker, so they give the same findings for the same run.
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
#include "out/findings_out.h"
#include "live/stackrec.h"
#include "live/loader.h"
#include "live/run.h"
#include "trace/trace.h"
#include "lib/openfile.h"
#include "lib/u64map.h"

struct check_opts {
	int fail_level;
	enum ia_out_format fmt;
	const char *baseline;
	const char *output;	/* -o FILE, else stdout */
	const char *sensitive;	/* --sensitive LIST; NULL: the default */
};

static void usage_check(FILE *f)
{
	fprintf(f,
"Usage: iommu-audit check TRACE [--fail-on LEVEL] [--baseline FILE]\n"
"                          [--format text|json|junit|sarif] [-o FILE] [--each]\n"
"\n"
"Checks a trace written by `iommu-audit record` against the invariants\n"
"(docs/checks.md): translation, over-exposure, alignment, lifecycle and\n"
"lazy-flush exposure. Repeats of a finding (same code, device, driver and\n"
"call site) are folded into one, with a count.\n"
"\n"
"  --fail-on LEVEL   exit 1 if a certain finding is at or above LEVEL\n"
"                    (info, warning, error; default error)\n"
"  --baseline FILE   known findings (an earlier `check -j` output, or one\n"
"                    fingerprint per line) do not fail the run\n"
"  --format F        text (default), json (JSON Lines; -j is the same),\n"
"                    junit (JUnit XML), sarif (SARIF 2.1.0)\n"
"  -o FILE           write the findings to FILE instead of stdout\n"
"  --sensitive LIST  page kinds and slab caches whose exposure is an error\n"
"                    (exposure.sensitive; traces with page records):\n"
"                    comma-separated, default " IA_SENSITIVE_DEFAULT ",\n"
"                    \"\" for none\n"
"  --each            do not fold: one finding per occurrence (count 1, its\n"
"                    own request id), e.g. to compare run by run with a model\n"
"\n"
"Exit: 0 clean; 1 findings at or above --fail-on; 2 bad arguments or a bad\n"
"trace; 3 incomplete (events lost or hooks missing) and nothing failing.\n"
"\n"
"Examples:\n"
"  iommu-audit check run.trace\n"
"  iommu-audit check run.trace --fail-on warning --format junit -o findings.xml\n"
"  iommu-audit -j check base.trace > known.jsonl\n"
"  iommu-audit check new.trace --baseline known.jsonl   # only new findings fail\n");
}

static void usage_live(FILE *f)
{
	fprintf(f,
"Usage: iommu-audit live [--duration S] [--device NAME]... [--status S]\n"
"                        [--fail-on LEVEL] [--baseline FILE] [--format F]\n"
"                        [-o FILE] [--record TRACE] [-- COMMAND]\n"
"\n"
"Checks live DMA traffic: findings are printed (stderr) as they are first\n"
"seen, a one-line status every --status seconds, and at the end (duration\n"
"elapsed, COMMAND exited, or Ctrl-C) the full list, as `check` prints it\n"
"for a trace of the same run. --record also writes that trace (as `record`\n"
"does), so `check TRACE` repeats the same findings later.\n"
"\n"
"Examples:\n"
"  iommu-audit live --status 5\n"
"  iommu-audit live --record run.trace -- ./dma-test\n"
"  iommu-audit live --fail-on warning -- ./dma-test\n");
}

/* Parse the options check and live share; returns 1 if handled, 0 if not
 * one of them, or an exit code (> 1) on a bad value. */
static int common_opt(struct ia_cli *cli, struct check_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'F':
		o->fail_level = ia_severity_parse(arg);
		if (o->fail_level < 0)
			return ia_fail(cli, IA_EXIT_USAGE, "--fail-on: info, warning or error");
		return 1;
	case 'B':
		o->baseline = arg;
		return 1;
	case 'f':
		o->fmt = ia_out_format_parse(arg);
		if ((int)o->fmt < 0)
			return ia_fail(cli, IA_EXIT_USAGE, "--format: text, json, junit or sarif");
		return 1;
	case 'o':
		o->output = arg;
		return 1;
	case 'S':
		o->sensitive = arg;
		return 1;
	}
	return 0;
}

/* What is opened before the work starts (a live run is not repeatable, and
 * a checked trace may be long): the baseline and the output file. */
struct check_out {
	struct ia_baseline base, *b;
	FILE *out;
};

static void release(struct check_out *co)
{
	if (co->b)
		ia_baseline_free(co->b);
	co->b = NULL;
	if (co->out && co->out != stdout)
		fclose(co->out);
	co->out = NULL;
}

/* 0, or the exit code with the error reported. */
static int prepare(struct ia_cli *cli, const struct check_opts *o, struct check_out *co)
{
	char err[512];

	co->b = NULL;
	co->out = stdout;
	if (o->baseline) {
		if (ia_baseline_load(&co->base, o->baseline, err, sizeof(err)))
			return ia_fail(cli, IA_EXIT_USAGE, "%s", err);
		co->b = &co->base;
	}
	if (o->output && !(co->out = ia_fopen_write(o->output))) {
		int e = errno;	/* ENXIO: a FIFO nobody reads */

		release(co);
		return ia_fail(cli, IA_EXIT_USAGE, "cannot write %s: %s", o->output, strerror(e));
	}
	return 0;
}

/* Write the findings and pick the exit code; co is released. */
static int conclude(struct ia_cli *cli, struct ia_checker *ck, const struct check_opts *o,
		    struct check_out *co, struct ia_run_summary *s)
{
	const struct ia_finding *f;
	size_t n, failing = 0;
	FILE *out = co->out;

	f = ia_checker_findings(ck, &n);
	s->malformed = ia_checker_malformed(ck);
	ia_findings_write(out, o->fmt, f, n, co->b, o->fail_level, s);
	for (size_t i = 0; i < n; i++)
		failing += ia_finding_fails(&f[i], o->fail_level, co->b);
	co->out = NULL;
	if (out != stdout && fclose(out)) {
		release(co);
		return ia_fail(cli, IA_EXIT_FAILURE, "writing %s failed", o->output);
	}
	release(co);
	if (failing)
		return IA_EXIT_FINDINGS;
	return ia_run_incomplete(s) ? IA_EXIT_INCOMPLETE : IA_EXIT_OK;
}

static const struct option check_long[] = {
	{ "fail-on", required_argument, NULL, 'F' },
	{ "baseline", required_argument, NULL, 'B' },
	{ "format", required_argument, NULL, 'f' },
	{ "output", required_argument, NULL, 'o' },
	{ "sensitive", required_argument, NULL, 'S' },
	{ "duration", required_argument, NULL, 'd' },
	{ "device", required_argument, NULL, 'D' },
	{ "status", required_argument, NULL, 's' },
	{ "record", required_argument, NULL, 'r' },
	{ "each", no_argument, NULL, 'E' },	/* check only */
	{ "help", no_argument, NULL, 'h' },
	{}
};

int cmd_check(struct ia_cli *cli, int argc, char **argv)
{
	struct check_opts o = { .fail_level = IA_SEV_ERROR, .fmt = cli->json ? IA_OUT_JSON : IA_OUT_TEXT };
	struct ia_run_summary s = { 0 };
	struct ia_trace_reader *r;
	struct ia_checker *ck;
	struct check_out co;
	char err[512];
	bool each = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, ":o:h", check_long, NULL)) != -1) {
		if (c == 'h') {
			usage_check(stdout);
			return IA_EXIT_OK;
		}
		if (c == '?' || c == ':')
			return ia_bad_option(cli, usage_check, c, argv);
		if (c == 'E') {
			each = true;
			continue;
		}
		ret = common_opt(cli, &o, c, optarg);
		if (ret > 1)
			return ret;
		if (!ret)	/* one of live's options */
			return ia_usage_error(cli, usage_check, "check: %s is an option of live",
					      argv[optind - 1 - (optarg && optarg == argv[optind - 1])]);
	}
	if (optind != argc - 1)
		return ia_usage_error(cli, usage_check, "check: one TRACE argument expected");
	if (cli->parse_only)
		return IA_EXIT_OK;
	if ((ret = prepare(cli, &o, &co)))
		return ret;
	ret = ia_checker_from_trace(argv[optind], each ? IA_CHECK_EACH : 0, o.sensitive, &ck, &r, &s, err,
				    sizeof(err));
	if (ret) {
		release(&co);
		return ia_fail(cli, ret == -ENOMEM ? IA_EXIT_FAILURE : IA_EXIT_USAGE, "%s", err);
	}
	ret = conclude(cli, ck, &o, &co, &s);
	ia_checker_free(ck);
	ia_trace_close(r);
	return ret;
}

/* ---- live ------------------------------------------------------------------ */

struct live_ctx {
	struct ia_checker *ck;
	struct ia_trace_writer *w;	/* --record: the same records, to a trace */
	struct ia_session *s;
	struct ia_stack_cache stacks;
	size_t mark;			/* findings already printed */
	__u64 records;
	bool quiet;			/* no findings on stderr as they come */
};

/* Feed (and --record) a record; -EIO when the trace cannot be written. */
static int live_feed(struct live_ctx *l, const struct ia_ev_hdr *rec, size_t len)
{
	ia_checker_event(l->ck, rec, len);
	if (l->w && !ia_trace_check_record(rec, len, NULL, 0) &&
	    ia_trace_write(l->w, rec) == IA_TRACE_EIO)
		return -5;
	return 0;
}

static int live_event(void *ctx, const struct ia_ev_hdr *rec, size_t len)
{
	struct live_ctx *l = ctx;
	const struct ia_finding *f;
	size_t n, first;

	struct ia_stack_passed p;

	rec = ia_stack_pass(&l->stacks, l->s, rec, len, &p);
	if (p.has_stack && live_feed(l, &p.stack.s.hdr, p.stack.s.hdr.size))
		return -5;
	if (!rec)
		return 0;
	if (live_feed(l, rec, len))
		return -5;	/* -EIO: stop, the disk is the problem */
	l->records++;
	if (l->quiet)
		return 0;
	first = ia_checker_new_since(l->ck, &l->mark);
	f = ia_checker_findings(l->ck, &n);
	for (size_t i = first; i < n; i++)
		ia_finding_print(&f[i], stderr);
	return 0;
}

static void live_status(void *ctx)
{
	struct live_ctx *l = ctx;
	size_t n;

	ia_checker_findings(l->ck, &n);
	fprintf(stderr, "[live] %" PRIu64 " events, %zu findings, %zu live mappings\n",
		(uint64_t)l->records, n, ia_checker_live_mappings(l->ck));
}

/* --record: buffered records older than a second to the file. */
static int live_tick(void *ctx)
{
	struct live_ctx *l = ctx;

	return l->w && ia_trace_flush_due(l->w, IA_TRACE_FLUSH_S) == IA_TRACE_EIO ? -5 : 0;
}

int cmd_live(struct ia_cli *cli, int argc, char **argv)
{
	struct check_opts o = { .fail_level = IA_SEV_ERROR, .fmt = cli->json ? IA_OUT_JSON : IA_OUT_TEXT };
	struct ia_session_opts so = { .verbose = cli->verbose, .force_kprobes = cli->force_kprobes };
	struct ia_run_opts ro = {};
	struct ia_run_summary s = { .source = "live" };
	struct ia_trace_meta *meta = calloc(1, sizeof(*meta));
	struct live_ctx l = { 0 };
	struct check_out co;
	const char *record = NULL;
	const struct ia_hook_status *hs;
	struct ia_run_result res;
	__u64 lost[IA_DROP_MAX];
	char err[512];
	size_t nh;
	int c, ret;

	if (!meta)
		return ia_fail(cli, IA_EXIT_FAILURE, "out of memory");
	while ((c = getopt_long(argc, argv, "+:o:d:D:s:h", check_long, NULL)) != -1) {
		switch (c) {
		case 'h': usage_live(stdout); free(meta); return IA_EXIT_OK;
		case 'd': ret = ia_opt_duration(cli, optarg, &ro.duration); break;
		case 'D': ret = ia_opt_device(cli, &so, optarg); break;
		case 's': ret = ia_opt_status(cli, optarg, &ro.status_every); break;
		case 'r': record = optarg; ret = 0; break;
		case '?': case ':': ret = ia_bad_option(cli, usage_live, c, argv); break;
		default: ret = common_opt(cli, &o, c, optarg) > 1 ? IA_EXIT_USAGE : 0;
		}
		if (ret) {
			free(meta);
			return ret;
		}
	}
	if (optind < argc)
		ro.cmd = &argv[optind];
	if (cli->parse_only) {
		free(meta);
		return IA_EXIT_OK;
	}
	/* a bad baseline or output is found before the run, not after it */
	if ((ret = prepare(cli, &o, &co))) {
		free(meta);
		return ret;
	}

	l.ck = ia_checker_new();
	if (l.ck && o.sensitive && ia_checker_set_sensitive(l.ck, o.sensitive)) {
		ia_checker_free(l.ck);
		free(meta);
		return ia_fail(cli, IA_EXIT_USAGE, "--sensitive: list too long");
	}
	ia_stack_cache_init(&l.stacks);
	l.quiet = o.fmt != IA_OUT_TEXT || cli->json;
	so.on_event = live_event;
	so.ctx = &l;
	l.s = l.ck ? ia_session_open(&so, err, sizeof(err)) : NULL;
	if (!l.s) {
		ia_checker_free(l.ck);
		release(&co);
		free(meta);
		return ia_fail(cli, IA_EXIT_FAILURE, "%s", l.ck ? err : "out of memory");
	}
	/* the kernel's symbols with the programs loaded, before the command
	 * (live/stackrec.h) */
	ia_stack_cache_preload(&l.stacks);
	ia_trace_meta_fill_host(meta);
	snprintf(meta->tool_version, sizeof(meta->tool_version), "%s", IA_VERSION);
	hs = ia_session_hooks(l.s, &nh);
	ia_coverage_to_meta(hs, nh, meta);
	if (record && !(l.w = ia_trace_create(record, meta, err, sizeof(err)))) {
		ia_session_close(l.s);
		ia_checker_free(l.ck);
		ia_stack_cache_free(&l.stacks);
		release(&co);
		free(meta);
		return ia_fail(cli, IA_EXIT_USAGE, "%s", err);
	}
	ro.status = live_status;
	ro.tick = live_tick;
	ro.ctx = &l;
	ret = ia_run(l.s, &ro, &res, err, sizeof(err));
	ia_session_drops(l.s, lost);
	ia_session_close(l.s);
	ia_stack_cache_free(&l.stacks);
	if (!ret && l.w && ia_trace_finish(l.w, lost, err, sizeof(err)))
		ret = -1;
	else if (ret && l.w)
		ia_trace_abandon(l.w, err, sizeof(err));
	if (ret) {
		ia_checker_free(l.ck);
		release(&co);
		free(meta);
		return ia_fail(cli, IA_EXIT_FAILURE, "%s", err);
	}
	s.lost = lost[IA_DROP_RINGBUF] + lost[IA_DROP_INFLIGHT];
	s.kernel = meta->kernel_release;
	s.records = l.records;
	s.incomplete_checks = ia_coverage_incomplete(meta);
	s.coverage_complete = !s.incomplete_checks;
	ia_checker_finish(l.ck, s.lost);
	ret = conclude(cli, l.ck, &o, &co, &s);
	ia_checker_free(l.ck);
	free(meta);
	return ret;
}
