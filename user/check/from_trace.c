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

int ia_checker_from_trace(const char *path, const char *sensitive, struct ia_checker **ckp,
			  struct ia_trace_reader **rp, struct ia_run_summary *s,
			  char *err, size_t errlen)
{
	const struct ia_trace_stats *st;
	const struct ia_ev_hdr *rec;
	struct ia_trace_reader *r;
	struct ia_checker *c;
	int ret = ia_trace_open_ex(path, &r, err, errlen);

	if (ret)
		return ret;
	c = ia_checker_new();
	if (!c) {
		ia_trace_close(r);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (sensitive && ia_checker_set_sensitive(c, sensitive)) {
		ia_checker_free(c);
		ia_trace_close(r);
		snprintf(err, errlen, "--sensitive: list too long");
		return -EINVAL;
	}
	memset(s, 0, sizeof(*s));
	while ((ret = ia_trace_next(r, &rec)) == 1) {
		ia_checker_event(c, rec, rec->size);
		s->records++;
	}
	if (ret < 0) {
		snprintf(err, errlen, "%s", ia_trace_error(r));
		ia_checker_free(c);
		ia_trace_close(r);
		return ret;
	}
	st = ia_trace_stats(r);
	s->source = path;
	s->kernel = ia_trace_meta(r)->kernel_release;
	s->lost = st->lost[IA_DROP_RINGBUF] + st->lost[IA_DROP_INFLIGHT];
	s->malformed = c->malformed;
	s->incomplete_checks = ia_coverage_incomplete(ia_trace_meta(r));
	s->coverage_complete = !s->incomplete_checks;
	ia_checker_finish(c, s->lost);
	*ckp = c;
	*rp = r;
	return 0;
}
