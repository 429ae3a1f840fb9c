# Memory freed while a device can reach it (record --free-hooks,
# bpf/frees.bpf.c). The fixture frees what it mapped and says what it
# freed (free_mapped: phys, size), the witness the findings must name:
#   page  map_single 0 4096 + free_mapped: lifecycle.freed_while_mapped
#   slab  map_slab + free_mapped (its 200-byte object): the same, a slab
#         object; its neighbour, freed at the unmap, is not a finding
#   lazy  (lazy mode) map_single 0 4096 + unmap: the fixture frees the
#         page right after the unmap, before the flush queue's flush:
#         temporal.freed_before_flush; in strict mode nothing
# In the same record, the real drivers' workload under --free-hooks.
# vm-opts: --mem 6144

# ---- guest (busybox sh) ----------------------------------------------------

fr_do() {
	_out=$(iafx "$@")
	printf '%s\n' "$_out" >> "$OUT/steps.log"
	printf '%s\n' "$_out" | sed -n '1s/^id=\([0-9]*\) .*/\1/p'
}

fr_phase() {
	p=$(fr_do map_single 0 4096 to)
	fr_do free_mapped "$p" > /dev/null
	fr_do unmap "$p" > /dev/null
	s=$(fr_do map_slab to)
	fr_do free_mapped "$s" > /dev/null
	fr_do unmap "$s" > /dev/null
	z=$(fr_do map_single 0 4096 to)
	fr_do unmap "$z" > /dev/null
	sleep 0.1	# the flush queue's timer (10 ms) flushes
}

guest() {
	if ! command -v iafx > /dev/null; then
		echo "no /extra/fixture: run with --extra .output/fixture (tests/fixture/build.sh)"
		return 1
	fi
	iafx load > "$OUT/load.log" 2>&1
	# one record: the fixture's frees, then the real drivers' standard
	# traffic (findings told apart by driver)
	iommu-audit record --free-hooks -o /tmp/fr.trace -- \
		sh -c ". '$CASES_DIR/freed.sh' && fr_phase && sh /tests/workload.sh" \
		> "$OUT/record.log" 2>&1
	echo $? > "$OUT/record.rc"
	iommu-audit dump /tmp/fr.trace | grep '"type":"freed"' > "$OUT/freed.jsonl"
	iommu-audit -j check /tmp/fr.trace > "$OUT/check.jsonl"
	cat /sys/kernel/debug/ia_fixture/result > "$OUT/result.txt"
	iafx unload
}

# ---- host (bash, jq) -------------------------------------------------------

# fr_res N FIELD: FIELD of the N-th free_mapped result line
fr_res() {
	grep ' cmd=free_mapped ' "$OUT/result.txt" | sed -n "$1p" | sed -n "s/.* $2=\([0-9]*\).*/\1/p"
}

# fr_find CODE PHYS SIZE: "severity len count" of the fixture's finding of that
# code at that phys and size (by size too: the slab object may sit where
# the page freed just before it was, the freed page handed to the slab
# allocator, as on the 6.1 lab kernel at G=16K)
fr_find() {
	jq -r "select(.finding.code == \"$1\" and .finding.phys == $2 and
		.finding.len == $3 and .finding.driver == \"ia_fixture\") |
		\"\(.finding.severity) \(.finding.len) \(.finding.count)\"" "$OUT/check.jsonl"
}

# fr_fx JQ: the fixture's findings (.finding of each), through JQ
fr_fx() {
	jq -s -r "[.[] | select(.type == \"finding\" and .finding.driver == \"ia_fixture\") |
		.finding] | $1" "$OUT/check.jsonl"
}

check() {
	local pp ps
	assert_eq "record exit" 0 "$(cat "$OUT/record.rc")"
	# the witness itself (else the comparisons below compare nothing)
	assert_eq "fixture: its 3 maps, 2 frees and 3 unmaps ran" 8 \
		"$(grep -cE ' cmd=(map_single|map_slab|free_mapped|unmap) .* err=0$' "$OUT/result.txt")"
	pp=$(fr_res 1 phys)
	ps=$(fr_res 2 phys)
	assert_eq "page freed while mapped: one error, the fixture's page" "error 4096 1" \
		"$(fr_find lifecycle.freed_while_mapped "$pp" 4096)"
	assert_eq "slab object freed while mapped: one error, the fixture's object" "error 200 1" \
		"$(fr_find lifecycle.freed_while_mapped "$ps" 200)"
	assert_jq "the slab one is a slab object" "$OUT/freed.jsonl" \
		"select(.phys == $ps and .size == 200) | .slab" true
	assert_eq "exactly those two freed while mapped (the page's later owners' frees not reported)" 2 \
		"$(fr_fx 'map(select(.code == "lifecycle.freed_while_mapped")) | length')"
	assert_eq "the freeing call site is the fixture's free_mapped" 2 \
		"$(fr_fx '.[] | select(.code == "lifecycle.freed_while_mapped") | .stack[]' |
			grep -c '^fx_free_mapped+')"
	assert_eq "the mapping's call site is in the message" 2 \
		"$(fr_fx '.[] | select(.code == "lifecycle.freed_while_mapped") | .message' |
			grep -c 'mapped at fx_map')"
	if [ "$MODE" = lazy ]; then
		assert_ge "lazy: the fixture's page freed after its unmap, before the flush" 1 \
			"$(fr_fx 'map(select(.code == "temporal.freed_before_flush")) | length')"
	else
		assert_eq "strict: nothing freed before a flush (no device)" 0 \
			"$(grep -c '"code":"temporal.freed_before_flush"' "$OUT/check.jsonl")"
	fi
	echo "# real drivers under --free-hooks ($MODE): $(jq -r 'select(.type == "finding") |
		select(.finding.driver != "ia_fixture" and (.finding.code | test("freed"))) |
		"\(.finding.code) \(.finding.driver) x\(.finding.count)"' \
		"$OUT/check.jsonl" | tr '\n' ';')"
}
