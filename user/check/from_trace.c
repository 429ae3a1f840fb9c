// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A trace file replayed into a new checker: the path `check`, `report` and
 * `diff` share, with the run summary (what the trace says about its own
 * completeness: events lost, malformed records, the coverage of the run that
 * recorded it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "check/shadow.h"
#include "live/coverage.h"
#include "trace/trace.h"

int ia_checker_replay(struct ia_trace_reader *r, const char *source, unsigned flags,
		      const char *sensitive,
		      struct ia_checker **ckp, struct ia_run_summary *s, char *err, size_t errlen)
{
	const struct ia_trace_stats *st;
	const struct ia_ev_hdr *rec;
	struct ia_checker *c = ia_checker_new();
	int ret;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (sensitive && ia_checker_set_sensitive(c, sensitive)) {
		ia_checker_free(c);
		snprintf(err, errlen, "--sensitive: list too long");
		return -EINVAL;
	}
	ia_checker_set_fold(c, !(flags & IA_CHECK_EACH));
	ia_checker_keep_maps(c, flags & IA_CHECK_MAPS ? IA_CHECK_MAPS_KEPT : 0);
	memset(s, 0, sizeof(*s));
	while ((ret = ia_trace_next(r, &rec)) == 1) {
		ia_checker_event(c, rec, rec->size);
		s->records++;
	}
	if (ret < 0) {
		snprintf(err, errlen, "%s", ia_trace_error(r));
		ia_checker_free(c);
		return ret;
	}
	st = ia_trace_stats(r);
	s->source = source;
	s->kernel = ia_trace_meta(r)->kernel_release;
	s->lost = st->lost[IA_DROP_RINGBUF] + st->lost[IA_DROP_INFLIGHT];
	s->malformed = c->malformed;
	s->incomplete_checks = ia_coverage_incomplete(ia_trace_meta(r));
	s->coverage_complete = !s->incomplete_checks;
	ia_checker_finish(c, s->lost);
	s->oracle = *ia_checker_oracle(c);
	*ckp = c;
	return 0;
}

int ia_checker_from_trace(const char *path, unsigned flags, const char *sensitive,
			  struct ia_checker **ckp,
			  struct ia_trace_reader **rp, struct ia_run_summary *s,
			  char *err, size_t errlen)
{
	int ret = ia_trace_open_ex(path, rp, err, errlen);

	if (ret)
		return ret;
	ret = ia_checker_replay(*rp, path, flags, sensitive, ckp, s, err, errlen);
	if (ret) {
		ia_trace_close(*rp);
		*rp = NULL;
	}
	return ret;
}
