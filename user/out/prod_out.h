/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `devices --production`: the counters production mode keeps in BPF
 * (struct ia_prod_dev) as the device totals `report` gives for a recording
 * (struct ia_check_dev), named by the device records the run received, and
 * their output (text: report's table; JSON: report's device fields plus
 * the counters only production mode has).
 */
#ifndef IA_PROD_OUT_H
#define IA_PROD_OUT_H

#include <stdio.h>
#include "check/checker.h"
#include "check/devstats.h"
#include "live/hooks.h"
#include "trace/trace.h"

struct ia_json;

struct ia_prod_row {
	__u64 dev;			/* struct device * */
	struct ia_check_dev d;
	struct ia_prod_dev c;
};

/* A call site's exposure: the stacks whose first frame outside the DMA code
 * (ia_site_start()) is in the same function, added up, as report's worst
 * sites are by their first frame; named without its offset. */
struct ia_prod_siterow {
	__u64 dev;
	char site[IA_SYM_LEN];		/* "" when the stack is unknown */
	struct ia_prod_site v;
};

struct ia_prod_table {
	struct ia_prod_row *rows;
	size_t n, cap;
	struct ia_prod_siterow *sites;	/* ia_prod_table_read_sites() */
	size_t nsites, sites_cap;
	int oom;
	__u64 overflow[IA_PROD_OVF_MAX];
	__u64 records;		/* ring-buffer records the run received */
};

/* Add one device's counters; its name and context from ds (its device
 * records), "dev@ADDR" when none arrived. */
void ia_prod_table_add(struct ia_prod_table *t, const struct ia_devstats *ds, __u64 dev,
		       const struct ia_prod_dev *c);
void ia_prod_table_free(struct ia_prod_table *t);

struct ia_session;
/* Fill t (empty) from a production session's maps, named by ds; records
 * set from ds. 0 or -errno. */
int ia_prod_table_read(struct ia_prod_table *t, struct ia_session *s,
		       const struct ia_devstats *ds);
/* The rows as the checker's device totals, by name (caller frees), and
 * the bounded state as the checker's state (monitor's metrics). */
struct ia_check_dev *ia_prod_check_devs(struct ia_prod_table *t);
/* The per-call-site counters, each stack symbolized (/proc/kallsyms) and
 * named by its frames outside the DMA code. 0 or -errno. */
int ia_prod_table_read_sites(struct ia_prod_table *t, struct ia_session *s);
void ia_prod_state(const struct ia_prod_table *t, struct ia_checker_state *st);

/* The run's hooks (st, n) are printed with the table. */
void ia_prod_text(FILE *out, struct ia_prod_table *t, const struct ia_trace_meta *m,
		  const struct ia_hook_status *st, size_t n);
/* inside an open JSON object */
void ia_prod_json(struct ia_json *j, struct ia_prod_table *t,
		  const struct ia_hook_status *st, size_t n);

#endif
