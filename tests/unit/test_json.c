// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the streaming JSON writer (user/lib/json.c): each case writes
 * into a memory stream and compares the exact text.
 */
#define _GNU_SOURCE
#include <float.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/json.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

struct mem {
	FILE *f;
	char *buf;
	size_t len;
};

/*
 * One memory stream at a time, global so that the teardown can release it
 * when a failed assertion has left the test midway.
 */
static struct mem g_mem;

static void mem_open(void)
{
	g_mem.buf = NULL;
	g_mem.len = 0;
	g_mem.f = open_memstream(&g_mem.buf, &g_mem.len);
	assert_non_null(g_mem.f);
}

/* Close the stream; the text stays in g_mem.buf until mem_done(). */
static const char *mem_text(void)
{
	fclose(g_mem.f);
	g_mem.f = NULL;
	return g_mem.buf;
}

static void mem_done(void)
{
	if (g_mem.f)
		fclose(g_mem.f);
	free(g_mem.buf);
	memset(&g_mem, 0, sizeof(g_mem));
}

static int teardown(void **state)
{
	mem_done();
	return 0;
}

/* "got" vs "want", with the first differing offset: C-escaped, one line. */
static void print_c(char *dst, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s && o + 5 < len; s++) {
		unsigned char c = *s;

		if (c == '\n')
			o += snprintf(dst + o, len - o, "\\n");
		else if (c == '"' || c == '\\')
			o += snprintf(dst + o, len - o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			o += snprintf(dst + o, len - o, "\\x%02x", c);
		else
			dst[o++] = c;
	}
	dst[o] = 0;
}

static void expect_text(const char *what, const char *got, const char *want)
{
	static char g[4096], w[4096];
	size_t i = 0;

	if (!strcmp(got, want))
		return;
	while (got[i] && got[i] == want[i])
		i++;
	print_c(g, sizeof(g), got);
	print_c(w, sizeof(w), want);
	fail_msg("case %s: differs at byte %zu\n  got  \"%s\"\n  want \"%s\"", what, i, g, w);
}

#include "json_valid.h"

/* ---- the cases: compact mode ---- */

typedef void (*writer_fn)(struct ia_json *j);

static void w_empty_obj(struct ia_json *j)
{
	ia_json_obj_begin(j);
	ia_json_obj_end(j);
	ia_json_close_all(j);
}

static void w_empty_arr(struct ia_json *j)
{
	ia_json_arr_begin(j);
	ia_json_arr_end(j);
	ia_json_close_all(j);
}

static void w_flat(struct ia_json *j)
{
	ia_json_obj_begin(j);
	ia_json_kstr(j, "a", "x");
	ia_json_ku64(j, "b", 1);
	ia_json_kbool(j, "c", true);
	ia_json_kbool(j, "d", false);
	ia_json_key(j, "e");
	ia_json_null(j);
	ia_json_ks64(j, "f", -2);
	ia_json_khex(j, "g", 0x1000);
	ia_json_obj_end(j);
	ia_json_close_all(j);
}

static void w_nested(struct ia_json *j)
{
	ia_json_obj_begin(j);
	ia_json_key(j, "a");
	ia_json_arr_begin(j);
	ia_json_u64(j, 1);
	ia_json_u64(j, 2);
	ia_json_obj_begin(j);
	ia_json_key(j, "b");
	ia_json_arr_begin(j);
	ia_json_arr_end(j);
	ia_json_obj_end(j);
	ia_json_arr_begin(j);
	ia_json_arr_end(j);
	ia_json_obj_begin(j);
	ia_json_obj_end(j);
	ia_json_arr_end(j);
	ia_json_key(j, "c");
	ia_json_obj_begin(j);
	ia_json_key(j, "d");
	ia_json_obj_begin(j);
	ia_json_obj_end(j);
	ia_json_ku64(j, "e", 3);
	ia_json_obj_end(j);
	ia_json_key(j, "f");
	ia_json_arr_begin(j);
	ia_json_arr_begin(j);
	ia_json_arr_begin(j);
	ia_json_null(j);
	ia_json_arr_end(j);
	ia_json_arr_end(j);
	ia_json_arr_end(j);
	ia_json_obj_end(j);
	ia_json_close_all(j);
}

static void w_array_of_objects(struct ia_json *j)
{
	ia_json_arr_begin(j);
	for (int i = 0; i < 3; i++) {
		ia_json_obj_begin(j);
		ia_json_ku64(j, "i", i);
		ia_json_kstr(j, "s", i == 1 ? "" : "v");
		ia_json_obj_end(j);
	}
	ia_json_arr_end(j);
	ia_json_close_all(j);
}

static void w_ints(struct ia_json *j)
{
	ia_json_arr_begin(j);
	ia_json_s64(j, 0);
	ia_json_s64(j, -1);
	ia_json_s64(j, 1);
	ia_json_s64(j, INT64_MIN);
	ia_json_s64(j, INT64_MAX);
	ia_json_u64(j, 0);
	ia_json_u64(j, UINT64_MAX);
	ia_json_u64(j, 1ULL << 63);
	ia_json_arr_end(j);
	ia_json_close_all(j);
}

static void w_hex(struct ia_json *j)
{
	ia_json_arr_begin(j);
	ia_json_hex(j, 0);
	ia_json_hex(j, 0xdeadbeef);
	ia_json_hex(j, 0xffff888100001000ULL);
	ia_json_hex(j, UINT64_MAX);
	ia_json_arr_end(j);
	ia_json_close_all(j);
}

static void w_f64(struct ia_json *j)
{
	ia_json_arr_begin(j);
	ia_json_f64(j, 100.0, 2);
	ia_json_f64(j, 1.0 / 3, 2);
	ia_json_f64(j, 2.0 / 3, 2);
	ia_json_f64(j, 99.999, 2);
	ia_json_f64(j, -1.5, 1);
	ia_json_f64(j, 0.125, 3);
	ia_json_f64(j, 42.0, 0);
	ia_json_f64(j, 0.0, 2);
	ia_json_f64(j, 1e15, 1);
	ia_json_arr_end(j);
	ia_json_close_all(j);
}

static void w_escapes(struct ia_json *j)
{
	ia_json_arr_begin(j);
	ia_json_str(j, "plain text 0:9 ~!@#$%^&*()/");
	ia_json_str(j, "a\"b\\c");
	ia_json_str(j, "\n\t\r");
	ia_json_str(j, "\x01\x08\x0c\x1f");
	ia_json_str(j, " \x7e\x7f");
	ia_json_str(j, "caf\xc3\xa9");		/* UTF-8: bytes, not characters */
	ia_json_str(j, "\xff\x80");
	ia_json_str(j, "");
	ia_json_str(j, NULL);
	ia_json_arr_end(j);
	ia_json_close_all(j);
}

static void w_escaped_keys(struct ia_json *j)
{
	ia_json_obj_begin(j);
	ia_json_kstr(j, "k\"ey", "v");
	ia_json_ku64(j, "back\\slash\n", 1);
	ia_json_kstr(j, "", "empty key");
	ia_json_obj_end(j);
	ia_json_close_all(j);
}

/* close_all from the middle of a deep document */
static void w_close_all_deep(struct ia_json *j)
{
	ia_json_obj_begin(j);			/* 1 */
	ia_json_kstr(j, "cmd", "record");
	ia_json_key(j, "a");
	ia_json_arr_begin(j);			/* 2 */
	ia_json_u64(j, 1);
	ia_json_obj_begin(j);			/* 3 */
	ia_json_key(j, "b");
	ia_json_obj_begin(j);			/* 4 */
	ia_json_key(j, "c");
	ia_json_arr_begin(j);			/* 5 */
	ia_json_arr_begin(j);			/* 6 */
	ia_json_str(j, "x");
	ia_json_obj_begin(j);			/* 7 */
	ia_json_key(j, "d");
	ia_json_arr_begin(j);			/* 8 */
	ia_json_arr_begin(j);			/* 9 */
	ia_json_obj_begin(j);			/* 10: empty */
	ia_json_close_all(j);
}

static void w_close_all_after_value(struct ia_json *j)
{
	ia_json_obj_begin(j);
	ia_json_key(j, "devices");
	ia_json_arr_begin(j);
	ia_json_obj_begin(j);
	ia_json_kstr(j, "name", "0000:00:03.0");
	ia_json_close_all(j);
}

static void w_close_all_nothing_open(struct ia_json *j)
{
	ia_json_close_all(j);
}

static void w_close_all_closed(struct ia_json *j)
{
	ia_json_obj_begin(j);
	ia_json_ku64(j, "a", 1);
	ia_json_obj_end(j);
	ia_json_close_all(j);
}

static void w_top_scalar(struct ia_json *j)
{
	ia_json_str(j, "x");
	ia_json_close_all(j);
}

struct json_case {
	const char *name;
	writer_fn fn;
	const char *want;
};

static const struct json_case compact_cases[] = {
	{ "empty object", w_empty_obj, "{}\n" },
	{ "empty array", w_empty_arr, "[]\n" },
	{ "flat object", w_flat,
	  "{\"a\":\"x\",\"b\":1,\"c\":true,\"d\":false,\"e\":null,\"f\":-2,\"g\":\"0x1000\"}\n" },
	{ "nested", w_nested,
	  "{\"a\":[1,2,{\"b\":[]},[],{}],\"c\":{\"d\":{},\"e\":3},\"f\":[[[null]]]}\n" },
	{ "array of objects", w_array_of_objects,
	  "[{\"i\":0,\"s\":\"v\"},{\"i\":1,\"s\":\"\"},{\"i\":2,\"s\":\"v\"}]\n" },
	{ "integers", w_ints,
	  "[0,-1,1,-9223372036854775808,9223372036854775807,0,18446744073709551615,"
	  "9223372036854775808]\n" },
	{ "hex", w_hex,
	  "[\"0x0\",\"0xdeadbeef\",\"0xffff888100001000\",\"0xffffffffffffffff\"]\n" },
	{ "f64", w_f64,
	  "[100.00,0.33,0.67,100.00,-1.5,0.125,42,0.00,1000000000000000.0]\n" },
	{ "string escapes", w_escapes,
	  "[\"plain text 0:9 ~!@#$%^&*()/\","
	  "\"a\\\"b\\\\c\","
	  "\"\\n\\t\\r\","
	  "\"\\u0001\\u0008\\u000c\\u001f\","
	  "\" ~\\u007f\","
	  "\"caf\\u00c3\\u00a9\","
	  "\"\\u00ff\\u0080\","
	  "\"\","
	  "\"\"]\n" },
	{ "escaped keys", w_escaped_keys,
	  "{\"k\\\"ey\":\"v\",\"back\\\\slash\\n\":1,\"\":\"empty key\"}\n" },
	{ "close_all from depth 10", w_close_all_deep,
	  "{\"cmd\":\"record\",\"a\":[1,{\"b\":{\"c\":[[\"x\",{\"d\":[[{}]]}]]}}]}\n" },
	{ "close_all after a value", w_close_all_after_value,
	  "{\"devices\":[{\"name\":\"0000:00:03.0\"}]}\n" },
	{ "close_all with nothing open", w_close_all_nothing_open, "\n" },
	{ "close_all after everything closed", w_close_all_closed, "{\"a\":1}\n" },
	{ "top-level scalar", w_top_scalar, "\"x\"\n" },
};

static void run_cases(const struct json_case *cases, size_t n, bool pretty)
{
	for (size_t i = 0; i < n; i++) {
		struct ia_json j;
		const char *got;

		mem_open();
		ia_json_init(&j, g_mem.f, pretty);
		cases[i].fn(&j);
		got = mem_text();
		expect_text(cases[i].name, got, cases[i].want);
		if (strcmp(cases[i].want, "\n") && !json_valid(got))
			fail_msg("case %s: output is not valid JSON: %s", cases[i].name, got);
		if (j.depth != 0)
			fail_msg("case %s: depth after close_all: got %d, want 0",
				 cases[i].name, j.depth);
		mem_done();
	}
}

static void test_compact(void **state)
{
	run_cases(compact_cases, N(compact_cases), false);
}

/* ---- pretty mode ---- */

static void w_pretty_doc(struct ia_json *j)
{
	ia_json_obj_begin(j);
	ia_json_ku64(j, "a", 1);
	ia_json_key(j, "b");
	ia_json_arr_begin(j);
	ia_json_u64(j, 1);
	ia_json_u64(j, 2);
	ia_json_arr_end(j);
	ia_json_key(j, "c");
	ia_json_obj_begin(j);
	ia_json_obj_end(j);
	ia_json_key(j, "d");
	ia_json_arr_begin(j);
	ia_json_arr_end(j);
	ia_json_key(j, "e");
	ia_json_arr_begin(j);
	ia_json_obj_begin(j);
	ia_json_kstr(j, "f", "g");
	ia_json_kbool(j, "h", true);
	ia_json_obj_end(j);
	ia_json_arr_end(j);
	ia_json_obj_end(j);
	ia_json_close_all(j);
}

static void w_pretty_top_array(struct ia_json *j)
{
	ia_json_arr_begin(j);
	ia_json_str(j, "x");
	ia_json_arr_begin(j);
	ia_json_arr_end(j);
	ia_json_arr_end(j);
	ia_json_close_all(j);
}

static void w_pretty_close_all(struct ia_json *j)
{
	ia_json_obj_begin(j);
	ia_json_key(j, "a");
	ia_json_arr_begin(j);
	ia_json_obj_begin(j);
	ia_json_ks64(j, "b", -1);
	ia_json_close_all(j);
}

static const struct json_case pretty_cases[] = {
	{ "pretty document", w_pretty_doc,
	  "{\n"
	  "  \"a\": 1,\n"
	  "  \"b\": [\n"
	  "    1,\n"
	  "    2\n"
	  "  ],\n"
	  "  \"c\": {},\n"
	  "  \"d\": [],\n"
	  "  \"e\": [\n"
	  "    {\n"
	  "      \"f\": \"g\",\n"
	  "      \"h\": true\n"
	  "    }\n"
	  "  ]\n"
	  "}\n" },
	{ "pretty top-level array", w_pretty_top_array,
	  "[\n"
	  "  \"x\",\n"
	  "  []\n"
	  "]\n" },
	{ "pretty close_all", w_pretty_close_all,
	  "{\n"
	  "  \"a\": [\n"
	  "    {\n"
	  "      \"b\": -1\n"
	  "    }\n"
	  "  ]\n"
	  "}\n" },
	{ "pretty empty object", w_empty_obj, "{}\n" },
};

static void test_pretty(void **state)
{
	run_cases(pretty_cases, N(pretty_cases), true);
}

/* The same writer calls give the same document in both modes. */
static void test_pretty_equals_compact(void **state)
{
	for (size_t i = 0; i < N(compact_cases); i++) {
		struct ia_json j;
		char *pretty, *p, *q;
		bool in_str = false;

		mem_open();
		ia_json_init(&j, g_mem.f, true);
		compact_cases[i].fn(&j);
		pretty = (char *)mem_text();
		if (strcmp(compact_cases[i].want, "\n") && !json_valid(pretty))
			fail_msg("case %s (pretty): not valid JSON: %s", compact_cases[i].name,
				 pretty);
		/* drop the whitespace outside strings */
		for (p = q = pretty; *p; p++) {
			if (in_str && *p == '\\') {
				*q++ = *p++;	/* the escaped char, whatever it is */
				*q++ = *p;
				continue;
			}
			if (*p == '"')
				in_str = !in_str;
			if (in_str || (*p != ' ' && *p != '\n'))
				*q++ = *p;
		}
		*q = 0;
		/* compact text without its final newline */
		{
			char want[1024];
			size_t l = strlen(compact_cases[i].want);

			snprintf(want, sizeof(want), "%.*s", (int)(l - 1), compact_cases[i].want);
			expect_text(compact_cases[i].name, pretty, want);
		}
		mem_done();
	}
}

/*
 * Nesting as deep as the writer's IA_JSON_MAX_DEPTH and beyond: close_all
 * must still produce balanced JSON (or the writer must refuse to open more,
 * but it has no way to say so: the text has to stay valid).
 */
/*
 * Nesting up to IA_JSON_MAX_DEPTH - 1 is written exactly; containers past it
 * are dropped whole (a key waiting for one gets null), and the document
 * stays valid JSON whatever the depth.
 */
static void test_close_all_max_depth(void **state)
{
	static const int depths[] = { 3, IA_JSON_MAX_DEPTH - 1, IA_JSON_MAX_DEPTH,
				      IA_JSON_MAX_DEPTH + 4 };

	for (size_t d = 0; d < N(depths); d++) {
		int n = depths[d], kept = n < IA_JSON_MAX_DEPTH ? n : IA_JSON_MAX_DEPTH - 1;
		char want[1024], what[64];
		struct ia_json j;
		const char *got;
		int o = 0;

		/* alternate arrays and objects: [{"k":[{"k":... */
		mem_open();
		ia_json_init(&j, g_mem.f, false);
		for (int i = 0; i < n; i++) {
			if (i % 2 == 0) {
				ia_json_arr_begin(&j);
				if (i < kept)
					o += snprintf(want + o, sizeof(want) - o, "[");
			} else {
				ia_json_obj_begin(&j);
				ia_json_key(&j, "k");
				if (i < kept)
					o += snprintf(want + o, sizeof(want) - o, "{\"k\":");
			}
		}
		ia_json_u64(&j, 7);
		if (kept == n)
			o += snprintf(want + o, sizeof(want) - o, "7");
		else if (kept % 2 == 0)	/* the last kept container is an object */
			o += snprintf(want + o, sizeof(want) - o, "null");
		for (int i = kept - 1; i >= 0; i--)
			o += snprintf(want + o, sizeof(want) - o, "%s", i % 2 ? "}" : "]");
		snprintf(want + o, sizeof(want) - o, "\n");
		ia_json_close_all(&j);
		got = mem_text();
		snprintf(what, sizeof(what), "%d nested containers", n);
		expect_text(what, got, want);
		if (!json_valid(got))
			fail_msg("case %s: not valid JSON: %s", what, got);
		mem_done();
	}
}

/*
 * A command that fails between a key and its value: close_all must still
 * leave a valid document.
 */
static void test_close_all_pending_key(void **state)
{
	struct ia_json j;
	const char *got;

	mem_open();
	ia_json_init(&j, g_mem.f, false);
	ia_json_obj_begin(&j);
	ia_json_ku64(&j, "a", 1);
	ia_json_key(&j, "devices");
	ia_json_close_all(&j);
	got = mem_text();
	if (!json_valid(got))
		fail_msg("close_all after a key without value: got \"%.*s\", not valid JSON "
			 "(want e.g. {\"a\":1,\"devices\":null})", (int)strcspn(got, "\n"), got);
	mem_done();
}

/* The checker itself: it must reject what the writer must never produce. */
static void test_checker(void **state)
{
	static const struct { const char *s; bool ok; } cases[] = {
		{ "{}", true }, { "[1,2]", true }, { "{\"a\":[{}]}\n", true },
		{ "-0.5", true }, { "\"\\u00ff\"", true },
		{ "{\"a\":}", false }, { "[1,]", false }, { "[1", false },
		{ "{\"a\" 1}", false }, { "\"\x01\"", false }, { "nan", false },
		{ "[1]]", false }, { "01", false }, { "\"\\x\"", false },
		{ "{\"a\":1,}", false }, { "[]{}", false },
	};

	for (size_t i = 0; i < N(cases); i++)
		if (json_valid(cases[i].s) != cases[i].ok)
			fail_msg("checker case %zu \"%s\": got %d, want %d", i, cases[i].s,
				 !cases[i].ok, cases[i].ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_checker, teardown),
		cmocka_unit_test_teardown(test_compact, teardown),
		cmocka_unit_test_teardown(test_pretty, teardown),
		cmocka_unit_test_teardown(test_pretty_equals_compact, teardown),
		cmocka_unit_test_teardown(test_close_all_max_depth, teardown),
		cmocka_unit_test_teardown(test_close_all_pending_key, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
