/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The checker's lower layer (shadow.c): the shadow of what the kernel did
 * (domains and their page-table mappings, devices and their live buffers,
 * the pending state of requests in flight), lookups on it, and the building
 * of findings. Used by the invariants (inv_*.c, invariant.h) and by the
 * replay (replay.c), which is the only one that feeds it events. Not for
 * commands: they use checker.h.
 */
#ifndef IA_CHECK_SHADOW_H
#define IA_CHECK_SHADOW_H

#include <stdint.h>
#include <string.h>
#include "check/checker.h"
#include "lib/itree.h"
#include "lib/pool.h"
#include "lib/recent.h"
#include "lib/u64map.h"
#include "lib/u64stage.h"

#define CK_PAGE_SIZE	4096ULL	/* fallback when a device context lacks it */
/* What a device record may claim (replay.c): CPU pages of 4 KiB (x86) to
 * 256 KiB (hexagon), IOMMU granules of 4 KiB to 1 GiB; 1 KiB at the least. */
#define CK_PAGE_MIN	1024ULL
#define CK_PAGE_MAX	(256ULL << 10)
#define CK_GRANULE_MIN	1024ULL
#define CK_GRANULE_MAX	(1ULL << 30)

/*
 * A live mapping, kept on the shadow page-table entry that holds its handle
 * (one object per mapping in the common case: the memory budget is one
 * entry). req_id 0: no live mapping starts in this entry.
 */
struct ck_owner {
	__u64 req_id;
	__u64 dma;		/* the handle */
	__u32 len;		/* bytes the request covers from dma */
	__s32 stack_id;
	__u16 dev;		/* index in checker.devlist */
	__u8 kind, dir;		/* enum ia_req_kind, dma direction */
	__u32 aux;		/* map_sg: the nents it was given; alloc: the
				 * low 32 bits of its cpu address (what its
				 * unmap, free or sync must repeat; 0: unknown;
				 * in the padding: no bigger than before) */
};

/* A page-table write, as seen in one request (or unattributed). */
struct ck_pt {
	__u64 iova, paddr, size;
	__s64 result;		/* writes: 0 or -errno; removals: bytes removed */
	struct ck_owner own;	/* removals: the live mapping they ended */
	bool seeded;		/* removals: of a snapshot's (pre-recording) entry */
};

struct ck_seg {
	__u64 phys, dma;
	__u32 len, dma_len;
};

/* A swiotlb bounce: the driver's buffer and the slot the device sees. */
struct ck_bounce {
	__u64 orig, tlb, alloc;
};

/* A growable array of T: n used, cap allocated. */
#define CK_VEC(T) struct { T *v; size_t n, cap; }

/* Everything a request tree did before its root record arrived. */
struct ck_pending {
	CK_VEC(struct ck_pt) maps;	/* page-table writes */
	CK_VEC(struct ck_pt) unmaps;	/* page-table removals */
	CK_VEC(struct ck_seg) sg_in;
	CK_VEC(struct ck_seg) sg_out;
	CK_VEC(struct ck_bounce) bounces;	/* all (map_sg bounces each segment) */
	CK_VEC(struct ia_ev_page) pages;	/* what pages held at map time */
	/* a root request's record, while awaiting_sg_out (only then valid) */
	struct ia_ev_req req;
	/* the vectors above keep their room when the entry is reused
	 * (ck_pending_release) and req is not cleared; everything from here
	 * on is zeroed */
	bool sg_truncated;		/* walk cut at IA_SG_MAX: findings uncertain */
	bool has_child;			/* an __iommu_dma_map inside: */
	__u64 child_phys;		/* the phys it mapped */
	bool bounced;			/* the first bounce's slot: */
	__u64 bounce_tlb;
	__u64 pt_removed;		/* bytes the kernel says its removals removed */
	/* the one IOVA range its removals emptied, [rm_lo, rm_hi) of rm_dom,
	 * while rm_dom->inserts is rm_gen (nothing was written since): what
	 * lets an unmap's leftover check skip the page-table walk.
	 * rm_mixed: removals that are not one range of one domain */
	struct ck_domain *rm_dom;
	__u64 rm_lo, rm_hi, rm_gen;
	bool rm_mixed;
	/* why a map failed (inv_failed.c), gathered from nested requests */
	bool saw_iommu_map;		/* an __iommu_dma_map ran inside */
	bool iova_failed;		/* one failed before any write: no IOVA */
	__u64 iova_phys, iova_size;	/* its phys and size */
	bool bounce_failed;		/* swiotlb found no slot (tlb_phys ~0) */
	bool not_bounced;		/* a map_page failed before bouncing or
					 * mapping (bounce buffers inactive) */
	__u64 nb_phys, nb_size;		/* its buffer */
	/* a root map_sg / alloc_noncontiguous whose output walk comes after
	 * its record: checked when the walk's last chunk arrives */
	bool awaiting_sg_out;
	__u32 gen;			/* checker.gen when it was made */
};

/*
 * The live mapping a page-table entry owns, packed (struct ck_owner's
 * fields narrowed: read and set it with ck_ptmap_owner / ck_ptmap_set_owner).
 * A value at or above its field's bound is kept in checker.far instead (the
 * field holds the bound, and far says some field does; shadow.c). Each is
 * narrowed where its usual values are small: request ids count up from 1
 * (BPF's req_seq), a length is below 2 GiB, stack ids are stack-map slots
 * (16384 of them; -1: none, stored + 1), devices are indices in first-seen
 * order, kind an enum ia_req_kind of a map, dir a dma_data_direction (0-3);
 * the handle's offset into its entry is below the granule but for huge
 * writes, and aux is 0 but for map_sg (its nents, below 255 but for long
 * lists) and alloc (a cpu address: far, but a coherent allocation is rare
 * and long-lived). The values are kept whole: what the trace said comes
 * back. The bit for seeded (the entry's, not the owner's) comes from the
 * offset's width.
 */
struct ck_ptown {
	__u32 req;		/* ck_owner.req_id; 0: no owner */
	__u32 len : 31;
	__u32 far : 1;		/* some field holds its bound */
	__u32 off : 23;		/* its handle - node.start */
	__u32 seeded : 1;	/* the entry was made before the recording: a
				 * snapshot's */
	__u32 aux : 8;
	__u32 stack : 16;	/* ck_owner.stack_id + 1 */
	__u32 dev : 8;
	__u32 kind : 5;
	__u32 dir : 3;
};

/*
 * A page-table mapping in a domain's shadow (one write, or what is left),
 * with the live mapping it owns: 56 bytes, which is most of what a live
 * mapping costs (issue 15: at most 64 bytes per live mapping).
 */
struct ck_ptmap {
	struct ia_inode node;	/* IOVA range; first: a pool object (itree.h) */
	__u64 paddr;
	struct ck_ptown own;
};
_Static_assert(sizeof(struct ck_ptmap) == 56, "a live mapping's entry: 56 bytes (issue 15)");
/* Each narrowed field's bound: the value stored when the owner's is kept far */
#define CK_REQ_FAR	UINT32_MAX		/* request id 2^32 - 1 or more */
#define CK_LEN_FAR	((1u << 31) - 1)	/* 2 GiB - 1 or more */
#define CK_OFF_FAR	((1u << 23) - 1)	/* the handle 8 MiB or more into the entry */
#define CK_AUX_FAR	((1u << 8) - 1)
#define CK_STACK_FAR	((1u << 16) - 1)	/* stack id 65534 or more, or below -1 */
#define CK_DEV_FAR	((1u << 8) - 1)		/* the 256th device on */
#define CK_KIND_FAR	((1u << 5) - 1)
#define CK_DIR_FAR	((1u << 3) - 1)

struct ck_domain {
	struct ia_itree pt;	/* struct ck_ptmap by IOVA */
	__u64 granule;
	__u64 inserts;		/* entries put into pt so far, a snapshot's
				 * seeded ones too (ck_pending.rm_gen) */
	__u64 changes;		/* page-table writes and removals applied
				 * (not seeding: ck_oracle_device) */
};

/*
 * The requested (for an allocation: owned) phys range of a live buffer that
 * does not fill its IOMMU granules: the rest of its granules is what a
 * neighbouring buffer's mapping of the same device may cover. Buffers made
 * of whole granules leave no slack and are not kept here. (With a granule
 * of one page these are the sub-page buffers; with a larger granule, whole
 * pages too: a 4 KiB allocation shares its 16 KiB granule.)
 */
struct ck_subbuf {
	struct ia_inode phys;	/* first: a pool object (itree.h) */
	__u64 req_id;
	__u32 next;		/* the request's other ranges (scatterlists): handle */
};

struct ck_device {
	struct ia_ev_device ctx;
	bool has_ctx;
	struct ia_itree live_phys;	/* struct ck_subbuf by phys */
	struct ia_u64map subbufs;	/* req id -> ck_subbuf list (first handle) */
	struct ia_u64map orphans;	/* handle -> ck_owner: live mappings
					 * whose page-table write was not seen */
	struct ia_recent unmapped;	/* handles unmapped, not remapped (the
					 * most recent ones under a limit) */
	struct ia_u64map at_unbind;	/* req ids of live mappings reported at
					 * an unbind (not again at the end) */
	struct ia_u64map extents;	/* req id -> ck_extents: live mappings whose
					 * writes are not the one IOVA range
					 * around their handle */
	struct ia_check_dev stats;
	CK_VEC(struct ia_map_sample) samples;	/* ia_checker_keep_maps() */
	size_t stats_idx;		/* index in checker's device list */
};

/*
 * The IOVA ranges a live mapping's page-table writes covered, merged, when
 * they are not the one granule-aligned range around [handle, handle + len):
 * an untrusted device's scatterlist (iommu_dma_map_sg_swiotlb) maps each
 * segment at an IOVA of its own, in no particular order. Its unmap must
 * remove all of them.
 */
struct ck_extents {
	size_t n;		/* r[0 .. n): IOVA ranges written */
	size_t nseg;		/* r[n .. n + nseg): its output segments' bytes
				 * (a scatterlist's: what a sync may touch) */
	struct { __u64 lo, hi; } r[];
};

struct ck_stack {
	__u32 nr;
	char sym[IA_STACK_DEPTH][IA_SYM_LEN];
};

/* A lazily unmapped range, reachable until its flush queue is flushed. */
struct ck_queued {
	struct ia_inode phys;		/* in checker.stale; first: a pool object */
	__u64 ts_ns;
	__u64 dev;
	__u64 cookie;
	__u32 next;			/* per-cookie list: handle */
};

/* A linked range of an IOVA state (the two-step IOVA API). */
struct ck_iova_link {
	__u64 off, len;		/* offset into the state, bytes */
	__u64 req_id;		/* the link request: its live buffer's owner */
};

/* An IOVA reservation, by the caller's struct dma_iova_state. */
struct ck_iova {
	__u64 dev;
	__u64 addr;		/* state->addr: reserved IOVA + the phys hint's
				 * offset within a granule */
	__u64 size;		/* bytes reserved for (state->__size) */
	__u64 req_id;		/* the try_alloc */
	__s32 stack_id;
	bool reserved;		/* false once destroyed or freed */
	CK_VEC(struct ck_iova_link) live;	/* linked now */
	CK_VEC(struct ck_iova_link) dead;	/* unlinked since reserved */
};

/* The last key found in a map whose entries are never removed, and its value. */
struct ck_last {
	__u64 key;
	void *val;
};

/* ---- the page-table oracle (shadow_oracle.c, inv_oracle.c) ---- */

/* One device's dump in a snapshot. */
struct ck_snapdev {
	char name[IA_NAME_LEN];
	__u32 pasid;
	bool truncated, last;
	CK_VEC(struct ia_snap_range) r;
};

/* A page-table change recorded while a snapshot was read: in flight. */
struct ck_touch {
	__u64 dom, lo, hi;
};

#define CK_SNAP_MAX_RANGES	(1u << 20)	/* held per snapshot, all devices */
#define CK_SNAP_MAX_DEVS	256
#define CK_SNAP_MAX_TOUCHED	(1u << 16)
#define CK_ORACLE_WORK_MAX	(1ULL << 26)	/* ranges compared, whole run */

struct ck_oracle {
	bool open;			/* BEGIN seen, END not yet */
	__u32 snap, why;
	__u64 begin_ns;
	CK_VEC(struct ck_snapdev) devs;	/* the open snapshot's */
	size_t ranges;
	CK_VEC(struct ck_touch) touched;
	bool touched_full;		/* more than CK_SNAP_MAX_TOUCHED: every
					 * difference may be in flight */
	/* first dumps of devices the trace has not named yet: applied to
	 * their domain when their device record comes (ck_oracle_device) */
	CK_VEC(struct ck_snapdev) seeds;
	struct ia_u64map started;	/* name hash -> 1: the devices whose
					 * starting state is known */
	__u64 work;
	struct ia_oracle_stats st;
};

/*
 * Which rows of the invariants' table (invariant.h) have each callback, in
 * table order, made by the replay at its first event: what it calls then
 * (testing every row for every event was a twentieth of a replay).
 */
#define CK_CALLBACKS_MAX	16	/* struct ck_invariant's callbacks */
#define CK_INVARIANTS_MAX	16	/* rows of ck_invariants[] */
struct ck_callers {
	bool built;
	struct {
		__u8 n;
		__u8 inv[CK_INVARIANTS_MAX];	/* indices into ck_invariants[] */
	} row[CK_CALLBACKS_MAX];
};

struct ia_checker {
	struct ia_u64map devs;		/* struct device * -> ck_device */
	struct ia_u64map iovas;		/* struct dma_iova_state * -> ck_iova */
	struct ia_u64map domains;	/* iommu_domain * -> ck_domain */
	/* request id -> ck_pending; staged: a request's entry is most often
	 * made and taken with no other entry made meanwhile */
	struct ia_u64stage pending;
	struct ck_last last_dev, last_dom;	/* ck_device_find(), ck_domain_find() */
	CK_VEC(struct ck_pending *) spare;	/* released, for reuse */
	/* the nodes of the interval trees (itree.h): page-table entries of
	 * every domain, live sub-granule buffers of every device, queued
	 * lazy unmaps */
	struct ia_pool pt_pool, subbuf_pool, queued_pool;
	struct ia_u64map far;		/* (ck_ptmap *) + a field (shadow.c) -> the
					 * owner's field too big for its entry */
	struct ia_u64map stacks;	/* stack id + 1 -> ck_stack */
	struct ia_u64map fq;		/* cookie -> ck_queued list (first handle) */
	struct ia_itree stale;		/* queued ranges by phys */
	struct ia_u64map fp;		/* fingerprint hash -> finding index + 1 */
	CK_VEC(struct ia_finding) findings;
	CK_VEC(struct ck_device *) devlist;	/* first-seen order */
	struct ia_check_dev *devstats;	/* built by ia_checker_devices() */
	CK_VEC(struct ia_code_count) codes;	/* per finding code, first-seen order */
	struct ia_checker_limits lim;	/* 0s: unbounded */
	__u64 findings_dropped, stacks_dropped, devices_dropped, pending_expired;
	__u32 gen;			/* ia_checker_expire() calls */
	size_t keep_maps;		/* samples per device; 0: none */
	__u64 malformed;
	__u64 live_maps;
	bool oom;
	bool no_fold;			/* IA_CHECK_EACH */
	/* exposure of these kinds is an error (exposure.sensitive): slab
	 * cache names and page kinds (ia_page_kind_str), comma-separated */
	char sensitive[256];
	struct ck_oracle oracle;
	struct ck_callers callers;	/* replay.c */
};

/* What one root request's invariants look at (invariant.h). */
struct ck_ctx {
	struct ia_checker *c;
	struct ck_device *dev;
	struct ck_domain *dom;		/* NULL when the device has none */
	const struct ia_ev_req *req;	/* the root request */
	struct ck_pending *p;		/* what it did; never NULL */
	__u64 granule;			/* at least 1 */
	__u64 page_size;
};

/*
 * What one root call of the IOVA API did to its reservation (ck_iova_apply),
 * for the invariants' iova callback (invariant.h). x is the call as a
 * request (ia_iova_as_req): what findings name.
 */
struct ck_iova_ctx {
	struct ck_ctx x;
	const struct ia_ev_iova *e;
	struct ck_iova *st;	/* NULL: a state never seen reserved */
	bool was_reserved;	/* st was reserved when the call came */
	bool replaced;		/* try_alloc over a state still reserved */
	__u64 outside;		/* link: bytes past the reserved size */
	__u64 not_linked;	/* unlink, destroy: bytes of the granule-aligned
				 * range it removes that no link mapped (nor
				 * an earlier unlink removed) */
	__u64 unlinked_twice;	/* bytes of it an earlier unlink removed */
	__u64 left_links, left_bytes;	/* destroy, free: links still live
					 * after it (mapped, IOVA released) */
};

/* Apply a root IOVA call to the shadow (reservations, links, and the live
 * buffers of links it ended) and say what it did in xi (xi->x set). */
void ck_iova_apply(struct ck_iova_ctx *xi);

/* A live buffer of d ended: its sub-granule ranges leave the device's live
 * set (ck_subbuf), and the live counts drop. */
void ck_live_end(struct ia_checker *c, struct ck_device *d, __u64 req_id);

/* ---- state ---- */
/* The entry of key in m, made zeroed when new (NULL: key 0, or no memory,
 * which sets c->oom). */
void *ck_get_or_new(struct ia_checker *c, struct ia_u64map *m, __u64 key, size_t size);
struct ck_device *ck_device_get(struct ia_checker *c, __u64 dev);
struct ck_domain *ck_domain_get(struct ia_checker *c, __u64 dom);
/* The same without making one: NULL when there is none. */
struct ck_device *ck_device_lookup(struct ia_checker *c, __u64 dev);
struct ck_domain *ck_domain_lookup(struct ia_checker *c, __u64 dom);
/* Nearly every record names the device (domain) the one before it named:
 * that one is answered inline, the others by the lookups above. */
static inline struct ck_device *ck_device_find(struct ia_checker *c, __u64 dev)
{
	return dev && c->last_dev.key == dev ? c->last_dev.val : ck_device_lookup(c, dev);
}

static inline struct ck_domain *ck_domain_find(struct ia_checker *c, __u64 dom)
{
	return dom && c->last_dom.key == dom ? c->last_dom.val : ck_domain_lookup(c, dom);
}
struct ck_pending *ck_pending_get(struct ia_checker *c, __u64 req);	/* req 0: NULL */
/* A pending entry not in the map (a spare one reused: no allocation per
 * request); release hands it back, emptied, keeping its vectors' room. */
struct ck_pending *ck_pending_new(struct ia_checker *c);
void ck_pending_release(struct ia_checker *c, struct ck_pending *p);
void ck_pending_free(struct ck_pending *p);	/* for good */
int ck_vec_grow(void **v, size_t *cap, size_t elem, size_t need);
/*
 * memset(p, 0, n) in pieces of at most 64 bytes, for what is cleared per
 * record: GCC makes a memset of 65 bytes to a few hundred a `rep stosq`,
 * whose start-up was most of the time of ck_pending_release() (128 bytes)
 * and a third of exposure_map()'s (208) at 10 M records (perf); a 64-byte
 * memset is four 16-byte stores, by GCC as by clang.
 */
static inline void ck_zero(void *p, size_t n)
{
	char *b = p;

	for (; n > 64; b += 64, n -= 64)
		memset(b, 0, 64);
	memset(b, 0, n);
}
#define CK_PUSH(c, vec, val) \
	(ck_vec_grow((void **)&(vec).v, &(vec).cap, sizeof(*(vec).v), (vec).n + 1) ? \
	 ((c)->oom = true, -1) : ((vec).v[(vec).n++] = (val), 0))

/* ---- shadow page tables ---- */
/* The live mapping whose handle entry m holds (req_id 0: none). */
struct ck_owner ck_ptmap_owner(const struct ia_checker *c, const struct ck_ptmap *m);
/* Its request id alone (0: none; m->own.req is 0 exactly then). */
__u64 ck_ptmap_req(const struct ia_checker *c, const struct ck_ptmap *m);
/* Make o (req_id 0: none) m's owner; o->dma must lie in m's range. */
void ck_ptmap_set_owner(struct ia_checker *c, struct ck_ptmap *m, const struct ck_owner *o);
/* A successful write of [iova, iova + size) -> paddr in domain dom. */
int ck_pt_insert(struct ia_checker *c, __u64 dom, __u64 iova, __u64 size, __u64 paddr);
/* Remove [start, end) from d, splitting mappings that stick out; each piece
 * removed is recorded in p (if not NULL) with the live mapping it ended. */
void ck_pt_remove(struct ia_checker *c, struct ck_domain *d, __u64 start, __u64 end,
		  struct ck_pending *p);
/* Add the removal of [lo, hi) from d to what p's request emptied. */
void ck_pending_removed(struct ck_pending *p, struct ck_domain *d, __u64 lo, __u64 hi);
/* Merge what child's removals emptied into p's. */
void ck_pending_removed_merge(struct ck_pending *p, const struct ck_pending *child);
/* Is [lo, hi) of d known empty: emptied by p's removals, nothing written since? */
bool ck_pending_emptied(const struct ck_pending *p, const struct ck_domain *d, __u64 lo,
			__u64 hi);
/* Translate one IOVA in a domain: true and *phys, or false when unmapped. */
bool ck_translate(const struct ck_domain *d, __u64 iova, __u64 *phys, __u64 *run_end);

/* ---- findings ---- */
/* Start a finding about ctx's request: fills device, request, site. */
void ck_finding_init(const struct ck_ctx *x, struct ia_finding *f, __u32 inv,
		     __u32 sev, const char *code);
void ck_finding_init_dev(struct ia_checker *c, struct ck_device *d,
			 struct ia_finding *f, __u32 inv, __u32 sev, const char *code,
			 __s32 stack_id);
/* Add (or fold into an earlier one with the same fingerprint). */
void ck_report(struct ia_checker *c, struct ia_finding *f);

/* ---- requests ---- */
/* Where the device sees phys: its bounce slot if it was bounced. */
__u64 ck_bounced(const struct ck_pending *p, __u64 phys);
/* Where the part of [a, b) from a that lies wholly inside one of the
 * request's bounce slots (the slot itself; *in true) or wholly outside them
 * (*in false) ends. */
__u64 ck_slot_cut(const struct ck_pending *p, __u64 a, __u64 b, bool *in);
/* Request kinds that create a mapping / remove one. */
bool ck_kind_maps(__u32 kind);
bool ck_kind_unmaps(__u32 kind);
/* The requested phys ranges of a root map request (the pages an allocation
 * owns), merged and sorted; returns the count (<= max), or -1 for a kind
 * that has none. */
int ck_requested_ranges(const struct ck_ctx *x, struct ck_pt *out, int max);
/* Sort ranges by paddr and merge overlapping or adjacent ones; the count. */
int ck_merge_ranges(struct ck_pt *r, int n);
__u64 ck_page_align(__u64 v, __u64 page);	/* page: a power of two */

/* A page-table snapshot record: true when it completed a snapshot (then
 * the snapshot callbacks run, then ck_oracle_close()). */
bool ck_oracle_add(struct ia_checker *c, const struct ia_ev_pt_snap *e);
void ck_oracle_close(struct ia_checker *c);
/* A page-table change of [lo, hi) in domain dom (in flight while a
 * snapshot is open). */
void ck_oracle_touch(struct ia_checker *c, __u64 dom, __u64 lo, __u64 hi);
/* A device's context arrived: a first dump of its name becomes its
 * domain's starting state (if nothing changed that domain yet). */
void ck_oracle_device(struct ia_checker *c, struct ck_device *d);
/* The ranges of a dump put into domain dom where the shadow has nothing
 * and nothing was in flight (seeded entries, no owner). */
void ck_oracle_seed(struct ia_checker *c, __u64 dom, const struct ck_snapdev *s);
/* Was a range of domain dom changed while the snapshot was read? */
bool ck_oracle_in_flight(const struct ia_checker *c, __u64 dom, __u64 lo, __u64 hi);
/* A key for a device name (never 0). */
__u64 ck_name_key(const char *name);

#endif
