// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <math.h>
#include "lib/json.h"

void ia_json_init(struct ia_json *j, FILE *out, bool pretty)
{
	j->out = out;
	j->depth = 0;
	j->first[0] = true;
	j->after_key = false;
	j->pretty = pretty;
	j->dropped = 0;
}

static void indent(struct ia_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->out);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

/* Separator before a value or a key at the current depth. */
static void sep(struct ia_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->out);
	if (j->depth > 0)
		indent(j);
	j->first[j->depth] = false;
}

static void open_c(struct ia_json *j, char c)
{
	if (j->dropped || j->depth >= IA_JSON_MAX_DEPTH - 1) {
		/* too deep to track: leave the container out, keep what is
		 * written valid (a pending key gets null) */
		if (!j->dropped && j->after_key) {
			fputs("null", j->out);
			j->after_key = false;
		}
		j->dropped++;
		return;
	}
	sep(j);
	fputc(c, j->out);
	j->depth++;
	j->first[j->depth] = true;
	j->kind[j->depth] = c == '[';
}

static void close_c(struct ia_json *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->dropped) {
		j->dropped--;
		return;
	}
	if (j->after_key) {	/* a key without its value: give it null */
		fputs("null", j->out);
		j->after_key = false;
	}

	if (j->depth > 0)
		j->depth--;
	if (!empty)
		indent(j);
	fputc(c, j->out);
}

void ia_json_obj_begin(struct ia_json *j) { open_c(j, '{'); }
void ia_json_obj_end(struct ia_json *j) { close_c(j, '}'); }
void ia_json_arr_begin(struct ia_json *j) { open_c(j, '['); }
void ia_json_arr_end(struct ia_json *j) { close_c(j, ']'); }

static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (c < 0x20 || c >= 0x7f)	/* keep output ASCII */
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

void ia_json_key(struct ia_json *j, const char *key)
{
	if (j->dropped)
		return;
	sep(j);
	put_str(j->out, key);
	fputs(j->pretty ? ": " : ":", j->out);
	j->after_key = true;
}

void ia_json_str(struct ia_json *j, const char *s) { if (j->dropped) return; sep(j); put_str(j->out, s); }
void ia_json_u64(struct ia_json *j, __u64 v) { if (j->dropped) return; sep(j); fprintf(j->out, "%" PRIu64, (uint64_t)v); }
void ia_json_s64(struct ia_json *j, __s64 v) { if (j->dropped) return; sep(j); fprintf(j->out, "%" PRId64, (int64_t)v); }
void ia_json_bool(struct ia_json *j, bool v) { if (j->dropped) return; sep(j); fputs(v ? "true" : "false", j->out); }
void ia_json_f64(struct ia_json *j, double v, int decimals)
{
	if (j->dropped)
		return;
	sep(j);
	if (isfinite(v))
		fprintf(j->out, "%.*f", decimals, v);
	else
		fputs("null", j->out);	/* JSON has no NaN or infinity */
}
void ia_json_null(struct ia_json *j) { if (j->dropped) return; sep(j); fputs("null", j->out); }

void ia_json_hex(struct ia_json *j, __u64 v)
{
	if (j->dropped)
		return;
	sep(j);
	fprintf(j->out, "\"0x%" PRIx64 "\"", (uint64_t)v);
}

void ia_json_close_all(struct ia_json *j)
{
	j->dropped = 0;
	if (j->after_key) {
		fputs("null", j->out);
		j->after_key = false;
	}
	while (j->depth > 0)
		close_c(j, j->kind[j->depth] ? ']' : '}');
	fputc('\n', j->out);
	fflush(j->out);
}

void ia_json_kstr(struct ia_json *j, const char *k, const char *s) { ia_json_key(j, k); ia_json_str(j, s); }
void ia_json_ku64(struct ia_json *j, const char *k, __u64 v) { ia_json_key(j, k); ia_json_u64(j, v); }
void ia_json_ks64(struct ia_json *j, const char *k, __s64 v) { ia_json_key(j, k); ia_json_s64(j, v); }
void ia_json_khex(struct ia_json *j, const char *k, __u64 v) { ia_json_key(j, k); ia_json_hex(j, v); }
void ia_json_kbool(struct ia_json *j, const char *k, bool v) { ia_json_key(j, k); ia_json_bool(j, v); }
