# Recording (issue 3): the trace holds what the kernel really did. The
# workload (tests/vm/workload.sh) fixes sizes and directions, so request
# counts are exact; page-table writes are checked against the IOVA ranges
# the requests returned.

# extra global options (record-kprobes.sh sets --force-kprobes)
AUDIT_FLAGS=

guest() {
	# IA_SITE_VERIFY=1: every request that takes its call site's stack
	# without unwinding also unwinds, and the programs compare the return
	# addresses they walked with the unwinder's (bpf/site.bpf.h); -v prints
	# the counts. The workload's own stderr goes there too.
	# shellcheck disable=SC2086
	IA_SITE_VERIFY=1 iommu-audit -v $AUDIT_FLAGS record -o /tmp/t.trace \
		-- sh /tests/workload.sh 2> "$OUT/record.err"
	echo $? > "$OUT/record.rc"
	stat -c %a /tmp/t.trace > "$OUT/trace.mode"
	iommu-audit dump /tmp/t.trace > "$OUT/dump.jsonl"
	echo $? > "$OUT/dump.rc"
	iommu-audit -j devices -i /tmp/t.trace > "$OUT/devices.json"
	iommu-audit -j coverage -i /tmp/t.trace > "$OUT/coverage.json"
	# A one-bucket stack map: every stack after the first collides and
	# must come with its request instead (IA_EV_KSTACK), none lost. In
	# strict mode only: what the stack map does with a collision, and a
	# snapshot on SIGUSR2, do not depend on the mode (a recording less in
	# lazy mode, 8-10 s of TCG)
	[ "$IA_MODE" = strict ] || return 0
	# shellcheck disable=SC2086
	iommu-audit $AUDIT_FLAGS record --stack-map 1 -o /tmp/s.trace -- sh -c "
		dd if=$IA_NVME_DEV of=/dev/null bs=4096 count=4 iflag=direct
		dd if=$IA_VIRTIO_DEV of=/dev/null bs=4096 count=4 iflag=direct
		ping -c 2 -i 0.2 -W 1 $IA_NET_PEER
		kill -USR2 \$PPID; sleep 0.5" > "$OUT/stackmap.log" 2>&1
	echo $? > "$OUT/stackmap.rc"
	iommu-audit dump /tmp/s.trace > "$OUT/stackmap.jsonl"
}

# count_req DEVICE KIND SIZE DIR: root requests of that shape
count_req() {
	jq -s "[.[] | select(.type == \"request\" and .device == \"$1\" and .kind == \"$2\"
		and .size == $3 and .dir == $4 and .parent == 0 and (.failed | not))] | length" \
		"$OUT/dump.jsonl"
}

# A request and its dma:* event as one comparable string: the call, the
# device and the fields both carry (map: phys, handle, size, dir; unmaps and
# syncs: handle, size, dir; scatterlists: first handle, nents, mapped count;
# allocations and frees: handle, size). Kinds the tracepoints do not cover
# (get_sgtable, the IOVA API) give null.
JQ_TP_PAIRS='
def req_key: if .failed then null
	elif .kind == "map_page" then "map \(.dev) \(.phys) \(.dma) \(.size) \(.dir)"
	elif .kind == "unmap_page" then "unmap \(.dev) \(.dma) \(.size) \(.dir)"
	elif .kind == "map_sg" then "map_sg \(.dev) \(.dma) \(.nents) \(.ret)"
	elif .kind == "unmap_sg" then "unmap_sg \(.dev) \(.dma) \(.nents)"
	elif .kind == "alloc" then "alloc \(.dev) \(.dma) \(.size)"
	elif .kind == "free" then "free \(.dev) \(.dma) \(.size)"
	elif (.kind | startswith("sync_single")) then "\(.kind) \(.dev) \(.dma) \(.size) \(.dir)"
	else null end;
def tp_key: if .mmio then null
	elif .event == "dma_map_phys" then "map \(.dev) \(.phys) \(.dma) \(.size) \(.dir)"
	elif .event == "dma_unmap_phys" then "unmap \(.dev) \(.dma) \(.size) \(.dir)"
	elif .event == "dma_map_sg" then "map_sg \(.dev) \(.dma) \(.nents) \(.ents)"
	elif .event == "dma_unmap_sg" then "unmap_sg \(.dev) \(.dma) \(.nents)"
	elif .event == "dma_alloc" then "alloc \(.dev) \(.dma) \(.size)"
	elif .event == "dma_free" then "free \(.dev) \(.dma) \(.size)"
	elif (.event | startswith("dma_sync_single")) then "\(.event | ltrimstr("dma_")) \(.dev) \(.dma) \(.size) \(.dir)"
	else null end;
'

# jq definitions shared by the range checks: page-table writes and input
# segments grouped by request id
JQ_DEFS='
def by_req(f): map(select(f)) | group_by(.req) | map({key: (.[0].req | tostring), value: .}) | from_entries;
def align_up(x): ((x + 4095) / 4096 | floor) * 4096;
'

check() {
	local d=$OUT/dump.jsonl nvme e1000e virtio
	nvme=$(env_get IA_NVME_BDF)
	e1000e=$(env_get IA_E1000E_BDF)
	virtio=$(env_get IA_VIRTIO_BDF)

	assert_eq "record exit code" 0 "$(cat "$OUT/record.rc")"
	assert_eq "trace file mode" 600 "$(cat "$OUT/trace.mode")"
	assert_eq "dump exit code" 0 "$(cat "$OUT/dump.rc")"
	assert_jq "no events lost" "$d" 'select(.type == "trailer") | .lost_ringbuf + .lost_inflight' 0

	# call sites (bpf/site.bpf.h): requests of a site seen before take its
	# stack without an unwind; the witness is the kernel's unwinder, run
	# for each of them too (IA_SITE_VERIFY=1): its frames after the traced
	# function must be the walked return addresses
	local sites hits new unwound checked mismatched
	sites=$(grep '^call sites: ' "$OUT/record.err")
	read -r hits new unwound checked mismatched < <(echo "$sites" |
		sed -E 's/^call sites: ([0-9]+) requests .*, ([0-9]+) new sites, ([0-9]+) unwound; checked ([0-9]+), mismatched ([0-9]+)$/\1 \2 \3 \4 \5/')
	echo "# $sites"
	assert_eq "call sites: requests took their site's stack, unwound once per site" true \
		"$([ "${hits:-0}" -gt "${new:-0}" ] && [ "${new:-0}" -ge 3 ] && echo true)"
	assert_eq "call sites: every one of them checked against the unwinder" "$hits" "$checked"
	assert_eq "call sites: walked return addresses = the unwinder's" 0 "$mismatched"
	# none that could not be walked on this workload's paths (task context,
	# nvme's and virtio's interrupts, e1000e's softirq)
	assert_eq "call sites: no request unwound for want of a walk" 0 "$unwound"
	# absent: the API is not in this kernel (the IOVA API before 6.16, the
	# dma:* tracepoints before 6.12), or folded into another hook's target
	assert_jq "every hook attached or absent" "$OUT/coverage.json" \
		'[.coverage.hooks[] | select(.state != "attached" and .state != "absent")] | length' 0
	assert_jq "coverage complete" "$OUT/coverage.json" '.coverage.complete' true

	# The page-table oracle (docs/checks.md): a snapshot when the recording
	# starts and one when it ends, absent exactly when the kernel's own
	# config (the cached package's) has no VT-d debugfs dump
	local rel cfg absent=true
	rel=$(jq -r 'select(.type == "header") | .kernel' "$d")
	cfg=${IA_CACHE:-$HOME/.cache/iommu-audit}/kernel/$rel/config
	assert_eq "the kernel's config is at hand ($cfg)" yes "$([ -s "$cfg" ] && echo yes || echo no)"
	! grep -q '^CONFIG_INTEL_IOMMU_DEBUGFS=y' "$cfg" || absent=false
	assert_eq "page-table snapshots at start and stop, oracle absent=$absent" \
		"[[\"start\",$absent],[\"stop\",$absent]]" \
		"$(jq -sc '[.[] | select(.type == "pt_snap" and .phase == "end") | [.why, .absent]]' "$d")"
	local by_kprobe=0
	# all attached function hooks: not the tracepoints, not swiotlb (a kprobe),
	# not page_to_phys and the ksym_ rows (kernel symbols the programs read)
	[ "$AUDIT_FLAGS" = --force-kprobes ] && by_kprobe=$(jq '[.coverage.hooks[]
		| select(.state == "attached" and (.name | startswith("tp_") | not)
			 and .name != "swiotlb_map" and .name != "page_to_phys"
			 and (.name | startswith("ksym_") | not))] | length' "$OUT/coverage.json")
	assert_jq "hooks attached by kprobe" "$OUT/coverage.json" \
		'[.coverage.hooks[] | select(.target // "" | contains("by kprobe"))] | length' "$by_kprobe"

	# call stacks through a one-bucket stack map (guest(): --stack-map 1,
	# strict mode only)
	if [ "$MODE" = strict ]; then
		local sm=$OUT/stackmap.jsonl
		# SIGUSR2 (sent by the command to record, its parent): one more
		assert_eq "SIGUSR2: a page-table snapshot between start and stop" \
			'["start","signal","stop"]' \
			"$(jq -sc '[.[] | select(.type == "pt_snap" and .phase == "end") | .why]' "$sm")"
		assert_eq "--stack-map 1: record exit code" 0 "$(cat "$OUT/stackmap.rc")"
		assert_jq "--stack-map 1: no stack lost" "$sm" 'select(.type == "trailer") | .lost_stack' 0
		assert_eq "--stack-map 1: colliding stacks sent inline (ids >= 0x40000000)" true \
			"$(jq -s '[.[] | select(.type == "request" and .parent == 0 and .stack_id >= 1073741824)] | length > 3' "$sm")"
		assert_eq "--stack-map 1: every root request names a stack record" "0 0" \
			"$(jq -s '[.[] | select(.type == "stack") | .stack_id] as $ids
				| [.[] | select(.type == "request" and .parent == 0)] as $r
				| "\([$r[] | select(.stack_id < 0)] | length) \([$r[] | select(.stack_id >= 0 and (.stack_id as $s | $ids | index($s) | not))] | length)"' -r "$sm")"
		assert_eq "--stack-map 1: one stack record per distinct call stack" 0 \
			"$(jq -s '[.[] | select(.type == "stack") | .frames] | length - (unique | length)' "$sm")"
		# frames[1] on 6.1 (dma_map_page_attrs inlined into the driver), [2]
		# since 6.12 calls dma-iommu directly from dma_map_page_attrs
		assert_eq "--stack-map 1: the nvme driver's call sites are there" true \
			"$(jq -s '[.[] | select(.type == "stack") | .frames[1:3][] | select(test("\\[nvme\\]"))] | length > 0' "$sm")"
	fi

	# nvme: <= 8K direct I/O is one map_page (PRP), 64K a map_sg
	assert_eq "nvme 4K reads: map_page FROM_DEVICE" 4 "$(count_req "$nvme" map_page 4096 2)"
	assert_eq "nvme 4K writes: map_page TO_DEVICE" 2 "$(count_req "$nvme" map_page 4096 1)"
	assert_eq "nvme 4K I/O: unmap_page of the same size" 6 \
		"$(jq -s "[.[] | select(.type == \"request\" and .device == \"$nvme\" and .kind == \"unmap_page\" and .size == 4096)] | length" "$d")"
	# a 64K buffer is one map_page when physically contiguous, else a map_sg,
	# or (nvme-pci since 6.17) an IOVA reservation its pages are linked into:
	# either way the request's length must be the I/O size
	assert_eq "nvme 64K reads: requests of exactly 65536 bytes" 2 \
		"$(jq -s "$JQ_DEFS"'
			(by_req(.type == "sg" and (.output | not))) as $in
			| ([.[] | select(.type == "request" and .device == "'"$nvme"'" and .parent == 0 and .dir == 2
				and (.kind == "map_page" or .kind == "map_sg"))
			   | if .kind == "map_sg" then ([$in[.req | tostring][].segs[].len] | add) else .size end
			   | select(. == 65536)] | length) + ([.[] | select(.type == "iova"
				and .device == "'"$nvme"'" and .kind == "iova_try_alloc" and .size == 65536)] | length)' "$d")"
	# through the IOVA API: each reservation's links add up to it, at
	# consecutive offsets, and its destroy unlinks all of them
	assert_eq "nvme IOVA reservations: links add up to the size, destroyed whole" 0 \
		"$(jq -s '[.[] | select(.type == "iova" and .device == "'"$nvme"'")] as $v
			| [$v | to_entries[] | select(.value.kind == "iova_try_alloc") | .key as $k | .value as $a
			   | ($v[$k + 1:] | (map(.kind == "iova_try_alloc" and .state == $a.state) | index(true)) as $stop
			      | .[:($stop // length)] | map(select(.state == $a.state))) as $calls
			   | ($calls | map(select(.kind == "iova_link"))) as $links
			   | select(($links | map(.size) | add) != $a.size
				or ([$links[] | .offset] != ([$links[] | .size] | [foreach .[] as $s (0; . + $s; . - $s)]))
				or ([$calls[] | select(.kind == "iova_destroy") | .size] != [$a.size]))]
			| length' "$d")"
	# virtio-blk: each segment is its own map_page (virtio_ring maps them one
	# by one); how many depends on physical contiguity, the bytes do not
	assert_eq "virtio bytes read (4x4K + 2x64K, status bytes aside)" 147456 \
		"$(jq -s "[.[] | select(.type == \"request\" and .device == \"$virtio\" and .kind == \"map_page\"
			and .dir == 2 and .size != 1 and .parent == 0) | .size] | add" "$d")"
	assert_eq "virtio data pages written" 2 "$(count_req "$virtio" map_page 4096 1)"
	assert_eq "virtio request headers (16 bytes, one per I/O)" 8 "$(count_req "$virtio" map_page 16 1)"
	assert_eq "virtio status bytes (one per I/O)" 8 "$(count_req "$virtio" map_page 1 2)"

	# e1000e: 3 echo requests of 142-byte frames
	assert_eq "e1000e 142-byte frames sent" 3 "$(count_req "$e1000e" map_page 142 1)"

	# page-table writes cover exactly the IOVA range each request returned
	assert_ge "iommu_dma_map requests checked" 20 \
		"$(jq -s '[.[] | select(.type == "request" and .kind == "iommu_dma_map" and (.failed | not))] | length' "$d")"
	assert_eq "iommu_dma_map: one write of the granule-aligned range" 0 \
		"$(jq -s "$JQ_DEFS"'
			by_req(.type == "pt_map") as $pt
			| [.[] | select(.type == "request" and .kind == "iommu_dma_map" and (.failed | not))
			   | . as $r | ($pt[$r.req | tostring] // []) as $w
			   | select(($w | length) != 1 or $w[0].iova != $r.dma - ($r.dma % 4096)
				or $w[0].size != align_up($r.dma % 4096 + $r.size)
				or $w[0].paddr != $r.phys - ($r.phys % 4096) or $w[0].result != 0)]
			| length' "$d")"
	assert_eq "map_sg: contiguous writes from the handle, segment sizes granule-aligned" 0 \
		"$(jq -s "$JQ_DEFS"'
			by_req(.type == "pt_map") as $pt
			| by_req(.type == "sg" and (.output | not)) as $in
			| [.[] | select(.type == "request" and .kind == "map_sg" and (.failed | not))
			   | . as $r | ($pt[$r.req | tostring] // [] | sort_by(.iova)) as $w
			   | ([$in[$r.req | tostring][].segs[]]) as $s
			   | select(($w | length) == 0 or $w[0].iova != $r.dma - ($r.dma % 4096)
				or ([$w[].size] | add) != ([$s[] | align_up(.phys % 4096 + .len)] | add)
				or ([range(1; $w | length) as $i | select($w[$i].iova != $w[$i-1].iova + $w[$i-1].size)] | length) != 0)]
			| length' "$d")"

	# attribution and the tracepoint cross-check
	assert_jq "page-table writes in requests attributed" "$OUT/devices.json" '.events.attribution_pct' 100
	assert_eq "no page-table write outside a request" 0 \
		"$(jq -s '[.[] | select((.type == "pt_map" or .type == "pt_unmap") and .unattributed)] | length' "$d")"
	assert_eq "iommu:map tracepoint count = successful pt_map count" \
		"$(jq -s '[.[] | select(.type == "pt_map" and .result == 0)] | length' "$d")" \
		"$(jq -s '[.[] | select(.type == "tp_map")] | length' "$d")"
	assert_eq "iommu:unmap tracepoint count = pt_unmap count" \
		"$(jq -s '[.[] | select(.type == "pt_unmap")] | length' "$d")" \
		"$(jq -s '[.[] | select(.type == "tp_unmap")] | length' "$d")"

	# the second witness: the dma:* tracepoints (6.12+; none before) fire
	# once per DMA API call with the device and the result, so each request
	# has its event with the same fields, and no event lacks its request
	if jq -e '.coverage.hooks[] | select(.name == "tp_dma_map" and .state == "attached")' \
		"$OUT/coverage.json" > /dev/null; then
		assert_eq "dma:* events = requests, field by field (as multisets)" true \
			"$(jq -r -s "$JQ_TP_PAIRS"'
				([.[] | select(.type == "request" and .parent == 0) | req_key | select(.)] | sort)
				== ([.[] | select(.type == "tp_dma") | tp_key | select(.)] | sort)' "$d")"
		assert_ge "dma:* events paired with requests" 40 \
			"$(jq -s "$JQ_TP_PAIRS"'[.[] | select(.type == "tp_dma") | tp_key | select(.)] | length' "$d")"
	else
		assert_jq "no dma:* tracepoints on this kernel: absent, no events" "$OUT/coverage.json" \
			'[.coverage.hooks[] | select(.name | startswith("tp_dma_")) | .state] | unique | join(",")' absent
		assert_eq "no tp_dma record" 0 "$(jq -s '[.[] | select(.type == "tp_dma")] | length' "$d")"
	fi

	# call sites: the nvme reads come from the nvme driver's queue_rq
	assert_eq "nvme map_page call stack names the driver" true \
		"$(jq -s '(map(select(.type == "stack")) | map({key: (.stack_id | tostring), value: .frames}) | from_entries) as $st
			| [.[] | select(.type == "request" and .device == "'"$nvme"'" and .kind == "map_page")
			   | $st[.stack_id | tostring] // [] | any(startswith("nvme_queue_rq"))] | all' "$d")"

	# lazy mode queues the IOTLB flush; strict flushes at once
	assert_ge "IOVA frees seen" 1 "$(jq -s '[.[] | select(.type == "iova_free")] | length' "$d")"
	local queued=false
	[ "$MODE" = lazy ] && queued=true
	assert_eq "IOVA frees queued = $queued ($MODE)" "$queued" \
		"$(jq -rs '[.[] | select(.type == "iova_free") | .queued] | unique | map(tostring) | join(",")' "$d")"
	if [ "$MODE" = lazy ]; then
		assert_ge "flush-queue flushes seen" 1 "$(jq -s '[.[] | select(.type == "fq_flush")] | length' "$d")"
	fi
}
