/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Comparing two runs of the same workload, typically before and after a
 * kernel patch (`iommu-audit diff OLD NEW`).
 *
 * Devices are paired by name (the PCI address): struct device pointers
 * change across boots, names do not. A different driver, granule, domain
 * type or untrusted bit under the same name is flagged, not a new device.
 * Findings are paired by fingerprint (code, device, driver, call site), the
 * key `check --baseline` matches on, so the NEW findings that fail a diff
 * are the ones `check NEW --baseline <(iommu-audit -j check OLD)` fails on.
 *
 * Works on two finished checkers and points into their findings: free the
 * diff before the checkers.
 */
#ifndef IA_RUNDIFF_H
#define IA_RUNDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "check/checker.h"
#include "out/findings_out.h"

struct ia_json;

enum ia_diff_status {
	IA_DIFF_NEW,		/* in NEW only: a regression */
	IA_DIFF_FIXED,		/* in OLD only */
	IA_DIFF_CHANGED,	/* in both; count, exposed bytes or pages differ */
	IA_DIFF_UNCHANGED,
	IA_DIFF_STATUS_MAX,
};

/* struct ia_diff_dev.changed: context that differs between the runs */
#define IA_DIFF_DRIVER		(1u << 0)
#define IA_DIFF_GRANULE		(1u << 1)
#define IA_DIFF_DOMAIN_TYPE	(1u << 2)
#define IA_DIFF_UNTRUSTED	(1u << 3)
#define IA_DIFF_NR_CHANGES	4

struct ia_diff_dev {
	char name[IA_NAME_LEN];
	bool in_old, in_new;
	/* a run's rows of this name added up (a device removed and added
	 * again is a new struct device), with the last one's context;
	 * zero when not in that run */
	struct ia_check_dev old, new;
	__u32 changed;		/* IA_DIFF_* bits; 0 unless in both runs */
	bool differs;		/* in one run only, changed, or a total differs */
};

struct ia_diff_finding {
	enum ia_diff_status status;
	const struct ia_finding *old, *new;	/* NULL when not in that run */
	bool fails;		/* NEW, certain, at or above the fail level */
};

struct ia_diff_opts {
	int fail_level;			/* enum ia_severity */
	const char *const *devices;	/* compare only these device names */
	size_t nr_devices;		/* 0: all devices */
};

struct ia_rundiff {
	struct ia_diff_dev *devs;	/* sorted by name */
	size_t ndevs;
	/* NEW, then FIXED, CHANGED, UNCHANGED; each in first-seen order (of
	 * NEW's run, of OLD's for FIXED) */
	struct ia_diff_finding *findings;
	size_t nfindings;
	size_t count[IA_DIFF_STATUS_MAX];	/* findings per status */
	size_t failing;				/* findings that fail */
	size_t devs_differ;			/* devices with .differs */
};

/* Compare; 0, or -ENOMEM (*d then holds nothing to free). */
int ia_rundiff_build(struct ia_rundiff *d, const struct ia_checker *old,
		     const struct ia_checker *new, const struct ia_diff_opts *o);
void ia_rundiff_free(struct ia_rundiff *d);

/* NEW, FIXED, CHANGED or nothing at all differs: "no change". */
bool ia_rundiff_no_change(const struct ia_rundiff *d);

const char *ia_diff_status_str(enum ia_diff_status s);	/* "new", ... */
const char *ia_diff_change_str(__u32 bit);		/* "driver", ... */

/*
 * Output (rundiff_out.c): the device table, the NEW, FIXED and CHANGED
 * findings and a summary line; or all of it, UNCHANGED findings too, as
 * one JSON document. old and new describe the two runs.
 */
void ia_rundiff_print(FILE *out, const struct ia_rundiff *d, const struct ia_run_summary *old,
		      const struct ia_run_summary *new, int fail_level);
void ia_rundiff_json(struct ia_json *j, const struct ia_rundiff *d,
		     const struct ia_run_summary *old, const struct ia_run_summary *new,
		     int fail_level);

#endif
