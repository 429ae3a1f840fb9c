// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include "live/iommu_state.h"

/* The default domain type of group dir/name ("DMA", "identity"...) into t. */
static int group_type(const char *dir, const char *name, char *t, size_t len)
{
	char path[512];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s/type", dir, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	ok = fgets(t, (int)len, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	t[strcspn(t, "\n")] = 0;
	return 0;
}

int ia_iommu_translating(const char *groups_dir, char *err, size_t errlen)
{
	DIR *d = opendir(groups_dir);
	unsigned groups = 0, translated = 0, other = 0;
	char first_other[32] = "";
	struct dirent *e;

	/* the kernel makes the directory whether an IOMMU exists or not: without
	 * it there is no sysfs here to ask, and the hooks will have to say */
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char t[32];

		if (e->d_name[0] == '.')
			continue;
		groups++;
		if (group_type(groups_dir, e->d_name, t, sizeof(t)))
			continue;
		if (!strcmp(t, "DMA") || !strcmp(t, "DMA-FQ"))
			translated++;
		else if (!other++)
			snprintf(first_other, sizeof(first_other), "%s", t);
	}
	closedir(d);
	if (translated)
		return 0;
	if (!groups)
		snprintf(err, errlen, "no IOMMU group in %s: no IOMMU is active (intel_iommu=off, "
			 "amd_iommu=off, or none in this machine): DMA is not translated, there is "
			 "nothing to audit", groups_dir);
	else
		snprintf(err, errlen, "none of the %u IOMMU groups translates DMA (their domains "
			 "are %s%s: iommu.passthrough=1 or iommu=pt?): dma-iommu is never called, "
			 "there is nothing to audit; boot with iommu.passthrough=0", groups,
			 other ? first_other : "unreadable", other > 1 ? ", ..." : "");
	return -1;
}
