// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * trace-edit: derive a trace from a recorded one by dropping or changing
 * requests, for tests that need two runs that differ in known ways
 * (tools/make-diff-trace.sh makes tests/data/sample-after.trace with it).
 * The header, the hook coverage and the lost-event counts are kept; the
 * trailer is written anew, so the result is a valid trace.
 *
 * usage: trace-edit IN OUT [--drop ID]... [--size ID=BYTES]... [--drop-unmap IOVA]...
 *   --drop ID        drop request ID with everything it did: the records of
 *                    the requests nested in it, their page-table writes,
 *                    tracepoints, bounces, scatterlist walks, IOVA releases
 *   --size ID=BYTES  set the size of request ID (e.g. a wrong unmap size)
 *   --drop-unmap IOVA  drop the page-table removals at IOVA made outside any
 *                    request (and their iommu:unmap tracepoint): a removal no
 *                    hook saw, for the page-table oracle's lab test
 * An ID that names no request is an error: edits never miss silently.
 *
 * Built by `make .output/tools/trace-edit`; links user/trace.o only.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trace/trace.h"

#define MAX_EDITS	64

struct edits {
	__u64 drop[MAX_EDITS];
	size_t ndrop;
	struct { __u64 id, size; } size[MAX_EDITS];
	size_t nsize;
	__u64 unmap[MAX_EDITS];	/* --drop-unmap IOVAs */
	size_t nunmap, unmaps_dropped;
	/* the dropped requests: the --drop ids and every request nested in
	 * them, found by following parent ids */
	__u64 *gone;
	size_t ngone;
};

static bool is_gone(const struct edits *e, __u64 id)
{
	for (size_t i = 0; id && i < e->ngone; i++)
		if (e->gone[i] == id)
			return true;
	return false;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "trace-edit: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

/* Is id one of the nreq request ids? */
static bool has_req(const __u64 (*reqs)[2], size_t nreq, __u64 id)
{
	for (size_t k = 0; k < nreq; k++)
		if (reqs[k][0] == id)
			return true;
	return false;
}

/*
 * First pass: check that every edit names a request, and find the requests
 * nested in the dropped ones. A nested request's record comes before its
 * parent's, so the search repeats until it adds nothing.
 */
static int plan(const char *in, struct edits *e)
{
	__u64 (*reqs)[2] = NULL;	/* request id, parent id */
	size_t nreq = 0, cap = 0;
	const struct ia_ev_hdr *h;
	struct ia_trace_reader *r;
	char err[512];
	bool grew = true;
	int ret;

	if (!(r = ia_trace_open(in, err, sizeof(err))))
		return fail("%s", err);
	while ((ret = ia_trace_next(r, &h)) == 1) {
		if (h->type != IA_EV_REQ)
			continue;
		if (nreq == cap) {
			void *n = realloc(reqs, (cap = cap ? 2 * cap : 256) * sizeof(*reqs));

			if (!n) {
				ret = -1;
				break;
			}
			reqs = n;
		}
		reqs[nreq][0] = h->req_id;
		reqs[nreq++][1] = ((const struct ia_ev_req *)h)->parent_id;
	}
	/* a reader's error, or "" for out of memory */
	snprintf(err, sizeof(err), "%s", ret ? ia_trace_error(r) : "");
	ia_trace_close(r);
	if (!ret && !(e->gone = calloc(nreq + 1, sizeof(*e->gone))))
		ret = -1;
	for (size_t i = 0; !ret && i < e->nsize; i++)
		if (!has_req(reqs, nreq, e->size[i].id))
			ret = fail("--size %" PRIu64 ": no request has this id",
				   (uint64_t)e->size[i].id);
	for (size_t i = 0; !ret && i < e->ndrop; i++) {
		if (!has_req(reqs, nreq, e->drop[i]))
			ret = fail("--drop %" PRIu64 ": no request has this id",
				   (uint64_t)e->drop[i]);
		else if (!is_gone(e, e->drop[i]))
			e->gone[e->ngone++] = e->drop[i];
	}
	while (!ret && grew) {
		grew = false;
		for (size_t k = 0; k < nreq; k++)
			if (is_gone(e, reqs[k][1]) && !is_gone(e, reqs[k][0])) {
				e->gone[e->ngone++] = reqs[k][0];
				grew = true;
			}
	}
	free(reqs);
	if (ret < 0)
		return fail("%s", err[0] ? err : "out of memory");
	return ret;
}

/* A removal (or its tracepoint) outside any request at a --drop-unmap IOVA. */
static bool unattributed_unmap(const struct edits *e, const struct ia_ev_hdr *h)
{
	if ((h->type != IA_EV_PT_UNMAP && h->type != IA_EV_TP_UNMAP) || h->req_id)
		return false;
	for (size_t i = 0; i < e->nunmap; i++)
		if (((const struct ia_ev_pt *)h)->iova == e->unmap[i])
			return true;
	return false;
}

/* Second pass: copy what is kept, with the new sizes. */
static int rewrite(const char *in, const char *out, struct edits *e)
{
	union {
		struct ia_ev_hdr h;
		char buf[65536];
	} *rec = malloc(sizeof(*rec));
	struct ia_trace_writer *w = NULL;
	struct ia_trace_reader *r;
	const struct ia_ev_hdr *h;
	char err[512];
	int ret;

	if (!rec)
		return fail("out of memory");
	if (!(r = ia_trace_open(in, err, sizeof(err))) ||
	    !(w = ia_trace_create(out, ia_trace_meta(r), err, sizeof(err)))) {
		ia_trace_close(r);
		free(rec);
		return fail("%s", err);
	}
	while ((ret = ia_trace_next(r, &h)) == 1) {
		if (is_gone(e, h->req_id))
			continue;
		if (unattributed_unmap(e, h)) {
			e->unmaps_dropped++;
			continue;
		}
		memcpy(rec, h, h->size);
		for (size_t i = 0; h->type == IA_EV_REQ && i < e->nsize; i++)
			if (e->size[i].id == h->req_id)
				((struct ia_ev_req *)&rec->h)->size = e->size[i].size;
		if (ia_trace_write(w, &rec->h))
			break;
	}
	free(rec);
	if (ret < 0) {
		snprintf(err, sizeof(err), "%s", ia_trace_error(r));
		ret = -1;
	} else if (ret == 1) {
		snprintf(err, sizeof(err), "%s", ia_trace_writer_error(w));
		ret = -1;
	}
	if (ret) {
		ia_trace_discard(w);
		ia_trace_close(r);
		return fail("%s", err);
	}
	if (e->nunmap && !e->unmaps_dropped) {
		ia_trace_discard(w);
		ia_trace_close(r);
		return fail("--drop-unmap: no removal outside a request at those IOVAs");
	}
	ret = ia_trace_finish(w, ia_trace_stats(r)->lost, err, sizeof(err));
	ia_trace_close(r);
	return ret ? fail("%s", err) : 0;
}

int main(int argc, char **argv)
{
	struct edits e = { 0 };
	int ret;

	if (argc < 3)
		return fail("usage: trace-edit IN OUT [--drop ID]... [--size ID=BYTES]... "
			    "[--drop-unmap IOVA]...");
	for (int i = 3; i < argc; i++) {
		char *end;

		if (i + 1 >= argc || (e.ndrop + e.nsize + e.nunmap) >= MAX_EDITS)
			return fail("bad or too many edits at '%s'", argv[i]);
		if (!strcmp(argv[i], "--drop")) {
			e.drop[e.ndrop++] = strtoull(argv[++i], &end, 0);
			if (*end || !e.drop[e.ndrop - 1])
				return fail("--drop %s: not a request id", argv[i]);
		} else if (!strcmp(argv[i], "--size")) {
			e.size[e.nsize].id = strtoull(argv[++i], &end, 0);
			if (*end != '=' || !e.size[e.nsize].id)
				return fail("--size %s: ID=BYTES expected", argv[i]);
			e.size[e.nsize++].size = strtoull(end + 1, &end, 0);
			if (*end)
				return fail("--size %s: ID=BYTES expected", argv[i]);
		} else if (!strcmp(argv[i], "--drop-unmap")) {
			e.unmap[e.nunmap++] = strtoull(argv[++i], &end, 0);
			if (*end)
				return fail("--drop-unmap %s: not an IOVA", argv[i]);
		} else {
			return fail("unknown edit '%s'", argv[i]);
		}
	}
	ret = plan(argv[1], &e) || rewrite(argv[1], argv[2], &e);
	free(e.gone);
	return ret;
}
