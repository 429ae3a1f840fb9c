// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/fnv.h"
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

/*
 * One kallsyms line, "ADDR TYPE NAME[\t[MODULE]]\n", split in place
 * without sscanf: a recording reads 200k lines of it, and under TCG every
 * microsecond per line is a fifth of a second per pass. False for a line
 * that is not of that shape. mod is "" for vmlinux's symbols.
 */
struct kline {
	__u64 addr;
	char type;
	const char *name, *mod;
	size_t name_len, mod_len;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool parse_kline(const char *p, struct kline *k)
{
	int digits = 0, v;

	k->addr = 0;
	while ((v = hexval(*p)) >= 0) {
		if (++digits > 16)
			return false;
		k->addr = k->addr << 4 | (__u64)v;
		p++;
	}
	if (!digits || *p != ' ' || !p[1] || p[1] == ' ' || p[1] == '\n' || p[2] != ' ')
		return false;
	k->type = p[1];
	p += 3;
	k->name = p;
	k->name_len = strcspn(p, " \t\n");
	if (!k->name_len)
		return false;
	p += k->name_len;
	p += strspn(p, " \t");
	k->mod = p;
	k->mod_len = *p == '[' ? strcspn(p, " \t\n") : 0;
	return true;
}

struct ia_ksyms *ia_ksyms_read(FILE *f)
{
	struct ia_ksyms *ks = calloc(1, sizeof(*ks));
	size_t cap = 0, lcap = 0;
	char *line = NULL;

	if (!ks)
		goto fail;
	/* whole lines, however long: in fixed pieces, the tail of a long line
	 * was read as a line of its own (and could look like one) */
	while (getline(&line, &lcap, f) >= 0) {
		struct kline k;
		struct ksym *s;
		size_t l;

		if (!parse_kline(line, &k) || !k.addr || k.name_len > 255 || k.mod_len > 127)
			continue;
		/* functions only: text symbols (t/T) and weak ones */
		if (k.type != 't' && k.type != 'T' && k.type != 'W' && k.type != 'w')
			continue;
		if (ks->n == cap) {
			cap = cap ? cap * 2 : 4096;	/* ~200k symbols: 6 doublings */
			s = realloc(ks->syms, cap * sizeof(*s));
			if (!s)
				goto fail;
			ks->syms = s;
		}
		s = &ks->syms[ks->n];
		s->addr = k.addr;
		l = k.name_len + (k.mod_len ? k.mod_len + 1 : 0) + 1;
		s->name = malloc(l);
		if (!s->name)
			goto fail;
		if (k.mod_len)
			snprintf(s->name, l, "%.*s %.*s", (int)k.name_len, k.name,
				 (int)k.mod_len, k.mod);
		else
			snprintf(s->name, l, "%.*s", (int)k.name_len, k.name);
		ks->n++;
	}
	if (ferror(f)) {	/* e.g. a directory: EISDIR */
		if (!errno)
			errno = EIO;
		goto fail;
	}
	free(line);
	if (ks->n)	/* no symbol kept: syms is NULL, which qsort may not get */
		qsort(ks->syms, ks->n, sizeof(*ks->syms), cmp_ksym);
	return ks;
fail:
	free(line);
	ia_ksyms_free(ks);
	if (!errno)
		errno = ENOMEM;
	return NULL;
}

int ia_ksyms_lookup(FILE *f, const char *const *names, __u64 *addrs, size_t n)
{
	size_t found = 0, lcap = 0;
	char *line = NULL;
	int ret;

	for (size_t i = 0; i < n; i++)
		addrs[i] = 0;
	while (found < n && getline(&line, &lcap, f) >= 0) {	/* whole lines: above */
		struct kline k;

		if (!parse_kline(line, &k) || k.mod_len)
			continue;
		for (size_t i = 0; i < n; i++)
			if (!addrs[i] && strlen(names[i]) == k.name_len &&
			    !memcmp(names[i], k.name, k.name_len)) {
				/* hidden (kptr_restrict): all zero, not found */
				addrs[i] = k.addr;
				found += k.addr != 0;
				break;
			}
	}
	ret = ferror(f) ? -1 : (int)found;
	if (ret < 0 && !errno)
		errno = EIO;
	free(line);
	return ret;
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

__u64 ia_modules_digest(FILE *f)
{
	__u64 h = IA_FNV_BASIS;
	char *line = NULL;
	size_t cap = 0;

	/* whole lines (getline()), as the kallsyms readers above: a module
	 * used by many others has a long line, whose address a fixed buffer
	 * would cut off into a line of its own */
	while (getline(&line, &cap, f) >= 0) {
		char name[64], addr[32];

		if (sscanf(line, "%63s %*s %*s %*s %*s %31s", name, addr) != 2)
			continue;
		/* the NULs keep name and address apart */
		h = ia_fnv1a(h, name, strlen(name) + 1);
		h = ia_fnv1a(h, addr, strlen(addr) + 1);
	}
	free(line);
	return h;
}
