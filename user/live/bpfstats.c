// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE	/* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
