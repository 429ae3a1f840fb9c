# Ground truth (DESIGN.md section 4): the DMA fixture module
# (tests/fixture/ia_fixture.c, docs/fixture.md) makes exact DMA API calls on
# the edu device while iommu-audit records, in four traces:
#   1. trusted device, default dma_parms: single maps, syncs, wrong and
#      double unmaps, map_sg, coherent/noncontiguous/page allocations, MMIO
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
# one assertion). tests/fixture/run.sh does all of that.

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
	fx sync_out sync "$(fx_id single_sub)" 4096 64 dev	# outside the mapping
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
	fx free_coh_small free_coherent "$(fx_id coh_small)"
	fx free_coh_page free_coherent "$(fx_id coh_page)"
	fx free_coh_big free "$(fx_id coh_big)"
	fx free_nc free_noncontig "$(fx_id nc)"
	fx free_pages free_pages "$(fx_id pages)"
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
	fx bounce map_single 100 200 to	# sub-granule: bounced through swiotlb
	fx u_aligned map_page 0 4096 from	# granule-aligned: mapped in place
	fx u_sg map_sg 100:200,0:4096 to	# segment by segment, the first bounced
	fx unmap_bounce unmap "$(fx_id bounce)"
	fx unmap_u_aligned unmap "$(fx_id u_aligned)"
	fx unmap_u_sg unmap "$(fx_id u_sg)"
}

fx_phase4() {
	fx leak_single map_single 8 16 to
	fx leak_mark leak "$(fx_id leak_single)"
	fx live_page map_page 0 1024 bidi	# still mapped at unbind: released
	fx leak_coh alloc_coherent 100
	fx leak_mark_coh leak "$(fx_id leak_coh)"
	fx unbind unbind
}

# fx_record N: record phase N, only the edu device
fx_record() {
	iommu-audit record --device "$IA_EDU_BDF" -o "/tmp/fx$1.trace" -- \
		sh -c ". '$CASES_DIR/fixture.sh' && fx_phase$1" > "$OUT/record$1.log" 2>&1
	echo $? > "$OUT/record$1.rc"
	iommu-audit dump "/tmp/fx$1.trace" > "$OUT/dump$1.jsonl"
}

guest() {
	: > "$OUT/tags"
	if ! command -v iafx > /dev/null; then
		echo "no /extra/fixture: run with --extra .output/fixture (tests/fixture/build.sh)"
		return 1
	fi
	iafx load > "$OUT/load.log" 2>&1
	echo $? > "$OUT/load.rc"
	cat /proc/sys/kernel/tainted > "$OUT/tainted"
	fx info info
	fx_record 1
	fx p2_boundary seg_boundary 0x1fff
	fx p2_max_seg max_seg_size 8192
	fx_record 2
	fx p2_boundary_restore seg_boundary 0xffffffff
	fx p2_max_seg_restore max_seg_size 65536
	fx p3_untrusted untrusted 1
	fx_record 3
	fx p3_untrusted_restore untrusted 0
	fx_record 4
	fx after_unbind info	# no device: refused
	cat /sys/kernel/debug/ia_fixture/result > "$OUT/result.txt"
	iafx unload
	echo $? > "$OUT/unload.rc"
	dmesg > "$OUT/dmesg.txt"
}

# ---- host (bash, jq) -------------------------------------------------------

# tag_id TAG / tag_rc TAG: fixture id and iafx exit status of a tagged command
tag_id() { awk -v t="$1" '$1 == t { v = $2 } END { print v }' "$OUT/tags"; }
tag_rc() { awk -v t="$1" '$1 == t { v = $3 } END { print v }' "$OUT/tags"; }
# res TAG FIELD: a field of the command's result line ("" when absent)
res() {
	jq -r --argjson id "$(tag_id "$1")" \
		".[] | select(.id == \$id) | .$2 // empty" "$OUT/result.json"
}
align() { echo $(( ($1 + FX_G - 1) / FX_G * FX_G )); }

# jq helpers over a dump (slurped): requests, their nested requests, and the
# page-table writes/removals made inside them
JQ_FX='
def tree($id): . as $all
	| [$id] + ([$all[] | select(.type == "request" and .parent == $id) | .req]
		| map(. as $c | $all | tree($c)) | add // []);
def in_tree($type; $id): . as $all | ($all | tree($id)) as $ids
	| [$all[] | select(.type == $type and (.req as $r | any($ids[]; . == $r)))] | sort_by(.iova);
def root($kind; $dma): [.[] | select(.type == "request" and .kind == $kind and .dma == $dma and .parent == 0)];
def contiguous: . as $w | [range(1; $w | length) | select($w[.].iova != $w[. - 1].iova + $w[. - 1].size)] | length == 0;
# a map request and what it wrote: one line for assert_eq
def map_summary($kind; $dma):
	. as $all | root($kind; $dma) as $r
	| if ($r | length) != 1 then "requests=\($r | length)" else
	  $r[0] as $q | ($all | in_tree("pt_map"; $q.req)) as $w
	  | "size=\($q.size) writes=\($w | length) bytes=\([$w[].size] | add // 0)"
	    + " contiguous=\($w | contiguous) failed=\($q.failed)" end;
# unmap-like requests of a handle after time $t0, oldest first
def unmaps_after($kind; $dma; $t0):
	[.[] | select(.type == "request" and .kind == $kind and .dma == $dma and .ts > $t0)] | sort_by(.ts);
# How dma-iommu 6.1 lays out a map_sg of $layout ("off:len,...", each
# segment on its own page as the fixture places them) with granule $g:
# iommu_dma_map_sg aligns each segment to granules and pads the previous
# one when a segment would cross the boundary mask; __finalise_sg merges
# output segments unless unaligned, at a boundary or over $maxseg. The
# fixture never places two segments physically adjacent, so each segment
# is one page-table write. rel: offset from the granule-aligned IOVA start.
# (jq has no "&": for a mask 2^n-1, x & mask = x % 2^n.)
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
# fxjq N FILTER: jq -s FILTER on trace N with the helpers
fxjq() { jq -rs "$JQ_FX $2" "$OUT/dump$1.jsonl" | tr '\n' ' ' | sed 's/ $//'; }
# map_ts N KIND DMA: fexit time of the root request
map_ts() { fxjq "$1" "root(\"$2\"; $3)[0].ts // 0"; }

# check_single N TAG KIND OFF LEN: a single mapping of LEN bytes at buffer
# offset OFF: one request, one write of the granule-aligned range, exposure
check_single() {
	local n=$1 tag=$2 kind=$3 off=$4 len=$5 phys dma head span tail
	phys=$(res "$tag" phys)
	dma=$(res "$tag" dma)
	head=$(( off % FX_G ))
	span=$(align $(( head + len )))
	tail=$(( span - head - len ))
	assert_eq "$tag: buffer offset in its page (fixture phys)" "$head" "$(( phys % FX_G ))"
	assert_eq "$tag: handle keeps the offset (dma % granule = phys % granule)" "$head" "$(( dma % FX_G ))"
	assert_eq "$tag: $kind request of $len bytes, one write of $span" \
		"size=$len writes=1 bytes=$span contiguous=true failed=false" \
		"$(fxjq "$n" "map_summary(\"$kind\"; $dma)")"
	assert_eq "$tag: write at the granule-aligned handle and buffer page" \
		"$(( dma - head )) $(( phys - head ))" \
		"$(fxjq "$n" ". as \$a | root(\"$kind\"; $dma)[0].req as \$q | \$a | in_tree(\"pt_map\"; \$q)[0] | \"\(.iova) \(.paddr)\"")"
	assert_eq "$tag: exposed head/tail bytes ($head + $tail)" "$head $tail" \
		"$(fxjq "$n" ". as \$a | root(\"$kind\"; $dma)[0] as \$q | (\$a | in_tree(\"pt_map\"; \$q.req)) as \$w
			| \"\(\$q.phys - \$w[0].paddr) \(\$w[-1].paddr + \$w[-1].size - \$q.phys - \$q.size)\"")"
}

# check_unmap N TAG MAPTAG KIND LEN DIR: the first unmap request of MAPTAG's
# handle after its map has LEN and DIR and removes the mapped range
check_unmap() {
	local n=$1 tag=$2 map=$3 kind=$4 len=$5 dir=$6 dma t0 span
	dma=$(res "$map" dma)
	t0=$(map_ts "$n" "$(res "$map" cmd | sed 's/map_single/map_page/')" "$dma")
	span=$(align $(( dma % FX_G + $(res "$map" len) )))
	assert_eq "$tag: unmap request (size dir) and its page-table removal" \
		"$len $dir 1 $(( dma - dma % FX_G )) $span" \
		"$(fxjq "$n" ". as \$a | unmaps_after(\"$kind\"; $dma; $t0)[0] as \$u
			| (\$a | in_tree(\"pt_unmap\"; \$u.req)) as \$rm
			| \"\(\$u.size) \(\$u.dir) \(\$rm | length) \(\$rm[0].iova) \(\$rm[0].size)\"")"
}

# check_sg N TAG LAYOUT MASK MAXSEG: the trace and the fixture's result
# against sg_expect (JQ_FX)
check_sg() {
	local n=$1 tag=$2 dma base wexp oexp pexp bexp nout nseg i q
	local phys_pages="" got_out="" lens=0 segs=""
	read -r wexp oexp pexp bexp nout <<EOF
$(jq -rn "$JQ_FX sg_expect(\"$3\"; $(($4)); $5; $FX_G)")
EOF
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
	# the request's id as $q, the whole dump as input
	q=". as \$a | root(\"map_sg\"; $dma)[0].req as \$q | \$a"
	assert_eq "$tag: map_sg request (nents ret failed)" "$nseg $nout false" \
		"$(fxjq "$n" "root(\"map_sg\"; $dma) | if length == 1 then .[0] | \"\(.nents) \(.ret) \(.failed)\" else \"requests=\(length)\" end")"
	assert_eq "$tag: input segments in the trace = the fixture's" "$segs" \
		"$(fxjq "$n" "$q | [.[] | select(.type == \"sg\" and .req == \$q and (.output | not)) | .segs[]] | map(\"\(.phys):\(.len)\") | join(\" \")")"
	assert_eq "$tag: page-table writes rel:size ($pexp bytes of boundary padding)" "$wexp" \
		"$(fxjq "$n" "$q | in_tree(\"pt_map\"; \$q) | map(\"\(.iova - $base):\(.size)\") | join(\",\")")"
	assert_eq "$tag: each write maps its segment's page(s)" "$phys_pages" \
		"$(fxjq "$n" "$q | in_tree(\"pt_map\"; \$q) | map(.paddr) | join(\",\")")"
	assert_eq "$tag: output segments rel:len (fixture)" "$oexp" "$got_out"
	assert_eq "$tag: output segments rel:len (trace)" "$oexp" \
		"$(fxjq "$n" "$q | [.[] | select(.type == \"sg\" and .req == \$q and .output) | .segs[] | select(.dma_len > 0)] | map(\"\(.dma - $base):\(.dma_len)\") | join(\",\")")"
	assert_eq "$tag: exposed bytes = written $bexp - requested $lens" "$(( bexp - lens ))" \
		"$(( $(fxjq "$n" "$q | [in_tree(\"pt_map\"; \$q)[].size] | add") - lens ))"
	# unmap_sg removes the whole IOVA range, padding included, at once
	assert_eq "$tag: unmap_sg removes the whole range once" "1 $base $bexp" \
		"$(fxjq "$n" ". as \$a | unmaps_after(\"unmap_sg\"; $dma; $(map_ts "$n" map_sg "$dma"))[0].req as \$u | (\$a | in_tree(\"pt_unmap\"; \$u)) | \"\(length) \(.[0].iova) \([.[].size] | add)\"")"
}

# check_alloc N TAG KIND SIZE FREEKIND: page-table writes of the rounded
# size from the handle, and the free removing them
check_alloc() {
	local n=$1 tag=$2 kind=$3 size=$4 fkind=$5 dma span
	dma=$(res "$tag" dma)
	span=$(align "$size")
	assert_eq "$tag: $kind of $size bytes writes $span from the handle" \
		"1 $dma $span true false" \
		"$(fxjq "$n" ". as \$a | root(\"$kind\"; $dma) as \$r | (\$a | in_tree(\"pt_map\"; \$r[0].req)) as \$w
			| \"\(\$r | length) \(\$w[0].iova) \([\$w[].size] | add) \(\$w | contiguous) \(\$r[0].failed)\"")"
	assert_eq "$tag: $fkind removes $span" "$span" \
		"$(fxjq "$n" ". as \$a | unmaps_after(\"$fkind\"; $dma; $(map_ts "$n" "$kind" "$dma"))[0].req as \$u | [\$a | in_tree(\"pt_unmap\"; \$u)[].size] | add")"
}

# check_device N WHAT JQ EXPECTED: a field of the edu device record
check_device() {
	assert_eq "trace $1: edu device $2" "$4" \
		"$(fxjq "$1" "[.[] | select(.type == \"device\" and .name == \"$EDU\")][0] | $3")"
}

check() {
	local n dt
	EDU=$(env_get IA_EDU_BDF)
	if [ ! -s "$OUT/result.txt" ]; then
		_fail "no fixture result: $(head -c 300 "$OUT/guest.log" | tr '\n' ' ')"
		return
	fi
	# the result log as JSON objects, numbers as numbers
	jq -R -s 'split("\n") | map(select(length > 0) | split(" ")
		| map(capture("^(?<k>[^=]+)=(?<v>.*)$") | {(.k): (.v | tonumber? // .)}) | add)' \
		"$OUT/result.txt" > "$OUT/result.json"

	assert_eq "module loads (insmod)" 0 "$(cat "$OUT/load.rc")"
	assert_eq "taint after insmod: O+E (out-of-tree, unsigned), nothing else" \
		12288 "$(cat "$OUT/tainted")"
	assert_eq "fixture bound to edu" "$EDU DMA$([ "$MODE" = lazy ] && echo -FQ) 4096" \
		"$(res info bdf) $(res info domain) $(res info granule)"
	[ "$MODE" = strict ] && dt=DMA || dt=DMA-FQ
	for n in 1 2 3 4; do
		assert_eq "trace $n: record exit code" 0 "$(cat "$OUT/record$n.rc")"
		assert_eq "trace $n: no events lost" 0 \
			"$(fxjq $n '.[] | select(.type == "trailer") | .lost_ringbuf + .lost_inflight + .lost_stack')"
		assert_eq "trace $n: only edu requests (--device)" "$EDU" \
			"$(fxjq $n '[.[] | select(.type == "request") | .device] | unique | join(" ")')"
		assert_eq "trace $n: every page-table change inside a request" 0 \
			"$(fxjq $n '[.[] | select((.type == "pt_map" or .type == "pt_unmap") and .unattributed)] | length')"
		check_device $n "driver, domain, granule" '"\(.driver) \(.domain_type) \(.granule)"' "ia_fixture $dt 4096"
	done
	check_device 1 "dma_parms (defaults)" '"\(.seg_boundary) \(.max_seg_size) \(.untrusted)"' "0xffffffff 65536 false"
	check_device 2 "dma_parms (set by the fixture)" '"\(.seg_boundary) \(.max_seg_size)"' "0x1fff 8192"
	check_device 3 "untrusted" '.untrusted' true
	assert_eq "fixture calls made from the fixture (call stack)" true \
		"$(fxjq 1 '(map(select(.type == "stack")) | map({key: (.stack_id | tostring), value: .frames}) | from_entries) as $st
			| [.[] | select(.type == "request" and .parent == 0 and .stack_id >= 0)
			   | $st[.stack_id | tostring] // [] | any(.[]; contains("[ia_fixture]"))] | (length > 0 and all)')"

	# ---- trace 1: single mappings ----
	check_single 1 single_sub map_page 100 200
	check_single 1 page_whole map_page 0 4096
	check_single 1 single_2pages map_page 0 8192
	check_single 1 page_cross map_page 4000 200
	check_single 1 wrong_size map_page 0 300
	check_single 1 double map_page 64 128
	assert_eq "map_single's nested __iommu_dma_map: same phys and size" \
		"iommu_dma_map $(res single_sub phys) 200 $(res single_sub dma)" \
		"$(fxjq 1 ". as \$a | root(\"map_page\"; $(res single_sub dma))[0].req as \$q | [\$a[] | select(.type == \"request\" and .parent == \$q)][0] | \"\(.kind) \(.phys) \(.size) \(.dma)\"")"
	local d
	d=$(res single_sub dma)
	assert_eq "sync inside the mapping: sync_single_for_cpu of (handle, 200)" "$d 200 1" \
		"$(fxjq 1 '[.[] | select(.type == "request" and .kind == "sync_single_for_cpu")] | map("\(.dma) \(.size) \(.dir)") | join(",")')"
	assert_eq "sync outside the mapping: sync_single_for_device of (handle + 4096, 64)" "$(( d + 4096 )) 64 1" \
		"$(fxjq 1 '[.[] | select(.type == "request" and .kind == "sync_single_for_device")] | map("\(.dma) \(.size) \(.dir)") | join(",")')"
	check_unmap 1 unmap_sub single_sub unmap_page 200 1
	check_unmap 1 unmap_whole page_whole unmap_page 4096 2
	check_unmap 1 unmap_2pages single_2pages unmap_page 8192 0
	check_unmap 1 unmap_cross page_cross unmap_page 200 1
	check_unmap 1 unmap_wrong_size wrong_size unmap_page 100 2
	assert_eq "wrong-size unmap: unmap size differs from the map's" "300 100" \
		"$(res wrong_size len) $(res unmap_wrong_size len)"
	check_unmap 1 unmap_wrong_dir wrong_dir unmap_page 512 2
	assert_eq "wrong-direction unmap: map dir 1 (to device), unmap dir 2" "1 2" \
		"$(res wrong_dir dir) $(res unmap_wrong_dir dir)"
	d=$(res double dma)
	assert_eq "double unmap: two unmap requests of the handle, one removal" "2 128,128 1,0" \
		"$(fxjq 1 ". as \$a | unmaps_after(\"unmap_page\"; $d; $(map_ts 1 map_page "$d"))[:2] as \$u
			| \"\(\$u | length) \([\$u[].size] | map(tostring) | join(\",\")) \([\$u[] | .req as \$r | \$a | in_tree(\"pt_unmap\"; \$r) | length] | map(tostring) | join(\",\"))\"")"
	assert_eq "double unmap: the fixture made both calls" "0 0" "$(tag_rc unmap_double) $(tag_rc unmap_double2)"
	assert_eq "unmap of a never-mapped handle: request, no removal" "1 4096 1 0" \
		"$(fxjq 1 '. as $a | [.[] | select(.type == "request" and .kind == "unmap_page" and .dma == 65536)] as $u
			| "\($u | length) \($u[0].size) \($u[0].dir) \($a | in_tree("pt_unmap"; $u[0].req) | length)"')"

	# ---- trace 1: scatterlists (default boundary 0xffffffff, max 65536) ----
	check_sg 1 sg_mixed 100:200,0:4096,512:8000 0xffffffff 65536
	check_sg 1 sg_pages 0:4096,0:4096,0:4096 0xffffffff 65536

	# ---- trace 1: allocations and MMIO ----
	check_alloc 1 coh_small alloc 100 free
	check_alloc 1 coh_page alloc 4096 free
	check_alloc 1 coh_big alloc 5000 free
	check_alloc 1 nc alloc_noncontiguous 10000 free_noncontiguous
	check_alloc 1 pages alloc_pages 8192 free_pages	# dma_alloc_pages page-aligns 5000
	assert_eq "alloc_pages: request of PAGE_ALIGN(5000), one write at its page" \
		"8192 $(res pages phys) 1 $(res pages phys) 8192" \
		"$(fxjq 1 ". as \$a | root(\"alloc_pages\"; $(res pages dma))[0] as \$q | (\$a | in_tree(\"pt_map\"; \$q.req)) as \$w
			| \"\(\$q.size) \(\$q.phys) \(\$w | length) \(\$w[0].paddr) \(\$w[0].size)\"")"
	local bar0 rp
	bar0=$(res info bar0)
	rp=$(( bar0 + 256 ))
	assert_eq "map_resource: request (phys size), one MMIO write of the page, head 256 tail 3832" \
		"$rp 8 1 $(( rp - rp % FX_G )) 4096 16 256 3832" \
		"$(fxjq 1 ". as \$a | root(\"map_resource\"; $(res res dma))[0] as \$q | (\$a | in_tree(\"pt_map\"; \$q.req)) as \$w
			| \"\(\$q.phys) \(\$q.size) \(\$w | length) \(\$w[0].paddr) \(\$w[0].size) \(\$w[0].prot / 16 | floor % 2 * 16)\"
			  + \" \(\$q.phys - \$w[0].paddr) \(\$w[0].paddr + \$w[0].size - \$q.phys - \$q.size)\"")"
	check_unmap 1 unmap_res res unmap_resource 8 1

	# ---- trace 1: refused commands ----
	assert_eq "bad command: write fails, err=-22 unknown_command" "1 -22 unknown_command" \
		"$(tag_rc err_cmd) $(res err_cmd err) $(res err_cmd msg)"
	assert_eq "unknown id: write fails, err=-22 unknown_id" "1 -22 unknown_id" \
		"$(tag_rc err_id) $(res err_id err) $(res err_id msg)"
	assert_eq "unmap that would change the granule span: refused (-16), no call" \
		"1 -16 0" "$(tag_rc err_span_unmap) $(res err_span_unmap err) \
$(fxjq 1 '[.[] | select(.type == "request" and .kind == "unmap_page" and .size == 5000)] | length')"

	# ---- trace 2: seg_boundary 0x1fff, max_seg_size 8192 ----
	check_sg 2 sg_pad 0:4096,0:8192 0x1fff 8192
	check_sg 2 sg_split 0:4096,0:4096,0:4096 0x1fff 8192

	# ---- trace 3: untrusted device, swiotlb bounce ----
	if [ "$(res info swiotlb)" = 1 ]; then
		local p b
		p=$(res bounce phys)
		b=$(res bounce dma)
		assert_eq "untrusted: bounce of the 200-byte buffer (orig_phys size slot)" "1 $p 200 4096" \
			"$(fxjq 3 "[.[] | select(.type == \"bounce\")] as \$b | root(\"map_page\"; $b)[0].req as \$q
				| [\$b[] | select(.req == \$q)] | \"\(length) \(.[0].orig_phys) \(.[0].mapping_size) \(.[0].alloc_size)\"")"
		assert_eq "untrusted: the slot is not the buffer; the handle translates into the slot" \
			"true true true" \
			"$(fxjq 3 ". as \$a | root(\"map_page\"; $b)[0] as \$q | [.[] | select(.type == \"bounce\" and .req == \$q.req)][0] as \$s
				| (\$a | in_tree(\"pt_map\"; \$q.req)) as \$w
				| \"\(\$s.tlb_phys != \$s.orig_phys) \(\$w[0].paddr + (\$q.dma - \$w[0].iova) == \$s.tlb_phys)\"
				  + \" \([\$a[] | select(.type == \"request\" and .parent == \$q.req)][0].phys == \$s.tlb_phys)\"")"
		assert_eq "untrusted: the one write covers only the bounce slot (no other memory exposed)" "1 true" \
			"$(fxjq 3 ". as \$a | root(\"map_page\"; $b)[0] as \$q | [.[] | select(.type == \"bounce\" and .req == \$q.req)][0] as \$s
				| (\$a | in_tree(\"pt_map\"; \$q.req)) as \$w
				| \"\(\$w | length) \(\$w[0].paddr >= \$s.tlb_phys and \$w[0].paddr + \$w[0].size <= \$s.tlb_phys + \$s.alloc_size)\"")"
		assert_eq "untrusted: page-aligned map_page not bounced, mapped in place" \
			"0 $(res u_aligned phys)" \
			"$(fxjq 3 ". as \$a | root(\"map_page\"; $(res u_aligned dma))[0].req as \$q
				| \"\([.[] | select(.type == \"bounce\" and .req == \$q)] | length) \(\$a | in_tree(\"pt_map\"; \$q)[0].paddr)\"")"
		assert_eq "untrusted map_sg: one map_page per segment, only the sub-page one bounced" "2 1" \
			"$(fxjq 3 ". as \$a | root(\"map_sg\"; $(res u_sg dma))[0].req as \$q
				| [.[] | select(.type == \"request\" and .parent == \$q and .kind == \"map_page\") | .req] as \$c
				| \"\(\$c | length) \([\$a[] | select(.type == \"bounce\" and (.req as \$r | any(\$c[]; . == \$r)))] | length)\"")"
		check_unmap 3 unmap_bounce bounce unmap_page 200 1
	else
		_fail "untrusted: swiotlb inactive (boot with --mem 6144)"
		assert_eq "untrusted without swiotlb: the sub-page map fails (fixture, trace)" "-12 true" \
			"$(res bounce err) $(fxjq 3 '[.[] | select(.type == "request" and .kind == "map_page" and .size == 200)][0].failed')"
		assert_eq "untrusted without swiotlb: kernel says why" 1 \
			"$(grep -c 'DMA bounce buffers are inactive' "$OUT/dmesg.txt")"
	fi

	# ---- trace 4: leak and unbind ----
	local L R C
	L=$(res leak_single dma)
	R=$(res live_page dma)
	C=$(res leak_coh dma)
	assert_eq "unbind report: 3 live, 2 leaked" "3 2" "$(res unbind live) $(res unbind leaked)"
	assert_eq "unbind report: per op" \
		"$(tag_id leak_single):leaked $(tag_id live_page):released $(tag_id leak_coh):leaked" \
		"$(jq -r '[.[] | select(.cmd == "unbind_live") | "\(.of):\(.action)"] | join(" ")' "$OUT/result.json")"
	assert_eq "leaked map_single: never unmapped in the trace" 0 \
		"$(fxjq 4 "unmaps_after(\"unmap_page\"; $L; $(map_ts 4 map_page "$L")) | length")"
	assert_eq "leaked coherent buffer: never freed in the trace" 0 \
		"$(fxjq 4 "unmaps_after(\"free\"; $C; $(map_ts 4 alloc "$C")) | length")"
	check_unmap 4 unbind_release live_page unmap_page 1024 0
	assert_eq "commands after unbind: -ENODEV" "1 -19" "$(tag_rc after_unbind) $(res after_unbind err)"
	assert_eq "module unloads after the unbind" 0 "$(cat "$OUT/unload.rc")"
	assert_eq "kernel log: the two leaks" 2 "$(grep -c 'deliberate leak' "$OUT/dmesg.txt")"
	assert_eq "kernel log: dma-iommu WARNs once per unmap of an unmapped handle (double, never-mapped)" 2 \
		"$(grep -c 'WARNING: .* iommu_dma_unmap_page' "$OUT/dmesg.txt")"
	assert_eq "kernel log: no oops or BUG" 0 "$(grep -c -E 'BUG:|Oops|general protection' "$OUT/dmesg.txt")"
}
