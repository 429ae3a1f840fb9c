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

/* Upper bounds (ns) of the lazy-flush window histogram's buckets, the last
 * bucket open-ended above them: the flush queue's timer is 10 ms
 * (IOVA_FQ_TIMEOUT), a full queue flushes sooner. */
#define IA_LAZY_BUCKETS	IA_LAZY_NBOUNDS	/* event/ia_events.h */
extern const __u64 ia_lazy_bounds_ns[IA_LAZY_BUCKETS];

/* Per-device totals for `report`. */
struct ia_check_dev {
	char name[IA_NAME_LEN];
	char driver[IA_NAME_LEN];
	__u32 domain_type;
	__u64 granule;
	bool untrusted;
	__u64 maps;		/* root map/alloc requests checked */
	__u64 failed;		/* root map/alloc requests that failed */
	__u64 bytes_requested;
	__u64 bytes_mapped;	/* page-table bytes written for them */
	__u64 bytes_exposed;	/* mapped, not requested, not another live buffer */
	__u64 pages_exposed;	/* of which whole unrelated CPU pages */
	__u64 live;		/* mappings live at the end */
	__u64 preexisting;	/* unmaps of mappings made before the recording */
	__u64 snapshot_unmaps;	/* ... that a page-table snapshot had shown */
	__u64 lazy_max_ns;	/* longest unmap-to-flush window seen */
	__u64 bytes_untrusted;	/* exposed by an untrusted device outside its bounce slots */
	__u64 lazy_windows;	/* lazy unmaps flushed */
	__u64 lazy_sum_ns;	/* their windows added up */
	__u64 lazy_hist[IA_LAZY_BUCKETS + 1];	/* by ia_lazy_bounds_ns; last: above all */
	bool classified;	/* page records seen (trace version 4) */
	__u64 kind_bytes[IA_PAGE_KIND_MAX];	/* bytes_exposed by enum ia_page_kind */
};

/* Add d's totals (counts, bytes, the histogram; the longest window) to
 * sum's; sum's name and context stay. */
void ia_check_dev_add(struct ia_check_dev *sum, const struct ia_check_dev *d);

/* Count one unmap-to-flush window of ns in d. */
void ia_lazy_observe(struct ia_check_dev *d, __u64 ns);

struct ia_checker *ia_checker_new(void);

/* Kinds whose exposure is an error (exposure.sensitive): a comma-separated
 * list of slab cache names and page kinds ("pgtable"); "" for none.
 * -1 when the list is too long. Default IA_SENSITIVE_DEFAULT. */
int ia_checker_set_sensitive(struct ia_checker *c, const char *list);
void ia_checker_free(struct ia_checker *c);

/*
 * Bounds on the state a run of any length keeps (`monitor`); 0 is
 * unbounded, the default (a trace is finite, and its findings must all be
 * listed). Set before the first event. Beyond a bound the checker counts
 * what it did not keep (ia_checker_state): a finding of a new fingerprint
 * is counted under its code only; a call stack is not stored (findings at
 * that site have none); a device is not tracked (its records are skipped);
 * the oldest unmapped handles are forgotten (a double unmap of one of them
 * is no longer told from an unmap of an unknown handle).
 */
struct ia_checker_limits {
	size_t findings;	/* distinct (folded) findings */
	size_t stacks;		/* call stacks */
	size_t devices;		/* devices */
	size_t unmapped;	/* per device, recently unmapped handles */
};
void ia_checker_set_limits(struct ia_checker *c, const struct ia_checker_limits *l);

/*
 * Root mappings as the device sees them, for pictures (report --format
 * html): the IOVA range the page tables received and where the request's
 * bytes and its exposure lie in it (placed at the handle: for a
 * scatterlist, its bytes end to end from its first segment). Off unless
 * asked for; then at most max per device (the first ones).
 */
struct ia_map_sample {
	__u64 dma, requested;		/* handle, bytes requested */
	__u64 iova_lo, iova_hi;		/* mapped IOVA range */
	__u64 head, tail;		/* exposed below / above the request */
	__u32 kind;			/* enum ia_req_kind */
};
void ia_checker_keep_maps(struct ia_checker *c, size_t max);
/* The samples of device i of ia_checker_devices(). */
const struct ia_map_sample *ia_checker_dev_maps(const struct ia_checker *c, size_t i,
						 size_t *n);

/* Occurrences per finding code, kept or not: codes are a fixed set. */
struct ia_code_count {
	const char *code;
	__u32 invariant, severity;	/* severity: the highest seen */
	__u64 count;			/* occurrences */
	__u64 distinct;			/* folded findings kept */
};
const struct ia_code_count *ia_checker_codes(const struct ia_checker *c, size_t *n);

/* How much state the checker holds, and what its limits made it drop. */
struct ia_checker_state {
	size_t findings, stacks, devices, domains, pending, live_maps, unmapped,
	       lazy_queued;
	__u64 findings_dropped;		/* occurrences not kept as findings */
	__u64 stacks_dropped, devices_dropped;
	__u64 pending_expired;		/* ia_checker_expire() */
	__u64 unmapped_forgotten;
	bool oom;
};
void ia_checker_state(const struct ia_checker *c, struct ia_checker_state *s);

/*
 * Housekeeping for a long live run, called periodically: drop the state of
 * requests pending since before the previous call. A request is pending
 * from its first page-table write to its record, microseconds; one pending
 * for a whole period lost its record (events lost) and would stay forever.
 * Returns how many were dropped.
 */
size_t ia_checker_expire(struct ia_checker *c);

/* Feed one record of len bytes. Records the checker does not need are
 * ignored; malformed ones are counted (ia_checker_malformed). */
void ia_checker_event(struct ia_checker *c, const struct ia_ev_hdr *rec, size_t len);

struct ia_trace_reader;

/*
 * The page-table oracle (docs/checks.md): snapshots of the IOMMU's own page
 * tables (IA_EV_PT_SNAP records) compared with the shadow page tables.
 */
struct ia_oracle_stats {
	__u64 snapshots;	/* complete snapshots (their END record seen) */
	__u64 absent;		/* ... made on a kernel without the dump */
	__u64 seeded;		/* device dumps taken as the starting state */
	__u64 compared;		/* device dumps compared with the shadow */
	__u64 differences;	/* differing ranges reported (oracle.* findings) */
	__u64 tolerated;	/* differing ranges written during the read */
	__u64 unresolved;	/* device dumps of devices the trace never named,
				 * or of a PASID's domain: not compared */
	__u64 skipped;		/* truncated dumps, or past the work bound */
};
const struct ia_oracle_stats *ia_checker_oracle(const struct ia_checker *c);

/* What a replayed run says about itself (ia_checker_from_trace). */
struct ia_run_summary {
	const char *source;	/* trace path, or "live" */
	const char *kernel;
	__u64 lost;		/* events lost */
	bool coverage_complete;
	__u32 incomplete_checks;	/* enum ia_check bits */
	__u64 records;
	__u64 malformed;
	struct ia_oracle_stats oracle;
};


/*
 * Open a trace, replay all its records into a new checker (flags:
 * IA_CHECK_*) and finish it
 * (with the trace's lost-event count). 0 with *ckp and *rp set (the reader
 * stays open for its header and stats; the caller frees both) and *s
 * describing the run: path, kernel (valid while the reader is), records,
 * events lost, malformed records, coverage. Or -ENOMEM, or a negative enum
 * ia_trace_result for a bad trace, with the message in err.
 */
/* sensitive: as ia_checker_set_sensitive(), NULL for the default */
int ia_checker_from_trace(const char *path, unsigned flags, const char *sensitive,
			  struct ia_checker **ckp,
			  struct ia_trace_reader **rp, struct ia_run_summary *s,
			  char *err, size_t errlen);

/* The same over a trace already open (the caller's, open or not after it):
 * ia_trace_open_mem() for a trace in memory. */
int ia_checker_replay(struct ia_trace_reader *r, const char *source, unsigned flags,
		      const char *sensitive, struct ia_checker **ckp,
		      struct ia_run_summary *s, char *err, size_t errlen);

/* ia_checker_from_trace() flags */
#define IA_CHECK_EACH	(1u << 0)	/* no folding: every occurrence is a
					 * finding of its own (count 1, its own
					 * request id), for differential tests */
#define IA_CHECK_MAPS	(1u << 1)	/* keep map samples for pictures
					 * (ia_checker_keep_maps) */
#define IA_CHECK_MAPS_KEPT	4096	/* ... this many per device */

/* Set before the first event: fold findings by fingerprint (default). */
void ia_checker_set_fold(struct ia_checker *c, bool fold);

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
/* Bytes the checker holds outside malloc: its object pools (lib/pool.h),
 * most of its memory with many live mappings. */
size_t ia_checker_pool_bytes(const struct ia_checker *c);

#endif
