// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The trace reader, the checker and every output writer on one input: a
 * trace file in memory (ia_trace_open_mem). A bad trace must be refused with
 * a message; a good one checked and written as text, JSON Lines, JUnit,
 * SARIF, `report` (text and JSON) and `devices -i` (text and JSON), the
 * JSON ones valid whatever the records say. ASan, UBSan and libFuzzer's
 * leak and timeout checks do the rest.
 */
#include <stdint.h>
#include "check/checker.h"
#include "check/devstats.h"
#include "lib/json.h"
#include "out/findings_out.h"
#include "out/report_out.h"
#include "trace/trace.h"
#include "fuzz_util.h"

static void write_findings(struct ia_checker *ck, const struct ia_run_summary *s)
{
	static const enum ia_out_format fmts[] = { IA_OUT_TEXT, IA_OUT_JSON, IA_OUT_JUNIT,
						   IA_OUT_SARIF };
	size_t n;
	const struct ia_finding *f = ia_checker_findings(ck, &n);

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct fz_out o;
		const char *text;

		ia_findings_write(fz_begin(&o), fmts[i], f, n, NULL, IA_SEV_INFO, s);
		text = fz_end(&o);
		if (fmts[i] == IA_OUT_JSON)
			fz_json_lines(text, "check -j: JSON Lines");
		else if (fmts[i] == IA_OUT_SARIF)
			fz_json_doc(text, "check --format sarif: one JSON document");
		fz_free(&o);
	}
}

static void write_report(struct ia_checker *ck, const struct ia_trace_meta *m)
{
	size_t nd, nf;
	const struct ia_check_dev *d = ia_checker_devices(ck, &nd);
	const struct ia_finding *f = ia_checker_findings(ck, &nf);
	struct ia_json j;
	struct fz_out o;

	ia_report_text(fz_begin(&o), d, nd, f, nf, m);
	fz_end(&o);
	fz_free(&o);
	ia_json_init(&j, fz_begin(&o), false);
	ia_report_json(&j, d, nd, f, nf, m);
	fz_json_doc(fz_end(&o), "report -j: one JSON document");
	fz_free(&o);
}

static void check_trace(const uint8_t *data, size_t size)
{
	struct ia_trace_reader *r;
	struct ia_run_summary s;
	struct ia_checker *ck;
	char err[512];

	if (ia_trace_open_mem(data, size, "fuzz.trace", &r, err, sizeof(err))) {
		fz_require(err[0] != 0, "a refused trace says why", "");
		return;
	}
	if (ia_checker_replay(r, "fuzz.trace", 0, NULL, &ck, &s, err, sizeof(err))) {
		fz_require(err[0] != 0, "a bad record says why", "");
	} else {
		write_findings(ck, &s);
		write_report(ck, ia_trace_meta(r));
		ia_checker_free(ck);
	}
	ia_trace_close(r);
}

/* `devices -i`: the per-device table, from the records as they come. */
static void device_table(const uint8_t *data, size_t size)
{
	struct ia_trace_reader *r;
	const struct ia_ev_hdr *rec;
	struct ia_devstats ds;
	struct ia_json j;
	struct fz_out o;
	char err[512];

	if (ia_trace_open_mem(data, size, "fuzz.trace", &r, err, sizeof(err)))
		return;
	ia_devstats_init(&ds);
	while (ia_trace_next(r, &rec) == 1)
		ia_devstats_add(&ds, rec, rec->size);
	ia_devstats_print(&ds, fz_begin(&o));
	fz_end(&o);
	fz_free(&o);
	ia_json_init(&j, fz_begin(&o), false);
	ia_json_obj_begin(&j);
	ia_devstats_json(&ds, &j);
	ia_json_close_all(&j);
	fz_json_doc(fz_end(&o), "devices -j: one JSON document");
	fz_free(&o);
	ia_devstats_free(&ds);
	ia_trace_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_trace(data, size);
	device_table(data, size);
	return 0;
}
