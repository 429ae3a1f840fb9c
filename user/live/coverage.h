/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Coverage: which hooks are attached and which checks that makes complete.
 * Live runs and traces share one form, the hook list of the trace header,
 * so a report from a trace states the coverage of the run that recorded it.
 */
#ifndef IA_COVERAGE_H
#define IA_COVERAGE_H

#include <stdio.h>
#include "live/hooks.h"
#include "trace/trace.h"

struct ia_json;

/* Hook statuses of a live session -> the trace header's hook list. */
void ia_coverage_to_meta(const struct ia_hook_status *st, size_t n,
			 struct ia_trace_meta *m);

/* Checks left incomplete by the hooks of m that are not attached. */
__u32 ia_coverage_incomplete(const struct ia_trace_meta *m);

void ia_coverage_print(const struct ia_trace_meta *m, FILE *out, bool all);
void ia_coverage_json(const struct ia_trace_meta *m, struct ia_json *j);

#endif
