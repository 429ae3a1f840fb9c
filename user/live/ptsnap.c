// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Page-table snapshots from the VT-d debugfs dump (ptsnap.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "live/ptsnap.h"

#define VTD_PAGE_SHIFT	12
#define VTD_STRIDE	9
#define VTD_LEVELS	5		/* PML5E .. PTE, as the dump prints them */
/* A second-level leaf's address bits (VT-d spec 9.8: bits 12 .. HAW-1,
 * HAW at most 52); bits 0 and 1 are read and write. */
#define VTD_ADDR_MASK	0x000ffffffffff000ULL
#define VTD_PROT_MASK	0x3ULL

void ia_ptsnap_free(struct ia_ptsnap *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->dev[i].r);
	free(s->dev);
	memset(s, 0, sizeof(*s));
}

static bool wanted(const char *name, const char *const *only, int nonly)
{
	for (int i = 0; i < nonly; i++)
		if (!strcmp(only[i], name))
			return true;
	return nonly == 0;
}

/* "Device NAME [with pasid X] @0xPGD": a new device, or NULL (skipped:
 * filtered out, too many, no memory: *oom). */
static struct ia_ptsnap_dev *new_dev(struct ia_ptsnap *s, const char *line,
				     const char *const *only, int nonly, bool *oom)
{
	struct ia_ptsnap_dev *d;
	char name[IA_NAME_LEN];
	const char *p = line + strlen("Device ");
	size_t len = strcspn(p, " \t\n");
	const char *at, *pasid;

	if (!len || len >= sizeof(name))
		return NULL;
	memcpy(name, p, len);
	name[len] = 0;
	if (!wanted(name, only, nonly) || s->n >= IA_PTSNAP_MAX_DEVS)
		return NULL;
	pasid = strstr(p + len, "with pasid ");
	/* 6.1 dumps a group's first device once per device of the group */
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->dev[i].name, name) &&
		    s->dev[i].pasid == (pasid ? (__u32)strtoul(pasid + 11, NULL, 16) : ~0u))
			return NULL;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		void *v = realloc(s->dev, cap * sizeof(*s->dev));

		if (!v) {
			*oom = true;
			return NULL;
		}
		s->dev = v;
		s->cap = cap;
	}
	d = &s->dev[s->n++];
	memset(d, 0, sizeof(*d));
	memcpy(d->name, name, len + 1);
	d->pasid = ~0u;
	if (pasid)
		d->pasid = (__u32)strtoul(pasid + strlen("with pasid "), NULL, 16);
	at = strstr(line, "@0x");
	if (at)
		d->pgd = strtoull(at + 3, NULL, 16);
	return d;
}

/* "0x<pfn> |\t0x<PML5E>\t0x<PML4E>..." -> one leaf; false if not one. */
static bool parse_leaf(const char *line, struct ia_snap_range *r)
{
	char *end;
	__u64 pfn = strtoull(line, &end, 16), v[VTD_LEVELS], leaf = 0;
	int n = 0, idx = -1;

	if (end == line)
		return false;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end++ != '|')
		return false;
	while (n < VTD_LEVELS) {
		const char *p = end;

		v[n] = strtoull(p, &end, 16);
		if (end == p)
			break;
		if (v[n]) {
			idx = n;
			leaf = v[n];
		}
		n++;
	}
	if (idx < 0 || pfn > (~0ULL >> VTD_PAGE_SHIFT))
		return false;
	r->level = VTD_LEVELS - idx;		/* 1: PTE, 2: PDE, ... */
	r->size = 1ULL << (VTD_PAGE_SHIFT + VTD_STRIDE * (r->level - 1));
	r->iova = pfn << VTD_PAGE_SHIFT;
	r->paddr = leaf & VTD_ADDR_MASK & ~(r->size - 1);
	r->prot = (__u32)(leaf & VTD_PROT_MASK);
	return r->iova + r->size > r->iova;
}

static int add_leaf(struct ia_ptsnap_dev *d, const struct ia_snap_range *r, size_t max)
{
	struct ia_snap_range *last = d->n ? &d->r[d->n - 1] : NULL;

	/* leaves come in IOVA order: a run continuing the last one joins it */
	if (last && last->iova + last->size == r->iova && last->paddr + last->size == r->paddr &&
	    last->prot == r->prot && last->level == r->level) {
		last->size += r->size;
		return 0;
	}
	if (d->n >= max) {
		d->truncated = true;
		return 0;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		void *v = realloc(d->r, cap * sizeof(*d->r));

		if (!v)
			return -ENOMEM;
		d->r = v;
		d->cap = cap;
	}
	d->r[d->n++] = *r;
	return 0;
}

int ia_ptsnap_parse(FILE *f, struct ia_ptsnap *s, const char *const *only, int nonly,
		    size_t max)
{
	struct ia_ptsnap_dev *cur = NULL;
	char *line = NULL;
	size_t cap = 0;
	bool oom = false;

	while (!oom && getline(&line, &cap, f) > 0) {
		struct ia_snap_range r;

		if (!strncmp(line, "Device ", 7)) {
			cur = new_dev(s, line, only, nonly, &oom);
			continue;
		}
		/* the column header, blank lines, "DMA Remapping is not enabled" */
		if (cur && !strncmp(line, "0x", 2) && parse_leaf(line, &r) && add_leaf(cur, &r, max))
			oom = true;
	}
	free(line);
	return oom ? -ENOMEM : 0;
}

static int parse_file(const char *path, struct ia_ptsnap *s, const char *const *only,
		      int nonly, bool *found)
{
	FILE *f = fopen(path, "re");
	int ret;

	if (!f)
		return 0;
	*found = true;
	ret = ia_ptsnap_parse(f, s, only, nonly, IA_PTSNAP_MAX_RANGES);
	fclose(f);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir (no dot files), sorted: the dump's order is the
 * directory's, which is no order at all. */
static char **sorted_entries(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			char **nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
		}
		if (!(v[*n] = strdup(e->d_name)))
			break;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void free_entries(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* 7.2's layout: ROOT/<dev>/domain_translation_struct and
 * ROOT/<dev>/<pasid>/domain_translation_struct. */
static int read_per_device(const char *root, struct ia_ptsnap *s, const char *const *only,
			   int nonly, bool *found)
{
	size_t n, m;
	char **dev = sorted_entries(root, &n), path[4096];
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i++) {
		char **sub;

		if (!wanted(dev[i], only, nonly))
			continue;
		snprintf(path, sizeof(path), "%s/%s/domain_translation_struct", root, dev[i]);
		ret = parse_file(path, s, only, nonly, found);
		snprintf(path, sizeof(path), "%s/%s", root, dev[i]);
		sub = sorted_entries(path, &m);
		for (size_t k = 0; !ret && k < m; k++) {
			if (!strcmp(sub[k], "domain_translation_struct"))
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s/domain_translation_struct", root,
				 dev[i], sub[k]);
			ret = parse_file(path, s, only, nonly, found);
		}
		free_entries(sub, m);
	}
	free_entries(dev, n);
	return ret;
}

int ia_ptsnap_read(const char *root, struct ia_ptsnap *s, const char *const *only, int nonly)
{
	char path[4096];
	bool found = false;
	struct stat sb;
	int ret;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/domain_translation_struct", root);
	if (!stat(path, &sb) && S_ISREG(sb.st_mode))
		ret = parse_file(path, s, only, nonly, &found);	/* 6.1's one file */
	else
		ret = read_per_device(root, s, only, nonly, &found);
	if (!found) {
		s->absent = true;
		snprintf(s->why, sizeof(s->why), "no %s/domain_translation_struct nor "
			 "%s/*/domain_translation_struct (CONFIG_INTEL_IOMMU_DEBUGFS, "
			 "debugfs mounted)", root, root);
	}
	return ret;
}

/* A record with room for IA_SNAP_CHUNK ranges, 8-byte aligned. */
union snap_rec {
	struct ia_ev_pt_snap e;
	__u64 q[(sizeof(struct ia_ev_pt_snap) +
		 IA_SNAP_CHUNK * sizeof(struct ia_snap_range)) / 8];
};

static void rec_init(union snap_rec *b, __u32 snap, __u32 why, __u32 flags, __u64 ts)
{
	memset(&b->e, 0, sizeof(b->e));
	b->e.hdr.type = IA_EV_PT_SNAP;
	b->e.hdr.size = sizeof(b->e);
	b->e.hdr.ts_ns = ts;
	b->e.hdr.flags = flags;
	b->e.snap = snap;
	b->e.why = why;
	b->e.pasid = ~0u;
}

int ia_ptsnap_emit_begin(__u32 snap, __u32 why, __u64 begin_ns, ia_ptsnap_emit_fn emit,
			 void *ctx)
{
	union snap_rec b;

	rec_init(&b, snap, why, IA_SNAP_BEGIN, begin_ns);
	return emit(ctx, &b.e.hdr);
}

int ia_ptsnap_emit_rest(const struct ia_ptsnap *s, __u32 snap, __u32 why, __u64 end_ns,
			ia_ptsnap_emit_fn emit, void *ctx)
{
	union snap_rec b;
	int ret = 0;

	for (size_t i = 0; !ret && i < s->n; i++) {
		const struct ia_ptsnap_dev *d = &s->dev[i];
		size_t off = 0;

		do {	/* a device without leaves is one record of none */
			size_t k = d->n - off < IA_SNAP_CHUNK ? d->n - off : IA_SNAP_CHUNK;

			rec_init(&b, snap, why, 0, end_ns);
			memcpy(b.e.dev, d->name, sizeof(b.e.dev));
			b.e.pasid = d->pasid;
			b.e.pgd = d->pgd;
			b.e.count = (__u32)k;
			if (k)	/* a device without leaves has no array */
				memcpy(b.e.r, d->r + off, k * sizeof(*d->r));
			b.e.hdr.size = (__u16)(sizeof(b.e) + k * sizeof(*d->r));
			off += k;
			if (off == d->n)
				b.e.hdr.flags |= IA_SNAP_DEV_LAST |
						 (d->truncated ? IA_SNAP_TRUNCATED : 0);
			ret = emit(ctx, &b.e.hdr);
		} while (!ret && off < d->n);
	}
	if (ret)
		return ret;
	rec_init(&b, snap, why, IA_SNAP_END | (s->absent ? IA_SNAP_ABSENT : 0), end_ns);
	b.e.end_ns = end_ns;
	b.e.count = (__u32)s->n;
	return emit(ctx, &b.e.hdr);
}
