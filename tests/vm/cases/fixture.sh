# Ground truth (DESIGN.md section 4): the DMA fixture module
# (tests/fixture/ia_fixture.c, docs/fixture.md) makes exact DMA API calls on
# the edu device while iommu-audit records, in four phases of one recording
# (a recording's start and stop cost 5-10 s of TCG; check() cuts the dump
# and the findings into one trace's worth per phase by the fixture's own
# timestamps, fx_split):
#   1. trusted device, default dma_parms: single maps, syncs, wrong and
#      double unmaps, map_sg, coherent (remapped, contiguous, atomic),
#      noncontiguous and page allocations, exported tables (get_sgtable), MMIO
#   2. seg_boundary 0x1fff, max_seg_size 8192: map_sg boundary padding
#   3. untrusted device: swiotlb bounce
#   4. a deliberate leak, then the driver unbinds
# Each case's expected requests, page-table writes and exposed bytes are
# computed here from its parameters and the 4 KiB granule; the addresses
# come from the fixture's result log (phys, handles), never hard-coded.
#
# Needs the module in the guest: tests/fixture/build.sh, then the bench run
# with --extra .output/fixture, and --mem 6144 so that x86 sets swiotlb up
# (phase 3; with less RAM the case checks the documented failure and fails
# one assertion). oops=panic (every run-vm.sh boot has it) ends the boot at
# once should the fixture oops.
# tests/fixture/run.sh runs this case alone with all of that.
# vm-opts: --mem 6144

# ---- guest (busybox sh) ----------------------------------------------------

FX_G=4096	# IOMMU granule on the bench (checked against the trace)

# fx TAG CMD ARGS...: one fixture command; TAG names it for check()
fx() {
	_tag=$1
	shift
	_out=$(iafx "$@")
	_rc=$?
	printf '%s\n' "$_out" >> "$OUT/steps.log"
	_id=$(printf '%s\n' "$_out" | sed -n '1s/^id=\([0-9]*\) .*/\1/p')
	echo "$_tag ${_id:-0} $_rc" >> "$OUT/tags"
}

# fx_id TAG: the fixture id of a tagged command
fx_id() { sed -n "s/^$1 \([0-9]*\) .*/\1/p" "$OUT/tags" | tail -n 1; }

fx_phase1() {
	fx single_sub map_single 100 200 to	# sub-page buffer inside one page
	fx page_whole map_page 0 4096 from	# one whole page: nothing exposed
	fx single_2pages map_single 0 8192 bidi
	fx page_cross map_page 4000 200 to	# straddles a page boundary
	fx sync_in sync "$(fx_id single_sub)" 0 200 cpu
	# past the mapping's end, inside its own granule: no other mapping can
	# hold those bytes (dma-iommu gives each mapping granules of its own).
	# At +4096 lay page_whole's mapping once the classify case, booted
	# before this one, had freed IOVAs there: the IOVA caches hand out
	# recently freed ranges first, so the next granule is not always free.
	fx sync_out sync "$(fx_id single_sub)" 300 64 dev
	fx unmap_sub unmap "$(fx_id single_sub)"
	fx unmap_whole unmap "$(fx_id page_whole)"
	fx unmap_2pages unmap "$(fx_id single_2pages)"
	fx unmap_cross unmap "$(fx_id page_cross)"
	fx wrong_size map_single 0 300 from
	fx unmap_wrong_size unmap "$(fx_id wrong_size)" 100
	fx wrong_dir map_page 0 512 to
	fx unmap_wrong_dir unmap "$(fx_id wrong_dir)" 512 from
	fx double map_single 64 128 bidi
	fx unmap_double unmap "$(fx_id double)"
	fx unmap_double2 double_unmap "$(fx_id double)"
	fx unmap_never unmap_bogus 0x10000 4096 to
	fx sg_mixed map_sg 100:200,0:4096,512:8000 to
	fx sg_pages map_sg 0:4096,0:4096,0:4096 from
	fx unmap_sg_mixed unmap "$(fx_id sg_mixed)"
	fx unmap_sg_pages unmap "$(fx_id sg_pages)"
	fx coh_small alloc_coherent 100
	fx coh_page alloc_coherent 4096
	fx coh_big alloc_coherent 5000
	fx nc alloc_noncontig 10000
	fx pages alloc_pages 5000 to
	# the contiguous coherent path: iommu_dma_alloc_pages + __iommu_dma_map
	fx coh_contig alloc_coherent 4096 contig	# DMA_ATTR_FORCE_CONTIGUOUS
	fx coh_atomic alloc_coherent 4096 atomic	# GFP_ATOMIC
	# the tables dma_get_sgtable() exports, remapped and contiguous
	fx sgt_small get_sgtable "$(fx_id coh_small)"
	fx sgt_page get_sgtable "$(fx_id coh_page)"
	fx sgt_big get_sgtable "$(fx_id coh_big)"
	fx sgt_contig get_sgtable "$(fx_id coh_contig)"
	fx sgt_atomic get_sgtable "$(fx_id coh_atomic)"
	fx sgt_refused get_sgtable "$(fx_id pages)"	# not coherent: no call
	fx free_coh_small free_coherent "$(fx_id coh_small)"
	fx free_coh_page free_coherent "$(fx_id coh_page)"
	fx free_coh_big free "$(fx_id coh_big)"
	fx free_nc free_noncontig "$(fx_id nc)"
	fx free_pages free_pages "$(fx_id pages)"
	fx free_coh_contig free_coherent "$(fx_id coh_contig)"
	fx free_coh_atomic free_coherent "$(fx_id coh_atomic)"
	_bar0=$(sed -n 's/^id=[0-9]* cmd=probe .* bar0=\([0-9]*\) .*/\1/p' /sys/kernel/debug/ia_fixture/result | tail -n 1)
	fx res map_resource $((_bar0 + 256)) 8 to	# MMIO: edu's BAR0 + 256
	fx unmap_res unmap "$(fx_id res)"
	# refused: no DMA API call may happen for these
	fx err_cmd frobnicate 1
	fx err_id unmap 99999
	fx err_span map_single 0 100 to
	fx err_span_unmap unmap "$(fx_id err_span)" 5000	# would unmap 2 pages
	fx err_span_ok unmap "$(fx_id err_span)"
}

fx_phase2() {
	fx sg_pad map_sg 0:4096,0:8192 bidi	# segment 1 would cross 8K: padded
	fx sg_split map_sg 0:4096,0:4096,0:4096 to	# 8K boundary splits the output
	fx unmap_sg_pad unmap "$(fx_id sg_pad)"
	fx unmap_sg_split unmap "$(fx_id sg_split)"
}

fx_phase3() {
	fx u_coh alloc_coherent 4096	# live above the scatterlists' IOVAs
	fx bounce map_single 100 200 to	# sub-granule: bounced through swiotlb
	fx u_aligned map_page 0 4096 from	# granule-aligned: mapped in place
	fx u_sg map_sg 100:200,0:4096 to	# segment by segment, the first bounced
	fx unmap_bounce unmap "$(fx_id bounce)"
	fx unmap_u_aligned unmap "$(fx_id u_aligned)"
	fx unmap_u_sg unmap "$(fx_id u_sg)"
	# issue 13: each segment at an IOVA of its own, below the first one's,
	# while the coherent buffer holds the IOVA above: unmap_sg removes all
	# three (it used to be reported as lifecycle.pt_leftover)
	fx u_sg3 map_sg 50:300,0:4096,3000:1000 to
	fx unmap_u_sg3 unmap "$(fx_id u_sg3)"
	fx free_u_coh free "$(fx_id u_coh)"
}

fx_phase4() {
	fx leak_single map_single 8 16 to
	fx leak_mark leak "$(fx_id leak_single)"
	fx live_page map_page 0 1024 bidi	# still mapped at unbind: released
	fx leak_coh alloc_coherent 100
	fx leak_mark_coh leak "$(fx_id leak_coh)"
	fx unbind unbind
}

# fx_phases: the four phases and the settings between them, in the one
# recording; "@phase N" in the tags marks where each begins (fx_split)
fx_phases() {
	echo "@phase 1" >> "$OUT/tags"
	fx_phase1
	fx p2_boundary seg_boundary 0x1fff
	fx p2_max_seg max_seg_size 8192
	echo "@phase 2" >> "$OUT/tags"
	fx_phase2
	fx p2_boundary_restore seg_boundary 0xffffffff
	fx p2_max_seg_restore max_seg_size 65536
	fx p3_untrusted untrusted 1
	echo "@phase 3" >> "$OUT/tags"
	fx_phase3
	fx p3_untrusted_restore untrusted 0
	echo "@phase 4" >> "$OUT/tags"
	fx_phase4
}

# fx_record: record the phases, only the edu device
fx_record() {
	iommu-audit record --device "$IA_EDU_BDF" -o /tmp/fx.trace -- \
		sh -c ". '$CASES_DIR/fixture.sh' && fx_phases" > "$OUT/record.log" 2>&1
	echo $? > "$OUT/record.rc"
	iommu-audit dump /tmp/fx.trace > "$OUT/dump.jsonl"
	iommu-audit -j coverage -i /tmp/fx.trace > "$OUT/coverage.json"
	# --each: one finding per occurrence, so that each lands in its phase
	iommu-audit -j check --each /tmp/fx.trace > "$OUT/check.jsonl"
	echo $? > "$OUT/check.rc"
	base64 /tmp/fx.trace > "$OUT/fx.trace.b64"	# to re-check on the host
}

guest() {
	: > "$OUT/tags"
	if ! command -v iafx > /dev/null; then
		echo "no /extra/fixture: run with --extra .output/fixture (tests/fixture/build.sh)"
		return 1
	fi
	# the taint before: another case of the same boot may have set bits
	# (the iova case's deliberate wrong unlinks WARN on 7.x)
	cat /proc/sys/kernel/tainted > "$OUT/tainted.before"
	iafx load > "$OUT/load.log" 2>&1
	echo $? > "$OUT/load.rc"
	cat /proc/sys/kernel/tainted > "$OUT/tainted"
	fx info info
	fx_record
	fx after_unbind info	# no device: refused
	cat /sys/kernel/debug/ia_fixture/result > "$OUT/result.txt"
	iafx unload
	echo $? > "$OUT/unload.rc"
	dmesg > "$OUT/dmesg.txt"
}

# ---- host (bash, jq) -------------------------------------------------------
# Requests are matched to fixture commands by time: each result line has
# t0/t1 (CLOCK_MONOTONIC, as the trace's timestamps) around its DMA API
# call, so "the map_page request of command X" is the one whose entry and
# exit fall in [t0, t1]. Matching by handle would be ambiguous: strict mode
# hands a freed IOVA to the next mapping of the same size.

# tag_id TAG / tag_rc TAG: fixture id and iafx exit status of a tagged command
tag_id() { awk -v t="$1" '$1 == t { v = $2 } END { print v }' "$OUT/tags"; }
tag_rc() { awk -v t="$1" '$1 == t { v = $3 } END { print v }' "$OUT/tags"; }
# res TAG FIELD: a field of a tagged command's result line
res() { fx_res "$(tag_id "$1")" "$2"; }
# win TAG: its time window, "t0; t1" for in_win()
win() { echo "$(res "$1" t0); $(res "$1" t1)"; }
align() { echo $(( ($1 + FX_G - 1) / FX_G * FX_G )); }

# jq helpers over a dump (slurped)
JQ_FX='
# a request id and the ids of the requests nested in it
def tree($id): . as $all
	| [$id] + ([$all[] | select(.type == "request" and .parent == $id) | .req]
		| map(. as $c | $all | tree($c)) | add // []);
# records of $type (pt_map, pt_unmap, ...) made inside request $id
def in_tree($type; $id): . as $all | ($all | tree($id)) as $ids
	| [$all[] | select(.type == $type and (.req as $r | any($ids[]; . == $r)))] | sort_by(.iova);
# root requests of $kind that ran within [$t0, $t1]
def in_win($kind; $t0; $t1): [.[] | select(.type == "request" and .kind == $kind
	and .parent == 0 and .entry_ns >= $t0 and .ts <= $t1)];
def contiguous: . as $w | [range(1; $w | length) | select($w[.].iova != $w[. - 1].iova + $w[. - 1].size)] | length == 0;
# How dma-iommu 6.1 lays out a map_sg of $layout ("off:len,...", each
# segment on its own page as the fixture places them) with granule $g:
# iommu_dma_map_sg aligns each segment to granules and pads the previous
# one when a segment would cross the boundary mask; __finalise_sg merges
# output segments unless unaligned, at a boundary or over $maxseg. The
# fixture never places two segments physically adjacent, so each segment
# is one page-table write. rel: offset from the granule-aligned IOVA start.
# Prints: writes "rel:size,...", outputs "rel:len,...", padding bytes,
# bytes written, output count. (jq has no "&": x & (2^n-1) = x % 2^n.)
def sg_expect($layout; $mask; $maxseg; $g):
	($mask + 1) as $m1
	| def al(x): ((x + $g - 1) / $g | floor) * $g;
	[$layout | split(",")[] | split(":") | map(tonumber) | {o: (.[0] % $g), len: .[1]}] as $s
	| (reduce range(0; $s | length) as $i ({iova: 0, pads: [$s[] | 0]};
		al($s[$i].o + $s[$i].len) as $a
		| (($m1 - (.iova % $m1)) % $m1) as $p
		| if $p > 0 and $p < $a - 1 then .pads[$i - 1] += $p | .iova += $p else . end
		| .iova += $a)) as $lay
	| [range(0; $s | length) as $i | $s[$i] + {ilen: (al($s[$i].o + $s[$i].len) + $lay.pads[$i])}] as $t
	| (reduce $t[] as $x ({r: 0, cur: 0, w: [], out: []};
		.w += [{rel: .r, size: $x.ilen}]
		| if .cur > 0 and $x.o == 0 and (.r % $m1) != 0 and (.cur > $maxseg or $maxseg - .cur >= $x.len)
		  then .cur += $x.len | .out[(.out | length) - 1].len = .cur
		  else .out += [{rel: (.r + $x.o), len: $x.len}] | .cur = $x.len end
		| .r += $x.ilen
		| if $x.len + $x.o < $x.ilen then .cur = 0 else . end))
	| "\(.w | map("\(.rel):\(.size)") | join(",")) \(.out | map("\(.rel):\(.len)") | join(","))"
	  + " \($lay.pads | add) \([.w[].size] | add) \(.out | length)";
'
# fxjq N FILTER: jq -s FILTER on trace N, with the helpers, on one line
fxjq() { jq -rs "$JQ_FX $2" "$OUT/dump$1.jsonl" | tr '\n' ' ' | sed 's/ $//'; }
# fxq N WINDOW KIND FILTER: FILTER on the one root KIND request made in
# WINDOW ("t0; t1"), bound to $q, with the whole dump as input; when there
# is not exactly one such request, says how many
fxq() {
	fxjq "$1" ". as \$a | in_win(\"$3\"; $2) as \$r | if (\$r | length) != 1
		then \"\(\$r | length) $3 requests\" else \$r[0] as \$q | \$a | $4 end"
}

# check_single N TAG OFF LEN: map_single/map_page of LEN bytes at buffer
# offset OFF: one map_page request, one write of the granule-aligned range
check_single() {
	local n=$1 tag=$2 off=$3 len=$4 phys dma head span tail w
	phys=$(res "$tag" phys)
	dma=$(res "$tag" dma)
	w=$(win "$tag")
	head=$(( off % FX_G ))
	span=$(align $(( head + len )))
	tail=$(( span - head - len ))
	assert_eq "$tag: buffer offset in its page (fixture phys)" "$head" "$(( phys % FX_G ))"
	assert_eq "$tag: handle keeps the offset (dma % granule = phys % granule)" "$head" "$(( dma % FX_G ))"
	assert_eq "$tag: map_page request (dma phys size failed)" "$dma $phys $len false" \
		"$(fxq "$n" "$w" map_page '"\($q.dma) \($q.phys) \($q.size) \($q.failed)"')"
	assert_eq "$tag: one write of $span at the aligned handle and buffer page" \
		"1 $(( dma - head )) $(( phys - head )) $span" \
		"$(fxq "$n" "$w" map_page 'in_tree("pt_map"; $q.req) | "\(length) \(.[0].iova) \(.[0].paddr) \([.[].size] | add)"')"
	assert_eq "$tag: exposed head + tail bytes ($head + $tail)" "$head $tail" \
		"$(fxq "$n" "$w" map_page 'in_tree("pt_map"; $q.req) as $w
			| "\($q.phys - $w[0].paddr) \($w[-1].paddr + $w[-1].size - $q.phys - $q.size)"')"
}

# check_unmap N DESC WINDOW MAPTAG KIND LEN DIR: the one KIND request in
# WINDOW unmaps MAPTAG's handle with LEN and DIR, and removes the mapped range
check_unmap() {
	local n=$1 dma span
	dma=$(res "$4" dma)
	span=$(align $(( dma % FX_G + $(res "$4" len) )))
	assert_eq "$2: $5 request (dma size dir) and its removal of the mapped range" \
		"$dma $6 $7 1 $(( dma - dma % FX_G )) $span" \
		"$(fxq "$n" "$3" "$5" 'in_tree("pt_unmap"; $q.req) as $rm
			| "\($q.dma) \($q.size) \($q.dir) \($rm | length) \($rm[0].iova) \([$rm[].size] | add)"')"
}

# check_sg N TAG LAYOUT MASK MAXSEG UNMAPTAG: the map_sg request, its
# writes and output segments against sg_expect, and its unmap
check_sg() {
	local n=$1 tag=$2 w dma base wexp oexp pexp bexp nout nseg i
	local phys_pages="" got_out="" lens=0 segs=""
	read -r wexp oexp pexp bexp nout <<EOF
$(jq -rn "$JQ_FX sg_expect(\"$3\"; $(($4)); $5; $FX_G)")
EOF
	w=$(win "$tag")
	dma=$(res "$tag" dma)
	base=$(( dma - dma % FX_G ))
	nseg=$(res "$tag" nents)
	i=0
	while [ "$i" -lt "$nseg" ]; do
		phys_pages="$phys_pages${phys_pages:+,}$(( $(res "$tag" "seg${i}_phys") / FX_G * FX_G ))"
		segs="$segs${segs:+ }$(res "$tag" "seg${i}_phys"):$(res "$tag" "seg${i}_len")"
		lens=$(( lens + $(res "$tag" "seg${i}_len") ))
		i=$(( i + 1 ))
	done
	i=0
	while [ "$i" -lt "$(res "$tag" ret)" ]; do
		got_out="$got_out${got_out:+,}$(( $(res "$tag" "out${i}_dma") - base )):$(res "$tag" "out${i}_len")"
		i=$(( i + 1 ))
	done
	assert_eq "$tag: map_sg request (dma nents ret failed)" "$dma $nseg $nout false" \
		"$(fxq "$n" "$w" map_sg '"\($q.dma) \($q.nents) \($q.ret) \($q.failed)"')"
	assert_eq "$tag: input segments in the trace = the fixture's" "$segs" \
		"$(fxq "$n" "$w" map_sg '[.[] | select(.type == "sg" and .req == $q.req and (.output | not)) | .segs[]]
			| map("\(.phys):\(.len)") | join(" ")')"
	assert_eq "$tag: page-table writes rel:size ($pexp bytes of boundary padding)" "$wexp" \
		"$(fxq "$n" "$w" map_sg "in_tree(\"pt_map\"; \$q.req) | map(\"\(.iova - $base):\(.size)\") | join(\",\")")"
	assert_eq "$tag: each write maps its segment's page(s)" "$phys_pages" \
		"$(fxq "$n" "$w" map_sg 'in_tree("pt_map"; $q.req) | map(.paddr) | join(",")')"
	assert_eq "$tag: output segments rel:len (fixture)" "$oexp" "$got_out"
	assert_eq "$tag: output segments rel:len (trace)" "$oexp" \
		"$(fxq "$n" "$w" map_sg "[.[] | select(.type == \"sg\" and .req == \$q.req and .output) | .segs[]
			| select(.dma_len > 0)] | map(\"\(.dma - $base):\(.dma_len)\") | join(\",\")")"
	assert_eq "$tag: exposed bytes = written $bexp - requested $lens" "$(( bexp - lens ))" \
		"$(( $(fxq "$n" "$w" map_sg '[in_tree("pt_map"; $q.req)[].size] | add') - lens ))"
	# unmap_sg removes the whole IOVA range, padding included, at once
	assert_eq "$tag: unmap_sg removes the whole range once" "$dma 1 $base $bexp" \
		"$(fxq "$n" "$(win "$6")" unmap_sg 'in_tree("pt_unmap"; $q.req) | "\($q.dma) \(length) \(.[0].iova) \([.[].size] | add)"')"
}

# check_alloc N TAG KIND SIZE FREETAG FREEKIND: writes of the rounded size
# from the handle, and the free removing them
check_alloc() {
	local n=$1 tag=$2 kind=$3 size=$4 dma span
	dma=$(res "$tag" dma)
	span=$(align "$size")
	assert_eq "$tag: $kind of $size bytes writes $span from the handle" \
		"$dma $size $dma $span true false" \
		"$(fxq "$n" "$(win "$tag")" "$kind" 'in_tree("pt_map"; $q.req) as $w
			| "\($q.dma) \($q.size) \($w[0].iova) \([$w[].size] | add) \($w | contiguous) \($q.failed)"')"
	assert_eq "$tag: $6 names the allocation's handle" "$dma" \
		"$(fxq "$n" "$(win "$5")" "$6" '$q.dma')"
	assert_eq "$tag: $6 removes $span at the handle" "$dma $span" \
		"$(fxq "$n" "$(win "$5")" "$6" 'in_tree("pt_unmap"; $q.req) | "\(.[0].iova) \([.[].size] | add)"')"
}

# check_sgtable TAG ALLOCTAG: the get_sgtable request of TAG exports the
# table the fixture saw (entries phys:len), for ALLOCTAG's handle and size
check_sgtable() {
	local tag=$1 a=$2
	assert_eq "$tag: get_sgtable request (dma size attrs ret nents)" \
		"$(res "$a" dma) $(res "$a" size) $(printf '0x%x' "$(res "$a" attrs)") 0 $(res "$tag" nents)" \
		"$(fxq 1 "$(win "$tag")" get_sgtable '"\($q.dma) \($q.size) \($q.attrs) \($q.ret) \($q.nents)"')"
	assert_eq "$tag: the exported entries in the trace = the fixture's" "$(res "$tag" sg)" \
		"$(fxq 1 "$(win "$tag")" get_sgtable '[.[] | select(.type == "sg" and .req == $q.req and .output) | .segs[]]
			| map("\(.phys):\(.len)") | join(",")')"
}

# check_device N WHAT JQ EXPECTED: a field of the edu device record
check_device() {
	assert_eq "trace $1: edu device $2" "$4" \
		"$(fxjq "$1" "[.[] | select(.type == \"device\" and .name == \"$EDU\")][0] | $3")"
}

# fx_split: the one recording's dump and findings (check --each) cut into
# dumpN.jsonl and checkN.jsonl, a trace's worth per phase N. Phase N begins
# at the t0 (CLOCK_MONOTONIC, the trace's clock) of its first fixture call
# ("@phase N" in the tags); a record or finding belongs to the last phase
# begun at its ts (before the first: 1; one without a ts, as a finding made
# at the end of the run has (0): 4); the header, trailer, call stacks and
# page-table snapshots go to every phase.
JQ_PHASE='def phase($t): if ($t // 0) == 0 then 4
	else ([range(0; 4) | select($lo[.] != null and $lo[.] <= $t)] | last // 0) + 1 end; '
fx_split() {
	local lo n
	lo=$(awk '/^@phase / { p = $2; next } p { print $2, p }' "$OUT/tags" |
		jq -R -s -c --slurpfile r "$OUT/result.json" '
			(split("\n") | map(select(length > 0) | split(" ") | {key: .[0], value: (.[1] | tonumber)})
			 | from_entries) as $ph
			| [range(1; 5) as $n | [$r[0][] | select(.t0 and $ph[.id | tostring] == $n) | .t0] | min]')
	echo "$lo" > "$OUT/phases.json"
	for n in 1 2 3 4; do
		jq -c --argjson lo "$lo" --argjson n "$n" "$JQ_PHASE"'select((.type | IN("header", "trailer", "stack", "pt_snap")) or phase(.ts) == $n)' \
			"$OUT/dump.jsonl" > "$OUT/dump$n.jsonl"
		jq -c --argjson lo "$lo" --argjson n "$n" "$JQ_PHASE"'select(.type != "finding" or phase(.finding.ts) == $n)' \
			"$OUT/check.jsonl" > "$OUT/check$n.jsonl"
	done
}

# fxf N FILTER: jq over the findings of `iommu-audit -j check` of phase N
fxf() {
	jq -rs "[.[] | select(.type == \"finding\") | .finding] | $2" "$OUT/check$1.jsonl"
}

# The checker's findings for the scripted cases: codes, counts and the
# first occurrence's exposure, computed from the parameters and the granule.
check_findings() {
	local code want
	assert_eq "check: exit 1 (the deliberate lifecycle errors of phase 1)" 1 "$(cat "$OUT/check.rc")"
	assert_eq "check 1: the errors (what makes the exit 1)" true \
		"$(fxf 1 '[.[] | select(.severity == "error")] | length > 0')"
	for code in size_mismatch dir_mismatch double_unmap unmap_unknown sync_outside; do
		want=1
		# a sync the kernel skipped (see above) is no finding
		[ "$code" != sync_outside ] || [ "$(res info syncs)" = 1 ] || want=0
		assert_eq "check 1: lifecycle.$code $want time(s)" $want \
			"$(fxf 1 "[.[] | select(.code == \"lifecycle.$code\") | .count] | add // 0")"
	done
	for n in 1 2 3 4; do
		assert_eq "check $n: no translation or alignment finding" "" \
			"$(fxf $n '[.[] | select(.invariant == "translation" or .invariant == "alignment") | .code] | join(" ")')"
	done
	# 4 KiB granule = PAGE_SIZE: every allocation owns all it maps, and an
	# exported table covers the pages mapped at its handle
	assert_eq "check 1: no exposure finding for the allocations (remapped, contiguous, atomic, pages, noncontiguous)" "" \
		"$(fxf 1 '[.[] | select(.invariant == "exposure" and (.request | startswith("alloc"))) | .code] | join(" ")')"
	assert_eq "check 1: exported tables match the mappings (no translation.sgtable_mismatch)" 0 \
		"$(fxf 1 '[.[] | select(.code == "translation.sgtable_mismatch")] | length')"
	# map_single 100 200: the first sub-page exposure at its call site
	assert_eq "check 1: map_single 100+200 exposes head 100, tail 3796" "100 3796" \
		"$(fxf 1 '[.[] | select(.code == "exposure.sub_page" and .request == "map_page" and .len == 200)][0]
			| "\(.head) \(.tail)"')"
	# map_resource BAR0+256, 8 bytes: the rest of the MMIO page
	assert_eq "check 1: map_resource of 8 bytes at +256 exposes 256 + 3832" "256 3832" \
		"$(fxf 1 '[.[] | select(.request == "map_resource")][0] | "\(.head) \(.tail)"')"
	# boundary 0x1fff: segment 0 is padded to the boundary with the page after it
	assert_eq "check 2: map_sg boundary padding flagged, one 4096-byte page" "warning 4096" \
		"$(fxf 2 '[.[] | select(.code == "exposure.sg_padding")][0] | "\(.severity) \(.exposed_bytes)"')"
	# untrusted: bounced through swiotlb, nothing outside the slot
	assert_eq "check 3: bounce slack only, no exposure of the untrusted device" \
		"exposure.bounce_slack" \
		"$(fxf 3 '[.[] | select(.invariant == "exposure") | .code] | unique | join(" ")')"
	assert_eq "check 3: no page-table entry left over after any unmap (issue 13)" 0 \
		"$(fxf 3 '[.[] | select(.code == "lifecycle.pt_leftover")] | length')"
	assert_eq "check 3: no error (phase 3 alone would exit 0)" "" \
		"$(fxf 3 '[.[] | select(.severity == "error") | .code] | join(" ")')"
	# leak then unbind: the two leaked mappings are reported at the unbind
	# (bpf/unbind.bpf.c), as dma-debug does, and not again at the end
	assert_eq "check 4: the two leaked mappings live at the unbind, none at the end" "2 0" \
		"$(fxf 4 '[.[] | select(.code == "lifecycle.live_at_unbind") | .count] | add // 0') $(fxf 4 '[.[] | select(.code == "lifecycle.live_at_end") | .count] | add // 0')"
}

check() {
	local n dt wins d w
	EDU=$(env_get IA_EDU_BDF)
	if [ ! -s "$OUT/result.txt" ]; then
		_fail "no fixture result: $(head -c 300 "$OUT/guest.log" | tr '\n' ' ')"
		return
	fi
	fx_result_json
	fx_split
	assert_eq "record exit code" 0 "$(cat "$OUT/record.rc")"
	assert_eq "four phases, each begun at a fixture call, in order" true \
		"$(jq '[.[] | numbers] | length == 4 and . == sort' "$OUT/phases.json")"
	# every fixture call's window, to find requests no command explains
	wins=$(jq -c '[.[] | select(.t0) | [.t0, .t1]]' "$OUT/result.json")

	assert_eq "module loads (insmod)" 0 "$(cat "$OUT/load.rc")"
	assert_eq "taint after insmod: what it was, and O+E (out-of-tree, unsigned), nothing else" \
		$(( $(cat "$OUT/tainted.before") | 12288 )) "$(cat "$OUT/tainted")"
	[ "$MODE" = strict ] && dt=DMA || dt=DMA-FQ
	assert_eq "fixture bound to edu" "$EDU $dt 4096 4096" \
		"$(res info bdf) $(res info domain) $(res info granule) $(res info page_size)"
	for n in 1 2 3 4; do
		assert_eq "trace $n: requests in it" true "$(fxjq $n '[.[] | select(.type == "request")] | length > 0')"
		assert_eq "trace $n: no events lost" 0 \
			"$(fxjq $n '.[] | select(.type == "trailer") | .lost_ringbuf + .lost_inflight + .lost_stack')"
		assert_eq "trace $n: only edu requests (--device)" "$EDU" \
			"$(fxjq $n '[.[] | select(.type == "request") | .device] | unique | join(" ")')"
		assert_eq "trace $n: every page-table change inside a request" 0 \
			"$(fxjq $n '[.[] | select((.type == "pt_map" or .type == "pt_unmap") and .unattributed)] | length')"
		assert_eq "trace $n: every request made by a fixture command" 0 \
			"$(fxjq $n "$wins as \$w | [.[] | select(.type == \"request\" and .parent == 0)
				| select(. as \$r | any(\$w[]; \$r.entry_ns >= .[0] and \$r.ts <= .[1]) | not)] | length")"
		check_device $n "driver, domain, granule" '"\(.driver) \(.domain_type) \(.granule)"' "ia_fixture $dt 4096"
	done
	check_device 1 "dma_parms (defaults)" '"\(.seg_boundary) \(.max_seg_size) \(.untrusted)"' "0xffffffff 65536 false"
	check_device 2 "dma_parms (set by the fixture)" '"\(.seg_boundary) \(.max_seg_size)"' "0x1fff 8192"
	check_device 3 "untrusted" '.untrusted' true
	assert_eq "trace 1: root requests' call stacks name the fixture" true \
		"$(fxjq 1 '(map(select(.type == "stack")) | map({key: (.stack_id | tostring), value: .frames}) | from_entries) as $st
			| [.[] | select(.type == "request" and .parent == 0 and .stack_id >= 0)
			   | $st[.stack_id | tostring] // [] | any(.[]; contains("[ia_fixture]"))] | (length > 0 and all)')"

	# ---- trace 1: single mappings, syncs, unmaps ----
	check_single 1 single_sub 100 200
	check_single 1 page_whole 0 4096
	check_single 1 single_2pages 0 8192
	check_single 1 page_cross 4000 200
	check_single 1 wrong_size 0 300
	check_single 1 wrong_dir 0 512
	check_single 1 double 64 128
	assert_eq "single_sub: nested __iommu_dma_map of the same phys and size" \
		"iommu_dma_map $(res single_sub phys) 200 $(res single_sub dma)" \
		"$(fxq 1 "$(win single_sub)" map_page '[.[] | select(.type == "request" and .parent == $q.req)]
			| "\(.[0].kind) \(.[0].phys) \(.[0].size) \(.[0].dma)"')"
	d=$(res single_sub dma)
	if [ "$(res info syncs)" = 1 ]; then
		assert_eq "sync inside the mapping: sync_single_for_cpu (handle, 200, dir)" "$d 200 1" \
			"$(fxq 1 "$(win sync_in)" sync_single_for_cpu '"\($q.dma) \($q.size) \($q.dir)"')"
		assert_eq "sync outside the mapping: sync_single_for_device (handle + 300, 64)" "$(( d + 300 )) 64 1" \
			"$(fxq 1 "$(win sync_out)" sync_single_for_device '"\($q.dma) \($q.size) \($q.dir)"')"
	else
		# 6.11+: the kernel skips syncs of a device that needs none (the
		# fixture says so: dma_dev_need_sync() is false), so none reaches
		# dma-iommu and there is nothing to record or check
		assert_eq "syncs skipped by the kernel (dma_dev_need_sync false): no sync request recorded" \
			"0 sync_single_for_cpu requests/0 sync_single_for_device requests" \
			"$(fxq 1 "$(win sync_in)" sync_single_for_cpu '"-"')/$(fxq 1 "$(win sync_out)" sync_single_for_device '"-"')"
	fi
	check_unmap 1 unmap_sub "$(win unmap_sub)" single_sub unmap_page 200 1
	check_unmap 1 unmap_whole "$(win unmap_whole)" page_whole unmap_page 4096 2
	check_unmap 1 unmap_2pages "$(win unmap_2pages)" single_2pages unmap_page 8192 0
	check_unmap 1 unmap_cross "$(win unmap_cross)" page_cross unmap_page 200 1
	check_unmap 1 "wrong-size unmap (map 300, unmap 100)" "$(win unmap_wrong_size)" wrong_size unmap_page 100 2
	check_unmap 1 "wrong-direction unmap (map to device, unmap from device)" "$(win unmap_wrong_dir)" \
		wrong_dir unmap_page 512 2
	d=$(res double dma)
	check_unmap 1 "double unmap, first" "$(win unmap_double)" double unmap_page 128 0
	assert_eq "double unmap, second: same handle, no removal (fixture rc, trace)" "0 $d 128 0" \
		"$(tag_rc unmap_double2) $(fxq 1 "$(win unmap_double2)" unmap_page '"\($q.dma) \($q.size) \(in_tree("pt_unmap"; $q.req) | length)"')"
	assert_eq "unmap of a never-mapped handle: request, no removal" "65536 4096 1 0" \
		"$(fxq 1 "$(win unmap_never)" unmap_page '"\($q.dma) \($q.size) \($q.dir) \(in_tree("pt_unmap"; $q.req) | length)"')"

	# ---- trace 1: scatterlists (default boundary 0xffffffff, max 65536) ----
	check_sg 1 sg_mixed 100:200,0:4096,512:8000 0xffffffff 65536 unmap_sg_mixed
	check_sg 1 sg_pages 0:4096,0:4096,0:4096 0xffffffff 65536 unmap_sg_pages

	# ---- trace 1: allocations and MMIO ----
	check_alloc 1 coh_small alloc 100 free_coh_small free
	check_alloc 1 coh_page alloc 4096 free_coh_page free
	check_alloc 1 coh_big alloc 5000 free_coh_big free
	check_alloc 1 nc alloc_noncontiguous 10000 free_nc free_noncontiguous
	# dma_alloc_pages page-aligns 5000 before dma-iommu sees it
	check_alloc 1 pages alloc_pages 8192 free_pages free_pages
	assert_eq "alloc_pages: one write, at the allocated page" "$(res pages phys) 1 $(res pages phys)" \
		"$(fxq 1 "$(win pages)" alloc_pages '"\($q.phys) \(in_tree("pt_map"; $q.req) | length) \(in_tree("pt_map"; $q.req)[0].paddr)"')"
	# the fixture's phys is what the IOMMU translates the handle to
	for t in coh_small coh_page coh_big coh_contig coh_atomic nc pages; do
		assert_eq "$t: fixture phys = translation of the handle" "$(res $t phys)" "$(res $t xlate)"
	done
	check_alloc 1 coh_contig alloc 4096 free_coh_contig free
	check_alloc 1 coh_atomic alloc 4096 free_coh_atomic free
	# blocking and not contiguous: the remap path, no __iommu_dma_map
	# inside; the other two map their page with one (TAG:GFP:children)
	local spec t g c
	for spec in coh_page:GFP_KERNEL:0 coh_contig:GFP_KERNEL:1 coh_atomic:GFP_ATOMIC:1; do
		t=${spec%%:*}
		c=${spec##*:}
		g=${spec#*:}
		assert_eq "$t: alloc request (attrs, gfp ${g%:*}) and $c nested __iommu_dma_map" \
			"$(printf '0x%x 0x%x' "$(res "$t" attrs)" "$(res "$t" gfp)") $c" \
			"$(fxq 1 "$(win "$t")" alloc '"\($q.attrs) \($q.gfp) \([.[] | select(.type == "request" and .parent == $q.req and .kind == "iommu_dma_map")] | length)"')"
	done
	for t in coh_contig coh_atomic; do
		assert_eq "$t: the nested __iommu_dma_map maps the page (phys size)" "$(res $t phys) 4096" \
			"$(fxq 1 "$(win $t)" alloc '[.[] | select(.type == "request" and .parent == $q.req)][0] | "\(.phys) \(.size)"')"
	done

	# ---- trace 1: exported tables (dma_get_sgtable) ----
	# remapped: sg_alloc_table_from_pages(..., size); contiguous: one
	# entry of PAGE_ALIGN(size) at the buffer's page
	assert_eq "get_sgtable of the remapped 100-byte buffer: one entry of 100 bytes at its page (fixture)" \
		"0 1 100 $(res coh_small phys):100" \
		"$(res sgt_small err) $(res sgt_small nents) $(res sgt_small len) $(res sgt_small sg)"
	assert_eq "get_sgtable of the remapped 4096-byte buffer (fixture)" \
		"0 1 4096 $(res coh_page phys):4096" \
		"$(res sgt_page err) $(res sgt_page nents) $(res sgt_page len) $(res sgt_page sg)"
	assert_eq "get_sgtable of the remapped 5000-byte buffer: 5000 bytes from its first page (fixture)" \
		"0 5000 $(res coh_big phys)" \
		"$(res sgt_big err) $(res sgt_big len) $(res sgt_big sg | cut -d: -f1)"
	for t in contig atomic; do
		assert_eq "get_sgtable of the $t buffer: one entry of 4096 at its page (fixture)" \
			"0 1 4096 $(res coh_$t phys):4096" \
			"$(res sgt_$t err) $(res sgt_$t nents) $(res sgt_$t len) $(res sgt_$t sg)"
	done
	check_sgtable sgt_small coh_small
	check_sgtable sgt_page coh_page
	check_sgtable sgt_big coh_big
	check_sgtable sgt_contig coh_contig
	check_sgtable sgt_atomic coh_atomic
	assert_eq "get_sgtable hook attached (trace 1 coverage)" attached \
		"$(jq -r '.coverage.hooks[] | select(.name == "get_sgtable") | .state' "$OUT/coverage.json")"
	assert_eq "get_sgtable of a non-coherent allocation: refused (-22), no call" \
		"1 -22 not_a_live_coherent_allocation 0" \
		"$(tag_rc sgt_refused) $(res sgt_refused err) $(res sgt_refused msg) $(fxjq 1 "in_win(\"get_sgtable\"; $(win sgt_refused)) | length")"
	assert_eq "trace 1: get_sgtable requests, one per table exported" 5 \
		"$(fxjq 1 '[.[] | select(.type == "request" and .kind == "get_sgtable")] | length')"
	local rp
	rp=$(( $(res info bar0) + 256 ))
	assert_eq "map_resource of BAR0+256, 8 bytes: one MMIO write of the page, head 256, tail 3832" \
		"$rp 8 1 $(( rp - rp % FX_G )) 4096 16 256 3832" \
		"$(fxq 1 "$(win res)" map_resource 'in_tree("pt_map"; $q.req) as $w
			| "\($q.phys) \($q.size) \($w | length) \($w[0].paddr) \($w[0].size) \($w[0].prot / 16 | floor % 2 * 16)"
			  + " \($q.phys - $w[0].paddr) \($w[0].paddr + $w[0].size - $q.phys - $q.size)"')"
	check_unmap 1 unmap_res "$(win unmap_res)" res unmap_resource 8 1

	# ---- trace 1: refused commands ----
	assert_eq "bad command: write fails, err=-22 unknown_command" "1 -22 unknown_command" \
		"$(tag_rc err_cmd) $(res err_cmd err) $(res err_cmd msg)"
	assert_eq "unknown id: write fails, err=-22 unknown_id" "1 -22 unknown_id" \
		"$(tag_rc err_id) $(res err_id err) $(res err_id msg)"
	assert_eq "unmap that would change the granule span: refused (-16), no call" "1 -16 0" \
		"$(tag_rc err_span_unmap) $(res err_span_unmap err) $(fxjq 1 "in_win(\"unmap_page\"; $(win err_span_unmap)) | length")"

	# ---- trace 2: seg_boundary 0x1fff, max_seg_size 8192 ----
	check_sg 2 sg_pad 0:4096,0:8192 0x1fff 8192 unmap_sg_pad
	check_sg 2 sg_split 0:4096,0:4096,0:4096 0x1fff 8192 unmap_sg_split

	# ---- trace 3: untrusted device, swiotlb bounce ----
	w=$(win bounce)
	if [ "$(res info swiotlb)" = 1 ]; then
		assert_eq "untrusted: one bounce of the 200-byte buffer (orig_phys size slot_size)" \
			"1 $(res bounce phys) 200 4096" \
			"$(fxq 3 "$w" map_page '[.[] | select(.type == "bounce" and .req == $q.req)]
				| "\(length) \(.[0].orig_phys) \(.[0].mapping_size) \(.[0].alloc_size)"')"
		assert_eq "untrusted: slot != buffer; handle translates into the slot; __iommu_dma_map of the slot" \
			"true true true" \
			"$(fxq 3 "$w" map_page '[.[] | select(.type == "bounce" and .req == $q.req)][0] as $s
				| in_tree("pt_map"; $q.req) as $pw
				| "\($s.tlb_phys != $s.orig_phys) \($pw[0].paddr + ($q.dma - $pw[0].iova) == $s.tlb_phys)"
				  + " \([.[] | select(.type == "request" and .parent == $q.req)][0].phys == $s.tlb_phys)"')"
		assert_eq "untrusted: one write, inside the bounce slot (no other memory exposed)" "1 true" \
			"$(fxq 3 "$w" map_page '[.[] | select(.type == "bounce" and .req == $q.req)][0] as $s
				| in_tree("pt_map"; $q.req) as $pw
				| "\($pw | length) \($pw[0].paddr >= $s.tlb_phys and $pw[0].paddr + $pw[0].size <= $s.tlb_phys + $s.alloc_size)"')"
		assert_eq "untrusted: page-aligned map_page not bounced, mapped in place" \
			"0 $(res u_aligned phys)" \
			"$(fxq 3 "$(win u_aligned)" map_page '"\([.[] | select(.type == "bounce" and .req == $q.req)] | length) \(in_tree("pt_map"; $q.req)[0].paddr)"')"
		assert_eq "untrusted map_sg: one map_page per segment, only the sub-page one bounced" "2 1" \
			"$(fxq 3 "$(win u_sg)" map_sg '[.[] | select(.type == "request" and .parent == $q.req and .kind == "map_page") | .req] as $c
				| "\($c | length) \([.[] | select(.type == "bounce" and (.req as $r | any($c[]; . == $r)))] | length)"')"
		check_unmap 3 unmap_bounce "$(win unmap_bounce)" bounce unmap_page 200 1
		# the swiotlb path maps each segment at an IOVA of its own: not one
		# range from the first handle (the old checker assumed one and, with
		# a live mapping inside that range, reported it left over)
		# whether the allocator happened to give the three slots adjacent
		# IOVAs depends on what earlier cases of the boot left in the IOVA
		# space: a note on which path this run took, not an assertion
		echo "# untrusted map_sg of 3: segment IOVAs $(res u_sg3 out0_dma) $(res u_sg3 out1_dma) $(res u_sg3 out2_dma)"
		assert_eq "untrusted map_sg of 3: 3 map_page children, 2 bounced (300 and 1000 bytes)" "3 2" \
			"$(fxq 3 "$(win u_sg3)" map_sg '[.[] | select(.type == "request" and .parent == $q.req and .kind == "map_page") | .req] as $c
				| "\($c | length) \([.[] | select(.type == "bounce" and (.req as $r | any($c[]; . == $r)))] | length)"')"
		assert_eq "untrusted unmap_sg of 3: 3 unmap_page children removing 4096 each" "3 4096 4096 4096" \
			"$(fxq 3 "$(win unmap_u_sg3)" unmap_sg '[.[] | select(.type == "request" and .parent == $q.req and .kind == "unmap_page") | .req] as $c
				| [.[] | select(.type == "pt_unmap" and (.req as $r | any($c[]; . == $r)))] as $u
				| "\($c | length) \($u | map(.unmapped) | join(" "))"')"
	else
		_fail "untrusted: swiotlb inactive (boot with --mem 6144)"
		assert_eq "untrusted without swiotlb: the sub-page map fails (fixture, trace)" "-12 true" \
			"$(res bounce err) $(fxq 3 "$w" map_page '$q.failed')"
		assert_eq "untrusted without swiotlb: the kernel says why" 1 \
			"$(grep -c 'DMA bounce buffers are inactive' "$OUT/dmesg.txt")"
	fi

	# ---- trace 4: leak and unbind ----
	local L C R
	L=$(tag_id leak_single)
	C=$(tag_id leak_coh)
	R=$(tag_id live_page)
	assert_eq "unbind report: 3 live, 2 leaked" "3 2" "$(res unbind live) $(res unbind leaked)"
	assert_eq "unbind report: one line per live op" "$L:leaked $R:released $C:leaked" \
		"$(jq -r '[.[] | select(.cmd == "unbind_live") | "\(.of):\(.action)"] | join(" ")' "$OUT/result.json")"
	assert_eq "leaked map_single and coherent buffer: no request while the driver left them" "0 0" \
		"$(fxjq 4 "[.[] | select(.type == \"request\" and .entry_ns >= $(rq ".cmd == \"unbind_live\" and .of == $L" t0) and .ts <= $(rq ".cmd == \"unbind_live\" and .of == $L" t1))] | length") \
$(fxjq 4 "[.[] | select(.type == \"request\" and .entry_ns >= $(rq ".cmd == \"unbind_live\" and .of == $C" t0) and .ts <= $(rq ".cmd == \"unbind_live\" and .of == $C" t1))] | length")"
	assert_eq "leaked map_single: never unmapped after its map" 0 \
		"$(fxjq 4 "[.[] | select(.type == \"request\" and .kind == \"unmap_page\" and .dma == $(res leak_single dma) and .entry_ns > $(res leak_single t1))] | length")"
	assert_eq "leaked coherent buffer: never freed after its allocation" 0 \
		"$(fxjq 4 "[.[] | select(.type == \"request\" and .kind == \"free\" and .dma == $(res leak_coh dma) and .entry_ns > $(res leak_coh t1))] | length")"
	check_unmap 4 "live at unbind, released by remove()" "$(rq ".cmd == \"unbind_live\" and .of == $R" t0); $(rq ".cmd == \"unbind_live\" and .of == $R" t1)" \
		live_page unmap_page 1024 0
	assert_eq "commands after unbind: -ENODEV" "1 -19" "$(tag_rc after_unbind) $(res after_unbind err)"
	assert_eq "module unloads after the unbind" 0 "$(cat "$OUT/unload.rc")"
	assert_eq "kernel log: the two leaks" 2 "$(grep -c 'deliberate leak' "$OUT/dmesg.txt")"
	assert_eq "kernel log: dma-iommu WARNs once per unmap of an unmapped handle (double, never-mapped)" 2 \
		"$(grep -cE 'WARNING: .* iommu_dma_unmap_(page|phys)\+' "$OUT/dmesg.txt")"
	assert_eq "kernel log: no oops or BUG" 0 "$(grep -c -E 'BUG:|Oops|general protection' "$OUT/dmesg.txt")"
	check_findings
}
