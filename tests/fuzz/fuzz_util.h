/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the libFuzzer harnesses (tests/fuzz/fuzz_*.c) share: output captured
 * in memory and checked (every JSON document an output writer makes must be
 * valid JSON, whatever the input), and a crash on a broken property.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../unit/json_valid.h"

/* A FILE writing into memory: fz_begin(), write, fz_end() -> the text. */
struct fz_out {
	FILE *f;
	char *buf;
	size_t len;
};

static inline FILE *fz_begin(struct fz_out *o)
{
	o->buf = NULL;
	o->len = 0;
	o->f = open_memstream(&o->buf, &o->len);
	if (!o->f)
		abort();
	return o->f;
}

static inline const char *fz_end(struct fz_out *o)
{
	fclose(o->f);
	return o->buf ? o->buf : "";
}

static inline void fz_free(struct fz_out *o)
{
	free(o->buf);
	o->buf = NULL;
}

/* A broken property is a crash: libFuzzer keeps the input that did it. */
static inline void fz_require(bool ok, const char *what, const char *text)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz property broken: %s\n--- output ---\n%.2000s\n", what, text);
	abort();
}

/* One JSON document. */
static inline void fz_json_doc(const char *text, const char *what)
{
	fz_require(json_valid(text), what, text);
}

/* JSON Lines: every line one JSON document. */
static inline void fz_json_lines(const char *text, const char *what)
{
	char line[1 << 16];

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		fz_require(n < sizeof(line), what, p);
		memcpy(line, p, n);
		line[n] = 0;
		fz_require(json_valid(line), what, line);
		p += n + (nl != NULL);
	}
}

#endif
