#!/bin/bash
# The demo: boot the VM bench (stock Debian 6.1 kernel, emulated Intel IOMMU,
# nvme + e1000e + virtio-blk) and run iommu-audit live over the standard
# workload; it prints the per-device report (domain type, granule, mappings).
#
# usage: tools/demo.sh [--mode strict|lazy]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=strict
[ "${1:-}" = "--mode" ] && mode=$2
exec "$root/tools/vm-run.sh" --mode "$mode" -- \
	'echo "== iommu-audit devices (live) over tests/vm/workload.sh, iommu.strict mode: $IA_MODE"
	 iommu-audit devices --status 2 -- sh /tests/workload.sh'
