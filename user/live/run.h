/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Running a live session for a while: until a duration elapses, a command
 * started after the hooks are attached exits, or SIGINT/SIGTERM arrives.
 * SIGHUP, when the caller asks for it, is handed to a callback in the
 * loop (a daemon reopening its log), not to a signal handler's context;
 * so is SIGUSR2 (a page-table snapshot on request).
 */
#ifndef IA_RUN_H
#define IA_RUN_H

#include <stddef.h>
#include "live/loader.h"

struct ia_run_opts {
	double duration;	/* seconds; 0: no limit */
	char **cmd;		/* argv of a command to run, or NULL */
	int status_every;	/* seconds between status callbacks; 0: never */
	void (*status)(void *ctx);
	void (*hup)(void *ctx);	/* SIGHUP arrived; NULL: SIGHUP stops the run */
	/* after each poll; a negative return (-errno) stops the run, failed */
	int (*tick)(void *ctx);
	/* a page-table snapshot (enum ia_snap_why): at the start (hooks
	 * attached, before the command), on SIGUSR2, every snap_every
	 * seconds, and at the end (after the last events were drained);
	 * NULL: none. Non-zero (-errno) stops the run with that error. */
	int (*snap)(void *ctx, __u32 why);
	double snap_every;
	void *ctx;
};

/* Exit status of the command (0..255, 128+signal), or -1 when none ran. */
struct ia_run_result {
	int cmd_status;
	int interrupted;	/* stopped by a signal */
};

/* 0, or -errno with a message in err (event callback failure, fork...). */
int ia_run(struct ia_session *s, const struct ia_run_opts *o,
	   struct ia_run_result *res, char *err, size_t errlen);

#endif
