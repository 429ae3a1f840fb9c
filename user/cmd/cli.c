// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Helpers the subcommands share: error reporting and argument parsing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "cmd/cli.h"

int ia_fail(struct ia_cli *cli, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cli->json) {
		/* close whatever a command had open, then one error document */
		if (cli->j.depth > 0) {
			while (cli->j.depth > 1)	/* back to the top object */
				cli->j.kind[cli->j.depth] ? ia_json_arr_end(&cli->j) :
							    ia_json_obj_end(&cli->j);
			if (cli->j.after_key)	/* a key left without its value */
				ia_json_null(&cli->j);
			ia_json_key(&cli->j, "error");
			ia_json_str(&cli->j, msg);
			ia_json_close_all(&cli->j);
		} else {
			ia_json_init(&cli->j, stdout, cli->pretty);
			ia_json_obj_begin(&cli->j);
			ia_json_kstr(&cli->j, "error", msg);
			ia_json_close_all(&cli->j);
		}
	}
	fprintf(stderr, "iommu-audit: %s\n", msg);
	return code;
}

double ia_parse_duration(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	if (*end == 's' || *end == 0)
		;
	else if (*end == 'm')
		v *= 60;
	else if (*end == 'h')
		v *= 3600;
	else
		return -1;
	if (*end && end[1])
		return -1;
	return v;
}


int ia_parse_count(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (!s || *s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
