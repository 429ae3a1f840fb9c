/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The table of kernel hooks and what each one is for, and the choice of the
 * variant that the running kernel has (by its BTF), so every run can state
 * its coverage: which hooks are attached and so which checks are complete.
 */
#ifndef IA_HOOKS_H
#define IA_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "event/ia_events.h"

struct btf;

/* The checks of DESIGN.md section 2, and what each needs to be complete. */
enum ia_check {
	IA_CHECK_TRANSLATION	= 1u << 0,
	IA_CHECK_EXPOSURE	= 1u << 1,
	IA_CHECK_ALIGNMENT	= 1u << 2,
	IA_CHECK_LIFECYCLE	= 1u << 3,
	IA_CHECK_TEMPORAL	= 1u << 4,
	IA_CHECK_BOUNCE		= 1u << 5,
	IA_CHECK_ALL		= (1u << 6) - 1,
};
#define IA_NR_CHECKS 6

enum ia_attach_kind {
	IA_ATTACH_FENTRY,	/* fentry+fexit pair, or fexit alone */
	IA_ATTACH_TP_BTF,	/* raw BTF tracepoint: looked up as btf_trace_<name> */
	IA_ATTACH_KPROBE,	/* kprobe+kretprobe pair */
	/* not a hook: a kernel data symbol the programs read by address
	 * (enum ia_ksym; BTF cannot tell whether /proc/kallsyms lists it);
	 * the loader looks it up there and the row is missing, with the
	 * checks it feeds partial, when it is not */
	IA_ATTACH_KSYM,
};

#define IA_HOOK_MAX_VARIANTS 2
#define IA_MAX_HOOKS 80		/* rows of ia_hooks[]: status arrays' size */

struct ia_hook_variant {
	const char *target;	/* kernel function or tracepoint name */
	const char *progs[2];	/* skeleton programs: entry+exit pair, or one
				 * (none for a `via` variant) */
	const char *kprogs[2];	/* kprobe/kretprobe fallback; NULL: none */
	const char *since;	/* kernel version note for the docs/help */
	/* Set when the target moved into another hook's function: the name
	 * of that hook, whose programs record these requests too (no
	 * programs of its own; attached when that hook is) */
	const char *via;
};

struct ia_hook {
	const char *name;	/* stable name used in coverage reports */
	enum ia_attach_kind kind;
	__u32 checks;		/* enum ia_check bits that depend on it */
	const char *role;
	struct ia_hook_variant v[IA_HOOK_MAX_VARIANTS];
	/* NULL, or a struct of the API the hook watches: a kernel whose BTF
	 * lacks it lacks the API, so nothing can call it (IA_HOOK_ABSENT);
	 * with the struct there, a missing target is lost coverage */
	const char *api_struct;
	const char *api_since;	/* when that API came, for the reason */
	/* a row added after traces were recorded without it, whose absence
	 * from such a trace loses no check (their runs checked as before it) */
	bool unlisted_ok;
};

/* Outcome for one hook on this kernel. */
struct ia_hook_status {
	const struct ia_hook *hook;
	int variant;		/* index into hook->v, -1 when none exists */
	__u32 state;		/* enum ia_hook_state (trace.h) */
	bool kprobe;		/* the kprobe fallback programs are used */
	int fentry_err;		/* why fentry was given up (-errno), 0 if forced */
	char reason[76];	/* why missing/failed, or why kprobes */
};

/* The programs a hook status selects (kprobe fallback or not). */
const char *const *ia_hook_progs(const struct ia_hook_status *st);

extern const struct ia_hook ia_hooks[];
extern const size_t ia_nr_hooks;

/* Production mode's hooks (bpf/prod.bpf.c: counters in BPF, no record per
 * request), and the requests it does not count (NULL-terminated). */
extern const struct ia_hook ia_prod_hooks[];
extern const size_t ia_nr_prod_hooks;
extern const char *const ia_prod_not_counted[];

/*
 * The free hooks (record --free-hooks, bpf/frees.bpf.c): kmem tracepoints
 * every kernel has, opt-in for their cost, so outside ia_hooks[] (which
 * every run must attach for complete coverage): refused, they fail the
 * session. Their programs, NULL-terminated, and the tracepoints.
 */
#define IA_NR_FREE_HOOKS 3
extern const char *const ia_free_progs[IA_NR_FREE_HOOKS];
extern const char *const ia_free_tracepoints[IA_NR_FREE_HOOKS];
extern const char *const ia_free_sections[IA_NR_FREE_HOOKS];	/* tp_btf/, raw_tp/ */
/* the ksym they need (kfree's pointer to phys), in /proc/kallsyms */
/* The kernel data the programs read, named in enum ia_ksym's order. */
extern const char *const ia_ksym_names[IA_NR_KSYMS];

const char *ia_check_name(__u32 check);	/* one bit */

/*
 * Pick, for each hook, the first variant whose target exists in vmlinux_btf
 * (a function, or btf_trace_<tp> for a tracepoint). out has ia_nr_hooks
 * entries; a hook with no variant gets IA_HOOK_ABSENT when its API is not
 * in this kernel (api_struct), else IA_HOOK_MISSING, and a reason; a
 * variant with no programs (folded) gives IA_HOOK_ABSENT too; the others
 * get IA_HOOK_ATTACHED (provisional: the loader downgrades to
 * IA_HOOK_FAILED what then fails to load or attach).
 */
void ia_hooks_resolve(const struct btf *vmlinux_btf, struct ia_hook_status *out);
/* The same for another table of n hooks (ia_prod_hooks). */
void ia_hooks_resolve_table(const struct btf *vmlinux_btf, const struct ia_hook *table,
			    size_t n, struct ia_hook_status *out);

/*
 * Hooks recorded through another hook (their variant's `via`) take that
 * hook's outcome: attached (and how) or not, with its reason. Called after
 * resolving and after loading.
 */
void ia_hooks_follow_via(struct ia_hook_status *st, size_t n);

/*
 * The kernel data symbols (IA_ATTACH_KSYM rows) against addr[], the
 * addresses of ia_ksym_names[] read from path (err: errno of an unreadable
 * path, else 0): a row whose symbol has no address is missing, with the
 * reason. An address that is not there reads as 0, and each program that
 * needs it quietly returns nothing, or names less.
 */
void ia_hooks_check_ksyms(struct ia_hook_status *st, size_t n, const __u64 *addr, int err,
			  const char *path);

/* Checks made incomplete by hooks that are neither attached nor absent. */
__u32 ia_hooks_incomplete_checks(const struct ia_hook_status *st, size_t n);

/* Number of arguments of a kernel function per BTF, -1 if absent. */
int ia_btf_func_nargs(const struct btf *btf, const char *func);

#endif
