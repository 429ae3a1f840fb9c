# What the exposed memory is (bpf/classify.bpf.c, docs/checks.md "What the
# exposed pages hold"). The fixture maps buffers whose neighbours it knows:
#   slab    map_slab: a 200-byte object of its own cache "ia_fx_obj" (a
#           constructor keeps SLUB from merging it), with a neighbour
#           allocated just after it
#   file    map_file: 200 bytes at +100 of the page cache page of a file
#           (the fixture gives the inode and the superblock's dev_t)
#   kernel  map_single: its alloc_pages() buffer (a page no type marks)
# With a 4 KiB granule the exposure of a sub-page buffer is the rest of its
# own page, so each finding's exposed bytes (3896) must all be of that
# kind, named as the fixture says. In the same record the bench's real
# drivers run the standard workload, and every byte they expose must be
# named.
# vm-opts: --mem 6144
# vm-modes: strict (what a page holds is read when it is mapped; the
# invalidation mode changes only when IOTLBs are flushed after unmaps)

# ---- guest (busybox sh) ----------------------------------------------------

# cl_do CMD...: one fixture command, its result line kept; prints its id
cl_do() {
	_out=$(iafx "$@")
	printf '%s\n' "$_out" >> "$OUT/steps.log"
	printf '%s\n' "$_out" | sed -n '1s/^id=\([0-9]*\) .*/\1/p'
}

cl_phase() {
	s=$(cl_do map_slab to)
	f=$(cl_do map_file /tests/workload.sh 100 200 to)
	k=$(cl_do map_single 100 200 to)
	for id in $s $f $k; do cl_do unmap "$id" > /dev/null; done
}

guest() {
	if ! command -v iafx > /dev/null; then
		echo "no /extra/fixture: run with --extra .output/fixture (tests/fixture/build.sh)"
		return 1
	fi
	iafx load > "$OUT/load.log" 2>&1
	# one record: the fixture's buffers, then the real drivers' standard
	# traffic (findings told apart by driver)
	iommu-audit record -o /tmp/cl.trace -- \
		sh -c ". '$CASES_DIR/classify.sh' && cl_phase && sh /tests/workload.sh" \
		> "$OUT/record.log" 2>&1
	echo $? > "$OUT/record.rc"
	stat -c '%i' /tests/workload.sh > "$OUT/stat.txt"
	iommu-audit dump /tmp/cl.trace > "$OUT/dump.jsonl"
	iommu-audit -j check /tmp/cl.trace > "$OUT/check.jsonl"
	echo $? > "$OUT/check.rc"
	iommu-audit -j check --sensitive pgtable,ia_fx_obj /tmp/cl.trace > "$OUT/sensitive.jsonl"
	echo $? > "$OUT/sensitive.rc"
	iommu-audit -j report /tmp/cl.trace > "$OUT/report.json"
	cat /sys/kernel/debug/ia_fixture/result > "$OUT/result.txt"
	iafx unload
	echo $? > "$OUT/unload.rc"
}

# ---- host (bash, jq) -------------------------------------------------------

# res CMD FIELD: a field of the fixture's (first) result line for CMD
cl_res() { sed -n "s/.* cmd=$1 .*\b$2=\([0-9]*\).*/\1/p" "$OUT/result.txt" | head -n 1; }

# fnd SITE: the exposure finding whose call site starts with SITE
cl_fnd() {
	jq -c "select(.type == \"finding\" and .finding.code == \"exposure.sub_page\"
		and .finding.driver == \"ia_fixture\"
		and (.finding.stack[0] // \"\" | startswith(\"$1+\")))" "$OUT/check.jsonl"
}

# fj JSON FILTER [-c]: jq on a string (no here-strings: busybox parses this)
fj() { printf '%s\n' "$1" | jq ${3:--r} "$2"; }

check() {
	local slab file kern phys nbr sdev ino wl
	assert_eq "record exit" 0 "$(cat "$OUT/record.rc")"
	# the witness itself: without its lines the comparisons below compare
	# nothing with nothing
	assert_eq "fixture: its 3 maps and 3 unmaps ran" 6 \
		"$(grep -cE ' cmd=(map_slab|map_file|map_single|unmap) .* err=0$' "$OUT/result.txt")"
	assert_eq "check exit" 0 "$(cat "$OUT/check.rc")"
	assert_ge "page records in the trace" 3 "$(grep -c '"type":"page"' "$OUT/dump.jsonl")"

	slab=$(cl_fnd fx_map_slab)
	phys=$(cl_res map_slab phys)
	nbr=$(cl_res map_slab nbr_phys)
	assert_eq "slab: one finding" 1 "$(printf "%s" "$slab" | grep -c .)"
	assert_eq "slab: its phys is the fixture's object" "$phys" "$(fj "$slab" .finding.phys)"
	assert_eq "slab: 3896 bytes exposed, all slab" '{"slab":3896}' \
		"$(fj "$slab" .finding.exposed_kinds -c)"
	assert_eq "slab: the fixture's cache" "ia_fx_obj" "$(fj "$slab" .finding.slab_cache)"
	assert_eq "slab: its object size" 200 "$(fj "$slab" .finding.slab_object_size)"
	if [ $((phys / 4096)) -eq $((nbr / 4096)) ]; then
		assert_ge "slab: the neighbour (same page) among the objects overlapped" 1 \
			"$(fj "$slab" .finding.slab_objects)"
	else
		_ok "slab: neighbour in another page ($nbr), overlap count not asserted"
	fi
	assert_jq "slab: the page record names the slab around the object" "$OUT/dump.jsonl" \
		"select(.type == \"page\" and .phys == $((phys / 4096 * 4096))) |
		 .kind == \"slab\" and .base <= $phys and .stride >= 200 and .inuse >= 2" true

	file=$(cl_fnd fx_map_file)
	ino=$(cl_res map_file ino)
	sdev=$(cl_res map_file sdev)
	assert_eq "file: one finding" 1 "$(printf "%s" "$file" | grep -c .)"
	assert_eq "file: 3896 bytes exposed, all page cache" '{"file":3896}' \
		"$(fj "$file" .finding.exposed_kinds -c)"
	assert_eq "file: the inode (fixture)" "$ino" "$(fj "$file" .finding.file_ino)"
	assert_eq "file: the inode (stat in the guest)" "$(cat "$OUT/stat.txt")" "$ino"
	assert_eq "file: the superblock's dev_t (fixture)" "$sdev" "$(fj "$file" .finding.file_dev)"

	kern=$(cl_fnd fx_map)
	assert_eq "alloc_pages buffer: 3896 bytes of untyped kernel memory" '{"kernel":3896}' \
		"$(fj "$kern" .finding.exposed_kinds -c)"

	assert_eq "no exposure.sensitive by default" 0 \
		"$(jq -s '[.[] | select(.finding.code == "exposure.sensitive" and
			.finding.driver == "ia_fixture")] | length' "$OUT/check.jsonl")"
	assert_eq "--sensitive ia_fx_obj: exit 1" 1 "$(cat "$OUT/sensitive.rc")"
	assert_jq "--sensitive ia_fx_obj: one error naming the slab object's bytes" \
		"$OUT/sensitive.jsonl" \
		'select(.finding.code == "exposure.sensitive" and .finding.driver == "ia_fixture") |
		 "\(.finding.severity) \(.finding.exposed_bytes) \(.finding.phys)"' \
		"error 3896 $phys"
	assert_eq "--sensitive: the message names the cache" 1 \
		"$(jq -r 'select(.finding.code == "exposure.sensitive" and .finding.driver == "ia_fixture") |
			.finding.message' "$OUT/sensitive.jsonl" | grep -c 'bytes of ia_fx_obj reachable (sensitive)')"
	assert_jq "report: edu's exposed bytes all named" "$OUT/report.json" \
		'.devices[] | select(.driver == "ia_fixture") | (.exposed_kinds | add) == .bytes_exposed and .bytes_exposed == 3 * 3896' true

	# the real drivers: every exposed byte named, none capped or unknown
	wl=$OUT/report.json
	assert_jq "real drivers: exposed bytes by kind add up per device" "$wl" \
		'[.devices[] | select(.bytes_exposed > 0) | (.exposed_kinds | add) == .bytes_exposed] | all' true
	assert_jq "real drivers: nothing unknown or capped" "$wl" \
		'[.devices[].exposed_kinds // {} | (.unknown // 0) + (.capped // 0)] | add' 0
	assert_jq "e1000e: its frames' pages are slab" "$wl" \
		'.devices[] | select(.driver == "e1000e") | .exposed_kinds | keys | join(",")' slab
	echo "# real drivers, exposed by kind: $(jq -c '[.devices[] | select(.driver != "ia_fixture") |
		{(.driver): .exposed_kinds}] | add' "$wl")"
	assert_eq "unload" 0 "$(cat "$OUT/unload.rc")"
}
