/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Is any DMA translated by dma-iommu on this machine? Read from sysfs
 * before anything is loaded: with no IOMMU (intel_iommu=off, none in the
 * machine) or every IOMMU group in an identity domain (iommu.passthrough=1,
 * iommu=pt), drivers' DMA goes straight to physical addresses, dma-iommu is
 * never called, and a run would watch nothing and say nothing.
 */
#ifndef IA_IOMMU_STATE_H
#define IA_IOMMU_STATE_H

#include <stddef.h>

/*
 * 0 when some IOMMU group has a translated default domain (DMA, DMA-FQ),
 * or sysfs cannot tell (not mounted: the hooks will say); -1 with the
 * reason in err when none has. groups_dir: /sys/kernel/iommu_groups
 * (tests give another).
 */
int ia_iommu_translating(const char *groups_dir, char *err, size_t errlen);

#endif
