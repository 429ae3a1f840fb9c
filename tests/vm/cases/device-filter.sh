# --device: only the named devices are reported, and the page-table writes
# of the others are dropped in BPF (not reported as unattributed).
# vm-modes: strict (the filter is applied in BPF when a device is first
# seen; the invalidation mode changes only when IOTLBs are flushed)

guest() {
	iommu-audit -j devices --device "$IA_NVME_BDF" --device "$IA_E1000E_BDF" \
		-- sh /tests/workload.sh > "$OUT/devices.json"
	echo $? > "$OUT/devices.rc"
	iommu-audit record -o /tmp/f.trace --device "$IA_VIRTIO_BDF" -- sh /tests/workload.sh
	iommu-audit dump /tmp/f.trace > "$OUT/dump.jsonl"
}

check() {
	local nvme e1000e virtio
	nvme=$(env_get IA_NVME_BDF)
	e1000e=$(env_get IA_E1000E_BDF)
	virtio=$(env_get IA_VIRTIO_BDF)
	assert_eq "devices exit code" 0 "$(cat "$OUT/devices.rc")"
	assert_jq "devices: only the two named" "$OUT/devices.json" \
		'[.devices[].name] | sort | join(" ")' "$(printf '%s\n' "$nvme" "$e1000e" | sort | tr '\n' ' ' | sed 's/ $//')"
	assert_jq "devices: no unattributed writes from filtered devices" "$OUT/devices.json" \
		'.events.pt_unattributed' 0
	assert_ge "devices: nvme traffic seen" 1 \
		"$(jq ".devices[] | select(.name == \"$nvme\") | .pt_maps" "$OUT/devices.json")"
	assert_eq "record --device: requests of that device only" "$virtio" \
		"$(jq -rs '[.[] | select(.type == "request") | .device] | unique | join(" ")' "$OUT/dump.jsonl")"
	assert_eq "record --device: every page-table write is that device's" 0 \
		"$(jq -s '([.[] | select(.type == "request") | .req]) as $ids
			| [.[] | select(.type == "pt_map") | select(.req as $r | $ids | index($r) | not)] | length' "$OUT/dump.jsonl")"
}
