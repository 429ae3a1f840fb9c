/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the subcommands share: global options, exit codes, messages. */
#ifndef IA_CLI_H
#define IA_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include "lib/json.h"

/* Exit codes (documented in docs/iommu-audit.8.md and in --help). */
enum ia_exit {
	IA_EXIT_OK		= 0,	/* success, nothing to report */
	IA_EXIT_FAILURE		= 1,	/* a runtime failure (BPF load, I/O) */
	IA_EXIT_FINDINGS	= 1,	/* findings at or above --fail-on */
	IA_EXIT_USAGE		= 2,	/* bad arguments or bad input file */
	IA_EXIT_INCOMPLETE	= 3,	/* events lost or coverage missing */
};

struct ia_cli {
	bool json;		/* -j: JSON output */
	bool pretty;		/* -p: indented JSON */
	int verbose;		/* -v / -vv */
	bool force_kprobes;	/* --force-kprobes */
	bool parse_only;	/* stop once the arguments are checked, before
				 * opening anything (tests/fuzz/fuzz_args.c) */
	struct ia_json j;	/* used when json */
};

struct ia_cmd {
	const char *name;
	int (*fn)(struct ia_cli *cli, int argc, char **argv);
	const char *summary;
};

int cmd_record(struct ia_cli *cli, int argc, char **argv);
int cmd_devices(struct ia_cli *cli, int argc, char **argv);
int cmd_coverage(struct ia_cli *cli, int argc, char **argv);
int cmd_dump(struct ia_cli *cli, int argc, char **argv);
int cmd_check(struct ia_cli *cli, int argc, char **argv);
int cmd_live(struct ia_cli *cli, int argc, char **argv);
int cmd_report(struct ia_cli *cli, int argc, char **argv);
int cmd_diff(struct ia_cli *cli, int argc, char **argv);
int cmd_monitor(struct ia_cli *cli, int argc, char **argv);

/*
 * Report an error: as {"error": "..."} in JSON mode (keeping the document
 * valid), else "iommu-audit: ..." on stderr. Returns code.
 */
int ia_fail(struct ia_cli *cli, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Global options, then the command: what main() does (parse_only in cli
 * is kept). The exit code. */
int ia_dispatch(struct ia_cli *cli, int argc, char **argv);

/* A usage error: the command's usage on stderr, then ia_fail(). Exit 2. */
int ia_usage_error(struct ia_cli *cli, void (*usage)(FILE *), const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * What getopt_long() returned for a bad option ('?': unknown; ':': its
 * value missing; optstrings start with ':', after a '+'), as a usage error
 * naming the option. opterr is 0: getopt prints nothing itself.
 */
int ia_bad_option(struct ia_cli *cli, void (*usage)(FILE *), int c, char **argv);

/*
 * Every number an option takes goes through these (strict: decimal digits
 * only, no sign, no space, nothing after, no overflow; nan and inf are no
 * durations). 0, or -1 when s is not one in [min, max].
 */
int ia_parse_uint(const char *s, unsigned long long min, unsigned long long max,
		  unsigned long long *out);
/* "10", "2.5", "30s", "5m", "1h": seconds in (0, IA_MAX_DURATION]. */
int ia_parse_duration(const char *s, double *out);
#define IA_MAX_DURATION	(366.0 * 24 * 3600)	/* a year */

struct ia_session_opts;
/* The live options record, devices and live share (usage errors: exit 2). */
int ia_opt_duration(struct ia_cli *cli, const char *arg, double *out);
int ia_opt_status(struct ia_cli *cli, const char *arg, int *out);
int ia_opt_device(struct ia_cli *cli, struct ia_session_opts *so, const char *arg);

#endif
