/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Loading and attaching the BPF programs, and reading their events.
 *
 * A session picks the hooks the running kernel has (hooks.c), loads what it
 * can (a program the kernel refuses is dropped and reported, not fatal),
 * attaches exits before entries, and hands every ring-buffer record to a
 * callback. Nothing here prints findings: callers decide what to do with
 * events.
 */
#ifndef IA_LOADER_H
#define IA_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "live/hooks.h"
#include "event/ia_events.h"

#define IA_MAX_DEV_FILTERS_USER 8	/* = IA_MAX_DEV_FILTERS in BPF */

typedef int (*ia_event_fn)(void *ctx, const struct ia_ev_hdr *rec, size_t len);

struct ia_session_opts {
	const char *devices[IA_MAX_DEV_FILTERS_USER];	/* --device names */
	int nr_devices;
	__u32 ringbuf_mb;	/* 0: default */
	__u32 stack_map;	/* call-stack map entries; 0: default (16384) */
	int verbose;		/* 0, 1 (-v) or 2 (-vv: libbpf debug) */
	bool force_kprobes;	/* use the kprobe fallback even where fentry works */
	bool no_stacks;		/* skip call-stack capture (aggregate-only use) */
	bool full_stacks;	/* unwind every request, not once per call site */
	bool no_classify;	/* no page records (bpf/classify.bpf.c) */
	bool free_hooks;	/* memory freed while mapped (bpf/frees.bpf.c) */
	/* production mode (bpf/prod.bpf.c): only ia_prod_hooks[], counters
	 * in BPF maps (ia_session_prod_devs), records only for device
	 * context; with the bounds of its tables (0: the defaults) */
	bool production;
	__u32 prod_max_devices;
	bool untranslated_ok;	/* load even when no IOMMU group translates (coverage) */
	ia_event_fn on_event;
	void *ctx;
};

struct ia_session;

/*
 * Open, load and attach. NULL with a message in err when nothing usable could
 * be loaded (no BTF, no permission, no hook at all); partial coverage is not
 * an error: see ia_session_hooks().
 */
struct ia_session *ia_session_open(const struct ia_session_opts *o,
				   char *err, size_t errlen);

/*
 * Consume events for up to timeout_ms; returns events handled or -errno.
 * A negative value returned by on_event stops the poll and is returned.
 * A poll reads for at most IA_POLL_MS from its first record, so that a
 * caller's timers run while a workload keeps the ring full (loader.c).
 * The programs do not wake the reader per record, only when an eighth of
 * the ring waits: a record is read at most IA_POLL_MS after it was made
 * when the session is polled with that timeout (run.c does).
 */
#define IA_POLL_MS 100
int ia_session_poll(struct ia_session *s, int timeout_ms);

/* Per-hook outcome on this kernel; *n set to the count. */
const struct ia_hook_status *ia_session_hooks(const struct ia_session *s,
					      size_t *n);

/*
 * How the reader keeps up: the ring's size and the bytes written to it and
 * not read yet (its positions, mapped read-only), the polls cut short at
 * the read budget with records still waiting (the reader was behind), and
 * how often it raised its priority to catch up.
 * -ENODATA when the positions could not be mapped (ring_* then 0).
 */
struct ia_reader_stats {
	__u64 ring_size, ring_pending, reads_cut;
	/* times the reader fell behind and raised its priority, and raises
	 * the kernel refused (live/pace.h) */
	__u64 boosts, boosts_refused;
	__u64 max_pending;	/* the most bytes seen waiting after a read */
	double raised_s;	/* seconds the raises lasted */
};
int ia_session_reader(const struct ia_session *s, struct ia_reader_stats *r);

/* Sum of the per-CPU drop counters, indexed by enum ia_drop. */
int ia_session_drops(struct ia_session *s, __u64 lost[IA_DROP_MAX]);

/* Frames of a kernel stack id; returns the count (0 if unknown). */
int ia_session_stack(struct ia_session *s, __s32 id, __u64 *ips, int max);

/*
 * Production mode: each device's counters (the CPUs added up; the longest
 * window the longest of any CPU) handed to fn; and what did not fit in the
 * bounded tables, by enum ia_prod_overflow. 0 or -errno.
 */
typedef void (*ia_prod_dev_fn)(void *ctx, __u64 dev, const struct ia_prod_dev *c);
int ia_session_prod_devs(struct ia_session *s, ia_prod_dev_fn fn, void *ctx);
int ia_session_prod_overflow(struct ia_session *s, __u64 out[IA_PROD_OVF_MAX]);
/* ... and each call site's (the CPUs added up) */
typedef void (*ia_prod_site_fn)(void *ctx, const struct ia_prod_site_key *k,
				const struct ia_prod_site *v);
int ia_session_prod_sites(struct ia_session *s, ia_prod_site_fn fn, void *ctx);

void ia_session_close(struct ia_session *s);

#endif
