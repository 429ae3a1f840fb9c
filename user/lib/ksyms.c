// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/ksyms.h"

struct ksym {
	__u64 addr;
	char *name;	/* "name" or "name [module]" */
};

struct ia_ksyms {
	struct ksym *syms;
	size_t n;
};

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void ia_ksyms_free(struct ia_ksyms *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++)
		free(ks->syms[i].name);
	free(ks->syms);
	free(ks);
}

struct ia_ksyms *ia_ksyms_load(const char *path)
{
	FILE *f = fopen(path, "r");
	struct ia_ksyms *ks;

	if (!f)
		return NULL;
	ks = ia_ksyms_read(f);
	fclose(f);
	return ks;
}

struct ia_ksyms *ia_ksyms_read(FILE *f)
{
	struct ia_ksyms *ks = calloc(1, sizeof(*ks));
	size_t cap = 0;
	char line[512];

	if (!ks)
		goto fail;
	while (fgets(line, sizeof(line), f)) {
		char type, name[256], mod[128] = "";
		unsigned long long addr;
		struct ksym *s;
		int n = sscanf(line, "%llx %c %255s %127s", &addr, &type, name, mod);

		if (n < 3 || !addr)
			continue;
		/* functions only: text symbols (t/T) and weak ones */
		if (type != 't' && type != 'T' && type != 'W' && type != 'w')
			continue;
		if (ks->n == cap) {
			cap = cap ? cap * 2 : 4096;	/* ~200k symbols: 6 doublings */
			s = realloc(ks->syms, cap * sizeof(*s));
			if (!s)
				goto fail;
			ks->syms = s;
		}
		s = &ks->syms[ks->n];
		s->addr = addr;
		if (n == 4 && mod[0] == '[') {
			size_t l = strlen(name) + strlen(mod) + 2;

			s->name = malloc(l);
			if (s->name)
				snprintf(s->name, l, "%s %s", name, mod);
		} else {
			s->name = strdup(name);
		}
		if (!s->name)
			goto fail;
		ks->n++;
	}
	if (ferror(f)) {	/* e.g. a directory: EISDIR */
		if (!errno)
			errno = EIO;
		goto fail;
	}
	if (ks->n)	/* no symbol kept: syms is NULL, which qsort may not get */
	qsort(ks->syms, ks->n, sizeof(*ks->syms), cmp_ksym);
	return ks;
fail:
	ia_ksyms_free(ks);
	if (!errno)
		errno = ENOMEM;
	return NULL;
}

int ia_ksyms_symbolize(const struct ia_ksyms *ks, __u64 ip, char *buf, size_t len)
{
	size_t lo = 0, hi = ks ? ks->n : 0;
	const struct ksym *s;
	const char *mod;

	buf[0] = 0;
	if (!hi || ip < ks->syms[0].addr)
		return 0;
	while (hi - lo > 1) {	/* last symbol with addr <= ip */
		size_t mid = (lo + hi) / 2;

		if (ks->syms[mid].addr <= ip)
			lo = mid;
		else
			hi = mid;
	}
	s = &ks->syms[lo];
	mod = strchr(s->name, ' ');
	if (mod)
		snprintf(buf, len, "%.*s+0x%" PRIx64 "%s", (int)(mod - s->name), s->name,
			 (uint64_t)(ip - s->addr), mod);
	else
		snprintf(buf, len, "%s+0x%" PRIx64, s->name, (uint64_t)(ip - s->addr));
	return 1;
}

/* The third blank-separated field of line (NUL-terminated), or NULL. */
static const char *third_field(char *line, size_t *len)
{
	char *p = line;

	for (int field = 0; ; field++) {
		p += strspn(p, " \t");
		if (!*p || *p == '\n')
			return NULL;
		*len = strcspn(p, " \t\n");
		if (field == 2)
			return p;
		p += *len;
	}
}

int ia_ksyms_has(FILE *f, const char *name)
{
	size_t cap = 0, nlen = strlen(name), len;
	char *line = NULL;
	int found = 0;

	errno = 0;
	while (!found && getline(&line, &cap, f) >= 0) {
		const char *sym = third_field(line, &len);

		found = sym && len == nlen && !memcmp(sym, name, nlen);
	}
	if (!found && (ferror(f) || errno == ENOMEM))
		found = -1;
	free(line);
	return found;
}
