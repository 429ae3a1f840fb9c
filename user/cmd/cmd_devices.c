// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * iommu-audit devices: the per-device table (domain type, granule, requests,
 * page-table writes), from a live run or from a trace.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/cli.h"
#include "live/coverage.h"
#include "check/devstats.h"
#include "live/loader.h"
#include "live/run.h"
#include "out/prod_out.h"
#include "trace/trace.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: iommu-audit devices [--production] [--duration S] [--device NAME]... [-- COMMAND]\n"
"       iommu-audit devices -i TRACE\n"
"\n"
"Watches DMA traffic (live, until --duration, COMMAND exits or Ctrl-C) or\n"
"reads a trace, and prints one row per device: driver, IOMMU domain type,\n"
"granule, untrusted bit, map/unmap requests, bytes requested, page-table\n"
"writes and failed writes, live mappings. -j gives the full context.\n"
"\n"
"  -i, --input TRACE    read a trace written by `iommu-audit record`\n"
"  -d, --duration S     live: stop after S seconds\n"
"  -D, --device NAME    live: only this device; repeatable\n"
"  -s, --status S       live: a one-line status every S seconds (stderr)\n"
"  -P, --production     live: count in the kernel (BPF maps read by a timer,\n"
"                       no record per request: the cost to leave on) and print\n"
"                       report's totals (maps, failed, requested, mapped,\n"
"                       exposed, unrelated pages, live, lazy windows); not\n"
"                       counted: scatterlists, remapped and noncontiguous\n"
"                       allocations, the IOVA API\n"
"\n"
"Examples:\n"
"  iommu-audit devices --duration 10s\n"
"  iommu-audit devices --production --duration 60s\n"
"  iommu-audit -j devices -- dd if=/dev/nvme0n1 of=/dev/null bs=64k count=16 iflag=direct\n"
"  iommu-audit devices -i nvme.trace\n");
}

static int on_event(void *ctx, const struct ia_ev_hdr *rec, size_t len)
{
	ia_devstats_add(ctx, rec, len);
	return 0;
}

static void status_line(void *ctx)
{
	const struct ia_devstats *ds = ctx;

	fprintf(stderr, "%" PRIu64 " events, %zu devices, %" PRIu64 " page-table writes\n",
		(uint64_t)ds->records, ds->devs.len,
		(uint64_t)(ds->per_type[IA_EV_PT_MAP] + ds->per_type[IA_EV_PT_UNMAP]));
}

/* Feed a trace into ds; meta copied out. 0 or an exit code. */
static int from_trace(struct ia_cli *cli, const char *path, struct ia_devstats *ds,
		      struct ia_trace_meta *meta, __u64 lost[IA_DROP_MAX])
{
	struct ia_trace_reader *r;
	const struct ia_ev_hdr *rec;
	char err[512];
	int ret;

	r = ia_trace_open(path, err, sizeof(err));
	if (!r)
		return ia_fail(cli, IA_EXIT_USAGE, "%s", err);
	*meta = *ia_trace_meta(r);
	while ((ret = ia_trace_next(r, &rec)) == 1)
		ia_devstats_add(ds, rec, rec->size);
	if (ret < 0) {
		ret = ia_fail(cli, IA_EXIT_USAGE, "%s", ia_trace_error(r));
		ia_trace_close(r);
		return ret;
	}
	memcpy(lost, ia_trace_stats(r)->lost, sizeof(__u64) * IA_DROP_MAX);
	ia_trace_close(r);
	return 0;
}

/* --status in production mode: the counters as they are now */
struct prod_status {
	struct ia_session *s;
	const struct ia_devstats *ds;
};

static void prod_status_line(void *ctx)
{
	const struct prod_status *p = ctx;
	struct ia_prod_table t = {};
	__u64 maps = 0, exposed = 0;

	if (!ia_prod_table_read(&t, p->s, p->ds))
		for (size_t i = 0; i < t.n; i++) {
			maps += t.rows[i].d.maps;
			exposed += t.rows[i].d.bytes_exposed;
		}
	fprintf(stderr, "%zu devices, %" PRIu64 " maps, %" PRIu64 " bytes exposed\n",
		t.n, (uint64_t)maps, (uint64_t)exposed);
	ia_prod_table_free(&t);
}

static int live(struct ia_cli *cli, struct ia_session_opts *so, struct ia_run_opts *ro,
		struct ia_devstats *ds, struct ia_trace_meta *meta, __u64 lost[IA_DROP_MAX],
		struct ia_prod_table *prod, struct ia_hook_status *hooks, size_t *nhooks)
{
	struct prod_status pctx;
	const struct ia_hook_status *st;
	struct ia_run_result res;
	struct ia_session *s;
	char err[512];
	size_t n;
	int ret;

	so->on_event = on_event;
	so->ctx = ds;
	so->no_stacks = true;	/* the table has no call sites */
	so->no_classify = true;	/* nor what exposed pages hold */
	s = ia_session_open(so, err, sizeof(err));
	if (!s)
		return ia_fail(cli, IA_EXIT_FAILURE, "%s", err);
	ia_trace_meta_fill_host(meta);
	st = ia_session_hooks(s, &n);
	ia_coverage_to_meta(st, n, meta);
	*nhooks = n;
	memcpy(hooks, st, n * sizeof(*st));
	ro->status = status_line;
	ro->ctx = ds;
	if (so->production) {	/* the status reads the counters */
		pctx.s = s;
		pctx.ds = ds;
		ro->status = prod_status_line;
		ro->ctx = &pctx;
	}
	ret = ia_run(s, ro, &res, err, sizeof(err));
	if (!ret && so->production && ((ret = ia_prod_table_read(prod, s, ds)) != 0 ||
					(ret = ia_prod_table_read_sites(prod, s)) != 0))
		snprintf(err, sizeof(err), "reading the production counters: %s", strerror(-ret));
	ia_session_drops(s, lost);
	ia_session_close(s);
	if (ret)
		return ia_fail(cli, IA_EXIT_FAILURE, "%s", err);
	if (res.cmd_status > 0 && !cli->json)
		fprintf(stderr, "command exited with status %d\n", res.cmd_status);
	return 0;
}

int cmd_devices(struct ia_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "device", required_argument, NULL, 'D' },
		{ "status", required_argument, NULL, 's' },
		{ "production", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct ia_session_opts so = { .verbose = cli->verbose,
					.force_kprobes = cli->force_kprobes };
	struct ia_run_opts ro = {};
	struct ia_trace_meta *meta = calloc(1, sizeof(*meta));
	struct ia_devstats ds;
	struct ia_prod_table prod = {};
	struct ia_hook_status hooks[IA_MAX_HOOKS];
	size_t nhooks = 0;
	const char *input = NULL;
	__u64 lost[IA_DROP_MAX] = {}, nlost;
	bool live_opt = false;		/* --duration, --device, --status, --production */
	bool incomplete;
	int c, ret = 0;

	if (!meta)
		return ia_fail(cli, IA_EXIT_FAILURE, "out of memory");
	while (!ret && (c = getopt_long(argc, argv, "+:i:d:D:s:Ph", opts, NULL)) != -1) {
		live_opt |= c == 'd' || c == 'D' || c == 's' || c == 'P';
		switch (c) {
		case 'i': input = optarg; break;
		case 'd': ret = ia_opt_duration(cli, optarg, &ro.duration); break;
		case 'D': ret = ia_opt_device(cli, &so, optarg); break;
		case 's': ret = ia_opt_status(cli, optarg, &ro.status_every); break;
		case 'P': so.production = true; break;
		case 'h': usage(stdout); free(meta); return IA_EXIT_OK;
		default: ret = ia_bad_option(cli, usage, c, argv);
		}
	}
	if (!ret && optind < argc)
		ro.cmd = &argv[optind];
	if (!ret && input && (ro.cmd || live_opt))
		ret = ia_usage_error(cli, usage, "-i reads a trace: --duration, --device, "
				     "--status, --production and a COMMAND are for a live run");
	if (ret || cli->parse_only) {
		free(meta);
		return ret;
	}

	ia_devstats_init(&ds);
	ret = input ? from_trace(cli, input, &ds, meta, lost) :
	      live(cli, &so, &ro, &ds, meta, lost, &prod, hooks, &nhooks);
	if (ret) {
		ia_prod_table_free(&prod);
		ia_devstats_free(&ds);
		free(meta);
		return ret;
	}
	nlost = lost[IA_DROP_RINGBUF] + lost[IA_DROP_INFLIGHT];
	if (cli->json) {
		ia_json_init(&cli->j, stdout, cli->pretty);
		ia_json_obj_begin(&cli->j);
		ia_json_kstr(&cli->j, "kernel", meta->kernel_release);
		ia_json_ku64(&cli->j, "page_size", meta->page_size);
		if (so.production) {
			ia_prod_json(&cli->j, &prod, hooks, nhooks);
		} else {
			ia_coverage_json(meta, &cli->j);
			ia_devstats_json(&ds, &cli->j);
		}
		ia_json_key(&cli->j, "lost");
		ia_json_obj_begin(&cli->j);
		ia_json_ku64(&cli->j, "ringbuf", lost[IA_DROP_RINGBUF]);
		ia_json_ku64(&cli->j, "inflight", lost[IA_DROP_INFLIGHT]);
		ia_json_ku64(&cli->j, "stack", lost[IA_DROP_STACK]);
		ia_json_obj_end(&cli->j);
		ia_json_close_all(&cli->j);
	} else {
		if (so.production) {
			ia_prod_text(stdout, &prod, meta, hooks, nhooks);
		} else {
			printf("kernel %s, page size %u\n", meta->kernel_release, meta->page_size);
			ia_devstats_print(&ds, stdout);
			ia_coverage_print(meta, stdout, cli->verbose > 0);
		}
		if (nlost)
			printf("lost events: %" PRIu64 " (ring buffer %" PRIu64 ", in-flight %" PRIu64
			       "): totals are incomplete\n", (uint64_t)nlost,
			       (uint64_t)lost[IA_DROP_RINGBUF], (uint64_t)lost[IA_DROP_INFLIGHT]);
	}
	/* production: its own hooks complete, and nothing left out of its
	 * tables */
	incomplete = so.production ?
		     ia_hooks_incomplete_checks(hooks, nhooks) || prod.oom ||
		     prod.overflow[IA_PROD_OVF_DEVICES] || prod.overflow[IA_PROD_OVF_LIVE] ||
		     prod.overflow[IA_PROD_OVF_LAZY] :
		     ia_coverage_incomplete(meta);
	ia_prod_table_free(&prod);
	ia_devstats_free(&ds);
	ret = nlost || ds.bad_records || incomplete ? IA_EXIT_INCOMPLETE : IA_EXIT_OK;
	free(meta);
	return ret;
}
