// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Driver unbind. dma-debug reports the mappings a driver still holds when it
 * is released from its device ("has pending DMA allocations while released
 * from device", its bus notifier at BUS_NOTIFY_UNBOUND_DRIVER). The same
 * moment here is the exit of device_release_driver_internal(dev, drv,
 * parent), through which every unbind goes (sysfs unbind, driver_detach()
 * at module unload, device removal): the driver's remove() has run, its
 * devres (dmam_* allocations) is released and dev->driver is NULL. A device
 * that made requests while bound gets a device record flagged
 * IA_DEV_UNBOUND, from which the checker reports what it still maps
 * (lifecycle.live_at_unbind) at the unbind instead of at the end of the run.
 */
#include "device.bpf.h"

static __always_inline void unbind_done(const __u64 *a, __u64 ret, bool typed)
{
	struct device *dev = (struct device *)a[0];
	__u64 key = (__u64)dev;
	struct ia_dev_state *old = bpf_map_lookup_elem(&devs, &key);

	/* not seen bound, or still bound (a detach of another driver) */
	if (!old || !old->driver || BPF_CORE_READ(dev, driver))
		return;
	ia_dev_observe_flags(dev, IA_DEV_UNBOUND);
}

SEC("fexit/device_release_driver_internal")
int unbind(__u64 *ctx)
{
	unbind_done(ctx, ctx[3], true);
	return 0;
}

IA_KPROBE_STASHED(unbind, device_release_driver_internal, IA_STASH_UNBIND, unbind_done)
