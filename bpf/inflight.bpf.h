/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The in-flight request frames of the request hooks (requests.bpf.c: the
 * DMA API; iova.bpf.c: the two-step IOVA API): a frame is pushed at a
 * call's entry and popped at its exit, so the page-table writes and nested
 * calls in between carry its id. Also the macros that make the four
 * programs (fentry, fexit, kprobe, kretprobe) of one request hook.
 */
#ifndef IA_INFLIGHT_BPF_H
#define IA_INFLIGHT_BPF_H

#include "audit.bpf.h"
#include "device.bpf.h"
#include "site.bpf.h"

/*
 * The stack map holds another stack in this one's hash bucket (it never
 * replaces one: an id keeps meaning one stack). Send the frames in the ring
 * buffer instead (struct ia_ev_kstack), under an inline id that the request
 * record will carry. Returns the id, or -1 when there was no room.
 */
static __always_inline __s32 inline_stack(void *ctx, __u64 req_id)
{
	struct ia_ev_kstack *k = bpf_ringbuf_reserve(&events, sizeof(*k), 0);
	__s32 id = IA_STACK_INLINE | (__s32)(req_id & (IA_STACK_INLINE - 1));
	long n;

	if (!k)
		return -1;
	ia_hdr_init(&k->hdr, IA_EV_KSTACK, sizeof(*k));
	k->hdr.req_id = req_id;
	n = bpf_get_stack(ctx, k->ips, sizeof(k->ips), 0);
	if (n <= 0) {
		bpf_ringbuf_discard(k, 0);
		return -1;
	}
	k->stack_id = id;
	k->nr = n / sizeof(__u64);
	ia_submit(k);
	return id;
}

/*
 * Requests that read no clock at entry: an unmap's one time is its IOVA
 * release's (its page-table removal waits there for it, struct
 * ia_ev_bundle), which its record and entry_ns then take; what else needs
 * a time before it reads the clock itself.
 */
static __always_inline bool lazy_time(__u32 kind)
{
	return kind == IA_REQ_UNMAP_PAGE || kind == IA_REQ_UNMAP_SG ||
	       kind == IA_REQ_UNMAP_RESOURCE || kind == IA_REQ_FREE ||
	       kind == IA_REQ_FREE_NONCONTIG || kind == IA_REQ_FREE_PAGES;
}

/*
 * Argument n of a fentry or fexit program as a number: a typed pointer
 * argument may not take part in arithmetic (ia_addr()), and the verifier
 * inlines bpf_get_func_arg() into one load from the trampoline's frame
 * where ia_addr() is a helper call, a probe read (about 0.2 us under TCG).
 * Kernels before it (v5.17, "bpf: Add get_func_[arg|ret|arg_cnt]
 * helpers") take the probe read.
 */
static __always_inline __u64 ia_func_arg(__u64 *ctx, __u32 n)
{
	__u64 v = 0;

	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_func_arg)) {
		bpf_get_func_arg(ctx, n, &v);
		return v;
	}
	return ia_addr((void *)ctx[n & (IA_MAX_ARGS - 1)]);
}

/* kprobe: ctx is the kprobe's pt_regs, and args what it read from them */
static __always_inline void req_enter(void *ctx, __u32 kind, struct device *dev,
				      const __u64 *args, bool kprobe)
{
	struct ia_dev_view v = {};
	struct ia_frame *f, *up;
	struct ia_inflight *st;
	bool allowed = true;
	__u64 entry_ns = 0;
	__u32 d;

	if (!armed)	/* not every exit program attached yet (state.bpf.c) */
		return;
	st = ia_inflight_get(true);
	if (!st) {
		ia_drop(IA_DROP_INFLIGHT);
		return;
	}
	d = st->depth;
	if (d >= inflight_depth) {
		/* keep counting so the pops stay balanced; attribution is lost */
		st->depth = d + 1;
		ia_drop(IA_DROP_INFLIGHT);
		return;
	}
	if (d == 0) {
		/* the device's address as a number: arg 0 */
		allowed = ia_dev_observe_key(dev, kprobe ? args[0] : ia_func_arg(ctx, 0), 0,
					     !kprobe, lazy_time(kind), &v);
	} else {
		/* nested requests inherit the root's verdict, its device's
		 * context and its entry time (no clock read: see ts_ns in
		 * event/ia_events.h) */
		up = &st->f[ia_slot(d - 1)];
		allowed = up->req_id != IA_REQ_FILTERED;
		v.domain = up->domain;
		v.granule = up->granule;
		v.fq_cookie = up->fq_cookie;
		entry_ns = up->entry_ns;
	}
	f = &st->f[ia_slot(d)];
	st->depth = d + 1;
	f->dev = (__u64)dev;
	f->kind = kind;
	f->entry_dma = 0;
	f->domain = v.domain;
	f->granule = v.granule;
	f->fq_cookie = v.fq_cookie;
	f->last_ns = 0;
	f->tp_type = 0;
	f->pt_kept = 0;
	f->unmap_flags = 0;
	if (args) {
		__builtin_memcpy(f->args, args, sizeof(f->args));
	} else if (kind == IA_REQ_UNMAP_PAGE || kind == IA_REQ_UNMAP_RESOURCE) {
		/* (dev, handle, size, dir, attrs): what the release's record
		 * of this unmap needs and cannot read (flush.bpf.c) */
		f->args[3] = ((__u64 *)ctx)[3];
		f->args[4] = ((__u64 *)ctx)[4];
	}
	if (!allowed) {
		f->req_id = IA_REQ_FILTERED;
		return;
	}
	f->req_id = __sync_fetch_and_add(&req_seq, 1) + 1;
	if (d > 0)
		f->entry_ns = entry_ns;
	else
		f->entry_ns = lazy_time(kind) ? 0 : bpf_ktime_get_ns();
	/* the root request's call site; nested ones share it */
	f->stack_id = -1;
	if (d == 0 && capture_stacks) {
		if (full_stacks)
			f->stack_id = ia_site_plain(ctx);
		else
			f->stack_id = kprobe ? ia_site_stack_kprobe(ctx) :
					       ia_site_stack_fentry(ctx);
		if (f->stack_id == -EEXIST)
			f->stack_id = inline_stack(ctx, f->req_id);
		if (f->stack_id < 0)
			ia_drop(IA_DROP_STACK);
	}
}

/* What a request's exit takes of its frame (req_pop()). */
struct ia_popped {
	__u64 req_id;
	__u64 entry_ns;
	__u64 last_ns;
	__u64 entry_dma;
	__s32 stack_id;
	__u32 pad;
};

/*
 * Pop the frame of a request of this kind and device from the in-flight
 * stack st (NULL: the task has none) into *f, with its parent's id. A
 * fexit without a matching frame (the call was already running when we
 * attached, or a frame was lost) gets a fresh id, entry_ns 0 and no
 * stack. False when the request belongs to a device the --device filter
 * excludes: then nothing is to be emitted. Only the fields the record
 * takes are copied: under TCG every load and store of a frame copy goes
 * through the emulated TLB (a whole frame and its clearing were about
 * 60 of them per exit).
 */
static __always_inline bool req_pop(struct ia_inflight *st, __u32 kind,
				    struct device *dev, struct ia_popped *f,
				    __u64 *parent)
{
	__u32 d = st ? st->depth : 0;

	f->req_id = 0;
	f->entry_ns = 0;
	f->last_ns = 0;
	f->entry_dma = 0;
	f->stack_id = -1;
	f->pad = 0;
	*parent = 0;
	if (d > inflight_depth) {
		st->depth = d - 1;	/* an overflowed frame: nothing stored */
		d = 0;
	} else if (d > 0) {
		struct ia_frame *top = &st->f[ia_slot(d - 1)];

		/* a removal its release did not take, a tracepoint's
		 * record no write folded: before the request's own */
		ia_pt_flush(top);
		ia_tp_flush(top);
		if (top->kind != kind || top->dev != (__u64)dev) {
			/* not ours: a frame was lost; leave the stack alone */
			ia_drop(IA_DROP_INFLIGHT);
		} else {
			f->req_id = top->req_id;
			f->entry_ns = top->entry_ns;
			f->last_ns = top->last_ns;
			f->entry_dma = top->entry_dma;
			f->stack_id = top->stack_id;
			st->depth = d - 1;
			if (d > 1) {
				struct ia_frame *up = &st->f[ia_slot(d - 2)];

				*parent = up->req_id;
				if (f->last_ns > up->last_ns)
					up->last_ns = f->last_ns;
			}
		}
	}
	if (f->req_id == IA_REQ_FILTERED)
		return false;
	if (!f->req_id) {
		f->req_id = __sync_fetch_and_add(&req_seq, 1) + 1;
		f->stack_id = -1;
	}
	return true;
}

/*
 * kretprobe: the arguments the kprobe saved in the frame on top. A frame
 * that overflowed the stack saved nothing: pop it here.
 */
static __always_inline bool req_saved_args(__u32 kind, __u64 a[IA_MAX_ARGS])
{
	struct ia_inflight *st = ia_inflight_get(false);
	__u32 d = st ? st->depth : 0;
	struct ia_frame *f;

	if (d > inflight_depth) {
		st->depth = d - 1;
		return false;
	}
	if (d == 0)
		return false;
	f = &st->f[ia_slot(d - 1)];
	if (f->kind != kind)
		return false;
	__builtin_memcpy(a, f->args, sizeof(f->args));
	return true;
}

/*
 * The four programs of one request hook. prog##_done(args, ret) builds the
 * record; nargs is the function's argument count (fexit's return value
 * follows the arguments in its context), RET for functions returning a value.
 */
#define REQ_ENTRY(prog, func, kind, started)				\
SEC("fentry/" #func)							\
int prog##_enter(__u64 *ctx)						\
{									\
	req_enter(ctx, kind, (void *)ctx[0], NULL, false);		\
	started(ctx);							\
	return 0;							\
}									\
SEC("kprobe/" #func)							\
int prog##_kenter(struct pt_regs *regs)					\
{									\
	__u64 a[IA_MAX_ARGS];						\
									\
	ia_regs_args(regs, a);						\
	req_enter(regs, kind, (void *)a[0], a, true);			\
	started(a);							\
	return 0;							\
}

/*
 * The exit programs of one request hook, fexit and kretprobe, making the
 * calls given (ctx: the fexit's context; a: the arguments the kprobe
 * saved, regs: the kretprobe's registers).
 */
#define REQ_EXIT_CALLS(prog, func, kind, fexit_call, kretprobe_call)	\
SEC("fexit/" #func)							\
int prog##_exit(__u64 *ctx)						\
{									\
	fexit_call;							\
	ia_inflight_put();						\
	return 0;							\
}									\
SEC("kretprobe/" #func)							\
int prog##_kexit(struct pt_regs *regs)					\
{									\
	__u64 a[IA_MAX_ARGS];						\
									\
	if (req_saved_args(kind, a))					\
		kretprobe_call;						\
	ia_inflight_put();						\
	return 0;							\
}

#define REQ_EXIT(prog, func, kind, ret_expr)				\
	REQ_EXIT_CALLS(prog, func, kind, prog##_done(ctx, ret_expr),	\
		       prog##_done(a, PT_REGS_RC(regs)))

/* ... for a request whose record needs argument n as a number (a struct
 * page's address, for its phys): prog##_done(args, ret, argn) */
#define REQ_EXIT_ARGN(prog, func, kind, ret_expr, n)			\
	REQ_EXIT_CALLS(prog, func, kind,					\
		       prog##_done(ctx, ret_expr, ia_func_arg(ctx, n)),	\
		       prog##_done(a, PT_REGS_RC(regs), a[n]))

#define NOTHING(args)
#define REQ_HOOK(prog, func, kind, nargs)				\
	REQ_ENTRY(prog, func, kind, NOTHING)				\
	REQ_EXIT(prog, func, kind, ctx[nargs])
#define REQ_HOOK_VOID(prog, func, kind)					\
	REQ_ENTRY(prog, func, kind, NOTHING)				\
	REQ_EXIT(prog, func, kind, 0)

#endif /* IA_INFLIGHT_BPF_H */
