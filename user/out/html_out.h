/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `report --format html`: one self-contained page (inline CSS and SVG, no
 * script, nothing fetched): the run header, the device table with totals
 * (the numbers of `report -j`), per device an IOVA map of what was
 * requested, mapped and exposed and the exposed bytes per call site, the
 * findings with their call stacks, and the coverage.
 *
 * Elements carry classes and data- attributes (tr.dev[data-name], td.maps,
 * ...) so that a test can read the page's numbers back from its DOM.
 */
#ifndef IA_HTML_OUT_H
#define IA_HTML_OUT_H

#include <stdio.h>
#include "check/checker.h"
#include "trace/trace.h"

struct ia_html_run {
	const struct ia_trace_meta *meta;
	const struct ia_run_summary *summary;
	const struct ia_checker *ck;		/* map samples (may be NULL) */
	const struct ia_check_dev *devs;
	size_t ndevs;
	const struct ia_finding *findings;
	size_t nfindings;
};

/* 0, or -EIO when out failed. */
int ia_html_report(FILE *out, const struct ia_html_run *r);

struct ia_rundiff;

/* `diff --format html`: both runs' headers, per device the totals of
 * both runs and the delta (tr.dev[data-name] with td.old / td.new /
 * td.delta cells), then the NEW, FIXED and CHANGED findings with their
 * call stacks (tr.finding[data-status]). 0, or -EIO. */
int ia_html_diff(FILE *out, const struct ia_rundiff *d, const struct ia_run_summary *old,
		 const struct ia_run_summary *new);

#endif
