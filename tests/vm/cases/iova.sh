# The two-step IOVA API (v6.16+) from the DMA fixture (docs/fixture.md,
# iova_* commands) on the edu device, in two recordings:
#   A. correct use: reserve 0x3e00 bytes with phys hint 0x200, link three
#      ranges at sub-granule offsets, sync, unlink the last, destroy the rest;
#   B. wrong calls: a link past the reserved range, an unlink of a range
#      never linked, a double unlink, a destroy and a free with links still
#      live (the fixture repairs them with iommu_unmap), a destroy of more
#      than was linked, and a state left reserved at the end.
# Expected page-table writes, exposures and findings are computed from the
# parameters, the 4 KiB granule and the fixture's log (state->addr, the
# physical addresses, what the page tables translate to), from the API's
# documented semantics (tests/unit/test_inv_iova.c has the arithmetic). On a
# kernel before 6.16 the fixture refuses the commands and the hooks are
# absent.
# vm-opts: --mem 6144

iova_scenario_a() {
	iafx iova_alloc 0x3e00 0x200 || return 1
	s=$(last_id)
	iafx iova_link "$s" 0 0x600 to 0x200
	iafx iova_link "$s" 0xe00 0x1800 to
	iafx iova_link "$s" 0x2e00 0x1000 to
	iafx iova_sync "$s" 0 0x3e00
	iafx iova_unlink "$s" 0x2e00 0x1000 to
	iafx iova_destroy "$s" 0x2e00
}

# last_id: the id of the fixture's last command
last_id() { iafx result | sed -n '$s/^id=\([0-9]*\) .*/\1/p'; }

iova_scenario_b() {
	# room past its end for the link past the range: the allocator may put
	# the state right under a mapping still live (another case's)
	iafx iova_alloc 0x4000 0 room=0x1000; s2=$(last_id)
	iafx iova_link "$s2" 0 0x1000 bidi
	iafx iova_link "$s2" 0x4000 0x1000 bidi		# past the range
	iafx iova_unlink "$s2" 0x4000 0x1000		# undo it (a live link)
	iafx iova_unlink "$s2" 0x2000 0x1000		# never linked
	iafx iova_unlink "$s2" 0 0x1000
	iafx iova_unlink "$s2" 0 0x1000			# again
	iafx iova_destroy "$s2" 0			# nothing linked: a free
	iafx iova_alloc 0x4000; s3=$(last_id)
	iafx iova_link "$s3" 0 0x1000 bidi
	iafx iova_link "$s3" 0x2000 0x1000 bidi
	iafx iova_destroy "$s3" 0x1000			# leaves the second
	iafx iova_alloc 0x2000; s4=$(last_id)
	iafx iova_link "$s4" 0 0x1000 bidi
	iafx iova_free "$s4"				# with a live link
	iafx iova_alloc 0x4000; s6=$(last_id)
	iafx iova_link "$s6" 0 0x1000 bidi
	iafx iova_destroy "$s6" 0x2000			# 0x1000 never linked
	iafx iova_alloc 0x1000; s5=$(last_id)
	iafx iova_link "$s5" 0 0x1000 bidi		# reserved at the end
}

iova_record() {	# TAG
	iommu-audit record --device "$IA_EDU_BDF" -o "/tmp/iova$1.trace" -- \
		sh -c ". '$CASES_DIR/iova.sh' && iova_scenario_$1" > "$OUT/record$1.log" 2>&1
	echo $? > "$OUT/record$1.rc"
	iommu-audit dump "/tmp/iova$1.trace" > "$OUT/dump$1.jsonl"
	iommu-audit -j check "/tmp/iova$1.trace" > "$OUT/check$1.jsonl"
}

guest() {
	iafx load > "$OUT/load.log" 2>&1
	echo $? > "$OUT/load.rc"
	# live coverage (a BPF load and unload of its own) in strict mode only,
	# where it is compared with the recording's; lazy mode reads the
	# recording's (the hooks' states do not depend on the mode)
	[ "$IA_MODE" = strict ] && iommu-audit -j coverage > "$OUT/coverage-live.json"
	iova_record a
	iommu-audit -j coverage -i /tmp/iovaa.trace > "$OUT/coverage.json"
	iova_record b
	cat /sys/kernel/debug/ia_fixture/result > "$OUT/result.txt"
	iafx unload
}

# ---- host (bash, jq) -------------------------------------------------------

# r CMD N FIELD: FIELD of the N-th (1-based) result line of command CMD
r() { jq -r "[.[] | select(.cmd == \"$1\")][$2 - 1].$3 // empty" "$OUT/result.json"; }
# n_code DUMP-OR-CHECK CODE: findings of CODE, their counts added
n_code() { jq -s "[.[] | select(.code == \"$2\") | .count] | add // 0" "$1"; }
len_code() { jq -s -c "[.[] | select(.code == \"$2\") | .len] | sort" "$1"; }

# does the booted kernel have the IOVA API (6.16+)?
has_iova_api() {
	local maj=${KREL%%.*} rest=${KREL#*.}
	local min=${rest%%.*}
	[ "$maj" -gt 6 ] || { [ "$maj" -eq 6 ] && [ "$min" -ge 16 ]; }
}

check() {
	local a=$OUT/dumpa.jsonl ca=$OUT/findingsa.jsonl cb=$OUT/findingsb.jsonl base addr t
	assert_eq "module loads" 0 "$(cat "$OUT/load.rc")"
	# check -j: one {"type": "finding", "finding": {...}} per finding
	for t in a b; do
		jq -c 'select(.type == "finding") | .finding' "$OUT/check$t.jsonl" \
			> "$OUT/findings$t.jsonl" 2>/dev/null
	done
	fx_result_json
	if [ "$MODE" = strict ]; then
		local states='[.coverage.hooks[] | "\(.name)=\(.state)"] | sort | join(" ")'
		assert_eq "live coverage: each hook's state as the recording's" \
			"$(jq -r "$states" "$OUT/coverage.json")" "$(jq -r "$states" "$OUT/coverage-live.json")"
	fi
	if ! has_iova_api; then
		assert_eq "before 6.16 the fixture refuses iova_alloc" "-95 no_iova_api_before_6.16" \
			"$(r iova_alloc 1 err) $(r iova_alloc 1 msg)"
		assert_jq "the IOVA API hooks are absent" "$OUT/coverage.json" \
			'[.coverage.hooks[] | select(.name | test("^iova_(alloc|link|sync|unlink|destroy|free)$")) | .state] | unique | join(",")' absent
		assert_jq "no IOVA record" "$a" 'select(.type == "iova") | .kind' ""
		return
	fi
	assert_jq "the IOVA API hooks attached" "$OUT/coverage.json" \
		'[.coverage.hooks[] | select(.name | test("^iova_(alloc|link|sync|unlink|destroy|free)$")) | .state] | unique | join(",")' attached
	for t in a b; do
		assert_eq "recording $t: exit code (0, or 3 for hooks missing on this kernel)" ok \
			"$(rc=$(cat "$OUT/record$t.rc"); [ "$rc" = 0 ] || [ "$rc" = 3 ] && echo ok || echo "$rc")"
	done

	# A. state->addr = the reserved range's start + the hint's 0x200
	addr=$(r iova_alloc 1 addr)
	base=$((addr - 0x200))
	assert_eq "A: reserved (ok=1), addr at +0x200 in its granule" "1 512" \
		"$(r iova_alloc 1 ok) $((addr % 4096))"
	assert_eq "A: try_alloc record: addr, size, phys hint" "$addr 15872 512" \
		"$(jq -r -s '[.[] | select(.type == "iova" and .kind == "iova_try_alloc")][0] | "\(.addr) \(.reserved) \(.phys)"' "$a")"
	# each link's page-table write: granule-aligned, at addr + offset - pad
	local p1 p2 p3
	p1=$(r iova_link 1 phys); p2=$(r iova_link 2 phys); p3=$(r iova_link 3 phys)
	assert_eq "A: the kernel translates each link's IOVA to its phys (fixture xlate)" \
		"$p1 $p2 $p3" "$(r iova_link 1 xlate) $(r iova_link 2 xlate) $(r iova_link 3 xlate)"
	assert_eq "A: link writes (iova paddr size), one per link, in its request" \
		"$base $((p1 - 0x200)) 4096;$((base + 4096)) $p2 8192;$((base + 12288)) $p3 4096" \
		"$(jq -r -s '(map(select(.type == "iova" and .kind == "iova_link") | .req)) as $links
			| [$links[] as $l | [.[] | select(.type == "pt_map" and .req == $l)]
			   | if length == 1 then "\(.[0].iova) \(.[0].paddr) \(.[0].size)" else "x\(length)" end]
			| join(";")' "$a")"
	assert_eq "A: unlink removes [base+0x3000, +0x1000), destroy [base, +0x3000)" \
		"$((base + 12288)) 4096;$base 12288" \
		"$(jq -r -s '[.[] | select(.type == "iova" and (.kind == "iova_unlink" or .kind == "iova_destroy")) | .req] as $r
			| [$r[] as $q | .[] | select(.type == "pt_unmap" and .req == $q) | "\(.iova) \(.unmapped)"] | join(";")' "$a")"
	local queued=false
	[ "$MODE" = lazy ] && queued=true
	assert_eq "A: destroy releases the range (queued: $queued), unlink releases nothing" \
		"1 $base $queued" \
		"$(jq -r -s '[.[] | select(.type == "iova" and .kind == "iova_destroy") | .req][0] as $d
			| [.[] | select(.type == "iova_free")] as $f
			| "\($f | length) \(($f[0].iova // 0) - (($f[0].iova // 0) % 4096)) \($f[0].queued)"' "$a")"
	assert_jq "A: every page-table change attributed" "$a" \
		'select((.type == "pt_map" or .type == "pt_unmap") and .unattributed) | .type' ""
	assert_jq "A: the IOVA API fires no dma:* tracepoint" "$a" 'select(.type == "tp_dma") | .event' ""
	# exposures: L1 head 0x200 tail 0x800, L2 tail 0x800, L3 none; one call
	# site, so one finding: two links, bytes added up, the first's head/tail
	assert_eq "A: exposures of the links (count, bytes, first head and tail)" "2 4608 512 2048" \
		"$(jq -r -s '[.[] | select(.code == "exposure.sub_page" and .request == "iova_link")]
			| "\(map(.count) | add) \(map(.exposed_bytes) | add) \(.[0].head) \(.[0].tail)"' "$ca")"
	assert_eq "A: no lifecycle, translation or alignment finding" 0 \
		"$(jq -s '[.[] | select(.code and (.invariant == "lifecycle" or .invariant == "translation"
			or .invariant == "alignment"))] | length' "$ca")"

	# B. the wrong calls, each with its finding
	assert_eq "B: the fixture made every call (err=0)" \
		"0" "$(jq '[.[] | select((.cmd // "" | startswith("iova_")) and .id > '"$(r iova_destroy 1 id)"' and .err != 0)] | length' "$OUT/result.json")"
	assert_eq "B: link past the range: 4096 bytes" "[4096]" "$(len_code "$cb" lifecycle.iova_link_outside)"
	assert_eq "B: never linked: the unlink's and the destroy's 4096" "[4096,4096]" \
		"$(jq -s -c '[.[] | select(.code == "lifecycle.iova_not_linked") | range(.count) as $i | .len] | sort' "$cb")"
	assert_eq "B: double unlink: 4096" "[4096]" "$(len_code "$cb" lifecycle.iova_double_unlink)"
	assert_eq "B: destroy and free with a live link: 4096 each" "[4096,4096]" \
		"$(jq -s -c '[.[] | select(.code == "lifecycle.iova_live_at_release") | range(.count) as $i | .len] | sort' "$cb")"
	assert_eq "B: the fixture repaired both (repaired=4096)" "4096 4096" \
		"$(r iova_destroy 3 repaired) $(r iova_free 1 repaired)"
	assert_eq "B: the repairs: two removals outside any request, 4096 bytes each" "4096,4096" \
		"$(jq -r -s '[.[] | select(.type == "pt_unmap" and .unattributed) | .unmapped] | map(tostring) | join(",")' "$OUT/dumpb.jsonl")"
	assert_eq "B: still reserved at the end: 4096 bytes, with its link live" "1 1" \
		"$(n_code "$cb" lifecycle.iova_reserved_at_end) $(jq -s '[.[] | select(.code == "lifecycle.live_at_end" and .request == "iova_link")] | length' "$cb")"
	assert_eq "B: nothing else of the IOVA lifecycle" 0 \
		"$(jq -s '[.[] | select((.code // "") | test("iova_(not_reserved|reserve_live)"))] | length' "$cb")"
}
