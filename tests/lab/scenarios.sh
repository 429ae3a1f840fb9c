# The lab's seed scenarios (docs/lab-kernel.md, "Seed scenarios"): busybox sh
# functions, sourced in the guest by tests/lab/guest.sh. Each appends the
# fixture's result lines to $FX_LOG; tests/lab/check.py holds what each must
# give per granule. scen_seed runs them all in one recording (one BPF load,
# not eight: 5-12 s each under TCG), each after a "scen=NAME" line; the
# checker runs with --each (the fixture makes every allocation from one
# function, and folding would merge the scenarios' findings) and check.py
# gives each scenario the findings inside the time span of its fixture
# calls (their t0/t1 and the findings' ts are both CLOCK_MONOTONIC).
SEED_SCENARIOS="single coherent contig atomic pages noncontig sg untrusted"
scen_seed() {
	for _s in $SEED_SCENARIOS; do
		echo "scen=$_s" >> "$FX_LOG"
		[ "$_s" != untrusted ] || iafx untrusted 1 > /dev/null
		"scen_$_s"
		[ "$_s" != untrusted ] || iafx untrusted 0 > /dev/null
	done
}

# fx CMD ARGS...: one fixture command (docs/fixture.md); its id in $FX_ID
fx() {
	_out=$(iafx "$@")
	_rc=$?
	printf '%s\n' "$_out" >> "$FX_LOG"
	FX_ID=$(printf '%s\n' "$_out" | sed -n '1s/^id=\([0-9]*\) .*/\1/p')
	return $_rc
}

# A sub-granule buffer: the granule slack, byte for byte.
scen_single() { fx map_single 100 200 to && fx unmap "$FX_ID"; }

# dma_alloc_coherent(4096): GFP_KERNEL (the remap path), forced contiguous,
# and GFP_ATOMIC (both __iommu_dma_map of one page); get_sgtable of each.
scen_coherent() { fx alloc_coherent 4096 && _a=$FX_ID && fx get_sgtable "$_a"; fx free "$_a"; }
scen_contig() { fx alloc_coherent 4096 contig && _a=$FX_ID && fx get_sgtable "$_a"; fx free "$_a"; }
scen_atomic() { fx alloc_coherent 4096 atomic && _a=$FX_ID && fx get_sgtable "$_a"; fx free "$_a"; }

scen_pages() { fx alloc_pages 4096 to && fx free_pages "$FX_ID"; }
scen_noncontig() { fx alloc_noncontig 4096 to && fx free_noncontig "$FX_ID"; }

# One segment on the second page of a 16 KiB-aligned block: page aligned,
# never aligned to a 16K or 64K granule.
scen_sg() { fx map_sg 4096:4096 to && fx unmap "$FX_ID"; }

# An untrusted device (scen_seed sets untrusted 1 around it: the device
# record changes, and so does the checker's view): the sub-granule buffer
# is bounced through swiotlb.
scen_untrusted() { fx map_single 100 200 to && fx unmap "$FX_ID"; }

# Freed while mapped (record --free-hooks), side by side with 7.2's
# IOMMU_DEBUG_PAGEALLOC (iommu.debug_pagealloc=1; 6.1 has none and ignores
# the parameter): a page freed while mapped, a slab object freed while
# mapped, and (lazy mode) a page the fixture frees right after its unmap,
# before the flush queue's flush (10 ms later).
scen_freed() {
	fx map_single 0 4096 to && _p=$FX_ID && fx free_mapped "$_p"; fx unmap "$_p"
	fx map_slab to && _s=$FX_ID && fx free_mapped "$_s"; fx unmap "$_s"
	fx map_single 0 4096 to && fx unmap "$FX_ID"
	sleep 0.1
}

# dma-debug side by side: the lifecycle bugs of tests/vm/cases/fixture.sh,
# then a leak reported at unbind.
scen_dmadebug() {
	fx map_single 0 300 from && fx unmap "$FX_ID" 100		# size
	fx map_page 0 512 to && fx unmap "$FX_ID" 512 from		# direction
	fx map_single 64 128 bidi && _d=$FX_ID && fx unmap "$_d" &&
		fx double_unmap "$_d"					# double unmap
	fx unmap_bogus 0x10000 4096 to				# never mapped
	fx map_single 100 200 to && _s=$FX_ID &&
		fx sync "$_s" 4096 64 dev && fx unmap "$_s"		# sync outside
	fx map_single 8 16 to && fx leak "$FX_ID"			# leaked ...
	fx unbind							# ... at unbind
}

# The page-table oracle (docs/checks.md): a mapping made before the
# recording ($IA_SETUP_ID, map_single 300 100 from: the start snapshot
# shows it) unmapped inside it, and a map_single whose entries the fixture
# then removes with iommu_unmap() behind dma-iommu's back (its IOVA stays
# allocated, the mapping is dead). The recording sees that removal (outside
# any request); tests/lab/check.py drops it from a copy of the trace
# (tools/trace-edit --drop-unmap) to make a removal no hook saw, which the
# closing snapshot must show.
scen_oracle() {
	fx map_single 100 200 to && fx iommu_unmap "$FX_ID"
	fx unmap "$IA_SETUP_ID"
}
