/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The binary trace file of `iommu-audit record -o FILE`.
 *
 * A trace is a header (host, clocks, hook coverage), the event records
 * exactly as the BPF programs emit them (struct ia_ev_* of ia_events.h), and
 * a trailer (counts, drops, CRC32 of the records). docs/trace-format.md
 * documents every byte and the versioning rule.
 *
 * No global state: every function works on the writer or reader it is given.
 * A writer or reader is used by one thread at a time.
 */
#ifndef IA_TRACE_H
#define IA_TRACE_H

#include <stddef.h>
#include <linux/types.h>
#include "event/ia_events.h"

/*
 * The format version this build writes, and the oldest it reads. Version 2
 * is version 1 plus one request kind (IA_REQ_GET_SGTABLE); version 3 adds
 * the record types IA_EV_IOVA and IA_EV_TP_DMA (so its trailer counts 14
 * types) and the hook state IA_HOOK_ABSENT; version 4 IA_EV_PAGE and
 * IA_EV_FREED (16); version 5 IA_EV_PT_SNAP (17), the page-table snapshots. Older traces read as they
 * always did.
 */
#define IA_TRACE_VERSION	5
#define IA_TRACE_VERSION_OLDEST	1

#define IA_TRACE_MAX_HOOKS	128	/* hooks in the header, at most */

/* Results. The CLI maps every negative one to exit code 2. */
enum ia_trace_result {
	IA_TRACE_OK		= 0,
	IA_TRACE_EIO		= -1,	/* open/read/write/fsync/close failed */
	IA_TRACE_ETRUNC		= -2,	/* file ends early, no trailer: the
					 * recording was probably interrupted */
	IA_TRACE_ECORRUPT	= -3,	/* not a trace, or damaged */
	IA_TRACE_EVERSION	= -4,	/* written by a newer format version */
	IA_TRACE_EINVAL		= -5,	/* caller passed an invalid meta/record */
	IA_TRACE_ENOMEM		= -6,
};

/* struct ia_trace_hook.state */
enum ia_hook_state {
	IA_HOOK_ATTACHED	= 1,	/* attached and live */
	IA_HOOK_MISSING		= 2,	/* target absent on this kernel */
	IA_HOOK_FAILED		= 3,	/* present but attach/load failed */
	IA_HOOK_ABSENT		= 4,	/* target absent, and with it the API it
					 * watches: nothing to miss (version 3) */
};

/* Does a hook in this state watch all it should (attached, or absent)? */
static inline int ia_hook_state_covers(__u32 state)
{
	return state == IA_HOOK_ATTACHED || state == IA_HOOK_ABSENT;
}

struct ia_trace_hook {
	char name[48];		/* NUL-terminated, e.g. "fexit/iommu_dma_map_page" */
	__u32 state;		/* enum ia_hook_state */
	char reason[76];	/* NUL-terminated: why missing/failed;
				 * free text when attached */
};

struct ia_trace_meta {
	char kernel_release[65];	/* uname -r */
	__u32 page_size;		/* CPU page size, bytes */
	char boot_id[37];		/* /proc/sys/kernel/random/boot_id */
	char hostname[65];
	char tool_version[32];		/* iommu-audit version that recorded */
	/*
	 * The same instant on both clocks: record hdr.ts_ns (CLOCK_MONOTONIC)
	 * is wall time start_realtime_ns + (ts_ns - start_monotonic_ns).
	 */
	__u64 start_realtime_ns;	/* CLOCK_REALTIME */
	__u64 start_monotonic_ns;	/* CLOCK_MONOTONIC */
	__u32 nr_hooks;			/* valid entries of hooks[] */
	struct ia_trace_hook hooks[IA_TRACE_MAX_HOOKS];
};

struct ia_trace_stats {
	__u64 records;			/* record count */
	__u64 bytes;			/* bytes of all records */
	__u32 crc32;			/* zlib crc32 of all record bytes */
	__u64 per_type[IA_EV_TYPE_MAX];	/* indexed by enum ia_ev_type; [0] = 0 */
	__u64 lost[IA_DROP_MAX];	/* indexed by enum ia_drop */
};

struct ia_trace_writer;
struct ia_trace_reader;

/* ---- host metadata ---- */

/*
 * Fill kernel_release, page_size, boot_id, hostname and the two start
 * clocks of *m from this host. Leaves tool_version and the hooks alone.
 * A field that cannot be read is left "" / 0 and the result is
 * IA_TRACE_EIO (the others are still filled); 0 when all were filled.
 */
int ia_trace_meta_fill_host(struct ia_trace_meta *m);

/*
 * Append a hook to m->hooks. name and reason (NULL: "") are truncated to
 * fit. 0, or IA_TRACE_EINVAL when the table is full or state is invalid.
 */
int ia_trace_meta_add_hook(struct ia_trace_meta *m, const char *name,
			   __u32 state, const char *reason);

/*
 * Size of the struct of a record type (the least hdr.size it may have), 0
 * for a type this version does not know. The one table every reader uses
 * (trace.c), looked up inline: the checker asks it for every record.
 */
extern const __u16 ia_ev_min_sizes[IA_EV_TYPE_MAX];

static inline size_t ia_ev_min_size(__u32 type)
{
	return type < IA_EV_TYPE_MAX ? ia_ev_min_sizes[type] : 0;
}

/* "attached", "missing", "failed", "absent", or "?" */
const char *ia_trace_hook_state_str(__u32 state);

/* "I/O error", "truncated", "corrupt", ... for an enum ia_trace_result */
const char *ia_trace_strerror(int code);

/*
 * Check one record against the format rules (hdr.size >= sizeof(struct
 * ia_ev_hdr), a multiple of 8, <= len; a type known to this version;
 * hdr.size >= the size of that type's struct). rec must point to at least
 * min(len, sizeof(struct ia_ev_hdr)) readable bytes. 0 or IA_TRACE_EINVAL
 * with the reason in err. ia_trace_write() applies the same check; use this
 * on a ring-buffer sample of len bytes before passing it on.
 */
int ia_trace_check_record(const void *rec, size_t len, char *err,
			  size_t errlen);

/* ---- writer ---- */

/*
 * Create (or truncate) the regular file path with mode 0600, enforced with
 * fchmod also when it existed, and write the header for meta (copied).
 * NULL on failure, with the message in err (errlen may be 0).
 */
struct ia_trace_writer *ia_trace_create(const char *path,
					const struct ia_trace_meta *meta,
					char *err, size_t errlen);

/*
 * Append one record: rec->size bytes starting at rec, copied into a buffer.
 * 0; IA_TRACE_EINVAL for a record that breaks the format rules (not written;
 * the writer stays usable); IA_TRACE_EIO when writing failed (sticky: every
 * later call fails too). ia_trace_writer_error() has the message.
 */
int ia_trace_write(struct ia_trace_writer *w, const struct ia_ev_hdr *rec);

/* Write buffered records to the file (no fsync). 0 or IA_TRACE_EIO. */
int ia_trace_flush(struct ia_trace_writer *w);

/*
 * The same when the oldest buffered record is max_age_s old or more (else
 * 0 at once): a recording killed (SIGKILL, a crash) loses at most that
 * much, not a whole buffer.
 */
#define IA_TRACE_FLUSH_S 1.0
int ia_trace_flush_due(struct ia_trace_writer *w, double max_age_s);

/* The message of the last failed call on w; "" when none failed. */
const char *ia_trace_writer_error(const struct ia_trace_writer *w);

/*
 * Write the trailer (lost: drop counts indexed by enum ia_drop; NULL: none),
 * fsync, close and free w, also when it fails. 0, or a negative
 * enum ia_trace_result with the message in err.
 */
int ia_trace_finish(struct ia_trace_writer *w, const __u64 lost[IA_DROP_MAX],
		    char *err, size_t errlen);

/*
 * Close and free w without a trailer (error paths): the file reads as
 * truncated. NULL is ignored.
 */
void ia_trace_discard(struct ia_trace_writer *w);

/*
 * The same after a run that stopped on an error, its message in err: when
 * writing w is what failed (a full disk: the callbacks then stop the run
 * with -EIO, which says nothing), err gets the writer's own message, e.g.
 * "run.trace: write failed: No space left on device", and what is left.
 */
void ia_trace_abandon(struct ia_trace_writer *w, char *err, size_t errlen);

/* ---- reader ---- */

/*
 * Open a trace (a regular file, or a pipe; anything else is refused, and a
 * FIFO without a writer never blocks the open) and read its header. NULL on
 * failure with the message, which starts with the path, in err.
 * ia_trace_open_ex() also gives the enum ia_trace_result: it returns 0 and
 * sets *rp, or returns < 0 and sets *rp = NULL.
 */
struct ia_trace_reader *ia_trace_open(const char *path, char *err,
				      size_t errlen);
int ia_trace_open_ex(const char *path, struct ia_trace_reader **rp,
		     char *err, size_t errlen);
/* The same over len bytes at buf (kept by the caller until the close), named
 * name in messages: a trace parsed from memory (the fuzz harnesses). */
int ia_trace_open_mem(const void *buf, size_t len, const char *name,
		      struct ia_trace_reader **rp, char *err, size_t errlen);

/* The header, valid until ia_trace_close(). */
const struct ia_trace_meta *ia_trace_meta(const struct ia_trace_reader *r);

/*
 * Next record: 1 with *rec pointing at hdr.size bytes (8-byte aligned, valid
 * until the next call); 0 at the clean end, the trailer verified; < 0 on an
 * error (enum ia_trace_result, message in ia_trace_error(), which starts
 * with the path). After 0 or an error every further call returns the same.
 *
 * ia_trace_open() fails on a bad header only: a file cut short after its
 * header (no trailer) yields its complete records, then IA_TRACE_ETRUNC with
 * how many were readable; damage found in records or trailer gives
 * IA_TRACE_ECORRUPT where it is found, CRC and count mismatches at the end.
 *
 * Records are framed and type-checked but their contents are only known to
 * be intact (CRC) once this returned 0: a consumer must bounds-check payload
 * fields (e.g. ia_ev_sg.count) itself and must not trust its results if it
 * stops with an error.
 */
int ia_trace_next(struct ia_trace_reader *r, const struct ia_ev_hdr **rec);

/* The message of the error ia_trace_next() returned; "" when none. */
const char *ia_trace_error(const struct ia_trace_reader *r);

/* The trailer's statistics, verified; NULL until ia_trace_next() returned 0. */
const struct ia_trace_stats *ia_trace_stats(const struct ia_trace_reader *r);

/* NULL is ignored. */
void ia_trace_close(struct ia_trace_reader *r);

#endif /* IA_TRACE_H */
