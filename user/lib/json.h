/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small streaming JSON writer (in the spirit of bpftool's json_writer):
 * it tracks nesting and commas, escapes strings, and can close every open
 * container so output stays valid JSON even when a command fails midway.
 */
#ifndef IA_JSON_H
#define IA_JSON_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#define IA_JSON_MAX_DEPTH 64	/* deeper containers are dropped whole */

struct ia_json {
	FILE *out;
	int depth;
	bool first[IA_JSON_MAX_DEPTH];	/* no element written yet at depth */
	bool kind[IA_JSON_MAX_DEPTH];	/* container at depth: true = array */
	bool after_key;			/* a key was written, value pending */
	bool pretty;
	int dropped;			/* open containers past the max depth:
					 * not written, and nothing inside them */
};

void ia_json_init(struct ia_json *j, FILE *out, bool pretty);
void ia_json_obj_begin(struct ia_json *j);
void ia_json_obj_end(struct ia_json *j);
void ia_json_arr_begin(struct ia_json *j);
void ia_json_arr_end(struct ia_json *j);
void ia_json_key(struct ia_json *j, const char *key);
void ia_json_str(struct ia_json *j, const char *s);
void ia_json_u64(struct ia_json *j, __u64 v);
void ia_json_s64(struct ia_json *j, __s64 v);
void ia_json_hex(struct ia_json *j, __u64 v);	/* "0x..." string */
void ia_json_bool(struct ia_json *j, bool v);
void ia_json_f64(struct ia_json *j, double v, int decimals);
void ia_json_null(struct ia_json *j);
/* Close every open container and end the line. */
void ia_json_close_all(struct ia_json *j);

/* key + value shorthands */
void ia_json_kstr(struct ia_json *j, const char *k, const char *s);
void ia_json_ku64(struct ia_json *j, const char *k, __u64 v);
void ia_json_ks64(struct ia_json *j, const char *k, __s64 v);
void ia_json_khex(struct ia_json *j, const char *k, __u64 v);
void ia_json_kbool(struct ia_json *j, const char *k, bool v);

#endif
