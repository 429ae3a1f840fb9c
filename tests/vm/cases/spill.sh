# In-flight stacks that do not fit their slot (bpf/audit.bpf.h:
# ia_inflight_get()). A task's stack is the array slot of its thread id;
# a task whose slot another task holds at the time takes the LRU hash.
# IA_FAULT_INFLIGHT_SLOTS=1 gives every task the same slot, so two dd
# processes reading the nvme disk at once, and the completions that
# interrupt them, take the hash whenever their requests overlap. The
# witnesses: dd's own record counts (one 4K map and one unmap per block
# read with O_DIRECT), the kernel's iommu:map/unmap tracepoints (each
# page-table write's own values, which the write's record folds in when
# the two are the same write of the same request), and the kernel's
# nesting (a map_page's page-table write lies in the range it mapped, in
# the same task).
# vm-kernels: 6.1 (what is tested is the programs' own bookkeeping, the
# same on every kernel; a BPF load costs 1-5 min of TCG on 7.2)
# vm-modes: strict (the slots do not depend on the invalidation mode)

SPILL_BLOCKS=300

guest() {
	IA_FAULT_INFLIGHT_SLOTS=1 iommu-audit -v record -o /tmp/spill.trace -- sh -c "
		dd if=$IA_NVME_DEV of=/dev/null bs=4096 count=$SPILL_BLOCKS iflag=direct 2> /tmp/dd1.err &
		dd if=$IA_NVME_DEV of=/dev/null bs=4096 count=$SPILL_BLOCKS skip=4096 iflag=direct 2> /tmp/dd2.err &
		wait" 2> "$OUT/record.err"
	echo $? > "$OUT/record.rc"
	cat /tmp/dd1.err /tmp/dd2.err > "$OUT/dd.err"
	iommu-audit dump /tmp/spill.trace > "$OUT/dump.jsonl"
	iommu-audit -j devices -i /tmp/spill.trace > "$OUT/devices.json"
	IA_FAULT_INFLIGHT_SLOTS=2 iommu-audit record -o /tmp/bad.trace -- true > "$OUT/badknob.log" 2>&1
	echo $? > "$OUT/badknob.rc"
	rm -f /tmp/spill.trace /tmp/bad.trace
}

check() {
	local d=$OUT/dump.jsonl nvme spilled blocks
	nvme=$(env_get IA_NVME_BDF)
	assert_eq "record exit code" 0 "$(cat "$OUT/record.rc")"
	assert_jq "no events lost" "$d" 'select(.type == "trailer") | .lost_ringbuf + .lost_inflight + .lost_stack' 0
	# the path under test ran: requests' stacks went to the hash
	spilled=$(sed -n "s/^in-flight stacks: \([0-9]*\) requests' in the hash.*/\1/p" "$OUT/record.err")
	echo "# in-flight stacks: ${spilled:-?} requests' in the hash"
	assert_ge "requests whose stack took the hash (their slot another task's)" 1 "${spilled:-0}"
	# dd's count of the blocks it read, both processes
	blocks=$(awk -F+ '/^[0-9]+\+0 records in$/ { n += $1 } END { print n + 0 }' "$OUT/dd.err")
	assert_eq "dd: both read all their blocks" $((2 * SPILL_BLOCKS)) "${blocks:-0}"
	assert_eq "nvme 4K reads: one map_page FROM_DEVICE per block dd read" "${blocks:-x}" \
		"$(jq -s "[.[] | select(.type == \"request\" and .device == \"$nvme\" and .kind == \"map_page\"
			and .size == 4096 and .dir == 2 and .parent == 0 and (.failed | not))] | length" "$d")"
	assert_eq "nvme 4K reads: one unmap_page of the same size per block" "${blocks:-x}" \
		"$(jq -s "[.[] | select(.type == \"request\" and .device == \"$nvme\" and .kind == \"unmap_page\"
			and .size == 4096 and .dir == 2 and .parent == 0)] | length" "$d")"
	assert_jq "page-table writes in requests attributed" "$OUT/devices.json" '.events.attribution_pct' 100
	assert_eq "no page-table write outside a request" 0 \
		"$(jq -s '[.[] | select((.type == "pt_map" or .type == "pt_unmap") and .unattributed)] | length' "$d")"
	# each write under the request it was made in: its nested request is
	# its map's, in the same task, and the write maps the map's pages
	assert_eq "every nvme map_page's nested __iommu_dma_map: its phys, size and task" 0 \
		"$(jq -s "(map(select(.type == \"request\")) | INDEX(.req)) as \$r |
			[.[] | select(.type == \"request\" and .kind == \"iommu_dma_map\" and .device == \"$nvme\") |
			 \$r[.parent | tostring] as \$p |
			 select(\$p == null or \$p.kind != \"map_page\" or \$p.pid != .pid or
				\$p.phys != .phys or \$p.dma != .dma)] | length" "$d")"
	assert_eq "every pt_map: in its request's range, from its request's task" 0 \
		"$(jq -s '(map(select(.type == "request")) | INDEX(.req)) as $r |
			[.[] | select(.type == "pt_map") | $r[.req | tostring] as $q |
			 select($q == null or $q.pid != .pid or .iova != ($q.dma - ($q.dma % 4096)) or
				.paddr != ($q.phys - ($q.phys % 4096)))] | length' "$d")"
	# the kernel's tracepoints: one per write, and each the write's own
	assert_eq "iommu:map tracepoint count = successful pt_map count" \
		"$(jq -s '[.[] | select(.type == "tp_map")] | length' "$d")" \
		"$(jq -s '[.[] | select(.type == "pt_map" and .result == 0)] | length' "$d")"
	assert_eq "iommu:unmap tracepoint count = pt_unmap count" \
		"$(jq -s '[.[] | select(.type == "tp_unmap")] | length' "$d")" \
		"$(jq -s '[.[] | select(.type == "pt_unmap")] | length' "$d")"
	assert_eq "every nvme unmap_page: its first removal is its handle's page, in its task" 0 \
		"$(jq -s "(map(select(.type == \"pt_unmap\")) | group_by(.req) |
			map({key: (.[0].req | tostring), value: .[0]}) | from_entries) as \$w |
			[.[] | select(.type == \"request\" and .kind == \"unmap_page\" and .device == \"$nvme\") |
			 \$w[.req | tostring] as \$u |
			 select(\$u == null or \$u.iova != (.dma - (.dma % 4096)) or \$u.pid != .pid)] | length" "$d")"
	assert_eq "IA_FAULT_INFLIGHT_SLOTS=2 refused, exit 1" 1 "$(cat "$OUT/badknob.rc")"
	assert_eq "IA_FAULT_INFLIGHT_SLOTS=2: the message" 1 \
		"$(grep -c 'IA_FAULT_INFLIGHT_SLOTS=2: only 1' "$OUT/badknob.log")"
}
