// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "ksyms.h"
#include "loader.h"
#include "stackrec.h"

void ia_stack_cache_init(struct ia_stack_cache *c)
{
	memset(c, 0, sizeof(*c));
	ia_u64map_init(&c->done);
}

void ia_stack_cache_free(struct ia_stack_cache *c)
{
	ia_ksyms_free(c->ksyms);
	ia_u64map_free(&c->done);
	c->ksyms = NULL;
}

bool ia_stack_cache_new(struct ia_stack_cache *c, struct ia_session *s, __s32 id,
			struct ia_stackrec *rec)
{
	__u64 ips[IA_STACK_DEPTH];
	int n;

	if (id < 0 || ia_u64map_get(&c->done, (__u64)id + 1))
		return false;
	/* remembered even when the map is full: then only written twice */
	ia_u64map_put(&c->done, (__u64)id + 1, (void *)1);
	if (!c->ksyms_tried) {
		c->ksyms = ia_ksyms_load("/proc/kallsyms");
		c->ksyms_tried = true;
	}
	memset(rec, 0, sizeof(*rec));
	n = ia_session_stack(s, id, ips, IA_STACK_DEPTH);
	rec->s.hdr.type = IA_EV_STACK;
	rec->s.stack_id = id;
	for (int i = 0; i < n; i++) {
		struct ia_stack_frame *f = &rec->f[rec->s.nr];

		f->ip = ips[i];
		ia_ksyms_symbolize(c->ksyms, ips[i], f->sym, sizeof(f->sym));
		/* our own BPF program and its trampoline are not the call site */
		if (rec->s.nr == 0 && strstr(f->sym, " [bpf]"))
			continue;
		rec->s.nr++;
	}
	rec->s.hdr.size = sizeof(rec->s) + rec->s.nr * sizeof(rec->f[0]);
	return true;
}
