// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* iommu-audit record: write every event of a live run to a trace file. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "cmd/cli.h"
#include "live/stackrec.h"
#include "live/coverage.h"
#include "live/loader.h"
#include "live/ptsnap.h"
#include "live/run.h"
#include "trace/trace.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: iommu-audit record -o FILE [--duration S] [--device NAME]...\n"
"                          [--ringbuf-mb N] [--stack-map N] [--full-stacks]\n"
"                          [--no-classify] [--free-hooks] [--pt-snapshot-every S]\n"
"                          [-- COMMAND [ARGS]]\n"
"\n"
"Records DMA API requests, IOMMU page-table writes, bounce slots and flush\n"
"events to FILE (mode 0600: it holds physical addresses), until --duration\n"
"elapses, COMMAND exits, or Ctrl-C. The header states the kernel and the\n"
"hook coverage; the trailer the events lost (exit 3 if any). Where the\n"
"kernel dumps its IOMMU page tables (CONFIG_INTEL_IOMMU_DEBUGFS), a snapshot\n"
"of them goes into the trace at the start, at the end, on SIGUSR2 and every\n"
"--pt-snapshot-every S: `check` compares them with the recorded writes.\n"
"\n"
"  -o, --output FILE    trace file to write (required)\n"
"  -d, --duration S     stop after S seconds (suffix s, m, h)\n"
"  -D, --device NAME    only this device (dev_name, e.g. 0000:00:03.0); repeatable\n"
"      --ringbuf-mb N   ring buffer size in MiB (default 16)\n"
"      --stack-map N    entries of the kernel's call-stack map (default 16384,\n"
"                       1 to 1048576); a stack whose hash bucket is taken is\n"
"                       sent with its request instead, so none is lost\n"
"      --full-stacks    unwind the call stack of every request; by default a\n"
"                       call site (its first 4 return addresses, read without\n"
"                       unwinding) is unwound once and its requests share that\n"
"                       stack: frames above the 4th are its first request's\n"
"      --no-classify    do not read what the exposed pages hold at map time\n"
"                       (page records: slab cache, file, ...; docs/checks.md)\n"
"      --free-hooks     also watch page and slab frees for memory freed while\n"
"                       a device can reach it (lifecycle.freed_while_mapped,\n"
"                       temporal.freed_before_flush; docs/benchmarks.md: cost)\n"
"      --pt-snapshot-every S  also snapshot the page tables every S seconds\n"
"\n"
"Examples:\n"
"  iommu-audit record -o nvme.trace --device 0000:00:04.0 -- fio job.fio\n"
"  iommu-audit record -o boot.trace --duration 30s\n");
}

struct rec_ctx {
	struct ia_trace_writer *w;
	struct ia_session *s;
	struct ia_stack_cache stacks;
	__u64 written;
	__u64 rejected;
	const char *const *only;	/* --device names: the snapshots' too */
	int nonly;
	__u32 snaps;			/* page-table snapshots written */
	bool snap_absent;		/* ... without a dump on this kernel */
	char snap_why[160];
};

static int write_rec(void *ctx, const struct ia_ev_hdr *rec)
{
	struct rec_ctx *rc = ctx;
	int ret = ia_trace_write(rc->w, rec);

	if (ret == IA_TRACE_EIO)
		return -EIO;
	if (ret)
		rc->rejected++;
	else
		rc->written++;
	return 0;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* Everything the programs emitted so far, into the trace. */
static int drain(struct ia_session *s)
{
	int n;

	while ((n = ia_session_poll(s, 0)) > 0)
		;
	return n;
}

/*
 * A page-table snapshot (ptsnap.h) between two drains of the ring buffer:
 * a write whose record is before BEGIN was made before the dump was read,
 * so the checker treats only the writes recorded between BEGIN and END as
 * in flight (docs/checks.md, "The page-table oracle").
 */
static int snapshot(void *ctx, __u32 why)
{
	struct rec_ctx *rc = ctx;
	struct ia_ptsnap s;
	__u32 n = ++rc->snaps;
	int ret;

	if ((ret = drain(rc->s)) < 0 || (ret = ia_ptsnap_emit_begin(n, why, mono_ns(), write_rec, rc)))
		return ret;
	ret = ia_ptsnap_read(IA_PTSNAP_ROOT, &s, rc->only, rc->nonly);
	if (!ret && (ret = drain(rc->s)) >= 0)
		ret = ia_ptsnap_emit_rest(&s, n, why, mono_ns(), write_rec, rc);
	rc->snap_absent = s.absent;
	snprintf(rc->snap_why, sizeof(rc->snap_why), "%s", s.why);
	ia_ptsnap_free(&s);
	return ret;
}

/* This process's CPU time so far, user and system (the reader's: record
 * runs in one thread) */
static double cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int on_event(void *ctx, const struct ia_ev_hdr *rec, size_t len)
{
	struct rec_ctx *rc = ctx;
	struct ia_stack_passed p;
	int ret;

	rec = ia_stack_pass(&rc->stacks, rc->s, rec, len, &p);
	if (p.has_stack) {	/* a record of the trace too: counted as one */
		ret = ia_trace_write(rc->w, &p.stack.s.hdr);
		if (ret == IA_TRACE_EIO)
			return -5;
		rc->written += !ret;
	}
	if (!rec)
		return 0;
	if (ia_trace_check_record(rec, len, NULL, 0)) {
		rc->rejected++;	/* malformed sample: counted, reported */
		return 0;
	}
	ret = ia_trace_write(rc->w, rec);
	if (ret == IA_TRACE_EIO)
		return -5;	/* -EIO: stop, the disk is the problem */
	if (ret)
		rc->rejected++;
	else
		rc->written++;
	return 0;
}

/* Buffered records older than a second to the file (a killed run keeps them). */
static int on_tick(void *ctx)
{
	struct rec_ctx *rc = ctx;

	return ia_trace_flush_due(rc->w, IA_TRACE_FLUSH_S) == IA_TRACE_EIO ? -5 : 0;
}

int cmd_record(struct ia_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'd' },
		{ "device", required_argument, NULL, 'D' },
		{ "ringbuf-mb", required_argument, NULL, 'R' },
		{ "stack-map", required_argument, NULL, 'S' },
		{ "full-stacks", no_argument, NULL, 'U' },
		{ "no-classify", no_argument, NULL, 'C' },
		{ "free-hooks", no_argument, NULL, 'F' },
		{ "pt-snapshot-every", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct ia_session_opts so = { .verbose = cli->verbose,
					.force_kprobes = cli->force_kprobes };
	struct ia_run_opts ro = {};
	struct ia_run_result res;
	struct ia_reader_stats rd;
	double cpu0, cpu_run;
	struct ia_trace_meta *meta;
	struct rec_ctx rc = {};
	struct ia_session *s;
	const char *out = NULL;
	const struct ia_hook_status *st;
	__u64 lost[IA_DROP_MAX], nlost = 0;
	struct stat sb;
	char err[512];
	size_t nst;
	int c, ret;

	ret = 0;
	while (!ret && (c = getopt_long(argc, argv, "+:o:d:D:h", opts, NULL)) != -1) {
		unsigned long long n = 0;

		switch (c) {
		case 'o': out = optarg; break;
		case 'd': ret = ia_opt_duration(cli, optarg, &ro.duration); break;
		case 'D': ret = ia_opt_device(cli, &so, optarg); break;
		case 'R':
			/* a power of two, as BPF ring buffers must be */
			if (ia_parse_uint(optarg, 1, 1024, &n) || (n & (n - 1)))
				ret = ia_usage_error(cli, NULL, "bad --ringbuf-mb '%s': a power of "
						     "two from 1 to 1024", optarg);
			so.ringbuf_mb = (__u32)n;
			break;
		case 'S':
			if (ia_parse_uint(optarg, 1, 1048576, &n))
				ret = ia_usage_error(cli, NULL, "bad --stack-map '%s': a number of "
						     "entries from 1 to 1048576", optarg);
			so.stack_map = (__u32)n;
			break;
		case 'U': so.full_stacks = true; break;
		case 'C': so.no_classify = true; break;
		case 'F': so.free_hooks = true; break;
		case 'P':
			if (ia_parse_duration(optarg, &ro.snap_every))
				ret = ia_usage_error(cli, NULL, "bad --pt-snapshot-every '%s': seconds "
						     "(or 30s, 5m, 1h), more than 0", optarg);
			break;
		case 'h': usage(stdout); return IA_EXIT_OK;
		default: ret = ia_bad_option(cli, usage, c, argv);
		}
	}
	if (ret)
		return ret;
	if (!out)
		return ia_usage_error(cli, usage, "record: -o FILE is required");
	if (cli->parse_only)
		return IA_EXIT_OK;
	/* refuse a bad output before loading anything into the kernel */
	if (stat(out, &sb) == 0 && !S_ISREG(sb.st_mode))
		return ia_fail(cli, IA_EXIT_USAGE, "%s: not a regular file", out);
	if (optind < argc)
		ro.cmd = &argv[optind];

	meta = calloc(1, sizeof(*meta));
	if (!meta)
		return ia_fail(cli, IA_EXIT_FAILURE, "out of memory");
	ia_trace_meta_fill_host(meta);
	snprintf(meta->tool_version, sizeof(meta->tool_version), "%s", IA_VERSION);

	so.on_event = on_event;
	so.ctx = &rc;
	ia_stack_cache_init(&rc.stacks);
	s = ia_session_open(&so, err, sizeof(err));
	if (!s) {
		free(meta);
		return ia_fail(cli, IA_EXIT_FAILURE, "%s", err);
	}
	rc.s = s;
	/* with the programs loaded (their frames are told by their [bpf]
	 * symbols), before the command runs */
	ia_stack_cache_preload(&rc.stacks);
	rc.only = so.devices;
	rc.nonly = so.nr_devices;
	ro.snap = snapshot;
	ro.ctx = &rc;
	st = ia_session_hooks(s, &nst);
	ia_coverage_to_meta(st, nst, meta);
	rc.w = ia_trace_create(out, meta, err, sizeof(err));
	if (!rc.w) {
		ia_session_close(s);
		free(meta);
		return ia_fail(cli, IA_EXIT_USAGE, "%s", err);
	}
	if (cli->verbose)
		ia_coverage_print(meta, stderr, cli->verbose > 0);

	ro.tick = on_tick;
	ro.ctx = &rc;
	cpu0 = cpu_seconds();
	ret = ia_run(s, &ro, &res, err, sizeof(err));
	cpu_run = cpu_seconds() - cpu0;
	ia_session_drops(s, lost);
	ia_session_reader(s, &rd);
	ia_session_close(s);
	ia_stack_cache_free(&rc.stacks);
	if (ret) {
		ia_trace_abandon(rc.w, err, sizeof(err));
		free(meta);
		return ia_fail(cli, IA_EXIT_FAILURE, "%s", err);
	}
	if (ia_trace_finish(rc.w, lost, err, sizeof(err))) {
		free(meta);
		return ia_fail(cli, IA_EXIT_FAILURE, "%s", err);
	}
	/* a failed stack capture loses a call site, not an event */
	nlost = lost[IA_DROP_RINGBUF] + lost[IA_DROP_INFLIGHT];

	if (cli->json) {
		ia_json_init(&cli->j, stdout, cli->pretty);
		ia_json_obj_begin(&cli->j);
		ia_json_kstr(&cli->j, "output", out);
		ia_json_ku64(&cli->j, "records", rc.written);
		ia_json_ku64(&cli->j, "rejected", rc.rejected);
		ia_json_ku64(&cli->j, "lost_ringbuf", lost[IA_DROP_RINGBUF]);
		ia_json_ku64(&cli->j, "lost_inflight", lost[IA_DROP_INFLIGHT]);
		ia_json_ku64(&cli->j, "lost_stack", lost[IA_DROP_STACK]);
		ia_json_key(&cli->j, "reader_cpu_s");
		ia_json_f64(&cli->j, cpu_run, 3);
		ia_json_ku64(&cli->j, "reader_boosts", rd.boosts);
		ia_json_ku64(&cli->j, "reader_boosts_refused", rd.boosts_refused);
		ia_json_ks64(&cli->j, "command_status", res.cmd_status);
		ia_json_ku64(&cli->j, "pt_snapshots", rc.snaps);
		ia_json_kbool(&cli->j, "pt_oracle_absent", rc.snap_absent);
		ia_coverage_json(meta, &cli->j);
		ia_json_close_all(&cli->j);
	} else {
		fprintf(stderr, "recorded %" PRIu64 " records to %s; lost %" PRIu64
			" (ring buffer %" PRIu64 ", in-flight %" PRIu64 ", stacks %" PRIu64 ")"
			"; %" PRIu64 " malformed\n", (uint64_t)rc.written, out,
			(uint64_t)nlost, (uint64_t)lost[IA_DROP_RINGBUF],
			(uint64_t)lost[IA_DROP_INFLIGHT], (uint64_t)lost[IA_DROP_STACK],
			(uint64_t)rc.rejected);
		/* what reading cost, from the start to the last drain (not
		 * the loading before it): with -v */
		if (cli->verbose)
			fprintf(stderr, "reader: %.2f s of CPU for %" PRIu64 " records (%.2f us "
				"per record); at most %.1f of %.0f MiB waiting; raised for %.2f s\n",
				cpu_run, (uint64_t)rc.written,
				rc.written ? cpu_run * 1e6 / rc.written : 0.0,
				rd.max_pending / 1048576.0, rd.ring_size / 1048576.0, rd.raised_s);
		/* only when it happened: a reader that kept up says nothing */
		if (rd.boosts || rd.boosts_refused)
			fprintf(stderr, "reader: fell behind %" PRIu64 " times, raised its priority "
				"until it caught up (%" PRIu64 " raises refused)\n",
				(uint64_t)rd.boosts, (uint64_t)rd.boosts_refused);
		if (rc.snap_absent)
			fprintf(stderr, "page-table oracle: absent: %s\n", rc.snap_why);
		else
			fprintf(stderr, "page-table snapshots: %" PRIu32 "\n", rc.snaps);
		ia_coverage_print(meta, stderr, false);
		if (res.cmd_status > 0)
			fprintf(stderr, "command exited with status %d\n", res.cmd_status);
	}
	ret = nlost || rc.rejected || ia_coverage_incomplete(meta) ?
	      IA_EXIT_INCOMPLETE : IA_EXIT_OK;
	free(meta);
	return ret;
}
