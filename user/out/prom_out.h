/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Prometheus text exposition (format 0.0.4) of a checked run: per device
 * the checker's totals, a counter per finding code, and the run's own
 * health (events, lost per cause, coverage, hooks). Fed from check/ data
 * only, so a trace (`report --format prometheus`) and a live run
 * (`monitor`) give the same metrics for the same records.
 *
 * Names follow the Prometheus conventions: iommu_audit_ prefix, _total for
 * counters, _bytes and _seconds units, labels device, driver, code. Per
 * driver totals are not written apart: every device series carries its
 * driver label, `sum by (driver)` aggregates them.
 */
#ifndef IA_PROM_OUT_H
#define IA_PROM_OUT_H

#include <stdbool.h>
#include <stdio.h>
#include "check/checker.h"
#include "trace/trace.h"

struct ia_prom_run {
	const struct ia_trace_meta *meta;	/* kernel, version, hooks */
	const __u64 *lost;			/* [IA_DROP_MAX] */
	__u64 records, malformed;
	const struct ia_check_dev *devs;
	size_t ndevs;
	const struct ia_code_count *codes;
	size_t ncodes;
	const struct ia_checker_state *state;	/* NULL: not written */
	int programs;				/* BPF programs attached; < 0: unknown */
	double start_time;			/* Unix seconds; 0: not written */
	/* a live run's reader (loader.h ia_reader_stats); ring_size 0: not written */
	__u64 ring_size, ring_pending, reads_cut;
	__u64 reader_boosts;	/* the reader raised its priority (live/pace.h) */
};

/* Write the exposition; 0, or -EIO when out failed. */
int ia_prom_write(FILE *out, const struct ia_prom_run *r);

#endif
