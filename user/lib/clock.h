/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The monotonic clock in seconds: timers, timeouts and step times. */
#ifndef IA_CLOCK_H
#define IA_CLOCK_H

#include <time.h>

static inline double ia_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
