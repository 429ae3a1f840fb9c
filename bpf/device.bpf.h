/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Device context: sent once per device, and again whenever its domain,
 * driver, DMA mask, bus limit, segment boundary, maximum segment size or
 * untrusted bit changes (rebind, mask change, domain switch, a driver's
 * dma_set_seg_boundary()), so every request is read against the context it
 * was made in.
 */
#ifndef IA_DEVICE_BPF_H
#define IA_DEVICE_BPF_H

#include "audit.bpf.h"
#include "core_fixes.bpf.h"

/* dma_get_max_seg_size()/dma_get_seg_boundary(), with their defaults;
 * typed: dev is BTF-typed (IA_RD) */
static __always_inline void ia_dev_dma_parms(struct device *dev, __u32 *mss, __u64 *sb,
					     bool typed)
{
	struct device_dma_parameters *parms = IA_RD(typed, dev, dma_parms);

	*mss = 65536;
	*sb = ~0ULL;
	if (parms) {
		__u32 m = IA_RD(typed, parms, max_segment_size);
		__u64 b = IA_RD(typed, parms, segment_boundary_mask);

		if (m)
			*mss = m;
		if (b)
			*sb = b;
	}
}

/* IA_DEV_PCI | IA_DEV_UNTRUSTED of a device known to be PCI: its untrusted
 * bit read (the fixture flips it at run time: so it is read at every
 * request) */
static __always_inline __u32 ia_dev_pci_untrusted(struct device *dev)
{
	/* to_pci_dev(): struct device is embedded in struct pci_dev */
	struct pci_dev *pdev = (void *)dev - bpf_core_field_offset(struct pci_dev, dev);

	return IA_DEV_PCI |
	       (BPF_CORE_READ_BITFIELD_PROBED(pdev, untrusted) ? IA_DEV_UNTRUSTED : 0);
}

/*
 * IA_DEV_PCI | IA_DEV_UNTRUSTED bits of a device. The PCI bus is known by
 * its name ("pci", pci_bus_type.name): a typeless ksym of pci_bus_type
 * cannot be referenced from two of the linked objects (libbpf 1.1's linker
 * fails to size `const void` externs it must merge), and both
 * requests.bpf.c and iova.bpf.c observe devices.
 */
static __always_inline __u32 ia_dev_pci_flags(struct device *dev)
{
	const char *bus = BPF_CORE_READ(dev, bus, name);
	char name[5] = {};

	/* "pci" and its NUL: 4 bytes; a longer name fills all 5 */
	if (!bus || bpf_probe_read_kernel_str(name, sizeof(name), bus) != 4 ||
	    name[0] != 'p' || name[1] != 'c' || name[2] != 'i')
		return 0;
	return ia_dev_pci_untrusted(dev);
}

/* The IOVA granule of a domain, 0 when it has no IOVA cookie. */
static __always_inline __u64 ia_domain_granule(struct iommu_domain *dom,
					       struct iommu_dma_cookie *cookie)
{
	if (!ia_domain_has_iova_cookie(dom, cookie))
		return 0;
	return BPF_CORE_READ(cookie, iovad.granule);
}

/* ... of a device's default domain */
static __always_inline __u64 ia_dev_granule(struct device *dev)
{
	struct iommu_group *grp = BPF_CORE_READ(dev, iommu_group);
	struct iommu_domain *dom = grp ? BPF_CORE_READ(grp, default_domain) : NULL;

	return dom ? ia_domain_granule(dom, BPF_CORE_READ(dom, iova_cookie)) : 0;
}

static __always_inline void ia_dev_fill(struct ia_ev_device *e,
					struct device *dev,
					struct iommu_domain *dom)
{
	struct iommu_group *grp = BPF_CORE_READ(dev, iommu_group);
	struct iommu_dma_cookie *cookie;
	const char *name;

	e->dev = (__u64)dev;
	e->domain = (__u64)dom;
	e->group_id = grp ? BPF_CORE_READ(grp, id) : -1;
	e->page_size = 1u << page_shift;
	e->coherent_dma_mask = BPF_CORE_READ(dev, coherent_dma_mask);
	e->bus_dma_limit = BPF_CORE_READ(dev, bus_dma_limit);

	ia_dev_dma_parms(dev, &e->max_seg_size, &e->seg_boundary, false);

	if (!dom) {
		e->hdr.flags |= IA_DEV_NO_DOMAIN;
	} else {
		e->domain_type = BPF_CORE_READ(dom, type);
		e->pgsize_bitmap = BPF_CORE_READ(dom, pgsize_bitmap);
		cookie = BPF_CORE_READ(dom, iova_cookie);
		e->cookie = (__u64)cookie;
		e->granule = ia_domain_granule(dom, cookie);
		if (!e->granule)
			e->hdr.flags |= IA_DEV_NO_COOKIE;
	}

	name = BPF_CORE_READ(dev, init_name);
	if (!name)
		name = BPF_CORE_READ(dev, kobj.name);
	bpf_probe_read_kernel_str(e->name, sizeof(e->name), name);
	name = BPF_CORE_READ(dev, driver, name);
	if (name)
		bpf_probe_read_kernel_str(e->driver, sizeof(e->driver), name);
	name = BPF_CORE_READ(dev, bus, name);
	if (name)
		bpf_probe_read_kernel_str(e->bus, sizeof(e->bus), name);

	e->hdr.flags |= ia_dev_pci_flags(dev);
}

/* Does this device name pass the --device filter? */
static __always_inline bool ia_dev_allowed(const char *name)
{
	__u32 i, j;

	if (!nr_dev_filters)
		return true;
	for (i = 0; i < IA_MAX_DEV_FILTERS && i < nr_dev_filters; i++) {
		for (j = 0; j < IA_NAME_LEN; j++) {
			if (dev_filters[i][j] != name[j])
				break;
			if (!name[j])
				return true;
		}
	}
	return false;
}

/* The check of an entry of dev_cache (struct ia_dev_cached): its fields
 * mixed */
static __always_inline __u32 dev_chk(__u64 key, const struct ia_dev_state *d)
{
	__u64 m = key ^ d->domain ^ (d->driver * 3) ^ (d->dma_mask * 5) ^
		  (d->bus_dma_limit * 7) ^ (d->seg_boundary * 11) ^ (d->granule * 13) ^
		  (d->fq_cookie * 17) ^ ((__u64)d->max_seg_size << 32 | d->untrusted) ^
		  ((__u64)d->allowed << 32 | d->domain_type) * 19;

	return (__u32)(m ^ (m >> 32)) ^ 0x9e3779b9u;
}

/* Write st as key's entry of slot c: its check 0 first, so that a reader
 * on another CPU meanwhile fails it (and reads devs) */
static __always_inline void dev_cache_put(struct ia_dev_cached *c, __u64 key,
					  const struct ia_dev_state *st)
{
	c->chk = 0;
	c->key = key;
	__builtin_memcpy(&c->st, st, sizeof(c->st));
	/* from the copy: a state on the stack may hold BTF-typed pointers
	 * (the domain, the driver), which take no arithmetic; the map's are
	 * numbers */
	c->chk = dev_chk(key, &c->st);
}

static __always_inline struct ia_dev_cached *dev_cache_slot(__u64 key)
{
	__u32 i = (__u32)((key >> 4) ^ (key >> 12) ^ (key >> 20)) & (IA_DEV_CACHE - 1);

	return bpf_map_lookup_elem(&dev_cache, &i);
}

/*
 * dev's state (key) into *cp: from its cache slot c, else from devs (then
 * cached); false when neither has it. Always a copy on the stack, and c
 * never NULL here: a state pointer that is the stack's or the map's by
 * the path taken, or a slot NULL on one path, made the verifier walk the
 * rest of the check once per kind (7.2: the BPF load went from 4 to 22 s
 * under TCG).
 */
static __always_inline bool dev_state_get(__u64 key, struct ia_dev_cached *c,
					  struct ia_dev_state *cp)
{
	struct ia_dev_state *d;

	if (c->key == key) {
		__builtin_memcpy(cp, &c->st, sizeof(*cp));
		if (c->chk == dev_chk(key, cp))
			return true;
	}
	d = bpf_map_lookup_elem(&devs, &key);
	if (!d)
		return false;
	__builtin_memcpy(cp, d, sizeof(*cp));
	dev_cache_put(c, key, cp);
	return true;
}

/* What a request needs of its device's context (ia_dev_observe_view()). */
struct ia_dev_view {
	__u64 domain;		/* the default domain */
	__u64 granule;		/* its IOVA granule, 0: no IOVA cookie */
	__u64 fq_cookie;	/* its cookie when unmaps wait for the flush
				 * queue (cookie->fq_domain set), else 0 */
	__u32 pci_flags;	/* IA_DEV_PCI | IA_DEV_UNTRUSTED */
	__u32 pad;
};

/*
 * Called on every root request (key: dev's address as a number): a cached
 * copy of its state (dev_cache) and a few reads when nothing changed (loads, when typed: dev is BTF-typed, IA_RD). Returns whether the
 * device passes the --device filter, and fills *v. flags: IA_DEV_* bits of
 * why the record is sent besides a change (the unbind). The bus (whether
 * it is PCI) is read only when something else changed: a struct device
 * reused for another device comes with another domain or driver; a PCI
 * device's untrusted bit at every map.
 *
 * release: the request is an unmap or a free (lazy_time(), inflight.bpf.h),
 * which takes the DMA mask and the untrusted bit its device was last seen
 * with instead of reading them: a release depends on neither (dma-iommu
 * undoes a bounce by the buffer's address, is_swiotlb_buffer(), not by
 * the untrusted bit; a mask bounds only what a map may return), and a
 * change of either is recorded at the device's next map. They are the two
 * probe reads of the check (a u64 * and a bitfield behind container_of(),
 * neither a typed load): under TCG about 0.2 us each, a fifth of an
 * unmap's entry program. The domain, its type (DMA -> DMA-FQ switches in
 * place, and decides whether the release waits for the flush queue), the
 * driver and the segment limits are loads, and still compared.
 */
static __always_inline bool ia_dev_observe_key(struct device *dev, __u64 key, __u32 flags,
					       bool typed, bool release,
					       struct ia_dev_view *v)
{
	struct iommu_group *grp = IA_RD(typed, dev, iommu_group);
	struct ia_dev_state now = {}, *old, cp = {};
	struct ia_dev_cached *c;
	struct iommu_domain *dom;
	struct ia_ev_device *e;
	__u64 *maskp;

	dom = grp ? IA_RD(typed, grp, default_domain) : NULL;
	now.domain = (__u64)dom;
	now.domain_type = dom ? IA_RD(typed, dom, type) : 0;
	now.driver = (__u64)IA_RD(typed, dev, driver);
	now.bus_dma_limit = IA_RD(typed, dev, bus_dma_limit);
	ia_dev_dma_parms(dev, &now.max_seg_size, &now.seg_boundary, typed);

	c = dev_cache_slot(key);
	if (!c) {	/* an array's slot within its bounds: never; the verifier's due */
		__builtin_memset(v, 0, sizeof(*v));
		return false;
	}
	old = dev_state_get(key, c, &cp) ? &cp : NULL;
	if (release && old) {
		now.dma_mask = old->dma_mask;
		now.untrusted = old->untrusted;
	} else {
		maskp = IA_RD(typed, dev, dma_mask);	/* a u64 *: not typed */
		if (maskp)
			bpf_probe_read_kernel(&now.dma_mask, sizeof(now.dma_mask), maskp);
		if (old && (old->untrusted & IA_DEV_PCI))
			now.untrusted = ia_dev_pci_untrusted(dev);
	}
	if (old && old->domain == now.domain && old->domain_type == now.domain_type &&
	    old->driver == now.driver && old->dma_mask == now.dma_mask &&
	    old->bus_dma_limit == now.bus_dma_limit &&
	    old->seg_boundary == now.seg_boundary &&
	    old->max_seg_size == now.max_seg_size && old->untrusted == now.untrusted &&
	    !(flags & IA_DEV_UNBOUND)) {
		v->domain = old->domain;
		v->granule = old->granule;
		v->fq_cookie = old->fq_cookie;
		v->pci_flags = old->untrusted;
		return old->allowed;
	}
	now.untrusted = ia_dev_pci_flags(dev);
	if (release && old) {	/* a record goes out: with the mask as it is */
		maskp = IA_RD(typed, dev, dma_mask);
		now.dma_mask = 0;
		if (maskp)
			bpf_probe_read_kernel(&now.dma_mask, sizeof(now.dma_mask), maskp);
	}
	if (dom) {
		struct iommu_dma_cookie *cookie = BPF_CORE_READ(dom, iova_cookie);

		now.granule = ia_domain_granule(dom, cookie);
		if (now.granule && BPF_CORE_READ(cookie, fq_domain))
			now.fq_cookie = (__u64)cookie;
	}
	v->domain = now.domain;
	v->granule = now.granule;
	v->fq_cookie = now.fq_cookie;
	v->pci_flags = now.untrusted;

	e = ia_reserve(IA_EV_DEVICE, sizeof(*e));
	if (!e)
		return true;	/* not remembered: sent again on the next request */
	__builtin_memset((void *)e + sizeof(e->hdr), 0, sizeof(*e) - sizeof(e->hdr));
	e->dma_mask = now.dma_mask;
	ia_dev_fill(e, dev, dom);
	e->hdr.flags |= flags;
	now.allowed = ia_dev_allowed(e->name);
	if (now.allowed)
		ia_submit(e);
	else
		bpf_ringbuf_discard(e, 0);
	bpf_map_update_elem(&devs, &key, &now, BPF_ANY);
	dev_cache_put(c, key, &now);	/* after devs: a failed check reads devs */
	__sync_fetch_and_add(&dev_epoch, 1);	/* after the write: see dev_epoch */
	return now.allowed;
}

/*
 * ... of dev, a pointer a fentry or fexit program may hold BTF-typed
 * (typed), on which the verifier allows no arithmetic: its address, the
 * key of devs and of dev_cache's slot, as a number through a probe read.
 * The request hooks' entries pass it from their context instead
 * (ia_dev_observe_key(), inflight.bpf.h).
 */
static __always_inline bool ia_dev_observe_view(struct device *dev, __u32 flags,
						bool typed, bool release,
						struct ia_dev_view *v)
{
	return ia_dev_observe_key(dev, ia_addr(dev), flags, typed, release, v);
}

static __always_inline bool ia_dev_observe_flags(struct device *dev, __u32 flags)
{
	struct ia_dev_view v;

	return ia_dev_observe_view(dev, flags, false, false, &v);
}

static __always_inline bool ia_dev_observe(struct device *dev)
{
	return ia_dev_observe_flags(dev, 0);
}

#endif /* IA_DEVICE_BPF_H */
