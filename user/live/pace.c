// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The reader's pace (live/pace.h). */
#include <errno.h>
#include <sys/resource.h>
#include "lib/clock.h"
#include "live/pace.h"

/* setpriority(PRIO_PROCESS, 0) sets the calling thread's nice on Linux
 * (nice is per thread): the reader's, not the microhttpd threads'. */
static int set_nice(int n)
{
	if (n < -20)
		n = -20;
	return setpriority(PRIO_PROCESS, 0, n) ? errno : 0;
}

void ia_pace_init(struct ia_pace *p)
{
	*p = (struct ia_pace){};
	errno = 0;
	p->base_nice = getpriority(PRIO_PROCESS, 0);
	if (errno)	/* -1 is also a nice: errno tells */
		p->base_nice = 0;
}

void ia_pace_update(struct ia_pace *p, __u64 pending, __u64 size)
{
	if (!size)
		return;
	if (pending > p->max_pending)
		p->max_pending = pending;
	if (!p->boosted && pending > size / IA_PACE_HIGH) {
		if (set_nice(p->base_nice - IA_PACE_BOOST)) {
			/* not privileged for it: the ring fills as before */
			p->refused++;
			return;
		}
		p->boosted = true;
		p->boosts++;
		p->since = ia_mono_s();
	} else if (p->boosted && pending < size / IA_PACE_LOW) {
		ia_pace_end(p);
	}
}

void ia_pace_end(struct ia_pace *p)
{
	if (p->boosted && !set_nice(p->base_nice)) {
		p->boosted = false;
		p->raised_s += ia_mono_s() - p->since;
	}
}
