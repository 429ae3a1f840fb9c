/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Writing a run's findings: human text, JSON Lines, JUnit XML and SARIF
 * 2.1.0, with the baseline (known findings by fingerprint) and the fail level
 * applied the same way for all of them.
 */
#ifndef IA_FINDINGS_OUT_H
#define IA_FINDINGS_OUT_H

#include <stdbool.h>
#include <stdio.h>
#include "check/checker.h"
#include "check/finding.h"
#include "lib/u64map.h"

enum ia_out_format {
	IA_OUT_TEXT,
	IA_OUT_JSON,	/* JSON Lines */
	IA_OUT_JUNIT,
	IA_OUT_SARIF,
};

/* Nothing may fail, yet the run is not the whole truth: events lost,
 * malformed records, or hooks missing (exit code 3). */
bool ia_run_incomplete(const struct ia_run_summary *s);

struct ia_check_dev;
struct ia_json;

/* A device's context and traffic as JSON members (driver .. pages_exposed),
 * inside an object the caller opened: `report -j` and `diff -j` write
 * the same names for the same totals. */
void ia_check_dev_json(struct ia_json *j, const struct ia_check_dev *d);

struct ia_baseline {
	struct ia_u64map fps;	/* fingerprint (hex parsed) -> 1 */
};

/*
 * Load fingerprints from FILE: the JSON Lines of an earlier `check -j` (the
 * "fingerprint" fields) or one 16-hex-digit fingerprint per line. 0, or -1
 * with a message in err.
 */
int ia_baseline_load(struct ia_baseline *b, const char *path, char *err, size_t errlen);
void ia_baseline_free(struct ia_baseline *b);
bool ia_baseline_has(const struct ia_baseline *b, const struct ia_finding *f);

/* Does f fail the run? certain, at or above fail_level, not in the baseline */
bool ia_finding_fails(const struct ia_finding *f, int fail_level, const struct ia_baseline *b);

/* Write every finding (baselined ones marked as such) and the summary. */
void ia_findings_write(FILE *out, enum ia_out_format fmt, const struct ia_finding *f,
		       size_t n, const struct ia_baseline *b, int fail_level,
		       const struct ia_run_summary *s);

int ia_out_format_parse(const char *s);	/* -1 if unknown */

/* The page-table oracle's account of a run (nothing for a trace without
 * snapshots): one text line, or an "oracle" object member. */
struct ia_json;
void ia_oracle_print(const struct ia_oracle_stats *o, FILE *out);
void ia_oracle_json(const struct ia_oracle_stats *o, struct ia_json *j);

#endif
