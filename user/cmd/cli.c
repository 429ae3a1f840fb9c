// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Helpers the subcommands share: error reporting and argument parsing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/cli.h"
#include "event/ia_events.h"
#include "live/loader.h"

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

int ia_usage_error(struct ia_cli *cli, void (*usage)(FILE *), const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (usage)
		usage(stderr);
	return ia_fail(cli, IA_EXIT_USAGE, "%s", msg);
}

int ia_bad_option(struct ia_cli *cli, void (*usage)(FILE *), int c, char **argv)
{
	/* optind is past the bad argument (or past a missing value) */
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	char opt[64];

	if (!strncmp(arg, "--", 2))	/* a long option: its name, without "=value" */
		snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(arg, "="), arg);
	else
		snprintf(opt, sizeof(opt), "-%c", optopt ? optopt : '?');
	if (c == ':')
		return ia_usage_error(cli, usage, "option %s needs a value", opt);
	return ia_usage_error(cli, usage, "unknown option %s (or a value it does not take)", opt);
}

int ia_parse_uint(const char *s, unsigned long long min, unsigned long long max,
		  unsigned long long *out)
{
	unsigned long long v = 0;

	if (!s || !*s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (ULLONG_MAX - (unsigned)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int ia_parse_duration(const char *s, double *out)
{
	size_t digits = strspn(s, "0123456789"), frac = 0, n;
	double v, unit = 1;
	char num[64];

	/* digits, optionally a fraction, optionally one unit: nothing else
	 * (strtod alone takes nan, inf, hex, exponents and leading spaces) */
	if (s[digits] == '.')
		frac = strspn(s + digits + 1, "0123456789") + 1;
	n = digits + frac;
	if (!digits || frac == 1 || n >= sizeof(num))
		return -1;
	switch (s[n]) {
	case 0: case 's': break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	default: return -1;
	}
	if (s[n] && s[n + 1])
		return -1;
	memcpy(num, s, n);
	num[n] = 0;
	v = strtod(num, NULL) * unit;
	if (!(v > 0) || v > IA_MAX_DURATION)	/* also false for nan */
		return -1;
	*out = v;
	return 0;
}

int ia_opt_duration(struct ia_cli *cli, const char *arg, double *out)
{
	if (ia_parse_duration(arg, out))
		return ia_usage_error(cli, NULL, "bad --duration '%s': seconds (or 30s, 5m, 1h), "
				      "more than 0 and at most a year", arg);
	return 0;
}

int ia_opt_status(struct ia_cli *cli, const char *arg, int *out)
{
	unsigned long long v;

	if (ia_parse_uint(arg, 1, 86400, &v))
		return ia_usage_error(cli, NULL, "bad --status '%s': whole seconds from 1 to 86400",
				      arg);
	*out = (int)v;
	return 0;
}

int ia_opt_device(struct ia_cli *cli, struct ia_session_opts *so, const char *arg)
{
	if (so->nr_devices >= IA_MAX_DEV_FILTERS_USER)
		return ia_usage_error(cli, NULL, "at most %d --device", IA_MAX_DEV_FILTERS_USER);
	/* the BPF filter compares dev_name() with names of IA_NAME_LEN - 1 */
	if (!*arg || strlen(arg) >= IA_NAME_LEN)
		return ia_usage_error(cli, NULL, "bad --device '%s': a device name (dev_name(), "
				      "e.g. 0000:00:03.0) of 1 to %d characters", arg,
				      IA_NAME_LEN - 1);
	so->devices[so->nr_devices++] = arg;
	return 0;
}
