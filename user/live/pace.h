/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The reader's pace. The programs fill one ring buffer that one thread
 * drains; a workload that keeps every CPU busy (four dma_map_benchmark
 * threads on two CPUs) leaves that thread its fair share of a CPU and no
 * more, and when the records come faster than that share reads them, the
 * ring fills and records are lost. A safety net: the losses that 4
 * benchmark threads did make (docs/benchmarks.md, "The reader's first
 * stack") were the reader's stop at its first stack, to read the kernel's
 * symbols (stackrec.h), which no priority shortens. So a reader that has
 * fallen behind (a quarter of the ring waiting after a read: twice the
 * level at which the programs wake it) raises its own priority, nice
 * IA_PACE_BOOST below where it started, until it has caught up (a 32nd
 * waiting): CPU taken from the workload only while records are at risk,
 * and given back.
 * Under CFS a task at nice -10 weighs 9.3 times one at 0, so it takes
 * about 80% of a CPU shared with two busy threads.
 */
#ifndef IA_LIVE_PACE_H
#define IA_LIVE_PACE_H

#include <stdbool.h>
#include <linux/types.h>

#define IA_PACE_BOOST	10	/* nice steps raised while behind */
#define IA_PACE_HIGH	4	/* behind: more than size / IA_PACE_HIGH waits */
#define IA_PACE_LOW	32	/* caught up: less than size / IA_PACE_LOW */

struct ia_pace {
	int base_nice;		/* the reader's nice when it started */
	bool boosted;		/* raised now */
	__u64 boosts;		/* times it fell behind and was raised */
	__u64 refused;		/* raises refused */
	__u64 max_pending;	/* the most seen waiting after a read */
	double since;		/* when the raise began (ia_mono_s()) */
	double raised_s;	/* seconds raised, the raises ended so far */
};

void ia_pace_init(struct ia_pace *p);
/* After a read: pending of size bytes still wait in the ring. */
void ia_pace_update(struct ia_pace *p, __u64 pending, __u64 size);
/* Back to the starting priority (the session ends). */
void ia_pace_end(struct ia_pace *p);

#endif /* IA_LIVE_PACE_H */
