# Smoke test (issue 2): iommu-audit loads, attaches, and sees DMA mappings
# on every bench device, identified by PCI address, in the domain type the
# invalidation mode implies. With -v it prints the kernel data addresses
# its programs read (asked of the kernel where kallsyms_lookup_name() is a
# binary search, else read from /proc/kallsyms): each must be the one
# /proc/kallsyms lists. Lazy mode reads them from /proc/kallsyms
# (IA_KSYMS_FROM_PROC=1), so that both ways are compared on every kernel.

guest() {
	[ "$IA_MODE" = lazy ] && export IA_KSYMS_FROM_PROC=1
	iommu-audit -v -j devices -- sh /tests/workload.sh > "$OUT/devices.json" 2> "$OUT/devices.err"
	echo $? > "$OUT/devices.rc"
	# vmlinux's first symbol of each name (a module's line has a 4th
	# field), in one pass of grep -F (busybox awk's regex over the 200k
	# lines took minutes of TCG)
	sed -n 's/^ksym: [0-9a-f]* //p' "$OUT/devices.err" > /tmp/ksym.names
	grep -F -w -f /tmp/ksym.names /proc/kallsyms |
		awk 'NR == FNR { want[$1] = 1; next } NF == 3 && ($3 in want) && !seen[$3]++' \
			/tmp/ksym.names - > "$OUT/kallsyms.txt"
}

check() {
	local j=$OUT/devices.json dt bdf drv
	assert_eq "devices exit code" 0 "$(cat "$OUT/devices.rc")"
	assert_eq "kernel data addresses: $(sed -n 's/^startup: kernel data addresses: \([^0-9]*\) .*/\1/p' "$OUT/devices.err" | sed 's/ *$//'), each as /proc/kallsyms lists it" \
		"$(awk '{print $1, $3}' "$OUT/kallsyms.txt" | sort -k2)" \
		"$(sed -n 's/^ksym: //p' "$OUT/devices.err" | sort -k2)"
	assert_eq "kernel data addresses: all 7 found" 7 "$(grep -c '^ksym: 0*[1-9a-f]' "$OUT/devices.err")"
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
