# Buffers on the mapping task's kernel stack, on a kernel with vmapped
# stacks (Debian's: CONFIG_VMAP_STACK), the branch of the map hooks' check
# (bpf/requests.bpf.c: ia_on_stack()) that the lab kernel, whose stacks are
# in the linear map, never takes. One task (the writer of the fixture's
# batch file) maps from its own stack, then a heap page, then from its
# stack again. The witness is the fixture's log: each command's phys, and
# vmap_stack=1 (the buffer is in vmalloc space).
# vm-kernels: 6.1 (the programs are the ones every kernel loads; a BPF load
# and unload cost 1-5 min of TCG on 7.2)
# vm-modes: strict (the check is made at the map; invalidation changes
# nothing in it)

guest() {
	if ! command -v iafx > /dev/null; then
		echo "no /extra/fixture: run with --extra .output/fixture (tests/fixture/build.sh)"
		return 1
	fi
	iafx load > "$OUT/load.log" 2>&1
	# after the probe (id 1) the batch's lines are ids 2 .. 5
	printf '%s\n' 'map_stack 64' 'map_single 0 4096 to' 'map_stack 32' 'unmap 3' > /tmp/stack.batch
	# the writer's pid, as its shell saw it: every record of the run is
	# made in that task (hdr.pid)
	iommu-audit record --device "$IA_EDU_BDF" -o /tmp/stack.trace -- \
		sh -c 'cat /tmp/stack.batch > /sys/kernel/debug/ia_fixture/batch &
		       echo $! > /tmp/stack.writer; wait $!' \
		> "$OUT/record.log" 2>&1
	echo $? > "$OUT/record.rc"
	cp /tmp/stack.writer "$OUT/writer.pid"
	iommu-audit dump /tmp/stack.trace > "$OUT/dump.jsonl"
	iommu-audit -j check --each /tmp/stack.trace > "$OUT/check.jsonl"
	cat /sys/kernel/debug/ia_fixture/result > "$OUT/result.txt"
	iafx unload
}

# st_phys ID: the phys the fixture's log gives for command ID
st_phys() {
	sed -n "s/^id=$1 .* phys=\([0-9]*\).*/\1/p" "$OUT/result.txt" | head -n 1
}

check() {
	local s1 s2 heap
	assert_eq "record exit" 0 "$(cat "$OUT/record.rc")"
	# the witness itself: the four commands ran, the stack buffers are
	# vmapped (else this is not the branch under test)
	assert_eq "fixture: its 4 commands ran" 4 \
		"$(grep -cE '^id=[2-5] cmd=(map_stack|map_single|unmap) .* err=0$' "$OUT/result.txt")"
	assert_eq "fixture: both stack buffers vmapped" 2 \
		"$(grep -cE '^id=[24] cmd=map_stack .* vmap_stack=1 ' "$OUT/result.txt")"
	s1=$(st_phys 2)
	heap=$(st_phys 3)
	s2=$(st_phys 4)
	assert_eq "check: exposure.stack at the phys of each stack map, nothing else" \
		"$(printf '%s\n' "$s1" "$s2" | sort -n | tr '\n' ' ')" \
		"$(jq -r 'select(.type == "finding" and .finding.code == "exposure.stack") | .finding.phys' \
			"$OUT/check.jsonl" | sort -n | tr '\n' ' ')"
	# 3 maps and their 3 unmaps: requests, nested requests, writes,
	# removals, releases, tracepoints; all of them the writer's
	assert_ge "trace: the fixture's records" 12 \
		"$(jq -s '[.[] | select(.type | IN("request", "pt_map", "pt_unmap"))] | length' "$OUT/dump.jsonl")"
	assert_eq "trace: every record's pid is the writer's ($(cat "$OUT/writer.pid"))" \
		"$(cat "$OUT/writer.pid")" \
		"$(jq -rs '[.[] | select(.type | IN("request", "pt_map", "pt_unmap", "iova_free", "tp_map", "tp_unmap")) | .pid] | unique | map(tostring) | join(" ")' "$OUT/dump.jsonl")"
	assert_eq "check: the heap page between them is not on the stack" 0 \
		"$(jq -r "select(.type == \"finding\" and .finding.code == \"exposure.stack\" and
			.finding.phys == ${heap:-0})" "$OUT/check.jsonl" | grep -c .)"
}
