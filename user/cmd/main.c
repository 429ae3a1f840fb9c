// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* iommu-audit: audit what devices can really reach through the IOMMU. */
#include "cmd/cli.h"

int main(int argc, char **argv)
{
	struct ia_cli cli = {};

	return ia_dispatch(&cli, argc, argv);
}
