# Production mode (`devices --production`, bpf/prod.bpf.c): the per-device
# totals counted in BPF must equal what `report` gives for a `record` of
# the same workload. One workload, seen by both at once: production mode
# runs `record` as its command, which runs the DMA fixture's calls on the
# edu device (docs/fixture.md), each buffer a fresh page-aligned
# allocation, so no two live buffers share a granule (production mode does
# not subtract them, the checker does). The calls are the kinds production
# mode counts (those mapped by __iommu_dma_map: single maps and pages,
# contiguous and atomic coherent allocations, dma_alloc_pages, MMIO), and
# one mapping is left live. The expected figures are also computed here
# from the fixture's parameters and the 4 KiB granule: a third witness.
# Each unmap and free is one lazy window for both; in strict mode the
# figures are the same without the windows, so the case runs in lazy mode.
# Shares the fixture's boot (same options); the fixture module is loaded
# and unloaded here as in iova.sh.
# vm-opts: --mem 6144
# vm-modes: lazy (strict mode's figures are lazy mode's without the windows)

# ---- guest (busybox sh) ----------------------------------------------------

# px CMD ARGS...: one fixture command; its id (iafx prints the result
# line it added) in $px_id
px() { px_id=$(iafx "$@" | sed -n '1s/^id=\([0-9]*\) .*/\1/p'); }

# px_page_on CPU: a page-aligned page mapped and unmapped on that CPU only
px_page_on() {
	taskset -c "$1" sh -c ". '$CASES_DIR/production.sh' && px map_page 0 4096 from && px unmap \$px_id"
}

prod_workload() {
	px map_single 100 200 to; a=$px_id	# head 100, tail 3796
	px map_page 0 4096 from; b=$px_id	# nothing exposed
	px map_single 0 8192 bidi; c=$px_id
	px map_page 4000 200 to; d=$px_id	# two granules: 7992 exposed
	px unmap "$a"; px unmap "$b"; px unmap "$c"; px unmap "$d"
	px alloc_coherent 4096 contig; e=$px_id	# __iommu_dma_map
	px alloc_coherent 4096 atomic; f=$px_id	# from the atomic pool
	px alloc_pages 5000 to; g=$px_id	# PAGE_ALIGN(5000) = 8192
	bar0=$(iafx result | sed -n 's/^id=[0-9]* cmd=probe .* bar0=\([0-9]*\) .*/\1/p' | tail -n 1)
	px map_resource $((bar0 + 256)) 8 to; h=$px_id	# MMIO
	px unmap "$h"
	px free_coherent "$e"; px free_coherent "$f"; px free_pages "$g"
	# the device's context changes twice (its untrusted bit, flipped by
	# the fixture): production mode must see each at the next request
	# (two more context records) as record does. A page-aligned page is
	# not bounced: nothing exposed either way. Each request on the CPU
	# chosen: CPU 1 sees the device trusted, CPU 0 sees the flip on and
	# sends it, and CPU 1 then sees trusted again, what its own last look
	# saw, yet the device changed since (a per-CPU copy of the context
	# must not hide the flip back: 7.2's CI run saw 2 records of 3 when
	# the scheduler happened to move the fixture so)
	px_page_on 1
	px untrusted 1
	px_page_on 0
	px untrusted 0
	px_page_on 1
	px map_single 8 16 to		# left live
	sleep 0.2	# lazy mode: the flush queue's timer (10 ms) flushes the last
}

guest() {
	iafx load > "$OUT/load.log" 2>&1
	echo $? > "$OUT/load.rc"
	t0=$(cut -d' ' -f1 /proc/uptime)
	iommu-audit -j devices --production --device "$IA_EDU_BDF" -- \
		iommu-audit record --device "$IA_EDU_BDF" -o /tmp/prod.trace -- \
		sh -c ". '$CASES_DIR/production.sh' && prod_workload > /dev/null" \
		> "$OUT/prod.json" 2> "$OUT/prod.err"
	echo $? > "$OUT/prod.rc"
	t1=$(cut -d' ' -f1 /proc/uptime)
	iommu-audit -j report /tmp/prod.trace > "$OUT/report.json"
	echo $? > "$OUT/report.rc"
	iommu-audit report /tmp/prod.trace --format prometheus > "$OUT/report.prom"
	iommu-audit dump /tmp/prod.trace > "$OUT/dump.jsonl"
	# `monitor --production` by the kprobe fallback (kernels without BPF
	# trampolines) over the same workload again: its metrics (the static
	# binary has no HTTP server: the textfile) must be report's
	iommu-audit --force-kprobes monitor --production --listen off --interval 1 \
		--textfile /tmp/mon.prom --log "$OUT/mon.jsonl" --device "$IA_EDU_BDF" \
		--duration 300 2> "$OUT/mon.err" &
	mon=$!
	n=0
	while [ ! -s /tmp/mon.prom ] && [ $n -lt 600 ] && kill -0 $mon 2> /dev/null; do
		sleep 0.1; n=$((n + 1))
	done
	sh -c ". '$CASES_DIR/production.sh' && prod_workload > /dev/null"
	kill -TERM $mon
	wait $mon
	echo $? > "$OUT/mon.rc"
	cp /tmp/mon.prom "$OUT/mon.prom"
	t2=$(cut -d' ' -f1 /proc/uptime)
	echo "both $t0 $t1 monitor-by-kprobes $t1 $t2" > "$OUT/times"
	# a stack map of one bucket (IA_FAULT_STACK_MAP=1): every stack but
	# the first collides, and production mode, with no record to carry
	# one, keeps them in a table of its own (bpf/site.bpf.h ia_own_stack)
	IA_FAULT_STACK_MAP=1 iommu-audit -j devices --production --device "$IA_EDU_BDF" -- \
		sh -c ". '$CASES_DIR/production.sh' && prod_workload > /dev/null" \
		> "$OUT/prod1.json" 2> "$OUT/prod1.err"
	echo $? > "$OUT/prod1.rc"
	IA_FAULT_STACK_MAP=2 iommu-audit devices --production -- true > "$OUT/badknob.log" 2>&1
	echo $? > "$OUT/badknob.rc"
	iafx unload
}

# ---- host (bash, jq) -------------------------------------------------------

check() {
	local p=$OUT/prod.json r=$OUT/report.json edu windows f
	assert_eq "fixture loaded" 0 "$(cat "$OUT/load.rc")"
	assert_eq "devices --production exit code" 0 "$(cat "$OUT/prod.rc")"
	assert_eq "report exit code" 0 "$(cat "$OUT/report.rc")"
	assert_eq "monitor --production (kprobes) exit code" 0 "$(cat "$OUT/mon.rc")"
	edu=$(env_get IA_EDU_BDF)
	assert_jq "production mode" "$p" '.mode' production
	assert_jq "no call stack lost" "$p" '.lost.stack' 0
	assert_jq "production hooks all attached" "$p" \
		'[.hooks[] | .state] | unique | join(",")' attached
	assert_jq "production hooks complete" "$p" '.hooks_complete' true
	# every lab and Debian kernel here has BPF trampolines: a kprobe in
	# place of an fexit is a program the verifier refused
	assert_jq "production hooks by fexit/fentry, none by kprobe" "$p" \
		'[.hooks[] | select(.kprobe)] | length' 0
	assert_jq "nothing overflowed" "$p" '[.overflow[]] | add' 0
	assert_jq "only the edu device" "$p" '[.devices[].name] | join(",")' "$edu"
	assert_jq "ring-buffer records: the device's context only (the first, two untrusted flips), none per request" "$p" \
		'.records' 3
	assert_eq "record saw the same 3 contexts (untrusted false, true, false)" "false,true,false" \
		"$(jq -r -s '[.[] | select(.type == "device") | .untrusted] | map(tostring) | join(",")' "$OUT/dump.jsonl")"
	# the trace holds only kinds production mode counts: the comparison is
	# of the same requests
	assert_eq "recorded root requests: kinds counted by production mode" \
		"alloc,alloc_pages,free,free_pages,map_page,map_resource,unmap_page,unmap_resource" \
		"$(jq -r -s '[.[] | select(.type == "request" and .parent == 0) | .kind] | unique | join(",")' "$OUT/dump.jsonl")"
	# every figure report has, equal
	for f in driver domain_type granule untrusted maps failed bytes_requested \
		 bytes_mapped bytes_exposed pages_exposed live preexisting_unmaps; do
		assert_eq "$f: production = report" \
			"$(jq -c --arg d "$edu" '.devices[] | select(.name == $d) | .'"$f" "$r")" \
			"$(jq -c --arg d "$edu" '.devices[] | select(.name == $d) | .'"$f" "$p")"
	done
	# the call sites exposing the most: report's names each by its finding
	# (code and site; all exposure.sub_page at a 4 KiB granule)
	# (production mode names a site by its functions: report's first
	# finding of the site gives the offset)
	assert_eq "worst call sites: production = report" \
		"$(jq -c --arg d "$edu" '.devices[] | select(.name == $d) | [.worst_sites[] | {site: (.site | sub("\\+0x[0-9a-f]+"; "")), exposed_bytes, mappings}]' "$r")" \
		"$(jq -c --arg d "$edu" '.devices[] | select(.name == $d) | .worst_sites' "$p")"
	# the three pinned maps ran where the workload put them (the CPU
	# record's own records name): the flip back was seen on another CPU
	# than the flip on
	assert_eq "the flips' maps on CPUs 1, 0, 1 (taskset, as record saw them)" "1,0,1" \
		"$(jq -r -s '[.[] | select(.type == "request" and .parent == 0 and .kind == "map_page" and .size == 4096) | .cpu] | .[-3:] | map(tostring) | join(",")' "$OUT/dump.jsonl")"
	# and what the fixture's parameters give (granule 4096): 12 maps of
	# 200, 4096, 8192, 200 (across a page: 2 granules), 4096, 4096, 8192,
	# 8 (MMIO at +256), 4096, 4096, 4096, 16 bytes
	assert_jq "granule" "$p" '.devices[0].granule' 4096
	assert_jq "maps" "$p" '.devices[0].maps' 12
	assert_jq "bytes requested" "$p" '.devices[0].bytes_requested' 41384
	assert_jq "bytes mapped" "$p" '.devices[0].bytes_mapped' 61440
	assert_jq "bytes exposed" "$p" '.devices[0].bytes_exposed' $((61440 - 41384))
	assert_jq "whole unrelated pages (granule = page)" "$p" '.devices[0].pages_exposed' 0
	assert_jq "live: the one left mapped" "$p" '.devices[0].live' 1
	assert_jq "unmaps matched: 7 unmaps, 1 MMIO unmap, 3 frees" "$p" '.devices[0].unmaps' 11
	assert_jq "no unmatched unmap" "$p" '.devices[0].unmatched_unmaps' 0
	# lazy windows: one per unmap in lazy mode, none in strict
	windows=0
	[ "$MODE" = lazy ] && windows=11
	assert_jq "lazy windows ($MODE)" "$p" '.devices[0].lazy_windows' $windows
	assert_eq "lazy windows: production = report's" \
		"$(sed -n "s/^iommu_audit_lazy_flush_window_seconds_count{device=\"$edu\".*} //p" "$OUT/report.prom")" \
		"$(jq '.devices[0].lazy_windows' "$p")"
	assert_jq "lazy histogram adds up" "$p" '.devices[0] | (.lazy_hist | add) == .lazy_windows' true
	assert_eq "queued IOVA releases in the trace ($MODE)" $windows \
		"$(jq -s '[.[] | select(.type == "iova_free" and .queued)] | length' "$OUT/dump.jsonl")"
	# the windows by bucket: two tracers timing the same unmaps and flushes
	# (both from __iommu_dma_unmap's return to the first flush seen after
	# it). A flush on the other CPU between queue_iova() and that return is
	# seen before or after the unmap by each tracer on its own (their
	# programs run one after the other), and the one that sees it before
	# waits for the next flush: at most one window may fall in another
	# bucket (a histogram distance of 2)
	assert_eq "lazy windows by bucket: production = report's, one window aside" true \
		"$(jq -n --argjson p "$(jq -c '.devices[0].lazy_hist' "$p")" \
			--argjson c "[$(sed -n "s/^iommu_audit_lazy_flush_window_seconds_bucket{device=\"$edu\".*} //p" "$OUT/report.prom" | paste -sd,)]" \
			'[range(0; 11) | ($c[.] - (if . > 0 then $c[. - 1] else 0 end)) - $p[.] | fabs] | add <= 2')"
	# monitor --production by kprobes: every hook by kprobe (two programs
	# each), the metrics of report's exposition for the same workload (run
	# again: another mapping left live, so live_mappings is 1 again), a
	# text promtool accepts
	# kprobe pairs on __iommu_dma_map, __iommu_dma_unmap and fq_flush_iotlb
	# (6.1, 6.12); 7.x's flush is one kprobe on fq_ring_free_locked
	local nprogs=6
	[ "$(jq -r '.hooks[] | select(.name == "prod_fq_flush") | .target' "$p")" = fq_ring_free_locked ] &&
		nprogs=5
	assert_jq "monitor: start line, production programs (kprobes)" "$OUT/mon.jsonl" \
		'select(.type == "start") | .programs' $nprogs
	assert_jq "monitor: no finding logged (none is checked)" "$OUT/mon.jsonl" \
		'select(.type == "stop") | .findings' 0
	assert_eq "monitor: every production hook attached" 3 \
		"$(grep -c '^iommu_audit_hook_attached{hook="prod_[a-z_]*"} 1$' "$OUT/mon.prom")"
	for f in maps_total map_failures_total requested_bytes_total mapped_bytes_total \
		 exposed_bytes_total exposed_unrelated_pages_total untrusted_exposed_bytes_total \
		 live_mappings lazy_flush_window_seconds_count; do
		assert_eq "monitor --production metric $f = report's" \
			"$(grep "^iommu_audit_$f{device=\"$edu\"" "$OUT/report.prom")" \
			"$(grep "^iommu_audit_$f{device=\"$edu\"" "$OUT/mon.prom")"
	done
	promtool=$("$root/tools/promtool.sh" 2> /dev/null)
	assert_eq "monitor --production exposition: promtool check metrics, no lint problem" "rc 0" \
		"$("$promtool" check metrics < "$OUT/mon.prom" 2>&1; echo "rc $?")"
	# the same workload, its stacks all but one out of the stack map: the
	# call sites of the first run (report's, above), none lost
	assert_eq "stack map of one bucket: exit code" 0 "$(cat "$OUT/prod1.rc")"
	assert_jq "stack map of one bucket: no call stack lost" "$OUT/prod1.json" '.lost.stack' 0
	assert_ge "stack map of one bucket: more named call sites than it holds" 2 \
		"$(jq --arg d "$edu" '.devices[] | select(.name == $d) | [.worst_sites[] | select(.site != "")] | length' "$OUT/prod1.json")"
	assert_eq "stack map of one bucket: the worst call sites of the first run" \
		"$(jq -c --arg d "$edu" '.devices[] | select(.name == $d) | .worst_sites' "$p")" \
		"$(jq -c --arg d "$edu" '.devices[] | select(.name == $d) | .worst_sites' "$OUT/prod1.json")"
	assert_eq "IA_FAULT_STACK_MAP=2 refused, exit 1" 1 "$(cat "$OUT/badknob.rc")"
	assert_eq "IA_FAULT_STACK_MAP=2: the message" 1 \
		"$(grep -c 'IA_FAULT_STACK_MAP=2: only 1' "$OUT/badknob.log")"
	echo "# production vs record: $(cat "$OUT/times"); report: $(jq -c --arg d "$edu" '.devices[] | select(.name == $d) | [.maps, .bytes_requested, .bytes_mapped, .bytes_exposed, .live, .lazy_max_ns]' "$r")"
}
