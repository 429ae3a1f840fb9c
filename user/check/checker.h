/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The checker: replays event records (live or from a trace, in emission
 * order) into shadow state (per IOMMU domain, the page-table mappings; per
 * device, the live requests) and checks each invariant of DESIGN.md section 2
 * when a request completes. Findings with the same fingerprint are folded.
 *
 * Inside: shadow.c (state, the lower layer), replay.c (events in,
 * invariants called through their table, invariant.h), one inv_*.c per
 * invariant, from_trace.c (a trace file replayed). This interface is all a
 * command needs.
 */
#ifndef IA_CHECKER_H
#define IA_CHECKER_H

#include <stdbool.h>
#include <stddef.h>
#include "check/finding.h"
#include "event/ia_events.h"

struct ia_checker;

/* Per-device totals for `report`. */
struct ia_check_dev {
	char name[IA_NAME_LEN];
	char driver[IA_NAME_LEN];
	__u32 domain_type;
	__u64 granule;
	bool untrusted;
	__u64 maps;		/* root map/alloc requests checked */
	__u64 bytes_requested;
	__u64 bytes_mapped;	/* page-table bytes written for them */
	__u64 bytes_exposed;	/* mapped, not requested, not another live buffer */
	__u64 pages_exposed;	/* of which whole unrelated CPU pages */
	__u64 live;		/* mappings live at the end */
	__u64 preexisting;	/* unmaps of mappings made before the recording */
	__u64 lazy_max_ns;	/* longest unmap-to-flush window seen */
	bool classified;	/* page records seen (trace version 3) */
	__u64 kind_bytes[IA_PAGE_KIND_MAX];	/* bytes_exposed by enum ia_page_kind */
};

struct ia_checker *ia_checker_new(void);
void ia_checker_free(struct ia_checker *c);

/* Feed one record of len bytes. Records the checker does not need are
 * ignored; malformed ones are counted (ia_checker_malformed). */
void ia_checker_event(struct ia_checker *c, const struct ia_ev_hdr *rec, size_t len);

struct ia_trace_reader;

/* What a replayed run says about itself (ia_checker_from_trace). */
struct ia_run_summary {
	const char *source;	/* trace path, or "live" */
	const char *kernel;
	__u64 lost;		/* events lost */
	bool coverage_complete;
	__u32 incomplete_checks;	/* enum ia_check bits */
	__u64 records;
	__u64 malformed;
};


/*
 * Open a trace, replay all its records into a new checker and finish it
 * (with the trace's lost-event count). 0 with *ckp and *rp set (the reader
 * stays open for its header and stats; the caller frees both) and *s
 * describing the run: path, kernel (valid while the reader is), records,
 * events lost, malformed records, coverage. Or -ENOMEM, or a negative enum
 * ia_trace_result for a bad trace, with the message in err.
 */
/* Kinds whose exposure is an error (exposure.sensitive): a comma-separated
 * list of slab cache names and page kinds ("pgtable"); "" for none.
 * -1 when the list is too long. Default IA_SENSITIVE_DEFAULT. */
int ia_checker_set_sensitive(struct ia_checker *c, const char *list);

/* sensitive: as ia_checker_set_sensitive(), NULL for the default */
int ia_checker_from_trace(const char *path, const char *sensitive, struct ia_checker **ckp,
			  struct ia_trace_reader **rp, struct ia_run_summary *s,
			  char *err, size_t errlen);

/*
 * End of input: end-of-run findings (live mappings, unflushed lazy
 * unmaps); lost > 0 marks every finding a lost event could explain as
 * uncertain.
 */
void ia_checker_finish(struct ia_checker *c, __u64 lost);

/* Findings so far, in first-seen order. */
const struct ia_finding *ia_checker_findings(const struct ia_checker *c, size_t *n);

/* Index of the first finding added since *mark, updating *mark (live
 * printing: "what is new since I last looked"). */
size_t ia_checker_new_since(const struct ia_checker *c, size_t *mark);

const struct ia_check_dev *ia_checker_devices(const struct ia_checker *c, size_t *n);
__u64 ia_checker_malformed(const struct ia_checker *c);
/* Live mappings (root map requests not unmapped yet) in the shadow. */
size_t ia_checker_live_mappings(const struct ia_checker *c);

#endif
