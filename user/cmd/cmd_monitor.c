// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * iommu-audit monitor: the long-running service (docs/monitor.md). It runs
 * the live session `live` runs, through the same checker, for as long as
 * it is left running, with the checker's state bounded
 * (ia_checker_set_limits), and publishes what it finds: Prometheus metrics
 * on HTTP /metrics and/or in a node_exporter textfile, findings as JSON
 * Lines on stdout (journald) or appended to a file (logrotate: SIGHUP
 * reopens it).
 *
 * Threads: the event loop (this thread) alone touches the checker. Every
 * second it renders the exposition into a snapshot, which the HTTP
 * server's thread answers scrapes with (under a mutex held only to copy
 * it). So a scrape never waits for the checker (a first version locked
 * the checker per record and per scrape: under load the loop re-took the
 * lock back to back and a scrape waited 10 s), and the loop never waits
 * for a slow client; the metrics are at most a second old.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check/checker.h"
#include "check/devstats.h"
#include "cmd/cli.h"
#include "live/coverage.h"
#include "live/loader.h"
#include "live/run.h"
#include "live/stackrec.h"
#include "out/metrics_http.h"
#include "out/prod_out.h"
#include "out/prom_out.h"
#include "trace/trace.h"

#define DEFAULT_LISTEN		"127.0.0.1:9477"
#define DEFAULT_INTERVAL	15	/* s between textfile rewrites */
#define EXPIRE_EVERY		60	/* s between ia_checker_expire() */

/* Defaults of the state bounds (docs/monitor.md has the arithmetic). */
static const struct ia_checker_limits default_limits = {
	.findings = 4096, .stacks = 2048, .devices = 64, .unmapped = 16384,
};

struct mon {
	pthread_mutex_t lock;		/* snap and snap_len */
	char *snap;			/* the latest exposition */
	size_t snap_len;
	struct ia_checker *ck;
	struct ia_session *s;
	struct ia_stack_cache stacks;
	struct ia_trace_meta *meta;
	size_t mark;			/* findings already logged */
	__u64 records;
	int programs;
	double start_time;
	bool limit_logged;
	/* the findings log: stdout, or a file reopened on SIGHUP */
	const char *log_path;		/* NULL: stdout */
	FILE *log;
	int log_errors;
	/* the textfile, rewritten every interval seconds */
	const char *textfile;
	int interval;
	int ticks;			/* status callbacks (one a second) */
	int textfile_errors;
	struct ia_http *http;
	/* --production: the counters in BPF (bpf/prod.bpf.c) instead of the
	 * checker, named by the device records (the only ones sent) */
	bool production;
	struct ia_devstats ds;
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: iommu-audit monitor [--listen ADDR:PORT|off] [--textfile PATH]\n"
"                           [--interval S] [--log FILE] [--device NAME]...\n"
"                           [--duration S] [--ringbuf-mb N] [--max-findings N]\n"
"                           [--max-stacks N] [--max-devices N] [--max-unmapped N]\n"
"                           [--production]\n"
"\n"
"Runs in the foreground until SIGTERM or SIGINT (a systemd service), checking\n"
"live DMA traffic as `live` does, with its memory bounded whatever the\n"
"uptime. Publishes Prometheus metrics (per device and driver: maps, bytes\n"
"requested, mapped and exposed, unrelated pages, untrusted exposure, failed\n"
"maps, live mappings, the lazy-flush window; findings per code; the tool's\n"
"own health) and logs each new finding as one JSON line.\n"
"\n"
"      --listen ADDR:PORT  serve GET /metrics (default " DEFAULT_LISTEN ");\n"
"                          [::1]:PORT for IPv6; off: no HTTP server\n"
"      --textfile PATH     also write the metrics to PATH (node_exporter's\n"
"                          textfile collector: name it *.prom), replaced\n"
"                          atomically (PATH.tmp, then rename)\n"
"      --interval S        rewrite the textfile every S seconds (default %d)\n"
"      --log FILE          append findings (JSON Lines) to FILE, mode 0600;\n"
"                          SIGHUP reopens it (logrotate). Default: stdout\n"
"  -D, --device NAME       only this device; repeatable\n"
"  -d, --duration S        stop after S seconds (tests)\n"
"      --ringbuf-mb N      ring buffer size in MiB (default 16)\n"
"      --max-findings N    distinct findings kept (default %zu); beyond,\n"
"                          occurrences are counted by code only\n"
"      --max-stacks N      call stacks kept (default %zu)\n"
"      --max-devices N     devices tracked (default %zu)\n"
"      --max-unmapped N    unmapped handles remembered per device, for\n"
"                          double unmaps (default %zu)\n"
"      --production        count in the kernel (`devices --production`): the\n"
"                          same per-device metrics from BPF maps read every\n"
"                          second, no record per request, no findings (no\n"
"                          check runs: coverage_complete 0); not counted:\n"
"                          scatterlists, remapped and noncontiguous\n"
"                          allocations, the IOVA API\n"
"\n"
"Exit: 0 stopped by a signal or --duration; 1 a runtime failure (BPF load,\n"
"the listen address, the log); 2 bad arguments; 3 stopped, but events were\n"
"lost or hooks are missing (also in the metrics).\n"
"\n"
"Examples:\n"
"  iommu-audit monitor\n"
"  iommu-audit monitor --listen off --textfile /var/lib/prometheus/node-exporter/iommu-audit.prom\n"
"  iommu-audit monitor --log /var/log/iommu-audit/findings.jsonl\n"
"  curl -s http://127.0.0.1:9477/metrics | grep iommu_audit_exposed_bytes_total\n",
		DEFAULT_INTERVAL, default_limits.findings, default_limits.stacks,
		default_limits.devices, default_limits.unmapped);
}

/* ---- the log ---------------------------------------------------------------- */

static FILE *log_open(const char *path, char *err, size_t errlen)
{
	/* O_APPEND: lines from a rotated-away file's writer never interleave
	 * mid-line with ours; 0600: findings hold physical addresses */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;

	if (!f) {
		snprintf(err, errlen, "cannot open log %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	return f;
}

static void log_time(struct ia_json *j)
{
	struct timespec ts;
	struct tm tm;
	char buf[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03ldZ",
		 ts.tv_nsec / 1000000);
	ia_json_kstr(j, "time", buf);
}

/* Start a log line of type; the caller adds fields and calls log_end. */
static void log_begin(struct mon *m, struct ia_json *j, const char *type)
{
	ia_json_init(j, m->log, false);
	ia_json_obj_begin(j);
	ia_json_kstr(j, "type", type);
	log_time(j);
}

static void log_end(struct mon *m, struct ia_json *j)
{
	ia_json_close_all(j);	/* a newline, and a flush: one line, whole */
	if (ferror(m->log)) {
		if (!m->log_errors++)
			fprintf(stderr, "iommu-audit: writing the log failed: %s\n",
				strerror(errno));
		clearerr(m->log);
	}
}

static void log_new_findings(struct mon *m)
{
	size_t first = ia_checker_new_since(m->ck, &m->mark), n;
	const struct ia_finding *f = ia_checker_findings(m->ck, &n);
	struct ia_checker_state st;
	struct ia_json j;

	for (size_t i = first; i < n; i++) {
		log_begin(m, &j, "finding");
		ia_json_key(&j, "finding");
		ia_finding_json(&f[i], &j);
		log_end(m, &j);
	}
	if (m->limit_logged)
		return;
	ia_checker_state(m->ck, &st);
	if (!st.findings_dropped)
		return;
	m->limit_logged = true;
	log_begin(m, &j, "limit");
	ia_json_kstr(&j, "message", "--max-findings reached: new findings are counted "
		     "by code only (iommu_audit_findings_total), not logged");
	ia_json_ku64(&j, "findings", st.findings);
	log_end(m, &j);
}

/* ---- events ----------------------------------------------------------------- */

static int on_event(void *ctx, const struct ia_ev_hdr *rec, size_t len)
{
	struct mon *m = ctx;
	struct ia_stack_passed p;

	if (m->production) {	/* device records only */
		ia_devstats_add(&m->ds, rec, len);
		m->records++;
		return 0;
	}
	rec = ia_stack_pass(&m->stacks, m->s, rec, len, &p);
	if (p.has_stack)
		ia_checker_event(m->ck, &p.stack.s.hdr, p.stack.s.hdr.size);
	if (rec) {
		ia_checker_event(m->ck, rec, len);
		m->records++;
		log_new_findings(m);
	}
	return 0;
}

/* ---- metrics ---------------------------------------------------------------- */

/* Production mode's exposition: the counters as the checker's totals. */
static int render_prod(struct mon *m, FILE *out, struct ia_prom_run *r,
		       struct ia_checker_state *st)
{
	struct ia_prod_table t = {};
	struct ia_check_dev *d = NULL;
	int ret = ia_prod_table_read(&t, m->s, &m->ds);

	if (!ret && !(d = ia_prod_check_devs(&t)))
		ret = -ENOMEM;
	if (!ret) {
		r->records = m->records;
		r->malformed = m->ds.bad_records;
		r->devs = d;
		r->ndevs = t.n;
		ia_prod_state(&t, st);
		ret = ia_prom_write(out, r);
	}
	free(d);
	ia_prod_table_free(&t);
	return ret;
}

/* The exposition of what the checker holds now (the loop's thread). */
static int render(struct mon *m, FILE *out)
{
	struct ia_checker_state st;
	__u64 lost[IA_DROP_MAX];
	struct ia_prom_run r = { .meta = m->meta, .lost = lost, .state = &st,
				 .programs = m->programs, .start_time = m->start_time };
	struct ia_reader_stats rd;
	int ret;

	ia_session_drops(m->s, lost);
	ia_session_reader(m->s, &rd);	/* unmapped positions: ring_size 0, not written */
	r.ring_size = rd.ring_size;
	r.ring_pending = rd.ring_pending;
	r.reads_cut = rd.reads_cut;
	r.reader_boosts = rd.boosts;
	if (m->production)
		return render_prod(m, out, &r, &st);
	r.records = m->records;
	r.malformed = ia_checker_malformed(m->ck);
	r.devs = ia_checker_devices(m->ck, &r.ndevs);
	r.codes = ia_checker_codes(m->ck, &r.ncodes);
	ia_checker_state(m->ck, &st);
	ret = ia_prom_write(out, &r);
	return ret;
}

/* Render into a new snapshot and publish it. */
static void snapshot(struct mon *m)
{
	char *buf = NULL, *old;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;	/* out of memory: scrapes get the previous one */
	if (render(m, f) | fclose(f)) {
		free(buf);
		return;
	}
	pthread_mutex_lock(&m->lock);
	old = m->snap;
	m->snap = buf;
	m->snap_len = len;
	pthread_mutex_unlock(&m->lock);
	free(old);
}

/* A scrape (the HTTP server's thread): the latest snapshot. */
static int serve(void *ctx, FILE *out)
{
	struct mon *m = ctx;
	int ret = 0;

	pthread_mutex_lock(&m->lock);
	if (!m->snap || fwrite(m->snap, 1, m->snap_len, out) != m->snap_len)
		ret = -EIO;
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/* Write PATH.tmp, then rename it over PATH: a collector reading PATH sees
 * the old file or the new one, never half of one. */
static int write_textfile(struct mon *m)
{
	char tmp[4096];
	FILE *f;
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", m->textfile) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return -ENOMEM;
	}
	ret = render(m, f);
	if (fflush(f) || fsync(fd))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -EIO;
	if (!ret && rename(tmp, m->textfile))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

static void textfile_update(struct mon *m)
{
	int ret = write_textfile(m);

	if (ret && !m->textfile_errors++)
		fprintf(stderr, "iommu-audit: writing %s failed: %s\n", m->textfile,
			strerror(-ret));
}

/* ---- the loop's callbacks ----------------------------------------------------- */

static void on_tick(void *ctx)
{
	struct mon *m = ctx;

	m->ticks++;
	if (m->http)
		snapshot(m);
	if (m->textfile && m->ticks % m->interval == 0)
		textfile_update(m);
	if (m->ticks % EXPIRE_EVERY == 0)
		ia_checker_expire(m->ck);
}

static void on_hup(void *ctx)
{
	struct mon *m = ctx;
	char err[512];
	FILE *f;

	if (!m->log_path)
		return;	/* stdout: nothing to reopen */
	f = log_open(m->log_path, err, sizeof(err));
	if (f) {
		fclose(m->log);
		m->log = f;
	} else if (!m->log_errors++) {
		fprintf(stderr, "iommu-audit: %s (still writing the old file)\n", err);
	}
}

static void log_start(struct mon *m, const char *listen)
{
	struct ia_json j;

	log_begin(m, &j, "start");
	ia_json_kstr(&j, "version", IA_VERSION);
	ia_json_kstr(&j, "kernel", m->meta->kernel_release);
	ia_json_kbool(&j, "coverage_complete", !ia_coverage_incomplete(m->meta));
	ia_json_ku64(&j, "programs", (__u64)m->programs);
	ia_json_kstr(&j, "listen", listen ? listen : "off");
	ia_json_kstr(&j, "textfile", m->textfile ? m->textfile : "");
	log_end(m, &j);
}

static void log_stop(struct mon *m, const __u64 *lost)
{
	struct ia_json j;
	size_t n;

	ia_checker_findings(m->ck, &n);
	log_begin(m, &j, "stop");
	ia_json_ku64(&j, "events", m->records);
	ia_json_ku64(&j, "lost_ringbuf", lost[IA_DROP_RINGBUF]);
	ia_json_ku64(&j, "lost_inflight", lost[IA_DROP_INFLIGHT]);
	ia_json_ku64(&j, "lost_stack", lost[IA_DROP_STACK]);
	ia_json_ku64(&j, "findings", n);
	log_end(m, &j);
}

static int count_programs(const struct ia_hook_status *hs, size_t n)
{
	int k = 0;

	for (size_t i = 0; i < n; i++) {
		const char *const *p;

		if (hs[i].state != IA_HOOK_ATTACHED)
			continue;
		p = ia_hook_progs(&hs[i]);
		for (int x = 0; x < 2; x++)
			k += p[x] != NULL;
	}
	return k;
}

/* ---- the command ------------------------------------------------------------- */

struct mon_opts {
	const char *listen;
	struct ia_session_opts so;
	struct ia_run_opts ro;
	struct ia_checker_limits lim;
};

static int parse(struct ia_cli *cli, int argc, char **argv, struct mon *m,
		 struct mon_opts *o)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'L' },
		{ "textfile", required_argument, NULL, 'T' },
		{ "interval", required_argument, NULL, 'I' },
		{ "log", required_argument, NULL, 'l' },
		{ "device", required_argument, NULL, 'D' },
		{ "duration", required_argument, NULL, 'd' },
		{ "ringbuf-mb", required_argument, NULL, 'R' },
		{ "max-findings", required_argument, NULL, 'F' },
		{ "max-stacks", required_argument, NULL, 'S' },
		{ "max-devices", required_argument, NULL, 'V' },
		{ "max-unmapped", required_argument, NULL, 'U' },
		{ "production", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned long long v;
	double d;
	int c, ret;

	while ((c = getopt_long(argc, argv, "+:D:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return -1;
		case 'L':
			o->listen = strcmp(optarg, "off") ? optarg : NULL;
			break;
		case 'T':
			m->textfile = optarg;
			break;
		case 'P':
			m->production = o->so.production = true;
			break;
		case 'I':
			if (ia_parse_duration(optarg, &d) || d < 1 || d > 86400 || d != (int)d)
				return ia_usage_error(cli, usage, "--interval: whole seconds, "
						      "1 to 86400 ('%s')", optarg);
			m->interval = (int)d;
			break;
		case 'l':
			m->log_path = strcmp(optarg, "-") ? optarg : NULL;
			break;
		case 'D':
			if ((ret = ia_opt_device(cli, &o->so, optarg)))
				return ret;
			break;
		case 'd':
			if ((ret = ia_opt_duration(cli, optarg, &o->ro.duration)))
				return ret;
			break;
		case 'R':
			if (ia_parse_uint(optarg, 1, 4096, &v))
				return ia_usage_error(cli, usage, "--ringbuf-mb: 1 to 4096");
			o->so.ringbuf_mb = v;
			break;
		case 'F': case 'S': case 'V': case 'U': {
			size_t *f = c == 'F' ? &o->lim.findings : c == 'S' ? &o->lim.stacks :
				    c == 'V' ? &o->lim.devices : &o->lim.unmapped;

			if (ia_parse_uint(optarg, 1, 1UL << 24, &v))
				return ia_usage_error(cli, usage, "--max-%s: 1 to %lu ('%s')",
					       c == 'F' ? "findings" : c == 'S' ? "stacks" :
					       c == 'V' ? "devices" : "unmapped", 1UL << 24, optarg);
			*f = v;
			break;
		}
		default:
			return ia_bad_option(cli, usage, c, argv);
		}
	}
	if (optind != argc)
		return ia_usage_error(cli, usage, "monitor: unexpected argument '%s'",
				      argv[optind]);
	return 0;
}

static void mon_free(struct mon *m)
{
	ia_http_stop(m->http);	/* first: its thread reads the rest */
	if (m->s)
		ia_session_close(m->s);
	ia_stack_cache_free(&m->stacks);
	ia_devstats_free(&m->ds);
	ia_checker_free(m->ck);
	if (m->log && m->log != stdout)
		fclose(m->log);
	free(m->meta);
	free(m->snap);
	pthread_mutex_destroy(&m->lock);
}

int cmd_monitor(struct ia_cli *cli, int argc, char **argv)
{
	struct mon_opts o = { .listen = DEFAULT_LISTEN, .lim = default_limits };
	struct mon m = { .interval = DEFAULT_INTERVAL, .log = stdout };
	const struct ia_hook_status *hs;
	struct ia_run_result res;
	__u64 lost[IA_DROP_MAX];
	struct timespec now;
	bool incomplete;
	char err[512];
	size_t nh;
	int ret;

	/* a logrotate before the loop runs must not end us: ia_run() then
	 * hands SIGHUP to on_hup */
	signal(SIGHUP, SIG_IGN);
	pthread_mutex_init(&m.lock, NULL);
	ia_stack_cache_init(&m.stacks);
	ia_devstats_init(&m.ds);
	ret = parse(cli, argc, argv, &m, &o);
	if (ret || cli->parse_only) {	/* parse_only: the argument harness */
		mon_free(&m);
		return ret < 0 ? IA_EXIT_OK : ret;
	}
	m.meta = calloc(1, sizeof(*m.meta));
	m.ck = ia_checker_new();
	if (!m.meta || !m.ck) {
		mon_free(&m);
		return ia_fail(cli, IA_EXIT_FAILURE, "out of memory");
	}
	ia_checker_set_limits(m.ck, &o.lim);
	o.so.prod_max_devices = o.lim.devices;	/* production mode's table */
	if (m.log_path && !(m.log = log_open(m.log_path, err, sizeof(err)))) {
		mon_free(&m);
		return ia_fail(cli, IA_EXIT_FAILURE, "%s", err);
	}
	o.so.verbose = cli->verbose;
	o.so.force_kprobes = cli->force_kprobes;
	o.so.on_event = on_event;
	o.so.ctx = &m;
	m.s = ia_session_open(&o.so, err, sizeof(err));
	if (!m.s) {
		mon_free(&m);
		return ia_fail(cli, IA_EXIT_FAILURE, "%s", err);
	}
	if (!o.so.production)	/* production mode names its sites itself */
		ia_stack_cache_preload(&m.stacks);
	clock_gettime(CLOCK_REALTIME, &now);
	m.start_time = now.tv_sec + now.tv_nsec / 1e9;
	ia_trace_meta_fill_host(m.meta);
	snprintf(m.meta->tool_version, sizeof(m.meta->tool_version), "%s", IA_VERSION);
	hs = ia_session_hooks(m.s, &nh);
	ia_coverage_to_meta(hs, nh, m.meta);
	m.programs = count_programs(hs, nh);
	snapshot(&m);	/* a scrape right after the start has one */
	if (o.listen && !(m.http = ia_http_start(o.listen, serve, &m, err, sizeof(err)))) {
		mon_free(&m);
		return ia_fail(cli, IA_EXIT_FAILURE, "%s", err);
	}
	if (m.textfile)
		textfile_update(&m);	/* there from the start, complete */
	log_start(&m, o.listen);

	o.ro.status_every = 1;
	o.ro.status = on_tick;
	o.ro.hup = on_hup;
	o.ro.ctx = &m;
	ret = ia_run(m.s, &o.ro, &res, err, sizeof(err));
	if (m.textfile)
		textfile_update(&m);
	ia_session_drops(m.s, lost);
	log_stop(&m, lost);
	/* production mode: its own hooks (no check runs) */
	incomplete = lost[IA_DROP_RINGBUF] || lost[IA_DROP_INFLIGHT] ||
		     (m.production ? ia_hooks_incomplete_checks(hs, nh) != 0 :
		      ia_coverage_incomplete(m.meta) != 0);
	mon_free(&m);
	if (ret)
		return ia_fail(cli, IA_EXIT_FAILURE, "%s", err);
	if (m.log_errors || m.textfile_errors)
		return ia_fail(cli, IA_EXIT_FAILURE, "the log or the textfile could not be written");
	return incomplete ? IA_EXIT_INCOMPLETE : IA_EXIT_OK;
}
