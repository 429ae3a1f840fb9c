// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE	/* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "live/bpfstats.h"

#define IA_STATS_LOG 1024

void ia_bpf_stats_begin(struct bpf_object *obj)
{
	struct bpf_program *prog;

	if (!getenv("IA_BPF_STATS"))
		return;
	bpf_object__for_each_program(prog, obj) {
		char *buf;

		if (!bpf_program__autoload(prog) || !(buf = calloc(1, IA_STATS_LOG)))
			continue;
		bpf_program__set_log_buf(prog, buf, IA_STATS_LOG);
		bpf_program__set_log_level(prog, 4);	/* BPF_LOG_STATS */
	}
}

/* The line of log[0..len) starting with key, up to its newline: *n bytes. */
static const char *stats_line(const char *log, size_t len, const char *key, int *n)
{
	const char *p = memmem(log, len, key, strlen(key));
	const char *nl;

	if (!p) {
		*n = 0;
		return "";
	}
	nl = memchr(p, '\n', len - (size_t)(p - log));
	*n = (int)((nl ? nl : log + len) - p);
	return p;
}

size_t ia_bpf_stats_summary(const char *log, size_t size, char *out, size_t outlen)
{
	/* the kernel terminates what it wrote; a fuller buffer is read no further */
	size_t len = strnlen(log, size);
	const char *t, *n;
	int tn, nn, w;

	if (!outlen)
		return 0;
	t = stats_line(log, len, "verification time", &tn);
	n = stats_line(log, len, "processed", &nn);
	w = snprintf(out, outlen, "%.*s; %.*s", tn, t, nn, n);
	if (w < 0) {
		out[0] = 0;
		return 0;
	}
	return (size_t)w < outlen ? (size_t)w : outlen - 1;
}

void ia_bpf_stats_end(struct bpf_object *obj, int ret)
{
	struct bpf_program *prog;
	char line[2 * IA_STATS_LOG];
	size_t size;

	if (!getenv("IA_BPF_STATS"))
		return;
	bpf_object__for_each_program(prog, obj) {
		const char *buf = bpf_program__log_buf(prog, &size);

		if (!buf || !bpf_program__autoload(prog))
			continue;
		ia_bpf_stats_summary(buf, size, line, sizeof(line));
		fprintf(stderr, "bpf-stats: %-28s %s\n", bpf_program__name(prog), line);
		free((void *)buf);
	}
	fprintf(stderr, "bpf-stats: load %s\n", ret ? "failed" : "done");
}

int ia_bpf_run_stats_begin(void)
{
	int fd;

	if (!getenv("IA_BPF_STATS"))
		return -1;
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0)
		fprintf(stderr, "bpf-stats: run-time statistics unavailable: %s\n", strerror(-fd));
	return fd < 0 ? -1 : fd;
}

void ia_bpf_run_stats(struct bpf_object *obj, int fd)
{
	struct bpf_program *prog;
	__u64 runs = 0, ns = 0;

	if (fd < 0)
		return;
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int pfd = bpf_program__fd(prog);

		if (pfd < 0 || bpf_obj_get_info_by_fd(pfd, &info, &len) || !info.run_cnt)
			continue;
		fprintf(stderr, "bpf-run: %-28s %10llu runs %8.0f ns/run %12.3f ms\n",
			bpf_program__name(prog), (unsigned long long)info.run_cnt,
			(double)info.run_time_ns / info.run_cnt, info.run_time_ns / 1e6);
		runs += info.run_cnt;
		ns += info.run_time_ns;
	}
	fprintf(stderr, "bpf-run: %-28s %10llu runs %8.0f ns/run %12.3f ms\n", "total",
		(unsigned long long)runs, runs ? (double)ns / runs : 0.0, ns / 1e6);
	close(fd);
}
