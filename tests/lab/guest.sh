#!/bin/sh
# Runs in the lab-kernel guest (tests/lab/run.sh copies it to
# /extra/lab/guest.sh). Prints "@@@BEGIN name" ... "@@@END" sections that
# run.sh splits into files.
G=${1:-4096}	# the IOMMU granule asked for on the command line

sec() { echo "@@@BEGIN $1"; }
end() { echo "@@@END"; }

sec cmdline; cat /proc/cmdline; end
sec uname; uname -r; end
sec dmesg; dmesg; end
sec drivers
for v in NVME E1000E VIRTIO EDU; do
	eval bdf=\$IA_${v}_BDF
	drv=$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver" 2>/dev/null)" 2>/dev/null)
	grp=$(basename "$(readlink "/sys/bus/pci/devices/$bdf/iommu_group" 2>/dev/null)" 2>/dev/null)
	typ=$(cat "/sys/bus/pci/devices/$bdf/iommu_group/type" 2>/dev/null)
	echo "$v $bdf driver=${drv:-none} group=${grp:-none} type=${typ:-none}"
done
end
# CONFIG_DMA_MAP_BENCHMARK: a PCI/platform driver; /sys/kernel/debug/dma_map_benchmark
# appears once a device is bound to it (driver_override).
sec dma_map_benchmark; ls /sys/bus/pci/drivers/dma_map_benchmark 2>&1; end
sec dma_api_debug; ls /sys/kernel/debug/dma-api/ 2>&1; end

# The bench workload under `iommu-audit devices`: the granule column.
# With a granule > PAGE_SIZE some dma_map_sg() calls are refused, so a dd may
# fail; the workload stops at the first failure (set -e), and then runs again
# without set -e so that every device gets its traffic.
sed '/^set -e$/d' /tests/workload.sh > /tmp/workload-lenient.sh
sec devices
iommu-audit -j devices -- sh -c 'exec 2>/tmp/workload.err
	sh /tests/workload.sh; rc=$?; echo "workload rc=$rc" >&2
	[ $rc -eq 0 ] || sh -x /tmp/workload-lenient.sh >&2'
echo "rc=$?"
end
sec workload; cat /tmp/workload.err; end

# The fixture: a 4 KiB coherent allocation and sub-granule single maps.
if command -v iafx >/dev/null 2>&1; then
	sec fixture_load; iafx load 2>&1; echo "rc=$?"; end
	sec fixture_record
	iommu-audit record --device "$IA_EDU_BDF" -o /tmp/lab.trace -- sh -c '
		id() { sed -n "1s/^id=\([0-9]*\) .*/\1/p"; }
		c=$(iafx alloc_coherent 4096 | id)
		a=$(iafx map_single 100 200 to | id)
		iafx unmap $a
		iafx free_coherent $c
	' 2>&1
	echo "rc=$?"
	end
	sec fixture_result; iafx result; end
	sec check; iommu-audit -j check /tmp/lab.trace; echo "rc=$?" >&2; end
	sec fixture_devices; iommu-audit -j devices -i /tmp/lab.trace; end
	sec dmesg_after; dmesg | tail -n 40; end
fi
exit 0
