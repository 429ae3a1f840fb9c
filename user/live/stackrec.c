// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "lib/fnv.h"
#include "lib/ksyms.h"
#include "live/loader.h"
#include "live/stackrec.h"

void ia_stack_cache_init(struct ia_stack_cache *c)
{
	memset(c, 0, sizeof(*c));
	ia_u64map_init(&c->done);
	ia_u64map_init(&c->inline_first);
	ia_u64map_init(&c->inline_alias);
}

void ia_stack_cache_free(struct ia_stack_cache *c)
{
	ia_ksyms_free(c->ksyms);
	ia_u64map_free(&c->done);
	ia_u64map_free(&c->inline_first);
	ia_u64map_free(&c->inline_alias);
	c->ksyms = NULL;
}

/* /proc/modules' digest (ia_modules_digest()), 0 when it cannot be read */
static __u64 modules_digest(void)
{
	FILE *f = fopen("/proc/modules", "re");
	__u64 h;

	if (!f)
		return 0;
	h = ia_modules_digest(f);
	fclose(f);
	return h;
}

static void load_ksyms(struct ia_stack_cache *c)
{
	ia_ksyms_free(c->ksyms);
	c->modules = modules_digest();
	c->ksyms = ia_ksyms_load("/proc/kallsyms");
	c->ksyms_tried = true;
}

void ia_stack_cache_preload(struct ia_stack_cache *c)
{
	if (!c->ksyms_tried)
		load_ksyms(c);
}

/* Symbolize n frames into *rec, as stack id. */
static void fill(struct ia_stack_cache *c, __s32 id, const __u64 *ips, int n,
		 struct ia_stackrec *rec)
{
	/* a new stack is rare (once per call site): a module loaded since
	 * the symbols were read is worth the look */
	if (!c->ksyms_tried || modules_digest() != c->modules)
		load_ksyms(c);
	memset(rec, 0, sizeof(*rec));
	rec->s.hdr.type = IA_EV_STACK;
	rec->s.stack_id = id;
	for (int i = 0; i < n && i < IA_STACK_DEPTH; i++) {
		struct ia_stack_frame *f = &rec->f[rec->s.nr];

		f->ip = ips[i];
		ia_ksyms_symbolize(c->ksyms, ips[i], f->sym, sizeof(f->sym));
		/* our own BPF program and its trampoline are not the call site */
		if (rec->s.nr == 0 && strstr(f->sym, " [bpf]"))
			continue;
		rec->s.nr++;
	}
	rec->s.hdr.size = sizeof(rec->s) + rec->s.nr * sizeof(rec->f[0]);
}

bool ia_stack_cache_new(struct ia_stack_cache *c, struct ia_session *s, __s32 id,
			struct ia_stackrec *rec)
{
	__u64 ips[IA_STACK_DEPTH];

	__s32 *hit = &c->recent[(__u32)id % 64];

	/* inline ids: their record was made from their IA_EV_KSTACK */
	if (id < 0 || id >= IA_STACK_INLINE || *hit == id + 1)
		return false;
	if (ia_u64map_get(&c->done, (__u64)id + 1)) {
		*hit = id + 1;
		return false;
	}
	*hit = id + 1;
	/* remembered even when the map is full: then only written twice */
	ia_u64map_put(&c->done, (__u64)id + 1, (void *)1, NULL);
	fill(c, id, ips, s ? ia_session_stack(s, id, ips, IA_STACK_DEPTH) : 0, rec);
	return true;
}

/* FNV-1a over the frames: the key of an inline stack's content */
static __u64 frames_key(const __u64 *ips, __u32 n)
{
	__u64 h = IA_FNV_BASIS;

	for (__u32 i = 0; i < n; i++)
		for (int b = 0; b < 8; b++) {
			unsigned char c = (ips[i] >> (8 * b)) & 0xff;

			h = ia_fnv1a(h, &c, 1);
		}
	return h ? h : 1;	/* 0 is the map's "absent" */
}

bool ia_stack_cache_inline(struct ia_stack_cache *c, const struct ia_ev_kstack *k,
			   struct ia_stackrec *rec)
{
	__u32 n = k->nr < IA_STACK_DEPTH ? k->nr : IA_STACK_DEPTH;
	__u64 key = frames_key(k->ips, n);
	void *first = ia_u64map_get(&c->inline_first, key);

	if (k->stack_id < IA_STACK_INLINE)
		return false;
	if (first) {	/* the same frames came before: name that record */
		ia_u64map_put(&c->inline_alias, (__u64)k->stack_id,
			      (void *)(uintptr_t)(__u32)(uintptr_t)first, NULL);
		return false;
	}
	ia_u64map_put(&c->inline_first, key, (void *)(uintptr_t)(__u32)k->stack_id, NULL);
	fill(c, k->stack_id, k->ips, (int)n, rec);
	return true;
}

__s32 ia_stack_cache_resolve(struct ia_stack_cache *c, __s32 id)
{
	void *first;

	if (id < IA_STACK_INLINE)
		return id;
	/* an inline id is its request's alone (IA_STACK_INLINE | request
	 * id): its one request record takes the alias, which would otherwise
	 * stay, one per colliding request, for the whole run */
	first = ia_u64map_del(&c->inline_alias, (__u64)id);
	return first ? (__s32)(__u32)(uintptr_t)first : id;
}

const struct ia_ev_hdr *ia_stack_pass(struct ia_stack_cache *c, struct ia_session *s,
				      const struct ia_ev_hdr *rec, size_t len,
				      struct ia_stack_passed *out)
{
	const struct ia_ev_req *r = (const void *)rec;
	__s32 id;

	out->has_stack = false;
	if (rec->type == IA_EV_KSTACK) {
		if (len >= sizeof(struct ia_ev_kstack))
			out->has_stack = ia_stack_cache_inline(c, (const void *)rec, &out->stack);
		return NULL;
	}
	if (rec->type == IA_EV_FREED && len >= sizeof(struct ia_ev_freed)) {
		/* the freeing stack is new; the mapping's came with its request */
		out->has_stack = ia_stack_cache_new(c, s,
			((const struct ia_ev_freed *)rec)->free_stack_id, &out->stack);
		return rec;
	}
	if (rec->type != IA_EV_REQ || len < sizeof(*r))
		return rec;
	/* the call stack goes before the first request that names it */
	out->has_stack = ia_stack_cache_new(c, s, r->stack_id, &out->stack);
	id = ia_stack_cache_resolve(c, r->stack_id);
	if (id == r->stack_id || len != sizeof(*r))
		return rec;
	out->req = *r;
	out->req.stack_id = id;
	return &out->req.hdr;
}
