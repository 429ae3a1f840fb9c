// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "iommu_audit.skel.h"
#include "lookup/ksyms.skel.h"
#include "lib/ksyms.h"
#include "live/bpfstats.h"
#include "live/iommu_state.h"
#include "live/loader.h"
#include "live/pace.h"
#include "live/ringfold.h"
#include "trace/trace.h"
#include "lib/clock.h"

#define IA_MAX_LOAD_TRIES 64

struct ia_session {
	struct iommu_audit_bpf *skel;
	struct ring_buffer *rb;
	struct ia_hook_status hooks[IA_MAX_HOOKS];
	struct bpf_link *links[IA_MAX_HOOKS][2];
	struct bpf_link *free_links[IA_NR_FREE_HOOKS];	/* --free-hooks */
	size_t nr_hooks;
	ia_event_fn on_event;
	void *ctx;
	int cb_err;
	/* ia_session_poll()'s read budget (on_sample()): records read in
	 * this poll, when it must end, whether it ended so, and how often */
	__u64 poll_read;
	double poll_deadline;
	bool poll_cut;
	__u64 reads_cut;
	/* the ring's consumer and producer position pages, read-only
	 * (ia_session_reader()); MAP_FAILED when they could not be mapped */
	void *ring_pos;
	long ring_page;
	__u64 ring_size;
	struct ia_pace pace;	/* the reader's priority while behind */
	int run_stats_fd;	/* IA_BPF_STATS: keeps run-time stats on, or -1 */
	/* ia_ksym_names[]' addresses (0: not listed); ksym_err: errno of an
	 * unreadable /proc/kallsyms, else 0 */
	__u64 ksym_addr[IA_NR_KSYMS];
	int ksym_err;
	/* -v: what each step of ia_session_open() took (phase()) */
	int verbose;
	double t_last;
};

/*
 * With -v, one line per startup step and its seconds: under TCG a start is
 * 5-15 s, and where they go (BTF, kallsyms, the verifier, the trampolines)
 * decides what to make cheaper.
 */
static void phase(struct ia_session *s, const char *what)
{
	double now = ia_mono_s();

	if (s->verbose > 0)
		fprintf(stderr, "startup: %-34s %7.3f s\n", what, now - s->t_last);
	s->t_last = now;
}

/*
 * libbpf reports which program the kernel refused only through its print
 * callback, which takes no context pointer: this is the one piece of global
 * state, used only during ia_session_open().
 */
static struct {
	char failed_prog[64];
	int failed_err;
	int verbose;
	double t0;	/* -vv: libbpf's lines carry the seconds since the start */
} load_log;

static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	char line[256];
	const char *p;
	va_list copy;

	/* parse a copy (the verifier log is one huge message: print it whole) */
	va_copy(copy, ap);
	vsnprintf(line, sizeof(line), fmt, copy);
	va_end(copy);
	/* "libbpf: prog 'NAME': failed to load: -22" */
	p = strstr(line, "prog '");
	if (p && strstr(line, "failed to load")) {
		const char *q = strchr(p + 6, '\'');
		const char *e = strstr(line, "failed to load: ");

		if (q && (size_t)(q - p - 6) < sizeof(load_log.failed_prog)) {
			memcpy(load_log.failed_prog, p + 6, q - p - 6);
			load_log.failed_prog[q - p - 6] = 0;
			load_log.failed_err = e ? atoi(e + 16) : 0;
		}
	}
	if (lvl == LIBBPF_DEBUG && load_log.verbose < 2)
		return 0;
	if (lvl != LIBBPF_DEBUG && load_log.verbose < 1)
		return 0;	/* refusals are reported as coverage instead */
	if (load_log.verbose >= 2)
		fprintf(stderr, "%8.3f ", ia_mono_s() - load_log.t0);
	return vfprintf(stderr, fmt, ap);
}

static struct bpf_program *prog_by_name(struct iommu_audit_bpf *skel,
					const char *name)
{
	return name ? bpf_object__find_program_by_name(skel->obj, name) : NULL;
}

/* Index of the hook owning program name, or -1. */
static int hook_of_prog(const struct ia_session *s, const char *name)
{
	for (size_t i = 0; i < s->nr_hooks; i++) {
		const struct ia_hook *h = s->hooks[i].hook;

		for (int v = 0; v < IA_HOOK_MAX_VARIANTS; v++)
			for (int p = 0; p < 2; p++)
				if ((h->v[v].progs[p] && !strcmp(h->v[v].progs[p], name)) ||
				    (h->v[v].kprogs[p] && !strcmp(h->v[v].kprogs[p], name)))
					return (int)i;
	}
	return -1;
}

static void set_failed(struct ia_hook_status *st, const char *what, int err)
{
	st->state = IA_HOOK_FAILED;
	if (st->kprobe && st->fentry_err)	/* both ways failed: say both */
		snprintf(st->reason, sizeof(st->reason), "fentry: %s; kprobe %s: %s",
			 strerror(-st->fentry_err), what, strerror(err < 0 ? -err : err));
	else
		snprintf(st->reason, sizeof(st->reason), "%s%s: %s", st->kprobe ? "kprobe " : "",
			 what, strerror(err < 0 ? -err : err));
}

/*
 * The addresses of ia_ksym_names[] looked up by the kernel (lookup/ksyms.bpf.c):
 * 0 when every name was answered (found, or -ENOENT: absent, as a pass over
 * /proc/kallsyms would find it), else -1 and nothing changed, for that pass
 * to decide (hidden addresses, no syscall programs, an older kernel).
 */
static int ksyms_by_kernel(struct ia_session *s, const struct btf *btf)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);
	struct ia_ksyms_bpf *skel;
	int ret = -1;

	/* IA_KSYMS_FROM_PROC=1: the pass over /proc/kallsyms even here (the
	 * VM case smoke runs both ways and compares them with the file) */
	if (getenv("IA_KSYMS_FROM_PROC"))
		return -1;
	/* the binary search came with this function (6.2, ksyms.bpf.c) */
	if (!btf || btf__find_by_name_kind(btf, "kallsyms_on_each_match_symbol",
					   BTF_KIND_FUNC) < 0)
		return -1;
	skel = ia_ksyms_bpf__open_and_load();
	if (!skel)
		return -1;
	for (int i = 0; i < IA_NR_KSYMS; i++)
		snprintf(skel->bss->ksym_name[i], sizeof(skel->bss->ksym_name[i]), "%s",
			 ia_ksym_names[i]);
	if (!bpf_prog_test_run_opts(bpf_program__fd(skel->progs.lookup_ksyms), &run)) {
		ret = 0;
		for (int i = 0; i < IA_NR_KSYMS; i++)
			if (skel->bss->ksym_ret[i] && skel->bss->ksym_ret[i] != -ENOENT)
				ret = -1;
	}
	if (!ret)
		for (int i = 0; i < IA_NR_KSYMS; i++)
			s->ksym_addr[i] = skel->bss->ksym_ret[i] ? 0 : skel->bss->ksym_addr[i];
	ia_ksyms_bpf__destroy(skel);
	return ret;
}

/* The addresses of ia_ksym_names[] into s->ksym_addr: asked of the kernel,
 * else in one pass over kallsyms_path. */
static void read_ksyms(struct ia_session *s, const struct btf *btf, const char *kallsyms_path)
{
	FILE *f;

	s->ksym_err = 0;
	if (!ksyms_by_kernel(s, btf)) {
		phase(s, "kernel data addresses: by the kernel");
	} else {
		f = fopen(kallsyms_path, "re");
		if (!f || ia_ksyms_lookup(f, ia_ksym_names, s->ksym_addr, IA_NR_KSYMS) < 0)
			s->ksym_err = errno ? errno : EIO;
		if (f)
			fclose(f);
		phase(s, "kernel data addresses: /proc/kallsyms");
	}
	for (int i = 0; s->verbose > 0 && i < IA_NR_KSYMS; i++)
		fprintf(stderr, "ksym: %016llx %s\n", (unsigned long long)s->ksym_addr[i],
			ia_ksym_names[i]);
}

/* The free hooks (hooks.h): refused, they fail the session. */
static int attach_free_hooks(struct ia_session *s, char *err, size_t errlen)
{
	/* frees.bpf.c turns kfree's pointer into a phys with page_offset_base
	 * (a weak ksym: without it every slab free passes unseen) */
	if (!s->ksym_addr[IA_KSYM_PAGE_OFFSET_BASE]) {
		snprintf(err, errlen, "--free-hooks: %s not in /proc/kallsyms "
			 "(CONFIG_KALLSYMS_ALL off?): slab frees would go unseen",
			 ia_ksym_names[IA_KSYM_PAGE_OFFSET_BASE]);
		return -1;
	}
	for (int i = 0; i < IA_NR_FREE_HOOKS; i++) {
		s->free_links[i] = bpf_program__attach(prog_by_name(s->skel, ia_free_progs[i]));
		if (!s->free_links[i]) {
			snprintf(err, errlen, "--free-hooks: cannot attach kmem:%s: %s",
				 ia_free_tracepoints[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Production mode's tables: the caps asked for; the maps it does not use
 * (call stacks, the in-flight stacks and argument stash of the request
 * hooks) at one entry, and a ring buffer for device records only.
 */
#define IA_PROD_RINGBUF	(256 << 10)
#define IA_PROD_STACKS	1024	/* call stacks of the maps that expose bytes */

static int prod_bounds(struct iommu_audit_bpf *skel, const struct ia_session_opts *o,
		       char *err, size_t errlen)
{
	if (o->prod_max_devices &&
	    bpf_map__set_max_entries(skel->maps.prod_devs, o->prod_max_devices)) {
		snprintf(err, errlen, "bad production table size");
		return -1;
	}
	if (!o->stack_map)
		bpf_map__set_max_entries(skel->maps.stacks, IA_PROD_STACKS);
	/* no record per request to carry a stack whose bucket is taken */
	skel->rodata->own_stack_ids = 1;
	bpf_map__set_max_entries(skel->maps.inflight, 1);
	bpf_map__set_max_entries(skel->maps.inflight_slots, 1);
	if (!o->ringbuf_mb)
		bpf_map__set_max_entries(skel->maps.events, IA_PROD_RINGBUF);
	return 0;
}

/* A fault-injection knob (docs/testing.md) that takes only "1": 1 when
 * set, 0 when not, -EINVAL (and err) for any other value */
static int fault_knob_one(const char *name, char *err, size_t errlen)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return 0;
	if (strcmp(v, "1")) {
		snprintf(err, errlen, "%s=%s: only 1", name, v);
		return -EINVAL;
	}
	return 1;
}

static int configure(struct ia_session *s, const struct ia_session_opts *o,
		     const struct btf *btf, char *err, size_t errlen)
{
	struct iommu_audit_bpf *skel = s->skel;
	struct bpf_program *prog;
	long page = sysconf(_SC_PAGESIZE);
	const char *fault;
	int nargs, id;

	skel->rodata->page_shift = __builtin_ctzl(page > 0 ? page : 4096);
	id = btf ? btf__find_by_name_kind(btf, "page", BTF_KIND_STRUCT) : -1;
	if (id > 0)
		skel->rodata->struct_page_size = btf__resolve_size(btf, id);
	nargs = ia_btf_func_nargs(btf, "swiotlb_tbl_map_single");
	if (nargs > 0)
		skel->rodata->swiotlb_map_nargs = nargs;

	skel->rodata->capture_stacks = !o->no_stacks;
	skel->rodata->full_stacks = o->full_stacks;
	/* the VM test's witness for the call-site walk (bpf/site.bpf.h) */
	fault = getenv("IA_SITE_VERIFY");
	skel->rodata->site_verify = fault && !strcmp(fault, "1");
	/* fault injection (docs/testing.md, the overload test): an in-flight
	 * stack of N frames overflows at every request nested deeper */
	fault = getenv("IA_FAULT_INFLIGHT_DEPTH");
	if (fault && *fault) {
		unsigned long n = strtoul(fault, NULL, 10);

		if (n < 1 || n > skel->rodata->inflight_depth) {
			snprintf(err, errlen, "IA_FAULT_INFLIGHT_DEPTH=%s: 1 to %u",
				 fault, skel->rodata->inflight_depth);
			return -EINVAL;
		}
		skel->rodata->inflight_depth = (__u32)n;
	}
	/* ... and every task's in-flight stack in the one slot, so that the
	 * tasks in requests at once but the first take the LRU hash */
	switch (fault_knob_one("IA_FAULT_INFLIGHT_SLOTS", err, errlen)) {
	case 1: skel->rodata->inflight_slot_mask = 0; break;
	case -EINVAL: return -EINVAL;
	}
	skel->rodata->classify_pages = !o->no_classify;
	skel->rodata->free_hooks = o->free_hooks;
	skel->rodata->nr_dev_filters = o->nr_devices;
	for (int i = 0; i < o->nr_devices && i < IA_MAX_DEV_FILTERS_USER; i++) {
		if (strlen(o->devices[i]) >= IA_NAME_LEN) {
			snprintf(err, errlen, "device name too long: %s", o->devices[i]);
			return -EINVAL;
		}
		strcpy((char *)skel->rodata->dev_filters[i], o->devices[i]);
	}
	if (!o->production)
		bpf_map__set_max_entries(skel->maps.own_stacks, 1);
	else if (prod_bounds(skel, o, err, errlen))
		return -EINVAL;
	/* fault injection (the production case): a stack map of one bucket,
	 * so that every stack but the first collides */
	switch (fault_knob_one("IA_FAULT_STACK_MAP", err, errlen)) {
	case 1: bpf_map__set_max_entries(skel->maps.stacks, 1); break;
	case -EINVAL: return -EINVAL;
	}
	if (o->stack_map &&
	    bpf_map__set_max_entries(skel->maps.stacks, o->stack_map)) {
		snprintf(err, errlen, "bad stack map size %u", o->stack_map);
		return -EINVAL;
	}
	if (o->ringbuf_mb &&
	    bpf_map__set_max_entries(skel->maps.events, o->ringbuf_mb << 20)) {
		snprintf(err, errlen, "bad ring buffer size %u MiB", o->ringbuf_mb);
		return -EINVAL;
	}
	/* woken when an eighth of the ring waits, else on the poll timeout */
	skel->rodata->wake_bytes = bpf_map__max_entries(skel->maps.events) / 8;
	memcpy((void *)skel->rodata->ksym_addr, s->ksym_addr, sizeof(s->ksym_addr));

	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, false);
	for (size_t i = 0; i < s->nr_hooks; i++) {
		const struct ia_hook_status *st = &s->hooks[i];

		if (st->state != IA_HOOK_ATTACHED)
			continue;
		for (int p = 0; p < 2; p++) {
			prog = prog_by_name(skel, ia_hook_progs(st)[p]);
			if (prog)
				bpf_program__set_autoload(prog, true);
		}
	}
	for (int i = 0; o->free_hooks && i < IA_NR_FREE_HOOKS; i++)
		bpf_program__set_autoload(prog_by_name(skel, ia_free_progs[i]), true);
	return 0;
}

/* Can this hook fall back to kprobes, and does it not already? */
static bool can_fall_back(const struct ia_hook_status *st)
{
	return st->state == IA_HOOK_ATTACHED && !st->kprobe &&
	       st->hook->v[st->variant].kprogs[0];
}

static void use_kprobes(struct ia_hook_status *st, const char *why, int err)
{
	st->kprobe = true;
	st->fentry_err = err > 0 ? -err : err;
	if (err)
		snprintf(st->reason, sizeof(st->reason), "fentry %s: %s", why, strerror(-st->fentry_err));
	else
		snprintf(st->reason, sizeof(st->reason), "fentry %s", why);
}

/* What an EPERM from bpf() means for whoever we run as. */
static const char *eperm_hint(void)
{
	return geteuid() ? " (needs root or CAP_BPF+CAP_PERFMON)" :
	       " although running as root: bpf() is refused here (a seccomp filter, "
	       "as containers have; kernel lockdown; an LSM policy)";
}

/*
 * May we use bpf() at all? One tiny map, made and closed: refused, the run
 * stops before anything else is asked of the kernel, with the reason.
 */
static int probe_bpf(char *err, size_t errlen)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	snprintf(err, errlen, "cannot use BPF: %s%s", strerror(errno),
		 errno == EPERM ? eperm_hint() : "");
	return -1;
}

/*
 * The BTF CO-RE relocations are made against: libbpf's own choice (NULL),
 * unless walking the kernel's BTF ids is refused. libbpf before 1.2
 * (Debian 12 has 1.1.2) looks for a type vmlinux lacks (another kernel's,
 * which the programs test with bpf_core_type_exists()) in the modules'
 * BTF, and that walk (BPF_BTF_GET_NEXT_ID) needs CAP_SYS_ADMIN: with
 * CAP_BPF and CAP_PERFMON alone, as the packaged systemd unit runs, the
 * whole load failed with EPERM ("failed to iterate BTF objects"; later
 * libbpf skips modules then). Naming vmlinux's BTF by path makes libbpf
 * skip modules too; none of the types the programs read is a module's.
 */
static const char *core_btf_path(void)
{
	__u32 id;

	if (bpf_btf_get_next_id(0, &id) && errno == EPERM)
		return "/sys/kernel/btf/vmlinux";
	return NULL;
}

/*
 * Load what this kernel accepts. A refused fentry/fexit program moves its
 * hook to the kprobe fallback; a refused kprobe or tracepoint program marks
 * its hook failed; either way the object is reopened and loaded again. When
 * two fentry programs in a row are refused with the same error, the kernel
 * refuses the program type itself (no BPF trampolines, or a security policy)
 * and every hook moves to kprobes at once.
 */
static int load(struct ia_session *s, const struct ia_session_opts *o,
		const struct btf *btf, char *err, size_t errlen)
{
	int last_fentry_err = 0;

	for (int tries = 0; tries < IA_MAX_LOAD_TRIES; tries++) {
		struct ia_hook_status *st;
		int ret, h;

		LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = core_btf_path());

		s->skel = iommu_audit_bpf__open_opts(&oo);
		if (!s->skel) {
			snprintf(err, errlen, "cannot open BPF object: %s", strerror(errno));
			return -errno;
		}
		ret = configure(s, o, btf, err, errlen);
		if (ret) {
			iommu_audit_bpf__destroy(s->skel);	/* was leaked */
			s->skel = NULL;
			return ret;
		}
		load_log.failed_prog[0] = 0;
		ia_bpf_stats_begin(s->skel->obj);
		ret = iommu_audit_bpf__load(s->skel);
		ia_bpf_stats_end(s->skel->obj, ret);
		if (!ret)
			return 0;
		iommu_audit_bpf__destroy(s->skel);
		s->skel = NULL;

		h = load_log.failed_prog[0] ? hook_of_prog(s, load_log.failed_prog) : -1;
		if (h < 0) {
			snprintf(err, errlen, "cannot load BPF programs: %s%s", strerror(-ret),
				 ret == -EPERM ? eperm_hint() : "");
			return ret;
		}
		st = &s->hooks[h];
		if (!can_fall_back(st)) {
			set_failed(st, "load", load_log.failed_err);
			continue;
		}
		if (last_fentry_err == load_log.failed_err) {
			for (size_t i = 0; i < s->nr_hooks; i++)
				if (can_fall_back(&s->hooks[i]))
					use_kprobes(&s->hooks[i], "refused by this kernel",
						    load_log.failed_err);
		} else {
			use_kprobes(st, "load failed", load_log.failed_err);
		}
		last_fentry_err = load_log.failed_err;
	}
	snprintf(err, errlen, "cannot load BPF programs: too many refusals");
	return -E2BIG;
}

/* Returns true when the hook moved to kprobes and the object must reload. */
static bool attach_one(struct ia_session *s, size_t i, int p)
{
	struct ia_hook_status *st = &s->hooks[i];
	struct bpf_program *prog;
	int e;

	if (st->state != IA_HOOK_ATTACHED)
		return false;	/* its other half failed */
	if (st->hook->v[st->variant].via)
		return false;	/* recorded by another hook's programs */
	if (st->hook->kind == IA_ATTACH_KSYM)
		return false;	/* no program: ia_hooks_check_ksyms() looks it up */
	prog = prog_by_name(s->skel, ia_hook_progs(st)[p]);
	s->links[i][p] = prog ? bpf_program__attach(prog) : NULL;
	if (s->links[i][p])
		return false;
	e = prog ? -errno : -ENOENT;
	bpf_link__destroy(s->links[i][1 - p]);
	s->links[i][1 - p] = NULL;
	if (can_fall_back(st)) {
		use_kprobes(st, "attach failed", e);
		return true;
	}
	set_failed(st, "attach", e);
	return false;
}

/*
 * Exits (and single programs) first, entries last: a call that enters after
 * its entry program is attached always meets its exit program, so the
 * in-flight stacks stay balanced. Returns true when a hook moved to kprobes.
 */
static bool attach(struct ia_session *s)
{
	bool reload = false;

	for (size_t i = 0; i < s->nr_hooks; i++) {
		const struct ia_hook_status *st = &s->hooks[i];

		if (st->state == IA_HOOK_ATTACHED)
			reload |= attach_one(s, i, ia_hook_progs(st)[1] ? 1 : 0);
	}
	for (size_t i = 0; i < s->nr_hooks; i++) {
		const struct ia_hook_status *st = &s->hooks[i];

		if (st->state == IA_HOOK_ATTACHED && ia_hook_progs(st)[1])
			reload |= attach_one(s, i, 0);
	}
	return reload;
}

/* Undo load() and attach(), keeping the hook statuses. */
static void unload(struct ia_session *s)
{
	for (int i = 0; i < IA_NR_FREE_HOOKS; i++) {
		bpf_link__destroy(s->free_links[i]);
		s->free_links[i] = NULL;
	}
	for (size_t i = 0; i < s->nr_hooks; i++)
		for (int p = 0; p < 2; p++) {
			bpf_link__destroy(s->links[i][p]);
			s->links[i][p] = NULL;
		}
	phase(s, "detach");
	iommu_audit_bpf__destroy(s->skel);
	s->skel = NULL;
}

/*
 * libbpf's consume loops for as long as the ring has data: a workload that
 * fills it as fast as the checker reads would keep the reader in one call
 * for minutes, and what the loop does between polls (the metrics snapshot,
 * the textfile, SIGTERM, SIGHUP, the status line) would wait as long; seen
 * in the soak under a loaded host: /metrics frozen while fio ran, then two
 * equal scrapes read as "caught up" with 40% of the maps still in the ring.
 * So a poll reads for IA_READ_BUDGET_MS from its first record and then
 * stops (the record is consumed: libbpf advances before the callback); the
 * rest waits for the next poll, which finds it at once.
 */
#define IA_READ_BUDGET_MS	IA_POLL_MS
#define IA_READ_CLOCK_EVERY	64	/* records between clock reads */

static int on_sample(void *ctx, void *data, size_t len)
{
	struct ia_session *s = ctx;
	int ret = s->on_event ? ia_ringfold(data, len, s->on_event, s->ctx) : 0;

	if (ret < 0) {
		s->cb_err = ret;
		return ret;
	}
	if (s->poll_read++ == 0) {
		s->poll_deadline = ia_mono_s() + IA_READ_BUDGET_MS / 1000.0;
	} else if (s->poll_read % IA_READ_CLOCK_EVERY == 0 && ia_mono_s() >= s->poll_deadline) {
		s->poll_cut = true;
		return -EAGAIN;	/* ends the consume; ia_session_poll() knows why */
	}
	return 0;
}

struct ia_session *ia_session_open(const struct ia_session_opts *o,
				   char *err, size_t errlen)
{
	struct ia_session *s = calloc(1, sizeof(*s));
	struct btf *btf;
	size_t attached = 0;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->run_stats_fd = -1;
	s->nr_hooks = o->production ? ia_nr_prod_hooks : ia_nr_hooks;
	if (s->nr_hooks > sizeof(s->hooks) / sizeof(s->hooks[0])) {
		snprintf(err, errlen, "internal: hook table too big");
		free(s);
		return NULL;
	}
	s->on_event = o->on_event;
	s->ctx = o->ctx;
	s->verbose = o->verbose;
	s->t_last = ia_mono_s();
	load_log.verbose = o->verbose;
	load_log.t0 = s->t_last;
	libbpf_set_print(libbpf_print);

	/* privilege first (nothing works without it), then what there is to see */
	if (probe_bpf(err, errlen) || (!o->untranslated_ok &&
	    ia_iommu_translating("/sys/kernel/iommu_groups", err, errlen))) {
		free(s);
		return NULL;
	}
	phase(s, "privilege and IOMMU checks");
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		snprintf(err, errlen, "kernel BTF not found (/sys/kernel/btf/vmlinux): "
			 "iommu-audit needs CONFIG_DEBUG_INFO_BTF");
		free(s);
		return NULL;
	}
	if (o->production)
		ia_hooks_resolve_table(btf, ia_prod_hooks, ia_nr_prod_hooks, s->hooks);
	else
		ia_hooks_resolve(btf, s->hooks);
	phase(s, "kernel BTF and hook resolution");
	read_ksyms(s, btf, "/proc/kallsyms");	/* before load(): configure() sets them */
	if (o->force_kprobes)
		for (size_t i = 0; i < s->nr_hooks; i++)
			if (can_fall_back(&s->hooks[i]))
				use_kprobes(&s->hooks[i], "not used: --force-kprobes", 0);
	/* a hook that cannot attach by fentry needs a reload with its kprobes;
	 * each round moves at least one hook for good, so this ends */
	for (;;) {
		if (load(s, o, btf, err, errlen)) {
			btf__free(btf);
			free(s);
			return NULL;
		}
		phase(s, "load (relocation and verifier)");
		if (!attach(s)) {
			phase(s, "attach");
			break;
		}
		unload(s);
		phase(s, "attach failed: unload to reload");
	}
	btf__free(btf);
	ia_hooks_check_ksyms(s->hooks, s->nr_hooks, s->ksym_addr, s->ksym_err, "/proc/kallsyms");
	ia_hooks_follow_via(s->hooks, s->nr_hooks);
	for (size_t i = 0; i < s->nr_hooks; i++)
		attached += s->hooks[i].state == IA_HOOK_ATTACHED;
	if (!attached) {
		snprintf(err, errlen, "no hook could be attached on this kernel "
			 "(see `iommu-audit coverage`)");
		ia_session_close(s);
		return NULL;
	}
	if (o->free_hooks && attach_free_hooks(s, err, errlen)) {
		ia_session_close(s);
		return NULL;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_sample, s, NULL);
	if (!s->rb) {
		snprintf(err, errlen, "cannot open ring buffer: %s", strerror(errno));
		ia_session_close(s);
		return NULL;
	}
	/* the two position pages, read-only, for the backlog (as bpftool's
	 * and libbpf's own mappings: page 0 consumer, page 1 producer) */
	s->ring_page = sysconf(_SC_PAGESIZE);
	s->ring_size = bpf_map__max_entries(s->skel->maps.events);
	s->ring_pos = mmap(NULL, 2 * s->ring_page, PROT_READ, MAP_SHARED,
			   bpf_map__fd(s->skel->maps.events), 0);
	ia_pace_init(&s->pace);
	phase(s, "ring buffer");
	s->run_stats_fd = ia_bpf_run_stats_begin();
	/* every program attached: frames and records from now on (state.bpf.c) */
	__atomic_store_n(&s->skel->bss->armed, 1, __ATOMIC_RELEASE);
	return s;
}

/* The ring's bytes not read yet; 0 when its positions are not mapped. */
static __u64 ring_pending(const struct ia_session *s)
{
	const char *pos = s->ring_pos;
	unsigned long cons, prod;

	if (!pos || pos == MAP_FAILED)
		return 0;
	/* the kernel's order: the producer advances after the record is
	 * written, we read ours first (a backlog never negative) */
	cons = __atomic_load_n((const unsigned long *)pos, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n((const unsigned long *)(pos + s->ring_page), __ATOMIC_ACQUIRE);
	return prod > cons ? prod - cons : 0;
}

/* After a read: a reader behind raises its priority until it caught up
 * (live/pace.h); only when the poll read something or the reader is
 * raised, so that an idle session makes no system call. */
static void pace(struct ia_session *s)
{
	if (s->poll_read || s->pace.boosted)
		ia_pace_update(&s->pace, ring_pending(s), s->ring_size);
}

int ia_session_poll(struct ia_session *s, int timeout_ms)
{
	bool behind = s->poll_cut;	/* the last poll left records waiting */
	int ret;

	s->poll_read = 0;
	s->poll_cut = false;
	/* not after a cut: the programs wake us only past a fill level, so
	 * the wait would last the whole timeout with the ring part full
	 * (seen: 11 of 16 MiB pending in the soak, against 2 KiB uncut) */
	ret = behind ? 0 : ring_buffer__poll(s->rb, timeout_ms);
	/* the programs wake us only past a fill level (ia_wake_flags()):
	 * after a timeout, take what came in without a wakeup */
	if (ret == 0)
		ret = ring_buffer__consume(s->rb);
	pace(s);
	if (s->poll_cut) {	/* on_sample()'s budget, not an error */
		s->reads_cut++;
		return s->poll_read > INT_MAX ? INT_MAX : (int)s->poll_read;
	}
	if (s->cb_err) {
		ret = s->cb_err;
		s->cb_err = 0;
	}
	return ret == -EINTR ? 0 : ret;
}

const struct ia_hook_status *ia_session_hooks(const struct ia_session *s, size_t *n)
{
	*n = s->nr_hooks;
	return s->hooks;
}

/* A per-CPU array's n counters, the CPUs added up. */
static int percpu_sum(int fd, __u32 n, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;

	memset(out, 0, sizeof(__u64) * n);
	if (ncpu <= 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < n; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}

int ia_session_reader(const struct ia_session *s, struct ia_reader_stats *r)
{
	memset(r, 0, sizeof(*r));
	r->reads_cut = s->reads_cut;
	r->boosts = s->pace.boosts;
	r->boosts_refused = s->pace.refused;
	r->max_pending = s->pace.max_pending;
	/* a raise not ended yet counts up to now */
	r->raised_s = s->pace.raised_s + (s->pace.boosted ? ia_mono_s() - s->pace.since : 0);
	if (!s->ring_pos || s->ring_pos == MAP_FAILED)
		return -ENODATA;
	r->ring_size = s->ring_size;
	r->ring_pending = ring_pending(s);
	return 0;
}

int ia_session_drops(struct ia_session *s, __u64 lost[IA_DROP_MAX])
{
	return percpu_sum(bpf_map__fd(s->skel->maps.drops), IA_DROP_MAX, lost);
}

int ia_session_stack(struct ia_session *s, __s32 id, __u64 *ips, int max)
{
	/* production mode's own table (site.bpf.h), else the stack map */
	const struct bpf_map *m = id >= IA_STACK_OWN && id < IA_STACK_INLINE ?
				  s->skel->maps.own_stacks : s->skel->maps.stacks;
	__u64 buf[IA_STACK_DEPTH] = {};
	int n = 0;

	if (id < 0 || bpf_map_lookup_elem(bpf_map__fd(m), &id, buf))
		return 0;
	while (n < max && n < IA_STACK_DEPTH && buf[n]) {
		ips[n] = buf[n];
		n++;
	}
	return n;
}

/* Each CPU's copy of a per-CPU map's value. */
static int percpu_values(int fd, const void *key, void *vals)
{
	return bpf_map_lookup_elem(fd, key, vals) ? -errno : 0;
}

/*
 * Each entry of a per-CPU hash whose values start with nfields __u64
 * counters (a value may hold more after them: prod.bpf.c's context check):
 * the CPUs added up, except field max_field (-1: none), the largest of
 * them; handed to fn with its key (ksz bytes, at most 16).
 */
static int percpu_hash_sum(const struct bpf_map *m, size_t ksz, size_t nfields, int max_field,
			   void (*fn)(void *ctx, const void *key, const __u64 *sum), void *ctx)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(m);
	/* the kernel copies each CPU's value rounded up to 8 bytes */
	size_t stride = (bpf_map__value_size(m) + 7) / sizeof(__u64);
	__u64 key[2], next[2], *prev = NULL, *v, sum[32];
	int ret = 0;

	if (ncpu <= 0)
		return ncpu;
	if (ksz > sizeof(key) || nfields > 32 || stride < nfields)
		return -EINVAL;
	v = calloc((size_t)ncpu * stride, sizeof(*v));
	if (!v)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, ksz);
		prev = key;
		if ((ret = percpu_values(fd, key, v)) == -ENOENT)
			continue;	/* deleted meanwhile: never, but harmless */
		if (ret)
			break;
		memset(sum, 0, sizeof(sum));
		for (int c = 0; c < ncpu; c++)
			for (size_t f = 0; f < nfields; f++) {
				__u64 x = v[(size_t)c * stride + f];

				sum[f] = (int)f == max_field ? (x > sum[f] ? x : sum[f]) : sum[f] + x;
			}
		fn(ctx, key, sum);
	}
	free(v);
	return ret == -ENOENT ? 0 : ret;
}

struct prod_cb {
	ia_prod_dev_fn dev_fn;
	ia_prod_site_fn site_fn;
	void *ctx;
};

static void on_dev_sum(void *ctx, const void *key, const __u64 *sum)
{
	const struct prod_cb *cb = ctx;
	struct ia_prod_dev d;

	memcpy(&d, sum, sizeof(d));
	cb->dev_fn(cb->ctx, *(const __u64 *)key, &d);
}

static void on_site_sum(void *ctx, const void *key, const __u64 *sum)
{
	const struct prod_cb *cb = ctx;
	struct ia_prod_site v;

	memcpy(&v, sum, sizeof(v));
	cb->site_fn(cb->ctx, key, &v);
}

int ia_session_prod_devs(struct ia_session *s, ia_prod_dev_fn fn, void *ctx)
{
	struct prod_cb cb = { .dev_fn = fn, .ctx = ctx };

	/* every field a count, but the longest window */
	return percpu_hash_sum(s->skel->maps.prod_devs, sizeof(__u64),
			       sizeof(struct ia_prod_dev) / sizeof(__u64),
			       offsetof(struct ia_prod_dev, lazy_max_ns) / sizeof(__u64),
			       on_dev_sum, &cb);
}

int ia_session_prod_sites(struct ia_session *s, ia_prod_site_fn fn, void *ctx)
{
	struct prod_cb cb = { .site_fn = fn, .ctx = ctx };

	return percpu_hash_sum(s->skel->maps.prod_sites,
			       sizeof(struct ia_prod_site_key),
			       sizeof(struct ia_prod_site) / sizeof(__u64), -1, on_site_sum, &cb);
}

int ia_session_prod_overflow(struct ia_session *s, __u64 out[IA_PROD_OVF_MAX])
{
	return percpu_sum(bpf_map__fd(s->skel->maps.prod_overflow), IA_PROD_OVF_MAX, out);
}

/*
 * -v (and IA_SITE_VERIFY): what the call-site walk saved, at the end, with
 * the counts the VM test asserts on; -vv: the return addresses learned.
 */
static void site_summary(struct ia_session *s)
{
	__u64 n[IA_SITE_MAX];

	if (!s->skel || (s->verbose < 1 && !s->skel->rodata->site_verify) ||
	    percpu_sum(bpf_map__fd(s->skel->maps.site_counts), IA_SITE_MAX, n))
		return;
	/* the fast walk's hits, counted in its per-CPU cache: the first u64
	 * of each CPU's value (bpf/audit.bpf.h: struct ia_site_fast) */
	{
		int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(s->skel->maps.site_fast);
		size_t vsz = (bpf_map__value_size(s->skel->maps.site_fast) + 7) & ~(size_t)7;
		__u32 zero = 0;
		char *v = ncpu > 0 ? calloc(ncpu, vsz) : NULL;

		if (v && !bpf_map_lookup_elem(fd, &zero, v))
			for (int c = 0; c < ncpu; c++) {
				__u64 h;

				memcpy(&h, v + (size_t)c * vsz, sizeof(h));
				n[IA_SITE_HIT] += h;
			}
		free(v);
	}
	/* production mode has no request frames (its map is one entry) */
	if (bpf_map__max_entries(s->skel->maps.inflight_slots) > 1)
		fprintf(stderr, "in-flight stacks: %llu requests' in the hash, their slot "
			"another task's\n", (unsigned long long)n[IA_COUNT_INFLIGHT_SPILL]);
	if (!s->skel->rodata->capture_stacks || s->skel->rodata->full_stacks)
		return;
	fprintf(stderr, "call sites: %llu requests took their site's stack, %llu new sites, "
		"%llu unwound; checked %llu, mismatched %llu\n",
		(unsigned long long)n[IA_SITE_HIT], (unsigned long long)n[IA_SITE_NEW],
		(unsigned long long)n[IA_SITE_UNWOUND], (unsigned long long)n[IA_SITE_CHECKED],
		(unsigned long long)n[IA_SITE_MISMATCH]);
	if (s->verbose >= 2) {
		int fd = bpf_map__fd(s->skel->maps.site_hops);
		__u64 key, *prev = NULL;
		__s32 off;

		while (!bpf_map_get_next_key(fd, prev, &key)) {
			if (!bpf_map_lookup_elem(fd, &key, &off))
				fprintf(stderr, "call site hop: 0x%llx %s %d\n",
					(unsigned long long)key,
					off > 0 ? "next return address at +" : "unusable", off);
			prev = &key;
		}
	}
}

void ia_session_close(struct ia_session *s)
{
	if (!s)
		return;
	site_summary(s);
	ia_pace_end(&s->pace);
	ring_buffer__free(s->rb);
	if (s->ring_pos && s->ring_pos != MAP_FAILED)
		munmap(s->ring_pos, 2 * s->ring_page);
	if (s->skel)
		ia_bpf_run_stats(s->skel->obj, s->run_stats_fd);
	s->t_last = ia_mono_s();
	unload(s);
	phase(s, "unload (programs and maps)");
	free(s);
}
