/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the subcommands share: global options, exit codes, messages. */
#ifndef IA_CLI_H
#define IA_CLI_H

#include <stdbool.h>
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

/* Parse "10", "2.5", "30s", "5m"; -1 when invalid. */
double ia_parse_duration(const char *s);

/* Parse a decimal count in [min, max] into *out: 0, or -1 when invalid. */
int ia_parse_count(const char *s, unsigned long min, unsigned long max, unsigned long *out);

#endif
