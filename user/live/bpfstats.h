/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IA_BPF_STATS=1 (a developer's knob, docs/benchmarks.md): each program's
 * verifier statistics (BPF_LOG_STATS: its verification time and the
 * instructions it processed) and the load's wall time, on stderr. The
 * verifier is most of a `record`'s start-up under TCG.
 */
#ifndef IA_BPFSTATS_H
#define IA_BPFSTATS_H

#include <stddef.h>

struct bpf_object;

/* With IA_BPF_STATS set: a statistics log buffer for each program to load. */
void ia_bpf_stats_begin(struct bpf_object *obj);
/* ... and after the load (ret its result): one line per program, buffers freed. */
void ia_bpf_stats_end(struct bpf_object *obj, int ret);

/*
 * With IA_BPF_STATS set: the kernel's run-time statistics on (BPF_ENABLE_STATS:
 * each program run is timed, which itself costs two clock reads per run, so
 * a run measured so is not one to time overall); returns the fd that keeps
 * them on, or -1. ia_bpf_run_stats() then prints, per attached program, its
 * runs and mean ns per run, and closes the fd.
 */
int ia_bpf_run_stats_begin(void);
void ia_bpf_run_stats(struct bpf_object *obj, int fd);

/*
 * The summary of one verifier log (the kernel's text, size bytes of buffer,
 * NUL-terminated or not): "<verification time line>; <processed line>",
 * each part empty when the log lacks it, into out (always terminated).
 * Returns the length written.
 */
size_t ia_bpf_stats_summary(const char *log, size_t size, char *out, size_t outlen);

#endif
