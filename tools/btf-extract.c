// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * btf-extract: the few kernel BTF types the unit tests need, out of a
 * kernel's full BTF (~5 MB), into a raw BTF of a few KB that can be checked
 * in (tests/data/btf/, made by tools/gen-test-btf.sh).
 *
 * usage: btf-extract VMLINUX OUT SPEC...
 *   NAME                 a function: kept as a FUNC whose prototype has the
 *                        same number of (int) parameters: what the hook
 *                        choice reads (user/live/hooks.c)
 *   btf_trace_NAME       a tracepoint's typedef (to a pointer to a proto)
 *   struct:S:M1,M2,...   struct S with only members M1, M2...: found by name
 *                        through anonymous unions and structs as CO-RE
 *                        finds them, at their real bit offsets (flattened),
 *                        with their real kinds (int, enum with all its
 *                        values, pointer, nested struct); a nested named
 *                        struct is copied with the members another struct:
 *                        spec names, else empty with its real size
 * A name the kernel does not have is skipped (and said on stderr): the
 * output then shows that kernel's absence, which is what tests assert.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>

struct spec {
	const char *name;
	char *members;		/* comma-separated */
};

struct ctx {
	const struct btf *src;
	struct btf *out;
	struct spec *structs;
	int nr_structs;
	int *copied;		/* src id -> out id, 0: not yet */
	int int_id;		/* "int" in out, for the prototypes */
};

static const struct spec *struct_spec(const struct ctx *c, const char *name)
{
	for (int i = 0; i < c->nr_structs; i++)
		if (!strcmp(c->structs[i].name, name))
			return &c->structs[i];
	return NULL;
}

static int copy_type(struct ctx *c, int id);

/* Member `name` of struct/union sid, through anonymous members; its bit
 * offset from the start of sid goes to *off. Returns its type id or 0. */
static int find_member(const struct btf *btf, int sid, const char *name, __u32 *off)
{
	const struct btf_type *t = btf__type_by_id(btf, sid);
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		__u32 moff = btf_member_bit_offset(t, i);
		int mt = btf__resolve_type(btf, m->type);
		const struct btf_type *mtt = btf__type_by_id(btf, mt);

		if (mn && *mn && !strcmp(mn, name)) {
			*off = moff;
			return m->type;
		}
		if ((!mn || !*mn) && mtt && (btf_is_struct(mtt) || btf_is_union(mtt))) {
			__u32 inner;
			int r = find_member(btf, mt, name, &inner);

			if (r) {
				*off = moff + inner;
				return r;
			}
		}
	}
	return 0;
}

/*
 * A struct: for a named one the members its spec lists (none without a
 * spec), for an anonymous one (atomic64_t's) all of them. The member types
 * are copied first: btf__add_field() appends to the type added last.
 */
static int copy_struct(struct ctx *c, int id, const struct btf_type *t, const char *name)
{
	const struct spec *sp = name && *name ? struct_spec(c, name) : NULL;
	const char *want[64];
	int types[64], nr = 0, nid;
	__u32 offs[64];
	char *list = NULL, *m, *save = NULL;

	if (name && *name && sp) {
		list = strdup(sp->members);
		for (m = strtok_r(list, ",", &save); m && nr < 64; m = strtok_r(NULL, ",", &save)) {
			types[nr] = find_member(c->src, id, m, &offs[nr]);
			if (!types[nr]) {
				fprintf(stderr, "btf-extract: %s has no member %s\n", name, m);
				continue;
			}
			want[nr++] = m;
		}
	} else if (!name || !*name) {
		for (int i = 0; i < btf_vlen(t) && nr < 64; i++) {
			const struct btf_member *bm = btf_members(t) + i;

			want[nr] = btf__name_by_offset(c->src, bm->name_off);
			types[nr] = bm->type;
			offs[nr++] = btf_member_bit_offset(t, i);
		}
	}
	for (int i = 0; i < nr; i++) {
		types[i] = copy_type(c, types[i]);
		if (types[i] < 0) {
			free(list);
			return types[i];
		}
	}
	nid = btf__add_struct(c->out, name && *name ? name : NULL, t->size);
	for (int i = 0; nid > 0 && i < nr; i++)
		if (btf__add_field(c->out, want[i], types[i], offs[i], 0))
			nid = -EINVAL;
	free(list);
	if (nid > 0)
		c->copied[id] = nid;
	return nid;
}

static int copy_type(struct ctx *c, int id)
{
	const struct btf_type *t;
	const char *name;
	int nid, sub;

	if (!id)
		return 0;
	if (c->copied[id])
		return c->copied[id];
	t = btf__type_by_id(c->src, id);
	name = btf__name_by_offset(c->src, t->name_off);
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		nid = btf__add_int(c->out, name, t->size, btf_int_encoding(t));
		break;
	case BTF_KIND_ENUM: {
		const struct btf_enum *e = btf_enum(t);

		nid = btf__add_enum(c->out, name, t->size);
		for (int i = 0; nid > 0 && i < btf_vlen(t); i++, e++)
			if (btf__add_enum_value(c->out, btf__name_by_offset(c->src, e->name_off),
						e->val))
				return -EINVAL;
		break;
	}
	case BTF_KIND_PTR: {
		const struct btf_type *to = btf__type_by_id(c->src, t->type);
		const char *tn = to ? btf__name_by_offset(c->src, to->name_off) : NULL;

		/* a pointer to a named struct: to its forward declaration */
		sub = 0;
		if (to && (btf_is_struct(to) || btf_is_union(to)) && tn && *tn)
			sub = btf__add_fwd(c->out, tn, btf_is_union(to) ? BTF_FWD_UNION :
					   BTF_FWD_STRUCT);
		if (sub < 0)
			return sub;
		nid = btf__add_ptr(c->out, sub);
		break;
	}
	case BTF_KIND_TYPEDEF:
		sub = copy_type(c, t->type);
		if (sub < 0)
			return sub;
		nid = btf__add_typedef(c->out, name, sub);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return copy_struct(c, id, t, name);
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return copy_type(c, t->type);
	default:	/* arrays, functions...: not needed, an int of the size */
		nid = btf__add_int(c->out, "unsigned char", 1, 0);
		break;
	}
	if (nid > 0)
		c->copied[id] = nid;
	return nid;
}

/* A function as FUNC of an int(int, ...) prototype with its arity. */
static int add_func(struct ctx *c, const char *name, int id)
{
	const struct btf_type *t = btf__type_by_id(c->src, id);
	const struct btf_type *proto = btf__type_by_id(c->src, t->type);
	int p = btf__add_func_proto(c->out, c->int_id);

	for (int i = 0; p > 0 && i < btf_vlen(proto); i++) {
		char pn[16];

		snprintf(pn, sizeof(pn), "a%d", i);
		if (btf__add_func_param(c->out, pn, c->int_id))
			return -EINVAL;
	}
	return p > 0 ? btf__add_func(c->out, name, BTF_FUNC_GLOBAL, p) : p;
}

static int add_tp(struct ctx *c, const char *name)
{
	int p = btf__add_func_proto(c->out, 0), ptr;

	if (p <= 0 || btf__add_func_param(c->out, "__data", c->int_id))
		return -EINVAL;
	ptr = btf__add_ptr(c->out, p);
	return ptr > 0 ? btf__add_typedef(c->out, name, ptr) : ptr;
}

int main(int argc, char **argv)
{
	struct ctx c = { 0 };
	const void *raw;
	__u32 size;
	FILE *f;
	int ret = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: btf-extract VMLINUX OUT SPEC...\n");
		return 2;
	}
	c.src = btf__parse(argv[1], NULL);
	if (!c.src) {
		fprintf(stderr, "btf-extract: %s: no BTF: %s\n", argv[1], strerror(errno));
		return 1;
	}
	c.out = btf__new_empty();
	c.copied = calloc(btf__type_cnt(c.src), sizeof(int));
	c.structs = calloc(argc, sizeof(*c.structs));
	if (!c.out || !c.copied || !c.structs)
		return 1;
	c.int_id = btf__add_int(c.out, "int", 4, BTF_INT_SIGNED);
	for (int i = 3; i < argc; i++)
		if (!strncmp(argv[i], "struct:", 7)) {
			char *s = strdup(argv[i] + 7), *colon = strchr(s, ':');

			if (!colon) {
				fprintf(stderr, "btf-extract: %s: want struct:S:M1,M2\n", argv[i]);
				return 2;
			}
			*colon = 0;
			c.structs[c.nr_structs].name = s;
			c.structs[c.nr_structs++].members = colon + 1;
		}
	for (int i = 3; i < argc && !ret; i++) {
		const char *n = argv[i];
		int id;

		if (!strncmp(n, "struct:", 7)) {
			const char *sn = c.structs[0].name;

			for (int k = 0; k < c.nr_structs; k++)
				if (!strncmp(n + 7, c.structs[k].name, strlen(c.structs[k].name)) &&
				    n[7 + strlen(c.structs[k].name)] == ':')
					sn = c.structs[k].name;
			id = btf__find_by_name_kind(c.src, sn, BTF_KIND_STRUCT);
			if (id > 0)
				ret = copy_type(&c, id) < 0;
			else
				fprintf(stderr, "btf-extract: no struct %s\n", sn);
		} else if (!strncmp(n, "btf_trace_", 10)) {
			if (btf__find_by_name_kind(c.src, n, BTF_KIND_TYPEDEF) > 0)
				ret = add_tp(&c, n) < 0;
			else
				fprintf(stderr, "btf-extract: no tracepoint %s\n", n);
		} else {
			id = btf__find_by_name_kind(c.src, n, BTF_KIND_FUNC);
			if (id > 0)
				ret = add_func(&c, n, id) < 0;
			else
				fprintf(stderr, "btf-extract: no function %s\n", n);
		}
	}
	if (ret) {
		fprintf(stderr, "btf-extract: cannot build the output BTF\n");
		return 1;
	}
	raw = btf__raw_data(c.out, &size);
	f = fopen(argv[2], "wb");
	if (!raw || !f || fwrite(raw, 1, size, f) != size || fclose(f)) {
		fprintf(stderr, "btf-extract: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	return 0;
}
