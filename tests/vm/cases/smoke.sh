# Smoke test (issue 2): iommu-audit loads, attaches, and sees DMA mappings
# on every bench device, identified by PCI address, in the domain type the
# invalidation mode implies.

guest() {
	iommu-audit -j devices -- sh /tests/workload.sh > "$OUT/devices.json"
	echo $? > "$OUT/devices.rc"
}

check() {
	local j=$OUT/devices.json dt bdf drv
	assert_eq "devices exit code" 0 "$(cat "$OUT/devices.rc")"
	assert_jq "coverage complete" "$j" '.coverage.complete' true
	assert_jq "no events lost" "$j" '.lost.ringbuf + .lost.inflight' 0
	[ "$MODE" = strict ] && dt=DMA || dt=DMA-FQ
	for pair in "IA_NVME_BDF nvme" "IA_E1000E_BDF e1000e" "IA_VIRTIO_BDF virtio-pci"; do
		set -- $pair
		bdf=$(env_get "$1")
		drv=$2
		assert_jq "$drv at $bdf listed" "$j" "[.devices[] | select(.name == \"$bdf\")] | length" 1
		assert_jq "$drv driver name" "$j" ".devices[] | select(.name == \"$bdf\") | .driver" "$drv"
		assert_jq "$drv domain type ($MODE)" "$j" ".devices[] | select(.name == \"$bdf\") | .domain_type" "$dt"
		assert_jq "$drv granule" "$j" ".devices[] | select(.name == \"$bdf\") | .granule" 4096
		assert_ge "$drv map requests" 1 \
			"$(jq ".devices[] | select(.name == \"$bdf\") | .maps" "$j")"
		assert_ge "$drv page-table writes" 1 \
			"$(jq ".devices[] | select(.name == \"$bdf\") | .pt_maps" "$j")"
	done
}
