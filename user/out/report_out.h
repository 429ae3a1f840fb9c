/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `report`'s output, from a checked run (report_out.c). */
#ifndef IA_REPORT_OUT_H
#define IA_REPORT_OUT_H

#include <stdio.h>
#include "check/checker.h"
#include "trace/trace.h"

#define IA_REPORT_WORST_SITES	3	/* call sites listed per device */

struct ia_json;

void ia_report_text(FILE *out, const struct ia_check_dev *d, size_t nd,
		    const struct ia_finding *f, size_t nf, const struct ia_trace_meta *m);
/* The per-device table and the per-driver totals (text), and one device's
 * fields (JSON, inside its object): shared with `devices --production`. */
void ia_report_devices_text(FILE *out, const struct ia_check_dev *d, size_t nd);
void ia_report_device_json(struct ia_json *j, const struct ia_check_dev *d);
/* One JSON document on j (initialized by the caller), closed at the end. */
void ia_report_json(struct ia_json *j, const struct ia_check_dev *d, size_t nd,
		    const struct ia_finding *f, size_t nf, const struct ia_trace_meta *m);

#endif
