// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the call-stack records of live runs (user/live/stackrec.c) for
 * the stacks the BPF stack map had no room for: IA_EV_KSTACK records under
 * inline ids. A table of ring-buffer records goes through ia_stack_pass()
 * as record and live use it; each row says what must come out: a stack
 * record first (and under which id), and the record passed on (none for a
 * KSTACK, a request with which stack id).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "live/stackrec.h"

#define INL(n)	((__s32)(IA_STACK_INLINE | (n)))

struct row {
	const char *what;
	bool kstack;		/* an IA_EV_KSTACK of frames A (0) or B (1) */
	int frames;
	__s32 id;		/* its inline id, or the request's stack id */
	/* expected */
	__s32 stack_out;	/* id of the stack record passed first; -1: none */
	bool passed;		/* a record passed on */
	__s32 req_id_out;	/* the stack id of the request passed on */
};

static const __u64 frames[2][3] = {
	{ 0xffffffff81000010ull, 0xffffffff81000020ull, 0xffffffff81000030ull },
	{ 0xffffffff81000110ull, 0xffffffff81000120ull, 0xffffffff81000130ull },
};

static const struct row rows[] = {
	{ "first inline stack: becomes a stack record", true, 0, INL(5), INL(5), false, 0 },
	{ "its request: passed on unchanged", false, 0, INL(5), -1, true, INL(5) },
	{ "same frames under a new id: no record", true, 0, INL(9), -1, false, 0 },
	{ "its request: named by the first id", false, 0, INL(9), -1, true, INL(5) },
	{ "other frames: a record of their own", true, 1, INL(12), INL(12), false, 0 },
	{ "their request: unchanged", false, 0, INL(12), -1, true, INL(12) },
	{ "a request without a stack (-1): unchanged", false, 0, -1, -1, true, -1 },
	{ "an inline id never announced: unchanged", false, 0, INL(77), -1, true, INL(77) },
};

static void test_inline_table(void **state)
{
	struct ia_stack_cache c;

	(void)state;
	ia_stack_cache_init(&c);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct ia_ev_kstack k = { 0 };
		struct ia_ev_req q = { 0 };
		struct ia_stack_passed p;
		const struct ia_ev_hdr *h, *out;
		size_t len;

		if (r->kstack) {
			k.hdr.type = IA_EV_KSTACK;
			k.hdr.size = sizeof(k);
			k.stack_id = r->id;
			k.nr = 3;
			memcpy(k.ips, frames[r->frames], sizeof(frames[0]));
			h = &k.hdr;
			len = sizeof(k);
		} else {
			q.hdr.type = IA_EV_REQ;
			q.hdr.size = sizeof(q);
			q.stack_id = r->id;
			h = &q.hdr;
			len = sizeof(q);
		}
		out = ia_stack_pass(&c, NULL, h, len, &p);
		if ((r->stack_out >= 0) != p.has_stack ||
		    (p.has_stack && p.stack.s.stack_id != r->stack_out))
			fail_msg("%s: stack record: got %s %d, want %s %d", r->what,
				 p.has_stack ? "id" : "none", p.has_stack ? p.stack.s.stack_id : 0,
				 r->stack_out >= 0 ? "id" : "none", r->stack_out);
		if (p.has_stack && (p.stack.s.nr != 3 || p.stack.f[0].ip != frames[r->frames][0] ||
				    p.stack.s.hdr.type != IA_EV_STACK ||
				    p.stack.s.hdr.size != sizeof(p.stack.s) + 3 * sizeof(p.stack.f[0])))
			fail_msg("%s: stack record: %u frames, first 0x%llx, size %u", r->what,
				 p.stack.s.nr, (unsigned long long)p.stack.f[0].ip, p.stack.s.hdr.size);
		if (!!out != r->passed)
			fail_msg("%s: passed on: got %d, want %d", r->what, !!out, r->passed);
		if (out && ((const struct ia_ev_req *)out)->stack_id != r->req_id_out)
			fail_msg("%s: request stack id: got 0x%x, want 0x%x", r->what,
				 ((const struct ia_ev_req *)out)->stack_id, r->req_id_out);
		if (out && out != h && out->size != sizeof(q))
			fail_msg("%s: patched copy has size %u", r->what, out->size);
	}
	ia_stack_cache_free(&c);
}

/* A truncated KSTACK is consumed without a record (never read past len). */
static void test_short_kstack(void **state)
{
	struct ia_stack_cache c;
	struct ia_ev_kstack k = { .hdr = { .type = IA_EV_KSTACK }, .stack_id = INL(1), .nr = 3 };
	struct ia_stack_passed p;

	(void)state;
	ia_stack_cache_init(&c);
	assert_null(ia_stack_pass(&c, NULL, &k.hdr, sizeof(k.hdr), &p));
	assert_false(p.has_stack);
	ia_stack_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_table),
		cmocka_unit_test(test_short_kstack),
	};

	return cmocka_run_group_tests_name("stackrec", tests, NULL, NULL);
}
