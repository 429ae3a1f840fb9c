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

/*
 * The trampoline's frame, from its context up: the argument slots (at most
 * 7), the return value's slot (with an fexit), the saved RBP, then on 6.1
 * the return address into the traced function (the trampoline is called
 * from the function's first instruction) and the one into its caller; on
 * 7.2 the caller's return address right after the saved RBP (ftrace jumps
 * to the trampoline: "ftrace: supporting direct call with jmp"). So where
 * it lies is learned per traced function from one unwind, not assumed
 * (arch/x86/net/bpf_jit_comp.c, "Generated trampoline stack layout").
 * IA_SITE_CTX_SLOTS (audit.bpf.h) of them are read.
 */

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

/*
 * A stack whose stack map bucket holds another (bpf_get_stackid()'s
 * -EEXIST; for n distinct stacks in production mode's 1024 buckets, about
 * n^2 / 2048 of them): its frames into own_stacks, under IA_STACK_OWN | a
 * hash of them (FNV-1a), which its call site then keeps like a stack map
 * id. Record mode sends such a stack in the ring buffer instead
 * (inline_stack(), inflight.bpf.h). -1 when the table is full, or when
 * another stack has the id (1 in 2^29 per pair of stacks): a lost stack.
 */
static __always_inline __s32 ia_own_stack(void *ctx)
{
	__u32 zero = 0, id, i;
	struct ia_site_scratch *s = bpf_map_lookup_elem(&site_scratch, &zero);
	__u64 h = 0xcbf29ce484222325ULL, *old;

	if (!s || bpf_get_stack(ctx, s->ips, sizeof(s->ips), 0) <= 0)
		return -1;	/* past its frames, the buffer is zeroed */
	for (i = 0; i < IA_STACK_DEPTH; i++)
		h = (h ^ s->ips[i]) * 0x100000001b3ULL;
	id = IA_STACK_OWN | ((__u32)(h ^ (h >> 32)) & (IA_STACK_OWN - 1));
	if (!bpf_map_update_elem(&own_stacks, &id, s->ips, BPF_NOEXIST))
		return id;
	old = bpf_map_lookup_elem(&own_stacks, &id);
	if (!old)
		return -1;
	for (i = 0; i < IA_STACK_DEPTH; i++)
		if (old[i] != s->ips[i])
			return -1;
	return id;
}

/* The stack map's id of this stack, or (production mode) own_stacks' */
static __always_inline __s32 ia_site_id(void *ctx)
{
	__s32 id = ia_site_plain(ctx);

	if (id == -EEXIST && own_stack_ids)
		id = ia_own_stack(ctx);
	return id;
}

/* the real unwind, for a request whose site is not kept */
static __always_inline __s32 unwound(void *ctx)
{
	site_count(IA_SITE_UNWOUND);
	return ia_site_id(ctx);
}

/*
 * The loops below run in bpf_loop() callbacks: the verifier checks a
 * callback once, where it walks every iteration of a plain loop along
 * every path around it (unrolled, the learning paths made each root
 * program 300,000 instructions to verify, 7 s each under TCG).
 */
struct find_ips {
	const __u64 *ips;
	__u64 v;
	int found;
};

static long find_ips_step(__u32 j, void *data)
{
	struct find_ips *f = data;

	if (j >= IA_STACK_DEPTH)
		return 1;
	if (f->ips[j] != f->v)
		return 0;
	f->found = j;
	return 1;
}

/* The index of v in ips (zero-filled past the stack's end), or -1. */
static __always_inline int find_ips(const __u64 *ips, __u64 v)
{
	struct find_ips f = { .ips = ips, .v = v, .found = -1 };

	if (v)
		bpf_loop(IA_STACK_DEPTH, find_ips_step, &f, 0);
	return f.found;
}

/* Unwind into s->ips; the index of ret0 in it, or -1 (also when fewer
 * than IA_SITE_DEPTH frames follow it). */
static __always_inline int unwind_to(void *ctx, struct ia_site_scratch *s, __u64 ret0)
{
	long n = bpf_get_stack(ctx, s->ips, sizeof(s->ips), 0);
	int j;

	if (n <= 0)
		return -1;
	j = find_ips(s->ips, ret0);
	if (j < 0 || j + IA_SITE_DEPTH > n / (long)sizeof(__u64))
		return -1;
	return j;
}

struct scan_up {
	__u64 from;	/* the first slot searched */
	__u64 want;
	__s32 off;	/* its distance from the slot below from, once found */
};

/* One slot a step: a read that fails ends the search (the stack's top) */
static long scan_up_step(__u32 w, void *data)
{
	struct scan_up *c = data;
	__u64 v;

	if (bpf_probe_read_kernel(&v, sizeof(v), (void *)(c->from + 8 * w)))
		return 1;
	if (v != c->want)
		return 0;
	c->off = 8 * (w + 1);
	return 1;
}

/*
 * The traced function's first slot above ctx that holds a return address
 * of the unwinder's stack, past the one into the traced function itself
 * (ip: its address). -1 if none.
 */
struct learn_slot {
	struct ia_site_scratch *s;
	__u64 ip;
	int found;
};

/* bpf_loop() callback: is slot i a frame of the unwinder's stack? */
static long learn_slot_step(__u32 i, void *data)
{
	struct learn_slot *l = data;
	__u64 v;

	if (i >= IA_SITE_CTX_SLOTS)
		return 1;
	v = l->s->ctxw[i];
	if (v < 0xffff800000000000ull ||	/* not a kernel address */
	    (v > l->ip && v <= l->ip + 16))	/* into the traced function */
		return 0;
	if (find_ips(l->s->ips, v) < 0)
		return 0;
	l->found = i;
	return 1;
}

static __noinline int ia_site_learn_slot(void *ctx, __u64 ip)
{
	__u32 zero = 0;
	struct learn_slot l = { .ip = ip, .found = -1 };

	l.s = bpf_map_lookup_elem(&site_scratch, &zero);
	if (!l.s || bpf_probe_read_kernel(l.s->ctxw, sizeof(l.s->ctxw), ctx) ||
	    bpf_get_stack(ctx, l.s->ips, sizeof(l.s->ips), 0) <= 0)
		return -1;
	bpf_loop(IA_SITE_CTX_SLOTS, learn_slot_step, &l, 0);
	return l.found;
}

/*
 * The per-CPU caches (struct ia_site_fast, audit.bpf.h). chk mixes an
 * entry's fields: a torn entry (a nested program's write in the middle
 * of another's) fails it.
 */
#define IA_SITE_CHK	0x9e3779b9u

static __always_inline __u32 ent_chk(__u64 k, __s32 v)
{
	return (__u32)(k ^ (k >> 32)) ^ (__u32)v ^ IA_SITE_CHK;
}

static __always_inline __u32 ent_idx(__u64 k)
{
	return (__u32)((k >> 3) ^ (k >> 11));
}

/* The value cached for key k in e (1), or none (0). */
static __always_inline int ent_get(const struct ia_site_hop_ent *e, __u64 k, __s32 *v)
{
	__u64 ek = e->ret;
	__s32 ev = e->hop;
	__u32 ec = e->chk;

	if (ek != k || ec != ent_chk(ek, ev))
		return 0;
	*v = ev;
	return 1;
}

static __always_inline void ent_put(struct ia_site_hop_ent *e, __u64 k, __s32 v)
{
	e->chk = 0;
	e->ret = k;
	e->hop = v;
	e->chk = ent_chk(k, v);
}

/* The distance learned from return address ret to the next (1), or none
 * learned yet (0): the cache, else the hash map (then cached). */
static __always_inline int fast_hop(struct ia_site_fast *c, __u64 ret, __s32 *hop)
{
	struct ia_site_hop_ent *e = &c->hop[ent_idx(ret) & (IA_SITE_HCACHE - 1)];
	__s32 *h;

	if (ent_get(e, ret, hop))
		return 1;
	h = bpf_map_lookup_elem(&site_hops, &ret);
	if (!h)
		return 0;
	*hop = *h;
	ent_put(e, ret, *hop);
	return 1;
}

/*
 * Where the traced function's return address lies, in u64 slots from a
 * fentry or fexit program's context; -1 if unknown (learned once per
 * traced function, cached per CPU).
 */
static __always_inline int ia_site_fentry_idx(void *ctx, struct ia_site_fast *c, __u8 **ext)
{
	__u64 ip = bpf_get_func_ip(ctx);
	__u32 ci = ent_idx(ip) & (IA_SITE_SLOTC - 1);
	struct ia_site_hop_ent *e = c ? &c->slot[ci] : NULL;
	__u32 *i;
	__s32 v;
	int got;

	*ext = c ? &c->ext[ci] : NULL;

	if (e && ent_get(e, ip, &v))
		return v;
	i = bpf_map_lookup_elem(&site_slots, &ip);
	if (i) {
		got = *i % IA_SITE_CTX_SLOTS;
	} else {
		got = ia_site_learn_slot(ctx, ip);
		if (got < 0)
			return -1;
		v = got;
		bpf_map_update_elem(&site_slots, &ip, &v, BPF_ANY);
		got %= IA_SITE_CTX_SLOTS;
	}
	if (e)
		ent_put(e, ip, got);
	return got;
}

/*
 * The address of slot idx (ia_site_fentry_idx()) above a fentry or fexit
 * program's context; 0 if unknown (idx < 0).
 */
static __always_inline __u64 ia_site_fentry_slot(void *ctx, int idx)
{
	__u64 at = 0;
	void *p = ctx;

	if (idx < 0)
		return 0;
	/* ctx's address as a plain number: the verifier bounds a ctx pointer
	 * moved by a variable (the learned distances) to the context */
	if (bpf_probe_read_kernel(&at, sizeof(at), &p))
		return 0;
	return at + 8 * (idx % IA_SITE_CTX_SLOTS);
}

/* A kprobe at a function's entry: its return address is on top. */
static __always_inline __u64 ia_site_kprobe_slot(struct pt_regs *regs)
{
	return PT_REGS_SP(regs);
}

struct hop_walk {
	struct ia_site_scratch *s;	/* its key filled in, hop by hop */
	__u64 slot;	/* of the return address the hop starts from */
	int j;		/* the first return address's index in s->ips */
	int bad;	/* the walk failed: unwind */
};

/*
 * bpf_loop() callback, hop i: from return address i to i + 1, which the
 * unwinder says is s->ips[j + i + 1]: check the distance learned, or learn
 * it (a plain loop here was most of a root program's verification).
 */
static long hop_step(__u32 i, void *data)
{
	struct hop_walk *h = data;
	struct ia_site_scratch *s = h->s;
	__u64 want, v = 0, *from;
	__s32 *hop, off = 0, bad = -1;
	__u32 next;

	if (i >= IA_SITE_DEPTH - 1)
		return 1;
	/* masked after a barrier: the verifier loses the bound the compiler
	 * proved (the test above), and the compiler would drop the mask */
	next = i + 1;
	barrier_var(i);
	barrier_var(next);
	from = &s->key.ret[i & (IA_SITE_DEPTH - 1)];
	want = s->ips[(h->j + next) & (IA_STACK_DEPTH - 1)];
	hop = bpf_map_lookup_elem(&site_hops, from);
	if (hop && *hop <= 0)
		goto fail;
	if (hop) {
		off = *hop;
		if (bpf_probe_read_kernel(&v, sizeof(v), (void *)(h->slot + off)) || v != want) {
			/* the distance changed: this frame varies */
			bpf_map_update_elem(&site_hops, from, &bad, BPF_ANY);
			goto fail;
		}
	} else {
		struct scan_up c = { .from = h->slot + 8, .want = want };

		bpf_loop(IA_SITE_SCAN, scan_up_step, &c, 0);
		off = c.off;
		if (!off) {	/* a bigger frame, or another stack */
			bpf_map_update_elem(&site_hops, from, &bad, BPF_ANY);
			goto fail;
		}
		bpf_map_update_elem(&site_hops, from, &off, BPF_NOEXIST);
	}
	h->slot += off;
	s->key.ret[next & (IA_SITE_DEPTH - 1)] = want;
	return 0;
fail:
	h->bad = 1;
	return 1;
}

/* The stack id of a new site, or of one that cannot be walked. */
static __noinline __s32 ia_site_new(void *ctx, __u64 slot)
{
	__u32 zero = 0;
	struct ia_site_scratch *s = bpf_map_lookup_elem(&site_scratch, &zero);
	struct ia_site_key *k;
	__s32 id;
	int j;

	if (!s || !slot)
		return unwound(ctx);
	k = &s->key;
	__builtin_memset(k, 0, sizeof(*k));
	if (bpf_probe_read_kernel(&k->ret[0], sizeof(k->ret[0]), (void *)slot))
		return unwound(ctx);
	j = unwind_to(ctx, s, k->ret[0]);
	if (j < 0) {
		/* not a return address of this stack: the trampoline's frame
		 * changed (another tool's fexit added a return value slot),
		 * so learn where it is again (a kprobe has nothing learned) */
		__u64 ip = bpf_get_func_ip(ctx);

		bpf_map_delete_elem(&site_slots, &ip);
		return unwound(ctx);
	}
	{
		struct hop_walk h = { .s = s, .slot = slot, .j = j };

		bpf_loop(IA_SITE_DEPTH - 1, hop_step, &h, 0);
		if (h.bad)
			return unwound(ctx);
	}
	id = ia_site_id(ctx);
	/* a collision in the stack map (-EEXIST, record mode: the caller
	 * sends that request's frames inline), or a full table: the next
	 * request unwinds */
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
	__u32 zero = 0;
	struct ia_site_scratch *s = bpf_map_lookup_elem(&site_scratch, &zero);
	int j;

	if (!s)
		return;
	site_count(IA_SITE_CHECKED);
	j = unwind_to(ctx, s, k->ret[0]);
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

static __always_inline __u64 key_mix(const struct ia_site_key *k)
{
	return k->ret[0] ^ (k->ret[1] * 3) ^ (k->ret[2] * 5) ^ (k->ret[3] * 7);
}

/* The stack id kept for site k (1), or none (0): the cache, else the hash
 * map (then cached). */
static __always_inline int fast_site(struct ia_site_fast *c, const struct ia_site_key *k,
				     __s32 *id)
{
	__u64 m = key_mix(k);
	struct ia_site_id_ent *e = &c->site[ent_idx(m) & (IA_SITE_SCACHE - 1)];
	struct ia_site_id_ent got = *e;
	__s32 *v;

	if (got.key.ret[0] == k->ret[0] && got.key.ret[1] == k->ret[1] &&
	    got.key.ret[2] == k->ret[2] && got.key.ret[3] == k->ret[3] &&
	    got.chk == ent_chk(m, got.id)) {
		*id = got.id;
		return 1;
	}
	v = bpf_map_lookup_elem(&site_stacks, k);
	if (!v)
		return 0;
	*id = *v;
	e->chk = 0;
	e->key = *k;
	e->id = *id;
	e->chk = ent_chk(m, *id);
	return 1;
}

/*
 * The walk of a site seen before, from what the caches hold and one read
 * of the stack: base, the address the window starts at (a program's
 * context, a kprobe's stack pointer), at, the slot of the traced
 * function's return address in it, n the window's slots read (1 ..
 * IA_SITE_WIN). 0 with the site's key and stack id, and in *used the
 * slots the walk needed; or -1: the walk leaves the window (*used 0), a
 * hop is not learned or cannot be walked, the site is new, the window is
 * in use (a program nested on this CPU), or the read failed (the stack
 * ends within the window): the single reads of ia_site_stack() then.
 */
static __always_inline int ia_site_fast(struct ia_site_fast *c, void *base, __u32 at,
					__u32 n, struct ia_site_key *k, __s32 *id,
					__u32 *used)
{
	int ok = -1;

	*used = 0;
	if (!c || c->busy)
		return -1;
	barrier_var(n);
	if (n == 0 || n > IA_SITE_WIN)
		n = IA_SITE_WIN;
	c->busy = 1;
	/* each slot read is a loop iteration of copy_from_kernel_nofault():
	 * under TCG, a window twice what the walk needs costs about as much
	 * as the rest of the walk (docs/benchmarks.md) */
	if (bpf_probe_read_kernel(c->win, n * sizeof(c->win[0]), base))
		goto out;
	for (int i = 0; i < IA_SITE_DEPTH; i++) {
		__u32 j = at;
		__s32 hop;

		if (at >= n)
			goto out;
		/* the mask after a barrier: the compiler drops it where it
		 * proved the test above, and the verifier needs it */
		barrier_var(j);
		k->ret[i] = c->win[j & (IA_SITE_WIN - 1)];
		if (i == IA_SITE_DEPTH - 1)
			break;
		if (!fast_hop(c, k->ret[i], &hop) || hop <= 0 || (hop & 7))
			goto out;
		at += (__u32)hop / 8;
	}
	*used = at + 1;
	if (fast_site(c, k, id))
		ok = 0;
out:
	c->busy = 0;
	return ok;
}

/*
 * The stack id of the call that made this root request: its site's when
 * the site was seen before (slot: where the traced function's return
 * address lies, 0 when unknown). *span: the slots from slot to the last
 * return address read, when the site was seen before, else 0.
 */
static __always_inline __s32 ia_site_stack(void *ctx, __u64 slot, __u32 *span)
{
	struct ia_site_key k;
	__u64 at = slot;
	__s32 *id;

	*span = 0;
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
	*span = (at - slot) / 8 + 1;
	site_count(IA_SITE_HIT);
	if (site_verify)
		ia_site_check(ctx, &k);
	return *id;
}

/* The window hint ext learns a walk that needed used slots (it only
 * grows, up to the whole window). */
static __always_inline void site_ext_grow(__u8 *ext, __u32 used)
{
	if (ext && used && used <= IA_SITE_WIN && used > *ext)
		*ext = used;
}

/*
 * The fast walk (ia_site_fast()) counted as the hit it is, and checked
 * against the unwinder under IA_SITE_VERIFY: 0 with *id, or -1. ext: the
 * traced function's window hint (struct ia_site_fast), NULL: none (read
 * the whole window); a walk that needed more than the hint read resets
 * it, so the next one reads all and learns.
 */
static __always_inline int site_fast_hit(void *ctx, struct ia_site_fast *c, void *base,
					 __u32 at, __u8 *ext, __s32 *id)
{
	__u32 n = ext && *ext ? *ext : IA_SITE_WIN, used;
	struct ia_site_key k;

	if (ia_site_fast(c, base, at, n, &k, id, &used)) {
		if (ext && !used && n < IA_SITE_WIN)
			*ext = 0;
		return -1;
	}
	site_ext_grow(ext, used);
	c->hits++;	/* per CPU; a nested program may lose one */
	if (site_verify)
		ia_site_check(ctx, &k);
	return 0;
}

/* ia_site_stack() from a fentry or fexit program, or a kprobe (regs) at
 * the function's entry: the fast walk when it can. */
static __always_inline __s32 ia_site_stack_fentry(void *ctx)
{
	__u32 zero = 0;
	struct ia_site_fast *c = bpf_map_lookup_elem(&site_fast, &zero);
	__u8 *ext;
	int idx = ia_site_fentry_idx(ctx, c, &ext);
	__u32 span;
	__s32 id;

	if (idx >= 0 && !site_fast_hit(ctx, c, ctx, idx, ext, &id))
		return id;
	id = ia_site_stack(ctx, ia_site_fentry_slot(ctx, idx), &span);
	/* what the single reads walked: the window the next walk reads (a
	 * whole window may end past the stack's top, and its read fail) */
	if (span && idx >= 0)
		site_ext_grow(ext, idx + span);
	return id;
}

static __always_inline __s32 ia_site_stack_kprobe(struct pt_regs *regs)
{
	__u32 zero = 0;
	/* read once, first: a second use made the compiler move the context
	 * pointer to the field, which the verifier refuses */
	__u64 sp = ia_site_kprobe_slot(regs);
	struct ia_site_fast *c = bpf_map_lookup_elem(&site_fast, &zero);
	__s32 id;

	/* kprobe mode is the fallback: its traced function is not known
	 * here without a helper call, so the whole window */
	__u32 span;

	if (!site_fast_hit(regs, c, (void *)sp, 0, NULL, &id))
		return id;
	return ia_site_stack(regs, sp, &span);
}

#endif /* IA_SITE_BPF_H */
