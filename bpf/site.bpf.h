/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Call stacks per call site, not per request.
 *
 * bpf_get_stackid() unwinds the whole stack with the ORC unwinder, through
 * the helper, the program and its trampoline: 15-20 us per call under TCG,
 * more than everything else a root request's program does
 * (docs/benchmarks.md, "Where a record pair's time goes"). A shorter walk
 * costs the same: the cost is the unwinder's setup, not the frames.
 *
 * What tells call sites apart is the first few return addresses above the
 * traced function, and those can be read without an unwinder: at the
 * entry of a function, its return address is on top of the stack (the
 * trampoline's frame holds it two slots above its saved RBP; a kprobe's
 * regs->sp points at it), and each further return address lies at a fixed
 * distance above the previous one: the frame size of the function that
 * return address is in, at that call instruction (what ORC's sp offset
 * for that address says). The kernel is built without frame pointers, so
 * that distance is learned, not read: the first time a return address is
 * met, one real unwind (bpf_get_stack) gives the next return address, and
 * the stack memory above is searched for it.
 *
 * So a root request costs IA_SITE_DEPTH probe reads and as many hash
 * lookups. A new site (a key never seen) takes the real unwind, checks
 * that its frames ARE the walked ones (a learned distance that gives
 * another address is marked unusable: a frame that varies, an interrupt
 * entry, a stack switch), and keeps the stack id of its first request for
 * all the others: the frames above the first IA_SITE_DEPTH are the first
 * request's (docs/architecture.md, "Call stacks"). `--full-stacks` unwinds
 * every request, as before.
 */
#ifndef IA_SITE_BPF_H
#define IA_SITE_BPF_H

#include "audit.bpf.h"

#define EEXIST		17	/* bpf_get_stackid(): the bucket holds another stack */

/* the trampoline's frame: at most 7 argument slots, the return value, the
 * saved RBP, the return address into the traced function, then the one
 * into its caller (arch/x86/net/bpf_jit_comp.c, "Generated trampoline
 * stack layout", the same on 6.1 and 7.2) */
#define IA_SITE_CTX_SLOTS	12

static __always_inline __s32 ia_site_plain(void *ctx)
{
	return bpf_get_stackid(ctx, &stacks, 0);
}

static __always_inline void site_count(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&site_counts, &what);

	if (n)
		(*n)++;		/* per CPU; a nested program may lose one */
}

/* the real unwind, for a request whose site is not kept */
static __always_inline __s32 unwound(void *ctx)
{
	site_count(IA_SITE_UNWOUND);
	return ia_site_plain(ctx);
}

/* Unwind into s->ips; the index of ret0 in it, or -1. */
static __always_inline int unwind_to(void *ctx, struct ia_site_scratch *s, __u64 ret0,
				     __u32 *nr)
{
	long n = bpf_get_stack(ctx, s->ips, sizeof(s->ips), 0);
	__u32 j;

	if (n <= 0)
		return -1;
	*nr = n / sizeof(__u64);
	for (j = 0; j < IA_STACK_DEPTH; j++)
		if (j >= *nr || s->ips[j] == ret0)
			break;
	if (j + IA_SITE_DEPTH > *nr || j + IA_SITE_DEPTH > IA_STACK_DEPTH)
		return -1;	/* not found, or too shallow */
	return j;
}

/*
 * Where the traced function's return address lies, from a fentry or fexit
 * program: the slot after the one that holds the return address into the
 * traced function (func+5, func+9 with an ENDBR). 0 if not found.
 */
static __always_inline __u64 ia_site_fentry_slot(void *ctx)
{
	__u64 w[IA_SITE_CTX_SLOTS], at = 0;
	__u64 ip = bpf_get_func_ip(ctx);
	void *p = ctx;

	/* ctx's address as a plain number: the verifier bounds a ctx pointer
	 * moved by a variable (the learned distances) to the context */
	if (bpf_probe_read_kernel(w, sizeof(w), ctx) ||
	    bpf_probe_read_kernel(&at, sizeof(at), &p))
		return 0;
	for (int i = 0; i < IA_SITE_CTX_SLOTS - 1; i++)
		if (w[i] > ip && w[i] <= ip + 16)
			return at + 8 * (i + 1);
	return 0;
}

/* A kprobe at a function's entry: its return address is on top. */
static __always_inline __u64 ia_site_kprobe_slot(struct pt_regs *regs)
{
	return PT_REGS_SP(regs);
}

/* The stack id of a new site, or of one that cannot be walked. */
static __noinline __s32 ia_site_new(void *ctx, __u64 slot)
{
	__u32 zero = 0, nr = 0;
	struct ia_site_scratch *s = bpf_map_lookup_elem(&site_scratch, &zero);
	struct ia_site_key *k;
	__s32 id, bad = -1;
	int j;

	if (!s || !slot)
		return unwound(ctx);
	k = &s->key;
	__builtin_memset(k, 0, sizeof(*k));
	if (bpf_probe_read_kernel(&k->ret[0], sizeof(k->ret[0]), (void *)slot))
		return unwound(ctx);
	j = unwind_to(ctx, s, k->ret[0], &nr);
	if (j < 0)
		return unwound(ctx);
	for (int i = 0; i < IA_SITE_DEPTH - 1; i++) {
		__u64 want = s->ips[(j + i + 1) & (IA_STACK_DEPTH - 1)], v = 0;
		__s32 *hop = bpf_map_lookup_elem(&site_hops, &k->ret[i]);
		__s32 off = 0;

		if (hop && *hop <= 0)
			return unwound(ctx);
		if (hop) {
			off = *hop;
			if (bpf_probe_read_kernel(&v, sizeof(v), (void *)(slot + off)) ||
			    v != want) {
				/* the distance changed: this frame varies */
				bpf_map_update_elem(&site_hops, &k->ret[i], &bad, BPF_ANY);
				return unwound(ctx);
			}
		} else {
			/* in pieces: the whole window may run past the top of
			 * the stack (an IRQ stack's end is followed by a guard) */
			for (int c = 0; c < IA_SITE_SCAN / IA_SITE_PIECE && !off; c++) {
				if (bpf_probe_read_kernel(s->win, sizeof(s->win),
							  (void *)(slot + 8 + c * sizeof(s->win))))
					break;
				for (int w = 0; w < IA_SITE_PIECE; w++)
					if (s->win[w] == want) {
						off = 8 * (c * IA_SITE_PIECE + w + 1);
						break;
					}
			}
			if (!off) {	/* a bigger frame, or another stack */
				bpf_map_update_elem(&site_hops, &k->ret[i], &bad, BPF_ANY);
				return unwound(ctx);
			}
			bpf_map_update_elem(&site_hops, &k->ret[i], &off, BPF_NOEXIST);
		}
		slot += off;
		k->ret[i + 1] = want;
	}
	id = ia_site_plain(ctx);
	/* a collision in the stack map (-EEXIST: the caller sends that
	 * request's frames inline), or a full table: the next request unwinds */
	if (id < 0 || bpf_map_update_elem(&site_stacks, k, &id, BPF_NOEXIST)) {
		site_count(IA_SITE_UNWOUND);
		return id;
	}
	site_count(IA_SITE_NEW);
	return id;
}

/* IA_SITE_VERIFY: do the walked return addresses match the unwinder's? */
static __noinline void ia_site_check(void *ctx, const struct ia_site_key *k)
{
	__u32 zero = 0, nr = 0;
	struct ia_site_scratch *s = bpf_map_lookup_elem(&site_scratch, &zero);
	int j;

	if (!s)
		return;
	site_count(IA_SITE_CHECKED);
	j = unwind_to(ctx, s, k->ret[0], &nr);
	if (j < 0) {
		site_count(IA_SITE_MISMATCH);
		return;
	}
	for (int i = 1; i < IA_SITE_DEPTH; i++)
		if (s->ips[(j + i) & (IA_STACK_DEPTH - 1)] != k->ret[i]) {
			site_count(IA_SITE_MISMATCH);
			return;
		}
}

/*
 * The stack id of the call that made this root request: its site's when
 * the site was seen before (slot: where the traced function's return
 * address lies, 0 when unknown).
 */
static __always_inline __s32 ia_site_stack(void *ctx, __u64 slot)
{
	struct ia_site_key k;
	__u64 at = slot;
	__s32 *id;

	if (!slot)
		return unwound(ctx);
	for (int i = 0; i < IA_SITE_DEPTH; i++) {
		__s32 *hop;

		if (bpf_probe_read_kernel(&k.ret[i], sizeof(k.ret[i]), (void *)at))
			return unwound(ctx);
		if (i == IA_SITE_DEPTH - 1)
			break;
		hop = bpf_map_lookup_elem(&site_hops, &k.ret[i]);
		if (!hop)		/* not met yet: learn it */
			return ia_site_new(ctx, slot);
		if (*hop <= 0)		/* cannot be walked */
			return unwound(ctx);
		at += *hop;
	}
	id = bpf_map_lookup_elem(&site_stacks, &k);
	if (!id)
		return ia_site_new(ctx, slot);
	site_count(IA_SITE_HIT);
	if (site_verify)
		ia_site_check(ctx, &k);
	return *id;
}

#endif /* IA_SITE_BPF_H */
