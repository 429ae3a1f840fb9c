# Hostile ground (issue 14): a kernel whose IOMMU is off (intel_iommu=off,
# appended after the bench's intel_iommu=on, the last one counting): no
# IOMMU group, drivers' DMA untranslated, dma-iommu never called. The live
# commands say so before loading anything and exit 1 (docs/iommu-audit.8.md);
# `coverage` (the hooks this kernel allows) is not refused. One boot of its
# own, no BPF load in it.
# vm-opts: --append intel_iommu=off
# vm-kernels: 6.1 (the tool's own handling, the same on every kernel; a BPF load and unload per run cost 1-5 min of TCG on 7.2)
# vm-modes: strict (no IOMMU: no invalidation mode)

# the live commands, each -j; stderr and exit code kept (hostile-identity.sh too)
untranslated_runs() {
	local c args
	for c in record live devices monitor; do
		case $c in
		record) args="record -o /tmp/u.trace -d 1" ;;
		monitor) args="monitor --listen off -d 1" ;;
		*) args="$c -d 1" ;;
		esac
		# shellcheck disable=SC2086
		iommu-audit -j $args > "$OUT/$c.json" 2> "$OUT/$c.err"
		echo $? > "$OUT/$c.rc"
	done
	ls /sys/kernel/iommu_groups > "$OUT/groups"
	cat /sys/kernel/iommu_groups/*/type > "$OUT/types" 2> /dev/null
	ls /sys/class/iommu > "$OUT/iommus"
	# the devices still work, untranslated
	dd if="$IA_NVME_DEV" of=/dev/null bs=4096 count=4 iflag=direct 2> "$OUT/dd.err"
	echo $? > "$OUT/dd.rc"
}

guest() { untranslated_runs; }

# untranslated_check MESSAGE
untranslated_check() {
	local c
	for c in record live devices monitor; do
		assert_eq "$c exit 1" 1 "$(cat "$OUT/$c.rc")"
		assert_eq "$c says why" 1 "$(grep -cF "$1" "$OUT/$c.err")"
		assert_eq "$c -j: one JSON error saying it" true \
			"$(jq -s --arg m "$1" 'length == 1 and (.[0].error | contains($m))' "$OUT/$c.json")"
	done
	assert_eq "nvme reads work without the IOMMU's translation" 0 "$(cat "$OUT/dd.rc")"
}

check() {
	assert_eq "no IOMMU group" "" "$(cat "$OUT/groups")"
	assert_eq "no IOMMU device" "" "$(cat "$OUT/iommus")"
	untranslated_check "no IOMMU group in /sys/kernel/iommu_groups: no IOMMU is active"
}
